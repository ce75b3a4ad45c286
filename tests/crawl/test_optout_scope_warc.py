"""TDMRep, page opt-outs, redirects, scope, WARC output, and the CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastwarc.warc import ArchiveIterator as FastIterator
from warcio.archiveiterator import ArchiveIterator

from kiroku.ingest import read_warc
from tests.conftest import kiroku
from tests.crawl.conftest import crawl
from tests.loopback import LoopbackServer, Reply, html

TDMREP = "/.well-known/tdmrep.json"


def test_tdmrep_reserving_a_path(server: LoopbackServer, tmp_path: Path) -> None:
    server.routes[("alpha.test", "/")] = html("/open", "/reserved/x")
    server.routes[("alpha.test", "/open")] = html()
    server.routes[("alpha.test", "/reserved/x")] = html()
    server.routes[("alpha.test", TDMREP)] = Reply(
        200, '[{"location": "/reserved/*", "tdm-reservation": 1}]', content_type="application/json"
    )
    got = crawl(server, tmp_path, server.url("alpha.test"))
    assert "/reserved/x" not in server.paths() and "/open" in server.paths()
    skipped = got.decision(server.url("alpha.test", "/reserved/x"))
    assert skipped["reason"] == "tdmrep:reserved" and "/reserved/*" in skipped["detail"]
    assert server.paths().count(TDMREP) == 1


@pytest.mark.parametrize("reading", ["reserved", "unset"])
def test_unreadable_tdmrep(server: LoopbackServer, tmp_path: Path, reading: str) -> None:
    server.routes[("alpha.test", "/")] = html()
    server.routes[("alpha.test", TDMREP)] = Reply(200, "{not json", content_type="application/json")
    got = crawl(server, tmp_path, server.url("alpha.test"), unreadable_tdmrep=reading)
    if reading == "reserved":
        assert "/" not in server.paths()
        assert got.decision(server.url("alpha.test"))["reason"] == "tdmrep:reserved"
    else:
        assert "/" in server.paths() and got.result.pages_fetched == 1


def test_page_optouts_are_fetched_but_not_followed(server: LoopbackServer, tmp_path: Path) -> None:
    server.routes[("alpha.test", "/")] = html("/xrt", "/meta", "/tdm")
    server.routes[("alpha.test", "/xrt")] = Reply(200, html("/from-xrt").body, {"X-Robots-Tag": "noai"})
    server.routes[("alpha.test", "/meta")] = html("/from-meta", head='<meta name="robots" content="noai">')
    server.routes[("alpha.test", "/tdm")] = html(
        "/from-tdm", head='<meta name="tdm-reservation" content="1">'
    )
    got = crawl(server, tmp_path, server.url("alpha.test"))
    assert {"/xrt", "/meta", "/tdm"} <= set(server.paths())
    assert not any(p.startswith("/from-") for p in server.paths())
    for path, reason in (
        ("/xrt", "x-robots-tag:noai"),
        ("/meta", "meta-robots:noai"),
        ("/tdm", "tdmrep:reserved"),
    ):
        decision = got.decision(server.url("alpha.test", path))
        assert decision["outcome"] == "fetched" and decision["reason"] == reason
        assert decision["links_followed"] is False
    docs = {doc.url: doc for path in got.result.warc_files for _, doc in read_warc(path)}
    assert docs[server.url("alpha.test", "/xrt")].optout == ("x-robots-tag:noai",)
    assert docs[server.url("alpha.test", "/meta")].optout == ("meta-robots:noai",)
    assert not docs[server.url("alpha.test", "/meta")].kept
    assert docs[server.url("alpha.test", "/")].optout == ()


def test_redirect_chain_and_loop(server: LoopbackServer, tmp_path: Path) -> None:
    server.routes[("alpha.test", "/")] = html("/r1", "/loop1", "/long0")
    server.routes[("alpha.test", "/r1")] = Reply(302, headers={"Location": "/r2"})
    server.routes[("alpha.test", "/r2")] = Reply(
        302, headers={"Location": f"http://beta.test:{server.port}/end"}
    )
    server.routes[("beta.test", "/end")] = html()
    server.routes[("alpha.test", "/loop1")] = Reply(302, headers={"Location": "/loop2"})
    server.routes[("alpha.test", "/loop2")] = Reply(302, headers={"Location": "/loop1"})
    for i in range(7):
        server.routes[("alpha.test", f"/long{i}")] = Reply(301, headers={"Location": f"/long{i + 1}"})
    server.routes[("beta.test", "/robots.txt")] = Reply(200, "User-agent: *\nDisallow: /end\n")
    got = crawl(server, tmp_path, server.url("alpha.test"), allow_hosts=("beta.test",))
    # the last hop is checked against beta.test's robots.txt before it is requested
    assert "/end" not in server.paths("beta.test") and "/robots.txt" in server.paths("beta.test")
    assert got.decision(server.url("beta.test", "/end"))["reason"] == "robots:KirokuBot"
    loop = got.decision(server.url("alpha.test", "/loop1"))
    assert loop["reason"] == "redirect-loop" and loop["redirected_from"].endswith("/loop2")
    assert server.paths("alpha.test").count("/loop1") == 1
    assert got.decision(server.url("alpha.test", "/long6"))["reason"] == "too-many-redirects"
    assert "/long5" in server.paths() and "/long6" not in server.paths()


def test_scope_depth_host_patterns_and_max_pages(server: LoopbackServer, tmp_path: Path) -> None:
    server.routes[("alpha.test", "/")] = html(
        "/d1", "/skip-me", "/other.pdf", f"http://beta.test:{server.port}/"
    )
    server.routes[("alpha.test", "/d1")] = html("/d2")
    server.routes[("alpha.test", "/d2")] = html()
    got = crawl(
        server, tmp_path, server.url("alpha.test"), max_depth=1, exclude=("skip",), include=("alpha",)
    )
    assert set(server.paths()) - {"/robots.txt", TDMREP} == {"/", "/d1", "/other.pdf"}
    assert server.paths("beta.test") == []
    assert got.decision(f"http://beta.test:{server.port}/")["reason"] == "out-of-scope:host"
    assert got.decision(server.url("alpha.test", "/d2"))["reason"] == "out-of-scope:depth"
    assert got.decision(server.url("alpha.test", "/skip-me"))["reason"] == "out-of-scope:pattern"
    assert got.decision(server.url("alpha.test", "/other.pdf"))["reason"] == "http:404"

    server.seen.clear()
    for i in range(10):
        server.routes[("gamma.test", f"/{i}" if i else "/")] = html(*[f"/{j}" for j in range(1, 10)])
    got = crawl(server, tmp_path / "two", server.url("gamma.test"), max_pages=4)
    assert len(set(server.paths("gamma.test")) - {"/robots.txt", TDMREP}) == 4
    assert got.result.pages_fetched == 4 and got.result.skips["max-pages"] == 6


def test_warc_files_read_back(server: LoopbackServer, tmp_path: Path) -> None:
    server.routes[("alpha.test", "/")] = html("/a")
    server.routes[("alpha.test", "/a")] = Reply(200, "plain text page", content_type="text/plain")
    server.routes[("alpha.test", "/robots.txt")] = Reply(200, "User-agent: *\nDisallow: /x\n")
    got = crawl(server, tmp_path, server.url("alpha.test"))
    [path] = got.result.warc_files
    with path.open("rb") as handle:
        records = [
            (r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r) for r in ArchiveIterator(handle)
        ]
        kinds = [(kind, uri) for kind, uri, _ in records]
    assert kinds[0][0] == "warcinfo"
    robots = server.url("alpha.test", "/robots.txt")
    assert ("request", robots) in kinds and ("response", robots) in kinds
    assert ("response", server.url("alpha.test", TDMREP)) in kinds
    assert ("response", server.url("alpha.test", "/a")) in kinds
    with path.open("rb") as handle:
        fast = [(str(r.record_type), r.headers.get("WARC-Target-URI")) for r in FastIterator(handle)]
    assert len(fast) == len(kinds) == 1 + 2 * 4
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle):
            if record.rec_type == "warcinfo":
                info = record.content_stream().read().decode()
                assert "http-header-user-agent: KirokuBot/" in info and "robots: obey" in info
            if record.rec_type == "response":
                assert record.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    requests = {
        r.rec_headers.get_header("WARC-Concurrent-To") for _, _, r in records if r.rec_type == "request"
    }
    assert len(requests) == 4


def test_warc_rotation_repeats_site_files(server: LoopbackServer, tmp_path: Path) -> None:
    server.routes[("alpha.test", "/")] = html("/a", "/b")
    server.routes[("alpha.test", "/a")] = html()
    server.routes[("alpha.test", "/b")] = html()
    server.routes[("alpha.test", "/robots.txt")] = Reply(200, "User-agent: *\nDisallow: /x\n")
    got = crawl(server, tmp_path, server.url("alpha.test"), warc_max_bytes=1)
    assert len(got.result.warc_files) >= 3
    for path in got.result.warc_files:
        with path.open("rb") as handle:
            uris = [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(handle)]
        assert server.url("alpha.test", "/robots.txt") in uris


def test_cli_end_to_end(server: LoopbackServer, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert kiroku("init", str(ws), "--org", "Test Org").returncode == 0
    server.routes[("alpha.test", "/")] = html("/a", "/b", "/private")
    server.routes[("alpha.test", "/a")] = html()
    server.routes[("alpha.test", "/b")] = html(head='<meta name="robots" content="noai">')
    server.routes[("alpha.test", "/robots.txt")] = Reply(200, "User-agent: *\nDisallow: /private\n")
    resolve = [arg for r in server.resolve("alpha.test") for arg in ("--resolve", r)]
    result = kiroku(
        "crawl",
        server.url("alpha.test"),
        "--agent",
        "KirokuBot",
        "--max-pages",
        "10",
        "--delay",
        "0",
        *resolve,
        "-w",
        str(ws),
    )
    assert result.returncode == 0, result.stderr
    assert "3 page(s) fetched" in result.stdout and "robots:KirokuBot" in result.stdout
    stats = kiroku("catalog", "stats", "--json", "-w", str(ws))
    assert stats.returncode == 0, stats.stderr
    data = json.loads(stats.stdout)
    assert data["documents"] == 3, data
    shown = kiroku("log", "tail", "-w", str(ws))
    assert "crawl.run" in shown.stdout, shown.stdout
    [folder] = (ws / "crawls").iterdir()
    summary = json.loads((folder / "crawl.json").read_text())
    assert summary["pages_fetched"] == 3 and summary["source"] == "crawl-kirokubot"
    assert summary["skips"] == {"robots:KirokuBot": 1} and summary["fresh_robots_share"] == 1.0
    assert (folder / "decisions.jsonl.gz").is_file()


def test_cli_bad_input_exits_2(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert kiroku("init", str(ws), "--org", "Test Org").returncode == 0
    for args, words in (
        (["--resolve", "alpha.test:x:127.0.0.1"], "port 'x'"),
        (["--include", "("], "--include"),
    ):
        result = kiroku(
            "crawl", "http://alpha.test/", "--agent", "KirokuBot", "--max-pages", "1", *args, "-w", str(ws)
        )
        assert result.returncode == 2 and words in result.stderr, result.stderr
    result = kiroku("crawl", "ftp://alpha.test/", "--agent", "KirokuBot", "--max-pages", "1", "-w", str(ws))
    assert result.returncode == 2 and "ftp://alpha.test/" in result.stderr
