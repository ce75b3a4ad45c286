"""kiroku.optout.fetch.client(public_only=True): every connection goes to an address checked when its host was
resolved, so DNS rebinding cannot lead a fetch to the fetcher's own network.

Real servers on loopback. Linux routes all of 127.0.0.0/8 to the loopback interface, so a test lets 127.0.0.2
stand for "a public address" (the ``allowed`` rule) while 127.0.0.1 stays private; a resolver stand-in replaces
the system's DNS, which a test cannot make change its answer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator, Sequence
from contextlib import ExitStack

import pytest

from kiroku.optout.addresses import Address, is_public, refusal_message
from kiroku.optout.fetch import client, fetch, fetch_robots, robots_allowed_all
from tests.loopback import LoopbackServer, Reply, loopback

UA = "TestBot/1.0"
WHY = "not a public address: the registry fetches only from the internet"


def only_127_0_0_2(address: Address) -> bool:
    """The rule in these tests: 127.0.0.2 is "public", everything else (127.0.0.1 included) is not."""
    return address == ipaddress.ip_address("127.0.0.2")


class Resolver:
    """Stands in for the system's DNS: the first answer once, then the later answer on every call after it."""

    def __init__(self, first: Sequence[str], later: Sequence[str] | None = None) -> None:
        self.first = list(first)
        self.later = list(first if later is None else later)
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return self.first if len(self.calls) == 1 else self.later


@pytest.fixture
def servers() -> Iterator[tuple[LoopbackServer, LoopbackServer]]:
    """The site on 127.0.0.2 ("public") and the fetcher's own service on 127.0.0.1, on the same port."""
    with ExitStack() as stack:
        public = stack.enter_context(loopback("127.0.0.2"))
        for _ in range(5):
            try:
                private = stack.enter_context(loopback("127.0.0.1", public.port))
                break
            except OSError:  # the port is taken on 127.0.0.1: another one
                public = stack.enter_context(loopback("127.0.0.2"))
        else:
            pytest.fail("no port free on both 127.0.0.1 and 127.0.0.2")
        for server, body in ((public, "the site's file"), (private, "the fetcher's own secret")):
            # Connection: close, so that every request opens (and checks) a connection of its own
            server.routes[("rebind.test", "/file")] = Reply(200, body, headers={"Connection": "close"})
        yield public, private


def test_a_rebinding_name_is_connected_to_the_address_checked(
    servers: tuple[LoopbackServer, LoopbackServer],
) -> None:
    public, private = servers
    resolver = Resolver(["127.0.0.2"], later=["127.0.0.1"])
    url = public.url("rebind.test", "/file")

    async def go() -> None:
        async with client(user_agent=UA, public_only=True, resolver=resolver, allowed=only_127_0_0_2) as http:
            first = await fetch(http, url, limit=1000)
            assert first.error is None and first.status == 200
            assert first.body == b"the site's file" and first.ip_address == "127.0.0.2"
            # the next connection resolves again: the name now points at 127.0.0.1, and that is refused
            second = await fetch(http, url, limit=1000)
            assert second.status is None
            assert second.error == f"ConnectError: rebind.test resolves to 127.0.0.1, {WHY}"

    asyncio.run(go())
    assert resolver.calls == [("rebind.test", public.port)] * 2  # one lookup per connection
    assert public.paths() == ["/file"]
    assert private.seen == []


def test_a_name_resolving_to_a_private_address_first_is_refused(
    servers: tuple[LoopbackServer, LoopbackServer],
) -> None:
    public, private = servers
    resolver = Resolver(["127.0.0.1"], later=["127.0.0.2"])

    async def go() -> None:
        async with client(user_agent=UA, public_only=True, resolver=resolver, allowed=only_127_0_0_2) as http:
            got = await fetch(http, public.url("rebind.test", "/file"), limit=1000)
            assert got.status is None
            assert got.error == f"ConnectError: rebind.test resolves to 127.0.0.1, {WHY}"
            assert refusal_message(got.error) == f"rebind.test resolves to 127.0.0.1, {WHY}"

    asyncio.run(go())
    assert len(resolver.calls) == 1
    assert public.seen == [] and private.seen == []


def test_every_address_a_name_resolves_to_must_be_public(server: LoopbackServer) -> None:
    async def go() -> None:
        # one private address among public ones is enough: the connection could be made to it
        mixed = Resolver(["8.8.8.8", "10.1.2.3"])
        async with client(user_agent=UA, public_only=True, resolver=mixed) as http:
            got = await fetch(http, "http://mixed.test/", limit=100)
            assert got.error == f"ConnectError: mixed.test resolves to 10.1.2.3, {WHY}"
        # the system's own resolver: localhost is a name for the loopback interface
        async with client(user_agent=UA, public_only=True) as http:
            got = await fetch(http, server.url("localhost"), limit=100)
            assert got.status is None and got.error is not None
            assert got.error.startswith("ConnectError: localhost resolves to ") and WHY in got.error

    asyncio.run(go())
    assert server.seen == []


def test_a_redirect_to_a_private_address_is_refused_on_that_hop(
    servers: tuple[LoopbackServer, LoopbackServer],
) -> None:
    public, private = servers
    inside = private.url("127.0.0.1", "/robots.txt")
    public.routes[("rebind.test", "/robots.txt")] = Reply(302, headers={"Location": inside})
    private.routes[("127.0.0.1", "/robots.txt")] = Reply(200, "User-agent: *\nAllow: /\n")
    resolver = Resolver(["127.0.0.2"])

    async def go() -> None:
        async with client(user_agent=UA, public_only=True, resolver=resolver, allowed=only_127_0_0_2) as http:
            robots = await fetch_robots(http, public.url("rebind.test"))
            assert robots.redirects == [inside]
            assert [hop.status for hop in robots.exchanges] == [302, None]
            assert robots.error == f"ConnectError: 127.0.0.1 is {WHY}"
            assert robots_allowed_all(robots) is False  # no answer: everything disallowed

    asyncio.run(go())
    assert public.paths() == ["/robots.txt"]
    assert private.seen == []
    assert len(resolver.calls) == 1  # an IP address as the host is checked without a lookup


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with loopback() as srv:
        srv.routes[("127.0.0.1", "/")] = Reply(200, "loopback")
        srv.routes[("pinned.test", "/")] = Reply(200, "pinned")
        yield srv


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("169.254.169.254", "169.254.169.254"),
        ("10.0.0.1", "10.0.0.1"),
    ],
)
def test_ip_addresses_are_checked_as_names_are(server: LoopbackServer, host: str, address: str) -> None:
    resolver = Resolver(["8.8.8.8"])

    async def go() -> None:
        async with client(user_agent=UA, public_only=True, resolver=resolver, timeout=2.0) as http:
            got = await fetch(http, f"http://{host}:{server.port}/latest/", limit=100)
            assert got.status is None
            assert got.error == f"ConnectError: {address} is {WHY}"

    asyncio.run(go())
    assert resolver.calls == [] and server.seen == []


def test_without_public_only_loopback_is_reached(server: LoopbackServer) -> None:
    async def go() -> None:
        async with client(user_agent=UA) as http:
            got = await fetch(http, server.url("127.0.0.1"), limit=100)
            assert got.status == 200 and got.body == b"loopback"

    asyncio.run(go())
    assert server.paths() == ["/"]


def test_resolve_entries_are_checked_too(server: LoopbackServer) -> None:
    resolver = Resolver(["127.0.0.1"])
    pinned = [("pinned.test", server.port, "127.0.0.1")]

    async def go() -> None:
        async with client(user_agent=UA, resolve=pinned, public_only=True, resolver=resolver) as http:
            got = await fetch(http, server.url("pinned.test"), limit=100)
            assert got.error == f"ConnectError: pinned.test resolves to 127.0.0.1, {WHY}"
        loopback_allowed = client(
            user_agent=UA,
            resolve=pinned,
            public_only=True,
            resolver=resolver,
            allowed=lambda a: a.is_loopback,
        )
        async with loopback_allowed as http:
            got = await fetch(http, server.url("pinned.test"), limit=100)
            assert got.status == 200 and got.body == b"pinned"

    asyncio.run(go())
    assert resolver.calls == []  # the --resolve address is used, not looked up
    assert server.paths("pinned.test") == ["/"]


def test_the_next_checked_address_is_tried_when_one_does_not_connect(
    servers: tuple[LoopbackServer, LoopbackServer],
) -> None:
    public, private = servers
    resolver = Resolver(["127.0.0.3", "127.0.0.2"])  # nothing listens on 127.0.0.3

    async def go() -> None:
        allowed = {ipaddress.ip_address("127.0.0.2"), ipaddress.ip_address("127.0.0.3")}
        async with client(
            user_agent=UA, public_only=True, resolver=resolver, allowed=allowed.__contains__
        ) as http:
            got = await fetch(http, public.url("rebind.test", "/file"), limit=1000)
            assert got.status == 200 and got.ip_address == "127.0.0.2"

    asyncio.run(go())
    assert len(resolver.calls) == 1 and private.seen == []


def test_a_name_that_does_not_resolve_says_so() -> None:
    async def nowhere(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def go() -> None:
        async with client(user_agent=UA, public_only=True, resolver=nowhere) as http:
            got = await fetch(http, "http://nowhere.test/", limit=100)
            assert got.status is None
            assert (
                got.error
                == "ConnectError: nowhere.test does not resolve: [Errno -2] Name or service not known"
            )
            assert (
                refusal_message(got.error)
                == "nowhere.test does not resolve: [Errno -2] Name or service not known"
            )

    asyncio.run(go())


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("::ffff:8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),
        ("169.254.169.254", False),
        ("0.0.0.0", False),
        ("224.0.0.251", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 for 169.254.169.254
        ("ff02::1", False),
    ],
)
def test_the_public_address_rule(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def test_refusals_are_found_in_errors_and_nothing_else_is() -> None:
    assert (
        refusal_message("ConnectError: a.test resolves to 10.0.0.1, " + WHY)
        == "a.test resolves to 10.0.0.1, " + WHY
    )
    assert refusal_message("ConnectError: [Errno 111] Connection refused") is None
    assert refusal_message("ReadTimeout: timed out") is None
    assert refusal_message(None) is None
    assert refusal_message(ValueError("10.0.0.1 is not a public address")) is None
