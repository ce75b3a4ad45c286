"""An opt-out check report (`kiroku.optout.check.SiteReport`) in words, Japanese or English: shared by the
``/optout`` page and ``kiroku optout check``. Every phrase comes from the registry's locale files."""

from __future__ import annotations

from kiroku.optout.check import AgentReport, SiteReport, TdmRepReport

__all__ = ["agent_list_text", "counts_text", "robots_text", "tdm_text", "verdict_text"]

Messages = dict[str, str]


def robots_text(agent: AgentReport, status: int | None, t: Messages) -> str:
    """robots.txt's answer for ``agent``: allowed or not, and the line, default or robots.txt ``status`` that
    decided."""
    robots = agent.robots
    word = t["optout_allowed"] if robots.allowed else t["optout_disallowed"]
    if robots.basis == "rule":
        why = t["optout_by_line"].format(number=robots.line_number, group=robots.group, line=robots.line)
    elif robots.basis == "default":
        why = t["optout_no_rule"]
    elif robots.basis == "status_4xx":
        why = t["optout_status_4xx"].format(status=status)
    elif robots.basis == "too_many_redirects":
        why = t["optout_too_many_redirects"]
    else:
        why = t["optout_unreachable"]
    return f"{word}: {why}"


def tdm_text(tdm: TdmRepReport, t: Messages) -> str:
    """TDMRep's value for the page and the technique that decided it."""
    if tdm.reservation is None:
        return t["optout_tdm_unset"]
    word = t["optout_tdm_reserved"] if tdm.reservation == 1 else t["optout_tdm_not_reserved"]
    if tdm.source == "file" and tdm.rule is not None:
        how = t["optout_source_file"].format(location=tdm.rule.location)
    else:
        how = t[f"optout_source_{tdm.source}"]
    return f"{word} ({how})"


def verdict_text(agent: AgentReport, t: Messages) -> str:
    """The overall answer for ``agent``."""
    if agent.verdict == "opted_out":
        return t["optout_opted_out"].format(reasons=", ".join(agent.opted_out_by))
    return t[f"optout_{agent.verdict}"]


def counts_text(report: SiteReport, t: Messages) -> str:
    """How many agents got each verdict."""
    return t["optout_counts"].format(**report.counts())


def agent_list_text(report: SiteReport, t: Messages) -> str:
    """Where the agent list comes from."""
    source = report.agent_list
    return t["optout_agent_list"].format(
        repository=source.repository, commit=source.commit[:12], read=source.read, licence=source.licence
    )
