"""Cleaning-stage lineage: which documents of its input set a stage kept, which it dropped, and why.

A stage (language id, quality filter, dedup, PII removal, decontamination, ...) works on an *input set*: the
``catalog`` (every kept document of every recorded shard) or the documents an earlier stage kept. Recording it
writes a lineage file, ``stages/<name>.lineage.parquet`` under the catalog folder, with one row per input
document (``doc_id``, ``kept``, ``reason``) sorted by id, and then appends one ledger record of kind
``catalog.stage`` (`StageRecord`) holding the counts, the parameters, the file's SHA-256 and two Merkle roots
(RFC 9162): over the sorted kept ids and over the sorted dropped ids. That a document was kept (or dropped) by a
stage is then proved by its id's inclusion proof in ``kept_root`` (or ``dropped_root``), built from the file
(`prove_in_stage`), chained to the record's inclusion in the log.

The record is appended only after the lineage file is in place; a crash before leaves nothing recorded, and the
orphan file is overwritten when the stage is recorded again. Ids are given as 32-byte document ids, or as an
`IdList` read from a file (`read_id_file`) whose entries may be hex ids, external ids, URLs or texts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError, field_validator, model_validator

from kiroku.catalog._stage_build import LINEAGE_SCHEMA, CatalogInput, StageBuild, sha256_file
from kiroku.catalog._stage_ids import (
    IDS_SCHEMA,
    IdCollector,
    IdList,
    Progress,
    StageError,
    ids_from_bytes,
    read_id_file,
)
from kiroku.catalog._stage_proof import locate, path_hashes
from kiroku.ledger import InvalidRecord, Ledger, merkle, prepare, register_kind

__all__ = [
    "CATALOG",
    "LINEAGE_SCHEMA",
    "VIA",
    "IdCollector",
    "IdList",
    "Progress",
    "StageError",
    "StageProof",
    "StageRecord",
    "checked_lineage",
    "find_stage",
    "input_ids",
    "lineage_path",
    "list_stages",
    "prove_in_stage",
    "read_id_file",
    "read_lineage",
    "record_stage",
]

CATALOG = "catalog"
"""The input set of every kept document of every recorded shard."""

VIA = ("cli", "api", "datatrove", "openlineage")
"""How a stage can come in: the command line, the Python API, a datatrove step, an OpenLineage event."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_HEX = re.compile(r"^[0-9a-f]{64}$")


class StageRecord(BaseModel):
    """Record kind ``catalog.stage``: one completed cleaning stage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """A slug, unique in the ledger."""
    input: str
    """``catalog`` or the name of an earlier stage, whose kept documents are this stage's input."""
    input_record: int | None
    """Ledger index of the input stage's record; None for ``catalog``."""
    input_shards: list[int]
    """For ``catalog``: ledger indexes of the ``catalog.shard`` records it covered; else empty."""
    input_documents: int
    """Distinct document ids in the input set."""
    kept: int
    dropped: int
    dropped_by_reason: dict[str, int]
    parameters: dict[str, JsonValue]
    """What the stage was run with, as JSON, e.g. ``{"threshold": 0.5, "model": "fasttext lid.176"}``."""
    kept_root: str
    """Hex RFC 9162 Merkle root over the sorted distinct kept document ids (32 bytes each)."""
    dropped_root: str
    """The same over the dropped ids."""
    lineage_file: str
    """Path of the lineage Parquet file, relative to the catalog folder."""
    lineage_sha256: str
    via: str
    """``cli``, ``api``, ``datatrove`` or ``openlineage``."""

    @field_validator("name")
    @classmethod
    def _name_is_a_slug(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                "a stage name is 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        if value == CATALOG:
            raise ValueError(
                f"{CATALOG!r} names the whole catalog as an input set; choose another stage name"
            )
        return value

    @field_validator("kept_root", "dropped_root", "lineage_sha256")
    @classmethod
    def _hex_digest(cls, value: str) -> str:
        if not _HEX.match(value):
            raise ValueError("must be 64 lower-case hex digits")
        return value

    @field_validator("via")
    @classmethod
    def _known_way_in(cls, value: str) -> str:
        if value not in VIA:
            raise ValueError(f"must be one of {', '.join(VIA)}")
        return value

    @model_validator(mode="after")
    def _counts_add_up(self) -> Self:
        if self.kept + self.dropped != self.input_documents:
            raise ValueError(
                f"kept ({self.kept}) + dropped ({self.dropped}) != input documents ({self.input_documents})"
            )
        if sum(self.dropped_by_reason.values()) != self.dropped:
            raise ValueError("the counts by reason do not add up to the dropped count")
        if (self.input == CATALOG) != (self.input_record is None):
            raise ValueError("input_record is None exactly when the input is the catalog")
        return self


register_kind("catalog.stage", StageRecord)


def list_stages(ledger: Ledger) -> list[tuple[int, StageRecord]]:
    """Every recorded stage with its record index, oldest first (records whose body expired are left out)."""
    stages = []
    for record in ledger.records_of_kind("catalog.stage"):
        body = record.body_json()
        if body is not None:
            stages.append((record.index, StageRecord.model_validate(body)))
    return stages


def find_stage(ledger: Ledger, name: str) -> tuple[int, StageRecord]:
    """The stage called ``name`` and its record index; `StageError` naming the known stages if there is none."""
    stages = list_stages(ledger)
    for index, stage in stages:
        if stage.name == name:
            return index, stage
    known = ", ".join(stage.name for _, stage in stages) or "none yet"
    raise StageError(f"no stage named {name!r} (recorded: {known}); record one with 'kiroku stage record'")


def lineage_path(name: str) -> str:
    """Where a stage's lineage file goes, relative to the catalog folder."""
    return f"stages/{name}.lineage.parquet"


def _load_input(build: StageBuild, ledger: Ledger, catalog_dir: Path, input: str) -> CatalogInput:
    if input == CATALOG:
        return build.load_catalog()
    index, stage = find_stage(ledger, input)
    return build.load_stage(index, catalog_dir / stage.lineage_file, stage.lineage_sha256)


def input_ids(ledger: Ledger, catalog_dir: Path, input: str) -> pa.Array:
    """The sorted distinct document ids of an input set, as an Arrow ``binary(32)`` array.

    ``input`` is ``catalog`` or a recorded stage's name (its kept documents). ``.to_pylist()`` gives bytes.
    """
    with StageBuild(ledger, catalog_dir) as build:
        _load_input(build, ledger, catalog_dir, input)
        return build.input_ids()


def _as_id_lists(
    ids: Iterable[bytes] | pa.Array | pa.ChunkedArray | IdList | list[IdList], label: str
) -> list[IdList]:
    if isinstance(ids, IdList):
        return [ids]
    if isinstance(ids, list) and ids and all(isinstance(part, IdList) for part in ids):
        return list(ids)
    if isinstance(ids, pa.Array | pa.ChunkedArray):
        column = ids.cast(pa.binary())
        collector = IdCollector(label, unit="item")
        lengths = pc.binary_length(column)
        if len(column) and (
            column.null_count or pc.min(lengths).as_py() != 32 or pc.max(lengths).as_py() != 32
        ):
            collector.abandon()
            raise StageError(f"{label}: every document id must be 32 bytes")
        for start in range(0, len(column), 65_536):
            chunk = column.slice(start, 65_536)
            n = len(chunk)
            nulls = pa.nulls(n, pa.binary())
            lines = pa.array(range(start + 1, start + n + 1), pa.int64())
            doc_ids = chunk.combine_chunks() if isinstance(chunk, pa.ChunkedArray) else chunk
            collector.add_batch(
                pa.RecordBatch.from_arrays(
                    [lines, pa.nulls(n, pa.string()), doc_ids, nulls, pa.nulls(n, pa.string())],
                    schema=IDS_SCHEMA,
                )
            )
        return [collector.finish()]
    return [ids_from_bytes(ids, label)]  # type: ignore[arg-type]


def _reasons(reasons: Mapping[bytes, str] | IdList | list[IdList]) -> list[IdList]:
    if isinstance(reasons, IdList):
        return [reasons]
    if isinstance(reasons, list):
        return reasons
    collector = IdCollector("dropped_reasons", unit="item")
    for position, (doc_id, reason) in enumerate(reasons.items(), start=1):
        if len(doc_id) != 32:
            collector.abandon()
            raise StageError(
                f"dropped_reasons: item {position}: a document id is 32 bytes, not {len(doc_id)}"
            )
        collector.add(position, doc_id=bytes(doc_id), reason=reason)
    return [collector.finish()]


def record_stage(
    ledger: Ledger,
    catalog_dir: Path,
    name: str,
    input: str,
    kept_ids: Iterable[bytes] | pa.Array | pa.ChunkedArray | IdList | list[IdList],
    *,
    dropped_reasons: Mapping[bytes, str] | IdList | list[IdList] | None = None,
    default_reason: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    via: str = "cli",
    time: datetime | None = None,
    progress: Progress | None = None,
) -> tuple[int, StageRecord]:
    """Record the stage ``name`` over ``input`` (``catalog`` or an earlier stage): one ledger record.

    ``kept_ids`` are 32-byte document ids, or `IdList`s read from files (ids, external ids, URLs or texts,
    resolved against the input set). Every input document not kept is dropped, with its reason from
    ``dropped_reasons`` or ``default_reason`` (default ``dropped by <name>``). Raises `StageError`, naming the
    file and line where there is one, for a taken name, an unknown input, an id not in the input set, an
    ambiguous external id or URL, or a document both kept and dropped; nothing is recorded then.
    Returns the record's index and the record.
    """
    params = dict(parameters or {})
    reason = default_reason if default_reason is not None else f"dropped by {name}"
    try:
        draft = StageRecord(
            name=name, input=input, input_record=None if input == CATALOG else 0, input_shards=[],
            input_documents=0, kept=0, dropped=0, dropped_by_reason={}, parameters=params, kept_root="0" * 64,
            dropped_root="0" * 64, lineage_file=lineage_path(name), lineage_sha256="0" * 64, via=via,
        )  # fmt: skip
        prepare("catalog.stage", draft)  # parameters JSON cannot carry fail here, before any file is written
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise StageError(f"stage {name!r}: {where}: {first['msg'].removeprefix('Value error, ')}") from exc
    except InvalidRecord as exc:
        raise StageError(f"stage {name!r}: {exc}") from exc
    _refuse_taken_name(ledger, name)
    kept_parts = _as_id_lists(kept_ids, "kept_ids")
    dropped_parts = _reasons(dropped_reasons) if dropped_reasons else []
    with StageBuild(ledger, catalog_dir, progress=progress) as build:
        source = _load_input(build, ledger, catalog_dir, input)
        for part in kept_parts:
            build.resolve(part, "kept")
        for part in dropped_parts:
            build.resolve(part, "dropped")
        summary = build.write_lineage(catalog_dir / draft.lineage_file, reason, source.documents)
    record = draft.model_copy(
        update={
            "input_record": source.input_record,
            "input_shards": source.input_shards,
            "input_documents": source.documents,
            "kept": summary.kept,
            "dropped": summary.dropped,
            "dropped_by_reason": summary.dropped_by_reason,
            "kept_root": summary.kept_root,
            "dropped_root": summary.dropped_root,
            "lineage_sha256": summary.sha256,
        }
    )
    record = StageRecord.model_validate(record.model_dump())
    _refuse_taken_name(ledger, name)
    return ledger.append("catalog.stage", record, time), record


def _refuse_taken_name(ledger: Ledger, name: str) -> None:
    for index, stage in list_stages(ledger):
        if stage.name == name:
            raise StageError(
                f"a stage named {name!r} is already recorded (record {index}); choose another name"
            )


def checked_lineage(catalog_dir: Path, stage: StageRecord) -> Path:
    """The path of a stage's lineage file, once its SHA-256 is checked against the record (`StageError`)."""
    path = catalog_dir / stage.lineage_file
    if not path.is_file():
        raise StageError(f"stage {stage.name!r}: its lineage file {path} is missing")
    if sha256_file(path) != stage.lineage_sha256:
        raise StageError(f"stage {stage.name!r}: {path} does not match the SHA-256 in its record")
    return path


def read_lineage(catalog_dir: Path, stage: StageRecord) -> pa.Table:
    """A stage's lineage table (``doc_id`` binary(32), ``kept``, ``reason``), sorted by ``doc_id``.

    Raises `StageError` if the file is missing or its SHA-256 is not the one recorded.
    """
    path = checked_lineage(catalog_dir, stage)
    table = pq.read_table(path)
    if not table.schema.equals(LINEAGE_SCHEMA):
        raise StageError(f"stage {stage.name!r}: {path} does not have the lineage columns")
    return table


@dataclass(frozen=True)
class StageProof:
    """A document's fate in a stage, with the RFC 9162 inclusion proof of its id in the kept or dropped root."""

    stage: str
    doc_id: bytes
    kept: bool
    reason: str | None
    index: int
    """The id's position among the stage's sorted kept (or dropped) ids."""
    size: int
    """How many kept (or dropped) ids the root covers."""
    proof: list[bytes]
    root: bytes
    """The stage record's ``kept_root`` (or ``dropped_root``)."""

    def verify(self) -> bool:
        """Whether the proof takes the document's id to the root."""
        return merkle.verify_inclusion(
            merkle.leaf_hash(self.doc_id), self.index, self.size, self.proof, self.root
        )


def prove_in_stage(catalog_dir: Path, stage: StageRecord, doc_id: bytes) -> StageProof | None:
    """Prove whether ``stage`` kept or dropped ``doc_id``; None if the document was not in its input set.

    Reads the stage's lineage file (checked against its SHA-256) in batches and builds the RFC 9162 inclusion
    proof of the id among the sorted kept (or dropped) ids; memory stays flat however large the stage.
    """
    path = checked_lineage(catalog_dir, stage)
    found = locate(path, doc_id)
    if found is None:
        return None
    size = stage.kept if found.kept else stage.dropped
    root = bytes.fromhex(stage.kept_root if found.kept else stage.dropped_root)
    proof = path_hashes(path, found.kept, found.index, size)
    return StageProof(stage.name, doc_id, found.kept, found.reason, found.index, size, proof, root)
