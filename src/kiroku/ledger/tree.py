"""Tree arithmetic for a Merkle log kept in a database.

`merkle` computes RFC 9162 hashes and proofs from a list of leaves. A log with a million leaves cannot re-read
them all for every proof, so the store keeps the hash of every *complete* subtree as soon as it is finished and
answers from those. This module is the arithmetic behind that:

- a complete subtree is named by its coordinates ``(level, index)``: it covers leaves
  ``[index * 2**level, (index + 1) * 2**level)``; level 0 is a leaf;
- `stored_order` numbers complete subtrees in the order an append-only log finishes them, so a verifier can
  stream the stored hashes in one ordered scan;
- `inclusion_ranges` and `consistency_ranges` say which subtree hashes RFC 9162 puts into a proof, before any
  hash is read, so that one query fetches all of them;
- `Frontier` holds the right edge of the tree (at most log2(n) hashes), enough to append and to compute the root.

Nothing here reads storage; everything is a pure function of sizes and indexes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from kiroku.ledger.merkle import leaf_hash, node_hash

__all__ = [
    "Coord",
    "Frontier",
    "complete_subtrees",
    "consistency_ranges",
    "fold_right",
    "inclusion_ranges",
    "nodes_completed_by",
    "range_hash",
    "stored_order",
]

Coord = tuple[int, int]
"""A complete subtree: ``(level, index)``, covering leaves ``[index << level, (index + 1) << level)``."""


def _largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def stored_order(level: int, index: int) -> int:
    """Position of subtree ``(level, index)`` in the order an append-only log completes its subtrees.

    Appending leaf ``m`` completes the leaf itself and then ``t`` interior nodes, where ``t`` is the number of
    trailing one bits of ``m``. After ``m`` leaves, ``2m - popcount(m)`` hashes exist; the subtree
    ``(level, index)`` is finished by leaf ``m = ((index + 1) << level) - 1``, right after that leaf and the
    ``level - 1`` nodes below it.
    """
    m = ((index + 1) << level) - 1
    return 2 * m - m.bit_count() + level


def nodes_completed_by(leaf_index: int) -> list[Coord]:
    """The interior nodes (level >= 1) that appending leaf ``leaf_index`` completes, lowest first."""
    completed = []
    level, index = 0, leaf_index
    while index & 1:
        level, index = level + 1, index >> 1
        completed.append((level, index))
    return completed


def complete_subtrees(lo: int, hi: int) -> list[Coord]:
    """Decompose leaves ``[lo, hi)`` into the fewest complete subtrees, left to right.

    For the ranges that RFC 9162 proofs use (``lo`` aligned to the largest power of two not above
    ``hi - lo``), the left-to-right decomposition has strictly decreasing sizes, and folding its hashes from the
    right (`fold_right`) gives MTH(D[lo:hi]).
    """
    if not 0 <= lo <= hi:
        raise ValueError(f"bad leaf range [{lo}, {hi})")
    parts: list[Coord] = []
    while lo < hi:
        # the largest aligned block that starts at lo and fits before hi
        level = (hi - lo).bit_length() - 1
        if lo:
            level = min(level, (lo & -lo).bit_length() - 1)
        parts.append((level, lo >> level))
        lo += 1 << level
    return parts


def fold_right(hashes: Iterable[bytes]) -> bytes:
    """Combine the hashes of consecutive decreasing complete subtrees into the hash of their union."""
    stack = list(hashes)
    if not stack:
        raise ValueError("nothing to fold")
    acc = stack.pop()
    while stack:
        acc = node_hash(stack.pop(), acc)
    return acc


def range_hash(lo: int, hi: int, hash_of: Mapping[Coord, bytes] | Callable[[Coord], bytes]) -> bytes:
    """MTH(D[lo:hi]) from the hashes of its complete subtrees, looked up in ``hash_of``."""
    get = hash_of.__getitem__ if isinstance(hash_of, Mapping) else hash_of
    return fold_right(get(c) for c in complete_subtrees(lo, hi))


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form RFC 9162 PATH(index, D[0:size]), in proof order (bottom up)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not below tree size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index - lo < k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form RFC 9162 PROOF(size1, D[0:size2]), in proof order (bottom up)."""
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    ranges: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, size2, size1, True
    while m != hi - lo:
        n = hi - lo
        k = _largest_power_of_two_below(n)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


@dataclass
class Frontier:
    """The right edge of a tree: the hashes of the complete subtrees that decompose ``[0, size)``.

    Appending needs only this edge: a new leaf merges with the equal-sized subtrees to its left.
    """

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    @staticmethod
    def coords(size: int) -> list[Coord]:
        """Coordinates of the frontier of a tree of ``size`` leaves, left to right."""
        return complete_subtrees(0, size)

    def append(self, leaf_hash_: bytes) -> list[tuple[Coord, bytes]]:
        """Add a leaf hash; return the interior nodes this completes with their hashes, lowest first."""
        completed: list[tuple[Coord, bytes]] = []
        acc = leaf_hash_
        for coord in nodes_completed_by(self.size):
            acc = node_hash(self.hashes.pop(), acc)
            completed.append((coord, acc))
        self.hashes.append(acc)
        self.size += 1
        return completed

    def append_data(self, data: bytes) -> list[tuple[Coord, bytes]]:
        """Hash raw leaf data and append it."""
        return self.append(leaf_hash(data))

    def root(self) -> bytes:
        """MTH of the tree so far (SHA-256 of the empty string for an empty tree)."""
        if not self.hashes:
            return hashlib.sha256(b"").digest()
        return fold_right(self.hashes)
