"""Regimes: the requirements a statement answers, read from versioned TOML files.

A regime file names the regime and its version, and lists its requirements. Each requirement has an id (stable
across versions where the requirement stays the same), a title and a summary in Japanese and English, the tier it
belongs to (``public``: may appear in the public statement; ``regulator``: given to the regulator only) and the
evidence kiroku derives for it, as keys of `EVIDENCE`. The wording is kiroku's summary of each requirement, not the
official text; the file says where the official text is.

Bundled regimes live in ``kiroku/disclose/regimes/`` (`bundled_regimes`); `load_regime` takes a bundled regime's
name (``jp-aiip-2026-04``) or the path of a file written the same way, so a firm can answer a newer draft before
kiroku ships it. Errors name the file and the line or field at fault.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from kiroku._textfile import parse_user_toml, read_user_text
from kiroku.catalog.runs import validation_message
from kiroku.disclose.errors import RegimeError

__all__ = ["EVIDENCE", "Bilingual", "Regime", "Requirement", "bundled_regimes", "load_regime"]

EVIDENCE: Final[dict[str, str]] = {
    "models": "models in service in the period and their releases (model.release records)",
    "training": "architecture and training method of each run (training.run records)",
    "data_sources": "types and sources of training data with their shares of the kept tokens (source records, "
    "catalog shards, the runs' data mix)",
    "crawler": "crawler user agents, the period of the fetches, pages and hosts fetched, by source (catalog); the "
    "crawls of kiroku's crawler in the period: agents, period, pages, hosts, URLs skipped by reason and the share "
    "of fetches under a fresh robots.txt (crawl.run records)",
    "retention": "the retention policy and when each obligation ends (workspace policy, retention records)",
    "optouts": "opt-out protocols honoured and documents dropped by each signal; kept documents whose fetch an "
    "opt-out disallowed (catalog, opt-out audit)",
    "provenance": "provenance and watermarking measures (policy file)",
    "blocklists": "blocklists used against piracy sites and the documents they dropped (catalog)",
    "domain_index": "domain answers available and the share of the catalog's shards the domain index covers "
    "(indexes)",
    "trace_index": "trace answers available and the share of the catalog's shards the trace index covers (indexes)",
    "inquiries": "the contact point for rightsholders (policy file); counts of inquiries are not recorded yet",
}
"""Evidence kiroku derives from the record, by key: what a requirement's ``evidence`` may name."""

_BUNDLED: Final = "regimes"
_Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)*$", max_length=64)]
_Version = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$", max_length=32)]
_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Bilingual(BaseModel):
    """A text in English and Japanese, both required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: _Text
    ja: _Text


class Requirement(BaseModel):
    """One requirement of a regime."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: _Id
    principle: _Text = Field(
        description="the part of the regime it belongs to: disclosure, records, principle-1, ..."
    )
    title: Bilingual
    summary: Bilingual = Field(description="kiroku's summary of what the regime asks, not the official text")
    tier: Literal["public", "regulator"]
    evidence: tuple[str, ...] = Field(min_length=1)

    @field_validator("evidence")
    @classmethod
    def _known_evidence(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [key for key in value if key not in EVIDENCE]
        if unknown:
            raise ValueError(
                f"unknown evidence {', '.join(map(repr, unknown))} (known: {', '.join(EVIDENCE)})"
            )
        return value


class Regime(BaseModel):
    """A regime at one version: what it is, where its official text is, and its requirements."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: _Id
    version: _Version
    title: Bilingual
    official_text: _Text = Field(description="where the regime's own text is published")
    wording: Bilingual = Field(description="what the requirement texts in this file are (kiroku's summaries)")
    requirements: tuple[Requirement, ...] = Field(alias="requirement", min_length=1)

    @field_validator("requirements")
    @classmethod
    def _unique_ids(cls, value: tuple[Requirement, ...]) -> tuple[Requirement, ...]:
        seen: set[str] = set()
        for requirement in value:
            if requirement.id in seen:
                raise ValueError(f"requirement id {requirement.id!r} appears twice")
            seen.add(requirement.id)
        return value

    @property
    def name(self) -> str:
        """``id-version``, as statements name the regime they answer."""
        return f"{self.id}-{self.version}"

    def requirement(self, ident: str) -> Requirement:
        """The requirement with id ``ident``; `RegimeError` listing the ids when there is none."""
        for requirement in self.requirements:
            if requirement.id == ident:
                return requirement
        known = ", ".join(r.id for r in self.requirements)
        raise RegimeError(f"{self.name} has no requirement {ident!r} (its requirements: {known})")


def bundled_regimes() -> list[str]:
    """The names of the regimes shipped with kiroku, sorted."""
    folder = resources.files("kiroku.disclose") / _BUNDLED
    return sorted(
        entry.name.removesuffix(".toml") for entry in folder.iterdir() if entry.name.endswith(".toml")
    )


def load_regime(name_or_path: str | Path) -> Regime:
    """A bundled regime by name (``jp-aiip-2026-04``), or a regime file by path.

    Raises `RegimeError` naming the file and the line (TOML syntax) or field (schema) at fault, or the bundled
    names when a name matches none of them.
    """
    path = Path(name_or_path)
    if path.suffix != ".toml" and not path.exists():
        if str(name_or_path) not in bundled_regimes():
            known = ", ".join(bundled_regimes())
            raise RegimeError(
                f"no regime {str(name_or_path)!r}: kiroku ships {known}, or give a TOML file's path"
            )
        resource = resources.files("kiroku.disclose") / _BUNDLED / f"{name_or_path}.toml"
        return _parse(resource.read_text(encoding="utf-8"), f"{name_or_path}.toml (bundled)")
    return _parse(read_user_text(path, RegimeError), str(path))


def _parse(text: str, origin: str) -> Regime:
    data = parse_user_toml(text, origin, RegimeError)
    try:
        return Regime.model_validate(data)
    except ValidationError as exc:
        raise RegimeError(f"{origin}: {validation_message(exc)}") from exc
