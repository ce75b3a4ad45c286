"""The crawl itself: a breadth-first frontier, one worker (one connection) per host, every decision logged.

Before the first page of an origin, its robots.txt is fetched (`kiroku.optout.fetch.fetch_robots`) and reused
for up to 24 hours (RFC 9309 section 2.4); every page is decided by it for the crawler's product token
(`kiroku.optout.robots.decide`, `robots_allowed_all`). The origin's ``/.well-known/tdmrep.json`` is fetched once,
before its first allowed page; a page it reserves is not fetched, and a file that cannot be read reserves every
page of the origin unless ``unreadable_tdmrep="unset"`` (the TDMRep report's reading). After a page is fetched,
its ``X-Robots-Tag``, robots meta tags and TDMRep header and meta tag are evaluated (`kiroku.optout.tags`,
`kiroku.optout.tdmrep.reservation`): an opted-out page stays in the WARC (ingest records the reason) but its
links are not followed. Redirects are followed by hand: each hop goes back to the frontier and is checked
against the scope and robots.txt before it is requested.

Politeness: each host has one worker, so at most one request to it at a time; consecutive requests are spaced
by the robots.txt ``Crawl-delay`` for the crawler's agent, else by ``delay``. A 429 waits for ``Retry-After``
(seconds or an HTTP date, capped), a 5xx backs off exponentially, both a limited number of times, after which
the URL is recorded as skipped with ``http:<status>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpx
from resiliparse.parse.encoding import bytes_to_str, detect_encoding
from resiliparse.parse.html import HTMLTree

from kiroku import __version__
from kiroku.crawl.decisions import DecisionLog
from kiroku.crawl.errors import CrawlError
from kiroku.crawl.scope import Scope, host_of, normalise
from kiroku.crawl.warc import WarcOutput
from kiroku.optout import fetch as fetching
from kiroku.optout import tdmrep
from kiroku.optout.fetch import Exchange, SiteFile, robots_allowed_all
from kiroku.optout.robots import crawl_delay, decide
from kiroku.optout.sites import TDMREP_PATH
from kiroku.optout.tags import DEFAULT_POLICY, OptoutPolicy, meta_robots_signals, meta_tags, x_robots_signals

__all__ = ["CrawlResult", "CrawlSettings", "Crawler", "new_crawl_id", "user_agent_for"]

_HTML_TYPES = ("text/html", "application/xhtml+xml")
ROBOTS_MAX_AGE = 24 * 3600.0


def user_agent_for(agent: str) -> str:
    """The ``User-Agent`` header of a crawler whose robots.txt product token is ``agent``."""
    return f"{agent}/{__version__} (+https://github.com/kiroku; kiroku crawler)"


def new_crawl_id() -> str:
    """A crawl id: the UTC start time and a short random suffix (``20260501T120000Z-3fa2c1``)."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class CrawlSettings:
    """Everything a crawl is run with."""

    agent: str
    seeds: tuple[str, ...]
    scope: Scope
    max_pages: int
    delay: float = 1.0
    max_crawl_delay: float = 60.0
    """A site whose robots.txt asks for a longer Crawl-delay is not crawled (``crawl-delay``), never crawled
    faster than it asks."""
    resolve: tuple[tuple[str, int, str], ...] = ()
    http2: bool = True
    unreadable_tdmrep: Literal["reserved", "unset"] = "reserved"
    max_redirects: int = 5
    max_body: int = 10 * 1024 * 1024
    retries: int = 3
    retry_base: float = 1.0
    max_retry_after: float = 120.0
    warc_max_bytes: int = 1 << 30
    timeout: float = 10.0
    policy: OptoutPolicy = DEFAULT_POLICY
    operator: str = ""

    @property
    def user_agent(self) -> str:
        """The full ``User-Agent`` header sent."""
        return user_agent_for(self.agent)


@dataclass
class CrawlResult:
    """What a finished crawl wrote and counted."""

    crawl_id: str
    folder: Path
    warc_files: list[Path]
    decision_log: Path
    started: datetime
    ended: datetime
    hosts: list[str]
    pages_fetched: int
    skips: dict[str, int]
    robots_fetches: int
    pages_with_fresh_robots: int
    pages_with_robots: int


@dataclass(order=True)
class _Item:
    depth: int
    seq: int
    url: str = field(compare=False)
    chain: tuple[str, ...] = field(compare=False, default=())


@dataclass
class _Origin:
    robots: SiteFile | None = None
    robots_at: float = -math.inf  # monotonic time of the fetch
    delay: float = 1.0
    tdmrep_done: bool = False
    tdm_file: tdmrep.TdmRepFile | None = None
    tdm_unreadable: str | None = None  # why the file could not be read


@dataclass
class _Host:
    queue: asyncio.PriorityQueue[_Item]
    origins: dict[str, _Origin] = field(default_factory=dict)
    last: float = -math.inf  # monotonic time the last response to this host ended


def _retry_after(value: str | None, cap: float) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), capped at ``cap``; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), cap)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), cap)


def _nofollow(headers: list[tuple[str, str]], metas: list[tuple[str, str]], agent: str) -> bool:
    """Whether ``X-Robots-Tag`` or a robots meta tag (for everyone or for ``agent``) says nofollow or none."""
    names = {"robots", agent.lower()}
    for name, value in headers:
        if name.lower() != "x-robots-tag":
            continue
        head, sep, rest = value.partition(":")
        if sep and head.strip().lower() not in ("", *names) and " " not in head.strip():
            continue
        directives = rest if sep and head.strip().lower() in names else value
        if {"nofollow", "none"} & {d.strip().lower() for d in directives.split(",")}:
            return True
    return any(
        name in names and {"nofollow", "none"} & {d.strip().lower() for d in content.split(",")}
        for name, content in metas
    )


@functools.lru_cache(maxsize=1 << 14)
def _resolved(base: str, href: str) -> str | None:
    """``href`` made absolute against ``base`` and normalised; None for what is not an http(s) URL (mailto:,
    javascript:, malformed). Cached: the pages of a site repeat most of their links."""
    try:
        return normalise(urljoin(base, href))
    except ValueError:
        return None


def _links(base_url: str, tree: HTMLTree) -> list[str]:
    document = tree.document
    if document is None:
        return []
    base = base_url
    element = document.query_selector("base[href]")
    if element is not None:
        with contextlib.suppress(ValueError):  # a malformed <base href="http://[..."> is ignored
            base = urljoin(base_url, (element.getattr("href") or "").strip())
    # a link with a path from the root or a host of its own resolves the same against the base's origin, so
    # the cache of resolved links is keyed by the origin for those, shared by every page of the site
    parts = urlsplit(base)
    origin = (
        f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else base
    )
    found = []
    # values() builds the list once: iterating the collection itself fetches item i afresh for each i, which is
    # quadratic in the links of the page (5 ms for a page of 17 links, 0.1 ms with values())
    for element in document.query_selector_all("a[href], area[href]").values():
        href = (element.getattr("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        url = _resolved(origin if href.startswith(("/", "http://", "https://")) else base, href)
        if url is not None:
            found.append(url)
    return found


class Crawler:
    """Crawls with ``settings`` into ``folder`` (WARC files, ``decisions.jsonl.gz``); `run` does it."""

    def __init__(
        self,
        settings: CrawlSettings,
        folder: Path,
        crawl_id: str,
        *,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        if settings.max_pages < 1:
            raise CrawlError(f"--max-pages {settings.max_pages} must be at least 1")
        if settings.delay < 0 or not math.isfinite(settings.delay):
            raise CrawlError(f"--delay {settings.delay} must be 0 or more seconds")
        if settings.max_crawl_delay < 0 or math.isnan(settings.max_crawl_delay):
            raise CrawlError(f"--max-crawl-delay {settings.max_crawl_delay} must be 0 or more seconds")
        self.settings = settings
        self.folder = folder
        self.crawl_id = crawl_id
        self.on_progress = on_progress
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CrawlError(f"cannot create the crawl folder {folder}: {exc.strerror}") from exc
        self.log = DecisionLog(folder / "decisions.jsonl.gz")
        self.warc = WarcOutput(
            folder,
            crawl_id,
            {
                "software": f"kiroku/{__version__}",
                "http-header-user-agent": settings.user_agent,
                "robots": "obey",
                "operator": settings.operator or "unknown",
                "description": f"kiroku crawl {crawl_id} from {', '.join(settings.seeds)}",
                "isPartOf": crawl_id,
                "format": "WARC File Format 1.0",
            },
            max_bytes=settings.warc_max_bytes,
        )
        self._hosts: dict[str, _Host] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._seen: set[str] = set()
        self._seq = itertools.count()
        self._pending = 0
        self._idle = asyncio.Event()
        self._reserved = 0  # page requests started or done, against max_pages
        self._http: httpx.AsyncClient | None = None

    # -- the frontier -------------------------------------------------------------------------------------

    def _decide(self, url: str, outcome: str, reason: str, **fields: object) -> None:
        self.log.write(url, outcome, reason, **fields)
        if self.on_progress:
            self.on_progress(self.log.tally.fetched, sum(self.log.tally.skips.values()))

    def _enqueue(self, url: str, depth: int, chain: tuple[str, ...] = ()) -> None:
        if url in self._seen:
            return
        self._seen.add(url)
        reason = self.settings.scope.reason(url, depth)
        if reason is not None:
            self._decide(url, "skipped", reason, depth=depth, redirected_from=chain[-1] if chain else None)
            return
        host_name = host_of(url)
        host = self._hosts.get(host_name)
        if host is None:
            host = self._hosts[host_name] = _Host(asyncio.PriorityQueue())
            self._workers.append(asyncio.create_task(self._worker(host)))
        self._pending += 1
        self._idle.clear()
        host.queue.put_nowait(_Item(depth, next(self._seq), url, chain))

    async def _worker(self, host: _Host) -> None:
        while True:
            item = await host.queue.get()
            try:
                await self._visit(host, item)
            finally:
                self._pending -= 1
                if self._pending == 0:
                    self._idle.set()

    async def run(self) -> CrawlResult:
        """Crawl until the frontier is empty or ``max_pages`` pages were fetched; write every file."""
        started = datetime.now(UTC)
        seeds = []
        for seed in self.settings.seeds:
            try:
                seeds.append(normalise(seed))
            except ValueError as exc:
                raise CrawlError(f"seed {exc}; give absolute URLs such as https://example.org/") from None
        try:
            async with fetching.client(
                user_agent=self.settings.user_agent,
                resolve=self.settings.resolve,
                http2=self.settings.http2,
                timeout=self.settings.timeout,
            ) as http:
                self._http = http
                for seed in seeds:
                    self._enqueue(seed, 0)
                if self._pending:
                    await self._idle.wait()
        finally:
            for worker in self._workers:
                worker.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
            self.warc.close()
            self.log.close()
        return CrawlResult(
            crawl_id=self.crawl_id,
            folder=self.folder,
            warc_files=list(self.warc.files),
            decision_log=self.log.path,
            started=started,
            ended=datetime.now(UTC),
            hosts=sorted(self._hosts),
            pages_fetched=self.log.tally.fetched,
            skips=dict(sorted(self.log.tally.skips.items())),
            robots_fetches=self.log.tally.robots_fetches,
            pages_with_fresh_robots=self.log.tally.fresh_robots,
            pages_with_robots=self.log.tally.decided_with_robots,
        )

    # -- requests ------------------------------------------------------------------------------------------

    async def _request(self, host: _Host, url: str, delay: float, limit: int) -> Exchange:
        """One GET, spaced from the previous request to the host by ``delay``."""
        wait = host.last + delay - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        assert self._http is not None
        try:
            return await fetching.fetch(self._http, url, limit=limit)
        finally:
            host.last = time.monotonic()

    async def _site_file(self, host: _Host, url: str, delay: float, limit: int) -> SiteFile:
        """A site file with up to five redirects, each hop spaced as a page is."""

        async def get(target: str, size: int) -> Exchange:
            return await self._request(host, target, delay, size)

        return await fetching.fetch_site_file(url, limit=limit, get=get)

    async def _origin(self, host: _Host, url: str) -> tuple[str, _Origin]:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        origin = host.origins.setdefault(key, _Origin(delay=self.settings.delay))
        if time.monotonic() - origin.robots_at > ROBOTS_MAX_AGE:
            robots = await self._site_file(host, key + "/robots.txt", origin.delay, fetching.MAX_ROBOTS_BYTES)
            origin.robots, origin.robots_at = robots, time.monotonic()
            warc = self.warc.write(robots.exchanges, (key, "robots"))
            delay = (
                crawl_delay(robots.text, self.settings.agent) if robots_allowed_all(robots) is None else None
            )
            origin.delay = self.settings.delay if delay is None else delay
            self._decide(
                robots.url,
                "fetched" if robots.status is not None else "skipped",
                f"http:{robots.status}" if robots.status is not None else _network(robots.error),
                kind="robots",
                status=robots.status,
                detail=robots.error,
                redirects=robots.redirects or None,
                truncated=robots.truncated or None,
                crawl_delay=delay,
                warc=warc.name,
            )
        return key, origin

    async def _tdm_value(self, host: _Host, key: str, origin: _Origin, url: str) -> tuple[int | None, str]:
        """The origin's tdmrep.json value for ``url`` (fetching the file the first time) and where it came
        from."""
        if not origin.tdmrep_done:
            origin.tdmrep_done = True
            target = key + TDMREP_PATH
            robots = origin.robots
            assert robots is not None
            allowed = robots_allowed_all(robots)
            if allowed is None:
                allowed = decide(robots.text, self.settings.agent, target).allowed
            if not allowed:
                self._decide(target, "skipped", f"robots:{self.settings.agent}", kind="tdmrep")
                return None, ""
            got = await self._site_file(host, target, origin.delay, fetching.MAX_TDMREP_BYTES)
            warc = self.warc.write(got.exchanges, (key, "tdmrep"))
            if got.status is not None and 200 <= got.status <= 299 and got.error is None:
                try:
                    origin.tdm_file = tdmrep.TdmRepFile.parse(got.body)
                except tdmrep.TdmRepError as exc:
                    origin.tdm_unreadable = f"{got.final_url}: {exc}"
            elif got.status is None or got.status >= 500 or got.error is not None:
                origin.tdm_unreadable = f"{got.final_url}: {got.error or f'HTTP {got.status}'}"
            self._decide(
                target,
                "fetched" if got.status is not None else "skipped",
                f"http:{got.status}" if got.status is not None else _network(got.error),
                kind="tdmrep",
                status=got.status,
                detail=origin.tdm_unreadable,
                warc=warc.name,
            )
        if origin.tdm_unreadable is not None:
            if self.settings.unreadable_tdmrep == "reserved":
                return 1, f"unreadable tdmrep.json read as reserved: {origin.tdm_unreadable}"
            return None, ""
        if origin.tdm_file is None:
            return None, ""
        rule = origin.tdm_file.rule_for(url)
        if rule is None:
            return None, ""
        return rule.reservation, f"{key}{TDMREP_PATH}: location {rule.location!r}"

    async def _visit(self, host: _Host, item: _Item) -> None:
        url, depth = item.url, item.depth
        if self._reserved >= self.settings.max_pages:
            self._decide(url, "skipped", "max-pages", depth=depth)
            return
        key, origin = await self._origin(host, url)
        robots = origin.robots
        assert robots is not None
        age = round(time.monotonic() - origin.robots_at, 3)
        agent_reason = f"robots:{self.settings.agent}"
        allowed_all = robots_allowed_all(robots)
        if allowed_all is False:
            why = robots.error or f"HTTP {robots.status}"
            self._decide(
                url,
                "skipped",
                f"robots-unavailable:{self.settings.agent}",
                depth=depth,
                robots_age=age,
                detail=f"robots.txt unreachable ({why}): everything disallowed (RFC 9309 section 2.3.1.4)",
            )
            return
        if allowed_all is None:
            decision = decide(robots.text, self.settings.agent, url)
            if not decision.allowed:
                self._decide(
                    url,
                    "skipped",
                    agent_reason,
                    depth=depth,
                    robots_age=age,
                    robots_line=decision.matched_line,
                    robots_line_number=decision.line_number,
                    detail=decision.reason,
                )
                return
        if origin.delay > self.settings.max_crawl_delay:
            self._decide(
                url,
                "skipped",
                "crawl-delay",
                depth=depth,
                robots_age=age,
                detail=f"robots.txt asks for a Crawl-delay of {origin.delay:g} s, more than this crawl's "
                f"maximum of {self.settings.max_crawl_delay:g} s (--max-crawl-delay): not crawled rather than "
                "crawled faster",
            )
            return
        file_value, where = await self._tdm_value(host, key, origin, url)
        if file_value == 1:
            self._decide(url, "skipped", tdmrep.RESERVED, depth=depth, robots_age=age, detail=where)
            return
        self._reserved += 1
        exchange = await self._fetch_page(host, origin, url, depth, age)
        if exchange is None:
            self._reserved -= 1
            return
        location = exchange.location
        warc_name = self.warc.current.name if self.warc.current else None
        if location is not None:
            self._reserved -= 1
            self._redirect(url, location, item, exchange, age, warc_name)
            return
        assert exchange.status is not None
        self._page(url, depth, exchange, file_value, age, warc_name)

    async def _fetch_page(
        self, host: _Host, origin: _Origin, url: str, depth: int, age: float
    ) -> Exchange | None:
        """GET a page with retries on 429 and 5xx; every attempt goes to the WARC. None when it failed (and
        the decision is recorded)."""
        settings = self.settings
        for attempt in range(settings.retries + 1):
            exchange = await self._request(host, url, origin.delay, settings.max_body)
            if exchange.status is None:
                self._decide(
                    url,
                    "skipped",
                    _network(exchange.error),
                    depth=depth,
                    robots_age=age,
                    detail=exchange.error,
                )
                return None
            warc = self.warc.write([exchange])
            status = exchange.status
            if status != 429 and status < 500:
                return exchange
            if attempt == settings.retries:
                self._decide(
                    url,
                    "skipped",
                    f"http:{status}",
                    depth=depth,
                    robots_age=age,
                    status=status,
                    detail=f"still HTTP {status} after {settings.retries} retries",
                    warc=warc.name,
                )
                return None
            wait = settings.retry_base * 2**attempt
            if status == 429:
                after = _retry_after(exchange.header("retry-after"), settings.max_retry_after)
                wait = after if after is not None else wait
            # the next request waits for the host's delay too; this makes it wait at least ``wait``
            host.last = max(host.last, time.monotonic() + wait - origin.delay)
        return None  # pragma: no cover - the loop always returns

    def _redirect(
        self, url: str, location: str, item: _Item, exchange: Exchange, age: float, warc: str | None
    ) -> None:
        self._decide(
            url,
            "fetched",
            f"http:{exchange.status}",
            kind="redirect",
            depth=item.depth,
            status=exchange.status,
            location=location,
            robots_age=age,
            warc=warc,
        )
        try:
            target = normalise(location)
        except ValueError:
            self._decide(location, "skipped", "not-http", depth=item.depth, redirected_from=url)
            return
        chain = (*item.chain, url)
        if target in chain:
            self._decide(target, "skipped", "redirect-loop", depth=item.depth, redirected_from=url)
            return
        if len(chain) > self.settings.max_redirects:
            self._decide(
                target,
                "skipped",
                "too-many-redirects",
                depth=item.depth,
                redirected_from=url,
                detail=f"more than {self.settings.max_redirects} redirects from {chain[0]}",
            )
            return
        self._enqueue(target, item.depth, chain)

    def _page(
        self, url: str, depth: int, exchange: Exchange, file_value: int | None, age: float, warc: str | None
    ) -> None:
        status = exchange.status
        content_type = (exchange.header("content-type") or "").split(";", 1)[0].strip().lower()
        is_html = content_type in _HTML_TYPES
        optout: list[str] = []
        links: list[str] = []
        nofollow = False
        if status is not None and 200 <= status <= 299:
            metas: list[tuple[str, str]] = []
            tree = None
            if is_html:
                body = exchange.body
                charset = (
                    (exchange.header("content-type") or "").lower().partition("charset=")[2].strip(" \"'")
                )
                tree = HTMLTree.parse(bytes_to_str(body, charset or detect_encoding(body) or "utf-8"))
                metas = meta_tags(tree)
            headers = exchange.headers
            optout = sorted(
                {
                    *x_robots_signals(headers, self.settings.policy),
                    *meta_robots_signals(metas, self.settings.policy),
                }
            )
            value = tdmrep.reservation(file_value, tdmrep.header_value(headers), tdmrep.meta_value(metas))
            if value == 1:
                optout = sorted({*optout, tdmrep.RESERVED})
            nofollow = _nofollow(headers, metas, self.settings.agent)
            if tree is not None and not optout and not nofollow:
                links = _links(url, tree)
        reason = optout[0] if optout else ("not-html" if status == 200 and not is_html else f"http:{status}")
        self._decide(
            url,
            "fetched",
            reason,
            depth=depth,
            status=status,
            robots_age=age,
            optout=optout or None,
            nofollow=nofollow or None,
            links_followed=bool(links),
            truncated=exchange.truncated or None,
            warc=warc,
        )
        for link in links:
            self._enqueue(link, depth + 1)


def _network(error: str | None) -> str:
    """``network:<ExceptionName>`` from a fetch's error text."""
    return f"network:{(error or 'error').split(':', 1)[0]}"
