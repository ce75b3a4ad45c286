"""Hosts and registrable domains, from the public suffix list bundled in the ``publicsuffixlist`` package.

No network: the list is the snapshot that ships with the installed package.
"""

from __future__ import annotations

import contextlib
import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

import idna
from publicsuffixlist import PublicSuffixList

__all__ = ["host_of", "registrable_domain"]

_PSL = PublicSuffixList()


def host_of(url: str) -> str | None:
    """The lower-case host of ``url`` without a trailing dot, in punycode, or None when it has none.

    An internationalised host (``https://例え.jp/``, as IRIs in datasets carry it) is stored as its punycode
    (``xn--r8jz45g.jp``, IDNA 2008 with UTS #46 mapping), the form every question about it is normalised to.
    """
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    if not host.isascii():
        with contextlib.suppress(idna.IDNAError):  # not a valid name: kept as written, no question reaches it
            host = idna.encode(host, uts46=True).decode("ascii")
    return host or None


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
