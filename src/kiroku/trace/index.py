"""Opening a built trace index and checking it against the ledger before it answers anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from kiroku.catalog.stats import catalog_shards
from kiroku.ledger import Ledger
from kiroku.trace.build import DOCS_FILE, UNIGRAMS, VOCAB_DIR, read_shard_json, trace_dir
from kiroku.trace.corpus import Scope
from kiroku.trace.errors import IndexCorrupt, IndexMissing, StaleIndex
from kiroku.trace.lexical import LexicalIndex
from kiroku.trace.neardup import PassageIndex
from kiroku.trace.record import TraceManifest, read_manifest
from kiroku.trace.suffix import SuffixShard
from kiroku.trace.tokenize import TOKENIZER
from kiroku.trace.vocab import Vocabulary

__all__ = ["IndexShard", "TraceIndex"]


@dataclass
class IndexShard:
    """One shard of a trace index: suffix array, passages, BM25 table and the documents' catalog rows."""

    number: int
    directory: Path
    suffix: SuffixShard
    passages: PassageIndex
    lexical: LexicalIndex
    _docs: pa.Table | None = field(default=None, repr=False)

    @property
    def docs(self) -> pa.Table:
        """The shard's documents (``doc_id, url, domain, source, catalog_record, text_file, row, tokens``)."""
        if self._docs is None:
            try:
                self._docs = pq.read_table(self.directory / DOCS_FILE)
            except (OSError, pa.ArrowInvalid) as exc:
                raise IndexCorrupt(f"{self.directory / DOCS_FILE} is unreadable: {exc}") from exc
        return self._docs

    def doc(self, index: int) -> dict[str, Any]:
        """The catalog row of document ``index`` of this shard."""
        return {name: self.docs.column(name)[index].as_py() for name in self.docs.column_names}


@dataclass
class TraceIndex:
    """A trace index opened for answering: its manifest, vocabulary, unigram counts and shards."""

    directory: Path
    scope: Scope
    manifest: TraceManifest
    shards: list[IndexShard]
    vocabulary: Vocabulary

    @classmethod
    def open(cls, index_dir: Path, scope: Scope) -> TraceIndex:
        """Open the index of ``scope`` under ``index_dir``; `IndexMissing` or `IndexCorrupt` with advice."""
        directory = trace_dir(index_dir, scope)
        if not directory.is_dir():
            hint = (
                ""
                if scope.kind == "catalog"
                else f" {'--stage' if scope.kind == 'stage' else '--run'} {scope.name}"
            )
            raise IndexMissing(f"no trace index for {scope.label}: build it with `kiroku index build{hint}`")
        manifest = read_manifest(directory)
        if manifest.index.scope != scope.label or manifest.index.scope_record != scope.record:
            raise StaleIndex(
                f"the index at {directory} covers {manifest.index.scope} (record {manifest.index.scope_record}), "
                f"not {scope.label} (record {scope.record}); rebuild it with `kiroku index build --rebuild`"
            )
        if manifest.index.tokenizer != TOKENIZER:
            raise StaleIndex(
                f"the index at {directory} was tokenized by {manifest.index.tokenizer}, this kiroku uses {TOKENIZER}; "
                "rebuild it with `kiroku index build --rebuild`"
            )
        vocabulary = Vocabulary.open(directory / VOCAB_DIR)
        if vocabulary.size < manifest.index.vocabulary:
            raise IndexCorrupt(
                f"{directory / VOCAB_DIR} holds {vocabulary.size} tokens, the index was built with "
                f"{manifest.index.vocabulary}; rebuild with `kiroku index build --rebuild`"
            )
        shards = []
        for number, commitment in enumerate(manifest.index.shards):
            path = directory / commitment.name
            if not (path / "shard.json").is_file():
                raise IndexCorrupt(f"shard {path} named by the manifest is missing; rebuild with --rebuild")
            read_shard_json(path)
            shards.append(
                IndexShard(
                    number, path, SuffixShard.open(path), PassageIndex.open(path), LexicalIndex.open(path)
                )
            )
        return cls(directory, scope, manifest, shards, vocabulary)

    @cached_property
    def unigrams(self) -> npt.NDArray[np.float64]:
        """-log2 of each token id's share of the indexed tokens (rarer tokens weigh more); 0 for unseen ids."""
        path = self.directory / UNIGRAMS
        counts = np.load(path) if path.is_file() else np.zeros(1, dtype=np.uint64)
        total = max(int(counts.sum()), 1)
        with np.errstate(divide="ignore"):
            weights = -np.log2(counts.astype(np.float64) / total)
        weights[~np.isfinite(weights)] = 0.0
        return weights

    def check(self, ledger: Ledger) -> None:
        """`StaleIndex` unless the ledger holds this index's record and, for the catalog, no shard recorded since.

        An answer from a stale catalog index would say "not in the training data" of text added since: refused.
        """
        record_index = self.manifest.record
        if record_index >= ledger.size:
            raise StaleIndex(
                f"the trace index names ledger record {record_index}, but this ledger has {ledger.size} records: it "
                "was built on another ledger; rebuild it with `kiroku index build --rebuild`"
            )
        record = ledger.record(record_index)
        body = record.body_json()
        if record.entry.kind != "trace.index" or (
            body is not None and body != self.manifest.index.model_dump(mode="json")
        ):
            raise StaleIndex(
                f"ledger record {record_index} is not the commitment of the trace index at {self.directory}: the "
                "index was built on another ledger or altered; rebuild it with `kiroku index build --rebuild`"
            )
        if self.scope.kind == "catalog":
            covered = set(self.manifest.index.catalog_shards)
            newer = [s.index for s in catalog_shards(ledger) if s.index not in covered and s.shard.documents]
            if newer:
                raise StaleIndex(
                    f"{len(newer)} catalog shard(s) were recorded after the trace index was built (ledger size "
                    f"{self.manifest.index.ledger_size}); update it with `kiroku index build`"
                )
