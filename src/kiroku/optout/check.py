"""Check what a site tells AI crawlers: robots.txt, TDMRep and the page's own tags, per agent, with evidence.

`check_url` fetches, for one page URL, the origin's robots.txt and ``/.well-known/tdmrep.json``
(`kiroku.optout.fetch`, RFC 9309 redirects and limits) and the page itself (GET, redirects followed up to 5 and
noted, the first 1 MiB read for its meta tags), then `evaluate` decides with kiroku's own modules only:

- robots.txt: `kiroku.optout.fetch.robots_allowed_all` for the status (4xx allows all, 5xx or no answer
  disallows all) and `kiroku.optout.robots.decide` for a 2xx body, which names the group and the deciding line;
- TDMRep: `TdmRepFile.parse` and `rule_for`, `header_value`, `meta_value` and `reservation` (the meta tag
  supersedes the header, which supersedes the file). A ``tdmrep.json`` served with 2xx that cannot be parsed
  counts here as reserving every path (`UNPARSABLE_TDMREP_RESERVES`): a site owner who tried to reserve
  should not be told they did not; the report says so. (At ingest a malformed file is ignored instead, as a
  TDM agent would; see docs/optout.md.)
- ``X-Robots-Tag`` and robots meta tags (``noai``, ``noimageai``) that apply to every agent or name the agent
  (`kiroku.optout.tags`).

One verdict per agent: ``may_not_fetch`` (robots.txt disallows), ``opted_out`` (may fetch, but opted out of AI
training by the reasons listed) or ``may_train`` (may fetch and train). robots.txt and tdmrep.json are those
of the URL's own origin and decide the URL given; the headers and meta tags are those of the page at the end
of its redirects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

import httpx
from pydantic import BaseModel, Field

from kiroku.optout import tdmrep
from kiroku.optout.agents import AGENT_LIST_SOURCE, AiAgent
from kiroku.optout.fetch import (
    MAX_REDIRECTS,
    Exchange,
    SiteFile,
    fetch,
    fetch_robots,
    fetch_tdmrep,
    robots_allowed_all,
)
from kiroku.optout.robots import decide
from kiroku.optout.sites import origin_of
from kiroku.optout.tags import OptoutPolicy, meta_robots_signals, meta_tags, x_robots_signals

__all__ = [
    "MAX_PAGE_BYTES",
    "UNPARSABLE_TDMREP_RESERVES",
    "AgentReport",
    "AgentRobots",
    "BadUrl",
    "PageReport",
    "RobotsReport",
    "SiteReport",
    "TdmRepReport",
    "Verdict",
    "check_url",
    "check_url_sync",
    "evaluate",
    "validate_url",
]

MAX_PAGE_BYTES = 1024 * 1024
UNPARSABLE_TDMREP_RESERVES = True
"""A 2xx ``tdmrep.json`` that is not a valid rule list reserves TDM rights for every path, in this check."""
USER_AGENT = "kiroku-optout-check/1 (+https://github.com/kiroku; checks opt-outs for site owners)"

Verdict = Literal["may_train", "opted_out", "may_not_fetch"]
RobotsBasis = Literal["rule", "default", "status_4xx", "unreachable", "too_many_redirects"]
TdmSource = Literal["meta", "header", "file", "unparsable_file"]


class BadUrl(ValueError):
    """The URL to check is not an absolute http(s) URL with a host (the message says why)."""


class RobotsReport(BaseModel):
    """The robots.txt fetch: where it ended and what its status means."""

    url: str
    final_url: str
    status: int | None
    error: str | None
    redirects: list[str]
    truncated: bool
    allows_all: bool | None = Field(
        description="True: everything allowed (4xx, too many redirects); False: everything disallowed (5xx, "
        "unreachable); None: the rules decide"
    )


class TdmRule(BaseModel):
    """The ``tdmrep.json`` rule that covers the URL."""

    location: str
    reservation: int | None
    policy: str | None


class TdmRepReport(BaseModel):
    """TDMRep for the URL: the file, the header and the meta tag, and the value that applies."""

    url: str
    final_url: str
    status: int | None
    error: str | None
    parse_error: str | None = Field(description="why a 2xx tdmrep.json could not be read, or None")
    rule: TdmRule | None
    file: int | None
    header: int | None
    meta: int | None
    reservation: int | None = Field(description="1 reserved, 0 not reserved, None unset")
    source: TdmSource | None = Field(description="which technique decided the reservation")
    note: str | None = None


class PageReport(BaseModel):
    """The page itself, after its redirects."""

    url: str
    status: int | None
    final_url: str
    redirects: list[str]
    error: str | None
    truncated: bool
    content_type: str | None


class AgentRobots(BaseModel):
    """robots.txt's answer for one agent."""

    allowed: bool
    basis: RobotsBasis
    group: str | None = Field(description="the group that applied: a product token, '*', or None")
    line_number: int | None
    line: str | None
    reason: str


class AgentReport(BaseModel):
    """Everything said to one agent, and the overall answer."""

    name: str
    token: str
    operator: str = Field(description="who runs it, as plain text")
    operator_url: str | None = Field(None, description="the operator's web address, when the list gives one")
    robots: AgentRobots
    tdm_reserved: bool
    tags: list[str] = Field(description="X-Robots-Tag and meta robots reasons that apply to this agent")
    tags_naming_agent: list[str] = Field(description="the part of tags that applies because it names it")
    verdict: Verdict
    opted_out_by: list[str]
    summary: str


class AgentListInfo(BaseModel):
    """Where the agent list came from."""

    repository: str
    commit: str
    read: str
    licence: str


class SiteReport(BaseModel):
    """A check of one URL: the three fetches and the answer for each agent."""

    url: str
    fetched_at: datetime
    agent_list: AgentListInfo
    robots: RobotsReport
    tdmrep: TdmRepReport
    page: PageReport
    agents: list[AgentReport]

    def counts(self) -> dict[str, int]:
        """How many agents got each verdict."""
        counts = {"may_train": 0, "opted_out": 0, "may_not_fetch": 0}
        for agent in self.agents:
            counts[agent.verdict] += 1
        return counts


def validate_url(url: str) -> str:
    """``url`` stripped, if it is an absolute http(s) URL with a host; `BadUrl` otherwise."""
    url = url.strip()
    if not url:
        raise BadUrl("give the URL of a page, e.g. https://example.com/articles/1")
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):
        raise BadUrl(f"{url!r} holds spaces or control characters: percent-encode them")
    if origin_of(url) is None:
        raise BadUrl(f"{url!r} is not an http(s) URL with a host, e.g. https://example.com/articles/1")
    return url


# -- deciding -------------------------------------------------------------------------------------------------


def _robots_report(robots: SiteFile) -> RobotsReport:
    return RobotsReport(
        url=robots.url,
        final_url=robots.final_url,
        status=robots.status,
        error=robots.error,
        redirects=list(robots.redirects),
        truncated=robots.truncated,
        allows_all=robots_allowed_all(robots),
    )


def _agent_robots(robots: SiteFile, allows_all: bool | None, token: str, url: str) -> AgentRobots:
    if allows_all is not None:
        if allows_all and robots.error:
            basis: RobotsBasis = "too_many_redirects"
            reason = f"robots.txt is unavailable ({robots.error}): everything allowed (RFC 9309 2.3.1.2)"
        elif allows_all:
            basis, reason = (
                "status_4xx",
                f"robots.txt answered {robots.status}: everything allowed (RFC 9309)",
            )
        else:
            basis = "unreachable"
            what = f"answered {robots.status}" if robots.status is not None else "could not be fetched"
            detail = f" ({robots.error})" if robots.error else ""
            reason = f"robots.txt {what}{detail}: everything disallowed (RFC 9309 2.3.1.2)"
        return AgentRobots(
            allowed=allows_all, basis=basis, group=None, line_number=None, line=None, reason=reason
        )
    decision = decide(robots.text, token, url)
    return AgentRobots(
        allowed=decision.allowed,
        basis="rule" if decision.line_number is not None else "default",
        group=decision.agent or None,
        line_number=decision.line_number,
        line=decision.matched_line,
        reason=decision.reason,
    )


def _tdmrep_report(
    file: SiteFile, url: str, headers: Sequence[tuple[str, str]], metas: Sequence[tuple[str, str]]
) -> TdmRepReport:
    parse_error = None
    rule = None
    file_value = None
    if file.status is not None and 200 <= file.status <= 299 and file.error is None:
        try:
            found = tdmrep.TdmRepFile.parse(file.body).rule_for(url)
        except tdmrep.TdmRepError as exc:
            parse_error = str(exc)
        else:
            if found is not None:
                rule = TdmRule(location=found.location, reservation=found.reservation, policy=found.policy)
                file_value = found.reservation
    header, meta = tdmrep.header_value(headers), tdmrep.meta_value(metas)
    note = None
    if parse_error is not None and UNPARSABLE_TDMREP_RESERVES:
        file_value = 1
        note = f"tdmrep.json could not be read ({parse_error}); this check counts it as reserving every path"
    value = tdmrep.reservation(file_value, header, meta)
    # the technique that decided, in the order tdmrep.reservation weighs them
    source: TdmSource | None = None
    if meta is not None:
        source = "meta"
    elif header is not None:
        source = "header"
    elif file_value is not None:
        source = "unparsable_file" if parse_error is not None else "file"
    return TdmRepReport(
        url=file.url,
        final_url=file.final_url,
        status=file.status,
        error=file.error,
        parse_error=parse_error,
        rule=rule,
        file=file_value,
        header=header,
        meta=meta,
        reservation=value,
        source=source,
        note=note,
    )


def _summary(verdict: Verdict, opted_out_by: list[str]) -> str:
    if verdict == "may_not_fetch":
        return "may not fetch"
    if verdict == "opted_out":
        return "may fetch, opted out of AI training by " + ", ".join(opted_out_by)
    return "may fetch and train"


def _agent_report(
    agent: AiAgent,
    robots: SiteFile,
    allows_all: bool | None,
    url: str,
    tdm: TdmRepReport,
    headers: Sequence[tuple[str, str]],
    metas: Sequence[tuple[str, str]],
) -> AgentReport:
    verdict_robots = _agent_robots(robots, allows_all, agent.token, url)
    everyone = OptoutPolicy(agents=())
    named = OptoutPolicy(agents=(agent.token, agent.name))
    general = {*x_robots_signals(headers, everyone), *meta_robots_signals(metas, everyone)}
    tags = sorted({*x_robots_signals(headers, named), *meta_robots_signals(metas, named)})
    reserved = tdm.reservation == 1
    opted_out_by = [*tags, *([tdmrep.RESERVED] if reserved else [])]
    verdict: Verdict
    if not verdict_robots.allowed:
        verdict = "may_not_fetch"
    elif opted_out_by:
        verdict = "opted_out"
    else:
        verdict = "may_train"
    return AgentReport(
        name=agent.name,
        token=agent.token,
        operator=agent.operator_name,
        operator_url=agent.operator_url,
        robots=verdict_robots,
        tdm_reserved=reserved,
        tags=tags,
        tags_naming_agent=sorted(set(tags) - general),
        verdict=verdict,
        opted_out_by=opted_out_by,
        summary=_summary(verdict, opted_out_by),
    )


def _page_report(url: str, hops: list[Exchange]) -> PageReport:
    last = hops[-1]
    redirects = [hop.location for hop in hops[:-1] if hop.location]
    error = last.error
    if last.location is not None and error is None:
        error = f"more than {MAX_REDIRECTS} redirects"
    return PageReport(
        url=url,
        status=last.status,
        final_url=last.url,
        redirects=redirects,
        error=error,
        truncated=last.truncated,
        content_type=last.header("content-type"),
    )


def _metas(page: Exchange) -> list[tuple[str, str]]:
    kind = (page.header("content-type") or "text/html").split(";")[0].strip().lower()
    if page.status is None or kind not in ("text/html", "application/xhtml+xml") or not page.raw:
        return []
    return meta_tags(page.body.decode("utf-8", "replace"))


def evaluate(
    url: str,
    agents: Sequence[AiAgent],
    robots: SiteFile,
    tdm_file: SiteFile,
    page: list[Exchange],
    fetched_at: datetime | None = None,
) -> SiteReport:
    """Decide, from what was fetched, what the site says to each of ``agents`` about ``url``.

    ``page`` is the chain of exchanges fetching the page (each redirect, then the last answer)."""
    last = page[-1]
    headers = last.headers if last.status is not None else []
    metas = _metas(last)
    robots_report = _robots_report(robots)
    tdm = _tdmrep_report(tdm_file, url, headers, metas)
    return SiteReport(
        url=url,
        fetched_at=fetched_at or robots.time,
        agent_list=AgentListInfo(
            repository=AGENT_LIST_SOURCE.repository,
            commit=AGENT_LIST_SOURCE.commit,
            read=AGENT_LIST_SOURCE.read,
            licence=AGENT_LIST_SOURCE.licence,
        ),
        robots=robots_report,
        tdmrep=tdm,
        page=_page_report(url, page),
        agents=[
            _agent_report(agent, robots, robots_report.allows_all, url, tdm, headers, metas)
            for agent in agents
        ],
    )


# -- fetching -------------------------------------------------------------------------------------------------


async def _fetch_page(http: httpx.AsyncClient, url: str) -> list[Exchange]:
    """GET ``url`` (first `MAX_PAGE_BYTES`), following up to `MAX_REDIRECTS` redirects; every exchange."""
    hops = [await fetch(http, url, limit=MAX_PAGE_BYTES)]
    while hops[-1].location is not None and len(hops) <= MAX_REDIRECTS:
        target = hops[-1].location
        if origin_of(target) is None:
            break
        hops.append(await fetch(http, target, limit=MAX_PAGE_BYTES))
    return hops


async def check_url(url: str, agents: Sequence[AiAgent], *, client: httpx.AsyncClient) -> SiteReport:
    """Fetch robots.txt, tdmrep.json and the page of ``url`` with ``client`` (`kiroku.optout.fetch.client`)
    and report, per agent, what the site allows; `BadUrl` for a URL that is not http(s) with a host.

    Network failures never raise: they are part of the report (an unreachable robots.txt disallows all)."""
    url = validate_url(url)
    fetched_at = datetime.now(UTC)
    robots, tdm_file, page = await asyncio.gather(
        fetch_robots(client, url), fetch_tdmrep(client, url), _fetch_page(client, url)
    )
    return evaluate(url, agents, robots, tdm_file, page, fetched_at)


def check_url_sync(
    url: str,
    agents: Sequence[AiAgent],
    *,
    resolve: Sequence[tuple[str, int, str]] = (),
    timeout: float = 10.0,
    user_agent: str = USER_AGENT,
) -> SiteReport:
    """`check_url` with a client of its own (``resolve`` as ``curl --resolve``), run to completion."""
    from kiroku.optout.fetch import client as make_client

    url = validate_url(url)

    async def run() -> SiteReport:
        async with make_client(user_agent=user_agent, resolve=resolve, timeout=timeout) as http:
            return await check_url(url, agents, client=http)

    return asyncio.run(run())
