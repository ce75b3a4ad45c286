"""California AB 2013's training-data documentation (Civil Code section 3111), its twelve items from the record.

The law asks a developer of a generative AI system offered in California to post a high-level summary of the
datasets used in its development. Each of the twelve items is answered for the whole system in words and dataset
by dataset with the facts behind it: owners and origins, how many data points (as ranges, which the law allows),
licences, personal information, cleaning, the collection period and the dates first used. The source records
(``kiroku source add``: type, origin, licence, period, personal data, copyrighted works, generator) and the
catalog give all of it but the purpose, the aggregate-consumer-information declaration and the purpose of the
cleaning, which come from the policy file's ``[training_data]``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kiroku.catalog.sources import DataType
from kiroku.catalog.stages import StageRecord
from kiroku.disclose.evidence import count_band
from kiroku.disclose.facts import SourceFacts, TrainingDataFacts
from kiroku.disclose.policy import Policy, TrainingDataDeclarations
from kiroku.disclose.schema import LedgerRef, Period, Signature
from kiroku.disclose.scope import ScopeDecision

__all__ = ["FORMAT", "ITEMS", "AB2013Documentation", "build_ab2013"]

FORMAT = "kiroku.ab2013/v1"
LAW = "California Civil Code section 3111 (AB 2013, Generative Artificial Intelligence: Training Data Transparency)"

ITEMS: tuple[str, ...] = (
    "The sources or owners of the datasets.",
    "A description of how the datasets further the intended purpose of the artificial intelligence system or "
    "service.",
    "The number of data points included in the datasets, which may be in general ranges, and with estimated "
    "figures for dynamic datasets.",
    "A description of the types of data points within the datasets.",
    "Whether the datasets include any data protected by copyright, trademark, or patent, or whether the datasets "
    "are entirely in the public domain.",
    "Whether the datasets were purchased or licensed by the developer.",
    "Whether the datasets include personal information, as defined in subdivision (v) of Section 1798.140.",
    "Whether the datasets include aggregate consumer information, as defined in subdivision (b) of Section "
    "1798.140.",
    "Whether there was any cleaning, processing, or other modification to the datasets by the developer, "
    "including the intended purpose of those efforts in relation to the artificial intelligence system or "
    "service.",
    "The time period during which the data in the datasets were collected, including a notice if the data "
    "collection is ongoing.",
    "The dates the datasets were first used during the development of the artificial intelligence system or "
    "service.",
    "Whether the generative artificial intelligence system or service used or continuously uses synthetic data "
    "generation in its development.",
)
"""The twelve items of Civil Code section 3111(a), in the law's words."""

_TYPE_WORDS = {
    DataType.public_dataset: "publicly available dataset",
    DataType.web_crawl: "web crawl",
    DataType.third_party_licensed: "dataset licensed from a third party",
    DataType.user_data: "user data",
    DataType.synthetic: "synthetic data",
    DataType.other: "other data",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(_Strict):
    """One of the twelve items: what the law asks and the answer for the whole system."""

    number: int = Field(ge=1, le=12)
    asks: str = Field(min_length=1)
    answer: str = Field(min_length=1)


class Dataset(_Strict):
    """One dataset (a registered source) with the facts the items are answered from."""

    name: str = Field(min_length=1)
    type: str = Field(min_length=1)
    source_or_owner: str = Field(min_length=1)
    data_points: str = Field(min_length=1, description="kept documents, as a range")
    types_of_data_points: str = Field(min_length=1)
    protected_by_ip: str = Field(min_length=1)
    purchased_or_licensed: str = Field(min_length=1)
    licence: str = Field(min_length=1)
    personal_information: str = Field(min_length=1)
    collection_period: str = Field(min_length=1)
    collection_ongoing: bool
    first_used: str = Field(min_length=1)
    synthetic: bool


class AB2013Documentation(_Strict):
    """The documentation of ``kiroku.ab2013/v1``."""

    format: str = FORMAT
    law: str = LAW
    developer: str = Field(min_length=1)
    systems: list[str] = Field(min_length=1, description="the models and services documented")
    period: Period
    generated: str = Field(description="RFC 3339 time")
    items: list[Item] = Field(min_length=12, max_length=12)
    datasets: list[Dataset]
    ledger: LedgerRef = Field(description="the ledger checkpoint the documentation was derived at")
    signature: Signature | None = None


def _yes_no(value: bool | None, yes: str, no: str) -> str:
    return "not assessed" if value is None else (yes if value else no)


def _collection_period(source: SourceFacts) -> str:
    if source.collected_from is None and source.collected_to is None:
        ingested = f"; first ingested {source.ingested.isoformat()}" if source.ingested else ""
        return f"not recorded{ingested}"
    start = source.collected_from.isoformat() if source.collected_from else "not recorded"
    end = (
        "ongoing"
        if source.ongoing
        else (source.collected_to.isoformat() if source.collected_to else "not recorded")
    )
    return f"{start} to {end}"


def _dataset(source: SourceFacts) -> Dataset:
    record = source.source
    licensed = source.type is DataType.third_party_licensed
    period = _collection_period(source)
    return Dataset(
        name=source.name,
        type=_TYPE_WORDS[source.type],
        source_or_owner=record.origin or "the developer",
        data_points=f"{count_band(source.kept)} documents",
        types_of_data_points="unlabelled text documents"
        + (f" ({record.description})" if record.description else ""),
        protected_by_ip=_yes_no(
            record.copyrighted_works,
            "may include works protected by copyright",
            "no copyright-protected works (own or public-domain data)",
        ),
        purchased_or_licensed="licensed" if licensed else "neither purchased nor licensed",
        licence=record.licence or "not recorded",
        personal_information=_yes_no(record.personal_data, "may include personal information", "none"),
        collection_period=period,
        collection_ongoing=source.ongoing,
        first_used=source.first_used.isoformat()
        if source.first_used
        else "not used in a recorded training run",
        synthetic=source.type is DataType.synthetic,
    )


def _cleaning(
    stages: tuple[StageRecord, ...], declared: TrainingDataDeclarations, dropped_by_optout: str
) -> str:
    done = [f"{stage.name} (dropped {count_band(stage.dropped)} documents)" for stage in stages]
    listed = f"Yes. Cleaning stages recorded in the ledger: {', '.join(done)}. " if done else "Yes. "
    return (
        f"{listed}Documents carrying an opt-out or on a blocklist were removed at ingest ({dropped_by_optout}). "
        f"Purpose: {declared.cleaning_purpose}"
    )


def _answers(
    datasets: list[Dataset], facts: TrainingDataFacts, declared: TrainingDataDeclarations, dropped: str
) -> list[str]:
    def listing(field: str) -> str:
        return "; ".join(f"{d.name}: {getattr(d, field)}" for d in datasets) or "no datasets"

    total = sum(s.kept for s in facts.sources)
    synthetic = [d.name for d in datasets if d.synthetic]
    licensed = [d.name for d in datasets if d.purchased_or_licensed == "licensed"]
    ip = [d.name for d in datasets if d.protected_by_ip.startswith("may include")]
    personal = [d.name for d in datasets if d.personal_information.startswith("may include")]
    return [
        listing("source_or_owner"),
        declared.purpose,
        f"{count_band(total)} documents in all ({listing('data_points')}).",
        listing("types_of_data_points"),
        (f"Yes: {', '.join(ip)} may include copyright-protected data. " if ip else "No. ")
        + f"By dataset: {listing('protected_by_ip')}.",
        (f"Licensed: {', '.join(licensed)}." if licensed else "No dataset was purchased or licensed.")
        + f" Licences: {listing('licence')}.",
        (f"Yes: {', '.join(personal)} may include personal information. " if personal else "No. ")
        + f"By dataset: {listing('personal_information')}.",
        "Yes." if declared.aggregate_consumer_information else "No.",
        _cleaning(facts.stages, declared, dropped),
        listing("collection_period")
        + (
            ". Collection is ongoing for some datasets."
            if any(d.collection_ongoing for d in datasets)
            else "."
        ),
        listing("first_used"),
        f"Yes: {', '.join(synthetic)}." if synthetic else "No synthetic data was used.",
    ]


def build_ab2013(
    facts: TrainingDataFacts,
    decisions: list[ScopeDecision],
    policy: Policy,
    declared: TrainingDataDeclarations,
    dropped_by_optout: str,
    period: dict[str, Any],
    generated: str,
    ledger: dict[str, Any],
) -> dict[str, Any]:
    """The AB 2013 documentation of the models in service in ``period``, as JSON."""
    datasets = [_dataset(s) for s in facts.sources if s.kept or s.first_used]
    answers = _answers(datasets, facts, declared, dropped_by_optout)
    systems = [f"{d.facts.model} {d.facts.version}" for d in decisions] or [
        f"{model} {version}" for model, version in sorted(facts.sources_of_model)
    ]
    documentation = AB2013Documentation(
        developer=policy.firm.name,
        systems=systems,
        period=Period.model_validate(period),
        generated=generated,
        items=[
            Item(number=n, asks=ask, answer=answer)
            for n, (ask, answer) in enumerate(zip(ITEMS, answers, strict=True), 1)
        ],
        datasets=datasets,
        ledger=LedgerRef.model_validate(ledger),
    )
    return documentation.model_dump(mode="json", exclude={"signature"})
