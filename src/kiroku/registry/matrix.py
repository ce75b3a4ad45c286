"""The comply-or-explain matrix: for a year, each firm's status per requirement, from its latest statement.

A firm's row comes from the latest version of its public statement for the year; a firm with none is "not filed"
in every column. The columns are the public requirements of the bundled regime, then any other requirement a filed
statement answers (a newer draft, say), so that nothing filed is hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Engine, select

from kiroku.disclose import load_regime
from kiroku.registry.db import filings
from kiroku.registry.filings import Filing, list_filings
from kiroku.registry.firms import Firm, list_firms

__all__ = ["STATUSES", "Matrix", "MatrixRow", "Requirement", "build_matrix", "filed_years"]

Status = Literal["complies", "partially", "explains", "not_filed"]
STATUSES: tuple[Status, ...] = ("complies", "partially", "explains", "not_filed")
REGIME = "jp-aiip-2026-04"


@dataclass(frozen=True)
class Requirement:
    """A column: a requirement's id and its title in both languages."""

    id: str
    title: dict[str, str]


@dataclass(frozen=True)
class MatrixRow:
    """One firm: its latest statement for the year (if any) and its status per requirement id."""

    firm: Firm
    statement: Filing | None
    statuses: dict[str, Status]

    def public(self) -> dict[str, Any]:
        """As the JSON twin shows it."""
        return {
            "firm": self.firm.slug,
            "name": self.firm.name,
            "flagged": self.firm.flagged,
            "statement": None if self.statement is None else self.statement.id,
            "version": None if self.statement is None else self.statement.version,
            "statuses": self.statuses,
        }


@dataclass(frozen=True)
class Matrix:
    """The matrix for one year, after filters, with the count of each status per requirement."""

    year: int
    requirements: list[Requirement]
    rows: list[MatrixRow]
    totals: dict[str, dict[Status, int]] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """As the JSON twin shows it."""
        return {
            "year": self.year,
            "requirements": [{"id": r.id, "title": r.title} for r in self.requirements],
            "firms": [row.public() for row in self.rows],
            "totals": self.totals,
        }


def filed_years(engine: Engine) -> list[int]:
    """The years statements were filed for, newest first."""
    with engine.connect() as conn:
        years = conn.execute(select(filings.c.year).distinct().order_by(filings.c.year.desc())).scalars()
        return [int(year) for year in years]


def _columns(statements: list[Filing]) -> list[Requirement]:
    regime = load_regime(REGIME)
    columns = {
        r.id: Requirement(r.id, r.title.model_dump()) for r in regime.requirements if r.tier == "public"
    }
    for statement in statements:
        for answered in statement.document.get("requirements", []):
            if answered.get("id") not in columns:
                columns[answered["id"]] = Requirement(answered["id"], dict(answered.get("title") or {}))
    return list(columns.values())


def build_matrix(
    engine: Engine,
    year: int,
    *,
    search: str | None = None,
    requirement: str | None = None,
    status: str | None = None,
) -> Matrix:
    """The matrix for ``year``; ``search`` keeps firms whose name contains it, ``requirement`` and ``status``
    keep firms with that status for that requirement (or for any requirement, without ``requirement``)."""
    latest: dict[str, Filing] = {}
    for statement in list_filings(engine, year=year, kind="statement", newest_first=False):
        latest[statement.firm] = statement  # later versions replace earlier ones
    columns = _columns(list(latest.values()))
    rows = []
    for firm in list_firms(engine):
        filed = latest.get(firm.slug)
        answered = {} if filed is None else {r["id"]: r["status"] for r in filed.document["requirements"]}
        statuses: dict[str, Status] = {c.id: answered.get(c.id, "not_filed") for c in columns}
        rows.append(MatrixRow(firm, filed, statuses))
    if search:
        needle = search.casefold()
        rows = [row for row in rows if needle in row.firm.name.casefold() or needle in row.firm.slug]
    if status:
        rows = [
            row
            for row in rows
            if (row.statuses.get(requirement) == status if requirement else status in row.statuses.values())
        ]
    totals = {c.id: {s: sum(row.statuses[c.id] == s for row in rows) for s in STATUSES} for c in columns}
    return Matrix(year, columns, rows, totals)
