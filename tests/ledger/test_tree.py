"""Tree arithmetic for the stored log agrees with the RFC 9162 reference over plain leaf lists."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from kiroku.ledger import merkle
from kiroku.ledger.tree import (
    Frontier,
    complete_subtrees,
    consistency_ranges,
    inclusion_ranges,
    nodes_completed_by,
    range_hash,
    stored_order,
)

LEAVES = [hashlib.sha256(str(i).encode()).digest() for i in range(300)]


def stored_hashes(size: int) -> dict[tuple[int, int], bytes]:
    """Every complete subtree hash of the first ``size`` leaves, as an append-only store would hold them."""
    frontier, hashes = Frontier(), {}
    for index, data in enumerate(LEAVES[:size]):
        hashes[(0, index)] = merkle.leaf_hash(data)
        hashes.update(frontier.append_data(data))
    return hashes


ALL = stored_hashes(300)


def test_stored_order_is_the_order_an_append_only_log_completes_subtrees() -> None:
    order = []
    for index in range(300):
        order.append((0, index))
        order.extend(nodes_completed_by(index))
    assert [stored_order(level, i) for level, i in order] == list(range(len(order)))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 300))
def test_frontier_root_equals_mth(size: int) -> None:
    frontier = Frontier()
    for data in LEAVES[:size]:
        frontier.append_data(data)
    assert frontier.root() == merkle.root(LEAVES[:size])
    assert [ALL[c] for c in Frontier.coords(size)] == frontier.hashes


def test_empty_frontier_root_is_the_empty_tree_hash() -> None:
    assert Frontier().root() == merkle.root([])


@settings(max_examples=500, deadline=None)
@given(st.integers(1, 300).flatmap(lambda size: st.tuples(st.integers(0, size - 1), st.just(size))))
def test_inclusion_proof_from_stored_subtrees_equals_reference(args: tuple[int, int]) -> None:
    index, size = args
    proof = [range_hash(lo, hi, ALL) for lo, hi in inclusion_ranges(index, size)]
    assert proof == merkle.inclusion_proof(LEAVES, index, size)


@settings(max_examples=500, deadline=None)
@given(st.integers(1, 300).flatmap(lambda size2: st.tuples(st.integers(1, size2), st.just(size2))))
def test_consistency_proof_from_stored_subtrees_equals_reference(args: tuple[int, int]) -> None:
    size1, size2 = args
    proof = [range_hash(lo, hi, ALL) for lo, hi in consistency_ranges(size1, size2)]
    assert proof == merkle.consistency_proof(LEAVES, size1, size2)


@given(st.integers(0, 10**12), st.integers(0, 10**6))
def test_complete_subtrees_cover_the_range_exactly(lo: int, length: int) -> None:
    parts = complete_subtrees(lo, lo + length)
    position = lo
    for level, index in parts:
        assert index << level == position
        position += 1 << level
    assert position == lo + length
    assert len(parts) <= 2 * 64
