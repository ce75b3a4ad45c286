"""A cache of the registry's public pages: rendered answers kept in memory, with ETags and conditional requests.

Without it every page is rendered from the database on every request, and the matrix parses every statement
filed for the year. `PageCache` keeps the rendered answers of public GET requests in the process and serves them
again, byte for byte, until something is written.

What is cached. A GET request for a public page (its path is listed in `PUBLIC_PATHS` or under
`PUBLIC_PREFIXES`: the matrix, firms, filings and their ``.json`` twins, the figures, the Atom feed, the CSV
exports, the inquiry statistics, the public JSON API), whose answer is a 200 that sets no cookie but the CSRF
cookie and holds no CSRF token. Everything else passes through untouched, never stored and never served from the
cache: any other method; a request with an ``Authorization`` header (a firm's token: ``/api/v1/me``, its open
inquiries) or with the administrator's session cookie (``kiroku_session``: pages then name the administrator and
carry a sign-out form) or with a body; ``/admin``; the secret pages of claims and inquiries (``/inquiries/...``
but the public statistics, ``/api/v1/inquiries/...``) and any request with a ``secret`` parameter; searches
(``?q=``: the rate limiter counts each one); the pages with forms (``/register``, ``/inquiries``); static files
(which have ETags of their own).

Cookies: the safe, simple design. `kiroku.registry.pages.render_page` mints a CSRF token for every browser that
has none and sets it as the ``kiroku_csrf`` cookie, on every page, though only pages with forms use it. A cached
page must never hand one visitor's token to another, so a public page is stored and served *without* that cookie,
and only if its body holds no CSRF token at all: neither the one just minted nor the one the visitor sent.
A page with a form therefore is never stored (its body holds the token), and a visitor gets a token from the
first page with a form it opens, which is rendered for it alone (the form checks the cookie against the field,
so nothing is lost). Both the first answer (a miss) and later ones (hits) are the same bytes with the same
headers and set no cookie at all, which is also what lets shared caches on the way (``Cache-Control: public``)
keep them. An answer that sets any other cookie, the ``lang`` cookie of ``?lang=`` above all, is not stored:
the language switch is followed once per visitor, later pages come with the cookie.

The key is the scheme, host (the feed's links are absolute), path, the whole query string and the language the
page is in (`kiroku.registry.i18n.choose_language`: ``?lang=``, the ``lang`` cookie, Accept-Language), so that
languages never mix; answers say ``Vary: Accept-Language, Cookie`` for caches on the way.

Freshness. The cache keeps a generation number and every entry the generation it was rendered in; an entry of
an older generation is never served. The generation moves on every write to the registry's database made in
this process, seen by SQLAlchemy events on the registry's engine: when a statement that is not a read is
executed, and again when that connection goes back to the pool after its commit (so a page rendered while the
write was in flight is not kept). This covers every write whatever made it: a filing, a checkpoint, a firm
registered, approved or flagged, an inquiry asked or answered, through the API, the pages, or kiroku's Python
functions called on ``app.state.registry.engine``. Any request with another method than GET or HEAD moves it
too, when it ends. Writes by other processes (``uvicorn --workers``, several servers on one database, ``kiroku
registry`` commands) are not seen: an entry lives at most ``seconds`` (`RegistrySettings.page_cache_seconds`,
5 by default), which bounds how stale a page can be there.

One render per page. A miss that comes while the same page (the same key) is being rendered for another visitor
waits for that render and is answered from what it stored (``X-Cache: HIT``, counted in `PageCache.joined`)
instead of rendering the page once more: visitors who all ask for a page as it expires, or before it was ever
stored, cost one render, not one each (which would slow every render down and let more pages expire meanwhile,
until the cache serves almost nothing). If that render stores nothing (an error, a page for that visitor only), or
takes longer than the cache's ``seconds``, the waiting visitor renders its own.

Refresh ahead. A page asked for often is rendered again before its entry expires, so that no visitor waits for a
render while the page is popular: the first hit in the last fifth of an entry's life (`PageCache.refresh_share`)
is answered from the entry, and then, in the same request but after its answer has gone, the page is rendered
again and stored, as a miss would be. One refresh per page at a time, and at most `PageCache.max_refreshes`
pages at once (a page due while that many are in flight waits for a later hit); while a page's refresh runs,
other visitors are still answered from the entry, even if it expires meanwhile (``X-Cache: STALE``, for at most
the time of one render).
The entry's freshness bound holds: what is stored was read from the database when its render began.

HTTP. A cached answer carries a strong ``ETag`` (of its bytes) and ``Cache-Control: public, max-age=<seconds>``;
``If-None-Match`` with that tag is answered ``304 Not Modified`` with no body. ``X-Cache`` says ``HIT`` for an
answer served from the cache and ``MISS`` for one rendered and stored; answers not cacheable carry no
``X-Cache``. The cache is the application's outermost middleware (`install`): a hit costs no session, no
rate-limit check and no header rewriting (about a third of the time of a hit behind them); stored answers keep
the security headers the inner middleware set. Memory is bounded: least recently used entries are dropped beyond
`PageCache.max_bytes` of bodies, and a body over `PageCache.max_entry_bytes` is not stored.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import anyio
from sqlalchemy import Engine, event
from starlette.requests import Request

from kiroku.registry.i18n import choose_language
from kiroku.registry.security import CSRF_COOKIE

__all__ = ["PUBLIC_PATHS", "PUBLIC_PREFIXES", "PageCache", "PageCacheMiddleware", "install"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Key = tuple[str, str, str, bytes, str]

PUBLIC_PATHS = frozenset(
    {
        "/", "/index.json", "/index.csv", "/firms", "/firms.json", "/figures", "/figures.json", "/feed.atom",
        "/filings.csv", "/inquiries.json", "/inquiries/stats", "/inquiries/stats.json", "/api/v1/firms",
        "/api/v1/witness",
    }
)  # fmt: skip
"""Public pages that may be cached, by exact path."""
PUBLIC_PREFIXES = ("/firms/", "/filings/", "/api/v1/firms/")
"""Public pages that may be cached, by prefix: a firm, a filing (its twin, document, rendering), a firm's last
witnessed checkpoint."""
SESSION_COOKIE = "kiroku_session"
_READS = ("SELECT", "PRAGMA", "SHOW", "EXPLAIN", "VALUES")
_MIN_TOKEN = 32  # `kiroku.registry.security.csrf_token` replaces shorter cookies
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One stored answer."""

    generation: int
    expires: float
    refresh_at: float
    """When a hit starts rendering the page again (refresh ahead)."""
    etag: str
    headers: list[tuple[bytes, bytes]]
    body: bytes


class PageCache:
    """The stored answers of one application, their generation and their counters."""

    max_bytes = 64 * 1024 * 1024
    """Bodies kept at most, in bytes, before the least recently used are dropped."""
    max_entry_bytes = 8 * 1024 * 1024
    """The largest body stored."""
    refresh_share = 0.2
    """The last share of an entry's life in which a hit renders the page again (refresh ahead)."""
    max_refreshes = 2
    """Pages rendered ahead at once. Renders run in worker threads and hold the GIL: with every due page rendered
    at once (pages cached together fall due together), hits wait behind them on the event loop."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.clock: Callable[[], float] = time.monotonic
        """Where entries' ages are read from (time.monotonic)."""
        self.hits = 0
        self.stores = 0
        self.refreshes = 0
        self.joined = 0
        """Misses answered from another visitor's render of the same page, in flight when they came."""
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._refreshing: set[Key] = set()
        self._rendering: dict[Key, anyio.Event] = {}
        self._bytes = 0
        self._counter = itertools.count(1)  # next() is atomic: writers in worker threads bump it safely
        self.generation = 0
        self._wrote = ("kiroku.page_cache.wrote", id(self))
        self.cache_control = f"public, max-age={max(0, int(seconds))}".encode()

    def invalidate(self) -> None:
        """Forget every stored answer: the database changed."""
        self.generation = next(self._counter)

    def watch(self, engine: Engine) -> None:
        """Invalidate on every write through ``engine``, when it is executed and once it is committed."""

        def executed(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if not statement.lstrip()[:7].upper().startswith(_READS):
                self.invalidate()
                conn.info[self._wrote] = True

        def checked_in(dbapi_connection: Any, record: Any) -> None:
            if record is not None and record.info.pop(self._wrote, False):
                self.invalidate()

        event.listen(engine, "after_cursor_execute", executed)
        event.listen(engine, "checkin", checked_in)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> Entry | None:
        """The answer stored for ``key`` if it may be served: fresh, or expired while it is being refreshed."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.generation != self.generation or (
            entry.expires <= self.clock() and key not in self._refreshing
        ):
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def is_fresh(self, entry: Entry) -> bool:
        """Whether ``entry`` has not expired."""
        return self.clock() < entry.expires

    def claim_refresh(self, key: Key, entry: Entry) -> bool:
        """Whether the caller should render ``key`` again now (its entry is due and no one else is on it); if
        so, call `refreshed` when done."""
        if (
            key in self._refreshing
            or len(self._refreshing) >= self.max_refreshes
            or self.clock() < entry.refresh_at
        ):
            return False
        self._refreshing.add(key)
        return True

    def refreshed(self, key: Key) -> None:
        """The refresh of ``key`` claimed with `claim_refresh` is over (stored or not)."""
        self._refreshing.discard(key)

    def render_in_flight(self, key: Key) -> anyio.Event | None:
        """The event set when the render of ``key`` in flight ends; None (and the caller's render is now the one
        in flight: call `rendered` when done) if there is none."""
        flight = self._rendering.get(key)
        if flight is None:
            self._rendering[key] = anyio.Event()
        return flight

    def rendered(self, key: Key) -> None:
        """The render of ``key`` registered by `render_in_flight` is over (stored or not)."""
        flight = self._rendering.pop(key, None)
        if flight is not None:
            flight.set()

    def put(self, key: Key, generation: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Entry | None:
        """Store an answer rendered in ``generation``; None if it is too large or already out of date."""
        if len(body) > self.max_entry_bytes or generation != self.generation:
            return None
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        now = self.clock()
        refresh_at = now + self.seconds * (1 - self.refresh_share)
        entry = Entry(generation, now + self.seconds, refresh_at, etag, headers, body)
        self._drop(key)
        self._entries[key] = entry
        self._bytes += len(body)
        while self._bytes > self.max_bytes and self._entries:
            self._drop(next(iter(self._entries)))
        self.stores += 1
        return entry

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry.body)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _cookie_names(header: str | None) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            cookies[name] = value
    return cookies


def _public(path: str, query: bytes) -> bool:
    """Whether a GET of ``path?query`` asks for a public page that is no search and holds no secret."""
    if not (path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)):
        return False
    if not query:
        return True
    if b"secret=" in query:
        return False
    return not any(name == "q" and value for name, value in parse_qsl(query.decode("latin-1")))


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


class PageCacheMiddleware:
    """The ASGI middleware serving and storing public answers (see the module docstring)."""

    def __init__(self, app: ASGIApp, cache: PageCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer from the cache, or render (storing what may be shared), or pass through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            try:
                await self.app(scope, receive, send)
            finally:
                self.cache.invalidate()
            return
        key = self._key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        entry = self.cache.get(key)
        if entry is not None:
            self.cache.hits += 1
            refresh = self.cache.claim_refresh(key, entry)
            await self._answer(scope, send, entry, b"HIT" if self.cache.is_fresh(entry) else b"STALE")
            if refresh:
                await self._refresh(scope, key)
            return
        flight = self.cache.render_in_flight(key)
        if flight is None:
            try:
                await self._render(scope, receive, send, key)
            finally:
                self.cache.rendered(key)
            return
        with anyio.move_on_after(self.cache.seconds):  # a render stuck that long is not waited for
            await flight.wait()
        entry = self.cache.get(key)
        if entry is None:  # not stored (an error, a page for that visitor only): this one renders its own
            await self._render(scope, receive, send, key)
            return
        self.cache.hits += 1
        self.cache.joined += 1
        await self._answer(scope, send, entry, b"HIT")

    async def _refresh(self, scope: Scope, key: Key) -> None:
        """Render ``key``'s page again after the visitor's answer has gone, and store it (refresh ahead)."""
        generation = self.cache.generation
        inner: Scope = {
            **scope,
            "headers": [(name, value) for name, value in scope["headers"] if name != b"if-none-match"],
            "state": dict(scope.get("state") or {}),
        }
        start: Message | None = None
        chunks: list[bytes] = []
        asked = False

        async def receive() -> Message:
            nonlocal asked
            if not asked:
                asked = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.disconnect"}

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(inner, receive, capture)
            body = b"".join(chunks)
            if start is not None and start["status"] == 200 and _shareable_headers(start["headers"]):
                headers = _storable(scope, start, body)
                if headers is not None and self.cache.put(key, generation, headers, body) is not None:
                    self.cache.refreshes += 1
        except Exception:  # the visitor has its answer; the next miss renders and reports the error
            _log.exception("refreshing the cached page %s failed", scope["path"])
        finally:
            self.cache.refreshed(key)

    def _key(self, scope: Scope) -> Key | None:
        """The cache key of a cacheable request, or None."""
        if scope["method"] != "GET" or not _public(scope["path"], scope["query_string"]):
            return None
        if any(
            name in (b"authorization", b"content-length", b"transfer-encoding")
            for name, _ in scope["headers"]
        ):
            return None
        if SESSION_COOKIE in _cookie_names(_header(scope, b"cookie")):
            return None
        host = _header(scope, b"host") or ""
        return (scope["scheme"], host, scope["path"], scope["query_string"], choose_language(Request(scope)))

    async def _answer(self, scope: Scope, send: Send, entry: Entry, state: bytes) -> None:
        headers = [
            *entry.headers,
            (b"etag", entry.etag.encode()),
            (b"cache-control", self.cache.cache_control),
            (b"x-cache", state),
        ]
        if _matches(_header(scope, b"if-none-match"), entry.etag):
            kept = [
                (name, value) for name, value in headers if name not in (b"content-length", b"content-type")
            ]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body})

    async def _render(self, scope: Scope, receive: Receive, send: Send, key: Key) -> None:
        """Render the page; store it and answer from the stored copy if it may be shared, else pass it on."""
        generation = self.cache.generation
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        passing = False

        async def flush() -> None:
            nonlocal passing
            passing = True
            if start is not None:
                await send(start)
            if chunks:
                await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})

        async def capture(message: Message) -> None:
            nonlocal start, size
            if passing:
                await send(message)
            elif message["type"] == "http.response.start":
                start = message
                if message["status"] != 200 or not _shareable_headers(message["headers"]):
                    await flush()
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > self.cache.max_entry_bytes:
                    await flush()
                elif not message.get("more_body", False):
                    await self._finish(scope, send, key, generation, start, b"".join(chunks))
            else:
                await flush()
                await send(message)

        await self.app(scope, receive, capture)

    async def _finish(
        self, scope: Scope, send: Send, key: Key, generation: int, start: Message | None, body: bytes
    ) -> None:
        assert start is not None
        headers = _storable(scope, start, body)
        if headers is None:  # a page for this visitor only
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        entry = self.cache.put(key, generation, headers, body)
        if entry is None:  # too large, or the database changed while it was rendered: not stored
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self._answer(scope, send, entry, b"MISS")


def _storable(scope: Scope, start: Message, body: bytes) -> list[tuple[bytes, bytes]] | None:
    """The headers to store a 200 answer with (no cookie, Vary completed); None when its body holds a CSRF
    token, the one it sets or the one the visitor sent, which makes it a page for this visitor only."""
    cookies = [value for name, value in start["headers"] if name == b"set-cookie"]
    tokens = [value.split(b";", 1)[0].partition(b"=")[2] for value in cookies]
    sent = _cookie_names(_header(scope, b"cookie")).get(CSRF_COOKIE, "")
    if len(sent) >= _MIN_TOKEN:
        tokens.append(sent.encode("latin-1"))
    if any(token and token in body for token in tokens):
        return None
    headers = [(name, value) for name, value in start["headers"] if name not in (b"set-cookie", b"vary")]
    headers.append((b"vary", _vary(start["headers"])))
    return headers


def _vary(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The answer's Vary header with Accept-Language and Cookie (the language is chosen from both)."""
    names = {"accept-language": "Accept-Language", "cookie": "Cookie"}
    for name, value in headers:
        if name == b"vary":
            for part in value.decode("latin-1").split(","):
                names.setdefault(part.strip().lower(), part.strip())
    return ", ".join(name for name in names.values() if name).encode("latin-1")


def _shareable_headers(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether an answer with these headers may be stored: no cookie but the CSRF one, no ``no-store``."""
    for name, value in headers:
        if name == b"set-cookie" and not value.startswith(CSRF_COOKIE.encode() + b"="):
            return False
        if name == b"cache-control" and (b"no-store" in value or b"private" in value):
            return False
    return True


def install(app: Any, engine: Engine, seconds: float) -> PageCache | None:
    """Cache ``app``'s public pages for at most ``seconds`` (none if 0), invalidated by writes through
    ``engine``; the cache is ``app.state.page_cache``. Call it after adding every other middleware: the cache is
    the outermost, so that a hit costs no session, rate-limit or header work (answers are stored with the
    security headers the inner middleware set, and searches, which are rate-limited, are not cached)."""
    cache = PageCache(seconds) if seconds > 0 else None
    app.state.page_cache = cache
    if cache is not None:
        cache.watch(engine)
        app.add_middleware(PageCacheMiddleware, cache=cache)
    return cache
