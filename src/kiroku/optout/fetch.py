"""Fetching a site's machine-readable files (robots.txt, ``/.well-known/tdmrep.json``) and single pages.

Used by the crawler (`kiroku.crawl`) and by ``kiroku optout check``. Everything goes through one
``httpx.AsyncClient`` made by `client`: HTTP/1.1 and HTTP/2, no automatic redirects (callers follow them by
hand, checking each hop), and optional curl-style ``--resolve HOST:PORT:ADDR`` entries that connect a name to an
address while TLS SNI and the ``Host`` header keep the name (`parse_resolve`).

With ``client(public_only=True)`` (the public registry, fetching from addresses its users give it) the network
backend resolves each new connection's host once, refuses the connection unless every address is public
(`kiroku.optout.addresses`), and connects to an address it checked: the check and the connection use the same
answer, so a name whose DNS answer changes between the two (DNS rebinding) cannot lead the fetch to 127.0.0.1,
10.0.0.0/8 or 169.254.169.254. Every new connection is checked, a redirect's included.

`fetch` makes one request and reads the body streaming, cut at a limit. `fetch_robots` and `fetch_tdmrep`
follow at most five redirects (RFC 9309 section 2.3.1.2); a sixth makes the file "unavailable", recorded with
the error ``more than 5 redirects``. A robots.txt is read up to 500 KiB (RFC 9309 section 2.5 lets a crawler
stop there), a tdmrep.json up to 1 MiB. `robots_allowed_all` says what RFC 9309 makes of such a fetch before
its body is read (`kiroku.optout.robots.allowed_for_status`, with redirects and network errors accounted for).

Errors: `parse_resolve` raises ``ValueError`` naming the bad part; fetches never raise for network or HTTP
failures, they record them in ``error`` (``status`` None when no response came).
"""

from __future__ import annotations

import ipaddress
import socket
import time
import typing
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import anyio
import httpcore
import httpx

from kiroku.optout.addresses import AddressRefused, AddressRule, checked_addresses, is_public
from kiroku.optout.robots import allowed_for_status
from kiroku.optout.sites import MAX_REDIRECTS, MAX_ROBOTS_BYTES, ROBOTS_PATH, TDMREP_PATH

__all__ = [
    "MAX_REDIRECTS",
    "MAX_ROBOTS_BYTES",
    "MAX_TDMREP_BYTES",
    "TOO_MANY_REDIRECTS",
    "Exchange",
    "Getter",
    "Resolver",
    "SiteFile",
    "client",
    "decode_body",
    "fetch",
    "fetch_robots",
    "fetch_site_file",
    "fetch_tdmrep",
    "parse_resolve",
    "robots_allowed_all",
    "system_resolver",
]

MAX_TDMREP_BYTES = 1024 * 1024
TOO_MANY_REDIRECTS = f"more than {MAX_REDIRECTS} redirects"
_CHUNK = 64 * 1024
_KEEPALIVE_SECONDS = 5.0


def parse_resolve(text: str) -> tuple[str, int, str]:
    """Read a curl-style ``HOST:PORT:ADDR`` (``alpha.test:8080:127.0.0.1``, ``h:443:[::1]``) as
    ``(host, port, address)``; raise ValueError naming the bad part."""
    host, sep, rest = text.partition(":")
    port_text, sep2, address = rest.partition(":")
    if not sep or not sep2:
        raise ValueError(f"--resolve {text!r} must be HOST:PORT:ADDR, e.g. example.org:443:127.0.0.1")
    host = host.strip().lower().rstrip(".")
    if not host or any(c in host for c in "/[]@ "):
        raise ValueError(f"--resolve {text!r}: {host!r} is not a host name")
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"--resolve {text!r}: port {port_text!r} is not a number") from None
    if not 0 < port < 65536:
        raise ValueError(f"--resolve {text!r}: port {port} is not between 1 and 65535")
    address = address.strip()
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(
            f"--resolve {text!r}: address {address!r} is not an IPv4 or IPv6 address "
            "(IPv6 may be written in brackets: [::1])"
        ) from None
    return host, port, address


Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Looks a name up: ``await resolver(host, port)`` gives its addresses (`system_resolver` unless a test stands in
for the system's DNS)."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolves ``host`` to for a TCP connection (``getaddrinfo``, through anyio)."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


class _ResolvingBackend(httpcore.AsyncNetworkBackend):
    """httpcore's default network backend, with some (host, port) pairs connected to a fixed address, and with
    ``public_only`` every connection made to an address it checked.

    httpcore calls `connect_tcp` with the origin's host for every new connection (redirects included, as each
    is a request of its own) and starts TLS with that host as the server name, so connecting to an address here
    keeps SNI, certificate checks and the ``Host`` header on the name."""

    def __init__(
        self,
        resolve: Mapping[tuple[str, int], str],
        *,
        public_only: bool = False,
        resolver: Resolver | None = None,
        allowed: AddressRule = is_public,
    ) -> None:
        self._resolve = dict(resolve)
        self._backend = httpcore.AnyIOBackend()
        self._public_only = public_only
        self._resolver = resolver or system_resolver
        self._allowed = allowed

    async def _addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        """The checked addresses to connect ``host:port`` to: resolved once, every one allowed, or
        ``httpcore.ConnectError`` saying which address is not (``ConnectTimeout`` if the lookup is slow)."""
        pinned = self._resolve.get((host.lower().rstrip("."), port))
        try:
            if pinned is not None:
                return checked_addresses(host, [pinned], allowed=self._allowed)
            if _is_ip(host):
                return checked_addresses(host, [host], allowed=self._allowed)
            try:
                with anyio.fail_after(timeout):
                    found = await self._resolver(host, port)
            except TimeoutError:
                raise httpcore.ConnectTimeout(f"{host} did not resolve within {timeout} s") from None
            except (OSError, UnicodeError) as exc:
                raise AddressRefused(f"{host} does not resolve: {exc}", host) from exc
            return checked_addresses(host, found, allowed=self._allowed)
        except AddressRefused as exc:
            raise httpcore.ConnectError(str(exc)) from exc

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the address ``--resolve`` gives ``host:port``, else to ``host`` itself; with
        ``public_only``, to the first address ``host`` resolves to that accepts the connection, once every
        address it resolves to is checked."""
        if not self._public_only:
            address = self._resolve.get((host.lower().rstrip("."), port), host)
            return await self._backend.connect_tcp(
                address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
            )
        addresses = await self._addresses(host, port, timeout)
        options = list(socket_options or ())
        for address in addresses[:-1]:
            try:
                return await self._backend.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=options
                )
            except httpcore.ConnectError:
                continue  # refused or unreachable: the next checked address
        return await self._backend.connect_tcp(
            addresses[-1], port, timeout=timeout, local_address=local_address, socket_options=options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Unix sockets as the default backend connects them (httpx's client here never asks for one)."""
        if self._public_only:
            raise httpcore.ConnectError(f"{path}: the registry fetches only from the internet")
        return await self._backend.connect_unix_socket(path, timeout=timeout, socket_options=socket_options)

    async def sleep(self, seconds: float) -> None:
        """Sleep as the default backend does."""
        await self._backend.sleep(seconds)


def _httpx_error(exc: httpcore.TimeoutException | Exception) -> type[httpx.TransportError]:
    """The httpx exception class of the same name as an httpcore one (httpx maps them one to one)."""
    for cls in type(exc).__mro__:
        found = getattr(httpx, cls.__name__, None)
        if isinstance(found, type) and issubclass(found, httpx.TransportError):
            return found
    return httpx.TransportError


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: typing.AsyncIterable[bytes], done: Callable[[], None]) -> None:
        self._stream = stream
        self._done = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self._stream:
                yield part
        except httpcore.ProtocolError as exc:  # includes RemoteProtocolError
            raise _httpx_error(exc)(str(exc)) from exc
        except (httpcore.NetworkError, httpcore.TimeoutException) as exc:
            raise _httpx_error(exc)(str(exc)) from exc

    async def aclose(self) -> None:
        try:
            aclose = getattr(self._stream, "aclose", None)
            if aclose is not None:
                await aclose()
        finally:
            self._done()


@dataclass
class _OriginPool:
    pool: httpcore.AsyncConnectionPool
    active: int = 0
    """Requests sent through the pool whose responses are not closed yet."""
    last_used: float = field(default_factory=time.monotonic)


class _Transport(httpx.AsyncBaseTransport):
    """An httpx transport with one ``httpcore.AsyncConnectionPool`` per origin, over a resolving network backend.

    httpcore's pool looks at each of its connections every time a request starts or ends; one pool holding a
    connection to each host of a crawl made every request cost more the more hosts were open (with 20 hosts, a
    third of the crawler's CPU time). With a pool per origin that work stays constant. At most
    ``max_connections`` requests are in flight over all origins together, as a single pool of that size allowed
    (waiting longer than the pool timeout raises ``httpx.PoolTimeout``, as it did); a pool unused for
    ``keepalive_expiry`` seconds is closed with its connections, as one pool closed idle connections."""

    def __init__(
        self,
        new_pool: Callable[[], httpcore.AsyncConnectionPool],
        *,
        max_connections: int,
        keepalive_expiry: float,
    ) -> None:
        self._new_pool = new_pool
        self._max_connections = max_connections
        self._expiry = keepalive_expiry
        self._pools: dict[tuple[bytes, bytes, int | None], _OriginPool] = {}
        self._slots: anyio.Semaphore | None = None  # made in the event loop, on first use
        self._swept = time.monotonic()

    async def _sweep(self) -> None:
        """Close the pools of origins unused for the keep-alive expiry (checked at most that often)."""
        now = time.monotonic()
        if now - self._swept < self._expiry:
            return
        self._swept = now
        stale = [
            key
            for key, entry in self._pools.items()
            if not entry.active and now - entry.last_used >= self._expiry
        ]
        for key in stale:
            await self._pools.pop(key).pool.aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through its origin's pool; httpcore's errors become httpx's of the same name."""
        assert isinstance(request.stream, httpx.AsyncByteStream)
        url = request.url
        req = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        await self._sweep()
        if self._slots is None:
            self._slots = anyio.Semaphore(self._max_connections)
        slots = self._slots
        wait = request.extensions.get("timeout", {}).get("pool")
        try:
            with anyio.fail_after(wait):
                await slots.acquire()
        except TimeoutError as exc:
            raise httpx.PoolTimeout(f"no connection free within {wait} s", request=request) from exc
        key = (url.raw_scheme, url.raw_host.lower(), url.port)
        entry = self._pools.get(key)
        if entry is None:
            entry = self._pools[key] = _OriginPool(self._new_pool())
        entry.active += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                entry.active -= 1
                entry.last_used = time.monotonic()
                slots.release()

        try:
            resp = await entry.pool.handle_async_request(req)
        except (httpcore.ProtocolError, httpcore.NetworkError, httpcore.TimeoutException) as exc:
            release()
            raise _httpx_error(exc)(str(exc), request=request) from exc
        except httpcore.UnsupportedProtocol as exc:
            release()
            raise httpx.UnsupportedProtocol(str(exc), request=request) from exc
        except BaseException:
            release()
            raise
        assert isinstance(resp.stream, typing.AsyncIterable)
        return httpx.Response(
            status_code=resp.status,
            headers=resp.headers,
            stream=_ResponseStream(resp.stream, release),
            extensions=resp.extensions,
        )

    async def aclose(self) -> None:
        """Close every pool and its connections."""
        pools, self._pools = list(self._pools.values()), {}
        for entry in pools:
            await entry.pool.aclose()


def client(
    *,
    user_agent: str,
    resolve: Sequence[tuple[str, int, str]] = (),
    http2: bool = True,
    timeout: float = 10.0,
    max_connections: int = 100,
    public_only: bool = False,
    resolver: Resolver | None = None,
    allowed: AddressRule = is_public,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` that sends ``user_agent``, speaks HTTP/2 when the server offers it over TLS
    (``http2``), never follows redirects itself, and connects each ``(host, port, address)`` of ``resolve`` to
    the address (as ``curl --resolve``; SNI, certificate checks and ``Host`` keep the name).

    With ``public_only`` (the registry's fetches for others), every new connection resolves its host once with
    ``resolver`` (`system_resolver` by default), fails with ``httpx.ConnectError`` (``HOST resolves to ADDRESS,
    not a public address: ...``) unless ``allowed`` (`kiroku.optout.addresses.is_public`) accepts every address,
    and connects to a checked address; an IP address as the host, and a ``resolve`` address, are checked the
    same way. `kiroku.optout.addresses.refusal_message` finds the refusal in the error."""
    backend = _ResolvingBackend(
        {(host.lower().rstrip("."), port): address for host, port, address in resolve},
        public_only=public_only,
        resolver=resolver,
        allowed=allowed,
    )
    ssl_context = httpx.create_ssl_context()  # once: making one loads the CA certificates

    def new_pool() -> httpcore.AsyncConnectionPool:
        return httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=_KEEPALIVE_SECONDS,
            http1=True,
            http2=http2,
            network_backend=backend,
        )

    return httpx.AsyncClient(
        transport=_Transport(new_pool, max_connections=max_connections, keepalive_expiry=_KEEPALIVE_SECONDS),
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=timeout,
        follow_redirects=False,
    )


@dataclass
class Exchange:
    """One HTTP request and what came back, as a WARC ``request`` and ``response`` record pair hold it."""

    url: str
    time: datetime
    request_headers: list[tuple[str, str]]
    status: int | None = None
    reason: str = ""
    http_version: str = "HTTP/1.1"
    headers: list[tuple[str, str]] = field(default_factory=list)
    raw: bytes = b""
    """The body as it came (transfer coding undone, content coding kept), cut at the limit."""
    truncated: bool = False
    ip_address: str | None = None
    error: str | None = None
    """``<ExceptionName>: <message>`` when the request or the body failed."""
    elapsed: float = 0.0

    def header(self, name: str) -> str | None:
        """The first value of response header ``name`` (any case), or None."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    @property
    def body(self) -> bytes:
        """The body with gzip/deflate content coding undone (as much as a cut body allows)."""
        return decode_body(self.raw, self.header("content-encoding") or "")

    @property
    def location(self) -> str | None:
        """The absolute URL a 3xx response redirects to, or None."""
        where = self.header("location")
        if self.status is None or not 300 <= self.status <= 399 or not where:
            return None
        return urljoin(self.url, where.strip())


def decode_body(raw: bytes, coding: str) -> bytes:
    """``raw`` with a gzip or deflate content coding undone; other codings, or bytes that do not decode,
    are returned as they are."""
    coding = coding.strip().lower()
    if coding not in ("gzip", "x-gzip", "deflate") or not raw:
        return raw
    for wbits in (47, -15):
        try:
            return zlib.decompressobj(wbits).decompress(raw)
        except zlib.error:
            continue
    return raw


def _ip_of(response: httpx.Response) -> str | None:
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    try:
        server = stream.get_extra_info("server_addr")
    except Exception:  # any backend may lack it
        return None
    return str(server[0]) if isinstance(server, tuple) and server else None


async def fetch(
    http: httpx.AsyncClient,
    url: str,
    *,
    limit: int,
    headers: Mapping[str, str] | None = None,
) -> Exchange:
    """GET ``url`` once (no redirects followed), reading at most ``limit`` body bytes; never raises for
    network errors, which are recorded in ``error``."""
    started = time.monotonic()
    request = http.build_request("GET", url, headers=headers)
    exchange = Exchange(
        url=url,
        time=datetime.now(UTC),
        request_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
    )
    try:
        response = await http.send(request, stream=True)
    except httpx.HTTPError as exc:
        exchange.error = f"{type(exc).__name__}: {exc}".rstrip(": ")
        exchange.elapsed = time.monotonic() - started
        return exchange
    try:
        exchange.status = response.status_code
        exchange.reason = response.reason_phrase
        exchange.http_version = response.http_version
        exchange.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
        exchange.ip_address = _ip_of(response)
        parts: list[bytes] = []
        size = 0
        async for chunk in response.aiter_raw(_CHUNK):
            if size + len(chunk) > limit:
                parts.append(chunk[: limit - size])
                exchange.truncated = True
                break
            parts.append(chunk)
            size += len(chunk)
        exchange.raw = b"".join(parts)
    except httpx.HTTPError as exc:
        exchange.error = f"{type(exc).__name__}: {exc}".rstrip(": ")
    finally:
        await response.aclose()
    exchange.elapsed = time.monotonic() - started
    return exchange


@dataclass
class SiteFile:
    """A site file fetched with its redirects followed: the final answer and every exchange on the way."""

    url: str
    """The URL asked for (``https://host/robots.txt``)."""
    final_url: str
    status: int | None
    """The last response's status; None when no response came (unreachable)."""
    body: bytes
    """The last response's body, content coding undone, cut at the limit."""
    truncated: bool
    headers: list[tuple[str, str]]
    redirects: list[str]
    """The URLs redirected to, in order."""
    error: str | None
    """None if fine; the network error, or ``more than 5 redirects``."""
    time: datetime
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The body decoded as UTF-8, undecodable bytes kept (``errors="surrogateescape"``, as
        `kiroku.optout.robots.is_allowed` expects)."""
        return self.body.decode("utf-8", "surrogateescape")


def _origin_url(origin_url: str, path: str) -> str:
    parts = urlsplit(origin_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{origin_url!r} is not an http(s) URL with a host")
    return f"{parts.scheme}://{parts.netloc}{path}"


Getter = Callable[[str, int], Awaitable[Exchange]]
"""Makes one request: ``get(url, limit)``; `fetch_site_file` calls it once per redirect hop."""


async def fetch_site_file(url: str, *, limit: int, get: Getter) -> SiteFile:
    """Fetch ``url`` with ``get``, following at most 5 redirects (RFC 9309 section 2.3.1.2); a sixth leaves the
    3xx response as the answer with the error ``more than 5 redirects``. A crawler passes its own ``get`` to
    space the hops politely; `fetch_robots` and `fetch_tdmrep` use `fetch`."""
    exchanges: list[Exchange] = []
    redirects: list[str] = []
    target = url
    while True:
        exchange = await get(target, limit)
        exchanges.append(exchange)
        location = exchange.location
        error = exchange.error
        if location is not None and urlsplit(location).scheme in ("http", "https"):
            if len(redirects) < MAX_REDIRECTS:
                redirects.append(location)
                target = location
                continue
            error = TOO_MANY_REDIRECTS
        return SiteFile(
            url=url,
            final_url=target,
            status=exchange.status,
            body=exchange.body if exchange.status is not None else b"",
            truncated=exchange.truncated,
            headers=exchange.headers,
            redirects=redirects,
            error=error,
            time=exchanges[0].time,
            exchanges=exchanges,
        )


def _getter(http: httpx.AsyncClient) -> Getter:
    async def get(url: str, limit: int) -> Exchange:
        return await fetch(http, url, limit=limit)

    return get


async def fetch_robots(http: httpx.AsyncClient, origin_url: str) -> SiteFile:
    """GET ``/robots.txt`` of ``origin_url``'s origin, following at most 5 redirects, body cut at 500 KiB."""
    return await fetch_site_file(
        _origin_url(origin_url, ROBOTS_PATH), limit=MAX_ROBOTS_BYTES, get=_getter(http)
    )


async def fetch_tdmrep(http: httpx.AsyncClient, origin_url: str) -> SiteFile:
    """GET ``/.well-known/tdmrep.json`` of ``origin_url``'s origin, following at most 5 redirects, body cut at
    1 MiB."""
    return await fetch_site_file(
        _origin_url(origin_url, TDMREP_PATH), limit=MAX_TDMREP_BYTES, get=_getter(http)
    )


def robots_allowed_all(robots: SiteFile) -> bool | None:
    """What a robots.txt fetch means before its body is read: None (2xx: ask `kiroku.optout.robots.decide`
    with `SiteFile.text`), True (everything allowed: 4xx, or more than 5 redirects, "unavailable" in RFC 9309
    section 2.3.1.2) or False (everything disallowed: 5xx, no response, or an error while reading the body)."""
    if robots.error == TOO_MANY_REDIRECTS:
        return True
    if robots.status is None:
        return False
    verdict = allowed_for_status(robots.status)
    if verdict is None and robots.error is not None:
        return False  # the body broke off: not read as permission
    return verdict
