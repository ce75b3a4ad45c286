"""Facts about the training data that the EU summary, California's AB 2013 items and the ML-BOM share.

Where `kiroku.disclose.evidence` answers the Japanese code requirement by requirement, the other disclosures ask
about the training data source by source: what each source is, how much of it was kept, when it was collected,
when a training run first used it, and, for crawls, which domains gave the most content. `training_data_facts`
derives all of it from the ledger and the catalog once; the disclosure builders only choose and word it.

Collection periods come from the source record (``--from``/``--to``) where the firm gave them, otherwise from the
documents' fetch times; a source with neither has no recorded period, only the day it was first ingested.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from kiroku.catalog import list_sources
from kiroku.catalog.runs import list_runs
from kiroku.catalog.sources import DataType, Source
from kiroku.catalog.stages import StageRecord, list_stages
from kiroku.catalog.stats import catalog_shards
from kiroku.disclose.evidence import _docs, _rows
from kiroku.ledger import Ledger

__all__ = ["SourceFacts", "TopDomains", "TrainingDataFacts", "top_domain_count", "training_data_facts"]


@dataclass(frozen=True)
class SourceFacts:
    """One registered source: its record, what the catalog holds of it, and when it was collected and used."""

    source: Source
    documents: int
    kept: int
    kept_tokens: int
    kept_bytes: int
    collected_from: date | None
    collected_to: date | None
    ingested: date | None
    """The day its first shard was recorded."""
    ongoing: bool
    """True when the source record gives a start of collection and no end: the collection goes on."""
    first_used: date | None
    """The first day of the earliest recorded training run whose data mix covers any of its shards."""
    crawler_agents: tuple[str, ...]
    """The crawler product tokens its shards were ingested under (WARC crawls)."""

    @property
    def name(self) -> str:
        """The source's name."""
        return self.source.name

    @property
    def type(self) -> DataType:
        """The source's data type."""
        return self.source.type


@dataclass(frozen=True)
class TopDomains:
    """The registrable domains that gave the most kept crawled content (UTF-8 bytes), largest first."""

    domains: tuple[str, ...]
    total: int
    """Distinct domains in the kept crawled content."""
    rule: str
    """How many were listed and why, in words."""


@dataclass(frozen=True)
class TrainingDataFacts:
    """Every source with its figures, the cleaning stages, and the top crawled domains."""

    sources: tuple[SourceFacts, ...]
    stages: tuple[StageRecord, ...]
    top_domains: TopDomains
    sources_of_model: dict[tuple[str, str], frozenset[str]]
    """(model, version) -> the sources its recorded training runs used."""

    @property
    def kept_tokens(self) -> int:
        """Tokens of every kept document."""
        return sum(source.kept_tokens for source in self.sources)

    def of_type(self, *types: DataType) -> list[SourceFacts]:
        """The sources of any of ``types`` that hold kept documents or that a training run used."""
        return [s for s in self.sources if s.type in types and (s.kept or s.first_used)]


def top_domain_count(total: int, *, sme: bool) -> int:
    """How many domains the EU template asks to list: the top 10% of all domains by content size; for SMEs, 5%
    or 1,000, whichever is lower. At least one when any domain exists."""
    if total <= 0:
        return 0
    if sme:
        return max(1, min(math.ceil(total * 0.05), 1000))
    return max(1, math.ceil(total * 0.10))


def _day(value: datetime | date | None) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def _top_domains(files: list[str], crawled: list[str], *, sme: bool) -> TopDomains:
    if not crawled or not files:
        return TopDomains((), 0, "no web crawl was used")
    names = ", ".join("'" + name.replace("'", "''") + "'" for name in crawled)
    rows = _rows(
        files,
        "SELECT domain, sum(bytes) AS size FROM docs WHERE kept AND domain IS NOT NULL "
        f"AND source IN ({names}) GROUP BY domain ORDER BY size DESC, domain",
    )
    count = top_domain_count(len(rows), sme=sme)
    share = "5% of the domains or 1,000, whichever is lower (SME)" if sme else "10% of the domains"
    rule = f"the top {count:,} of {len(rows):,} domains by kept content size: {share}"
    return TopDomains(tuple(str(domain) for domain, _ in rows[:count]), len(rows), rule)


def _stage_shards(stages: dict[int, StageRecord], record: int | None) -> list[int]:
    """The catalog shards under a stage: its own input shards, or those of the stage it read, and so on."""
    seen: set[int] = set()
    while record is not None and record in stages and record not in seen:
        seen.add(record)
        stage = stages[record]
        if stage.input_record is None:
            return list(stage.input_shards)
        record = stage.input_record
    return []


def training_data_facts(ledger: Ledger, catalog_dir: Path, *, sme: bool = False) -> TrainingDataFacts:
    """Derive the facts of every registered source, the stages and the top crawled domains from the record."""
    files = _docs(ledger, catalog_dir)
    rows = {
        str(row[0]): row[1:]
        for row in _rows(
            files,
            "SELECT source, count(*), count(*) FILTER (WHERE kept), "
            "coalesce(sum(tokens) FILTER (WHERE kept), 0), coalesce(sum(bytes) FILTER (WHERE kept), 0), "
            "min(fetch_time), max(fetch_time) FROM docs GROUP BY source",
        )
    }
    shard_source: dict[int, str] = {}
    recorded: dict[str, list[date]] = {}
    agents: dict[str, set[str]] = {}
    for shard in catalog_shards(ledger):
        shard_source[shard.index] = shard.shard.source
        recorded.setdefault(shard.shard.source, []).append(date.fromisoformat(shard.time[:10]))
        if shard.shard.crawler_agent:
            agents.setdefault(shard.shard.source, set()).add(shard.shard.crawler_agent)
    stages = dict(list_stages(ledger))
    first_used: dict[str, date] = {}
    used_by: dict[tuple[str, str], set[str]] = {}
    for _, run in list_runs(ledger):
        used = used_by.setdefault((run.model, run.version), set())
        for entry in run.data_mix:
            covered = entry.shards if entry.stage is None else _stage_shards(stages, entry.record)
            for index in covered:
                name = shard_source.get(index)
                if name is None:
                    continue
                used.add(name)
                if name not in first_used or run.start < first_used[name]:
                    first_used[name] = run.start
    sources = []
    for _, source in list_sources(ledger):
        documents, kept, tokens, size, first_fetch, last_fetch = rows.get(
            source.name, (0, 0, 0, 0, None, None)
        )
        days = recorded.get(source.name, [])
        sources.append(
            SourceFacts(
                source=source,
                documents=int(documents),
                kept=int(kept),
                kept_tokens=int(tokens),
                kept_bytes=int(size),
                collected_from=source.period_start or _day(first_fetch),
                collected_to=source.period_end or _day(last_fetch),
                ingested=min(days) if days else None,
                ongoing=source.period_start is not None and source.period_end is None,
                first_used=first_used.get(source.name),
                crawler_agents=tuple(sorted(agents.get(source.name, ()))),
            )
        )
    crawled = [s.name for s in sources if s.type is DataType.web_crawl]
    return TrainingDataFacts(
        tuple(sources),
        tuple(stages.values()),
        _top_domains(files, crawled, sme=sme),
        {key: frozenset(names) for key, names in used_by.items()},
    )
