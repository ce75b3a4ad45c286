"""The registry as a witness of every firm's ledger.

A firm's first checkpoint is taken as it is (trust on first use), if it is signed by the firm's key. Every later
one must come as a consistency bundle (`kiroku log consistency`, or `kiroku registry witness`, which makes it)
from the last checkpoint the registry holds for that firm to the new one. The registry checks both signatures and
the proof, then cosigns the new checkpoint (C2SP ``cosignature/v1``) and keeps it.

A checkpoint that contradicts the firm's witnessed history, signed by the firm, is evidence: the registry keeps
it with what it contradicts, flags the firm publicly and refuses it (`Inconsistent`). That happens when:

- a checkpoint names a size the registry witnessed with another root (two histories of one log);
- the firm's own bundle starts from the last witnessed checkpoint, both checkpoints verify, and the proof does not
  (the new history does not extend the old: it was rewritten).

A checkpoint smaller than the last witnessed, or a bundle from another starting point, is refused without a
flag: it proves nothing either way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from kiroku.ledger import (
    BundleError,
    Checkpoint,
    ConsistencyBundle,
    NoteError,
    VerificationError,
    load_bundle,
    verify_bundle,
)
from kiroku.ledger.cosignature import Cosigner
from kiroku.ledger.note import open_checkpoint
from kiroku.registry.db import checkpoints
from kiroku.registry.errors import Inconsistent, Refused
from kiroku.registry.firms import Firm, flag_firm, now

__all__ = ["WitnessedCheckpoint", "check_against_history", "last_witnessed", "witness", "witnessed"]


@dataclass(frozen=True)
class WitnessedCheckpoint:
    """A checkpoint the registry holds for a firm: consistent and cosigned, or kept as evidence."""

    size: int
    root: str
    note: str
    cosigned: str | None
    consistent: bool
    evidence: dict[str, Any] | None
    received_at: str

    def public(self) -> dict[str, Any]:
        """As the JSON API shows it."""
        return {
            "size": self.size,
            "root": self.root,
            "consistent": self.consistent,
            "cosigned": self.cosigned,
            "checkpoint": self.note,
            "evidence": self.evidence,
            "received_at": self.received_at,
        }


def _row(row: Any) -> WitnessedCheckpoint:
    evidence = json.loads(row.evidence) if row.evidence else None
    return WitnessedCheckpoint(
        row.size, row.root, row.note, row.cosigned, bool(row.consistent), evidence, row.received_at
    )


def witnessed(engine: Engine, firm: Firm) -> list[WitnessedCheckpoint]:
    """Every checkpoint held for ``firm``, oldest first, evidence included."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(checkpoints).where(checkpoints.c.firm_id == firm.id).order_by(checkpoints.c.id)
        )
        return [_row(row) for row in rows]


def _last(conn: Connection, firm: Firm) -> WitnessedCheckpoint | None:
    row = conn.execute(
        select(checkpoints)
        .where(checkpoints.c.firm_id == firm.id, checkpoints.c.consistent.is_(True))
        .order_by(checkpoints.c.size.desc(), checkpoints.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _row(row)


def last_witnessed(engine: Engine, firm: Firm) -> WitnessedCheckpoint | None:
    """The largest consistent checkpoint the registry cosigned for ``firm``."""
    with engine.connect() as conn:
        return _last(conn, firm)


def _root_at(conn: Connection, firm: Firm, size: int) -> str | None:
    row = conn.execute(
        select(checkpoints.c.root).where(
            checkpoints.c.firm_id == firm.id, checkpoints.c.size == size, checkpoints.c.consistent.is_(True)
        )
    ).first()
    return None if row is None else str(row.root)


def _keep(
    conn: Connection,
    firm: Firm,
    checkpoint: Checkpoint,
    note: str,
    cosigned: str | None,
    evidence: Any = None,
) -> None:
    conn.execute(
        insert(checkpoints).values(
            firm_id=firm.id,
            size=checkpoint.size,
            root=checkpoint.root_hash.hex(),
            note=note,
            cosigned=cosigned,
            consistent=evidence is None,
            evidence=None if evidence is None else json.dumps(evidence, ensure_ascii=False),
            received_at=now(),
        )
    )


def _contradiction(
    conn: Connection, firm: Firm, checkpoint: Checkpoint, note: str, why: str, extra: Any
) -> None:
    _keep(conn, firm, checkpoint, note, None, {"why": why, **extra})
    flag_firm(conn, firm.id, why)


def _open(note: str, firm: Firm) -> Checkpoint:
    try:
        checkpoint, _ = open_checkpoint(note, firm.verifier)
    except NoteError as exc:
        raise Refused(f"the checkpoint is not signed by {firm.slug}'s registered key: {exc}") from exc
    return checkpoint


def check_against_history(conn: Connection, firm: Firm, checkpoint: Checkpoint, note: str) -> None:
    """Flag and refuse a signed checkpoint whose size the registry witnessed with another root."""
    root = _root_at(conn, firm, checkpoint.size)
    if root is not None and root != checkpoint.root_hash.hex():
        why = (
            f"two histories: a checkpoint signed by {firm.slug} gives size {checkpoint.size} the root "
            f"{checkpoint.root_hash.hex()}, but the registry witnessed root {root} for that size"
        )
        _contradiction(conn, firm, checkpoint, note, why, {"witnessed_root": root})
        raise Inconsistent(why + "; the firm is flagged")


def _first(conn: Connection, firm: Firm, note: str, cosigner: Cosigner) -> WitnessedCheckpoint:
    checkpoint = _open(note, firm)
    cosigned = cosigner.cosign(note)
    _keep(conn, firm, checkpoint, note, cosigned)
    held = _last(conn, firm)
    assert held is not None
    return held


def _from_bundle(
    conn: Connection, firm: Firm, bundle: ConsistencyBundle, last: WitnessedCheckpoint, cosigner: Cosigner
) -> WitnessedCheckpoint:
    old = _open(bundle.old_checkpoint, firm)
    new = _open(bundle.new_checkpoint, firm)
    check_against_history(conn, firm, old, bundle.old_checkpoint)
    check_against_history(conn, firm, new, bundle.new_checkpoint)
    if (old.size, old.root_hash.hex()) != (last.size, last.root):
        raise Refused(
            f"the bundle starts at size {old.size}; the registry's last checkpoint of {firm.slug} is size "
            f"{last.size}: make the bundle from there (`kiroku registry witness` does)"
        )
    if new.size < old.size:
        raise Refused(f"the new checkpoint (size {new.size}) is smaller than the last witnessed ({old.size})")
    try:
        verify_bundle(bundle, firm.verifier)
    except VerificationError as exc:
        why = (
            f"history rewritten: {firm.slug}'s log at size {new.size} does not extend size {old.size} ({exc})"
        )
        _contradiction(
            conn, firm, new, bundle.new_checkpoint, why, {"bundle": bundle.model_dump(mode="json")}
        )
        raise Inconsistent(why + "; the checkpoint is kept as evidence and the firm is flagged") from exc
    if new.size == old.size:
        return last
    _keep(conn, firm, new, bundle.new_checkpoint, cosigner.cosign(bundle.new_checkpoint))
    held = _last(conn, firm)
    assert held is not None
    return held


def witness(engine: Engine, firm: Firm, body: bytes, cosigner: Cosigner) -> WitnessedCheckpoint:
    """Check a submitted checkpoint note or consistency bundle against ``firm``'s witnessed history, cosign it
    and keep it; return what the registry now holds as the firm's latest checkpoint."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused("a checkpoint is UTF-8 text (a signed note) or a JSON consistency bundle") from exc
    refused: Inconsistent | None = None
    with engine.begin() as conn:
        try:
            return _witness(conn, firm, text, cosigner)
        except Inconsistent as exc:
            refused = exc  # the evidence and the flag are committed with this transaction; then refuse
    raise refused


def _witness(conn: Connection, firm: Firm, text: str, cosigner: Cosigner) -> WitnessedCheckpoint:
    last = _last(conn, firm)
    if text.lstrip().startswith("{"):
        try:
            bundle = load_bundle(text)
        except BundleError as exc:
            raise Refused(f"not a consistency bundle: {exc}") from exc
        if not isinstance(bundle, ConsistencyBundle):
            raise Refused("an inclusion bundle is not a checkpoint: send a consistency bundle")
        if last is None:
            return _first(conn, firm, bundle.new_checkpoint, cosigner)
        return _from_bundle(conn, firm, bundle, last, cosigner)
    checkpoint = _open(text, firm)
    check_against_history(conn, firm, checkpoint, text)
    if last is None:
        return _first(conn, firm, text, cosigner)
    if (checkpoint.size, checkpoint.root_hash.hex()) == (last.size, last.root):
        return last
    raise Refused(
        f"the registry holds {firm.slug}'s checkpoint of size {last.size}: send a consistency bundle from it "
        f"to size {checkpoint.size} (`kiroku log consistency`, or `kiroku registry witness`)"
    )
