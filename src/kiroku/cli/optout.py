"""``kiroku optout``: what a site tells AI crawlers, checked live (`kiroku.optout.check`)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kiroku.cli._common import fail, out
from kiroku.optout.agents import AGENT_LIST_SOURCE, bundled_agents, find_agents
from kiroku.optout.check import BadUrl, SiteReport, check_url_sync, validate_url
from kiroku.optout.fetch import parse_resolve
from kiroku.registry.i18n import Lang, messages
from kiroku.registry.optout_text import agent_list_text, counts_text, robots_text, tdm_text, verdict_text

__all__ = ["app"]

app = typer.Typer(help="Opt-outs: check what a site tells AI crawlers.", no_args_is_help=True)

_STYLE = {"may_train": "green", "opted_out": "yellow", "may_not_fetch": "red"}


def _say(text: str) -> None:
    out.print(escape(text))


def _table(report: SiteReport, lang: Lang) -> None:
    t = messages(lang)
    _say(
        f"{t['optout_report_for']}: {report.url}  ({t['optout_fetched_at']} {report.fetched_at:%Y-%m-%d %H:%M:%S} UTC)"
    )
    page = report.page
    status = page.status if page.status is not None else f"{t['optout_no_answer']} ({page.error})"
    _say(f"{t['optout_page']}: {status} {page.final_url}")
    if page.redirects:
        _say(f"{t['optout_redirected']}: {' -> '.join(page.redirects)}")
    robots = report.robots
    _say(
        f"robots.txt: {robots.status if robots.status is not None else t['optout_no_answer']} {robots.final_url}"
        + (f" ({robots.error})" if robots.error else "")
    )
    if report.tdmrep.note:
        _say(t["optout_tdm_unparsable"].format(error=report.tdmrep.parse_error))
    table = Table(show_lines=False)
    for heading in (
        "optout_agent",
        "optout_operator",
        "optout_robots",
        "optout_tdmrep",
        "optout_tags",
        "optout_verdict",
    ):
        table.add_column(t[heading], overflow="fold")
    tdm = tdm_text(report.tdmrep, t)
    for agent in report.agents:
        table.add_row(
            escape(agent.name),
            escape(agent.operator or t["optout_operator_unknown"]),
            escape(robots_text(agent, robots.status, t)),
            escape(tdm),
            escape(", ".join(agent.tags) or t["optout_none"]),
            f"[{_STYLE[agent.verdict]}]{escape(verdict_text(agent, t))}[/]",
        )
    out.print(table, markup=True)
    _say(counts_text(report, t))
    _say(agent_list_text(report, t))


@app.command()
def check(
    url: Annotated[str, typer.Argument(help="The page to check, e.g. https://example.com/articles/1.")],
    agent: Annotated[
        list[str] | None,
        typer.Option(
            "--agent", help="Check this agent (a robots.txt product token, e.g. GPTBot); repeatable."
        ),
    ] = None,
    all_agents: Annotated[
        bool,
        typer.Option(
            "--all-agents", help="Check every agent of the bundled list (the default without --agent)."
        ),
    ] = False,
    resolve: Annotated[
        list[str] | None,
        typer.Option(
            "--resolve", help="Connect HOST:PORT to ADDR, as curl --resolve (HOST:PORT:ADDR); repeatable."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of the table: en or ja.")] = "en",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each request.")] = 10.0,
) -> None:
    """Fetch a page's robots.txt, tdmrep.json and the page itself, and say per AI crawler whether it may fetch
    the page and whether the site opted out of AI training, with the line or signal that decided."""
    if lang not in ("en", "ja"):
        fail(f"--lang {lang!r} must be en or ja")
    try:
        url = validate_url(url)
        pinned = [parse_resolve(entry) for entry in resolve or []]
    except (BadUrl, ValueError) as exc:
        fail(str(exc))
    if timeout <= 0:
        fail(f"--timeout {timeout} must be more than 0 seconds")
    agents = find_agents(agent) if agent else ()
    if all_agents or not agents:
        agents = (
            *agents,
            *(a for a in bundled_agents() if a.name.lower() not in {x.name.lower() for x in agents}),
        )
    report = check_url_sync(url, agents, resolve=pinned, timeout=timeout)
    if as_json:
        data = report.model_dump(mode="json")
        data["agent_list"]["description"] = AGENT_LIST_SOURCE.describe()
        out.print_json(json.dumps(data, ensure_ascii=False))
        return
    _table(report, "ja" if lang == "ja" else "en")
