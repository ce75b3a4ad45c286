"""The HTML page of a trace answer, in Japanese and English, with the verbatim spans highlighted as OLMoTrace does.

`render_trace_html` turns a generated output and its trace answer (`kiroku.trace.query.trace_output`) into one
self-contained, printable page: inline CSS, no script, no external resource, every value escaped by Jinja2's
autoescaping (document text and URLs are untrusted). The output is shown with each verbatim span shaded: the more
spans cover a character, and the rarer and longer they are, the darker it is. A highlight's tooltip names its
spans' documents and a click jumps to the span's card, which lists every document with its snippet.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any

import jinja2

from kiroku.trace.phrases import summary

__all__ = ["render_trace_html"]

# Shades of highlight 1..5 by the summed strength of the spans over a character (each 0.5 to 1): one frequent
# short span is 1, the heaviest span alone 3, two spans 3 or 4, three or more 5.
_HEAT = (0.7, 1.0, 1.5, 2.2)
_LEVELS = len(_HEAT) + 1


@dataclass(frozen=True)
class _Segment:
    """A run of output characters covered by the same spans (numbered as listed, from 1)."""

    text: str
    spans: tuple[int, ...]
    level: int
    title: str


def render_trace_html(output: str, answer: dict[str, Any]) -> str:
    """One bilingual HTML page for the trace ``answer`` of ``output`` (the text that was traced)."""
    spans = [_span(number, span) for number, span in enumerate(answer.get("spans") or [], start=1)]
    words = answer.get("summary") or summary(answer)
    coverage = min(max(float(answer.get("coverage") or 0.0), 0.0), 1.0)
    figures = answer.get("output") or {}
    context = {
        "summary": {lang: str(words.get(lang) or "") for lang in ("ja", "en")},
        "status": _status(answer),
        "scope": _scope(str(answer.get("scope") or "catalog")),
        "coverage": {
            "percent": f"{coverage:.1%}",
            "width": f"{coverage * 100:.2f}",
            "covered": _num(answer.get("covered_tokens", 0)),
            "tokens": _num(figures.get("tokens", 0)),
        },
        "output": {
            "lang": _lang(output),
            "characters": _num(figures.get("characters", len(output))),
            "unknown": _num(figures.get("unknown_tokens", 0)),
        },
        "segments": _segments(output, answer.get("spans") or []),
        "min_length": _num(answer.get("min_length", "")),
        "span_count": _num(answer.get("span_count", len(spans))),
        "spans_shown": len(spans),
        "spans_hidden": int(answer.get("span_count") or 0) > len(spans),
        "spans": spans,
        "passages": [_passage(passage) for passage in answer.get("passages") or []],
        "similar": [_similar(doc) for doc in answer.get("similar") or []],
        "semantic": _semantic(answer),
        "index": _index(answer.get("index") or {}),
        "seconds": _seconds(answer.get("seconds")),
        "levels": range(1, _LEVELS + 1),
    }
    return _template().render(**context)


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("kiroku.trace", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("trace.html")


def _num(value: Any) -> str:
    """A count with thousands separators (anything else as it is)."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _seconds(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.3f}"
    return None


_SAFE_URL = re.compile(r"https?://[^\s<>\"'`\\^{|}]+", re.IGNORECASE)


def _link(url: Any) -> str | None:
    """The URL when it is safe to make a link of: http or https (never ``javascript:`` or ``data:``), no quotes."""
    if not isinstance(url, str) or not _SAFE_URL.fullmatch(url):
        return None
    return url


_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")


def _lang(text: str) -> str:
    """``ja`` when the text holds kana or kanji, else ``en`` (for the font; the output's language is not known)."""
    return "ja" if _JAPANESE.search(text) else "en"


def _status(answer: Mapping[str, Any]) -> dict[str, str]:
    """The answer in a few words, for the badge at the top: verbatim copies, close passages, or nothing found."""
    if answer.get("span_count") or answer.get("spans"):
        return {
            "tone": "used",
            "ja": "学習データとの逐語一致があります",
            "en": "Verbatim matches in training data",
        }
    if answer.get("passages"):
        return {
            "tone": "seen",
            "ja": "学習データに酷似した文章があります",
            "en": "Near-duplicate passages found",
        }
    return {"tone": "absent", "ja": "学習データとの一致はありません", "en": "No match in training data"}


def _scope(scope: str) -> dict[str, str]:
    """What the index covered, in Japanese and English: the catalog, a cleaning stage or a training run."""
    kind, _, name = scope.partition(":")
    if kind == "stage":
        ja, en = f"クリーニング段階「{name}」が保持した文書", f"documents kept by cleaning stage “{name}”"
    elif kind == "run":
        ja, en = f"学習実行 {name} のデータミックス", f"the data mix of training run {name}"
    elif scope == "catalog":
        ja, en = "カタログに保持されたすべての文書", "everything kept in the catalog"
    else:
        ja, en = scope, scope
    return {"label": scope, "ja": ja, "en": en}


def _index(index: Mapping[str, Any]) -> dict[str, str | None]:
    def value(key: str) -> str | None:
        item = index.get(key)
        return None if item is None else _num(item)

    return {
        key: value(key) for key in ("record", "ledger_size", "documents", "tokens", "shards", "tokenizer")
    }


def _snippet(snippet: Any) -> dict[str, str] | None:
    if not isinstance(snippet, Mapping):
        return None
    return {part: str(snippet.get(part) or "") for part in ("before", "match", "after")}


def _document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A cited document's identity as the page shows it."""
    url = doc.get("url")
    record = doc.get("catalog_record")
    return {
        "id": str(doc.get("id") or ""),
        "url": None if url is None else str(url),
        "link": _link(url),
        "domain": None if doc.get("domain") is None else str(doc["domain"]),
        "source": None if doc.get("source") is None else str(doc["source"]),
        "record": None if record is None else _num(record),
        "offset": None if doc.get("offset") is None else _num(doc["offset"]),
        "snippet": _snippet(doc.get("snippet")),
    }


def _span(number: int, span: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "number": number,
        "text": str(span.get("text") or ""),
        "length": _num(span.get("length", "")),
        "count": _num(span.get("count", "")),
        "common": bool(span.get("common")),
        "weight": f"{float(span.get('weight') or 0.0):.1f}",
        "tokens": f"{_num(span.get('start', ''))}–{_num(span.get('end', ''))}",
        "documents": [_document(doc) for doc in span.get("documents") or []],
    }


def _passage(passage: Mapping[str, Any]) -> dict[str, Any]:
    entry = _document(passage)
    entry.update(
        {
            "jaccard": f"{float(passage.get('jaccard') or 0.0):.2f}",
            "containment": f"{float(passage.get('containment') or 0.0):.2f}",
            "estimated": f"{float(passage.get('estimated_jaccard') or 0.0):.2f}",
            "length": _num(passage.get("length", "")),
            "output_text": str(passage.get("output_text") or ""),
            "tokens": f"{_num(passage.get('output_start', ''))}–{_num(passage.get('output_end', ''))}",
        }
    )
    return entry


def _similar(doc: Mapping[str, Any]) -> dict[str, Any]:
    entry = _document(doc)
    entry.update(
        {
            "score": f"{float(doc.get('score') or 0.0):.2f}",
            "spans": _num(doc.get("spans", 0)),
            "passages": _num(doc.get("passages", 0)),
        }
    )
    return entry


def _semantic(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The semantic tier as the page shows it: whether the index has it, whether it answered, its passages."""
    listed = answer.get("semantic")
    index = answer.get("index") or {}
    passages = []
    for doc in listed if isinstance(listed, list) else []:
        entry = _document(doc)
        first, end = doc.get("char_start"), doc.get("char_end")
        entry.update(
            {
                "score": f"{float(doc.get('score') or 0.0):.2f}",
                "spans": _num(doc.get("spans", 0)),
                "passages": _num(doc.get("passages", 0)),
                "chars": None if first is None or end is None else f"{_num(first)}–{_num(end)}",
            }
        )
        passages.append(entry)
    return {
        "built": isinstance(listed, list) or bool(index.get("semantic")),
        "installed": isinstance(listed, list),
        "passages": passages,
    }


def _strength(spans: Sequence[Mapping[str, Any]]) -> list[float]:
    """Each span's share of the shading, 0.5 to 1: its weight (rarity and length) against the heaviest span's."""
    weights = [float(s.get("weight") or 0.0) or float(s.get("length") or 0) for s in spans]
    heaviest = max(weights, default=0.0)
    return [0.5 + 0.5 * (w / heaviest) if heaviest > 0 else 1.0 for w in weights]


def _tooltip(numbers: Sequence[int], spans: Sequence[Mapping[str, Any]]) -> str:
    """The hover text of a highlight: each covering span, its count and its documents' URLs."""
    lines = []
    for number in numbers:
        span = spans[number - 1]
        count = int(span.get("count") or 0)
        lines.append(
            f"#{number}: {_num(span.get('length', ''))} トークン tokens, {count:,} 回出現 occurrences"
        )
        for doc in (span.get("documents") or [])[:5]:
            lines.append(f"  {doc.get('url') or str(doc.get('id') or '')[:16]}")
    lines.append("クリックで文書を表示 / click for the documents")
    return "\n".join(lines)


def _segments(output: str, spans: Sequence[Mapping[str, Any]]) -> list[_Segment]:
    """The output cut where a span starts or ends, each piece with the spans covering it and its shade."""
    strength = _strength(spans)
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for number, span in enumerate(spans, start=1):
        start = min(max(int(span.get("char_start") or 0), 0), len(output))
        end = min(max(int(span.get("char_end") or 0), 0), len(output))
        if end > start:
            starts.setdefault(start, []).append(number)
            ends.setdefault(end, []).append(number)
    cuts = sorted({0, len(output), *starts, *ends})
    active: set[int] = set()
    segments = []
    for lo, hi in pairwise(cuts):
        active.difference_update(ends.get(lo, []))
        active.update(starts.get(lo, []))
        # the listed order is the rank (heaviest first), so the first covering span is the one a click opens
        numbers = tuple(sorted(active))
        heat = sum(strength[n - 1] for n in numbers)
        level = 1 + bisect.bisect_right(_HEAT, heat) if numbers else 0
        title = _tooltip(numbers, spans) if numbers else ""
        segments.append(_Segment(output[lo:hi], numbers, level, title))
    return segments
