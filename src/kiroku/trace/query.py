"""Tracing one generated output: verbatim spans, near-duplicate passages and the most similar documents.

Spans are selected the way OLMoTrace does: every maximal span of at least ``min_length`` tokens that occurs
verbatim in the indexed text, ranked by how unlikely it is (the sum of its tokens' -log unigram probability, so long
spans of rare words come first); spans occurring more than ``common_count`` times are kept but flagged common and
listed with fewer documents. Each cited document comes with its catalog identity (content hash, URL, source, the
ledger record of its catalog shard), so its chained ledger proof can be produced (``kiroku trace --bundle``).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq

from kiroku.trace.errors import InvalidOutput
from kiroku.trace.index import IndexShard, TraceIndex
from kiroku.trace.phrases import summary
from kiroku.trace.shard import lexical_terms
from kiroku.trace.spans import Span, find_spans, span_hits
from kiroku.trace.tokenize import Token, tokenize

__all__ = ["MAX_OUTPUT_CHARS", "TraceOptions", "read_output", "trace_output"]

MAX_OUTPUT_CHARS = 200_000


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


@dataclass
class _Snippets:
    """Documents' texts read once per catalog row group, checked against their content hash."""

    catalog_dir: Path
    cache: dict[tuple[str, int], list[str | None]] = field(default_factory=dict)

    def text(self, doc: dict[str, Any]) -> str | None:
        """The document's text, or None when its catalog text file is gone (retention) or does not match."""
        path = self.catalog_dir / str(doc["text_file"])
        if not path.is_file():
            return None
        parquet = pq.ParquetFile(path)
        row = int(doc["row"])
        start = 0
        for group in range(parquet.metadata.num_row_groups):
            rows = parquet.metadata.row_group(group).num_rows
            if row < start + rows:
                key = (str(path), group)
                if key not in self.cache:
                    self.cache[key] = parquet.read_row_group(group, columns=["text"]).column(0).to_pylist()
                text = self.cache[key][row - start]
                if (
                    text is None
                    or hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest() != doc["doc_id"]
                ):
                    return None
                return text
            start += rows
        return None


def _snippet(text: str | None, offset: int, length: int, context: int) -> dict[str, Any] | None:
    """The matched tokens of a document with ``context`` tokens either side, as before/match/after strings."""
    if text is None:
        return None
    tokens = tokenize(text)
    if offset + length > len(tokens) or length == 0:
        return None
    first, last = tokens[offset], tokens[offset + length - 1]
    lo = tokens[max(0, offset - context)].start
    hi = tokens[min(len(tokens), offset + length + context) - 1].end
    return {
        "before": text[lo : first.start],
        "match": text[first.start : last.end],
        "after": text[last.end : hi],
    }


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
    weights = index.unigrams
    window = ids[span.start : span.end].astype(np.int64)
    window = window[window < len(weights)]
    return float(weights[window].sum())


def _spans(
    index: TraceIndex,
    ids: npt.NDArray[np.uint32],
    tokens: list[Token],
    text: str,
    options: TraceOptions,
    snippets: _Snippets,
) -> tuple[list[dict[str, Any]], npt.NDArray[np.bool_], int]:
    found = find_spans([s.suffix for s in index.shards], ids, options.min_length)
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
            entry["snippet"] = _snippet(
                snippets.text(shard.doc(hit.doc_index)),
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
    ids: npt.NDArray[np.uint32],
    tokens: list[Token],
    text: str,
    options: TraceOptions,
    snippets: _Snippets,
) -> list[dict[str, Any]]:
    matches = []
    for shard in index.shards:
        for match in shard.passages.query(
            ids, shard.suffix.tokens, threshold=options.threshold, limit=options.passages
        ):
            matches.append((shard, match))
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
                "snippet": _snippet(
                    snippets.text(shard.doc(doc_index)), offset, int(match.end - match.start), 0
                ),
            }
        )
        listed.append(entry)
    return listed


def _similar(
    index: TraceIndex,
    terms: list[str],
    spans: list[dict[str, Any]],
    passages: list[dict[str, Any]],
    options: TraceOptions,
) -> list[dict[str, Any]]:
    ranked = []
    for shard in index.shards:
        for doc_index, score in shard.lexical.rank(terms, k=options.similar):
            ranked.append((score, shard, doc_index))
    ranked.sort(key=lambda r: (-r[0], r[1].number, r[2]))
    span_docs: dict[str, int] = {}
    for span in spans:
        for doc in span["documents"]:
            span_docs[doc["id"]] = span_docs.get(doc["id"], 0) + 1
    passage_docs: dict[str, int] = {}
    for passage in passages:
        passage_docs[passage["id"]] = passage_docs.get(passage["id"], 0) + 1
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


def trace_output(
    index: TraceIndex, text: str, catalog_dir: Path, options: TraceOptions | None = None
) -> dict[str, Any]:
    """Trace ``text`` against ``index``: coverage, spans with documents, near-duplicate passages, similar documents.

    The caller checks the index against the ledger first (`TraceIndex.check`).
    """
    options = options or TraceOptions()
    if options.min_length < 1:
        raise InvalidOutput("--min-length must be at least 1")
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
    snippets = _Snippets(catalog_dir)
    spans, covered, total_spans = _spans(index, ids, tokens, text, options, snippets)
    passages = _passages(index, ids, tokens, text, options, snippets)
    similar = _similar(index, lexical_terms(ids), spans, passages, options)
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
        },
        "output": {
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
        "seconds": round(time.perf_counter() - started, 4),
    }
    answer["summary"] = summary(answer)
    return answer
