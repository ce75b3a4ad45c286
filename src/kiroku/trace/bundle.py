"""A trace answer with its proofs (``kiroku.trace/v1``), checked offline with the log's verifier key alone.

The bundle carries the answer, the inclusion proof of the ``trace.index`` record the answer was computed from,
and, for every document the answer cites (in a span, a near-duplicate passage, the similar or the semantic list), that
document's chained proof (document in catalog shard, shard in the log; stage memberships and runs where it has
them), all against one signed checkpoint.

What a verified bundle proves, and `verify_trace_bundle` checks every item (failing closed on the first that does
not hold):

- the ``trace.index`` record is in the log at the signed checkpoint, and the answer names that record, its scope,
  and the index's ledger size, document and token counts, shard count and tokenizer as the record commits to them;
- every document the answer cites has exactly one chained proof in the bundle, against that same checkpoint, and
  the bundle holds no proof of a document the answer does not cite;
- each citation's ``catalog_record`` is a catalog shard the index read, the document's proof places it in that
  shard, and the citation's ``source`` is that shard's source;
- for a stage's index, each cited document is proved kept by that stage; for a run's index, proved to be in that
  run's training data (through a stage its data mix names).

What it does not prove: anything computed from the output or the index files, which the bundle does not carry.
The output text, the spans (text, positions, occurrence counts), coverage, near-duplicate scores, BM25 scores,
snippets, URLs and domains are the firm's statement, signed by nobody; that the answer lists every matching
document; that a span's text occurs in the document (the firm can show the text: its SHA-256 is the document id);
for the catalog's index, that a cited document was kept at ingest (a shard's root covers every document it holds).
A run's index can only be proved through stages: a citation from a run whose data mix names a whole source or the
catalog fails, and such a run is traced with a bundle against the catalog or a stage instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kiroku.catalog.lineage import document_bundle, document_lineage
from kiroku.catalog.proofs import DocumentBundle, VerifiedDocument, verify_document_bundle
from kiroku.ledger import (
    BundleError,
    InclusionBundle,
    Ledger,
    VerificationError,
    VerifiedInclusion,
    Verifier,
    verify_bundle,
)
from kiroku.ledger.note import InvalidSignature
from kiroku.trace.errors import TraceBundleError
from kiroku.trace.record import TraceIndexRecord

__all__ = [
    "TRACE_FORMAT",
    "TraceBundle",
    "VerifiedTrace",
    "cited_documents",
    "trace_bundle",
    "verify_trace_bundle",
]

TRACE_FORMAT: Final = "kiroku.trace/v1"

_ALTERED: Final = (
    "The bundle was changed after it was made, or put together from parts of different bundles: do not rely on "
    "it, and ask its sender for the file 'kiroku trace --bundle' wrote."
)


class TraceBundle(BaseModel):
    """An answer, the index record's inclusion proof, and every cited document's chained proof."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["kiroku.trace/v1"] = TRACE_FORMAT
    answer: dict[str, Any]
    index: InclusionBundle
    documents: list[DocumentBundle]

    def to_json(self) -> str:
        """The bundle as indented JSON."""
        return self.model_dump_json(indent=2)


# -- the parts of an answer a bundle binds to its proofs -------------------------------------------------------
# Loose (other fields of the answer are allowed and carried as they are) but strict in type: a count given as
# text, or a citation without its shard, is a malformed bundle rather than something to coerce.


class _Claims(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, strict=True)


class _Citation(_Claims):
    id: str = Field(pattern=r"^[0-9a-f]{64}$")
    catalog_record: int = Field(ge=0)
    source: str | None


class _Span(_Claims):
    documents: list[_Citation]


class _IndexClaim(_Claims):
    record: int = Field(ge=0)
    ledger_size: int = Field(ge=0)
    documents: int = Field(ge=0)
    tokens: int = Field(ge=0)
    shards: int = Field(ge=0)
    tokenizer: str
    semantic: bool = False


class _Answer(_Claims):
    scope: str
    index: _IndexClaim
    coverage: float = Field(ge=0.0, le=1.0)
    spans: list[_Span]
    passages: list[_Citation]
    similar: list[_Citation]
    semantic: list[_Citation] | None = None

    def citations(self) -> Iterator[tuple[str, _Citation]]:
        """Every citation with where it sits in the answer (``spans[0].documents[1]``, ``passages[2]``)."""
        for s, span in enumerate(self.spans):
            for d, doc in enumerate(span.documents):
                yield f"spans[{s}].documents[{d}]", doc
        for part in ("passages", "similar", "semantic"):
            for i, doc in enumerate(getattr(self, part) or []):
                yield f"{part}[{i}]", doc


def cited_documents(answer: dict[str, Any]) -> list[str]:
    """Hex ids of every document the answer cites (spans, passages, similar, semantic), in first-cited order."""
    ids: dict[str, None] = {}
    for span in answer.get("spans", []):
        for doc in span.get("documents", []):
            ids[doc["id"]] = None
    for entry in [*answer.get("passages", []), *answer.get("similar", []), *(answer.get("semantic") or [])]:
        ids[entry["id"]] = None
    return list(ids)


def trace_bundle(
    ledger: Ledger, catalog_dir: Path, answer: dict[str, Any], verifier: Verifier, checkpoint: str
) -> TraceBundle:
    """The proofs of ``answer`` against a signed ``checkpoint`` covering the index record and cited documents."""
    index = ledger.prove(int(answer["index"]["record"]), verifier=verifier, checkpoint=checkpoint)
    documents = []
    for doc_id in cited_documents(answer):
        lineage = document_lineage(ledger, catalog_dir, bytes.fromhex(doc_id))
        documents.append(document_bundle(ledger, catalog_dir, lineage, verifier, checkpoint))
    return TraceBundle(answer=answer, index=index, documents=documents)


@dataclass(frozen=True)
class VerifiedTrace:
    """What a verified trace bundle establishes.

    ``origin``, ``tree_size``, ``record``, ``scope`` and ``documents`` are proved. ``coverage`` and ``spans`` are
    the answer's own figures, repeated for the report: the bundle cannot prove them (the output is not in it).
    """

    origin: str
    tree_size: int
    record: int
    scope: str
    coverage: float
    spans: int
    documents: int


def _first_error(exc: ValidationError, prefix: str) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in (prefix, *first["loc"]) if part != "")
    return f"bundle field {where!r}: {first['msg']}"


def _load(data: str | bytes | TraceBundle) -> TraceBundle:
    if isinstance(data, TraceBundle):
        return data
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(
            f"not a JSON document (is the file truncated?): {exc}; a trace bundle is the JSON file "
            "'kiroku trace --bundle' writes"
        ) from exc
    if not isinstance(raw, dict) or raw.get("format") != TRACE_FORMAT:
        raise BundleError(f"not a trace bundle: its format is not {TRACE_FORMAT}")
    try:
        return TraceBundle.model_validate(raw)
    except ValidationError as exc:
        raise BundleError(_first_error(exc, "")) from exc


def _claims(answer: dict[str, Any]) -> _Answer:
    try:
        return _Answer.model_validate(answer)
    except ValidationError as exc:
        raise BundleError(_first_error(exc, "answer")) from exc


def _verify_index(bundle: TraceBundle, verifier: Verifier) -> tuple[VerifiedInclusion, TraceIndexRecord]:
    """The index record's inclusion at the signed checkpoint, and its body as a trace.index record."""
    try:
        included = verify_bundle(bundle.index, verifier)
    except VerificationError as exc:
        raise TraceBundleError(f"the trace index record is not proved in the log: {exc}. {_ALTERED}") from exc
    except InvalidSignature as exc:
        raise InvalidSignature(f"the bundle's checkpoint: {exc}. {_ALTERED}") from exc
    assert isinstance(included, VerifiedInclusion)  # an InclusionBundle verifies to an inclusion
    body = bundle.index.body
    if included.entry.kind != "trace.index" or body is None:
        raise TraceBundleError(
            f"the index proof is of record {included.index}, a {included.entry.kind} record"
            f"{'' if body is not None else ' without its body'}, not of a trace.index record with its body. "
            f"{_ALTERED}"
        )
    try:
        committed = TraceIndexRecord.model_validate(body)
    except ValidationError as exc:
        raise TraceBundleError(
            f"record {included.index} is not a well-formed trace.index record: {_first_error(exc, 'index.body')}"
        ) from exc
    return included, committed


def _check_answer_index(answer: _Answer, record: int, committed: TraceIndexRecord) -> None:
    """The answer's scope and index figures are the ones the proven record commits to."""
    claimed = answer.index
    if claimed.record != record:
        raise TraceBundleError(
            f"the answer names trace index record {claimed.record}, but the bundle proves record {record}: the "
            f"answer is not shown to come from the proven index. {_ALTERED}"
        )
    pairs: list[tuple[str, object, object]] = [
        ("scope", answer.scope, committed.scope),
        ("index.ledger_size", claimed.ledger_size, committed.ledger_size),
        ("index.documents", claimed.documents, committed.documents),
        ("index.tokens", claimed.tokens, committed.tokens),
        ("index.shards", claimed.shards, len(committed.shards)),
        ("index.tokenizer", claimed.tokenizer, committed.tokenizer),
        ("index.semantic", claimed.semantic, committed.semantic is not None),
    ]
    if answer.semantic and committed.semantic is None:
        raise TraceBundleError(
            f"the answer cites documents by meaning (semantic), but trace index record {record} has no semantic "
            f"tier. {_ALTERED}"
        )
    for field, said, proved in pairs:
        if said != proved:
            raise TraceBundleError(
                f"the answer's {field} is {said!r}, but trace index record {record} commits to {proved!r}. "
                f"{_ALTERED}"
            )
    if (committed.scope == "catalog") != (committed.scope_record is None):
        raise TraceBundleError(
            f"trace index record {record} names scope {committed.scope!r} with scope record "
            f"{committed.scope_record}: it is not a well-formed trace.index record"
        )


def _verify_documents(
    bundle: TraceBundle, verifier: Verifier
) -> dict[str, tuple[VerifiedDocument, DocumentBundle]]:
    """Each document proof verified, all against the index record's checkpoint, one per document."""
    proved: dict[str, tuple[VerifiedDocument, DocumentBundle]] = {}
    for document in bundle.documents:
        if document.records[0].checkpoint != bundle.index.checkpoint:
            raise TraceBundleError(
                f"document {document.doc_id} is proved against another checkpoint (tree size "
                f"{document.records[0].tree_size}) than the trace index record (tree size "
                f"{bundle.index.tree_size}). {_ALTERED}"
            )
        try:
            verified = verify_document_bundle(document, verifier)
        except VerificationError as exc:
            raise TraceBundleError(
                f"the proof of document {document.doc_id} does not verify: {exc}. {_ALTERED}"
            ) from exc
        if verified.doc_id in proved:
            raise TraceBundleError(f"the bundle holds two proofs of document {verified.doc_id}. {_ALTERED}")
        proved[verified.doc_id] = (verified, document)
    return proved


def _check_citation(
    where: str,
    cited: _Citation,
    proof: tuple[VerifiedDocument, DocumentBundle],
    committed: TraceIndexRecord,
    record: int,
) -> None:
    """One citation: from a shard the index read, proved in that shard, of its source, and in the scope."""
    verified, document = proof
    doc, shard = cited.id, cited.catalog_record
    if shard not in committed.catalog_shards:
        raise TraceBundleError(
            f"answer {where}: document {doc} is cited from catalog shard record {shard}, which trace index "
            f"record {record} did not read. {_ALTERED}"
        )
    in_shards = sorted({c.record for c in verified.claims if c.kind == "shard"})
    if shard not in in_shards:
        raise TraceBundleError(
            f"answer {where}: document {doc} is cited from catalog shard record {shard}, but its proof places it "
            f"in shard record(s) {', '.join(map(str, in_shards))} only. {_ALTERED}"
        )
    body = next(r.body for r in document.records if r.index == shard)
    source = body.get("source") if body is not None else None
    if cited.source != source:
        raise TraceBundleError(
            f"answer {where}: document {doc} is cited with source {cited.source!r}, but catalog shard record "
            f"{shard} is of source {source!r}. {_ALTERED}"
        )
    kind = committed.scope.partition(":")[0]
    need = {"stage": "stage.kept", "run": "run"}.get(kind)
    if need is not None and not any(
        c.kind == need and c.record == committed.scope_record for c in verified.claims
    ):
        shown = "kept" if kind == "stage" else "trained on"
        advice = (
            " A run's training data is proved through the stages its data mix names; for a run trained on a whole "
            "source or the whole catalog, trace against the catalog or a stage instead."
            if kind == "run"
            else f" {_ALTERED}"
        )
        raise TraceBundleError(
            f"answer {where}: document {doc} is cited from {committed.scope}, but its proof does not show that "
            f"record {committed.scope_record} {shown} it.{advice}"
        )


def verify_trace_bundle(data: str | bytes | TraceBundle, verifier: Verifier) -> VerifiedTrace:
    """Check a trace bundle offline; raise on any failure.

    `kiroku.ledger.BundleError` for a malformed bundle (not JSON, another format, a field missing or mistyped in
    the bundle or in the parts of the answer it binds); `kiroku.ledger.NoteError` for a checkpoint not signed by
    the key (`InvalidSignature` when the signature is wrong); `TraceBundleError` or
    `kiroku.ledger.VerificationError` for anything that does not check. See the module docstring for what is
    proved.
    """
    bundle = _load(data)
    answer = _claims(bundle.answer)
    included, committed = _verify_index(bundle, verifier)
    _check_answer_index(answer, included.index, committed)
    proved = _verify_documents(bundle, verifier)
    cited: dict[str, None] = {}
    for where, citation in answer.citations():
        if citation.id not in proved:
            raise TraceBundleError(
                f"answer {where} cites document {citation.id}, but the bundle holds no proof of it. {_ALTERED}"
            )
        _check_citation(where, citation, proved[citation.id], committed, included.index)
        cited[citation.id] = None
    uncited = [doc for doc in proved if doc not in cited]
    if uncited:
        raise TraceBundleError(
            f"the bundle holds a proof of document {uncited[0]}, which the answer does not cite"
            f"{f' (and {len(uncited) - 1} more)' if len(uncited) > 1 else ''}. {_ALTERED}"
        )
    return VerifiedTrace(
        origin=included.origin,
        tree_size=included.tree_size,
        record=included.index,
        scope=committed.scope,
        coverage=answer.coverage,
        spans=len(answer.spans),
        documents=len(proved),
    )
