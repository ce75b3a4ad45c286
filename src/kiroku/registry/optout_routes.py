"""The opt-out check for site owners: ``/optout`` (a form, and with ``?url=`` the report) and its JSON twin
``/optout.json?url=``.

The registry fetches the page's robots.txt, ``/.well-known/tdmrep.json`` and the page itself
(`kiroku.optout.check`) and reports, for every agent of the bundled ai.robots.txt list, what the site allows.
It fetches only from public addresses unless ``allow_private_fetch`` (`kiroku.registry.addresses`): every
connection the check opens, redirects included, resolves its host once and connects to the address it checked
(``kiroku.optout.fetch.client(public_only=True)``). A page whose own host is not public is refused (422) with
the host and the address; a robots.txt or a redirect leading to one is reported as a failed fetch. The whole
check is bounded by `CHECK_SECONDS`. Checks are rate-limited as searches are
(`kiroku.registry.app.RateLimits`) and never cached: the answer is live.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from kiroku.optout.agents import AGENT_LIST_SOURCE, bundled_agents
from kiroku.optout.check import USER_AGENT, BadUrl, SiteReport, check_url, validate_url
from kiroku.optout.fetch import client
from kiroku.registry.addresses import refused
from kiroku.registry.app import registry_of
from kiroku.registry.errors import Refused, RegistryError
from kiroku.registry.i18n import choose_language, messages
from kiroku.registry.optout_text import agent_list_text, counts_text, robots_text, tdm_text, verdict_text
from kiroku.registry.pages import render_page
from kiroku.registry.security import remember_choices

__all__ = ["CHECK_SECONDS", "CheckTimedOut", "router"]

router = APIRouter(include_in_schema=False)
CHECK_SECONDS = 20.0
"""The longest a whole check may take."""
REQUEST_SECONDS = 8.0
"""The longest one request of a check may take."""


class CheckTimedOut(RegistryError):
    """The site did not answer in time."""

    status = 504
    code = "timeout"


async def _report(request: Request, url: str) -> SiteReport:
    """Check ``url`` for every bundled agent, within the registry's limits."""
    try:
        url = validate_url(url)
    except BadUrl as exc:
        raise Refused(str(exc)) from exc
    allow_private = registry_of(request).settings.allow_private_fetch
    async with client(user_agent=USER_AGENT, timeout=REQUEST_SECONDS, public_only=not allow_private) as http:
        try:
            report = await asyncio.wait_for(check_url(url, bundled_agents(), client=http), CHECK_SECONDS)
        except TimeoutError as exc:
            raise CheckTimedOut(
                f"{url} did not answer within {CHECK_SECONDS:.0f} s: try again later, or check it with "
                "`kiroku optout check`"
            ) from exc
    if not report.page.redirects:
        not_public = refused(report.page.error)  # the host typed itself: nothing was fetched from it
        if not_public is not None:
            raise not_public
    return report


def _words(request: Request, report: SiteReport) -> dict[str, Any]:
    t = messages(choose_language(request))
    return {
        "robots_text": {a.name: robots_text(a, report.robots.status, t) for a in report.agents},
        "verdict_text": {a.name: verdict_text(a, t) for a in report.agents},
        "tdm_text": tdm_text(report.tdmrep, t),
        "counts_text": counts_text(report, t),
        "agent_list_text": agent_list_text(report, t),
    }


@router.get("/optout", response_class=HTMLResponse)
async def optout_page(request: Request, url: str = "") -> Response:
    """The form; with ``?url=``, the report for every bundled agent."""
    if not url.strip():
        return render_page(
            request, "optout.html", url="", report=None, problem=None, source=AGENT_LIST_SOURCE
        )
    try:
        report = await _report(request, url)
    except (Refused, CheckTimedOut) as exc:
        return render_page(
            request,
            "optout.html",
            code=exc.status,
            url=url,
            report=None,
            problem=str(exc),
            source=AGENT_LIST_SOURCE,
        )
    return render_page(
        request,
        "optout.html",
        url=url,
        report=report,
        problem=None,
        source=AGENT_LIST_SOURCE,
        **_words(request, report),
    )


@router.get("/optout.json")
async def optout_json(request: Request, url: str = "") -> Response:
    """The report as JSON (the error envelope for a bad, private or silent URL)."""
    if not url.strip():
        raise Refused("give the page to check as ?url=https://example.com/page")
    report = await _report(request, url)
    data = report.model_dump(mode="json")
    data["agent_list"]["description"] = AGENT_LIST_SOURCE.describe()
    return remember_choices(request, JSONResponse(data), secure=registry_of(request).settings.secure_cookies)
