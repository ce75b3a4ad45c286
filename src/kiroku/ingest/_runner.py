"""Running an ingest: find where each file stands in the ledger, read the rest, write shards."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from kiroku.catalog import find_source
from kiroku.catalog.shards import Document, ShardRecord, ShardWriter
from kiroku.ingest._errors import IngestError
from kiroku.ledger import Ledger

__all__ = ["IngestError", "IngestResult", "ingest_files"]

Reader = Callable[[Path, int], Iterator[tuple[int, Document]]]


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did with one file."""

    path: Path
    sha256: str
    already_done: bool
    resumed_from: int
    shards: tuple[ShardRecord, ...]

    @property
    def documents(self) -> int:
        """Documents written by this run."""
        return sum(shard.documents for shard in self.shards)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes: an input is known by its content, wherever it is stored."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise IngestError(f"{path}: cannot read: {exc.strerror}") from exc
    return digest.hexdigest()


def _progress_so_far(ledger: Ledger, source: str, sha256: str) -> tuple[int, bool]:
    """Where earlier runs stopped in the file with this SHA-256: (next record, whether the file is done)."""
    end, done = 0, False
    for record in ledger.records_of_kind("catalog.shard"):
        body = record.body_json()
        if body is None:
            continue
        shard = ShardRecord.model_validate(body)
        if shard.source == source and shard.input.sha256 == sha256:
            end = max(end, shard.input.end)
            done = done or shard.input.complete
    return end, done


def ingest_files(
    ledger: Ledger,
    catalog_dir: Path,
    source: str,
    paths: Sequence[Path],
    reader: Reader,
    *,
    max_documents: int = 100_000,
    on_document: Callable[[], None] | None = None,
) -> list[IngestResult]:
    """Ingest ``paths`` for ``source`` with ``reader``; each file resumes after its last recorded shard."""
    find_source(ledger, source)
    results = []
    for path in paths:
        if not path.is_file():
            raise IngestError(f"{path}: no such file")
        sha256 = file_sha256(path)
        start, done = _progress_so_far(ledger, source, sha256)
        if done:
            results.append(IngestResult(path, sha256, True, start, ()))
            continue
        writer = ShardWriter(
            ledger, catalog_dir, source, str(path), sha256, max_documents=max_documents, start=start
        )
        position = start - 1
        for position, doc in reader(path, start):
            writer.add(doc, position)
            if on_document:
                on_document()
        writer.flush(end=max(position + 1, writer.start), complete=True)
        results.append(IngestResult(path, sha256, False, start, tuple(writer.shards_written)))
    return results
