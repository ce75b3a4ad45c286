"""One index shard's search files, built from its documents' token ids alone, so any worker can build it.

`ShardInput` is everything a shard's suffix array, MinHash passages and BM25 table depend on: the token ids of its
documents (one flat array and their lengths, cheap to ship to another process or machine), the vocabulary size when
they were tokenized, the sparseness and the passage configuration; with the semantic tier, also the documents'
texts, which its passages are cut from and embedded (without it no text leaves the driver). `write_shard_index`
writes the files; the same input gives byte-identical files wherever it runs, which is what lets a Ray build and a
local build commit to the same hashes (the embeddings too: all-MiniLM-L6-v2 on CPU gives the same float16 rows
whatever the number of torch threads, measured at 1, 2 and 4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from kiroku.trace.lexical import write_lexical_files
from kiroku.trace.neardup import PassageConfig, write_passage_files
from kiroku.trace.semantic import cut_passages, write_semantic_files
from kiroku.trace.suffix import SuffixShard, write_suffix_files

__all__ = ["MARKERS", "SEMANTIC_MARKER", "ShardInput", "write_shard_index"]

MARKERS: Final = ("suffix.json", "minhash.json", "bm25.json")
"""The marker file of each part every shard has; each holds the SHA-256s of its part's data files."""
SEMANTIC_MARKER: Final = "semantic.json"
"""The semantic tier's marker, in shards of an index built with it."""


@dataclass(frozen=True)
class ShardInput:
    """What one shard's search files are built from."""

    tokens: npt.NDArray[np.uint32]
    """The token ids of all the shard's documents, one after another."""
    lengths: npt.NDArray[np.int64]
    """Tokens in each document, in order."""
    vocab_size: int
    """The highest token id in the shard (its own, so that the files depend on its documents alone: a resumed or
    distributed build, whose vocabulary may already hold later shards' words, writes the same bytes)."""
    sparse: int
    passages: PassageConfig
    texts: tuple[str, ...] | None = None
    """The documents' texts when the shard gets the semantic tier, else None."""

    @classmethod
    def of(
        cls,
        docs: list[npt.NDArray[np.uint32]],
        *,
        sparse: int,
        passages: PassageConfig,
        texts: Sequence[str] | None = None,
    ) -> ShardInput:
        """The input for documents ``docs`` (each an array of token ids), with their ``texts`` for the semantic
        tier."""
        if texts is not None and len(texts) != len(docs):
            raise ValueError(f"{len(texts)} texts for {len(docs)} documents")
        lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
        tokens = np.concatenate(docs).astype(np.uint32, copy=False) if docs else np.zeros(0, dtype=np.uint32)
        top = int(tokens.max()) if len(tokens) else 1
        return cls(
            tokens=tokens,
            lengths=lengths,
            vocab_size=max(1, top),
            sparse=sparse,
            passages=passages,
            texts=None if texts is None else tuple(texts),
        )

    @property
    def markers(self) -> tuple[str, ...]:
        """The marker files `write_shard_index` writes for this shard."""
        return MARKERS if self.texts is None else (*MARKERS, SEMANTIC_MARKER)

    def documents(self) -> list[npt.NDArray[np.uint32]]:
        """The documents' token ids, one array (a view) each."""
        return np.split(self.tokens, np.cumsum(self.lengths)[:-1]) if len(self.lengths) else []

    def unigram_counts(self) -> npt.NDArray[np.uint64]:
        """How often each token id occurs (index = id; 0 is never counted)."""
        counts = np.bincount(self.tokens, minlength=self.vocab_size + 1).astype(np.uint64)
        counts[0] = 0
        return counts


def write_shard_index(directory: Path, shard: ShardInput) -> None:
    """Write the suffix array, MinHash passage and BM25 files of ``shard`` into ``directory``, and with the
    documents' texts the semantic tier's passage map and embeddings (`kiroku.trace.semantic`).

    Each part writes its marker file (``suffix.json``, ``minhash.json``, ``bm25.json``, ``semantic.json``) last, so a
    part cut short by a crash is never taken for a finished one.
    """
    docs = shard.documents()
    write_suffix_files(directory, docs, vocab_size=max(1, shard.vocab_size), sparse=shard.sparse)
    suffix = SuffixShard.open(directory)
    stream = suffix.tokens(0, suffix.n_tokens)
    write_passage_files(directory, stream, np.asarray(suffix.doc_starts), shard.passages)
    write_lexical_files(directory, shard.tokens, shard.lengths)
    if shard.texts is not None:
        texts = shard.texts
        locations = cut_passages(texts)
        write_semantic_files(
            directory, (texts[doc][first:end] for doc, first, end in locations.tolist()), locations
        )
