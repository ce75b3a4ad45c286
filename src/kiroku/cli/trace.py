"""``kiroku trace``: does the training data hold text identical or similar to a generated output?"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from kiroku.cli._common import (
    WorkspaceOption,
    checkpoint_covering,
    fail,
    out,
    read_input,
    user_errors,
    workspace_from,
)
from kiroku.trace.bundle import trace_bundle, verify_trace_bundle
from kiroku.trace.corpus import resolve_scope
from kiroku.trace.index import TraceIndex
from kiroku.trace.query import MAX_OUTPUT_CHARS, TraceOptions, check_output, read_output, trace_output
from kiroku.trace.semantic import INSTALL_ADVICE

__all__ = ["trace"]


def _output_text(text: str | None, file: Path | None, max_chars: int) -> str:
    if (text is None) == (file is None):
        fail("give the output to trace with --text TEXT or --file FILE (- for standard input)")
    if text is not None:
        check_output(text, "--text", max_chars)
        return text
    assert file is not None
    if str(file) == "-":
        return read_output(sys.stdin.buffer.read(), "standard input", max_chars)
    return read_output(read_input(file, "output"), str(file), max_chars)


_LABELS = {
    "en": {"span": "span", "times": "x", "common": " (common)", "in": "in", "passage": "passage",
           "containment": "containment", "similar": "similar", "semantic": "close in meaning",
           "cosine": "cosine",
           "no_semantic": "(this index has the semantic tier (paraphrase), but it is not installed here: "
                          f"{INSTALL_ADVICE})"},
    "ja": {"span": "一致", "times": "回", "common": "（頻出）", "in": "出典", "passage": "酷似文章",
           "containment": "包含率", "similar": "類似文書", "semantic": "意味の近い文章", "cosine": "コサイン類似度",
           "no_semantic": "（この索引には意味検索の層（言い換えの検出）がありますが、ここにはインストールされていません: "
                          f"{INSTALL_ADVICE}）"},
}  # fmt: skip


def _name(doc: dict[str, Any]) -> str:
    """A cited document as a reader knows it: its URL, else its source and the start of its id."""
    return str(doc["url"]) if doc.get("url") else f"{doc.get('source') or 'document'} {doc['id'][:16]}"


def _print_answer(answer: dict[str, Any], lang: str) -> None:
    """The answer in plain words, then one line per span, passage and similar document (text escaped for rich)."""
    words = _LABELS[lang]
    out.print(escape(answer["summary"][lang]))
    for span in answer["spans"]:
        where = ", ".join(_name(d) for d in span["documents"][:3])
        common = words["common"] if span["common"] else ""
        out.print(
            escape(
                f"  {words['span']} {span['start']}-{span['end']}: {span['count']:,}{words['times']}{common} "
                f'"{span["text"][:80]}" {words["in"]} {where}'
            )
        )
    for passage in answer["passages"]:
        out.print(
            escape(
                f"  {words['passage']} (Jaccard {passage['jaccard']:.2f}, {words['containment']} "
                f"{passage['containment']:.2f}): {_name(passage)}"
            )
        )
    for doc in answer["similar"][:5]:
        out.print(escape(f"  {words['similar']} (BM25 {doc['score']:.2f}): {_name(doc)}"))
    for doc in answer.get("semantic") or []:
        out.print(escape(f"  {words['semantic']} ({words['cosine']} {doc['score']:.2f}): {_name(doc)}"))
    if answer.get("semantic") is None and answer["index"].get("semantic"):
        out.print(escape(f"  {words['no_semantic']}"))


def trace(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Option("--text", help="The generated output to trace.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="A UTF-8 file holding the output (- for standard input).")
    ] = None,
    stage: Annotated[str | None, typer.Option("--stage", help="Trace against a stage's kept set.")] = None,
    run: Annotated[str | None, typer.Option("--run", help="Trace against a training run's data mix.")] = None,
    min_length: Annotated[
        int, typer.Option("--min-length", min=1, help="Shortest verbatim span reported, in tokens.")
    ] = TraceOptions.min_length,
    documents: Annotated[
        int, typer.Option("--documents", min=1, help="Documents listed per span.")
    ] = TraceOptions.documents_per_span,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold", min=0.0, max=1.0, help="Least Jaccard or containment for a similar passage."
        ),
    ] = TraceOptions.threshold,
    max_chars: Annotated[
        int, typer.Option("--max-chars", min=1, help="Longest output accepted, in characters.")
    ] = MAX_OUTPUT_CHARS,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Threads the index's shards are searched on; the answer is the same (threads rarely help: the "
            "search holds Python's GIL most of the time).",
        ),
    ] = TraceOptions.workers,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as one JSON object.")] = False,
    lang: Annotated[
        str, typer.Option("--lang", help="Language of the plain answer: en or ja (JSON and HTML carry both).")
    ] = "en",
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the answer as a bilingual HTML page.")
    ] = None,
    bundle: Annotated[
        Path | None,
        typer.Option(
            "--bundle",
            help="Also write the answer with the proofs of its index and of every cited document "
            "(check it with 'kiroku verify FILE --key KEY').",
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Find where a generated output's text occurs verbatim, nearly or loosely in the training data.

    Prints coverage (the share of the output inside verbatim spans), each span with its count and documents, the
    near-duplicate passages, the most similar documents and, when the index was built with --semantic, the
    passages closest in meaning. Without --stage or --run, against everything the catalog kept; the index must be
    built (`kiroku index build`) and up to date with the ledger.
    """
    if lang not in _LABELS:
        fail(f"--lang must be en or ja, not {lang!r}")
    ws = workspace_from(ctx, workspace)
    options = TraceOptions(
        min_length=min_length,
        documents_per_span=documents,
        threshold=threshold,
        max_chars=max_chars,
        workers=workers,
    )
    with user_errors():
        output = _output_text(text, file, max_chars)
        with ws.ledger() as ledger:
            scope = resolve_scope(ledger, stage=stage, run=run)
            index = TraceIndex.open(ws.index_dir, scope)
            index.check(ledger)
            answer = trace_output(index, output, ws.catalog_dir, options)
            if bundle is not None:
                note, _ = checkpoint_covering(ledger, ws.signer(), [index.manifest.record])
                proof = trace_bundle(ledger, ws.catalog_dir, answer, ws.verifier(), note)
                verify_trace_bundle(proof, ws.verifier())  # never hand out a bundle that fails
                bundle.write_text(proof.to_json(), encoding="utf-8")
    if html is not None:
        from kiroku.trace.render import render_trace_html

        html.write_text(render_trace_html(output, answer), encoding="utf-8")
    if as_json:
        out.print_json(json.dumps(answer, ensure_ascii=False))
    else:
        _print_answer(answer, lang)
        if html is not None:
            out.print(f"Wrote {html}")
    if bundle is not None:
        out.print(f"Proof written to {bundle}; check it with 'kiroku verify {bundle} --key KEY'", style=None)
