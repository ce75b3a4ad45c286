"""One verdict from all of a page's opt-out signals, and the policy that turns it into kept or dropped.

A page's reasons, each kept with its document so that a rightsholder can be shown which signal was honoured:

- ``robots:<Agent>``: the robots.txt of the page's origin, as captured (`kiroku.optout.sites`), disallows the
  page for ``Agent``: the crawler's own product token or one of the AI-training agents of the policy;
- ``x-robots-tag:noai`` / ``x-robots-tag:noimageai`` and ``meta-robots:noai`` / ``meta-robots:noimageai``
  (`kiroku.optout.tags`);
- ``tdmrep:reserved``: TDMRep's ``tdm-reservation`` is 1 after weighing the site's ``tdmrep.json``, the
  response header and the HTML meta tag as the report orders them (`kiroku.optout.tdmrep.reservation`).

Blocklists (`kiroku.optout.blocklist`) add ``blocklist:<name>`` at ingest, for every input with URLs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from kiroku.optout import tdmrep
from kiroku.optout.sites import SiteSignals
from kiroku.optout.tags import (
    DEFAULT_POLICY,
    OptoutPolicy,
    meta_robots_signals,
    x_robots_signals,
)

__all__ = ["OptoutEvaluator", "OptoutPolicy", "Verdict", "crawler_token"]

_PRODUCT = re.compile(r"(?<![^\s(;])([A-Za-z_-]+)/[^\s;()]+")
_BARE_TOKEN = re.compile(r"[A-Za-z_-]+")
# Products that browsers (and crawlers dressed as browsers) name in their User-Agent before their own.
_BROWSER_PRODUCTS = frozenset(
    [
        "mozilla",
        "applewebkit",
        "khtml",
        "gecko",
        "chrome",
        "chromium",
        "headlesschrome",
        "safari",
        "version",
        "mobile",
        "firefox",
        "edg",
        "edge",
        "opr",
        "opera",
        "trident",
        "msie",
    ]
)


def crawler_token(user_agent: str) -> str | None:
    """The product token a crawler's ``User-Agent`` header names it by, for matching robots.txt groups.

    ``CCBot/2.0 (https://commoncrawl.org/faq/)`` -> ``CCBot``; ``Mozilla/5.0 (compatible; Googlebot/2.1;
    +http://www.google.com/bot.html)`` -> ``Googlebot`` (the first product, outside or inside the comment, that
    is not a browser's); a bare token is itself. None when nothing in it can be a product token.
    """
    user_agent = user_agent.strip()
    if _BARE_TOKEN.fullmatch(user_agent):
        return user_agent
    for match in _PRODUCT.finditer(user_agent):
        if match.group(1).lower() not in _BROWSER_PRODUCTS:
            return match.group(1)
    return None


@dataclass(frozen=True)
class Verdict:
    """The opt-out reasons found for one page (sorted, distinct) and whether it enters the kept set."""

    reasons: tuple[str, ...]
    kept: bool


@dataclass(frozen=True)
class OptoutEvaluator:
    """Decides pages of one crawl: the policy, the site-wide files captured with it, and the crawler's own
    product token (whose robots.txt group counts as well as the policy's agents)."""

    policy: OptoutPolicy = DEFAULT_POLICY
    site: SiteSignals | None = None
    crawler_agent: str | None = None

    @cached_property
    def robots_agents(self) -> tuple[str, ...]:
        """The agents robots.txt is asked about: the crawler's own first, then the policy's, each once."""
        agents: dict[str, str] = {}
        for agent in (self.crawler_agent, *self.policy.agents):
            if agent:
                agents.setdefault(agent.lower(), agent)
        return tuple(agents.values())

    def reasons(
        self,
        url: str | None,
        fetch_time: datetime | None,
        headers: Sequence[tuple[str, str]],
        metas: Sequence[tuple[str, str]] = (),
    ) -> list[str]:
        """Every opt-out reason for a page fetched from ``url`` at ``fetch_time`` with response ``headers``;
        ``metas`` are an HTML page's meta tags (`kiroku.optout.tags.meta_tags`)."""
        reasons = {*x_robots_signals(headers, self.policy), *meta_robots_signals(metas, self.policy)}
        site_value = None
        if self.site is not None and url:
            site_value = self.site.tdm_reservation(url, fetch_time)
            reasons.update(self.site.robots_reasons(url, fetch_time, self.robots_agents))
        value = tdmrep.reservation(site_value, tdmrep.header_value(headers), tdmrep.meta_value(metas))
        if value == 1:
            reasons.add(tdmrep.RESERVED)
        return sorted(reasons)

    def verdict(
        self,
        url: str | None,
        fetch_time: datetime | None,
        headers: Sequence[tuple[str, str]],
        metas: Sequence[tuple[str, str]] = (),
    ) -> Verdict:
        """`reasons`, and whether the policy keeps a page with them."""
        reasons = self.reasons(url, fetch_time, headers, metas)
        return Verdict(tuple(reasons), self.policy.keeps(reasons))
