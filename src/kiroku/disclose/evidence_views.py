"""The evidence a statement carries, typed: each evidence key's public and regulator view, each field with its tier.

The derivations (`kiroku.disclose.evidence`, `kiroku.disclose.model_evidence`, `kiroku.disclose.index_evidence`)
return each key's two views as plain dicts; the models here give those dicts their exact shape, so that the
published JSON Schema (``docs/statement.schema.json``) says of every evidence field who may read it. A field's
``tier`` is ``public`` in a public view; in a regulator view it is ``public`` where the public view carries the
same field with the same value and meaning (``user_agents``, ``period``, a model's name), and ``regulator``
otherwise (an exact count where the public view holds a band, figures by source).

Design: a requirement's ``evidence`` is one `EvidenceViews`, a field per evidence key typed as that key's views
(``OptoutsView`` = `OptoutsPublic` or `OptoutsRegulator`, tried in that order). A view the same in both tiers
(`Provenance`, `Inquiries`, `CrawlerNone`) is one model. Which views a statement may carry depends on the
statement's tier, a fact outside the evidence, so `kiroku.disclose.schema.Statement` checks it: a public statement
whose evidence holds a view that is not one of `VIEWS[key].public` fails validation (`EvidenceViews.not_public`),
and the published schema says the same with an ``if``/``then`` on the statement's ``tier`` built from `VIEWS`, so
any JSON Schema validator rejects a regulator figure in a public statement. A regulator statement may carry either
view: what the public may read, the regulator may too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypeAliasType

__all__ = ["PUBLIC", "REGULATOR", "VIEWS", "EvidenceViews", "KeyViews", "public_views_schema"]

PUBLIC: dict[str, Any] = {"tier": "public"}
"""A field anyone may read: it appears in both tiers."""
REGULATOR: dict[str, Any] = {"tier": "regulator"}
"""A field only the regulator's statement carries."""


def _optional(tier: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """``json_schema_extra`` of a member that is either absent or a value, never null: its tier, no default."""

    def extra(schema: dict[str, Any]) -> None:
        schema.pop("default", None)
        schema.update(tier)

    return extra


_BAND = "an order of magnitude: 0, 1–9, 10–99, 100–999, 1,000–9,999, ..."
_SHARE = "a band: 0%, under 1%, 1–5%, 5–10%, 10–25%, 25–50%, 50–75%, 75–100%"


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- models ------------------------------------------------------------------------------------------------


class ModelPublic(_View):
    """A model version in service in the period, as the public sees it."""

    model: str = Field(json_schema_extra=PUBLIC)
    version: str = Field(json_schema_extra=PUBLIC)
    services: list[str] = Field(json_schema_extra=PUBLIC)
    released: str | None = Field(json_schema_extra=PUBLIC, description="ISO date it first entered a service")
    withdrawn: str | None = Field(json_schema_extra=PUBLIC, description="ISO date it left its last service")
    high_impact: bool = Field(json_schema_extra=PUBLIC)


class ModelRegulator(ModelPublic):
    """A model version in service in the period, with the facts and reasons of its high-impact decision."""

    reasons: list[str] = Field(
        json_schema_extra=REGULATOR, description="the decision's reasons, with figures"
    )
    training_runs: list[int] = Field(json_schema_extra=REGULATOR, description="ledger records of its runs")
    compute_flops: float | None = Field(json_schema_extra=REGULATOR)
    compute_estimated: bool = Field(json_schema_extra=REGULATOR, description="6 x parameters x tokens")
    parameters: int | None = Field(json_schema_extra=REGULATOR)
    users_in_japan: int | None = Field(json_schema_extra=REGULATOR)


class ModelsPublic(_View):
    """``models``, public view: the models in service and whether each is high-impact."""

    models: list[ModelPublic] = Field(json_schema_extra=PUBLIC)


class ModelsRegulator(_View):
    """``models``, regulator view: the models in service with their compute, parameters and users."""

    models: list[ModelRegulator] = Field(json_schema_extra=REGULATOR)


# --- training ----------------------------------------------------------------------------------------------


class RunPublic(_View):
    """A training run behind a model in service: its architecture family and methods."""

    model: str = Field(json_schema_extra=PUBLIC)
    version: str = Field(json_schema_extra=PUBLIC)
    run: str = Field(json_schema_extra=PUBLIC)
    architecture: str = Field(json_schema_extra=PUBLIC, description="the architecture's family")
    methods: list[str] = Field(json_schema_extra=PUBLIC)


class RunRegulator(RunPublic):
    """A training run behind a model in service, with its record, size, compute and dates."""

    record: int = Field(ge=0, json_schema_extra=REGULATOR, description="the training.run ledger record")
    parameters: int = Field(json_schema_extra=REGULATOR)
    layers: int | None = Field(json_schema_extra=REGULATOR)
    context_length: int | None = Field(json_schema_extra=REGULATOR)
    training_tokens: int = Field(json_schema_extra=REGULATOR)
    compute_flops: float = Field(json_schema_extra=REGULATOR)
    compute_estimated: bool = Field(json_schema_extra=REGULATOR, description="6 x parameters x tokens")
    start: str = Field(json_schema_extra=REGULATOR, description="ISO date")
    end: str = Field(json_schema_extra=REGULATOR, description="ISO date")


class TrainingPublic(_View):
    """``training``, public view: architecture family and methods of each run."""

    runs: list[RunPublic] = Field(json_schema_extra=PUBLIC)


class TrainingRegulator(_View):
    """``training``, regulator view: each run with its size, tokens, compute and dates."""

    runs: list[RunRegulator] = Field(json_schema_extra=REGULATOR)


# --- data_sources ------------------------------------------------------------------------------------------


class DataTypeShare(_View):
    """A data type's share of the kept tokens, as a band."""

    share_of_kept_tokens: str = Field(json_schema_extra=PUBLIC, description=_SHARE)


class DataTypeTokens(_View):
    """A data type's kept tokens and exact share of all kept tokens."""

    kept_tokens: int = Field(ge=0, json_schema_extra=REGULATOR)
    share: float = Field(ge=0, le=1, json_schema_extra=REGULATOR, description="rounded to 4 places")


class SourceFigures(_View):
    """A source's data type and its documents, kept documents and kept tokens."""

    type: str = Field(json_schema_extra=REGULATOR, description="the source's data type, or 'unknown'")
    documents: int = Field(ge=0, json_schema_extra=REGULATOR)
    kept: int = Field(ge=0, json_schema_extra=REGULATOR)
    kept_tokens: int = Field(ge=0, json_schema_extra=REGULATOR)


class DataSourcesPublic(_View):
    """``data_sources``, public view: each data type's share of the kept tokens as a band."""

    types: dict[str, DataTypeShare] = Field(json_schema_extra=PUBLIC, description="by data type")


class DataSourcesRegulator(_View):
    """``data_sources``, regulator view: kept tokens in all, by data type and by source."""

    kept_tokens: int = Field(ge=0, json_schema_extra=REGULATOR)
    types: dict[str, DataTypeTokens] = Field(json_schema_extra=REGULATOR, description="by data type")
    sources: dict[str, SourceFigures] = Field(json_schema_extra=REGULATOR, description="by source name")


# --- crawler -----------------------------------------------------------------------------------------------


class CrawlPeriod(_View):
    """The days of the first and last fetch of the web-crawl sources (null when the catalog has no times)."""

    from_: str | None = Field(alias="from", json_schema_extra=PUBLIC, description="ISO date")
    to: str | None = Field(json_schema_extra=PUBLIC, description="ISO date")


class CrawlSource(_View):
    """One web-crawl source's pages, hosts, kept pages and first and last fetch."""

    pages: int = Field(ge=0, json_schema_extra=REGULATOR)
    hosts: int = Field(ge=0, json_schema_extra=REGULATOR)
    kept: int = Field(ge=0, json_schema_extra=REGULATOR)
    first_fetch: str | None = Field(json_schema_extra=REGULATOR, description="ISO 8601 time")
    last_fetch: str | None = Field(json_schema_extra=REGULATOR, description="ISO 8601 time")


class CrawlsPeriod(_View):
    """The day the first crawl of the period started and the day the last one ended (UTC)."""

    from_: str = Field(alias="from", json_schema_extra=PUBLIC, description="ISO date")
    to: str = Field(json_schema_extra=PUBLIC, description="ISO date")


class CrawlsPublic(_View):
    """The crawls of kiroku's own crawler in the period (``crawl.run`` records), as the public sees them."""

    count: str = Field(json_schema_extra=PUBLIC, description=f"crawls, as {_BAND}")
    agents: list[str] = Field(json_schema_extra=PUBLIC, description="the robots.txt product tokens obeyed")
    user_agents: list[str] = Field(json_schema_extra=PUBLIC, description="the User-Agent headers sent")
    period: CrawlsPeriod = Field(json_schema_extra=PUBLIC)
    pages: str = Field(json_schema_extra=PUBLIC, description=f"pages fetched, as {_BAND}")
    hosts: str = Field(json_schema_extra=PUBLIC, description=f"distinct hosts, as {_BAND}")
    skipped: dict[str, str] = Field(
        json_schema_extra=PUBLIC, description=f"URLs not fetched by reason, each as {_BAND}"
    )
    fresh_robots_share: str | None = Field(
        json_schema_extra=PUBLIC,
        description="share of page fetches decided under a robots.txt at most 24 h old, a whole percent rounded "
        "down ('100%' only when every one was); null when no page was fetched",
    )


class CrawlFigures(_View):
    """One crawl of kiroku's crawler: its record, identity, times and figures."""

    crawl_id: str = Field(json_schema_extra=REGULATOR)
    record: int = Field(ge=0, json_schema_extra=REGULATOR, description="the crawl.run ledger record")
    source: str = Field(json_schema_extra=REGULATOR, description="the catalog source it was ingested into")
    agent: str = Field(json_schema_extra=REGULATOR, description="the robots.txt product token obeyed")
    user_agent: str = Field(json_schema_extra=REGULATOR)
    started: str = Field(json_schema_extra=REGULATOR, description="ISO 8601 time")
    ended: str = Field(json_schema_extra=REGULATOR, description="ISO 8601 time")
    hosts: int = Field(ge=0, json_schema_extra=REGULATOR)
    pages: int = Field(ge=0, json_schema_extra=REGULATOR)
    skipped: dict[str, int] = Field(json_schema_extra=REGULATOR, description="URLs not fetched, by reason")
    robots_fetches: int = Field(ge=0, json_schema_extra=REGULATOR)
    fresh_robots_share: float | None = Field(
        ge=0, le=1, json_schema_extra=REGULATOR, description="as the crawl.run record gives it"
    )
    interrupted: bool = Field(
        False,
        json_schema_extra=REGULATOR,
        description="killed while crawling: recorded by a later run from its decision log up to its last line",
    )


class CrawlsRegulator(_View):
    """The crawls of kiroku's own crawler in the period: exact figures summed over them, and each crawl."""

    count: int = Field(ge=0, json_schema_extra=REGULATOR, description="crawls")
    agents: list[str] = Field(json_schema_extra=PUBLIC, description="the robots.txt product tokens obeyed")
    user_agents: list[str] = Field(json_schema_extra=PUBLIC, description="the User-Agent headers sent")
    period: CrawlsPeriod = Field(json_schema_extra=PUBLIC)
    pages: int = Field(ge=0, json_schema_extra=REGULATOR, description="pages fetched")
    hosts: int = Field(ge=0, json_schema_extra=REGULATOR, description="distinct hosts")
    skipped: dict[str, int] = Field(
        json_schema_extra=REGULATOR, description="URLs not fetched by reason, summed over the crawls"
    )
    robots_fetches: int = Field(ge=0, json_schema_extra=REGULATOR)
    pages_with_fresh_robots: int = Field(
        ge=0,
        json_schema_extra=REGULATOR,
        description="page fetches decided under a robots.txt at most 24 h old",
    )
    fresh_robots_share: float | None = Field(
        ge=0,
        le=1,
        json_schema_extra=REGULATOR,
        description="pages_with_fresh_robots / pages (weighted by pages, not a mean of the crawls' shares), "
        "rounded to 4 places; null when no page was fetched",
    )
    by_crawl: list[CrawlFigures] = Field(json_schema_extra=REGULATOR, description="oldest record first")


class CrawlerNone(_View):
    """``crawler`` when no web crawl is in the catalog and kiroku's crawler recorded no crawl in the period: the
    user agents only (the same in both tiers)."""

    user_agents: list[str] = Field(json_schema_extra=PUBLIC)
    crawled: Literal[False] = Field(json_schema_extra=PUBLIC)


class CrawlerPublic(_View):
    """``crawler``, public view: user agents, the period of the fetches, pages and hosts as orders of magnitude,
    and the crawls of kiroku's crawler in the period (`CrawlsPublic`) when there were any."""

    user_agents: list[str] = Field(json_schema_extra=PUBLIC)
    crawled: Literal[True] = Field(json_schema_extra=PUBLIC)
    period: CrawlPeriod = Field(json_schema_extra=PUBLIC)
    pages: str = Field(json_schema_extra=PUBLIC, description=_BAND)
    hosts: str = Field(json_schema_extra=PUBLIC, description=_BAND)
    crawls: CrawlsPublic | SkipJsonSchema[None] = Field(
        default=None,
        exclude_if=lambda value: value is None,
        json_schema_extra=_optional(PUBLIC),
        description="present when kiroku's crawler recorded crawls (crawl.run) in the period",
    )


class CrawlerRegulator(_View):
    """``crawler``, regulator view: user agents, period, exact pages and hosts, the figures by source, and the
    crawls of kiroku's crawler in the period (`CrawlsRegulator`) when there were any."""

    user_agents: list[str] = Field(json_schema_extra=PUBLIC)
    crawled: Literal[True] = Field(json_schema_extra=PUBLIC)
    period: CrawlPeriod = Field(json_schema_extra=PUBLIC)
    pages: int = Field(ge=0, json_schema_extra=REGULATOR)
    hosts: int = Field(ge=0, json_schema_extra=REGULATOR)
    sources: dict[str, CrawlSource] = Field(json_schema_extra=REGULATOR, description="by source name")
    crawls: CrawlsRegulator | SkipJsonSchema[None] = Field(
        default=None,
        exclude_if=lambda value: value is None,
        json_schema_extra=_optional(REGULATOR),
        description="present when kiroku's crawler recorded crawls (crawl.run) in the period",
    )


# --- retention ---------------------------------------------------------------------------------------------


class KindEnds(_View):
    """A record kind's retention period and the earliest and latest end of its records."""

    kind: str = Field(json_schema_extra=PUBLIC)
    period: str = Field(json_schema_extra=PUBLIC, description="ISO 8601 duration, or 'forever'")
    earliest_end: str | None = Field(json_schema_extra=PUBLIC, description="RFC 3339 time")
    latest_end: str | None = Field(json_schema_extra=PUBLIC, description="RFC 3339 time")


class KindFigures(KindEnds):
    """A record kind's retention period and ends, with its records held, ended and due."""

    records: int = Field(ge=0, json_schema_extra=REGULATOR)
    held: int = Field(ge=0, json_schema_extra=REGULATOR, description="bodies still stored")
    expired: int = Field(ge=0, json_schema_extra=REGULATOR, description="bodies deleted under retention")
    due: int = Field(ge=0, json_schema_extra=REGULATOR, description="stored bodies whose end has passed")
    ended: int = Field(ge=0, json_schema_extra=REGULATOR, description="expired + due")
    never: int = Field(ge=0, json_schema_extra=REGULATOR, description="bodies kept forever")


class RetentionPublic(_View):
    """``retention``, public view: the default period and, per record kind, its period and ends."""

    default_period: str = Field(json_schema_extra=PUBLIC, description="ISO 8601 duration, or 'forever'")
    kinds: list[KindEnds] = Field(json_schema_extra=PUBLIC)


class RetentionRegulator(_View):
    """``retention``, regulator view: the default period and, per record kind, its ends and record counts."""

    default_period: str = Field(json_schema_extra=PUBLIC, description="ISO 8601 duration, or 'forever'")
    kinds: list[KindFigures] = Field(json_schema_extra=REGULATOR)


# --- optouts -----------------------------------------------------------------------------------------------


class OptoutsPublic(_View):
    """``optouts``, public view: the protocols seen and the documents dropped and kept as orders of magnitude."""

    protocols_seen: list[str] = Field(json_schema_extra=PUBLIC)
    documents_dropped: str = Field(json_schema_extra=PUBLIC, description=_BAND)
    kept_despite_optout: str = Field(json_schema_extra=PUBLIC, description=_BAND)


class OptoutsRegulator(_View):
    """``optouts``, regulator view: exact documents dropped and kept despite an opt-out, in all and by signal."""

    documents_dropped: int = Field(ge=0, json_schema_extra=REGULATOR)
    kept_despite_optout: int = Field(ge=0, json_schema_extra=REGULATOR)
    dropped_by_signal: dict[str, int] = Field(json_schema_extra=REGULATOR, description="by opt-out signal")
    kept_despite_signal: dict[str, int] = Field(json_schema_extra=REGULATOR, description="by opt-out signal")


# --- provenance --------------------------------------------------------------------------------------------


class Provenance(_View):
    """``provenance``: the provenance and watermarking measures the policy names (the same in both tiers)."""

    measures: list[str] = Field(json_schema_extra=PUBLIC)


# --- blocklists --------------------------------------------------------------------------------------------


class BlocklistsPublic(_View):
    """``blocklists``, public view: the lists that dropped documents and the documents as an order of magnitude."""

    blocklists: list[str] = Field(json_schema_extra=PUBLIC)
    documents_dropped: str = Field(json_schema_extra=PUBLIC, description=_BAND)


class BlocklistsRegulator(_View):
    """``blocklists``, regulator view: the documents each list dropped."""

    dropped_by_blocklist: dict[str, int] = Field(json_schema_extra=REGULATOR, description="by blocklist")


# --- domain_index, trace_index -----------------------------------------------------------------------------


class IndexPublic(_View):
    """``domain_index`` or ``trace_index``, public view: whether it is built and the catalog's share it covers."""

    available: bool = Field(json_schema_extra=PUBLIC)
    catalog_shards_covered: str = Field(json_schema_extra=PUBLIC, description=_SHARE)


class IndexMissing(_View):
    """``domain_index`` or ``trace_index``, regulator view, when the index is missing or unreadable."""

    available: Literal[False] = Field(json_schema_extra=PUBLIC)
    catalog_shards: int = Field(ge=0, json_schema_extra=REGULATOR, description="the catalog's shards")
    covered: int = Field(ge=0, json_schema_extra=REGULATOR, description="the shards the index covers")


class DomainIndexRegulator(_View):
    """``domain_index``, regulator view: the shards covered, its ledger record, ledger size and documents."""

    available: Literal[True] = Field(json_schema_extra=PUBLIC)
    catalog_shards: int = Field(ge=0, json_schema_extra=REGULATOR, description="the catalog's shards")
    covered: int = Field(ge=0, json_schema_extra=REGULATOR, description="the shards the index covers")
    record: int = Field(ge=0, json_schema_extra=REGULATOR, description="the domains.index ledger record")
    ledger_size: int = Field(ge=0, json_schema_extra=REGULATOR, description="the ledger size it read")
    documents: int = Field(ge=0, json_schema_extra=REGULATOR)


class TraceIndexRegulator(DomainIndexRegulator):
    """``trace_index``, regulator view: the shards covered, its ledger record, ledger size, documents, tokens."""

    record: int = Field(ge=0, json_schema_extra=REGULATOR, description="the trace.index ledger record")
    tokens: int = Field(ge=0, json_schema_extra=REGULATOR)


# --- inquiries ---------------------------------------------------------------------------------------------


class Inquiries(_View):
    """``inquiries``: the rightsholders' contact point (the same in both tiers; no counts are recorded yet)."""

    contact: str | None = Field(json_schema_extra=PUBLIC)
    inquiries_recorded: bool = Field(json_schema_extra=PUBLIC)


# --- a requirement's evidence ------------------------------------------------------------------------------


# Each key's views under one name (a ``$defs`` entry of the schema), tried in order: public first, so a value that
# is both (``{"models": []}``) is the public view, which a public statement may carry.
_IN_ORDER = Field(union_mode="left_to_right")
ModelsView = TypeAliasType("ModelsView", Annotated[ModelsPublic | ModelsRegulator, _IN_ORDER])
TrainingView = TypeAliasType("TrainingView", Annotated[TrainingPublic | TrainingRegulator, _IN_ORDER])
DataSourcesView = TypeAliasType(
    "DataSourcesView", Annotated[DataSourcesPublic | DataSourcesRegulator, _IN_ORDER]
)
CrawlerView = TypeAliasType(
    "CrawlerView", Annotated[CrawlerNone | CrawlerPublic | CrawlerRegulator, _IN_ORDER]
)
RetentionView = TypeAliasType("RetentionView", Annotated[RetentionPublic | RetentionRegulator, _IN_ORDER])
OptoutsView = TypeAliasType("OptoutsView", Annotated[OptoutsPublic | OptoutsRegulator, _IN_ORDER])
BlocklistsView = TypeAliasType("BlocklistsView", Annotated[BlocklistsPublic | BlocklistsRegulator, _IN_ORDER])
DomainIndexView = TypeAliasType(
    "DomainIndexView", Annotated[IndexPublic | IndexMissing | DomainIndexRegulator, _IN_ORDER]
)
TraceIndexView = TypeAliasType(
    "TraceIndexView", Annotated[IndexPublic | IndexMissing | TraceIndexRegulator, _IN_ORDER]
)

_KEY = "its public view in a public statement; in a regulator statement, its regulator view"


class EvidenceViews(_View):
    """A requirement's evidence: the keys it names (`kiroku.disclose.regime.EVIDENCE`), each as one of its views."""

    models: ModelsView | None = Field(default=None, json_schema_extra=PUBLIC, description=_KEY)
    training: TrainingView | None = Field(default=None, json_schema_extra=PUBLIC, description=_KEY)
    data_sources: DataSourcesView | None = Field(default=None, json_schema_extra=PUBLIC, description=_KEY)
    crawler: CrawlerView | None = Field(default=None, json_schema_extra=PUBLIC, description=_KEY)
    retention: RetentionView | None = Field(default=None, json_schema_extra=PUBLIC, description=_KEY)
    optouts: OptoutsView | None = Field(default=None, json_schema_extra=PUBLIC, description=_KEY)
    provenance: Provenance | None = Field(
        default=None, json_schema_extra=PUBLIC, description="the same in both tiers"
    )
    blocklists: BlocklistsView | None = Field(default=None, json_schema_extra=PUBLIC, description=_KEY)
    domain_index: DomainIndexView | None = Field(default=None, json_schema_extra=PUBLIC, description=_KEY)
    trace_index: TraceIndexView | None = Field(default=None, json_schema_extra=PUBLIC, description=_KEY)
    inquiries: Inquiries | None = Field(
        default=None, json_schema_extra=PUBLIC, description="the same in both tiers"
    )

    def not_public(self) -> list[str]:
        """The keys whose view here is not one a public statement may carry, in `VIEWS` order."""
        return [
            key
            for key, views in VIEWS.items()
            if (value := getattr(self, key)) is not None and not isinstance(value, views.public)
        ]


@dataclass(frozen=True)
class KeyViews:
    """One evidence key's view models: those a public statement may carry, and those of the regulator's."""

    public: tuple[type[BaseModel], ...]
    regulator: tuple[type[BaseModel], ...]


VIEWS: Final[dict[str, KeyViews]] = {
    "models": KeyViews((ModelsPublic,), (ModelsRegulator,)),
    "training": KeyViews((TrainingPublic,), (TrainingRegulator,)),
    "data_sources": KeyViews((DataSourcesPublic,), (DataSourcesRegulator,)),
    "crawler": KeyViews((CrawlerNone, CrawlerPublic), (CrawlerNone, CrawlerRegulator)),
    "retention": KeyViews((RetentionPublic,), (RetentionRegulator,)),
    "optouts": KeyViews((OptoutsPublic,), (OptoutsRegulator,)),
    "provenance": KeyViews((Provenance,), (Provenance,)),
    "blocklists": KeyViews((BlocklistsPublic,), (BlocklistsRegulator,)),
    "domain_index": KeyViews((IndexPublic,), (IndexMissing, DomainIndexRegulator)),
    "trace_index": KeyViews((IndexPublic,), (IndexMissing, TraceIndexRegulator)),
    "inquiries": KeyViews((Inquiries,), (Inquiries,)),
}
"""Each evidence key's views by tier; `EvidenceViews` types the same pairs, `EvidenceViews.not_public` reads these."""


def public_views_schema() -> dict[str, Any]:
    """JSON Schema of an `EvidenceViews` holding public views only, by ``$ref`` into the statement's ``$defs``."""

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return {"$ref": f"#/$defs/{model.__name__}"}

    properties = {
        key: ref(views.public[0]) if len(views.public) == 1 else {"anyOf": [ref(m) for m in views.public]}
        for key, views in VIEWS.items()
    }
    return {"properties": properties}
