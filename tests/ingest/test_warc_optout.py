"""WARC ingest honours the opt-out signals a page carries: dropped (or flagged) with the reason kept."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from kiroku.ingest.warc import read_warc
from kiroku.optout import OptoutPolicy
from tests.conftest import kiroku

# url: (extra response headers, <head> content, <body> content)
PAGES = {
    "https://open.example.org/a": ([], "", "<p>An open article about tea.</p>"),
    "https://news.example.co.jp/b": ([("X-Robots-Tag", "noai")], "", "<p>A reserved news story.</p>"),
    "https://blog.example.net/c": ([], '<meta name="robots" content="noai">', "<p>A blog post.</p>"),
    "https://press.example.com/d": ([("tdm-reservation", "1")], "", "<p>A press release.</p>"),
}


def write_warc(path: Path) -> Path:
    """A WARC.gz of the pages above, written with warcio (an independent writer)."""
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for url, (extra, head, body) in PAGES.items():
            html = f"<html><head><title>t</title>{head}</head><body>{body}</body></html>".encode()
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8"), *extra], "HTTP/1.1"
            )
            writer.write_record(
                writer.create_warc_record(url, "response", payload=BytesIO(html), http_headers=headers)
            )
    return path


def test_each_signal_is_kept_as_the_documents_reason(tmp_path: Path) -> None:
    docs = {doc.url: doc for _, doc in read_warc(write_warc(tmp_path / "c.warc.gz"))}
    assert {url: doc.optout for url, doc in docs.items()} == {
        "https://open.example.org/a": (),
        "https://news.example.co.jp/b": ("x-robots-tag:noai",),
        "https://blog.example.net/c": ("meta-robots:noai",),
        "https://press.example.com/d": ("tdmrep:reserved",),
    }
    assert [doc.kept for doc in docs.values()] == [True, False, False, False]


def test_the_flag_policy_keeps_opted_out_documents_but_marks_them(tmp_path: Path) -> None:
    docs = [doc for _, doc in read_warc(write_warc(tmp_path / "c.warc.gz"), optout=OptoutPolicy("flag"))]
    assert all(doc.kept for doc in docs)
    assert sum(1 for doc in docs if doc.optout) == 3


def test_catalog_stats_count_drops_by_reason(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    kiroku("init", str(ws), "--org", "T")
    kiroku("source", "add", "crawl", "--type", "web_crawl", cwd=ws)
    result = kiroku("ingest", "warc", str(write_warc(tmp_path / "c.warc.gz")), "--source", "crawl", cwd=ws)
    assert result.returncode == 0, result.stderr
    stats = json.loads(kiroku("catalog", "stats", "--json", cwd=ws).stdout)
    assert (stats["documents"], stats["kept"]) == (4, 1)
    assert stats["optout"] == {"x-robots-tag:noai": 1, "meta-robots:noai": 1, "tdmrep:reserved": 1}
