"""The ledger: an append-only Merkle log of records, with signed checkpoints and proofs.

>>> ledger = Ledger.create("sqlite:///ledger.sqlite", origin="example.org/acme/ledger")  # doctest: +SKIP
>>> index = ledger.append("note", {"event": "crawl started"})                             # doctest: +SKIP
>>> ledger.checkpoint(signer)                                                              # doctest: +SKIP
>>> bundle = ledger.prove(index, verifier=signer.verifier())                               # doctest: +SKIP

Every append is one database transaction holding the log's append lock: it reads the right edge of the tree
(O(log n) hashes), writes the leaves, their bodies and the interior nodes they complete, and the new size. A crash
at any moment leaves either the whole batch or none of it. Roots and proofs read O(log n) stored hashes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from kiroku.ledger import merkle, store
from kiroku.ledger.bundle import BundleEntry, ConsistencyBundle, InclusionBundle
from kiroku.ledger.errors import CheckpointError, NotFound, StoreError, VerificationError
from kiroku.ledger.note import Checkpoint, NoteError, Signer, Verifier, open_checkpoint, sign_checkpoint
from kiroku.ledger.records import Entry, PreparedRecord, format_time, parse_time, prepare
from kiroku.ledger.retention import RetentionExpired, RetentionPolicy
from kiroku.ledger.tree import (
    Coord,
    Frontier,
    complete_subtrees,
    consistency_ranges,
    fold_right,
    inclusion_ranges,
    stored_order,
)

__all__ = ["Expiry", "Ledger", "LoggedRecord", "RetentionExpired", "SignedCheckpoint", "VerifyReport"]

Progress = Callable[[int], None]
DEFAULT_BATCH = 10_000


@dataclass(frozen=True)
class LoggedRecord:
    """A record as stored: its index, entry, leaf hash and (unless expired) its canonical body."""

    index: int
    entry: Entry
    leaf_hash: bytes
    body: bytes | None
    expires_at: str | None
    expired_at: str | None

    def body_json(self) -> dict[str, Any] | None:
        """The body as a JSON object, or None once it has expired."""
        return None if self.body is None else json.loads(self.body)


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint the log signed: tree size, root hash and the signed note text."""

    size: int
    root_hash: bytes
    note: str
    signed_at: str


@dataclass(frozen=True)
class Expiry:
    """What `Ledger.expire` is deleting, handed to its ``then`` callback inside the expiry's transaction."""

    cutoff: str
    expired: tuple[tuple[int, str], ...]
    """``(index, kind)`` of each body deleted."""
    record: int | None
    """The index of the ``retention.expired`` record (None when no body is deleted)."""
    next_index: int
    """The index the first record returned by ``then`` gets."""


@dataclass(frozen=True)
class VerifyReport:
    """What a full `Ledger.verify` checked."""

    size: int
    root_hash: bytes
    nodes: int
    bodies: int
    expired_bodies: int
    checkpoints: int


def _batches(items: Iterable[PreparedRecord], size: int) -> Iterator[list[PreparedRecord]]:
    batch: list[PreparedRecord] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _runs(indexes: Sequence[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for i in indexes:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


class Ledger:
    """An append-only Merkle log of records in a SQL database (see the module docstring)."""

    def __init__(self, engine: Engine, origin: str, retention: RetentionPolicy | None = None) -> None:
        self.engine = engine
        self.origin = origin
        self.retention = retention or RetentionPolicy()

    # -- opening ---------------------------------------------------------------------------------------------

    @classmethod
    def create(cls, url: str, origin: str, retention: RetentionPolicy | None = None) -> Ledger:
        """Create an empty ledger with ``origin`` in the database at ``url``."""
        engine = store.connect(url)
        store.upgrade(engine)
        try:
            with engine.begin() as conn:
                existing = conn.execute(select(store.log_state.c.origin)).scalar_one_or_none()
                if existing is not None:
                    raise StoreError(f"the database already holds the ledger {existing!r}")
                conn.execute(
                    insert(store.log_state).values(
                        id=1, origin=origin, size=0, created_at=format_time(datetime.now(UTC))
                    )
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot create the ledger: {exc}") from exc
        return cls(engine, origin, retention)

    @classmethod
    def open(cls, url: str, origin: str | None = None, retention: RetentionPolicy | None = None) -> Ledger:
        """Open the ledger in the database at ``url``; if ``origin`` is given, it must be the stored one."""
        engine = store.connect(url)
        store.upgrade(engine)
        try:
            with engine.connect() as conn:
                stored = conn.execute(select(store.log_state.c.origin)).scalar_one_or_none()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the ledger: {exc}") from exc
        if stored is None:
            raise StoreError("the database holds no kiroku ledger (run 'kiroku init' first)")
        if origin is not None and stored != origin:
            raise StoreError(f"the database holds the ledger {stored!r}, not {origin!r}")
        return cls(engine, stored, retention)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading the tree ------------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """The number of records in the log."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(store.log_state.c.size)).scalar_one())

    @staticmethod
    def _hashes(conn: Connection, coords: Iterable[Coord]) -> dict[Coord, bytes]:
        """Read the stored hashes of complete subtrees in two queries."""
        wanted = set(coords)
        found: dict[Coord, bytes] = {}
        leaf_indexes = [i for level, i in wanted if level == 0]
        by_order = {stored_order(level, i): (level, i) for level, i in wanted if level > 0}
        if leaf_indexes:
            rows = conn.execute(
                select(store.leaves.c.idx, store.leaves.c.leaf_hash).where(
                    store.leaves.c.idx.in_(leaf_indexes)
                )
            )
            found.update(((0, int(idx)), bytes(h)) for idx, h in rows)
        if by_order:
            rows = conn.execute(
                select(store.nodes.c.ord, store.nodes.c.hash).where(store.nodes.c.ord.in_(list(by_order)))
            )
            found.update((by_order[int(order)], bytes(h)) for order, h in rows)
        missing = wanted - found.keys()
        if missing:
            level, index = min(missing)
            raise VerificationError(
                f"the stored tree has no hash for leaves [{index << level}, {(index + 1) << level}); "
                "run 'kiroku log verify'",
                index=index << level,
            )
        return found

    def _range_hashes(self, conn: Connection, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        coords = [c for lo, hi in ranges for c in complete_subtrees(lo, hi)]
        hashes = self._hashes(conn, coords)
        return [fold_right(hashes[c] for c in complete_subtrees(lo, hi)) for lo, hi in ranges]

    def _root(self, conn: Connection, size: int) -> bytes:
        if size == 0:
            return merkle.root([])
        return self._range_hashes(conn, [(0, size)])[0]

    def _check_size(self, conn: Connection, size: int | None) -> int:
        current = int(conn.execute(select(store.log_state.c.size)).scalar_one())
        if size is None:
            return current
        if not 0 <= size <= current:
            raise NotFound(f"tree size {size} is beyond the log's size {current}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """The Merkle tree hash of the first ``size`` records (default: all)."""
        with self.engine.connect() as conn, conn.begin():
            return self._root(conn, self._check_size(conn, size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 inclusion proof of record ``index`` in the tree of ``size`` records (default: all)."""
        with self.engine.connect() as conn, conn.begin():
            size = self._check_size(conn, size)
            if not 0 <= index < size:
                raise NotFound(f"no record {index} in a tree of size {size}")
            return self._range_hashes(conn, inclusion_ranges(index, size))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 9162 consistency proof from the tree of ``size1`` records to the tree of ``size2``."""
        with self.engine.connect() as conn, conn.begin():
            size2 = self._check_size(conn, size2)
            if not 0 < size1 <= size2:
                raise NotFound(
                    f"no consistency proof from size {size1} to size {size2} (need 0 < old <= new)"
                )
            return self._range_hashes(conn, consistency_ranges(size1, size2))

    # -- appending -------------------------------------------------------------------------------------------

    def append(self, kind: str, body: dict[str, Any] | BaseModel, time: datetime | str | None = None) -> int:
        """Validate and append one record; return its index."""
        return self.append_prepared([prepare(kind, body, time)])

    def append_many(
        self,
        records: Iterable[PreparedRecord],
        *,
        batch_size: int = DEFAULT_BATCH,
        progress: Progress | None = None,
    ) -> range:
        """Append records in transactions of ``batch_size``; return the indexes they got (contiguous per batch).

        Each batch is atomic. If another process appends between two batches, the indexes of this call are
        not contiguous; the returned range then spans from the first to the last index assigned.
        """
        first = last = -1
        for batch in _batches(records, batch_size):
            start = self.append_prepared(batch)
            first = start if first < 0 else first
            last = start + len(batch) - 1
            if progress:
                progress(len(batch))
        return range(first, last + 1) if first >= 0 else range(0)

    def append_prepared(self, batch: Sequence[PreparedRecord]) -> int:
        """Append already validated records in one transaction; return the index of the first."""
        if not batch:
            raise ValueError("nothing to append")
        try:
            with store.write_transaction(self.engine) as (conn, size):
                self._append_locked(conn, size, batch)
                return size
        except IntegrityError as exc:
            raise StoreError(
                f"the ledger's tables disagree with its size; run 'kiroku log verify': {exc.orig}"
            ) from exc
        except OperationalError as exc:
            raise StoreError(f"cannot append to the ledger: {exc.orig}") from exc

    def _append_locked(self, conn: Connection, size: int, batch: Sequence[PreparedRecord]) -> None:
        """Write ``batch`` at ``size`` inside a transaction that holds the append lock."""
        edge = Frontier.coords(size)
        hashes = self._hashes(conn, edge)
        frontier = Frontier(size, [hashes[c] for c in edge])
        leaf_rows: list[dict[str, Any]] = []
        body_rows: list[dict[str, Any]] = []
        node_rows: list[dict[str, Any]] = []
        for offset, record in enumerate(batch):
            index = size + offset
            entry = record.entry
            leaf = entry.leaf_hash()
            for (level, node_index), node in frontier.append(leaf):
                node_rows.append({"ord": stored_order(level, node_index), "hash": node})
            leaf_rows.append(
                {
                    "idx": index,
                    "kind": entry.kind,
                    "time": entry.time,
                    "body_sha256": entry.body_sha256,
                    "leaf_hash": leaf,
                }
            )
            expires = self.retention.expires_at(entry.kind, datetime.fromisoformat(entry.time))
            body_rows.append(
                {
                    "idx": index,
                    "body": record.body,
                    "expires_at": None if expires is None else format_time(expires),
                    "expired_at": None,
                }
            )
        conn.execute(insert(store.leaves), leaf_rows)
        conn.execute(insert(store.bodies), body_rows)
        if node_rows:
            conn.execute(insert(store.nodes), node_rows)
        conn.execute(update(store.log_state).values(size=size + len(batch)))

    # -- reading records -------------------------------------------------------------------------------------

    def _record_query(self) -> Any:
        leaves, bodies = store.leaves, store.bodies
        return select(
            leaves.c.idx,
            leaves.c.kind,
            leaves.c.time,
            leaves.c.body_sha256,
            leaves.c.leaf_hash,
            bodies.c.body,
            bodies.c.expires_at,
            bodies.c.expired_at,
        ).select_from(leaves.outerjoin(bodies, bodies.c.idx == leaves.c.idx))

    @staticmethod
    def _to_record(row: Any) -> LoggedRecord:
        return LoggedRecord(
            index=int(row.idx),
            entry=Entry(row.kind, row.time, bytes(row.body_sha256)),
            leaf_hash=bytes(row.leaf_hash),
            body=None if row.body is None else bytes(row.body),
            expires_at=row.expires_at,
            expired_at=row.expired_at,
        )

    def record(self, index: int) -> LoggedRecord:
        """The record at ``index``."""
        with self.engine.connect() as conn:
            row = conn.execute(self._record_query().where(store.leaves.c.idx == index)).one_or_none()
        if row is None:
            raise NotFound(f"no record {index}; the log has {self.size} records (0..{self.size - 1})")
        return self._to_record(row)

    def records(self, start: int = 0, stop: int | None = None) -> Iterator[LoggedRecord]:
        """Records ``start <= index < stop`` in order, read in pages."""
        stop = self.size if stop is None else stop
        while start < stop:
            end = min(start + DEFAULT_BATCH, stop)
            with self.engine.connect() as conn:
                rows = conn.execute(
                    self._record_query()
                    .where(store.leaves.c.idx >= start, store.leaves.c.idx < end)
                    .order_by(store.leaves.c.idx)
                ).all()
            yield from (self._to_record(row) for row in rows)
            start = end

    def records_of_kind(self, kind: str) -> Iterator[LoggedRecord]:
        """Every record of ``kind``, oldest first (found through the kind index, not a scan)."""
        after = -1
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    self._record_query()
                    .where(store.leaves.c.kind == kind, store.leaves.c.idx > after)
                    .order_by(store.leaves.c.idx)
                    .limit(DEFAULT_BATCH)
                ).all()
            if not rows:
                return
            yield from (self._to_record(row) for row in rows)
            after = int(rows[-1].idx)

    def tail(self, count: int = 10) -> list[LoggedRecord]:
        """The last ``count`` records, oldest first."""
        size = self.size
        return list(self.records(max(0, size - count), size))

    # -- checkpoints -----------------------------------------------------------------------------------------

    @staticmethod
    def _to_checkpoint(row: Any) -> SignedCheckpoint:
        return SignedCheckpoint(int(row.size), bytes(row.root_hash), row.note, row.signed_at)

    def checkpoints(self) -> list[SignedCheckpoint]:
        """Every checkpoint this log signed, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(store.checkpoints).order_by(store.checkpoints.c.size))
            return [self._to_checkpoint(row) for row in rows]

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        """The checkpoint of the largest size, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(store.checkpoints).order_by(store.checkpoints.c.size.desc()).limit(1)
            ).one_or_none()
        return None if row is None else self._to_checkpoint(row)

    def checkpoint_at(self, size: int) -> SignedCheckpoint:
        """The checkpoint this log signed at tree size ``size``."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(store.checkpoints).where(store.checkpoints.c.size == size)
            ).one_or_none()
        if row is None:
            raise NotFound(f"the log signed no checkpoint at size {size}")
        return self._to_checkpoint(row)

    def checkpoint(self, signer: Signer) -> SignedCheckpoint:
        """Sign a checkpoint of the log as it is now and keep it.

        Refuses (`CheckpointError`) when the stored tree does not extend the latest checkpoint: signing would
        attest a rewritten history. If the latest checkpoint already covers the whole log, returns it.
        """
        if signer.name != self.origin:
            raise CheckpointError(f"the signing key is for {signer.name!r}, not this log {self.origin!r}")
        with store.write_transaction(self.engine) as (conn, size):
            if size == 0:
                raise CheckpointError("the log is empty: append a record before signing a checkpoint")
            root = self._root(conn, size)
            row = conn.execute(
                select(store.checkpoints).order_by(store.checkpoints.c.size.desc()).limit(1)
            ).one_or_none()
            if row is not None:
                latest = self._to_checkpoint(row)
                self._check_extends(conn, latest, size, root, signer.verifier())
                if latest.size == size:
                    return latest
            note = sign_checkpoint(Checkpoint(self.origin, size, root), signer)
            signed = SignedCheckpoint(size, root, note, format_time(datetime.now(UTC)))
            conn.execute(
                insert(store.checkpoints).values(
                    size=size, root_hash=root, note=note, signed_at=signed.signed_at
                )
            )
            return signed

    def _check_extends(
        self, conn: Connection, latest: SignedCheckpoint, size: int, root: bytes, verifier: Verifier
    ) -> None:
        def refuse(why: str) -> CheckpointError:
            return CheckpointError(
                f"refusing to sign: {why}; the log's history may have been rewritten (run 'kiroku log verify')"
            )

        try:
            signed, _ = open_checkpoint(latest.note, verifier, origin=self.origin)
        except NoteError as exc:
            raise refuse(f"the stored checkpoint at size {latest.size} does not verify ({exc})") from exc
        if (signed.size, signed.root_hash) != (latest.size, latest.root_hash):
            raise refuse(f"the stored checkpoint at size {latest.size} differs from its signed text")
        if latest.size > size:
            raise refuse(f"the log has {size} records but a checkpoint was signed at size {latest.size}")
        if latest.size == size:
            if root != latest.root_hash:
                raise refuse(f"the tree at size {size} no longer has the root signed earlier")
            return
        proof = self._range_hashes(conn, consistency_ranges(latest.size, size))
        if not merkle.verify_consistency(latest.size, size, latest.root_hash, root, proof):
            raise refuse(f"the tree at size {size} does not extend the checkpoint at size {latest.size}")

    def _resolve_checkpoint(self, note: str | None, verifier: Verifier, covers: int) -> Checkpoint:
        """The checkpoint to prove against: the given signed note (checked) or the latest stored one."""
        if note is None:
            latest = self.latest_checkpoint()
            if latest is None or latest.size < covers:
                raise CheckpointError(
                    f"no signed checkpoint covers tree size {covers} yet; run 'kiroku log checkpoint' first"
                )
            note = latest.note
        try:
            checkpoint, _ = open_checkpoint(note, verifier, origin=self.origin)
        except NoteError as exc:
            raise CheckpointError(f"the checkpoint cannot be used with this log: {exc}") from exc
        if checkpoint.size < covers:
            raise CheckpointError(
                f"the checkpoint is for size {checkpoint.size}; it does not cover size {covers}"
            )
        if checkpoint.size > self.size:
            raise CheckpointError(
                f"the checkpoint is for size {checkpoint.size}, beyond this log's size {self.size}"
            )
        if self.root(checkpoint.size) != checkpoint.root_hash:
            raise CheckpointError(f"the checkpoint's root is not this log's root at size {checkpoint.size}")
        return checkpoint

    # -- proofs for outsiders --------------------------------------------------------------------------------

    def prove(
        self, index: int, *, verifier: Verifier, checkpoint: str | None = None, include_body: bool = True
    ) -> InclusionBundle:
        """A self-contained bundle proving record ``index`` is in the log at ``checkpoint`` (default: latest).

        With ``include_body=False`` (or once the body has expired) the bundle carries only the body's digest.
        """
        if not 0 <= index < self.size:
            raise NotFound(f"no record {index}; the log has {self.size} records")
        signed = self._resolve_checkpoint(checkpoint, verifier, index + 1)
        record = self.record(index)
        note = checkpoint if checkpoint is not None else self.checkpoint_at(signed.size).note
        return InclusionBundle(
            origin=self.origin,
            index=index,
            tree_size=signed.size,
            entry=BundleEntry.model_validate(record.entry.to_json()),
            body=record.body_json() if include_body else None,
            proof=self.inclusion_proof(index, signed.size),
            checkpoint=note,
        )

    def prove_consistency(self, old_size: int, new_size: int | None = None) -> ConsistencyBundle:
        """A bundle proving the checkpoint at ``new_size`` (default: latest) extends the one at ``old_size``."""
        old = self.checkpoint_at(old_size)
        new = self.checkpoint_at(new_size) if new_size is not None else self.latest_checkpoint()
        if new is None or new.size < old.size:
            raise NotFound(f"no checkpoint at or after size {old_size} to prove consistency to")
        return ConsistencyBundle(
            origin=self.origin,
            old_size=old.size,
            new_size=new.size,
            proof=self.consistency_proof(old.size, new.size) if old.size < new.size else [],
            old_checkpoint=old.note,
            new_checkpoint=new.note,
        )

    # -- audit -----------------------------------------------------------------------------------------------

    def verify(self, verifier: Verifier, progress: Progress | None = None) -> VerifyReport:
        """Recompute the whole tree from the stored leaves and check every stored hash, body and checkpoint.

        Reads the log in pages, so memory stays flat. Raises `VerificationError` naming the first bad index.
        """
        from kiroku.ledger._audit import audit

        return audit(self, verifier, progress)

    # -- retention -------------------------------------------------------------------------------------------

    def expire(
        self,
        now: datetime | None = None,
        *,
        dry_run: bool = False,
        then: Callable[[Expiry], Sequence[PreparedRecord]] | None = None,
    ) -> int:
        """Delete the bodies whose retention period has ended, keep their digests, and log that it was done.

        A body goes only when both the period computed when it was appended and the period of the policy in
        force now have ended. Returns the number of bodies deleted (with ``dry_run``, that would be deleted).
        Proofs of those records still verify, without the body.

        ``then`` (not called with ``dry_run``) is called inside the same transaction, even when no body is due;
        the records it returns are appended in that transaction, so they are logged if and only if the bodies
        went. If it raises, nothing is deleted and nothing is logged.
        """
        moment = parse_time(now or datetime.now(UTC))
        cutoff = format_time(moment)
        leaves, bodies = store.leaves, store.bodies
        # one transaction: the bodies go if and only if the log records that they went
        with store.write_transaction(self.engine) as (conn, size):
            candidates = conn.execute(
                select(bodies.c.idx, leaves.c.kind, leaves.c.time)
                .join(leaves, leaves.c.idx == bodies.c.idx)
                .where(bodies.c.body.is_not(None), bodies.c.expires_at <= cutoff, bodies.c.idx < size)
                .order_by(bodies.c.idx)
            )
            indexes, expired = [], []
            for index, kind, time in candidates:
                ends = self.retention.expires_at(kind, parse_time(time))
                if ends is not None and ends <= moment:
                    indexes.append(int(index))
                    expired.append((int(index), str(kind)))
            batch: list[PreparedRecord] = []
            if indexes and not dry_run:
                for first, last in _runs(indexes):
                    conn.execute(
                        update(bodies)
                        .where(bodies.c.idx >= first, bodies.c.idx <= last)
                        .values(body=None, expired_at=cutoff)
                    )
                expiry = RetentionExpired(
                    cutoff=cutoff,
                    count=len(indexes),
                    index_runs=_runs(indexes),
                    policy=self.retention.to_mapping(),
                )
                batch.append(prepare("retention.expired", expiry))
            if then is not None and not dry_run:
                batch.extend(then(Expiry(cutoff, tuple(expired), size if batch else None, size + len(batch))))
            if batch:
                self._append_locked(conn, size, batch)
        return len(indexes)
