"""WARC ingest honours TDMRep's /.well-known/tdmrep.json when the crawl captured it, with the report's precedence."""

from __future__ import annotations

import json
from pathlib import Path

from kiroku.ingest.warc import WarcReader
from kiroku.optout.tags import OptoutPolicy
from tests.conftest import kiroku
from tests.ingest.conftest import SOURCE
from tests.ingest.test_warc_robots import Response, page, write_warc

TDMREP = json.dumps(
    [
        {"location": "/free/", "tdm-reservation": 0},
        {
            "location": "/*.pdf$",
            "tdm-reservation": 1,
            "tdm-policy": "https://press.example.com/tdm-policy.json",
        },
        {"location": "/releases/", "tdm-reservation": 1},
    ]
).encode()


def tdmrep(url: str, body: bytes, *, status: str = "200 OK") -> Response:
    return Response(url, body, 0, status, "application/json")


def crawl(tmp_path: Path) -> Path:
    return write_warc(
        tmp_path / "crawl.warc.gz",
        [
            tdmrep("https://press.example.com/.well-known/tdmrep.json", TDMREP),
            Response("https://press.example.com/releases/2026-03-01", page("Q1 results", "Revenue rose.")),
            Response("https://press.example.com/free/boilerplate", page("Boilerplate", "About the company.")),
            Response("https://press.example.com/contact", page("Contact", "Write to us.")),
            Response(
                "https://press.example.com/releases/opened",
                page("Opened", "The header lifts the reservation of the file."),
                headers=[("tdm-reservation", "0")],
            ),
            Response(
                "https://press.example.com/free/meta",
                page(
                    "Meta",
                    "The meta tag reserves what the file leaves open.",
                    '<meta name="tdm-reservation" content="1">',
                ),
            ),
            Response(
                "https://press.example.com/contact/meta",
                page(
                    "Meta", "The meta tag overrides the header.", '<meta name="tdm-reservation" content="0">'
                ),
                headers=[("tdm-reservation", "1")],
            ),
            tdmrep(
                "https://blog.example.net/.well-known/tdmrep.json", b'{"location": "/", "tdm-reservation": 1}'
            ),
            Response("https://blog.example.net/post", page("Post", "A malformed file reserves everything.")),
            tdmrep("https://shop.example.org/.well-known/tdmrep.json", b"Not Found", status="404 Not Found"),
            Response("https://shop.example.org/item", page("Item", "No file, no reservation.")),
            Response(
                "https://shop.example.org/item2",
                page("Item 2", "A header still counts."),
                headers=[("TDM-Reservation", "1")],
            ),
        ],
    )


RESERVED_BY_RULES = {
    "https://press.example.com/releases/2026-03-01",
    "https://press.example.com/free/meta",
    "https://shop.example.org/item2",
}


def test_tdmrep_json_rules_and_their_precedence_with_header_and_meta(tmp_path: Path) -> None:
    reader = WarcReader(optout=OptoutPolicy(unreadable_tdmrep="unset"))
    docs = {doc.url: doc for _, doc in reader(crawl(tmp_path))}
    reserved = {url for url, doc in docs.items() if doc.optout == ("tdmrep:reserved",)}
    assert reserved == RESERVED_BY_RULES
    assert all(doc.optout == () and doc.kept for url, doc in docs.items() if url not in reserved)
    assert len(docs) == 9


def test_a_malformed_tdmrep_json_reserves_its_site_by_default_and_is_noted(tmp_path: Path) -> None:
    reader = WarcReader()
    path = crawl(tmp_path)
    docs = {doc.url: doc for _, doc in reader(path)}
    reserved = {url for url, doc in docs.items() if doc.optout == ("tdmrep:reserved",)}
    assert reserved == RESERVED_BY_RULES | {"https://blog.example.net/post"}
    assert not docs["https://blog.example.net/post"].kept
    summary = reader.summaries[path]
    assert summary.tdmrep_origins == 3
    [noted] = summary.ignored
    assert noted.startswith(
        "https://blog.example.net/.well-known/tdmrep.json (captured 2026-03-02T09:00:00+00:00)"
    )
    assert noted.endswith(
        "malformed tdmrep.json read as reserving every page: not a JSON array of rules but a dict"
    )


def test_the_tdmrep_reading_of_a_malformed_file_is_a_policy_setting(tmp_path: Path) -> None:
    reader = WarcReader(optout=OptoutPolicy(unreadable_tdmrep="unset"))
    path = crawl(tmp_path)
    docs = {doc.url: doc for _, doc in reader(path)}
    assert docs["https://blog.example.net/post"].optout == ()
    [noted] = reader.summaries[path].ignored
    assert noted.endswith("malformed tdmrep.json ignored: not a JSON array of rules but a dict")


def test_cli_reports_the_unreadable_file(workspace: Path, tmp_path: Path) -> None:
    kiroku("source", "add", SOURCE, "--type", "web_crawl", cwd=workspace)
    path = crawl(tmp_path)
    result = kiroku("ingest", "warc", str(path), "--source", SOURCE, cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert (
        "tdmrep.json for 3; crawler agent ExampleBot (from warcinfo); 1 capture(s) unreadable"
        in result.stdout
    )
    assert "unreadable: https://blog.example.net/.well-known/tdmrep.json" in result.stderr
    stats = json.loads(kiroku("catalog", "stats", "--json", cwd=workspace).stdout)
    assert stats["optout"] == {"tdmrep:reserved": 4}  # the malformed file's page too


def test_the_workspace_setting_reads_a_malformed_file_as_the_tdmrep_report_does(
    workspace: Path, tmp_path: Path
) -> None:
    config = workspace / "kiroku.toml"
    text = config.read_text()
    assert 'unreadable_tdmrep = "reserved"' in text  # kiroku init writes the setting, explained
    config.write_text(text.replace('unreadable_tdmrep = "reserved"', 'unreadable_tdmrep = "unset"'))
    kiroku("source", "add", SOURCE, "--type", "web_crawl", cwd=workspace)
    result = kiroku("ingest", "warc", str(crawl(tmp_path)), "--source", SOURCE, cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert "malformed tdmrep.json ignored" in result.stderr
    stats = json.loads(kiroku("catalog", "stats", "--json", cwd=workspace).stdout)
    assert stats["optout"] == {"tdmrep:reserved": 3}
