"""Proof bundles: self-contained JSON that anybody can check with nothing but the log's public key.

An *inclusion bundle* says "record N is in this log": the record's entry (kind, time, body digest), optionally its
body, its index, the inclusion proof and the signed checkpoint it is proved against. A *consistency bundle* says
"the log at the newer checkpoint extends the log at the older one": both signed checkpoints and the proof.

`verify_bundle` checks either kind strictly and fails closed:

- `BundleError`: the bundle is not a well-formed kiroku bundle (truncated, a field missing or mistyped);
- `kiroku.ledger.note.NoteError`: a checkpoint is malformed, not signed by the given key (`UnknownKey`), or
  its signature does not verify (`InvalidSignature`);
- `VerificationError`: the bundle is well formed and signed, but the proof, body or sizes do not check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError

from kiroku.ledger import merkle
from kiroku.ledger.errors import BundleError, VerificationError
from kiroku.ledger.note import Checkpoint, Verifier, open_checkpoint
from kiroku.ledger.records import Entry, canonical_json

__all__ = [
    "ConsistencyBundle",
    "InclusionBundle",
    "VerifiedConsistency",
    "VerifiedInclusion",
    "load_bundle",
    "verify_bundle",
]

INCLUSION_FORMAT: Final = "kiroku.inclusion/v1"
CONSISTENCY_FORMAT: Final = "kiroku.consistency/v1"


def _b64_hash(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise ValueError("a hash must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from exc
    if len(raw) != merkle.HASH_SIZE:
        raise ValueError(f"a hash must be {merkle.HASH_SIZE} bytes, this one is {len(raw)}")
    return raw


def _hex_digest(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str) or len(value) != 64:
        raise ValueError("body_sha256 must be 64 hex digits")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise ValueError("body_sha256 must be 64 hex digits") from exc


HashB64 = Annotated[
    bytes,
    BeforeValidator(_b64_hash),
    PlainSerializer(lambda b: base64.b64encode(b).decode(), return_type=str),
]
DigestHex = Annotated[
    bytes, BeforeValidator(_hex_digest), PlainSerializer(lambda b: b.hex(), return_type=str)
]
Count = Annotated[int, Field(strict=True, ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BundleEntry(_Strict):
    """The part of a record that its leaf commits to."""

    kind: str
    time: str
    body_sha256: DigestHex

    def to_entry(self) -> Entry:
        """As a ledger `Entry`."""
        return Entry(self.kind, self.time, self.body_sha256)


class InclusionBundle(_Strict):
    """Proof that one record is in the log at a signed checkpoint."""

    format: Literal["kiroku.inclusion/v1"] = INCLUSION_FORMAT
    origin: str
    index: Count
    tree_size: Count
    entry: BundleEntry
    body: dict[str, Any] | None = None
    proof: list[HashB64]
    checkpoint: str

    def to_json(self) -> str:
        """The bundle as indented JSON text."""
        return json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


class ConsistencyBundle(_Strict):
    """Proof that the log at ``new_checkpoint`` only appended to the log at ``old_checkpoint``."""

    format: Literal["kiroku.consistency/v1"] = CONSISTENCY_FORMAT
    origin: str
    old_size: Count
    new_size: Count
    proof: list[HashB64]
    old_checkpoint: str
    new_checkpoint: str

    def to_json(self) -> str:
        """The bundle as indented JSON text."""
        return json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class VerifiedInclusion:
    """What a verified inclusion bundle establishes."""

    origin: str
    index: int
    tree_size: int
    entry: Entry
    body_included: bool
    checkpoint: Checkpoint


@dataclass(frozen=True)
class VerifiedConsistency:
    """What a verified consistency bundle establishes."""

    origin: str
    old: Checkpoint
    new: Checkpoint


def load_bundle(data: str | bytes) -> InclusionBundle | ConsistencyBundle:
    """Parse bundle text; `BundleError` naming the first problem when it is not a well-formed bundle."""
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise BundleError(f"not a JSON document{where} (is the file truncated?)") from exc
    if not isinstance(raw, dict):
        raise BundleError("a bundle is a JSON object")
    kind = raw.get("format")
    model: type[InclusionBundle] | type[ConsistencyBundle]
    if kind == INCLUSION_FORMAT:
        model = InclusionBundle
    elif kind == CONSISTENCY_FORMAT:
        model = ConsistencyBundle
    else:
        raise BundleError(
            f"unknown bundle format {kind!r}; expected {INCLUSION_FORMAT} or {CONSISTENCY_FORMAT}"
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BundleError(f"bundle field {where!r}: {first['msg']}") from exc


def _open(note: str, verifier: Verifier, origin: str, what: str) -> Checkpoint:
    checkpoint, _ = open_checkpoint(note, verifier, origin=origin)
    if checkpoint.origin != origin:  # open_checkpoint checks this too; keep the guarantee local
        raise VerificationError(f"{what} is for log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


def _verify_inclusion(bundle: InclusionBundle, verifier: Verifier) -> VerifiedInclusion:
    checkpoint = _open(bundle.checkpoint, verifier, bundle.origin, "the checkpoint")
    if checkpoint.size != bundle.tree_size:
        raise VerificationError(
            f"the bundle claims tree size {bundle.tree_size} but its checkpoint is for size {checkpoint.size}"
        )
    entry = bundle.entry.to_entry()
    if bundle.body is not None and hashlib.sha256(canonical_json(bundle.body)).digest() != entry.body_sha256:
        raise VerificationError(
            "the record body does not match the digest the log committed to", index=bundle.index
        )
    if not merkle.verify_inclusion(
        entry.leaf_hash(), bundle.index, bundle.tree_size, bundle.proof, checkpoint.root_hash
    ):
        raise VerificationError(
            f"record {bundle.index} is not proved to be in the log at size {bundle.tree_size}: "
            "the inclusion proof does not lead to the signed root",
            index=bundle.index,
        )
    return VerifiedInclusion(
        bundle.origin, bundle.index, bundle.tree_size, entry, bundle.body is not None, checkpoint
    )


def _verify_consistency(bundle: ConsistencyBundle, verifier: Verifier) -> VerifiedConsistency:
    old = _open(bundle.old_checkpoint, verifier, bundle.origin, "the old checkpoint")
    new = _open(bundle.new_checkpoint, verifier, bundle.origin, "the new checkpoint")
    if (old.size, new.size) != (bundle.old_size, bundle.new_size):
        raise VerificationError("the bundle's sizes differ from its checkpoints' sizes")
    if not merkle.verify_consistency(old.size, new.size, old.root_hash, new.root_hash, bundle.proof):
        raise VerificationError(
            f"the log at size {new.size} is not proved to extend the log at size {old.size}: "
            "history may have been rewritten",
            size=new.size,
        )
    return VerifiedConsistency(bundle.origin, old, new)


def verify_bundle(
    data: str | bytes | InclusionBundle | ConsistencyBundle, verifier: Verifier
) -> VerifiedInclusion | VerifiedConsistency:
    """Check a bundle with nothing but the log's verifier key; raise on any failure (see the module docstring)."""
    bundle = load_bundle(data) if isinstance(data, str | bytes) else data
    if isinstance(bundle, InclusionBundle):
        return _verify_inclusion(bundle, verifier)
    return _verify_consistency(bundle, verifier)
