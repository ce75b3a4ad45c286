"""Blocklists apply to every ingest with URLs (JSON Lines and WARC here): listed sites are always dropped."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kiroku.catalog.stats import catalog_shards
from kiroku.ingest import BlocklistStep, ingest_files, read_jsonl, read_warc
from kiroku.ledger import Ledger
from kiroku.optout import Blocklists, OptoutPolicy
from tests.conftest import kiroku
from tests.ingest.conftest import SOURCE
from tests.ingest.test_warc_robots import Response, page, write_warc

PIRACY = "# sites recognised as infringing\nmanga-scans.example\n*.torrents.example\n"
LINES = [
    {"id": 1, "url": "https://www.manga-scans.example/vol/1", "text": "A scanned chapter."},
    {
        "id": 2,
        "url": "https://manga-scans.example.org/about",
        "text": "A different site whose name starts alike.",
    },
    {"id": 3, "text": "A line without a URL."},
    {"id": 4, "url": "https://dl.torrents.example/x", "text": "A download page."},
]


def jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in LINES))
    return path


def blocklists(tmp_path: Path) -> Blocklists:
    (tmp_path / "piracy.txt").write_text(PIRACY)
    return Blocklists.load({"piracy": tmp_path / "piracy.txt"})


def rows(tmp_path: Path, ledger: Ledger) -> list[dict[str, object]]:
    return [
        row
        for recorded in catalog_shards(ledger)
        for row in pq.read_table(tmp_path / "c" / recorded.shard.docs_file).to_pylist()
    ]


def test_jsonl_documents_on_a_listed_domain_are_dropped_with_the_lists_name(
    ledger: Ledger, tmp_path: Path
) -> None:
    step = BlocklistStep(blocklists(tmp_path))
    ingest_files(ledger, tmp_path / "c", SOURCE, [jsonl(tmp_path)], read_jsonl, steps=[step])
    found = {row["external_id"]: (row["optout"], row["kept"]) for row in rows(tmp_path, ledger)}
    assert found == {
        "1": (["blocklist:piracy"], False),
        "2": ([], True),
        "3": ([], True),
        "4": (["blocklist:piracy"], False),
    }
    assert [r.shard.kept for r in catalog_shards(ledger)] == [2]


def test_warc_documents_are_dropped_even_under_the_flag_policy(ledger: Ledger, tmp_path: Path) -> None:
    path = write_warc(
        tmp_path / "crawl.warc.gz",
        [
            Response(
                "https://www.manga-scans.example/vol/2",
                page("Vol 2", "Scans.", '<meta name="robots" content="noai">'),
            ),
            Response("https://open.example.org/guide", page("Guide", "An open guide.")),
        ],
    )
    reader = partial(read_warc, optout=OptoutPolicy("flag"))
    ingest_files(ledger, tmp_path / "c", SOURCE, [path], reader, steps=[BlocklistStep(blocklists(tmp_path))])
    found = {row["url"]: (row["optout"], row["kept"]) for row in rows(tmp_path, ledger)}
    assert found == {
        "https://www.manga-scans.example/vol/2": (["blocklist:piracy", "meta-robots:noai"], False),
        "https://open.example.org/guide": ([], True),
    }


def add_blocklist(workspace: Path, line: str) -> None:
    config = workspace / "kiroku.toml"
    text = config.read_text()
    assert '# piracy = "blocklists/piracy.txt"' in text  # the template kiroku init writes
    config.write_text(text.replace('# piracy = "blocklists/piracy.txt"', line))


def test_cli_jsonl_and_warc_ingest_apply_the_workspaces_blocklists(workspace: Path, tmp_path: Path) -> None:
    (workspace / "lists").mkdir()
    (workspace / "lists" / "piracy.txt").write_text(PIRACY)
    add_blocklist(workspace, 'piracy = "lists/piracy.txt"')
    warc = write_warc(
        tmp_path / "crawl.warc.gz", [Response("https://dl.torrents.example/y", page("Y", "A file."))]
    )
    kiroku("source", "add", SOURCE, "--type", "web_crawl", cwd=workspace)
    for kind, path in (("jsonl", jsonl(tmp_path)), ("warc", warc)):
        result = kiroku("ingest", kind, str(path), "--source", SOURCE, cwd=workspace)
        assert result.returncode == 0, result.stderr
    stats = json.loads(kiroku("catalog", "stats", "--json", cwd=workspace).stdout)
    assert (stats["documents"], stats["kept"]) == (5, 2)
    assert stats["optout"] == {"blocklist:piracy": 3}


@pytest.mark.parametrize("kind", ["jsonl", "warc"])
def test_cli_a_missing_blocklist_file_is_an_error_naming_it_and_nothing_is_read(
    workspace: Path, tmp_path: Path, kind: str
) -> None:
    add_blocklist(workspace, 'piracy = "lists/piracy.txt"')
    kiroku("source", "add", SOURCE, "--type", "web_crawl", cwd=workspace)
    data = (
        jsonl(tmp_path)
        if kind == "jsonl"
        else write_warc(tmp_path / "c.warc", [Response("https://e.org/", page("E", "e"))])
    )
    result = kiroku("ingest", kind, str(data), "--source", SOURCE, cwd=workspace)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"kiroku: error: blocklist 'piracy': {workspace / 'lists' / 'piracy.txt'}: no such file"
    )
    assert json.loads(kiroku("catalog", "stats", "--json", cwd=workspace).stdout)["documents"] == 0
    assert kiroku("log", "verify", cwd=workspace).returncode == 0


def test_cli_a_bad_blocklist_name_in_kiroku_toml_is_refused(workspace: Path) -> None:
    add_blocklist(workspace, '"Piracy List" = "lists/piracy.txt"')
    result = kiroku("ingest", "jsonl", "x.jsonl", "--source", SOURCE, cwd=workspace)
    assert result.returncode == 2
    assert "optout.blocklists" in result.stderr and "must be 1 to 64 lower-case letters" in result.stderr
