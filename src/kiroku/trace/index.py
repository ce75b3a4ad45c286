"""Opening a built trace index and checking it against the ledger before it answers anything."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from kiroku.catalog.shards import sha256_file
from kiroku.catalog.stats import catalog_shards
from kiroku.ledger import Ledger
from kiroku.ledger.records import canonical_json
from kiroku.trace.build import DOCS_FILE, UNIGRAMS, VOCAB_DIR, read_shard_json, trace_dir
from kiroku.trace.corpus import Scope
from kiroku.trace.errors import IndexCorrupt, IndexMissing, StaleIndex
from kiroku.trace.lexical import LexicalIndex
from kiroku.trace.neardup import PassageIndex
from kiroku.trace.record import TraceManifest, read_manifest
from kiroku.trace.semantic import SemanticIndex
from kiroku.trace.suffix import SuffixShard
from kiroku.trace.tokenize import TOKENIZER
from kiroku.trace.vocab import Vocabulary

__all__ = ["IndexShard", "TraceIndex"]


_REBUILD = "the index was altered or damaged: rebuild it with `kiroku index build --rebuild`"


@dataclass
class IndexShard:
    """One shard of a trace index: suffix array, passages, BM25 table, the semantic tier's passage embeddings when
    the index has them, and the documents' catalog rows."""

    number: int
    directory: Path
    suffix: SuffixShard
    passages: PassageIndex
    lexical: LexicalIndex
    semantic: SemanticIndex | None = None
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
                    number,
                    path,
                    SuffixShard.open(path),
                    PassageIndex.open(path),
                    LexicalIndex.open(path),
                    _open_semantic(path) if manifest.index.semantic is not None else None,
                )
            )
        return cls(directory, scope, manifest, shards, vocabulary)

    @cached_property
    def _unigram_counts(self) -> tuple[npt.NDArray[np.uint64], int]:
        """The token counts, memory-mapped, and their total; checked against the index record first, since they
        decide which spans an answer lists."""
        path = self.directory / UNIGRAMS
        if not path.is_file():
            return np.zeros(1, dtype=np.uint64), 1
        if sha256_file(path) != self.manifest.index.unigrams_sha256:
            raise IndexCorrupt(f"{path} does not match the index record's SHA-256; {_REBUILD}")
        counts: npt.NDArray[np.uint64] = np.asarray(np.load(path, mmap_mode="r"))
        return counts, max(int(counts.sum()), 1)

    def weights(self, ids: npt.NDArray[np.uint32]) -> npt.NDArray[np.float64]:
        """-log2 of each token id's share of the indexed tokens (rarer tokens weigh more); 0 for unseen ids.

        Only the asked ids' counts are read, so the vocabulary's counts cost mapped pages, not memory.
        """
        counts, total = self._unigram_counts
        wanted = np.asarray(ids, dtype=np.int64)
        inside = wanted < len(counts)
        seen = np.zeros(len(wanted), dtype=np.float64)
        seen[inside] = counts[wanted[inside]]
        with np.errstate(divide="ignore"):
            weights: npt.NDArray[np.float64] = -np.log2(seen / total)
        weights[~np.isfinite(weights)] = 0.0
        return weights

    def verify(self) -> int:
        """Re-hash every file of the index against the manifest and the marker files; `IndexCorrupt` names the
        first that differs. Returns how many files were checked. Answers only check sizes and marker files, so
        this is the way to find a flipped byte (``kiroku index verify``). The count is of files checked against the
        record and ``shard.json``; each part's own data files are re-hashed against its marker file too."""
        record = self.manifest.index
        checked = 0

        def expect(path: Path, digest: str, what: str) -> None:
            nonlocal checked
            try:
                actual = sha256_file(path)
            except OSError as exc:
                raise IndexCorrupt(f"{path} cannot be read ({exc.strerror}); {_REBUILD}") from exc
            if actual != digest:
                raise IndexCorrupt(f"{path} does not match the SHA-256 recorded in {what}; {_REBUILD}")
            checked += 1

        expect(self.directory / VOCAB_DIR / "vocab.json", record.vocabulary_sha256, "the index record")
        self.vocabulary.verify()
        expect(self.directory / UNIGRAMS, record.unigrams_sha256, "the index record")
        for shard, commitment in zip(self.shards, record.shards, strict=True):
            expect(shard.directory / "shard.json", commitment.sha256, "the index record")
            files = read_shard_json(shard.directory)["files"]
            assert isinstance(files, dict)
            for name, digest in files.items():
                expect(shard.directory / name, str(digest), f"{shard.directory / 'shard.json'}")
            shard.suffix.verify()
            shard.passages.verify()
            shard.lexical.verify()
            if shard.semantic is not None:
                shard.semantic.verify()
        return checked

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
        committed = canonical_json(self.manifest.index.model_dump(mode="json"))
        if (
            record.entry.kind != "trace.index"
            or hashlib.sha256(committed).digest() != record.entry.body_sha256
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


def _open_semantic(path: Path) -> SemanticIndex:
    """A shard's semantic files, which its index's record says were built: missing ones are damage."""
    try:
        semantic = SemanticIndex.open(path)
    except IndexMissing as exc:
        raise IndexCorrupt(f"{exc} (the index record says its semantic tier was built)") from exc
    if semantic.locations is None:
        raise IndexCorrupt(f"{path / 'semantic.json'} names no passage map; {_REBUILD}")
    return semantic
