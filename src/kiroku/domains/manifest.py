"""The domain index's manifest: which ledger records it covers and which files hold each scope's tables.

``<index>/domains/manifest.json`` is replaced atomically at the end of every build, after the commitment record
is in the ledger; files it does not name are leftovers of an interrupted build and are removed by the next one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kiroku.domains.errors import IndexCorrupt, IndexMissing
from kiroku.domains.record import INDEX_FORMAT, Table, TableCommitment

__all__ = ["MANIFEST", "IndexManifest", "ScopeFiles", "Segment", "read_manifest", "write_manifest"]

MANIFEST: Final = "manifest.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Segment(_Strict):
    """Per (domain, host) counts of a batch of shards, so that new shards add a segment instead of a rebuild."""

    file: str
    reasons_file: str
    shards: list[int]
    documents: int
    without_url: int


class ScopeFiles(_Strict):
    """One scope: what it is, what each entry counts, and the stem of its table files."""

    scope: str
    kind: Literal["catalog", "stage", "run"]
    record: int | None
    name: str
    """``catalog``, the stage's name, or the run's ``model@version/name``."""
    input: str | None = None
    """A stage's input set (``catalog`` or another stage)."""
    model: str | None = None
    version: str | None = None
    stem: str
    """Stem of this build's table files (``<stem>.<table>.leaves.npy`` ...)."""
    counts: str
    """Stem of the per-name counts files (``<counts>.<table>.counts.parquet``), kept across builds for stages
    and runs, which never change."""
    fields: list[str]
    domain: TableCommitment
    host: TableCommitment

    def table(self, table: Table) -> TableCommitment:
        """The commitment of ``table``."""
        return self.domain if table == "domain" else self.host


class IndexManifest(_Strict):
    """What a built domain index holds."""

    format: Literal["kiroku.domain-index/v1"] = INDEX_FORMAT
    record: int = Field(ge=0, description="The domains.index record committing to this index.")
    ledger_size: int
    shards: list[int]
    stages: list[int]
    runs: list[int]
    documents: int
    without_url: int
    built: str
    segments: list[Segment]
    scopes: list[ScopeFiles]

    def scope(self, name: str) -> ScopeFiles | None:
        """Scope ``name`` (``catalog``, ``stage:NAME``, ``run:IDENT``), or None."""
        return next((s for s in self.scopes if s.scope == name), None)


def read_manifest(directory: Path) -> IndexManifest:
    """The manifest of the index in ``directory``; `IndexMissing` or `IndexCorrupt` when it cannot be read."""
    path = directory / MANIFEST
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexMissing(
            "no domain index has been built in this workspace yet; build it with 'kiroku index domains'"
        ) from None
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(
            f"{path}: cannot be read ({exc}); rebuild with 'kiroku index domains --rebuild'"
        ) from exc
    try:
        return IndexManifest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise IndexCorrupt(
            f"{path}: field {where!r}: {first['msg']}; rebuild with 'kiroku index domains --rebuild'"
        ) from exc


def write_manifest(directory: Path, manifest: IndexManifest) -> None:
    """Replace the manifest atomically (written, flushed, then renamed into place)."""
    path = directory / MANIFEST
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(manifest.model_dump_json(indent=1))
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
