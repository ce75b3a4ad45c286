"""A document's inclusion proof in a stage's kept (or dropped) root, streamed from the lineage file.

The proof of leaf ``index`` among ``size`` sorted ids is the hashes of the subtrees beside its path (RFC 9162
PATH), which are the Merkle tree hashes of a few ranges of leaves (`kiroku.ledger.tree.inclusion_ranges`). Two
passes over the file in batches find the document and fold each range's hash; memory stays at one batch and
log2(size) hashes however large the stage is.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kiroku.ledger import merkle
from kiroku.ledger.tree import Frontier, inclusion_ranges

__all__ = ["Located", "locate", "path_hashes"]

_BATCH = 65_536


@dataclass(frozen=True)
class Located:
    """Where a document is in a lineage file: kept or not, why, and its index among ids of its kind."""

    kept: bool
    reason: str | None
    index: int


def locate(path: Path, doc_id: bytes) -> Located | None:
    """Find ``doc_id`` in the sorted lineage file; None if it is not there."""
    target = pa.scalar(doc_id, pa.binary(32))
    kept_before = dropped_before = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH):
        ids, kept = batch.column(0), batch.column(1)
        last = ids[len(ids) - 1].as_py() if len(ids) else None
        if last is None or last < doc_id:
            count = int(pc.sum(kept).as_py() or 0)
            kept_before, dropped_before = kept_before + count, dropped_before + len(ids) - count
            continue
        hits = pc.equal(ids, target)
        if not pc.any(hits).as_py():
            return None
        row = int(pc.index(hits, True).as_py())
        before = int(pc.sum(kept.slice(0, row)).as_py() or 0)
        is_kept = bool(kept[row].as_py())
        index = kept_before + before if is_kept else dropped_before + row - before
        return Located(is_kept, batch.column(2)[row].as_py(), index)
    return None


def path_hashes(path: Path, kept: bool, index: int, size: int) -> list[bytes]:
    """RFC 9162 PATH(index, D[size]) over the sorted kept (or dropped) ids of the lineage file."""
    ranges = inclusion_ranges(index, size)
    by_start = sorted(ranges)
    starts = [lo for lo, _ in by_start]
    trees = {r: Frontier() for r in ranges}
    position = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH):
        mask = batch.column(1) if kept else pc.invert(batch.column(1))
        for doc_id in pc.filter(batch.column(0), mask).to_pylist():
            slot = bisect.bisect_right(starts, position) - 1
            if slot >= 0 and by_start[slot][0] <= position < by_start[slot][1]:
                trees[by_start[slot]].append(merkle.leaf_hash(doc_id))
            position += 1
    return [trees[r].root() for r in ranges]
