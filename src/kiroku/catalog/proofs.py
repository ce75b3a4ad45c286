"""Document bundles: one document's lineage as chained proofs that anybody can check offline.

A document is not a ledger leaf of its own. It is proved in two steps, chained:

1. *membership*: the document's id (the SHA-256 of its text) is a leaf of a Merkle tree (RFC 9162) whose root a
   ledger record commits to: a ``catalog.shard`` record's ``doc_root`` (the shard's sorted distinct ids), or a
   ``catalog.stage`` record's ``kept_root`` / ``dropped_root`` (what a cleaning stage kept or dropped);
2. *inclusion*: that record is in the log at a checkpoint signed with the firm's key (`InclusionBundle`).

A training run's record names, for each entry of its data mix, the root of the stage it trained on; a bundle that
proves the document in a stage's kept set and carries the run's record proves that the run trained on it.

`verify_document_bundle` checks all of it with nothing but the log's verifier key and fails closed:
`kiroku.ledger.BundleError` for a malformed bundle, `kiroku.ledger.NoteError` for a checkpoint that is not
signed by the key, `kiroku.ledger.VerificationError` for a proof that does not check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kiroku.ledger import BundleError, InclusionBundle, VerificationError, Verifier, merkle, verify_bundle
from kiroku.ledger.bundle import HashB64

__all__ = [
    "DOCUMENT_FORMAT",
    "DocumentBundle",
    "Membership",
    "ProvedClaim",
    "VerifiedDocument",
    "load_document_bundle",
    "verify_document_bundle",
]

DOCUMENT_FORMAT: Final = "kiroku.document/v1"

SetName = Literal["shard", "stage.kept", "stage.dropped"]

# Which record kind, body field and size field each membership set names.
_SETS: Final[dict[str, tuple[str, str, str]]] = {
    "shard": ("catalog.shard", "doc_root", "distinct_documents"),
    "stage.kept": ("catalog.stage", "kept_root", "kept"),
    "stage.dropped": ("catalog.stage", "dropped_root", "dropped"),
}


class Membership(BaseModel):
    """The document's id is leaf ``position`` of the ``set`` committed to by ledger record ``record``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record: int = Field(ge=0)
    set: SetName
    position: int = Field(ge=0)
    size: int = Field(ge=1)
    proof: list[HashB64]


class DocumentBundle(BaseModel):
    """A document's chained proofs: memberships, and the ledger records (with bodies) they rest on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["kiroku.document/v1"] = DOCUMENT_FORMAT
    doc_id: str = Field(pattern=r"^[0-9a-f]{64}$")
    records: list[InclusionBundle] = Field(min_length=1)
    memberships: list[Membership] = Field(min_length=1)
    runs: list[int] = Field(default_factory=list)
    """Indexes (in ``records``) of training-run records whose data mix the document's stages fed."""

    def to_json(self) -> str:
        """The bundle as indented JSON text."""
        return json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class ProvedClaim:
    """One thing a verified document bundle establishes, in words and as data."""

    kind: str
    """``shard``, ``stage.kept``, ``stage.dropped`` or ``run``."""
    record: int
    name: str
    text: str


@dataclass(frozen=True)
class VerifiedDocument:
    """What a verified document bundle establishes, all at one signed checkpoint."""

    doc_id: str
    origin: str
    tree_size: int
    claims: tuple[ProvedClaim, ...]


def load_document_bundle(data: str | bytes) -> DocumentBundle:
    """Parse document bundle text; `BundleError` naming the first problem."""
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"not a JSON document (is the file truncated?): {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != DOCUMENT_FORMAT:
        raise BundleError(f"not a document bundle: its format is not {DOCUMENT_FORMAT}")
    try:
        return DocumentBundle.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BundleError(f"bundle field {where!r}: {first['msg']}") from exc


def _label(kind: str, body: dict[str, Any]) -> str:
    if kind == "catalog.shard":
        return f"shard {body.get('shard')} of source {body.get('source')}"
    if kind == "catalog.stage":
        return f"stage {body.get('name')}"
    return f"{body.get('model')} {body.get('version')}"


def _check_membership(doc_id: bytes, member: Membership, kind: str, body: dict[str, Any]) -> None:
    want_kind, root_field, size_field = _SETS[member.set]
    if kind != want_kind:
        raise VerificationError(f"record {member.record} is a {kind} record, not {want_kind}")
    try:
        root = bytes.fromhex(str(body[root_field]))
        size = int(body[size_field])
    except (KeyError, ValueError, TypeError) as exc:
        raise VerificationError(f"record {member.record} has no usable {root_field}/{size_field}") from exc
    if size != member.size:
        raise VerificationError(
            f"record {member.record} commits to {size} ids, the bundle claims {member.size}",
            index=member.record,
        )
    if not merkle.verify_inclusion(merkle.leaf_hash(doc_id), member.position, size, member.proof, root):
        raise VerificationError(
            f"the document is not proved to be in the {member.set} set of record {member.record}: "
            "the membership proof does not lead to the committed root",
            index=member.record,
        )


def _run_uses(run_body: dict[str, Any], kept_roots: dict[str, str]) -> list[str]:
    """Names of the proved stages (name -> kept root) that the run's data mix trained on, by equal root."""
    uses = []
    for entry in run_body.get("data_mix", []):
        stage = entry.get("stage") if isinstance(entry, dict) else None
        if stage and kept_roots.get(stage) == entry.get("root"):
            uses.append(stage)
    return uses


def verify_document_bundle(data: str | bytes | DocumentBundle, verifier: Verifier) -> VerifiedDocument:
    """Check a document bundle with nothing but the log's verifier key; raise on any failure."""
    bundle = load_document_bundle(data) if isinstance(data, str | bytes) else data
    doc_id = bytes.fromhex(bundle.doc_id)
    first = bundle.records[0]
    bodies: dict[int, tuple[str, dict[str, Any]]] = {}
    for record in bundle.records:
        if (record.origin, record.tree_size, record.checkpoint) != (
            first.origin,
            first.tree_size,
            first.checkpoint,
        ):
            raise VerificationError("the bundle's records are not all proved against the same checkpoint")
        if record.body is None:
            raise VerificationError(f"record {record.index} comes without its body; its roots cannot be read")
        verify_bundle(record, verifier)
        bodies[record.index] = (record.entry.kind, record.body)
    claims: list[ProvedClaim] = []
    kept_roots: dict[str, str] = {}
    for member in bundle.memberships:
        if member.record not in bodies:
            raise VerificationError(
                f"membership names record {member.record}, which the bundle does not carry"
            )
        kind, body = bodies[member.record]
        _check_membership(doc_id, member, kind, body)
        label = _label(kind, body)
        verb = {"shard": "is in", "stage.kept": "was kept by", "stage.dropped": "was dropped by"}[member.set]
        claims.append(
            ProvedClaim(member.set, member.record, label, f"{verb} {label} (record {member.record})")
        )
        if member.set == "stage.kept":
            kept_roots[str(body["name"])] = str(body["kept_root"])
    if not any(claim.kind == "shard" for claim in claims):
        raise VerificationError("the bundle does not prove the document is in any catalog shard")
    for index in bundle.runs:
        if index not in bodies or bodies[index][0] != "training.run":
            raise VerificationError(f"run {index} is not a training.run record carried by the bundle")
        uses = _run_uses(bodies[index][1], kept_roots)
        if not uses:
            raise VerificationError(
                f"run record {index} did not train on any stage whose kept set the bundle proves", index=index
            )
        label = _label("training.run", bodies[index][1])
        claims.append(
            ProvedClaim(
                "run",
                index,
                label,
                f"was in the training data of {label} (record {index}, via {', '.join(uses)})",
            )
        )
    return VerifiedDocument(bundle.doc_id, first.origin, first.tree_size, tuple(claims))
