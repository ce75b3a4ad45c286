"""The index's stored Merkle levels give the same roots and proofs as the ledger's RFC 9162 implementation."""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiroku.domains import tree
from kiroku.domains.tree import level_sizes, levels_of, proof_from_levels, root_from_levels
from kiroku.ledger import merkle

Rows = npt.NDArray[np.uint8]


def _rows(data: bytes, width: int) -> Rows:
    return np.frombuffer(data, dtype=np.uint8).reshape(-1, width)


def _check(
    rows: Rows, levels: Rows, indexes: list[int] | None = None, sealed_from: int | None = None
) -> None:
    """Root and inclusion proofs (of ``indexes``, default all leaves) against `kiroku.ledger.merkle`; with
    ``sealed_from``, each leaf is the row's head followed by SHA-256 of its tail."""
    leaves = [bytes(row) for row in rows]
    if sealed_from is not None:
        leaves = [leaf[:sealed_from] + hashlib.sha256(leaf[sealed_from:]).digest() for leaf in leaves]
    n = len(leaves)
    assert len(levels) == sum(level_sizes(n))
    assert root_from_levels(levels) == merkle.root(leaves)
    for index in range(n) if indexes is None else indexes:
        proof = proof_from_levels(levels, index, n)
        assert proof == merkle.inclusion_proof(leaves, index, n)
        assert merkle.verify_inclusion(merkle.leaf_hash(leaves[index]), index, n, proof, merkle.root(leaves))


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=80),
    width=st.integers(min_value=1, max_value=56),
    seal=st.none() | st.floats(min_value=0, max_value=1),
    seed=st.binary(),
)
def test_levels_give_the_ledgers_root_and_every_inclusion_proof(
    n: int, width: int, seal: float | None, seed: bytes
) -> None:
    stream = b"".join(
        hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(n * width // 32 + 1)
    )
    rows = _rows(stream[: n * width], width) if n else np.zeros((0, width), dtype=np.uint8)
    sealed_from = None if seal is None else min(int(seal * width), width - 1)  # a tail of one byte at least
    _check(rows, levels_of(rows, workers=1, sealed_from=sealed_from), sealed_from=sealed_from)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 255, 256, 257, 1000, 1025])
def test_sizes_around_powers_of_two(n: int) -> None:
    rows = _rows((bytes(range(251)) * ((n * 40) // 251 + 1))[: n * 40], 40)
    edges = {0, 1, n // 2 - 1, n // 2, n - 2, n - 1, 511, 512, 1023, 1024}
    _check(rows, levels_of(rows, workers=1), sorted(i for i in edges if 0 <= i < n))


@pytest.mark.parametrize("n", [16, 23, 32, 33, 69])
def test_chunked_hashing_on_several_workers_equals_one_worker(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The multi-core path, with chunks of 4 leaves so that small trees take it (at least 4 chunks)."""
    monkeypatch.setattr(tree, "CHUNK", 4)
    rows = _rows(b"".join(hashlib.sha256(f"{n}/{i}".encode()).digest() for i in range(n * 2)), 64)
    for sealed_from in (None, 32):
        levels = levels_of(rows, workers=2, sealed_from=sealed_from)
        assert np.array_equal(levels, levels_of(rows, workers=1, sealed_from=sealed_from))
        _check(rows, levels, sealed_from=sealed_from)


def test_the_empty_tree() -> None:
    levels = levels_of(np.zeros((0, 40), dtype=np.uint8))
    assert levels.shape == (0, merkle.HASH_SIZE)
    assert root_from_levels(levels) == merkle.root([]) == hashlib.sha256(b"").digest()
    assert level_sizes(0) == []


@pytest.mark.parametrize(("index", "size"), [(-1, 3), (3, 3), (0, 0)])
def test_a_proof_outside_the_tree_is_refused(index: int, size: int) -> None:
    levels = levels_of(_rows(bytes(96), 32))
    with pytest.raises(ValueError, match="out of range"):
        proof_from_levels(levels, index, size)
