"""kiroku.optout.fetch.client: one connection pool per origin, idle pools closed, a cap on requests in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from kiroku.optout.fetch import _Transport, client, fetch, parse_resolve
from tests.loopback import LoopbackServer, Reply, loopback


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with loopback() as srv:
        srv.routes[("alpha.test", "/")] = Reply(200, "a")
        srv.routes[("beta.test", "/")] = Reply(200, "b")
        yield srv


def _transport(http: httpx.AsyncClient) -> _Transport:
    transport = http._transport
    assert isinstance(transport, _Transport)
    return transport


def test_one_pool_per_origin_and_idle_pools_closed(server: LoopbackServer) -> None:
    async def go() -> None:
        resolve = [parse_resolve(r) for r in server.resolve("alpha.test", "beta.test")]
        async with client(user_agent="TestBot/1.0", resolve=resolve) as http:
            transport = _transport(http)
            for host in ("alpha.test", "beta.test", "alpha.test", "ALPHA.test"):
                got = await fetch(http, server.url(host), limit=1000)
                assert got.status == 200 and got.error is None
            assert len(transport._pools) == 2
            assert all(entry.active == 0 for entry in transport._pools.values())
            transport._expiry = 0.0  # every pool not in use is stale at the next request
            got = await fetch(http, server.url("beta.test"), limit=1000)
            assert got.status == 200
            assert [key[1] for key in transport._pools] == [b"beta.test"]

    asyncio.run(go())
    assert server.paths("alpha.test") == ["/"] * 3
    assert server.paths("beta.test") == ["/"] * 2


def test_max_connections_caps_requests_in_flight_over_all_origins(server: LoopbackServer) -> None:
    async def go() -> None:
        resolve = [parse_resolve(r) for r in server.resolve("alpha.test", "beta.test")]
        timeout = httpx.Timeout(5.0, pool=0.3)
        async with client(user_agent="TestBot/1.0", resolve=resolve, max_connections=1) as http:
            http.timeout = timeout
            first = await http.send(http.build_request("GET", server.url("alpha.test")), stream=True)
            with pytest.raises(httpx.PoolTimeout):
                await http.get(server.url("beta.test"))
            await first.aclose()  # the slot is free again
            second = await http.get(server.url("beta.test"))
            assert second.status_code == 200 and second.content == b"b"
            # a request that failed gave its slot back too
            blocked = await fetch(http, "http://127.0.0.1:1/", limit=10)  # refused
            assert blocked.status is None and blocked.error
            third = await http.get(server.url("alpha.test"))
            assert third.status_code == 200

    asyncio.run(go())
