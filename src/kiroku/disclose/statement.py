"""The annual comply-or-explain statement: every requirement of a regime answered from the record, signed.

`build_statement` derives every evidence key a regime's requirements name (`kiroku.disclose.regime.EVIDENCE`),
decides each requirement's status (`kiroku.disclose.status`), binds the statement to a signed ledger checkpoint and
signs it (`kiroku.disclose.signing`). Two tiers come from the same derivation:

- ``public``: requirements of the public tier only, each with its evidence's public view (bands, names, dates),
  its status and the firm's explanation; the findings behind an "explains" are left out, since they carry figures;
- ``regulator``: every requirement, with the full figures and the findings.

A public statement is assembled from public views alone, so a regulator-only figure cannot reach it.
`verify_statement` checks the signature and the checkpoint offline against the firm's public key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from kiroku.catalog.runs import list_runs
from kiroku.catalog.sources import DataType
from kiroku.disclose.ab2013 import FORMAT as AB2013_FORMAT
from kiroku.disclose.ab2013 import AB2013Documentation, build_ab2013
from kiroku.disclose.errors import DisclosureError, PolicyError
from kiroku.disclose.eu_summary import FORMAT as EU_FORMAT
from kiroku.disclose.eu_summary import EUSummary, build_eu_summary
from kiroku.disclose.evidence import (
    Evidence,
    blocklist_evidence,
    crawler_evidence,
    data_source_evidence,
    optout_evidence,
    retention_evidence,
)
from kiroku.disclose.facts import training_data_facts
from kiroku.disclose.index_evidence import domain_index_evidence, trace_index_evidence
from kiroku.disclose.mlbom import build_mlbom
from kiroku.disclose.model_evidence import (
    inquiry_evidence,
    model_evidence,
    provenance_evidence,
    training_evidence,
)
from kiroku.disclose.policy import Policy
from kiroku.disclose.regime import Regime
from kiroku.disclose.schema import Statement
from kiroku.disclose.scope import ScopeDecision, decide_scope
from kiroku.disclose.signing import SignatureError, sign_document, verify_document
from kiroku.disclose.status import Answer, answer_requirement
from kiroku.ledger import Ledger, NoteError, Signer, Verifier
from kiroku.ledger.note import open_checkpoint

__all__ = [
    "FORMAT",
    "SIGNED_FORMATS",
    "Disclosures",
    "Sources",
    "Tier",
    "build_disclosures",
    "build_statement",
    "verify_statement",
]

FORMAT = "kiroku.statement/v1"
SIGNED_FORMATS = (FORMAT, EU_FORMAT, AB2013_FORMAT)
Tier = Literal["public", "regulator"]


@dataclass(frozen=True)
class Sources:
    """Where the record lives: the ledger, the catalog's and the indexes' folders, the crawler's user agents."""

    ledger: Ledger
    catalog_dir: Path
    index_dir: Path
    crawler_agents: tuple[str, ...] = ()


def _period(year: int) -> tuple[date, date]:
    if not 2000 <= year <= 2999:
        raise DisclosureError(f"--period {year}: give the reporting year, e.g. --period 2026")
    return date(year, 1, 1), date(year, 12, 31)


def _evidence(
    sources: Sources, policy: Policy, start: date, end: date
) -> tuple[list[ScopeDecision], dict[str, Evidence]]:
    ledger, catalog = sources.ledger, sources.catalog_dir
    decisions = decide_scope(ledger, start, end, policy)
    if not decisions and not any(start <= run.end and run.start <= end for _, run in list_runs(ledger)):
        raise PolicyError(
            f"--period {start.year}: no model was in service and no training run was recorded in {start.year}; "
            "record releases with `kiroku model release` and runs with `kiroku run record`, or choose another year"
        )
    derived = [
        model_evidence(decisions),
        training_evidence(ledger, decisions),
        data_source_evidence(ledger, catalog),
        crawler_evidence(ledger, catalog, list(sources.crawler_agents), period=(start, end)),
        retention_evidence(ledger, catalog),
        optout_evidence(ledger, catalog),
        provenance_evidence(policy),
        blocklist_evidence(ledger, catalog),
        domain_index_evidence(ledger, sources.index_dir),
        trace_index_evidence(ledger, sources.index_dir),
        inquiry_evidence(policy),
    ]
    return decisions, {item.key: item for item in derived}


def _requirement(answer: Answer, tier: Tier) -> dict[str, Any]:
    requirement = answer.requirement
    entry: dict[str, Any] = {
        "id": requirement.id,
        "principle": requirement.principle,
        "tier": requirement.tier,
        "title": requirement.title.model_dump(),
        "summary": requirement.summary.model_dump(),
        "status": answer.status,
        "evidence": {
            item.key: (item.public if tier == "public" else item.regulator) for item in answer.evidence
        },
        "explanation": None
        if answer.explanation is None
        else {"en": answer.explanation.en, "ja": answer.explanation.ja},
    }
    if tier == "regulator":
        entry["findings"] = list(answer.findings)
    return entry


@dataclass(frozen=True)
class Disclosures:
    """Every document one build derives from the record at one ledger checkpoint."""

    statement: dict[str, Any]
    """The Japanese code's comply-or-explain statement, signed."""
    eu_summary: dict[str, Any]
    """The EU public summary of training content, signed."""
    ab2013: dict[str, Any]
    """California AB 2013's twelve items, signed."""
    mlbom: dict[str, Any]
    """The CycloneDX 1.6 ML-BOM, validated."""


def _statement(
    sources: Sources,
    regime: Regime,
    policy: Policy,
    year: int,
    tier: Tier,
    signer: Signer,
    policy_origin: str,
    now: datetime | None,
) -> tuple[dict[str, Any], list[ScopeDecision], dict[str, Evidence]]:
    start, end = _period(year)
    decisions, evidence = _evidence(sources, policy, start, end)
    answers = [answer_requirement(r, evidence, policy, policy_origin) for r in regime.requirements]
    shown = [a for a in answers if tier == "regulator" or a.requirement.tier == "public"]
    checkpoint = sources.ledger.checkpoint(signer)
    document: dict[str, Any] = {
        "format": FORMAT,
        "tier": tier,
        "regime": {
            "name": regime.name,
            "id": regime.id,
            "version": regime.version,
            "title": regime.title.model_dump(),
            "official_text": regime.official_text,
            "wording": regime.wording.model_dump(),
        },
        "period": {"year": year, "start": start.isoformat(), "end": end.isoformat()},
        "firm": policy.firm.model_dump(mode="json"),
        "generated": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "summary": {
            status: sum(a.status == status for a in shown) for status in ("complies", "partially", "explains")
        },
        "requirements": [_requirement(answer, tier) for answer in shown],
        "ledger": {
            "size": checkpoint.size,
            "root": checkpoint.root_hash.hex(),
            "checkpoint": checkpoint.note,
        },
    }
    signed = sign_document(document, signer)
    Statement.model_validate(signed)  # what is signed has the published schema's shape
    return signed, decisions, evidence


def build_statement(
    sources: Sources,
    regime: Regime,
    policy: Policy,
    year: int,
    tier: Tier,
    signer: Signer,
    *,
    policy_origin: str = "the policy file",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The signed statement for reporting year ``year`` in ``tier``.

    Raises `PolicyError` (`MissingExplanation`) when the record shows non-compliance that ``policy`` does not
    explain, or when nothing was in service or trained in the year; `DisclosureError` for an impossible year.
    """
    return _statement(sources, regime, policy, year, tier, signer, policy_origin, now)[0]


def build_disclosures(
    sources: Sources,
    regime: Regime,
    policy: Policy,
    year: int,
    tier: Tier,
    signer: Signer,
    *,
    policy_origin: str = "the policy file",
    now: datetime | None = None,
) -> Disclosures:
    """The statement of `build_statement` and, from the same record at the same checkpoint, the EU summary of
    training content, California's AB 2013 items (both public by law, whatever ``tier``) and the ML-BOM.

    Raises what `build_statement` raises, and `PolicyError` when the policy file lacks ``[training_data]``.
    """
    declared = policy.declarations(policy_origin)
    statement, decisions, evidence = _statement(
        sources, regime, policy, year, tier, signer, policy_origin, now
    )
    facts = training_data_facts(sources.ledger, sources.catalog_dir, sme=declared.sme)
    if facts.of_type(DataType.web_crawl) and declared.crawler_purposes is None:
        raise PolicyError(
            f"{policy_origin}: training_data.crawler_purposes is missing: the data includes a web crawl, and the "
            'EU summary states what the crawlers collect for. Add under [training_data]: crawler_purposes = "..."'
        )
    ledger = statement["ledger"]
    generated = datetime.fromisoformat(statement["generated"])
    common = (statement["period"], statement["generated"], ledger)
    eu = build_eu_summary(facts, decisions, evidence, policy, declared, *common)
    ab = build_ab2013(
        facts, decisions, policy, declared, evidence["optouts"].public["documents_dropped"], *common
    )
    signed_eu, signed_ab = sign_document(eu, signer), sign_document(ab, signer)
    EUSummary.model_validate(signed_eu)  # each has its published schema's shape
    AB2013Documentation.model_validate(signed_ab)
    return Disclosures(
        statement=statement,
        eu_summary=signed_eu,
        ab2013=signed_ab,
        mlbom=build_mlbom(facts, decisions, sources.ledger, policy, generated, ledger, signer),
    )


def verify_statement(document: dict[str, Any], verifier: Verifier) -> None:
    """Check a statement, EU summary or AB 2013 documentation offline: its format, its signature, and that its
    ledger checkpoint is signed by the same key and names the size and root the document states.
    `SignatureError` says what failed."""
    if document.get("format") not in SIGNED_FORMATS:
        raise SignatureError(
            f"not a signed kiroku disclosure: format is {document.get('format')!r}, expected one of "
            f"{', '.join(SIGNED_FORMATS)}"
        )
    verify_document(document, verifier)
    ledger = document.get("ledger")
    if not isinstance(ledger, dict) or not isinstance(ledger.get("checkpoint"), str):
        raise SignatureError("the statement carries no ledger checkpoint")
    try:
        checkpoint, _ = open_checkpoint(ledger["checkpoint"], verifier)
    except NoteError as exc:
        raise SignatureError(f"the statement's ledger checkpoint does not verify: {exc}") from exc
    if (checkpoint.size, checkpoint.root_hash.hex()) != (ledger.get("size"), ledger.get("root")):
        raise SignatureError("the statement's ledger size and root are not those of its signed checkpoint")
