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
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import numpy.typing as npt

from kiroku.ledger import merkle

__all__ = ["hash_rows", "level_sizes", "levels_of", "proof_from_levels", "root_from_levels"]

_HASH = merkle.HASH_SIZE
CHUNK = 1 << 16
"""Leaves per worker when a table is hashed on several cores (a power of two, so chunks are complete subtrees)."""


def level_sizes(n: int) -> list[int]:
    """Node counts of each level of a tree over ``n`` leaves, leaves first (``[]`` for an empty tree)."""
    sizes = []
    while n > 0:
        sizes.append(n)
        if n == 1:
            break
        n = (n + 1) // 2
    return sizes


def hash_rows(data: bytes, width: int, prefix: int | None) -> bytes:
    """``SHA-256(prefix || row)`` (or of the row alone) for each ``width``-byte row of ``data``, back to back."""
    n = len(data) // width
    sha = hashlib.sha256
    if prefix is None:
        return b"".join([sha(data[i : i + width]).digest() for i in range(0, n * width, width)])
    framed = np.empty((n, width + 1), dtype=np.uint8)
    framed[:, 0] = prefix
    framed[:, 1:] = np.frombuffer(data, dtype=np.uint8).reshape(n, width)
    buf, step = framed.tobytes(), width + 1
    return b"".join([sha(buf[i : i + step]).digest() for i in range(0, n * step, step)])


def _leaf_inputs(data: bytes, width: int, sealed_from: int | None) -> tuple[bytes, int]:
    """The leaf inputs: each row, or with ``sealed_from`` each row's head followed by SHA-256 of its tail."""
    if sealed_from is None:
        return data, width
    rows = np.frombuffer(data, dtype=np.uint8).reshape(-1, width)
    tails = hash_rows(np.ascontiguousarray(rows[:, sealed_from:]).tobytes(), width - sealed_from, None)
    leaves = np.empty((len(rows), sealed_from + _HASH), dtype=np.uint8)
    leaves[:, :sealed_from] = rows[:, :sealed_from]
    leaves[:, sealed_from:] = np.frombuffer(tails, dtype=np.uint8).reshape(-1, _HASH)
    return leaves.tobytes(), sealed_from + _HASH


def _levels(data: bytes, width: int, sealed_from: int | None = None) -> list[bytes]:
    """Every level over the rows of ``data``, leaves first, each level as concatenated hashes."""
    data, width = _leaf_inputs(data, width, sealed_from)
    level = hash_rows(data, width, 0)
    levels = [level]
    count = len(data) // width
    while count > 1:
        pairs = count // 2
        parents = hash_rows(level[: pairs * 2 * _HASH], 2 * _HASH, 1)
        if count % 2:
            parents += level[(count - 1) * _HASH :]
        level, count = parents, (count + 1) // 2
        levels.append(level)
    return levels


def _chunk_levels(args: tuple[bytes, int, int | None]) -> list[bytes]:
    return _levels(*args)


def levels_of(
    rows: npt.NDArray[np.uint8], workers: int | None = None, *, sealed_from: int | None = None
) -> npt.NDArray[np.uint8]:
    """Every level of the tree over ``rows`` (an ``(n, width)`` array of leaf inputs), stacked, leaves first.

    With ``sealed_from``, a row's leaf input is its first ``sealed_from`` bytes followed by the SHA-256 of the
    rest (an entry's key, then the commitment to its salt and counts).

    Large tables are hashed on every core: each worker takes an aligned run of ``CHUNK`` leaves (a complete
    subtree, or the last, partial one at the right edge, which the tree pairs the same way) and returns its
    levels; the levels above the chunks' roots are hashed here.
    """
    n, width = rows.shape if rows.ndim == 2 else (0, 0)
    if n == 0:
        return np.zeros((0, _HASH), dtype=np.uint8)
    data = np.ascontiguousarray(rows).tobytes()
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers < 2 or n < 4 * CHUNK or "fork" not in multiprocessing.get_all_start_methods():
        return _stack(_levels(data, width, sealed_from))
    size = CHUNK * width
    jobs = [(data[i : i + size], width, sealed_from) for i in range(0, len(data), size)]
    # fork, not spawn: a spawned worker re-runs the caller's main script, which breaks scripts without a
    # __main__ guard; a forked worker only hashes bytes, touching no lock another thread could hold
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        parts = list(pool.map(_chunk_levels, jobs))
    depth = CHUNK.bit_length()  # levels inside a complete chunk: log2(CHUNK) + 1
    # a partial last chunk reaches its root early; the levels above it carry that root up unchanged
    levels = [b"".join(part[min(k, len(part) - 1)] for part in parts) for k in range(depth - 1)]
    above = _levels_above(b"".join(part[-1] for part in parts))
    return _stack(levels + above)


def _levels_above(roots: bytes) -> list[bytes]:
    """The chunks' roots as a level, and every level above it."""
    levels = [roots]
    count = len(roots) // _HASH
    while count > 1:
        pairs = count // 2
        parents = hash_rows(roots[: pairs * 2 * _HASH], 2 * _HASH, 1)
        if count % 2:
            parents += roots[(count - 1) * _HASH :]
        roots, count = parents, (count + 1) // 2
        levels.append(roots)
    return levels


def _stack(levels: list[bytes]) -> npt.NDArray[np.uint8]:
    return np.frombuffer(b"".join(levels), dtype=np.uint8).reshape(-1, _HASH)


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
