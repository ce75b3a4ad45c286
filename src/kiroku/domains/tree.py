"""A Merkle tree (RFC 9162) over a sorted table of fixed-width leaves, every level kept so that proofs are reads.

A table of ``n`` rows, each row ``width`` bytes, is hashed bottom-up: level 0 is ``SHA-256(0x00 || row)`` for each
row, and each higher level pairs neighbours with ``SHA-256(0x01 || left || right)``, an odd last node promoted
unchanged. That is exactly RFC 9162's Merkle Tree Hash (see `kiroku.ledger.merkle`), so a proof from these levels
is checked by `kiroku.ledger.merkle.verify_inclusion`.

All levels are kept in one ``(2n - 1 or so, 32)`` array, level 0 first: about 64 bytes per row, and an inclusion
proof costs log2(n) reads of a memory-mapped file instead of rehashing the table.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

from kiroku.ledger import merkle

__all__ = ["level_sizes", "levels_of", "proof_from_levels", "root_from_levels"]

_HASH = merkle.HASH_SIZE


def level_sizes(n: int) -> list[int]:
    """Node counts of each level of a tree over ``n`` leaves, leaves first (``[]`` for an empty tree)."""
    sizes = []
    while n > 0:
        sizes.append(n)
        if n == 1:
            break
        n = (n + 1) // 2
    return sizes


def levels_of(rows: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Every level of the tree over ``rows`` (an ``(n, width)`` array of leaf inputs), stacked, leaves first."""
    n, width = rows.shape if rows.ndim == 2 else (0, 0)
    if n == 0:
        return np.zeros((0, _HASH), dtype=np.uint8)
    data = np.ascontiguousarray(rows).tobytes()
    sha = hashlib.sha256
    level = b"".join([sha(b"\x00" + data[i : i + width]).digest() for i in range(0, n * width, width)])
    out = [level]
    count = n
    while count > 1:
        pairs = count // 2
        parents = b"".join(
            [sha(b"\x01" + level[i : i + 2 * _HASH]).digest() for i in range(0, pairs * 64, 64)]
        )
        if count % 2:
            parents += level[(count - 1) * _HASH :]
        level, count = parents, (count + 1) // 2
        out.append(level)
    return np.frombuffer(b"".join(out), dtype=np.uint8).reshape(-1, _HASH)


def root_from_levels(levels: npt.NDArray[np.uint8]) -> bytes:
    """The tree's root: the last node stored (SHA-256 of nothing for an empty tree)."""
    if len(levels) == 0:
        return hashlib.sha256(b"").digest()
    return bytes(levels[-1])


def proof_from_levels(levels: npt.NDArray[np.uint8], index: int, size: int) -> list[bytes]:
    """RFC 9162 PATH(index, D[size]): the siblings from the leaf up, an odd last node having none at its level."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is out of range for a tree of size {size}")
    proof = []
    offset = 0
    for count in level_sizes(size)[:-1]:
        sibling = index ^ 1
        if sibling < count:
            proof.append(bytes(levels[offset + sibling]))
        offset += count
        index //= 2
    return proof
