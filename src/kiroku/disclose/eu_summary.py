"""The EU AI Act's public summary of training content (Article 53(1)(d)), section by section of the Commission's
template (July 2025), derived from the record.

The summary is public by law, so it is built from public figures only: sizes as the template's bands, datasets
named only where the template asks (public datasets over 3% of their modality), the crawlers' names and period
(with the crawls of kiroku's own crawler in the period, as the statement's public ``crawler`` evidence gives them),
and the top crawled domains by content size (10% of the domains; 5% or 1,000 for SMEs). What the ledger cannot say
(languages, types of content, the crawlers' purposes, illegal-content measures) comes from the policy file's
``[training_data]``. kiroku's catalog holds text, so the other modalities are declared unused.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kiroku.catalog.sources import DataType
from kiroku.disclose.evidence import Evidence, count_band
from kiroku.disclose.facts import SourceFacts, TrainingDataFacts
from kiroku.disclose.policy import Policy, TrainingDataDeclarations
from kiroku.disclose.schema import LedgerRef, Period, Signature
from kiroku.disclose.scope import ScopeDecision

__all__ = ["FORMAT", "EUSummary", "build_eu_summary", "text_size_band"]

FORMAT = "kiroku.eu-summary/v1"
TEMPLATE = (
    "Template for the Public Summary of Training Content for general-purpose AI models, Article 53(1)(d) of "
    "Regulation (EU) 2024/1689 (European Commission, July 2025)"
)
LARGE_SHARE = 0.03  # a public dataset over 3% of its modality's public data is listed by name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provider(_Strict):
    """1.1 Provider identification."""

    section: str = "1.1"
    name: str = Field(min_length=1)
    contact: str = Field(min_length=1)
    authorised_representative: str = Field(min_length=1)


class ModelIdentification(_Strict):
    """1.2 Model identification: one versioned model."""

    section: str = "1.2"
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    placed_on_market: str | None = Field(description="first day in service (ISO date), if it was released")
    dependencies: str = Field(min_length=1, description="the general-purpose models it was modified from")


class Modality(_Strict):
    """One modality of 1.3: whether it was used and, if so, its size band and types of content."""

    used: bool
    size_band: str | None = None
    content_types: str | None = None


class Modalities(_Strict):
    """1.3 Modalities, overall training data size and other characteristics."""

    section: str = "1.3"
    text: Modality
    image: Modality
    audio: Modality
    video: Modality
    other: Modality
    latest_acquisition: str = Field(min_length=1, description="MM/YYYY of the latest data collected")
    continuous_acquisition: bool
    languages: list[str] = Field(min_length=1)
    other_characteristics: str = Field(min_length=1)


class GeneralInformation(_Strict):
    """Section 1: general information."""

    provider: Provider
    models: list[ModelIdentification] = Field(min_length=1)
    modalities: Modalities


class ListedDataset(_Strict):
    """A dataset named in the summary."""

    name: str
    link: str | None = None


class DataSourceSection(_Strict):
    """One kind of data source of section 2: used or not, its modalities and a general description."""

    section: str
    used: bool
    modalities: list[str] = Field(default_factory=list)
    sources: str = Field(description="how many sources of this kind, as an order of magnitude")
    description: str = Field(min_length=1)
    listed: list[ListedDataset] = Field(default_factory=list)


class CrawledData(_Strict):
    """2.3 Data crawled and scraped from online sources."""

    section: str = "2.3"
    used: bool
    crawlers: list[str] = Field(default_factory=list, description="crawler names (product tokens)")
    purposes: str = Field(min_length=1)
    behaviour: str = Field(min_length=1)
    period: str = Field(min_length=1)
    content: str = Field(min_length=1)
    modalities: list[str] = Field(default_factory=list)
    top_domains: list[str] = Field(default_factory=list)
    top_domains_rule: str = Field(min_length=1)


class DataSources(_Strict):
    """Section 2: list of data sources."""

    public_datasets: DataSourceSection
    licensed_data: DataSourceSection
    other_private_data: DataSourceSection
    crawled_data: CrawledData
    user_data: DataSourceSection
    synthetic_data: DataSourceSection
    other_sources: DataSourceSection


class DataProcessing(_Strict):
    """Section 3: data processing aspects."""

    opt_out_respect: str = Field(
        min_length=1, description="3.1 respect of reservations of rights (TDM opt-outs)"
    )
    illegal_content_removal: str = Field(min_length=1, description="3.2 removal of illegal content")
    other_information: str = Field(min_length=1, description="3.3 other information")


class EUSummary(_Strict):
    """The public summary of training content, ``kiroku.eu-summary/v1``."""

    format: str = FORMAT
    template: str = TEMPLATE
    period: Period
    generated: str = Field(description="RFC 3339 time")
    general_information: GeneralInformation
    data_sources: DataSources
    data_processing: DataProcessing
    ledger: LedgerRef = Field(description="the ledger checkpoint the summary was derived at")
    signature: Signature | None = None


def text_size_band(tokens: int) -> str:
    """The template's size band of text training data."""
    if tokens < 1_000_000_000:
        return "less than 1 billion tokens"
    if tokens <= 10_000_000_000_000:
        return "1 billion to 10 trillion tokens"
    return "more than 10 trillion tokens"


def _unused(section: str, kind: str) -> DataSourceSection:
    return DataSourceSection(section=section, used=False, sources="0", description=f"No {kind} were used.")


def _described(sources: list[SourceFacts], fallback: str) -> str:
    told = sorted({s.source.description for s in sources if s.source.description})
    return "; ".join(told) if told else fallback


def _section(section: str, kind: str, sources: list[SourceFacts], fallback: str) -> DataSourceSection:
    if not sources:
        return _unused(section, kind)
    return DataSourceSection(
        section=section,
        used=True,
        modalities=["text"],
        sources=count_band(len(sources)),
        description=_described(sources, fallback),
    )


def _public_datasets(facts: TrainingDataFacts) -> DataSourceSection:
    sources = facts.of_type(DataType.public_dataset)
    if not sources:
        return _unused("2.1", "publicly available datasets")
    total = sum(s.kept_tokens for s in sources)
    large = [s for s in sources if total and s.kept_tokens / total > LARGE_SHARE]
    rest = len(sources) - len(large)
    return DataSourceSection(
        section="2.1",
        used=True,
        modalities=["text"],
        sources=count_band(len(sources)),
        description=_described(sources, "Publicly available text datasets.")
        + (
            f" {rest} smaller dataset(s), each 3% or less of the public text data, are not listed."
            if rest
            else ""
        ),
        listed=[ListedDataset(name=s.name, link=s.source.origin) for s in large],
    )


def _period_words(sources: list[SourceFacts]) -> str:
    starts = [s.collected_from for s in sources if s.collected_from]
    ends = [s.collected_to for s in sources if s.collected_to]
    if not starts and not ends:
        return "not recorded"
    span = f"{min(starts).isoformat() if starts else '?'} to {max(ends).isoformat() if ends else '?'}"
    return span + (" (collection ongoing)" if any(s.ongoing for s in sources) else "")


def _own_crawls(crawls: dict[str, Any] | None) -> str:
    """The crawls of kiroku's crawler in the period (the public ``crawler.crawls`` evidence), in words."""
    if not crawls:
        return ""
    period = crawls["period"]
    skipped = "; ".join(f"{reason}: {band}" for reason, band in crawls["skipped"].items())
    share = crawls["fresh_robots_share"]
    return (
        f" The provider's own crawler ran {crawls['count']} crawl(s) from {period['from']} to {period['to']} as "
        f"{', '.join(crawls['agents'])} (User-Agent: {'; '.join(crawls['user_agents'])}), fetching "
        f"{crawls['pages']} pages from {crawls['hosts']} hosts. It reads a site's robots.txt (RFC 9309) before its "
        "first page and re-reads it after 24 hours"
        + (f": {share} of page fetches were decided under a robots.txt at most 24 hours old" if share else "")
        + "; it honours TDMRep and noai signals, and records why each URL was or was not fetched"
        + (f" (URLs not fetched, by reason: {skipped})." if skipped else ".")
    )


def _crawled(
    facts: TrainingDataFacts,
    declared: TrainingDataDeclarations,
    optouts: Evidence,
    agents: list[str],
    crawls: dict[str, Any] | None = None,
) -> CrawledData:
    sources = facts.of_type(DataType.web_crawl)
    if not sources:
        return CrawledData(
            used=False,
            purposes="No web crawl was used.",
            behaviour="No web crawl was used.",
            period="none",
            content="none",
            top_domains_rule=facts.top_domains.rule,
        )
    protocols = _protocols(optouts)
    named = f" for {', '.join(agents)}" if agents else ""
    behaviour = (
        f"Each crawled page is recorded with the opt-out signals its site and the page gave{named}"
        + (f" ({'; '.join(protocols)})" if protocols else "")
        + f"; pages carrying one are left out of the training data ({optouts.public['documents_dropped']} "
        "pages), and sites on the piracy blocklists are dropped whatever they signal." + _own_crawls(crawls)
    )
    return CrawledData(
        used=True,
        crawlers=agents,
        purposes=declared.crawler_purposes or "not declared",
        behaviour=behaviour,
        period=_period_words(sources),
        content=_described(sources, declared.content_types),
        modalities=["text"],
        top_domains=list(facts.top_domains.domains),
        top_domains_rule=facts.top_domains.rule,
    )


def _latest(facts: TrainingDataFacts) -> str:
    used = [s for s in facts.sources if s.kept or s.first_used]
    ends = [day for s in used for day in (s.collected_to or s.ingested,) if day]
    return max(ends).strftime("%m/%Y") if ends else "not recorded"


def _protocols(optouts: Evidence) -> list[str]:
    """The opt-out protocols met, without the blocklists (which are the firm's own, not a rightsholder's)."""
    return [p for p in optouts.public.get("protocols_seen") or [] if not p.startswith("blocklists")]


def _opt_out_respect(optouts: Evidence) -> str:
    protocols = _protocols(optouts)
    said = (
        f"Opt-out signals honoured: {'; '.join(protocols)}. " if protocols else "No opt-out signal was met. "
    )
    return (
        said
        + "Every document is recorded with the signals found for it; documents carrying a reservation of "
        f"rights are left out of the training data ({optouts.public['documents_dropped']} dropped). Documents "
        f"kept despite a signal: {optouts.public['kept_despite_optout']}. Each decision is recorded in a "
        "verifiable ledger, and a rightsholder can check any domain against it."
    )


def _illegal(declared: TrainingDataDeclarations, blocklists: Evidence) -> str:
    lists = blocklists.public.get("blocklists") or []
    if not lists:
        return declared.illegal_content
    return (
        f"{declared.illegal_content} Blocklists of piracy sites applied at ingest: {', '.join(lists)} "
        f"({blocklists.public['documents_dropped']} documents dropped)."
    )


def build_eu_summary(
    facts: TrainingDataFacts,
    decisions: list[ScopeDecision],
    evidence: dict[str, Evidence],
    policy: Policy,
    declared: TrainingDataDeclarations,
    period: dict[str, Any],
    generated: str,
    ledger: dict[str, Any],
) -> dict[str, Any]:
    """The EU public summary of training content for the models in service in ``period``, as JSON."""
    tokens = facts.kept_tokens
    text = Modality(used=tokens > 0, size_band=text_size_band(tokens), content_types=declared.content_types)
    unused = Modality(used=False)
    dependencies = "none recorded: trained by the provider from the data below"
    models = [
        ModelIdentification(
            name=d.facts.model,
            version=d.facts.version,
            placed_on_market=d.facts.released.isoformat() if d.facts.released else None,
            dependencies=dependencies,
        )
        for d in decisions
    ] or [  # nothing in service yet: the models trained
        ModelIdentification(name=model, version=version, placed_on_market=None, dependencies=dependencies)
        for model, version in sorted(facts.sources_of_model)
    ]
    crawler = evidence["crawler"].public
    summary = EUSummary(
        period=Period.model_validate(period),
        generated=generated,
        general_information=GeneralInformation(
            provider=Provider(
                name=policy.firm.name,
                contact=policy.firm.contact,
                authorised_representative=declared.authorised_representative or "none appointed",
            ),
            models=models,
            modalities=Modalities(
                text=text,
                image=unused,
                audio=unused,
                video=unused,
                other=unused,
                latest_acquisition=_latest(facts),
                continuous_acquisition=any(s.ongoing for s in facts.sources),
                languages=list(declared.languages),
                other_characteristics="Text only: documents as extracted from web pages and datasets, after the "
                "cleaning stages recorded in the ledger.",
            ),
        ),
        data_sources=DataSources(
            public_datasets=_public_datasets(facts),
            licensed_data=_section(
                "2.2.1",
                "datasets licensed from rightsholders",
                facts.of_type(DataType.third_party_licensed),
                "Text licensed from its rightsholders or their representatives.",
            ),
            other_private_data=_unused("2.2.2", "private datasets obtained from other third parties"),
            crawled_data=_crawled(
                facts,
                declared,
                evidence["optouts"],
                list(crawler.get("user_agents") or []),
                crawler.get("crawls"),
            ),
            user_data=_section(
                "2.4",
                "user data",
                facts.of_type(DataType.user_data),
                "Data from users' interactions with the provider's services.",
            ),
            synthetic_data=_synthetic(facts),
            other_sources=_section("2.6", "other sources", facts.of_type(DataType.other), "Other text data."),
        ),
        data_processing=DataProcessing(
            opt_out_respect=_opt_out_respect(evidence["optouts"]),
            illegal_content_removal=_illegal(declared, evidence["blocklists"]),
            other_information=declared.other_information or "none",
        ),
        ledger=LedgerRef.model_validate(ledger),
    )
    return summary.model_dump(mode="json", exclude={"signature"})


def _synthetic(facts: TrainingDataFacts) -> DataSourceSection:
    sources = facts.of_type(DataType.synthetic)
    if not sources:
        return _unused("2.5", "synthetic data")
    generators = sorted({s.source.generator_model for s in sources if s.source.generator_model})
    made_by = (
        f"Generated by: {', '.join(generators)}." if generators else "The generating models are not recorded."
    )
    return DataSourceSection(
        section="2.5",
        used=True,
        modalities=["text"],
        sources=count_band(len(sources)),
        description=f"{_described(sources, 'Synthetic text.')} {made_by}",
    )
