"""Hosts and registrable domains, from the public suffix list bundled in the ``publicsuffixlist`` package.

No network: the list is the snapshot that ships with the installed package.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

__all__ = ["host_of", "registrable_domain"]

_PSL = PublicSuffixList()


def host_of(url: str) -> str | None:
    """The lower-case host of ``url`` without a trailing dot, or None when it has none."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.rstrip(".") or None


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    """The registrable domain (eTLD+1) of ``host``: ``news.example.co.jp`` → ``example.co.jp``.

    An IP address, a bare public suffix or a single-label host (``localhost``) is its own domain.
    """
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    return _PSL.privatesuffix(host) or host
