"""Which URLs a crawl may visit: http(s) only, the seeds' hosts (and ``--allow-host`` ones), a maximum depth,
``--include`` / ``--exclude`` regular expressions; and URL normalisation (fragment dropped, host in lower case,
default port dropped, empty path made ``/``).

Errors: `normalise` raises ``ValueError`` for what is not an absolute http(s) URL; `Scope.create` raises
`CrawlError` for a bad seed or pattern.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from kiroku.crawl.errors import CrawlError

__all__ = ["Scope", "host_of", "normalise"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise(url: str) -> str:
    """``url`` as the crawl knows it: scheme and host in lower case, default port and fragment dropped, ``/``
    for an empty path; raise ValueError for anything but an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"{url!r} is not an http or https URL")
    host = (parts.hostname or "").rstrip(".")
    if not host or any(c.isspace() for c in host):
        raise ValueError(f"{url!r} has no host")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def host_of(url: str) -> str:
    """The host name of a normalised URL (lower case, no port)."""
    return (urlsplit(url).hostname or "").rstrip(".")


@dataclass(frozen=True)
class Scope:
    """The crawl's limits; `reason` says why a URL is out of scope, or None."""

    hosts: frozenset[str]
    max_depth: int
    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def create(
        cls,
        seeds: Sequence[str],
        *,
        allow_hosts: Sequence[str] = (),
        max_depth: int = 3,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
    ) -> Scope:
        """The scope of a crawl from ``seeds``; raise `CrawlError` naming a bad seed or pattern."""
        hosts = set()
        for seed in seeds:
            try:
                hosts.add(host_of(normalise(seed)))
            except ValueError as exc:
                raise CrawlError(f"seed {exc}; give absolute URLs such as https://example.org/") from None
        hosts.update(h.strip().lower().rstrip(".") for h in allow_hosts if h.strip())

        def compile_all(patterns: Sequence[str], option: str) -> tuple[re.Pattern[str], ...]:
            compiled = []
            for pattern in patterns:
                try:
                    compiled.append(re.compile(pattern))
                except re.error as exc:
                    raise CrawlError(
                        f"{option} {pattern!r} is not a regular expression: {exc}; quote it for the shell"
                    ) from None
            return tuple(compiled)

        if max_depth < 0:
            raise CrawlError(f"--max-depth {max_depth} must be 0 (the seeds only) or more")
        return cls(
            frozenset(hosts), max_depth, compile_all(include, "--include"), compile_all(exclude, "--exclude")
        )

    def reason(self, url: str, depth: int) -> str | None:
        """``out-of-scope:host``, ``out-of-scope:depth`` or ``out-of-scope:pattern`` for a normalised URL
        found at ``depth``, or None when the crawl may visit it."""
        if host_of(url) not in self.hosts:
            return "out-of-scope:host"
        if depth > self.max_depth:
            return "out-of-scope:depth"
        if self.include and not any(p.search(url) for p in self.include):
            return "out-of-scope:pattern"
        if any(p.search(url) for p in self.exclude):
            return "out-of-scope:pattern"
        return None
