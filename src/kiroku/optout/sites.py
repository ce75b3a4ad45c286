"""Site-wide opt-out files as a crawl captured them: robots.txt and TDMRep's ``/.well-known/tdmrep.json``.

`SiteSignals` holds, for each origin (scheme, host, port), every capture of those two files with its time and
HTTP status, and answers for a page: which agents its origin's robots.txt disallows (`robots_reasons`) and what
its origin's ``tdmrep.json`` says (`tdm_reservation`).

Which capture applies when a file was captured more than once: the latest capture not after the page's fetch
time, else (every capture is later than the page) the earliest. The same rule picks the capture at the end of a
redirect.

robots.txt is decided by `kiroku.optout.robots` (RFC 9309): a 2xx capture by its body (the first 500 KiB, the
least RFC 9309 section 2.5 asks a crawler to parse), other statuses by `allowed_for_status` (4xx: everything
allowed; 5xx: everything disallowed). A 3xx capture is followed to the robots.txt its ``Location`` names when
that was captured too, up to five redirects (RFC 9309 section 2.3.1.2); a redirect whose target was not captured
leaves the robots.txt unknown, which `allowed_for_status` reads as disallowing everything.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar
from urllib.parse import urljoin, urlsplit

from kiroku.optout.robots import allowed_for_status, group_for, is_allowed
from kiroku.optout.tdmrep import TdmRepError, TdmRepFile

__all__ = ["ROBOTS_PATH", "TDMREP_PATH", "Origin", "SiteSignals", "origin_of", "site_file_of"]

ROBOTS_PATH = "/robots.txt"
TDMREP_PATH = "/.well-known/tdmrep.json"
MAX_ROBOTS_BYTES = 500 * 1024
MAX_REDIRECTS = 5
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]
"""An origin: scheme, host (lower case), port."""

T = TypeVar("T")


def origin_of(url: str) -> Origin | None:
    """The origin of an absolute http(s) URL, or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    return scheme, host, port or _DEFAULT_PORTS[scheme]


def site_file_of(url: str) -> str | None:
    """``"robots"`` or ``"tdmrep"`` when ``url`` is a site's robots.txt or tdmrep.json, else None."""
    if not url.endswith((ROBOTS_PATH, TDMREP_PATH)) and "?" not in url:
        return None
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return None
    return "robots" if path == ROBOTS_PATH else "tdmrep" if path == TDMREP_PATH else None


@dataclass(frozen=True, slots=True)
class _RobotsCapture:
    status: int
    body: str  # the robots.txt, for a 2xx capture
    location: str | None  # where a 3xx capture redirects to, absolute


@dataclass(frozen=True, slots=True)
class _TdmRepCapture:
    file: TdmRepFile | None  # None when not 2xx or malformed
    unreadable: bool = False  # a 2xx body that is not a tdmrep.json, read as reserving everything


@dataclass
class _Captures(Generic[T]):
    """Captures of one file of one origin, in time order."""

    times: list[datetime] = field(default_factory=list)
    items: list[T] = field(default_factory=list)

    def add(self, time: datetime, item: T) -> None:
        at = bisect.bisect_right(self.times, time)
        self.times.insert(at, time)
        self.items.insert(at, item)


def _choose(captures: list[_Captures[T]], time: datetime | None) -> T | None:
    """The capture that applies at ``time``: the latest not after it, else the earliest (across ``captures``)."""
    best: tuple[datetime, T] | None = None
    earliest: tuple[datetime, T] | None = None
    for group in captures:
        if not group.times:
            continue
        if earliest is None or group.times[0] < earliest[0]:
            earliest = (group.times[0], group.items[0])
        at = len(group.times) if time is None else bisect.bisect_right(group.times, time)
        if at and (best is None or group.times[at - 1] >= best[0]):
            best = (group.times[at - 1], group.items[at - 1])
    chosen = best or earliest
    return chosen[1] if chosen else None


class SiteSignals:
    """Captured robots.txt and tdmrep.json files by origin; ``base`` adds another set's captures (a robots
    WARC read once for several crawl files) without copying them. ``unreadable_tdmrep`` is what a tdmrep.json
    that cannot be parsed means: ``reserved`` (default, fail-closed) or ``unset`` (ignored, the TDMRep report's
    reading)."""

    def __init__(self, base: SiteSignals | None = None, unreadable_tdmrep: str = "reserved") -> None:
        if unreadable_tdmrep not in ("reserved", "unset"):
            raise ValueError(f"unreadable_tdmrep {unreadable_tdmrep!r} must be 'reserved' or 'unset'")
        self.base = base
        self.unreadable_tdmrep = unreadable_tdmrep
        self._robots: dict[Origin, _Captures[_RobotsCapture]] = {}
        self._tdmrep: dict[Origin, _Captures[_TdmRepCapture]] = {}
        self._bodies: dict[str, str] = {}  # one copy of each distinct robots.txt
        self.ignored: list[str] = []
        """One line per capture left out, saying which and why (a malformed tdmrep.json, an undecodable body)."""

    # -- adding captures ----------------------------------------------------------------------------------

    def add_robots(
        self, url: str, time: datetime, status: int, body: bytes, location: str | None = None
    ) -> None:
        """Add a capture of ``url`` (a robots.txt) fetched at ``time`` with HTTP ``status``: its decoded body,
        and for a redirect its ``Location`` header."""
        origin = origin_of(url)
        if origin is None:
            return
        text = ""
        if 200 <= status <= 299:
            text = body[:MAX_ROBOTS_BYTES].decode("utf-8", "surrogateescape")
            text = self._bodies.setdefault(text, text)
        target = urljoin(url, location.strip()) if location and 300 <= status <= 399 else None
        self._robots.setdefault(origin, _Captures()).add(time, _RobotsCapture(status, text, target))

    def add_tdmrep(self, url: str, time: datetime, status: int, body: bytes) -> None:
        """Add a capture of ``url`` (a tdmrep.json); a malformed 2xx body is noted in `ignored` and reserves
        every page of its origin (``unreadable_tdmrep = "reserved"``) or counts as no file (``"unset"``)."""
        origin = origin_of(url)
        if origin is None:
            return
        file = None
        unreadable = False
        if 200 <= status <= 299:
            try:
                file = TdmRepFile.parse(body)
            except TdmRepError as exc:
                unreadable = self.unreadable_tdmrep == "reserved"
                reading = "read as reserving every page" if unreadable else "ignored"
                self.ignored.append(
                    f"{url} (captured {time.isoformat()}): malformed tdmrep.json {reading}: {exc}"
                )
        self._tdmrep.setdefault(origin, _Captures()).add(time, _TdmRepCapture(file, unreadable))

    def note_ignored(self, url: str, time: datetime, why: str) -> None:
        """Record that a capture of ``url`` was left out, and why."""
        self.ignored.append(f"{url} (captured {time.isoformat()}): {why}")

    # -- reading ------------------------------------------------------------------------------------------

    def _robots_captures(self, origin: Origin) -> list[_Captures[_RobotsCapture]]:
        found = [self._robots[origin]] if origin in self._robots else []
        return found + (self.base._robots_captures(origin) if self.base else [])

    def _tdmrep_captures(self, origin: Origin) -> list[_Captures[_TdmRepCapture]]:
        found = [self._tdmrep[origin]] if origin in self._tdmrep else []
        return found + (self.base._tdmrep_captures(origin) if self.base else [])

    @property
    def robots_origins(self) -> int:
        """Origins with a captured robots.txt, this set's and its base's together."""
        return len(self._origins("_robots"))

    @property
    def tdmrep_origins(self) -> int:
        """Origins with a captured tdmrep.json, this set's and its base's together."""
        return len(self._origins("_tdmrep"))

    def _origins(self, attribute: str) -> set[Origin]:
        own: set[Origin] = set(getattr(self, attribute))
        return own | (self.base._origins(attribute) if self.base else set())

    def _robots_for(self, origin: Origin, time: datetime | None) -> _RobotsCapture | None:
        """The capture that applies, after following captured redirects."""
        capture = _choose(self._robots_captures(origin), time)
        for _ in range(MAX_REDIRECTS):
            if capture is None or capture.location is None:
                return capture
            target = origin_of(capture.location)
            if target is None or site_file_of(capture.location) != "robots":
                return capture
            followed = _choose(self._robots_captures(target), time)
            if followed is None:
                return capture
            capture = followed
        if capture is not None and capture.location is not None:
            return _RobotsCapture(404, "", None)  # more than five redirects: "unavailable" (RFC 9309 2.3.1.2)
        return capture

    def robots_reasons(self, url: str, time: datetime | None, agents: tuple[str, ...]) -> list[str]:
        """``robots:<agent>`` for each of ``agents`` that the robots.txt of ``url``'s origin (the capture that
        applies at ``time``) disallows; nothing when no robots.txt of that origin was captured."""
        origin = origin_of(url)
        capture = self._robots_for(origin, time) if origin else None
        if capture is None:
            return []
        allowed = allowed_for_status(capture.status)
        if allowed is not None:
            return [] if allowed else [f"robots:{agent}" for agent in agents]
        decided: dict[str, bool] = {"": True}  # per group: most agents share the '*' group
        reasons = []
        for agent in agents:
            group = group_for(capture.body, agent)
            if group not in decided:
                decided[group] = is_allowed(capture.body, agent, url)
            if not decided[group]:
                reasons.append(f"robots:{agent}")
        return reasons

    def tdm_reservation(self, url: str, time: datetime | None) -> int | None:
        """``tdm-reservation`` for ``url`` by its origin's tdmrep.json (the capture that applies at ``time``):
        0, 1 (also for a malformed file read as reserved), or None (no file captured, not found, malformed and
        read as unset, or no rule for this URL)."""
        origin = origin_of(url)
        capture = _choose(self._tdmrep_captures(origin), time) if origin else None
        if capture is not None and capture.unreadable:
            return 1
        if capture is None or capture.file is None:
            return None
        return capture.file.value_for(url)
