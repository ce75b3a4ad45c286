"""A trace answer with its proofs (``kiroku.trace/v1``), checked offline with the log's verifier key alone.

The bundle carries the answer, the inclusion proof of the ``trace.index`` record the answer was computed from,
and, for every document the answer cites, that document's chained proof (document in catalog shard, shard in the
log; stage memberships where it has them), all against one signed checkpoint. Verification fails closed: a cited
document without a valid proof, a proof against another checkpoint, a document from a shard the index did not
read, or an answer that names another index record or scope.

What it proves: the cited documents are in the firm's ledger and the index the answer came from is the one
committed to. What it does not: that the span text occurs in the document (the text is not in the bundle; the
firm can show it, and its SHA-256 is the document's id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from kiroku.catalog.lineage import document_bundle, document_lineage
from kiroku.catalog.proofs import DocumentBundle, verify_document_bundle
from kiroku.ledger import InclusionBundle, Ledger, VerifiedInclusion, Verifier, verify_bundle
from kiroku.trace.errors import TraceBundleError

__all__ = [
    "TRACE_FORMAT",
    "TraceBundle",
    "VerifiedTrace",
    "cited_documents",
    "trace_bundle",
    "verify_trace_bundle",
]

TRACE_FORMAT: Final = "kiroku.trace/v1"


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


def cited_documents(answer: dict[str, Any]) -> list[str]:
    """Hex ids of every document the answer cites (spans, passages, similar), in first-cited order."""
    ids: dict[str, None] = {}
    for span in answer.get("spans", []):
        for doc in span.get("documents", []):
            ids[doc["id"]] = None
    for entry in [*answer.get("passages", []), *answer.get("similar", [])]:
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
    """What a verified trace bundle establishes."""

    origin: str
    tree_size: int
    record: int
    scope: str
    coverage: float
    spans: int
    documents: int


def _load(data: str | bytes | TraceBundle) -> TraceBundle:
    if isinstance(data, TraceBundle):
        return data
    try:
        return TraceBundle.model_validate(json.loads(data))
    except (ValueError, ValidationError) as exc:
        raise TraceBundleError(f"not a {TRACE_FORMAT} bundle: {exc}") from exc


def verify_trace_bundle(data: str | bytes | TraceBundle, verifier: Verifier) -> VerifiedTrace:
    """Check a trace bundle offline; `TraceBundleError` (or the ledger's own errors) on any failure."""
    bundle = _load(data)
    answer = bundle.answer
    included = verify_bundle(bundle.index, verifier)
    if not isinstance(included, VerifiedInclusion):
        raise TraceBundleError("the index proof is not an inclusion proof")
    body = bundle.index.body
    if included.entry.kind != "trace.index" or body is None:
        raise TraceBundleError(f"record {included.index} is not a trace.index record with its body")
    if included.index != answer.get("index", {}).get("record") or body.get("scope") != answer.get("scope"):
        raise TraceBundleError(
            f"the answer names index record {answer.get('index', {}).get('record')} of scope {answer.get('scope')!r}; "
            f"the proof is of record {included.index} of scope {body.get('scope')!r}"
        )
    shards = set(body.get("catalog_shards", []))
    proved = {}
    for document in bundle.documents:
        verified = verify_document_bundle(document, verifier)
        if (verified.origin, verified.tree_size) != (included.origin, included.tree_size):
            raise TraceBundleError(f"document {verified.doc_id} is proved against another checkpoint")
        proved[verified.doc_id] = document
    for doc_id in cited_documents(answer):
        if doc_id not in proved:
            raise TraceBundleError(f"the answer cites document {doc_id} but the bundle holds no proof of it")
    for span in answer.get("spans", []):
        for doc in span.get("documents", []):
            if doc.get("catalog_record") not in shards:
                raise TraceBundleError(
                    f"document {doc['id']} is cited from catalog record {doc.get('catalog_record')}, which the "
                    "index did not read"
                )
    return VerifiedTrace(
        origin=included.origin,
        tree_size=included.tree_size,
        record=included.index,
        scope=str(body["scope"]),
        coverage=float(answer.get("coverage", 0.0)),
        spans=len(answer.get("spans", [])),
        documents=len(proved),
    )
