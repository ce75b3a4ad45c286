"""Record kind ``domains.index``: the commitment a domain index rests on, appended each time it is built.

For each scope (the whole catalog, each cleaning stage's kept set, each training run's data) and each table
(registrable domains, hosts), the record holds the Merkle root (RFC 9162) and size of the sorted table of
entries, and the names of the counts each entry carries. An entry's leaf is::

    SHA-256(name) || count_1 || ... || count_k        (each count a big-endian uint64, in ``fields`` order)

sorted by SHA-256(name). Every scope lists the same names, those of the catalog, in the same order (a name a
stage or run does not hold has zero counts there), so the tables of one table kind all have one size. A present
name is proved by its leaf's inclusion; an absent one by the two adjacent leaves whose keys bracket its key, the
same two in every scope: a bundle reveals at most two other names' hashes. Names never enter the ledger.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from kiroku.ledger import register_kind

__all__ = [
    "CATALOG",
    "INDEX_FORMAT",
    "TABLES",
    "DomainIndexRecord",
    "ScopeCommitment",
    "Table",
    "TableCommitment",
]

INDEX_FORMAT: Final = "kiroku.domain-index/v1"
CATALOG: Final = "catalog"
Table = Literal["domain", "host"]
TABLES: Final[tuple[Table, Table]] = ("domain", "host")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TableCommitment(_Strict):
    """One sorted table of a scope: how many entries and the Merkle root over their leaves."""

    size: int = Field(ge=0)
    root: str = Field(pattern=r"^[0-9a-f]{64}$")


class ScopeCommitment(_Strict):
    """The tables of one scope: ``catalog``, ``stage:NAME`` or ``run:MODEL@VERSION/RUN``.

    ``domain`` holds registrable domains (each with all its hosts); ``host`` the hosts under a domain that are
    not themselves a registrable domain (``www.example.com``, ``news.example.com``).
    """

    scope: str
    record: int | None = Field(description="The stage's or run's ledger record; None for the catalog.")
    fields: list[str] = Field(min_length=1, description="Names of the counts in each leaf, in order.")
    domain: TableCommitment
    host: TableCommitment

    def table(self, table: Table) -> TableCommitment:
        """The commitment of ``table`` (``domain`` or ``host``)."""
        return self.domain if table == "domain" else self.host


class DomainIndexRecord(_Strict):
    """Record kind ``domains.index``."""

    format: Literal["kiroku.domain-index/v1"] = INDEX_FORMAT
    ledger_size: int = Field(
        ge=0, description="The index was built from the ledger's first ledger_size records."
    )
    shards: list[int] = Field(description="Ledger indexes of the catalog.shard records it covers.")
    documents: int = Field(
        ge=0, description="Documents (shard rows) with a URL, counted in the catalog scope."
    )
    without_url: int = Field(ge=0, description="Documents without a URL, which no domain answer can count.")
    scopes: list[ScopeCommitment] = Field(min_length=1)

    def scope(self, name: str) -> ScopeCommitment | None:
        """The commitment of scope ``name``, or None."""
        return next((s for s in self.scopes if s.scope == name), None)


register_kind("domains.index", DomainIndexRecord)
