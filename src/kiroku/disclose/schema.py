"""The statement's schema (``kiroku.statement/v1``) as pydantic models, each field tagged with its tier.

`build_statement` checks every statement it signs against `Statement`, and the JSON Schema published at
``docs/statement.schema.json`` is `statement_json_schema()` (``python -m kiroku.disclose.schema`` prints it; a test
keeps the file current). A field's ``tier`` says who may read it: ``public`` fields appear in both tiers,
``regulator`` fields only in the regulator's statement. Evidence values are tiered where they are derived
(`kiroku.disclose.evidence`) and typed, field by field with their tiers, in `kiroku.disclose.evidence_views`.
A public statement carries public-tier requirements only, each without findings and with each evidence key's
public view: `Statement` checks it, and the published schema says it with an ``if``/``then`` on ``tier``.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kiroku.disclose.evidence_views import PUBLIC, REGULATOR, EvidenceViews, public_views_schema
from kiroku.disclose.policy import Firm
from kiroku.disclose.regime import Bilingual

__all__ = ["PUBLIC", "REGULATOR", "Statement", "statement_json_schema"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegimeRef(_Strict):
    """The regime and version the statement answers."""

    name: str = Field(json_schema_extra=PUBLIC)
    id: str = Field(json_schema_extra=PUBLIC)
    version: str = Field(json_schema_extra=PUBLIC)
    title: Bilingual = Field(json_schema_extra=PUBLIC)
    official_text: str = Field(json_schema_extra=PUBLIC)
    wording: Bilingual = Field(json_schema_extra=PUBLIC)


class Period(_Strict):
    """The reporting year."""

    year: int = Field(json_schema_extra=PUBLIC)
    start: str = Field(json_schema_extra=PUBLIC, description="ISO date")
    end: str = Field(json_schema_extra=PUBLIC, description="ISO date")


class Summary(_Strict):
    """How many requirements have each status."""

    complies: int = Field(ge=0, json_schema_extra=PUBLIC)
    partially: int = Field(ge=0, json_schema_extra=PUBLIC)
    explains: int = Field(ge=0, json_schema_extra=PUBLIC)


class RequirementAnswer(_Strict):
    """One requirement answered."""

    id: str = Field(json_schema_extra=PUBLIC)
    principle: str = Field(json_schema_extra=PUBLIC)
    tier: Literal["public", "regulator"] = Field(
        json_schema_extra=PUBLIC,
        description="regulator-tier requirements appear in the regulator's statement only",
    )
    title: Bilingual = Field(json_schema_extra=PUBLIC)
    summary: Bilingual = Field(json_schema_extra=PUBLIC)
    status: Literal["complies", "partially", "explains"] = Field(json_schema_extra=PUBLIC)
    evidence: EvidenceViews = Field(
        json_schema_extra=PUBLIC,
        description="by evidence key: its public view in a public statement, its regulator view in the other",
    )
    explanation: Bilingual | None = Field(json_schema_extra=PUBLIC)
    findings: list[str] | None = Field(
        default=None,
        json_schema_extra=REGULATOR,
        description="what the record shows wrong (regulator tier only)",
    )


class LedgerRef(_Strict):
    """The ledger checkpoint the statement is bound to."""

    size: int = Field(ge=0, json_schema_extra=PUBLIC)
    root: str = Field(pattern=r"^[0-9a-f]{64}$", json_schema_extra=PUBLIC)
    checkpoint: str = Field(
        json_schema_extra=PUBLIC, description="the C2SP signed note of that size and root"
    )


class Signature(_Strict):
    """Ed25519 over the canonical JSON (RFC 8785) of the statement without this member."""

    algorithm: Literal["ed25519"] = Field(json_schema_extra=PUBLIC)
    key_name: str = Field(json_schema_extra=PUBLIC)
    key_id: str = Field(pattern=r"^[0-9a-f]{8}$", json_schema_extra=PUBLIC)
    value: str = Field(json_schema_extra=PUBLIC, description="base64")


# What `Statement._public_reads_public` checks, for any JSON Schema validator: in a public statement, every
# requirement is of the public tier, carries no findings, and each evidence key holds its public view. Added to the
# generated schema by `statement_json_schema`, since pydantic names its $defs only once the schema is generated.
_PUBLIC_STATEMENT: dict[str, Any] = {
    "if": {"properties": {"tier": {"const": "public"}}, "required": ["tier"]},
    "then": {
        "properties": {
            "requirements": {
                "items": {
                    "properties": {"tier": {"const": "public"}, "evidence": public_views_schema()},
                    "not": {"required": ["findings"]},
                }
            }
        }
    },
}


class Statement(_Strict):
    """An annual comply-or-explain statement (``kiroku.statement/v1``)."""

    format: Literal["kiroku.statement/v1"] = Field(json_schema_extra=PUBLIC)
    tier: Literal["public", "regulator"] = Field(json_schema_extra=PUBLIC)
    regime: RegimeRef = Field(json_schema_extra=PUBLIC)
    period: Period = Field(json_schema_extra=PUBLIC)
    firm: Firm = Field(json_schema_extra=PUBLIC)
    generated: str = Field(json_schema_extra=PUBLIC, description="RFC 3339 time")
    summary: Summary = Field(json_schema_extra=PUBLIC)
    requirements: list[RequirementAnswer] = Field(json_schema_extra=PUBLIC)
    ledger: LedgerRef = Field(json_schema_extra=PUBLIC)
    signature: Signature | None = Field(default=None, json_schema_extra=PUBLIC)

    @model_validator(mode="after")
    def _public_reads_public(self) -> Self:
        """A public statement carries nothing of the regulator tier: no regulator-tier requirement, no findings,
        no evidence view but a public one."""
        if self.tier != "public":
            return self
        for answer in self.requirements:
            if answer.tier != "public":
                raise ValueError(f"requirement {answer.id!r} is of the regulator tier, in a public statement")
            if "findings" in answer.model_fields_set:
                raise ValueError(f"requirement {answer.id!r} carries findings, in a public statement")
            if leaked := answer.evidence.not_public():
                raise ValueError(
                    f"requirement {answer.id!r} carries the regulator view of {', '.join(map(repr, leaked))}, "
                    "in a public statement (a public statement carries each evidence key's public view)"
                )
        return self


def statement_json_schema() -> dict[str, Any]:
    """The JSON Schema of `Statement`, as published in docs/statement.schema.json."""
    return {**Statement.model_json_schema(), **_PUBLIC_STATEMENT}


def published_schemas() -> dict[str, dict[str, Any]]:
    """Every disclosure's JSON Schema by the file it is published as under docs/."""
    from kiroku.disclose.ab2013 import AB2013Documentation
    from kiroku.disclose.eu_summary import EUSummary

    return {
        "statement.schema.json": statement_json_schema(),
        "eu-summary.schema.json": EUSummary.model_json_schema(),
        "ab2013.schema.json": AB2013Documentation.model_json_schema(),
    }


def main(argv: list[str]) -> int:
    """``python -m kiroku.disclose.schema [NAME]``: print the statement's JSON Schema, or the one published as
    docs/NAME (statement.schema.json, eu-summary.schema.json, ab2013.schema.json)."""
    schemas = published_schemas()
    name = argv[0] if argv else "statement.schema.json"
    if name not in schemas:
        print(f"no schema {name!r}: choose one of {', '.join(schemas)}", file=sys.stderr)
        return 2
    print(json.dumps(schemas[name], ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
