"""Full audit of a stored ledger: recompute everything from the leaves, page by page.

The audit streams leaves in index order, recomputes each leaf hash from the entry and each body digest from the
body, rebuilds the interior nodes with a `Frontier` and compares them with the stored ones in the order they were
completed (`stored_order`), and checks each signed checkpoint when the rebuilt tree reaches its size. The first
difference raises `VerificationError` with the index of the leaf concerned.
"""

from __future__ import annotations

import bisect
import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, select

from kiroku.ledger import store
from kiroku.ledger.errors import VerificationError
from kiroku.ledger.note import NoteError, Verifier, open_checkpoint
from kiroku.ledger.records import Entry, format_time, parse_time
from kiroku.ledger.retention import RetentionExpired, RetentionPolicy
from kiroku.ledger.tree import Frontier, stored_order

if TYPE_CHECKING:
    from kiroku.ledger.log import Ledger, Progress, VerifyReport

PAGE = 10_000


def _leaf_position(index: int) -> int:
    return stored_order(0, index)


def _leaf_completing(position: int) -> int:
    """The leaf whose append stores the hash at ``position`` (its own hash or a node it completes)."""
    lo, hi = 0, position  # a leaf's position is at least its index
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _leaf_position(mid) <= position:
            lo = mid
        else:
            hi = mid - 1
    return lo


def audit(ledger: Ledger, verifier: Verifier, progress: Progress | None = None) -> VerifyReport:
    """Check every stored leaf, node, body and checkpoint of ``ledger``; see the module docstring."""
    from kiroku.ledger.log import VerifyReport

    if verifier.name != ledger.origin:
        raise VerificationError(f"the key is for {verifier.name!r}, not this log {ledger.origin!r}")
    leaves, nodes, bodies, checkpoints = store.leaves, store.nodes, store.bodies, store.checkpoints
    # One snapshot for the whole audit, so that appends committed meanwhile are not mistaken for tampering.
    # A SQLite transaction in WAL mode reads one snapshot already; PostgreSQL needs REPEATABLE READ for it.
    options = {} if ledger.engine.dialect.name == "sqlite" else {"isolation_level": "REPEATABLE READ"}
    with ledger.engine.connect().execution_options(**options) as conn, conn.begin():
        size = int(conn.execute(select(store.log_state.c.size)).scalar_one())
        pending = [
            (int(r.size), bytes(r.root_hash), r.note)
            for r in conn.execute(select(checkpoints).order_by(checkpoints.c.size.desc()))
        ]
        if pending and pending[0][0] > size:
            raise VerificationError(
                f"a checkpoint was signed at size {pending[0][0]} but the log holds only {size} records",
                size=pending[0][0],
            )
        extra_leaves = conn.execute(select(func.count()).where(leaves.c.idx >= size)).scalar_one()
        if extra_leaves:
            raise VerificationError(
                f"{extra_leaves} stored leaves lie beyond the log's size {size}", index=size
            )
        extra_nodes = conn.execute(
            select(func.count()).where(nodes.c.ord >= _leaf_position(size))
        ).scalar_one()
        if extra_nodes:
            raise VerificationError(
                f"{extra_nodes} stored nodes lie beyond the log's size {size}", index=size
            )
        extra_bodies = conn.execute(select(func.count()).where(bodies.c.idx >= size)).scalar_one()
        if extra_bodies:
            raise VerificationError(
                f"{extra_bodies} stored bodies lie beyond the log's size {size}", index=size
            )

        expiries = _Expiries.load(conn, size)
        frontier = Frontier()
        counts = {"nodes": 0, "bodies": 0, "expired": 0, "checkpoints": 0}
        for start in range(0, size, PAGE):
            end = min(start + PAGE, size)
            leaf_rows = conn.execute(
                select(leaves).where(leaves.c.idx >= start, leaves.c.idx < end).order_by(leaves.c.idx)
            ).all()
            body_rows = {
                int(r.idx): r
                for r in conn.execute(select(bodies).where(bodies.c.idx >= start, bodies.c.idx < end))
            }
            node_rows = {
                int(r.ord): bytes(r.hash)
                for r in conn.execute(
                    select(nodes).where(
                        nodes.c.ord >= _leaf_position(start), nodes.c.ord < _leaf_position(end)
                    )
                )
            }
            expected = start
            for row in leaf_rows:
                index = int(row.idx)
                if index != expected:
                    raise VerificationError(
                        f"record {expected} is missing from the stored leaves", index=expected
                    )
                expected += 1
                entry = Entry(row.kind, row.time, bytes(row.body_sha256))
                leaf = entry.leaf_hash()
                if bytes(row.leaf_hash) != leaf:
                    raise VerificationError(
                        f"record {index}: the stored leaf hash is not the hash of its entry (altered)",
                        index=index,
                    )
                _check_body(index, entry, body_rows.get(index), expiries, counts)
                for (level, node_index), node in frontier.append(leaf):
                    stored = node_rows.pop(stored_order(level, node_index), None)
                    first, last = node_index << level, ((node_index + 1) << level) - 1
                    if stored is None:
                        raise VerificationError(
                            f"the node over records {first}..{last} is missing", index=first
                        )
                    if stored != node:
                        raise VerificationError(
                            f"the stored node over records {first}..{last} is altered", index=first
                        )
                    counts["nodes"] += 1
                while pending and pending[-1][0] == frontier.size:
                    _check_checkpoint(ledger.origin, verifier, *pending.pop(), frontier.root())
                    counts["checkpoints"] += 1
            if expected != end:
                raise VerificationError(
                    f"record {expected} is missing from the stored leaves", index=expected
                )
            if node_rows:
                index = _leaf_completing(min(node_rows))
                raise VerificationError(
                    f"record {index}: an unexpected node is stored among its tree nodes", index=index
                )
            if progress:
                progress(end - start)
        if pending:
            raise VerificationError(
                f"a checkpoint claims size {pending[-1][0]}, which is not valid", size=pending[-1][0]
            )
        root = frontier.root()
    return VerifyReport(
        size, root, counts["nodes"], counts["bodies"], counts["expired"], counts["checkpoints"]
    )


class _Expiries:
    """The ``retention.expired`` records of the log: which bodies each deleted, when, under which policy."""

    def __init__(self, runs: list[tuple[int, int, int, str, RetentionPolicy]]) -> None:
        self.runs = sorted(runs)
        self.firsts = [run[0] for run in self.runs]

    @classmethod
    def load(cls, conn: Connection, size: int) -> _Expiries:
        rows = conn.execute(
            select(store.leaves.c.idx, store.bodies.c.body)
            .join(store.bodies, store.bodies.c.idx == store.leaves.c.idx)
            .where(store.leaves.c.kind == "retention.expired", store.leaves.c.idx < size)
        )
        runs: list[tuple[int, int, int, str, RetentionPolicy]] = []
        for index, body in rows:
            try:
                record = RetentionExpired.model_validate_json(bytes(body))
                policy = RetentionPolicy.from_flat(record.policy)
            except (TypeError, ValueError) as exc:
                raise VerificationError(
                    f"record {index}: unreadable retention.expired record", index=index
                ) from exc
            runs.extend((first, last, int(index), record.cutoff, policy) for first, last in record.index_runs)
        return cls(runs)

    def check(self, index: int, entry: Entry) -> None:
        """Raise unless a logged expiry deleted this record's body after its period had ended."""
        at = bisect.bisect_right(self.firsts, index) - 1
        if at < 0 or not self.runs[at][0] <= index <= self.runs[at][1]:
            raise VerificationError(
                f"record {index}: its body is gone but no retention.expired record lists it", index=index
            )
        _, _, logged_at, cutoff, policy = self.runs[at]
        ends = policy.expires_at(entry.kind, parse_time(entry.time))
        if logged_at <= index or ends is None or format_time(ends) > cutoff:
            raise VerificationError(
                f"record {index}: its body was deleted at {cutoff}, before its retention period ended "
                f"({'never' if ends is None else format_time(ends)}) under the policy logged in record {logged_at}",
                index=index,
            )


def _check_body(
    index: int, entry: Entry, row: object | None, expiries: _Expiries, counts: dict[str, int]
) -> None:
    if row is None:
        raise VerificationError(f"record {index}: its body row is missing", index=index)
    body, expires_at, expired_at = row.body, row.expires_at, row.expired_at  # type: ignore[attr-defined]
    if body is None:
        if expired_at is None:
            raise VerificationError(f"record {index}: its body is gone but was never expired", index=index)
        if expires_at is None or expires_at > expired_at:
            raise VerificationError(
                f"record {index}: its body was deleted at {expired_at}, before its retention ended ({expires_at})",
                index=index,
            )
        expiries.check(index, entry)
        counts["expired"] += 1
        return
    if hashlib.sha256(bytes(body)).digest() != entry.body_sha256:
        raise VerificationError(
            f"record {index}: the stored body does not match its digest (altered)", index=index
        )
    counts["bodies"] += 1


def _check_checkpoint(
    origin: str, verifier: Verifier, size: int, root_hash: bytes, note: str, root: bytes
) -> None:
    try:
        signed, _ = open_checkpoint(note, verifier, origin=origin)
    except NoteError as exc:
        raise VerificationError(f"the checkpoint at size {size} does not verify: {exc}", size=size) from exc
    if signed.size != size or signed.root_hash != root_hash:
        raise VerificationError(
            f"the checkpoint at size {size} differs from its signed text (altered)", size=size
        )
    if root != root_hash:
        raise VerificationError(
            f"the log's tree at size {size} does not have the root signed in its checkpoint",
            size=size,
            index=size - 1,
        )
