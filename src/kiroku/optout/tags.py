"""Opt-out signals carried by a page itself: X-Robots-Tag and TDMRep headers, and HTML meta tags.

Each signal found is a *reason*, a short string kept with the document so that a rightsholder can be shown which
signal was honoured:

- ``x-robots-tag:noai`` / ``x-robots-tag:noimageai``: the ``X-Robots-Tag`` response header, for all agents or
  for one of the agents the policy names (``X-Robots-Tag: GPTBot: noai``);
- ``meta-robots:noai`` / ``meta-robots:noimageai``: ``<meta name="robots" content="noai">``, or a meta tag named
  after one of the agents (``<meta name="GPTBot" content="noai">``);
- ``tdmrep:reserved``: the TDMRep ``tdm-reservation: 1`` header or ``<meta name="tdm-reservation" content="1">``
  (`kiroku.optout.tdmrep`). Each function here reports what its own part of the response says;
  `kiroku.optout.policy` weighs a page's header, meta tag and the site's ``tdmrep.json`` against each other as
  the TDMRep report orders them (the meta tag supersedes the header, which supersedes the file).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from resiliparse.parse.html import HTMLTree

from kiroku.optout import tdmrep

__all__ = [
    "AI_DIRECTIVES",
    "DEFAULT_AGENTS",
    "DEFAULT_POLICY",
    "OptoutPolicy",
    "header_signals",
    "html_signals",
    "meta_robots_signals",
    "meta_tags",
    "x_robots_signals",
]

AI_DIRECTIVES = ("noai", "noimageai")
# AI-training crawlers whose agent-specific tags count (from the ai.robots.txt project's list; configurable).
DEFAULT_AGENTS = (
    "GPTBot",
    "ClaudeBot",
    "CCBot",
    "Google-Extended",
    "Applebot-Extended",
    "Bytespider",
    "Meta-ExternalAgent",
)


@dataclass(frozen=True)
class OptoutPolicy:
    """What ingest does with opted-out documents: ``drop`` (default) or ``flag``; the agents that count; and
    what a tdmrep.json that cannot be read means: ``reserved`` (default: an unreadable opt-out is never taken as
    permission) or ``unset`` (ignored, as the TDMRep report reads it)."""

    action: str = "drop"
    agents: Sequence[str] = field(default=DEFAULT_AGENTS)
    unreadable_tdmrep: str = "reserved"

    def __post_init__(self) -> None:
        if self.action not in ("drop", "flag"):
            raise ValueError(f"opt-out policy {self.action!r} must be 'drop' or 'flag'")
        if self.unreadable_tdmrep not in ("reserved", "unset"):
            raise ValueError(f"unreadable_tdmrep {self.unreadable_tdmrep!r} must be 'reserved' or 'unset'")

    def keeps(self, reasons: Sequence[str]) -> bool:
        """Whether a document with these opt-out reasons enters the kept set; a blocklisted one never does."""
        if not reasons:
            return True
        return self.action == "flag" and not any(reason.startswith("blocklist:") for reason in reasons)


DEFAULT_POLICY = OptoutPolicy()


def _directives(value: str, agents: set[str]) -> list[str]:
    """Directives of one X-Robots-Tag value that apply to everyone or to one of ``agents``."""
    value = value.strip()
    head, sep, rest = value.partition(":")
    if sep and head.strip() and " " not in head.strip() and "," not in head:
        if head.strip().lower() not in agents:
            return []
        value = rest
    return [part.strip().lower() for part in value.split(",")]


def x_robots_signals(headers: Iterable[tuple[str, str]], policy: OptoutPolicy = DEFAULT_POLICY) -> list[str]:
    """Opt-out reasons from ``X-Robots-Tag`` response headers (name, value pairs; names in any case)."""
    agents = {a.lower() for a in policy.agents}
    reasons = {
        f"x-robots-tag:{d}"
        for name, value in headers
        if name.strip().lower() == "x-robots-tag"
        for d in _directives(value, agents)
        if d in AI_DIRECTIVES
    }
    return sorted(reasons)


def header_signals(headers: Iterable[tuple[str, str]], policy: OptoutPolicy = DEFAULT_POLICY) -> list[str]:
    """Opt-out reasons from HTTP response headers alone: ``X-Robots-Tag`` and TDMRep's ``tdm-reservation``."""
    headers = list(headers)
    reserved = [tdmrep.RESERVED] if tdmrep.header_value(headers) == 1 else []
    return sorted({*x_robots_signals(headers, policy), *reserved})


def meta_tags(html: str | HTMLTree) -> list[tuple[str, str]]:
    """The ``<meta name=... content=...>`` tags of an HTML page (text or parsed) as (lower-case name,
    stripped content) pairs."""
    tree = HTMLTree.parse(html) if isinstance(html, str) else html
    document = tree.document
    if document is None:
        return []
    return [
        ((meta.getattr("name") or "").strip().lower(), (meta.getattr("content") or "").strip())
        for meta in document.query_selector_all("meta[name]")
    ]


def meta_robots_signals(metas: Iterable[tuple[str, str]], policy: OptoutPolicy = DEFAULT_POLICY) -> list[str]:
    """Opt-out reasons from robots meta tags (`meta_tags` pairs): ``robots`` or one of the policy's agents."""
    agents = {a.lower() for a in policy.agents} | {"robots"}
    reasons = {
        f"meta-robots:{d.strip().lower()}"
        for name, content in metas
        if name in agents
        for d in content.split(",")
        if d.strip().lower() in AI_DIRECTIVES
    }
    return sorted(reasons)


def html_signals(html: str | HTMLTree, policy: OptoutPolicy = DEFAULT_POLICY) -> list[str]:
    """Opt-out reasons from an HTML page's meta tags alone (text or parsed): robots ``noai`` / ``noimageai``
    and TDMRep's ``tdm-reservation``."""
    metas = meta_tags(html)
    reserved = [tdmrep.RESERVED] if tdmrep.meta_value(metas) == 1 else []
    return sorted({*meta_robots_signals(metas, policy), *reserved})
