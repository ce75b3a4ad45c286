"""Running an ingest: find where each file stands in the ledger, read the rest, write shards.

Every document passes through the run's steps before it is written: small objects with one method,
``step(document) -> document``, such as `BlocklistStep`, so that what applies to every input (JSON Lines,
Parquet, WARC) is done once here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol, runtime_checkable

from kiroku.catalog import find_source
from kiroku.catalog.shards import Document, ShardRecord, ShardWriter, sha256_file
from kiroku.catalog.urls import host_of
from kiroku.ingest._errors import IngestError
from kiroku.ledger import Ledger
from kiroku.optout.blocklist import Blocklists

__all__ = ["BlocklistStep", "IngestError", "IngestResult", "Step", "ingest_files"]

Reader = Callable[[Path, int], Iterator[tuple[int, Document]]]
Step = Callable[[Document], Document]
"""A step every document passes through before it is written."""


@runtime_checkable
class CrawlReader(Protocol):
    """A reader of crawls, which knows the crawler agent each file was read under (`kiroku.ingest.WarcReader`)."""

    def crawler_agent_for(self, path: Path) -> str | None:
        """The crawler product token the file's opt-outs were evaluated for, once the file is being read."""


@dataclass(frozen=True)
class BlocklistStep:
    """Drops documents whose host is on a blocklist, with the reason ``blocklist:<name>``, whatever the
    opt-out policy (the code asks developers to avoid such sites)."""

    blocklists: Blocklists

    def __call__(self, doc: Document) -> Document:
        """The document, dropped with its blocklist reasons when its URL's host is listed."""
        host = host_of(doc.url) if doc.url else None
        reasons = self.blocklists.reasons(host) if host else []
        if not reasons:
            return doc
        return replace(doc, optout=tuple(sorted({*doc.optout, *reasons})), kept=False)


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
    try:
        return sha256_file(path)
    except OSError as exc:
        raise IngestError(f"{path}: cannot read: {exc.strerror}") from exc


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
    steps: Sequence[Step] = (),
) -> list[IngestResult]:
    """Ingest ``paths`` for ``source`` with ``reader``; each file resumes after its last recorded shard.

    Each document read passes through ``steps``, in order, before it is written.
    """
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
            for step in steps:
                doc = step(doc)
            if isinstance(reader, CrawlReader):
                writer.crawler_agent = reader.crawler_agent_for(path)
            writer.add(doc, position)
            if on_document:
                on_document()
        if isinstance(reader, CrawlReader):
            writer.crawler_agent = reader.crawler_agent_for(path)
        writer.flush(end=max(position + 1, writer.start), complete=True)
        results.append(IngestResult(path, sha256, False, start, tuple(writer.shards_written)))
    return results
