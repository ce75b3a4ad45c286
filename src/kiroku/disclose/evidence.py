"""Evidence computed from the catalog, in two tiers, with the non-compliance it shows.

Each derivation returns an `Evidence`: ``public`` holds what a public statement may show (shares as bands, the
protocols honoured, blocklist names, counts as orders of magnitude), ``regulator`` the full figures,
and ``findings`` the non-compliance the record shows in plain words (a statement marks the requirement "explains"
and refuses to build until the policy file explains it). A public statement is built from ``public`` alone, so no
regulator-only figure can reach it.

This module derives the evidence keys ``data_sources``, ``optouts``, ``blocklists``, ``crawler`` and ``retention``
(see `kiroku.disclose.regime.EVIDENCE`) from the catalog's shard files and the ledger. ``crawler`` also carries the
activity of kiroku's own crawler in the statement's period, summed from the ledger's ``crawl.run`` records
(`crawl_activity`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
from pydantic import ValidationError

from kiroku.catalog import _duck as duck
from kiroku.catalog import list_sources
from kiroku.catalog.retention import plan_retention
from kiroku.catalog.stats import catalog_shards, docs_files
from kiroku.crawl.record import CrawlRun
from kiroku.disclose.errors import DisclosureError
from kiroku.ledger import Ledger

__all__ = [
    "CrawlActivity",
    "Evidence",
    "blocklist_evidence",
    "count_band",
    "crawl_activity",
    "crawl_runs",
    "crawler_evidence",
    "data_source_evidence",
    "optout_evidence",
    "share_band",
]

_SHARE_BANDS = ((0.0, "0%"), (0.01, "under 1%"), (0.05, "1–5%"), (0.10, "5–10%"), (0.25, "10–25%"),
                (0.50, "25–50%"), (0.75, "50–75%"), (1.0, "75–100%"))  # fmt: skip
_PROTOCOLS = {
    "robots": "robots.txt (RFC 9309)",
    "tdmrep": "TDMRep (W3C community group report)",
    "x-robots-tag": "X-Robots-Tag noai / noimageai",
    "meta-robots": "HTML meta robots noai / noimageai",
    "blocklist": "blocklists of piracy sites",
}


@dataclass(frozen=True)
class Evidence:
    """One evidence key's figures, in the public and the regulator tier, and what they show wrong."""

    key: str
    public: dict[str, Any]
    regulator: dict[str, Any]
    findings: tuple[str, ...] = field(default=())


def share_band(part: int, whole: int) -> str:
    """A share as the band a public statement shows: ``0%``, ``under 1%``, ``1–5%``, ... ``75–100%``."""
    if part <= 0 or whole <= 0:
        return "0%"
    share = part / whole
    for upper, label in _SHARE_BANDS[1:]:
        if share < upper or upper == 1.0:
            return label
    return _SHARE_BANDS[-1][1]


def count_band(count: int) -> str:
    """A count as its order of magnitude: ``0``, ``1–9``, ``10–99``, ``100–999``, ``1,000–9,999``, ..."""
    if count <= 0:
        return "0"
    low = 10 ** (len(str(count)) - 1)
    return f"{low:,}–{low * 10 - 1:,}"


def _docs(ledger: Ledger, catalog_dir: Path) -> list[str]:
    return list(docs_files(catalog_shards(ledger), catalog_dir))


def _rows(files: list[str], query: str) -> list[tuple[Any, ...]]:
    if not files:
        return []
    con = duck.connect()
    try:
        con.read_parquet(files).create_view("docs")
        return con.execute(query).fetchall()
    except duckdb.Error as exc:
        raise DisclosureError(f"cannot read the catalog's shard files: {exc}") from exc
    finally:
        con.close()


def data_source_evidence(ledger: Ledger, catalog_dir: Path) -> Evidence:
    """Types and sources of the kept data: per data type (public dataset, web crawl, ...), its share of the kept
    tokens as a band (public) and its documents, kept documents and tokens by source (regulator)."""
    types = {source.name: source.type.value for _, source in list_sources(ledger)}
    rows = _rows(
        _docs(ledger, catalog_dir),
        "SELECT source, count(*), count(*) FILTER (WHERE kept), coalesce(sum(tokens) FILTER (WHERE kept), 0) "
        "FROM docs GROUP BY source ORDER BY source",
    )
    by_source: dict[str, dict[str, Any]] = {
        source: {
            "type": types.get(source, "unknown"),
            "documents": int(n),
            "kept": int(k),
            "kept_tokens": int(t),
        }
        for source, n, k, t in rows
    }
    by_type: dict[str, int] = {}
    for entry in by_source.values():
        kind = str(entry["type"])
        by_type[kind] = by_type.get(kind, 0) + int(entry["kept_tokens"])
    total = sum(by_type.values())
    return Evidence(
        key="data_sources",
        public={
            "types": {
                kind: {"share_of_kept_tokens": share_band(tokens, total)}
                for kind, tokens in sorted(by_type.items())
            }
        },
        regulator={
            "kept_tokens": total,
            "types": {
                kind: {"kept_tokens": tokens, "share": round(tokens / total, 4) if total else 0.0}
                for kind, tokens in sorted(by_type.items())
            },
            "sources": by_source,
        },
    )


def optout_evidence(ledger: Ledger, catalog_dir: Path) -> Evidence:
    """Opt-outs honoured: documents dropped by each signal, and any kept document that carries one (the record
    then shows the opt-out was not honoured, a finding)."""
    files = _docs(ledger, catalog_dir)
    rows = _rows(
        files,
        "SELECT reason, count(*) FILTER (WHERE NOT kept), count(*) FILTER (WHERE kept) "
        "FROM (SELECT unnest(optout) AS reason, kept FROM docs) GROUP BY reason ORDER BY reason",
    )
    totals = _rows(
        files,
        "SELECT count(*) FILTER (WHERE NOT kept), count(*) FILTER (WHERE kept) FROM docs WHERE len(optout) > 0",
    )
    documents_dropped, documents_kept = (int(v or 0) for v in totals[0]) if totals else (0, 0)
    dropped = {reason: int(d) for reason, d, _ in rows if d}
    kept = {reason: int(k) for reason, _, k in rows if k}
    families = sorted({reason.split(":", 1)[0] for reason, _, _ in rows})
    findings: tuple[str, ...] = ()
    if documents_kept:
        listed = ", ".join(f"{reason}: {count:,}" for reason, count in sorted(kept.items()))
        findings = (
            f"{documents_kept:,} documents in the kept set carry an opt-out signal that was not honoured "
            f"(by signal: {listed})",
        )
    return Evidence(
        key="optouts",
        public={
            "protocols_seen": [_PROTOCOLS.get(family, family) for family in families],
            "documents_dropped": count_band(documents_dropped),
            "kept_despite_optout": count_band(documents_kept),
        },
        regulator={
            "documents_dropped": documents_dropped,
            "kept_despite_optout": documents_kept,
            "dropped_by_signal": dropped,
            "kept_despite_signal": kept,
        },
        findings=findings,
    )


def blocklist_evidence(ledger: Ledger, catalog_dir: Path) -> Evidence:
    """Blocklists against piracy sites: the lists that dropped documents (public: names and a count band;
    regulator: the count per list)."""
    rows = _rows(
        _docs(ledger, catalog_dir),
        "SELECT reason, count(*) FROM (SELECT unnest(optout) AS reason FROM docs) "
        "WHERE starts_with(reason, 'blocklist:') GROUP BY reason ORDER BY reason",
    )
    counts = {reason.removeprefix("blocklist:"): int(n) for reason, n in rows}
    return Evidence(
        key="blocklists",
        public={"blocklists": sorted(counts), "documents_dropped": count_band(sum(counts.values()))},
        regulator={"dropped_by_blocklist": counts},
    )


@dataclass(frozen=True)
class CrawlActivity:
    """The crawls of kiroku's crawler in a period, summed: the ``crawls`` member of each ``crawler`` view."""

    agents: tuple[str, ...]
    """The robots.txt product tokens the crawls obeyed."""
    public: dict[str, Any]
    regulator: dict[str, Any]


def _utc_day(moment: datetime) -> date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()


def crawl_runs(ledger: Ledger, period: tuple[date, date] | None = None) -> list[tuple[int, CrawlRun]]:
    """The ``crawl.run`` records with their ledger indexes, oldest first: those whose crawl ran at some time from
    the first to the last day of ``period`` (UTC days, as models in service and training runs are chosen), or all
    of them. Records whose body retention has deleted are left out, as `kiroku.catalog.runs.list_runs` does."""
    runs = []
    for record in ledger.records_of_kind("crawl.run"):
        body = record.body_json()
        if body is None:
            continue
        try:
            run = CrawlRun.model_validate(body)
        except ValidationError as exc:
            raise DisclosureError(f"ledger record {record.index} (crawl.run) cannot be read: {exc}") from exc
        if period is None or (period[0] <= _utc_day(run.ended) and _utc_day(run.started) <= period[1]):
            runs.append((record.index, run))
    return runs


def _fresh_pages(run: CrawlRun) -> int:
    """The page fetches of ``run`` decided under a robots.txt at most 24 h old (its share is fresh / fetched)."""
    if run.fresh_robots_share is None:
        return 0
    return round(run.fresh_robots_share * run.pages_fetched)


def crawl_activity(runs: list[tuple[int, CrawlRun]]) -> CrawlActivity | None:
    """The activity of kiroku's crawler summed over ``runs`` (from `crawl_runs`), None when there is none.

    Public: the crawls, pages, hosts and each skip reason's URLs as orders of magnitude (`count_band`), the agents,
    User-Agent strings and period (days), and the share of page fetches made under a robots.txt at most 24 h old as
    a whole percent rounded down. Regulator: the exact figures, the share weighted by each crawl's pages (not a
    mean of the crawls' shares), and one entry per crawl with its ledger record, so its proof can be asked for.
    """
    if not runs:
        return None
    agents = sorted({run.agent for _, run in runs})
    user_agents = sorted({run.user_agent for _, run in runs})
    period = {
        "from": min(_utc_day(run.started) for _, run in runs).isoformat(),
        "to": max(_utc_day(run.ended) for _, run in runs).isoformat(),
    }
    hosts = len({host for _, run in runs for host in run.hosts})
    skipped: dict[str, int] = {}
    for _, run in runs:
        for reason, count in run.skips.items():
            skipped[reason] = skipped.get(reason, 0) + count
    skipped = dict(sorted(skipped.items()))
    # a crawl gives no share only when it fetched no page; any other such crawl is left out of the share
    decided = sum(run.pages_fetched for _, run in runs if run.fresh_robots_share is not None)
    fresh = sum(_fresh_pages(run) for _, run in runs)
    pages = sum(run.pages_fetched for _, run in runs)
    by_crawl = [
        {
            "crawl_id": run.crawl_id,
            "record": index,
            "source": run.source,
            "agent": run.agent,
            "user_agent": run.user_agent,
            "started": run.started.isoformat(),
            "ended": run.ended.isoformat(),
            "hosts": len(run.hosts),
            "pages": run.pages_fetched,
            "skipped": dict(sorted(run.skips.items())),
            "robots_fetches": run.robots_fetches,
            "fresh_robots_share": run.fresh_robots_share,
            "interrupted": run.interrupted,
        }
        for index, run in runs
    ]
    public = {
        "count": count_band(len(runs)),
        "agents": agents,
        "user_agents": user_agents,
        "period": period,
        "pages": count_band(pages),
        "hosts": count_band(hosts),
        "skipped": {reason: count_band(count) for reason, count in skipped.items()},
        "fresh_robots_share": f"{fresh * 100 // decided}%" if decided else None,
    }
    regulator = {
        "count": len(runs),
        "agents": agents,
        "user_agents": user_agents,
        "period": period,
        "pages": pages,
        "hosts": hosts,
        "skipped": skipped,
        "robots_fetches": sum(run.robots_fetches for _, run in runs),
        "pages_with_fresh_robots": fresh,
        "fresh_robots_share": round(fresh / decided, 4) if decided else None,
        "by_crawl": by_crawl,
    }
    return CrawlActivity(tuple(agents), public, regulator)


def crawler_evidence(
    ledger: Ledger, catalog_dir: Path, agents: list[str], *, period: tuple[date, date] | None = None
) -> Evidence:
    """Crawler activity of the web-crawl sources: the user agents (those the crawl shards were ingested under,
    from kiroku.toml or the WARC files' warcinfo, and ``agents``), the period of the fetches, and how many pages
    and hosts (public: dates and orders of magnitude; regulator: the counts, and pages, hosts, kept pages and
    fetch period by source).

    With crawls of kiroku's crawler recorded in ``period`` (`crawl_runs`; all of them when None), both views carry
    their activity as ``crawls`` (`crawl_activity`), their product tokens join the user agents, and ``crawled``
    is true even when the crawls put nothing in the catalog. Without, the evidence is the catalog's alone."""
    crawled = [source.name for _, source in list_sources(ledger) if source.type.value == "web_crawl"]
    recorded = {
        shard.shard.crawler_agent
        for shard in catalog_shards(ledger)
        if shard.shard.crawler_agent and shard.shard.source in crawled
    }
    activity = crawl_activity(crawl_runs(ledger, period))
    agents = sorted(recorded | set(agents) | set(activity.agents if activity else ()))
    files = _docs(ledger, catalog_dir)
    if (not crawled or not files) and activity is None:
        return Evidence(
            "crawler", {"user_agents": agents, "crawled": False}, {"user_agents": agents, "crawled": False}
        )
    names = ", ".join("'" + name.replace("'", "''") + "'" for name in crawled)
    rows = (
        _rows(
            files,
            "SELECT source, count(*), count(DISTINCT host), count(*) FILTER (WHERE kept), min(fetch_time), "
            f"max(fetch_time) FROM docs WHERE source IN ({names}) GROUP BY source ORDER BY source",
        )
        if crawled
        else []
    )
    sources: dict[str, dict[str, Any]] = {
        source: {
            "pages": int(pages),
            "hosts": int(hosts),
            "kept": int(kept),
            "first_fetch": first.isoformat() if first else None,
            "last_fetch": last.isoformat() if last else None,
        }
        for source, pages, hosts, kept, first, last in rows
    }
    firsts = [row[4] for row in rows if row[4] is not None]
    lasts = [row[5] for row in rows if row[5] is not None]
    fetches = {
        "from": min(firsts).date().isoformat() if firsts else None,
        "to": max(lasts).date().isoformat() if lasts else None,
    }
    pages = sum(int(entry["pages"]) for entry in sources.values())
    hosts = (
        _rows(files, f"SELECT count(DISTINCT host) FROM docs WHERE source IN ({names})") if crawled else []
    )
    host_count = int(hosts[0][0]) if hosts else 0
    public: dict[str, Any] = {
        "user_agents": agents,
        "crawled": True,
        "period": fetches,
        "pages": count_band(pages),
        "hosts": count_band(host_count),
    }
    regulator: dict[str, Any] = {
        "user_agents": agents,
        "crawled": True,
        "period": fetches,
        "pages": pages,
        "hosts": host_count,
        "sources": sources,
    }
    if activity is not None:
        public["crawls"], regulator["crawls"] = activity.public, activity.regulator
    return Evidence("crawler", public, regulator)


def retention_evidence(ledger: Ledger, catalog_dir: Path) -> Evidence:
    """The ledger's retention policy and when each obligation ends: per record kind, its period and the earliest
    and latest end (public); with the records held, ended and due (regulator)."""
    plan = plan_retention(ledger, catalog_dir) if ledger.size else None
    default = str(ledger.retention.default) if ledger.retention.default is not None else "forever"
    kinds = [entry.to_json() for entry in plan.kinds] if plan is not None else []
    public_kinds = [
        {key: entry[key] for key in ("kind", "period", "earliest_end", "latest_end") if key in entry}
        for entry in kinds
    ]
    return Evidence(
        "retention",
        {"default_period": default, "kinds": public_kinds},
        {"default_period": default, "kinds": kinds},
    )
