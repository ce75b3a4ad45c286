"""kiroku.optout.fetch against a loopback server that serves named hosts (reached via --resolve entries)."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import Iterator

import pytest

from kiroku.optout.fetch import (
    MAX_ROBOTS_BYTES,
    SiteFile,
    client,
    fetch_robots,
    fetch_tdmrep,
    parse_resolve,
    robots_allowed_all,
)
from kiroku.optout.tdmrep import TdmRepFile
from tests.loopback import LoopbackServer, Reply, loopback


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with loopback() as srv:
        yield srv


def robots(server: LoopbackServer, host: str = "alpha.test") -> SiteFile:
    async def go() -> SiteFile:
        resolve = [parse_resolve(r) for r in server.resolve("alpha.test", "beta.test")]
        async with client(user_agent="TestBot/1.0", resolve=resolve) as http:
            return await fetch_robots(http, server.url(host))

    return asyncio.run(go())


def test_parse_resolve() -> None:
    assert parse_resolve("Alpha.test:8080:127.0.0.1") == ("alpha.test", 8080, "127.0.0.1")
    assert parse_resolve("h.test:443:[::1]") == ("h.test", 443, "::1")
    assert parse_resolve("h.test:443:::1") == ("h.test", 443, "::1")
    for bad, part in [
        ("alpha.test", "HOST:PORT:ADDR"),
        ("alpha.test:x:127.0.0.1", "port 'x'"),
        ("alpha.test:0:127.0.0.1", "between 1 and 65535"),
        ("alpha.test:80:nowhere", "address 'nowhere'"),
        (":80:127.0.0.1", "not a host name"),
    ]:
        with pytest.raises(ValueError, match=part):
            parse_resolve(bad)


def test_robots_200_is_read_with_the_user_agent_and_the_host_name(server: LoopbackServer) -> None:
    server.routes[("alpha.test", "/robots.txt")] = Reply(
        200, "User-agent: *\nDisallow: /x\n", content_type="text/plain"
    )
    got = robots(server)
    assert got.status == 200 and got.error is None and not got.truncated
    assert got.text.startswith("User-agent: *")
    assert robots_allowed_all(got) is None
    assert got.url == got.final_url == server.url("alpha.test", "/robots.txt")
    assert server.seen[0].host == "alpha.test" and server.seen[0].user_agent == "TestBot/1.0"
    assert got.exchanges[0].ip_address == "127.0.0.1"


def test_gzip_content_coding_is_undone(server: LoopbackServer) -> None:
    body = gzip.compress(b"User-agent: *\nDisallow: /\n")
    server.routes[("alpha.test", "/robots.txt")] = Reply(200, body, {"Content-Encoding": "gzip"})
    got = robots(server)
    assert got.text == "User-agent: *\nDisallow: /\n"
    assert got.exchanges[0].raw == body


def test_statuses(server: LoopbackServer) -> None:
    server.routes[("alpha.test", "/robots.txt")] = Reply(404)
    server.routes[("beta.test", "/robots.txt")] = Reply(503)
    assert robots_allowed_all(robots(server)) is True
    assert robots_allowed_all(robots(server, "beta.test")) is False


def test_three_redirects_are_followed_six_are_unavailable(server: LoopbackServer) -> None:
    for i in range(3):
        server.routes[("alpha.test", f"/r{i}" if i else "/robots.txt")] = Reply(
            301, headers={"Location": f"/r{i + 1}"}
        )
    server.routes[("alpha.test", "/r3")] = Reply(
        200, "User-agent: *\nDisallow: /\n", content_type="text/plain"
    )
    got = robots(server)
    assert got.status == 200 and got.redirects == [server.url("alpha.test", f"/r{i}") for i in (1, 2, 3)]
    assert got.final_url.endswith("/r3") and len(got.exchanges) == 4
    for i in range(6):
        server.routes[("beta.test", f"/r{i}" if i else "/robots.txt")] = Reply(
            302, headers={"Location": f"/r{i + 1}"}
        )
    server.routes[("beta.test", "/r6")] = Reply(200, "User-agent: *\nDisallow: /\n")
    got = robots(server, "beta.test")
    assert got.error == "more than 5 redirects" and got.status == 302
    assert robots_allowed_all(got) is True
    assert "/r6" not in server.paths("beta.test") and len(got.exchanges) == 6


def test_a_huge_robots_txt_is_cut_at_500_kib(server: LoopbackServer) -> None:
    server.routes[("alpha.test", "/robots.txt")] = Reply(
        200, b"#" * (10 * 1024 * 1024), content_type="text/plain"
    )
    got = robots(server)
    assert got.truncated and len(got.body) == MAX_ROBOTS_BYTES and got.error is None


def test_unreachable_is_disallow_all(server: LoopbackServer) -> None:
    server.routes[("alpha.test", "/robots.txt")] = Reply(close=True)
    got = robots(server)
    assert got.status is None and got.error and robots_allowed_all(got) is False
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]

    async def go() -> SiteFile:
        async with client(user_agent="TestBot", resolve=[("gamma.test", closed, "127.0.0.1")]) as http:
            return await fetch_robots(http, f"http://gamma.test:{closed}/any/page")

    got = asyncio.run(go())
    assert got.status is None and "ConnectError" in (got.error or "")
    assert robots_allowed_all(got) is False


def test_tdmrep(server: LoopbackServer) -> None:
    rules = b'[{"location": "/private/*", "tdm-reservation": 1}]'
    server.routes[("alpha.test", "/.well-known/tdmrep.json")] = Reply(
        200, rules, content_type="application/json"
    )

    async def go() -> SiteFile:
        resolve = [parse_resolve(r) for r in server.resolve("alpha.test")]
        async with client(user_agent="TestBot", resolve=resolve, http2=False) as http:
            return await fetch_tdmrep(http, server.url("alpha.test", "/some/page?q=1"))

    got = asyncio.run(go())
    assert got.status == 200 and TdmRepFile.parse(got.body).value_for("/private/a") == 1
    assert server.paths() == ["/.well-known/tdmrep.json"]
