"""One index shard's search files, built from its documents' token ids alone, so any worker can build it.

`ShardInput` is everything a shard's suffix array, MinHash passages and BM25 table depend on: the token ids of its
documents (one flat array and their lengths, cheap to ship to another process or machine), the vocabulary size when
they were tokenized, the sparseness and the passage configuration. `write_shard_index` writes the files; the
same input gives byte-identical files wherever it runs, which is what lets a Ray build and a local build commit to
the same hashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from kiroku.trace.lexical import write_lexical_files
from kiroku.trace.neardup import PassageConfig, write_passage_files
from kiroku.trace.suffix import SuffixShard, write_suffix_files

__all__ = ["ShardInput", "lexical_terms", "write_shard_index"]


def lexical_terms(ids: npt.NDArray[np.uint32]) -> list[str]:
    """The BM25 terms of a token id sequence: the ids as strings (the vocabulary already names each token once),
    so a shard's BM25 table is built without holding its token strings; 0 (unknown) is no term."""
    return [str(i) for i in ids.tolist() if i]


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

    @classmethod
    def of(cls, docs: list[npt.NDArray[np.uint32]], *, sparse: int, passages: PassageConfig) -> ShardInput:
        """The input for documents ``docs`` (each an array of token ids)."""
        lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
        tokens = np.concatenate(docs).astype(np.uint32, copy=False) if docs else np.zeros(0, dtype=np.uint32)
        top = int(tokens.max()) if len(tokens) else 1
        return cls(tokens=tokens, lengths=lengths, vocab_size=max(1, top), sparse=sparse, passages=passages)

    def documents(self) -> list[npt.NDArray[np.uint32]]:
        """The documents' token ids, one array (a view) each."""
        return np.split(self.tokens, np.cumsum(self.lengths)[:-1]) if len(self.lengths) else []

    def unigram_counts(self) -> npt.NDArray[np.uint64]:
        """How often each token id occurs (index = id; 0 is never counted)."""
        counts = np.bincount(self.tokens, minlength=self.vocab_size + 1).astype(np.uint64)
        counts[0] = 0
        return counts


def write_shard_index(directory: Path, shard: ShardInput) -> None:
    """Write the suffix array, MinHash passage and BM25 files of ``shard`` into ``directory``.

    Each part writes its marker file (``suffix.json``, ``minhash.json``, ``bm25.json``) last, so a part cut short
    by a crash is never taken for a finished one.
    """
    docs = shard.documents()
    write_suffix_files(directory, docs, vocab_size=max(1, shard.vocab_size), sparse=shard.sparse)
    suffix = SuffixShard.open(directory)
    stream = suffix.tokens(0, suffix.n_tokens)
    write_passage_files(directory, stream, np.asarray(suffix.doc_starts), shard.passages)
    write_lexical_files(directory, (lexical_terms(ids) for ids in docs))
