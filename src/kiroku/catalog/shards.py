"""Catalog shards: documents written to Parquet in bounded batches, each finished shard a ledger record.

A `ShardWriter` holds at most one shard in memory. When the shard is full (or the input ends) it writes the two
Parquet files under a temporary name, renames them into place, and appends one ``catalog.shard`` record holding
both files' SHA-256, the counts, the input range the shard covers, and the Merkle root (RFC 9162) of the shard's
sorted, distinct document ids. A document is then proved by two chained proofs: its id in the shard's root, and
the shard's record in the log. A shard whose record was never appended (a crash, bad input) is not in the catalog:
its files are overwritten when the ingest runs again.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from kiroku.catalog.schema import DOCS_SCHEMA, TEXT_SCHEMA, count_tokens
from kiroku.catalog.urls import host_of, registrable_domain
from kiroku.ledger import Ledger, merkle, register_kind

__all__ = [
    "Document",
    "InputRange",
    "ShardRecord",
    "ShardWriter",
    "doc_id_of",
    "replace_durably",
    "sha256_file",
]


def doc_id_of(text: str) -> bytes:
    """A document's id: the SHA-256 of its text in UTF-8."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class Document:
    """One document on its way into the catalog."""

    text: str
    url: str | None = None
    external_id: str | None = None
    fetch_time: datetime | None = None
    optout: tuple[str, ...] = ()
    kept: bool = True
    input_line: int | None = None


class InputRange(BaseModel):
    """Which part of which input file a shard holds: records ``[start, end)`` of the file with this SHA-256."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    sha256: str
    start: int
    end: int
    complete: bool
    """True on the last shard of the file: the whole file is in the catalog."""


class ShardRecord(BaseModel):
    """Record kind ``catalog.shard``: one finished shard of the catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shard: str
    source: str
    documents: int
    distinct_documents: int
    kept: int
    bytes: int
    tokens: int
    doc_root: str
    """Hex Merkle root (RFC 9162) over the shard's sorted distinct document ids (32 bytes each) as leaves."""
    docs_file: str
    docs_sha256: str
    text_file: str
    text_sha256: str
    input: InputRange
    crawler_agent: str | None = None
    """For a crawl: the crawler's product token whose opt-outs were evaluated (kiroku.toml or the warcinfo)."""

    @model_serializer(mode="wrap")
    def _without_absent_agent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # records of sources that are not crawls keep the body they had before the field existed
        body: dict[str, Any] = handler(self)
        if body.get("crawler_agent") is None:
            body.pop("crawler_agent", None)
        return body


register_kind("catalog.shard", ShardRecord)


def sha256_file(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def replace_durably(tmp: Path, path: Path) -> None:
    """Put a finished temporary file in place: flushed to disk first, so a crash leaves the old file or the new."""
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    tmp.replace(path)


# Text files keep small row groups so that one document's text (a trace snippet) is read without the whole file:
# a reader decompresses a whole row group, and 32 documents of web text are a few hundred kilobytes.
TEXT_ROW_GROUP = 32


def _write_atomically(table: pa.Table, path: Path, row_group_size: int | None = None) -> str:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd", row_group_size=row_group_size)
    replace_durably(tmp, path)
    return sha256_file(path)


@dataclass
class ShardWriter:
    """Collects documents for one source and input file and writes them out shard by shard."""

    ledger: Ledger
    directory: Path
    source: str
    input_path: str
    input_sha256: str
    max_documents: int = 100_000
    max_bytes: int = 256 << 20
    start: int = 0
    crawler_agent: str | None = None
    shards_written: list[ShardRecord] = field(default_factory=list)
    _rows: dict[str, list[object]] = field(default_factory=dict)
    _texts: list[str] = field(default_factory=list)
    _ids: list[bytes] = field(default_factory=list)
    _bytes: int = 0
    _tokens: int = 0
    _kept: int = 0

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._reset()

    def _reset(self) -> None:
        self._rows = {name: [] for name in DOCS_SCHEMA.names}
        self._texts = []
        self._ids = []
        self._bytes = self._tokens = self._kept = 0

    @property
    def pending(self) -> int:
        """Documents held for the shard being filled."""
        return len(self._texts)

    def add(self, doc: Document, position: int) -> ShardRecord | None:
        """Add a document read at record ``position`` of the input; returns the shard record if one was written."""
        size = len(doc.text.encode("utf-8", "surrogatepass"))
        host = host_of(doc.url) if doc.url else None
        row = self._rows
        doc_id, tokens = doc_id_of(doc.text), count_tokens(doc.text)
        row["doc_id"].append(doc_id)
        row["external_id"].append(doc.external_id)
        row["url"].append(doc.url)
        row["host"].append(host)
        row["domain"].append(registrable_domain(host) if host else None)
        row["source"].append(self.source)
        row["fetch_time"].append(doc.fetch_time)
        row["bytes"].append(size)
        row["tokens"].append(tokens)
        row["optout"].append(list(doc.optout))
        row["kept"].append(doc.kept)
        row["input_line"].append(doc.input_line if doc.input_line is not None else position)
        self._texts.append(doc.text)
        self._ids.append(doc_id)
        self._bytes += size
        self._tokens += tokens
        self._kept += doc.kept
        if len(self._texts) >= self.max_documents or self._bytes >= self.max_bytes:
            return self.flush(end=position + 1, complete=False)
        return None

    def flush(self, *, end: int, complete: bool) -> ShardRecord | None:
        """Write the pending documents as a shard covering input records ``[start, end)`` and record it.

        With nothing pending, a ``complete`` flush still records that the file ended (an empty last shard), so
        that a re-run knows there is nothing left to read.
        """
        if not self._texts and not complete:
            return None
        name = f"{self.source}-{self.input_sha256[:16]}-{self.start:012d}"
        docs = pa.Table.from_pydict(self._rows, schema=DOCS_SCHEMA)
        text = pa.Table.from_pydict({"doc_id": self._ids, "text": self._texts}, schema=TEXT_SCHEMA)
        docs_sha = _write_atomically(docs, self.directory / f"{name}.docs.parquet")
        text_sha = _write_atomically(text, self.directory / f"{name}.text.parquet", TEXT_ROW_GROUP)
        ids = sorted(set(self._ids))
        record = ShardRecord(
            shard=name,
            source=self.source,
            documents=len(self._texts),
            distinct_documents=len(ids),
            kept=self._kept,
            bytes=self._bytes,
            tokens=self._tokens,
            doc_root=merkle.root(ids).hex(),
            docs_file=f"{name}.docs.parquet",
            docs_sha256=docs_sha,
            text_file=f"{name}.text.parquet",
            text_sha256=text_sha,
            input=InputRange(
                path=self.input_path, sha256=self.input_sha256, start=self.start, end=end, complete=complete
            ),
            crawler_agent=self.crawler_agent,
        )
        self.ledger.append("catalog.shard", record)
        self.shards_written.append(record)
        self.start = end
        self._reset()
        return record
