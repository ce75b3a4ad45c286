"""Blocklists of domains whose pages are never trained on (sites recognised as infringing, piracy sites).

Japan's draft AI IP Code asks developers to avoid piracy sites, as the EU Code of Practice does for sites
recognised as persistently infringing. A blocklist is a text file the firm keeps or a regulator publishes: one
domain per line, ``#`` starts a comment, blank lines are ignored; ``*.example.org`` and ``.example.org`` are read
as ``example.org``. A page whose host is a listed domain or a subdomain of one carries the reason
``blocklist:<list name>`` and is dropped, whatever the opt-out policy says.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kiroku._textfile import read_user_text

__all__ = ["Blocklist", "BlocklistError", "Blocklists", "check_name"]

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


class BlocklistError(Exception):
    """A blocklist cannot be used; the message names the list, the file and the line."""


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid list name (a slug: a-z, 0-9, ``-``, ``_``); raise ValueError if not."""
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"blocklist name {name!r} must be 1 to 64 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return name


def _ascii_host(host: str) -> str:
    """``host`` in lower case without a trailing dot, internationalised names in their ASCII (IDNA) form."""
    host = host.strip().lower().rstrip(".")
    if not host.isascii():
        with contextlib.suppress(UnicodeError):  # not a valid IDN: compared as it is
            host = host.encode("idna").decode("ascii")
    return host


@dataclass(frozen=True)
class Blocklist:
    """One named list of domains."""

    name: str
    domains: frozenset[str]

    @classmethod
    def load(cls, name: str, path: Path) -> Blocklist:
        """Read the list ``name`` from ``path``; raise `BlocklistError` naming the file (and line) if it is
        missing, unreadable or holds a line that is not a domain name."""
        try:
            check_name(name)
        except ValueError as exc:
            raise BlocklistError(str(exc)) from exc
        text = read_user_text(path, BlocklistError, f"blocklist {name!r}: ", encoding="utf-8-sig")
        domains = set()
        for number, line in enumerate(text.splitlines(), start=1):
            entry = line.partition("#")[0].strip()
            if not entry:
                continue
            domain = _ascii_host(entry.removeprefix("*.").removeprefix("."))
            if not _DOMAIN.fullmatch(domain) or len(domain) > 253:
                raise BlocklistError(
                    f"blocklist {name!r}: {path}: line {number}: {entry!r} is not a domain name "
                    "(one domain per line, # for comments)"
                )
            domains.add(domain)
        return cls(name, frozenset(domains))

    def covers(self, host: str) -> bool:
        """Whether ``host`` is a listed domain or a subdomain of one."""
        labels = _ascii_host(host).split(".")
        return any(".".join(labels[i:]) in self.domains for i in range(len(labels)))


@dataclass(frozen=True)
class Blocklists:
    """Every blocklist of a workspace."""

    lists: tuple[Blocklist, ...] = ()

    @classmethod
    def load(cls, files: Mapping[str, Path]) -> Blocklists:
        """Read the lists named in ``files`` (list name -> path), in name order; see `Blocklist.load`."""
        return cls(tuple(Blocklist.load(name, files[name]) for name in sorted(files)))

    def __bool__(self) -> bool:
        return bool(self.lists)

    def reasons(self, host: str) -> list[str]:
        """``blocklist:<name>`` for each list that covers ``host``."""
        if not self.lists:
            return []
        labels = _ascii_host(host).split(".")
        suffixes = {".".join(labels[i:]) for i in range(len(labels))}
        return [f"blocklist:{bl.name}" for bl in self.lists if not suffixes.isdisjoint(bl.domains)]
