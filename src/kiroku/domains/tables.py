"""One scope's sorted table on disk: entries, their key prefixes, and every level of the Merkle tree over them.

An entry is ``key || salt || counts``: SHA-256 of the name, 16 random bytes drawn for this build, and k counts
as big-endian uint64. The Merkle leaf does not show the counts; it *commits* to them::

    leaf = key || SHA-256(salt || counts)

so a bundle can open one entry (its salt and counts, for the name asked about) and show its neighbours sealed
(key and digest only): nobody learns a neighbour's counts, not even by guessing small numbers, since the salt
is secret until opened.

Three ``.npy`` files per table, memory-mapped when read so that opening the index costs nothing and a lookup
touches a handful of pages:

- ``<stem>.<table>.entries.npy``: ``(n, 48 + 8k)`` bytes, sorted by key;
- ``<stem>.<table>.prefix.npy``: the first 8 bytes of each key as an unsigned integer, for ``searchsorted``;
- ``<stem>.<table>.levels.npy``: every level of the RFC 9162 tree over the leaves (`kiroku.domains.tree`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from kiroku.domains.errors import IndexCorrupt
from kiroku.domains.keys import KEY_SIZE
from kiroku.domains.record import Table, TableCommitment
from kiroku.domains.tree import levels_of, proof_from_levels, root_from_levels

__all__ = ["SALT_SIZE", "Lookup", "SortedTable", "counts_digest", "table_files", "write_table"]

SALT_SIZE = 16
_COUNTS = KEY_SIZE + SALT_SIZE  # where the counts start in an entry

Bytes2D = npt.NDArray[np.uint8]


def table_files(directory: Path, stem: str, table: Table) -> dict[str, Path]:
    """The three files of one table."""
    return {part: directory / f"{stem}.{table}.{part}.npy" for part in ("entries", "prefix", "levels")}


def counts_digest(salt: bytes, counts: list[int]) -> bytes:
    """SHA-256(salt || counts as big-endian uint64): what a leaf holds in place of the counts."""
    return hashlib.sha256(salt + b"".join(c.to_bytes(8, "big") for c in counts)).digest()


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
    """Write a table whose rows are already sorted by key, with fresh salts; return its size and Merkle root."""
    n, k = len(keys), counts.shape[1]
    entries = np.empty((n, _COUNTS + 8 * k), dtype=np.uint8)
    entries[:, :KEY_SIZE] = keys
    entries[:, KEY_SIZE:_COUNTS] = np.frombuffer(os.urandom(SALT_SIZE * n), dtype=np.uint8).reshape(
        n, SALT_SIZE
    )
    entries[:, _COUNTS:] = np.ascontiguousarray(counts.astype(">u8")).view(np.uint8).reshape(n, 8 * k)
    levels = levels_of(entries, sealed_from=KEY_SIZE)
    files = table_files(directory, stem, table)
    _save(files["entries"], entries)
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
    ) -> None:
        files = table_files(directory, stem, table)
        try:
            self.entries: Bytes2D = np.load(files["entries"], mmap_mode="r")
            self.prefix: npt.NDArray[np.uint64] = np.load(files["prefix"], mmap_mode="r")
            self.levels: Bytes2D = np.load(files["levels"], mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(
                f"the domain index file for {stem} {table} cannot be read ({exc}); "
                "rebuild with 'kiroku index domains --rebuild'"
            ) from exc
        self.fields = fields
        self.size = commitment.size
        if self.entries.shape != (self.size, _COUNTS + 8 * len(fields)) or len(self.prefix) != self.size:
            raise IndexCorrupt(
                f"the domain index files for {stem} {table} do not match the manifest; "
                "rebuild with 'kiroku index domains --rebuild'"
            )

    def key(self, position: int) -> bytes:
        """The key of the entry at ``position``."""
        return bytes(self.entries[position, :KEY_SIZE])

    def salt(self, position: int) -> bytes:
        """The salt the entry's counts are committed with."""
        return bytes(self.entries[position, KEY_SIZE:_COUNTS])

    def counts(self, position: int) -> list[int]:
        """The counts of the entry at ``position``, in ``fields`` order."""
        return [int(v) for v in np.asarray(self.entries[position, _COUNTS:]).view(">u8")]

    def digest(self, position: int) -> bytes:
        """The commitment to the entry's counts that its leaf holds."""
        return hashlib.sha256(bytes(self.entries[position, KEY_SIZE:])).digest()

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
        rows = np.asarray(self.entries[positions[candidates], :KEY_SIZE])
        found[candidates] = np.all(rows == keys[candidates], axis=1)
        # A shared 8-byte prefix (about one pair in 2**64 / n**2) needs the exact search.
        clash = np.flatnonzero(inside & ~found)
        clash = clash[np.asarray(self.prefix[positions[clash]]) == heads[clash]]
        for i in clash:
            hit = self.search(bytes(keys[i]))
            found[i], positions[i] = hit.found, hit.position
        return found, positions

    def counts_at(self, positions: npt.NDArray[np.intp]) -> list[list[int]]:
        """The counts of the entries at ``positions``, at once."""
        rows = np.ascontiguousarray(np.asarray(self.entries[positions])[:, _COUNTS:])
        return rows.view(">u8").astype(np.uint64).tolist()  # type: ignore[no-any-return]

    def proof(self, position: int) -> list[bytes]:
        """RFC 9162 inclusion proof of the entry at ``position``."""
        return proof_from_levels(self.levels, position, self.size)
