"""The crawler over HTTPS: HTTP/2 by default, HTTP/1.1 with ``http2=False`` / ``--no-http2``, and TLS failures.

The sites are served by `tests.h2server` with a certificate from a CA made for the test; ``SSL_CERT_FILE``
points at that CA (httpx reads it when the crawler's client is made), and ``--resolve`` connects the test
host names to 127.0.0.1 while SNI, the certificate check and ``:authority`` keep the names.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastwarc.warc import ArchiveIterator as FastIterator
from fastwarc.warc import WarcRecordType
from warcio.archiveiterator import ArchiveIterator

from kiroku.crawl import Crawler, CrawlSettings, Scope, new_crawl_id, user_agent_for
from kiroku.optout.fetch import parse_resolve
from tests.conftest import kiroku
from tests.crawl.conftest import Crawled, read_decisions
from tests.h2server import Certificates, H2Server, h2_server, make_certificates
from tests.loopback import Reply, html

HOSTS = ("alpha.test", "beta.test")
TDMREP = "/.well-known/tdmrep.json"
LONG_TEXT = "A page long enough to need several HTTP/2 DATA frames. " * 600  # about 33 KB
PAGES = {"alpha.test": ["/", "/a", "/b"], "beta.test": ["/", "/c"]}
TLS_FAILED = "ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path / "tls", HOSTS)


@pytest.fixture
def trusted(certificates: Certificates, monkeypatch: pytest.MonkeyPatch) -> Certificates:
    """The test CA, trusted through SSL_CERT_FILE for the rest of the test."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return certificates


@pytest.fixture
def server(trusted: Certificates) -> Iterator[H2Server]:
    with h2_server(trusted) as srv:
        yield srv


def add_sites(server: H2Server) -> None:
    """alpha.test links to beta.test; robots.txt disallows alpha.test's /private."""
    server.routes[("alpha.test", "/robots.txt")] = Reply(
        200, "User-agent: *\nDisallow: /private\n", content_type="text/plain"
    )
    server.routes[("alpha.test", "/")] = html("/a", "/b", "/private", server.url("beta.test"))
    server.routes[("alpha.test", "/a")] = html()
    server.routes[("alpha.test", "/b")] = html(text=LONG_TEXT)
    server.routes[("alpha.test", "/private")] = html()
    server.routes[("beta.test", "/")] = html("/c")
    server.routes[("beta.test", "/c")] = html()


def crawl(server: H2Server, folder: Path, seed: str, **settings: Any) -> Crawled:
    """Crawl ``seed`` with kiroku's `Crawler`, beta.test in scope, every test host resolved to the server."""
    config = CrawlSettings(
        agent="KirokuBot",
        seeds=(seed,),
        scope=Scope.create([seed], allow_hosts=["beta.test"], max_depth=3),
        max_pages=20,
        delay=0.0,
        resolve=tuple(parse_resolve(r) for r in server.resolve(*HOSTS, "gamma.test")),
        **settings,
    )
    crawl_id = new_crawl_id()
    result = asyncio.run(Crawler(config, folder / crawl_id, crawl_id).run())
    return Crawled(result, read_decisions(result.decision_log))


def assert_spoken(server: H2Server, protocol: str, alpn: str) -> None:
    """Every request came over ``protocol``, robots.txt first, on one connection per host, with SNI and
    ``:authority``/``Host`` naming the host; /private was never asked for."""
    assert server.seen, "no request reached the server"
    assert {s.protocol for s in server.seen} == {protocol}
    assert {s.user_agent for s in server.seen} == {user_agent_for("KirokuBot")}
    for host in HOSTS:
        seen = [s for s in server.seen if s.host == host]
        assert [s.path for s in seen] == ["/robots.txt", TDMREP, *PAGES[host]]
        assert {s.authority for s in seen} == {f"{host}:{server.port}"}
        [number] = {s.connection for s in seen}
        connection = server.connections[number - 1]
        assert (connection.sni, connection.alpn, connection.error) == (host, alpn, None)
    assert len(server.connections) == len(HOSTS)
    assert "/private" not in server.paths()


@dataclass(frozen=True)
class Stored:
    """A WARC response record as one reader read it."""

    protocol: str | None
    ip: str | None
    status: str
    payload: bytes


def warcio_responses(paths: list[Path]) -> dict[str, Stored]:
    found: dict[str, Stored] = {}
    for path in paths:
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response":
                    found[record.rec_headers.get_header("WARC-Target-URI")] = Stored(
                        record.rec_headers.get_header("WARC-Protocol"),
                        record.rec_headers.get_header("WARC-IP-Address"),
                        record.http_headers.get_statuscode(),
                        record.content_stream().read(),
                    )
    return found


def fastwarc_responses(paths: list[Path]) -> dict[str, Stored]:
    found: dict[str, Stored] = {}
    for path in paths:
        with path.open("rb") as handle:
            for record in FastIterator(handle, record_types=WarcRecordType.response):
                assert record.http_headers is not None
                found[record.headers["WARC-Target-URI"]] = Stored(
                    record.headers.get("WARC-Protocol"),
                    record.headers.get("WARC-IP-Address"),
                    str(record.http_headers.status_code),
                    record.reader.read(),
                )
    return found


def assert_warcs(server: H2Server, paths: list[Path], protocol: str | None) -> None:
    """Both WARC readers find a response for every URL asked for, as served, marked ``WARC-Protocol: h2``
    when it came over HTTP/2."""
    assert paths
    asked = {server.url(s.host, s.path) for s in server.seen}
    by_warcio, by_fastwarc = warcio_responses(paths), fastwarc_responses(paths)
    assert set(by_warcio) == set(by_fastwarc) == asked
    assert by_warcio == by_fastwarc
    assert {(r.protocol, r.ip) for r in by_warcio.values()} == {(protocol, "127.0.0.1")}
    long_page = by_warcio[server.url("alpha.test", "/b")]
    assert long_page.status == "200" and LONG_TEXT.encode() in long_page.payload
    assert by_warcio[server.url("alpha.test", TDMREP)].status == "404"


@pytest.mark.parametrize(
    ("http2", "protocol", "alpn", "warc_protocol"),
    [(True, "HTTP/2", "h2", "h2"), (False, "HTTP/1.1", "http/1.1", None)],
    ids=["http2", "no-http2"],
)
def test_crawler_over_https(
    server: H2Server, tmp_path: Path, http2: bool, protocol: str, alpn: str, warc_protocol: str | None
) -> None:
    add_sites(server)
    got = crawl(server, tmp_path, server.url("alpha.test"), http2=http2)
    assert_spoken(server, protocol, alpn)
    assert got.result.pages_fetched == 5 and got.result.skips == {"robots:KirokuBot": 1}
    assert got.result.robots_fetches == 2
    assert got.decision(server.url("alpha.test", "/private"))["reason"] == "robots:KirokuBot"
    for host, paths in PAGES.items():
        for path in paths:
            decision = got.decision(server.url(host, path))
            assert (decision["outcome"], decision["status"]) == ("fetched", 200)
    assert_warcs(server, got.result.warc_files, warc_protocol)


@pytest.mark.parametrize("no_http2", [False, True], ids=["http2", "no-http2"])
def test_cli_crawl_over_https(server: H2Server, tmp_path: Path, no_http2: bool) -> None:
    ws = tmp_path / "ws"
    assert kiroku("init", str(ws), "--org", "Test Org").returncode == 0
    add_sites(server)
    resolve = [arg for r in server.resolve(*HOSTS) for arg in ("--resolve", r)]
    result = kiroku(
        "crawl",
        server.url("alpha.test"),
        "--agent",
        "KirokuBot",
        "--max-pages",
        "10",
        "--delay",
        "0",
        "--allow-host",
        "beta.test",
        *resolve,
        *(["--no-http2"] if no_http2 else []),
        "-w",
        str(ws),
    )
    assert result.returncode == 0, result.stderr
    assert "5 page(s) fetched from 2 host(s)" in result.stdout, result.stdout
    assert "skipped 1: robots:KirokuBot" in result.stdout, result.stdout
    assert_spoken(server, "HTTP/1.1" if no_http2 else "HTTP/2", "http/1.1" if no_http2 else "h2")
    stats = kiroku("catalog", "stats", "--json", "-w", str(ws))
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["documents"] == 5, stats.stdout
    [folder] = (ws / "crawls").iterdir()
    summary = json.loads((folder / "crawl.json").read_text())
    assert summary["pages_fetched"] == 5 and summary["hosts"] == list(HOSTS)
    assert_warcs(server, [ws / f["path"] for f in summary["warc_files"]], None if no_http2 else "h2")


@pytest.mark.parametrize("trouble", ["untrusted-ca", "no-ssl-cert-file", "wrong-host-name"])
def test_tls_failure_is_recorded_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, certificates: Certificates, trouble: str
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    presented, host, detail = certificates, "alpha.test", "unable to get local issuer certificate"
    if trouble == "untrusted-ca":
        presented = make_certificates(tmp_path / "other", HOSTS, ca_name="another CA")
    elif trouble == "no-ssl-cert-file":
        monkeypatch.delenv("SSL_CERT_FILE")  # certifi's CAs, which never signed the test CA
    else:
        host, detail = "gamma.test", "Hostname mismatch, certificate is not valid for 'gamma.test'"
    with h2_server(presented) as server:
        server.routes[(host, "/")] = html("/a")
        got = crawl(server, tmp_path, server.url(host))
    assert server.seen == [], "no request may get past a failed TLS handshake"
    assert server.connections and all(c.error for c in server.connections)
    robots = got.decision(server.url(host, "/robots.txt"))
    assert (robots["outcome"], robots["reason"], robots["kind"]) == (
        "skipped",
        "network:ConnectError",
        "robots",
    )
    assert robots["detail"].startswith(TLS_FAILED) and detail in robots["detail"]
    page = got.decision(server.url(host))
    assert (page["outcome"], page["reason"]) == ("skipped", "robots-unavailable:KirokuBot")
    assert page["detail"].startswith(f"robots.txt unreachable ({TLS_FAILED}")
    assert got.result.pages_fetched == 0
    assert got.result.skips == {"network:ConnectError": 1, "robots-unavailable:KirokuBot": 1}


def test_cli_tls_failure_exits_cleanly(tmp_path: Path, trusted: Certificates) -> None:
    ws = tmp_path / "ws"
    assert kiroku("init", str(ws), "--org", "Test Org").returncode == 0
    with h2_server(make_certificates(tmp_path / "other", HOSTS, ca_name="another CA")) as server:
        server.routes[("alpha.test", "/")] = html("/a")
        result = kiroku(
            "crawl",
            server.url("alpha.test"),
            "--agent",
            "KirokuBot",
            "--max-pages",
            "5",
            "--delay",
            "0",
            *("--resolve", server.resolve("alpha.test")[0]),
            "-w",
            str(ws),
        )
    assert result.returncode == 0, result.stderr
    assert "0 page(s) fetched" in result.stdout, result.stdout
    assert (
        "skipped 1: network:ConnectError" in result.stdout
        and "skipped 1: robots-unavailable:KirokuBot" in result.stdout
    )
    assert server.seen == []
    stats = kiroku("catalog", "stats", "--json", "-w", str(ws))
    assert stats.returncode == 0 and json.loads(stats.stdout)["documents"] == 0, stats.stdout
    [folder] = (ws / "crawls").iterdir()
    [decision] = [d for d in read_decisions(folder / "decisions.jsonl.gz") if d.get("kind") == "robots"]
    assert decision["reason"] == "network:ConnectError" and decision["detail"].startswith(TLS_FAILED)
    # the WARC file keeps the robots.txt request that got no response, and both readers read it
    [warc] = folder.glob("*.warc.gz")
    robots = server.url("alpha.test", "/robots.txt")
    with warc.open("rb") as handle:
        kinds = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(handle)]
    assert kinds == [("warcinfo", None), ("request", robots)]
    with warc.open("rb") as handle:
        fast = [(r.record_type, r.headers.get("WARC-Target-URI")) for r in FastIterator(handle)]
    assert fast == [(WarcRecordType.warcinfo, None), (WarcRecordType.request, robots)]
