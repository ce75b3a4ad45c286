"""Opt-out signals carried by a page itself: X-Robots-Tag and TDMRep headers, and HTML meta tags.

Each signal found is a *reason*, a short string kept with the document so that a rightsholder can be shown which
signal was honoured:

- ``x-robots-tag:noai`` / ``x-robots-tag:noimageai``: the ``X-Robots-Tag`` response header, for all agents or
  for one of the agents the policy names (``X-Robots-Tag: GPTBot: noai``);
- ``meta-robots:noai`` / ``meta-robots:noimageai``: ``<meta name="robots" content="noai">``, or a meta tag named
  after one of the agents (``<meta name="GPTBot" content="noai">``);
- ``tdmrep:reserved``: the TDMRep ``tdm-reservation: 1`` header or ``<meta name="tdm-reservation" content="1">``
  (W3C TDMRep community group report; the header takes precedence over the meta tag).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from resiliparse.parse.html import HTMLTree

__all__ = [
    "AI_DIRECTIVES",
    "DEFAULT_AGENTS",
    "DEFAULT_POLICY",
    "OptoutPolicy",
    "header_signals",
    "html_signals",
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
    """What ingest does with opted-out documents: ``drop`` (default) or ``flag``; and the agents that count."""

    action: str = "drop"
    agents: Sequence[str] = field(default=DEFAULT_AGENTS)

    def __post_init__(self) -> None:
        if self.action not in ("drop", "flag"):
            raise ValueError(f"opt-out policy {self.action!r} must be 'drop' or 'flag'")

    def keeps(self, reasons: Sequence[str]) -> bool:
        """Whether a document with these opt-out reasons enters the kept set."""
        return not reasons or self.action == "flag"


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


def header_signals(headers: Iterable[tuple[str, str]], policy: OptoutPolicy = DEFAULT_POLICY) -> list[str]:
    """Opt-out reasons from HTTP response headers (name, value pairs; names in any case)."""
    agents = {a.lower() for a in policy.agents}
    reasons: list[str] = []
    for name, value in headers:
        key = name.strip().lower()
        if key == "x-robots-tag":
            reasons += [f"x-robots-tag:{d}" for d in _directives(value, agents) if d in AI_DIRECTIVES]
        elif key == "tdm-reservation" and value.strip() == "1":
            reasons.append("tdmrep:reserved")
    return sorted(set(reasons))


def html_signals(
    html: str, policy: OptoutPolicy = DEFAULT_POLICY, *, tdm_header_seen: bool = False
) -> list[str]:
    """Opt-out reasons from an HTML page's meta tags. A TDMRep header, when present, overrides the meta tag."""
    agents = {a.lower() for a in policy.agents} | {"robots"}
    reasons: set[str] = set()
    document = HTMLTree.parse(html).document
    if document is None:
        return []
    for meta in document.query_selector_all("meta[name]"):
        name = (meta.getattr("name") or "").strip().lower()
        content = (meta.getattr("content") or "").strip()
        if name in agents:
            reasons |= {
                f"meta-robots:{d.strip().lower()}"
                for d in content.split(",")
                if d.strip().lower() in AI_DIRECTIVES
            }
        elif name == "tdm-reservation" and content == "1" and not tdm_header_seen:
            reasons.add("tdmrep:reserved")
    return sorted(reasons)
