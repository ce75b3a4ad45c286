"""One scope's sorted table on disk: leaves, their key prefixes, and every level of the Merkle tree over them.

Three ``.npy`` files per table, memory-mapped when read so that opening the index costs nothing and a lookup
touches a handful of pages:

- ``<stem>.<table>.leaves.npy``: ``(n, 32 + 8k)`` bytes, the leaf of each entry (key, then k big-endian counts),
  sorted by key;
- ``<stem>.<table>.prefix.npy``: the first 8 bytes of each key as an unsigned integer, for ``searchsorted``;
- ``<stem>.<table>.levels.npy``: every level of the RFC 9162 tree over the leaves (`kiroku.domains.tree`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from kiroku.domains.errors import IndexCorrupt
from kiroku.domains.keys import KEY_SIZE
from kiroku.domains.record import Table, TableCommitment
from kiroku.domains.tree import levels_of, proof_from_levels, root_from_levels

__all__ = ["Lookup", "SortedTable", "table_files", "write_table"]

Bytes2D = npt.NDArray[np.uint8]


def table_files(directory: Path, stem: str, table: Table) -> dict[str, Path]:
    """The three files of one table."""
    return {part: directory / f"{stem}.{table}.{part}.npy" for part in ("leaves", "prefix", "levels")}


def _save(path: Path, array: npt.NDArray[np.generic]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        np.save(handle, array, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def _prefixes(keys: Bytes2D) -> npt.NDArray[np.uint64]:
    return np.ascontiguousarray(keys[:, :8]).view(">u8").reshape(-1).astype(np.uint64)


def write_table(
    directory: Path, stem: str, table: Table, keys: Bytes2D, counts: npt.NDArray[np.uint64]
) -> TableCommitment:
    """Write a table whose rows are already sorted by key; return its size and Merkle root."""
    n = len(keys)
    leaves = np.empty((n, KEY_SIZE + 8 * counts.shape[1]), dtype=np.uint8)
    leaves[:, :KEY_SIZE] = keys
    leaves[:, KEY_SIZE:] = np.ascontiguousarray(counts.astype(">u8")).view(np.uint8).reshape(n, 8 * counts.shape[1])
    levels = levels_of(leaves)
    files = table_files(directory, stem, table)
    _save(files["leaves"], leaves)
    _save(files["prefix"], _prefixes(keys))
    _save(files["levels"], levels)
    return TableCommitment(size=n, root=root_from_levels(levels).hex())


@dataclass(frozen=True)
class Lookup:
    """Where a key falls in a table: ``found`` at ``position``, or absent with ``position`` its insertion point."""

    found: bool
    position: int


class SortedTable:
    """A table opened read-only, memory-mapped."""

    def __init__(
        self, directory: Path, stem: str, table: Table, fields: list[str], commitment: TableCommitment
    ):
        files = table_files(directory, stem, table)
        try:
            self.leaves: Bytes2D = np.load(files["leaves"], mmap_mode="r")
            self.prefix: npt.NDArray[np.uint64] = np.load(files["prefix"], mmap_mode="r")
            self.levels: Bytes2D = np.load(files["levels"], mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(
                f"the domain index file for {stem} {table} cannot be read ({exc}); "
                "rebuild with 'kiroku index domains --rebuild'"
            ) from exc
        self.fields = fields
        self.size = commitment.size
        width = KEY_SIZE + 8 * len(fields)
        if self.leaves.shape != (self.size, width) or len(self.prefix) != self.size:
            raise IndexCorrupt(
                f"the domain index files for {stem} {table} do not match the manifest; "
                "rebuild with 'kiroku index domains --rebuild'"
            )

    def key(self, position: int) -> bytes:
        """The key of the entry at ``position``."""
        return bytes(self.leaves[position, :KEY_SIZE])

    def leaf(self, position: int) -> bytes:
        """The whole leaf (key and counts) at ``position``."""
        return bytes(self.leaves[position])

    def counts(self, position: int) -> list[int]:
        """The counts of the entry at ``position``, in ``fields`` order."""
        return [int(v) for v in np.asarray(self.leaves[position, KEY_SIZE:]).view(">u8")]

    def search(self, key: bytes) -> Lookup:
        """Binary search for ``key``: O(log n) reads of the memory-mapped prefix array."""
        head = int.from_bytes(key[:8], "big")
        position = int(np.searchsorted(self.prefix, np.uint64(head), side="left"))
        while position < self.size and int(self.prefix[position]) == head:
            here = self.key(position)
            if here == key:
                return Lookup(True, position)
            if here > key:
                break
            position += 1
        return Lookup(False, position)

    def search_many(self, keys: Bytes2D) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.intp]]:
        """Vectorised `search`: for each key row, whether it is present and its position (or insertion point)."""
        if self.size == 0 or len(keys) == 0:
            return np.zeros(len(keys), dtype=bool), np.zeros(len(keys), dtype=np.intp)
        heads = _prefixes(keys)
        positions = np.searchsorted(self.prefix, heads, side="left")
        inside = positions < self.size
        found = np.zeros(len(keys), dtype=bool)
        candidates = np.flatnonzero(inside)
        rows = np.asarray(self.leaves[positions[candidates], :KEY_SIZE])
        found[candidates] = np.all(rows == keys[candidates], axis=1)
        # A shared 8-byte prefix (about one pair in 2**64 / n**2) needs the exact search.
        clash = np.flatnonzero(inside & ~found)
        clash = clash[np.asarray(self.prefix[positions[clash]]) == heads[clash]]
        for i in clash:
            hit = self.search(bytes(keys[i]))
            found[i], positions[i] = hit.found, hit.position
        return found, positions

    def proof(self, position: int) -> list[bytes]:
        """RFC 9162 inclusion proof of the entry at ``position``."""
        return proof_from_levels(self.levels, position, self.size)
