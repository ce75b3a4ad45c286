"""Tests for kiroku.ledger.merkle, the RFC 9162 section 2.1 Merkle tree core.

1. The RFC 6962 / RFC 9162 reference vectors published by transparency-dev/merkle (and by
   certificate-transparency-go before it): roots, node hashes, inclusion and consistency proofs.
2. Property tests against an independent, memoised transcription of the RFC's recursive
   definitions (``RefTree`` below), and against every kind of corruption of a valid proof.
3. Argument errors of the proof generators.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiroku.ledger import merkle
from kiroku.ledger.merkle import (
    HASH_SIZE,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# ---------------------------------------------------------------------------------------------
# 1. Reference vectors
# ---------------------------------------------------------------------------------------------


def h(hex_digest: str) -> bytes:
    raw = bytes.fromhex(hex_digest)
    assert len(raw) == HASH_SIZE
    return raw


# transparency-dev/merkle testonly/constants.go: LeafInputs() (the same eight leaves as
# certificate-transparency-go's merkletree tests and RFC 6962 reference tests).
LEAVES = [
    bytes.fromhex(x)
    for x in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

# transparency-dev/merkle testonly/constants.go: RootHashes(), indexed by tree size 0..8
# (also the `roots` of proof/verify_test.go for sizes 1..8).
ROOTS = [
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# transparency-dev/merkle testonly/constants.go: NodeHashes(), NODES[level][index] is the hash of
# the complete subtree over leaves [index * 2**level, (index + 1) * 2**level).
NODES = [
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [
        h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
    ],
]

# Inclusion proofs (leaf index, tree size, PATH) in that tree: transparency-dev/merkle
# proof/verify_test.go `inclusionProofs` (whose leaf numbers are 1-based: {1, 8}, {6, 8}, {3, 3},
# {2, 5}, {1, 1} are indexes 0, 5, 2, 1, 0 here) and testonly/reference_test.go
# TestRefInclusionProof.
INCLUSION_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (0, 1, []),
    (0, 2, [h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7")]),
    (1, 2, [h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")]),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

# Consistency proofs (size1, size2, PROOF): transparency-dev/merkle proof/verify_test.go
# `consistencyProofs` and testonly/reference_test.go TestRefConsistencyProof.
CONSISTENCY_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]


def n(level: int, index: int) -> bytes:
    return NODES[level][index]


# In the 7-leaf tree the right subtree of size 3 (leaves 4..6) is "l = hash(i, j)" in
# transparency-dev/merkle's picture; its "rehash" entries below stand for this node.
L7 = node_hash(n(1, 2), n(0, 6))

# transparency-dev/merkle proof/proof_test.go TestInclusion, the cases whose tree has at most
# 8 leaves, with its node IDs id(level, index) resolved through NodeHashes() (and "rehash"
# ranges replaced by the node they hash to).
STRUCTURAL_INCLUSION: list[tuple[int, int, list[bytes]]] = [
    (0, 1, []),
    (0, 2, [n(0, 1)]),
    (1, 2, [n(0, 0)]),
    (1, 3, [n(0, 0), n(0, 2)]),
    (0, 7, [n(0, 1), n(1, 1), L7]),
    (1, 7, [n(0, 0), n(1, 1), L7]),
    (2, 7, [n(0, 3), n(1, 0), L7]),
    (3, 7, [n(0, 2), n(1, 0), L7]),
    (4, 7, [n(0, 5), n(0, 6), n(2, 0)]),
    (5, 7, [n(0, 4), n(0, 6), n(2, 0)]),
    (6, 7, [n(1, 2), n(2, 0)]),
    (2, 4, [n(0, 3), n(1, 0)]),
    (3, 5, [n(0, 2), n(1, 0), n(0, 4)]),
    (3, 6, [n(0, 2), n(1, 0), n(1, 2)]),
    (4, 6, [n(0, 5), n(2, 0)]),
]

# transparency-dev/merkle proof/proof_test.go TestConsistency, resolved the same way.
STRUCTURAL_CONSISTENCY: list[tuple[int, int, list[bytes]]] = [
    (1, 2, [n(0, 1)]),
    (1, 4, [n(0, 1), n(1, 1)]),
    (1, 6, [n(0, 1), n(1, 1), n(1, 2)]),
    (2, 3, [n(0, 2)]),
    (2, 8, [n(1, 1), n(2, 1)]),
    (3, 7, [n(0, 2), n(0, 3), n(1, 0), L7]),
    (4, 7, [L7]),
    (5, 7, [n(0, 4), n(0, 5), n(0, 6), n(2, 0)]),
    (6, 7, [n(1, 2), n(0, 6), n(2, 0)]),
    (7, 8, [n(0, 6), n(0, 7), n(1, 2), n(2, 0)]),
    (2, 4, [n(1, 1)]),
    (3, 5, [n(0, 2), n(0, 3), n(1, 0), n(0, 4)]),
    (3, 6, [n(0, 2), n(0, 3), n(1, 0), n(1, 2)]),
    (4, 6, [n(1, 2)]),
    (1, 7, [n(0, 1), n(1, 1), L7]),
    *[(s, s, []) for s in (1, 2, 3, 4, 5, 7, 8)],
]

# proof/verify_test.go's sha256SomeHash and sha256EmptyTreeHash.
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")
EMPTY_TREE_HASH = ROOTS[0]


def _ids(vectors: Sequence[tuple[int, int, list[bytes]]]) -> list[str]:
    return [f"{a}-{b}" for a, b, _ in vectors]


def test_public_surface() -> None:
    assert sorted(merkle.__all__) == sorted(
        [
            "HASH_SIZE",
            "leaf_hash",
            "node_hash",
            "root",
            "inclusion_proof",
            "verify_inclusion",
            "consistency_proof",
            "verify_consistency",
        ]
    )
    assert HASH_SIZE == 32


def test_empty_tree_root() -> None:
    assert root([]) == EMPTY_TREE_HASH == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_vector_roots(size: int) -> None:
    assert root(LEAVES[:size]) == ROOTS[size]
    assert root(tuple(LEAVES[:size])) == ROOTS[size]


def test_vector_node_hashes() -> None:
    for index, data in enumerate(LEAVES):
        assert leaf_hash(data) == n(0, index)
        assert leaf_hash(data) == hashlib.sha256(b"\x00" + data).digest()
    for level in range(1, 4):
        for index, node in enumerate(NODES[level]):
            assert node_hash(n(level - 1, 2 * index), n(level - 1, 2 * index + 1)) == node
            width = 1 << level
            assert root(LEAVES[index * width : (index + 1) * width]) == node
    assert (
        node_hash(SOME_HASH, EMPTY_TREE_HASH)
        == hashlib.sha256(b"\x01" + SOME_HASH + EMPTY_TREE_HASH).digest()
    )


def corrupt_inclusion(index: int, size: int, proof: list[bytes], root_: bytes, leaf: bytes) -> list[Any]:
    """The probes of transparency-dev/merkle proof/verify_test.go corruptInclusionProof."""
    probes: list[Any] = [
        (index - 1, size, root_, leaf, proof),
        (index + 1, size, root_, leaf, proof),
        (index ^ 2, size, root_, leaf, proof),
        (index, size * 2, root_, leaf, proof),
        (index, size // 2, root_, leaf, proof),
        (index, size, root_, b"WrongLeaf", proof),
        (index, size, EMPTY_TREE_HASH, leaf, proof),
        (index, size, SOME_HASH, leaf, proof),
        (index, size, root_, leaf, [*proof, b""]),
        (index, size, root_, leaf, [*proof, root_]),
        (index, size, root_, leaf, [b"", *proof]),
        (index, size, root_, leaf, [root_, *proof]),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 8]) + wrong[i][1:]
        probes.append((index, size, root_, leaf, wrong))
    if proof:
        probes.append((index, size, root_, leaf, proof[:-1]))
    if len(proof) > 1:
        probes.append((index, size, root_, leaf, [proof[0], SOME_HASH, *proof[1:]]))
    return probes


def corrupt_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]) -> list[Any]:
    """The probes of transparency-dev/merkle proof/verify_test.go corruptConsistencyProof."""
    probes: list[Any] = [
        (size1 - 1, size2, root1, root2, proof),
        (size1 + 1, size2, root1, root2, proof),
        (size1 ^ 2, size2, root1, root2, proof),
        (size1, size2 * 2, root1, root2, proof),
        (size1, size2 // 2, root1, root2, proof),
        (size1, size2, b"WrongRoot", root2, proof),
        (size1, size2, root1, b"WrongRoot", proof),
        (size1, size2, root2, root1, proof),
        (size1, size2, root1, root2, []),
        (size1, size2, root1, root2, [*proof, b""]),
        (size1, size2, root1, root2, [*proof, root1]),
        (size1, size2, root1, root2, [*proof, root2]),
        (size1, size2, root1, root2, [b"", *proof]),
        (size1, size2, root1, root2, [root1, *proof]),
        (size1, size2, root1, root2, [root2, *proof]),
        (size1, size2, root1, root2, [proof[0], *proof]),
        (size1, size2, root1, root2, proof[:-1]),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 16]) + wrong[i][1:]
        probes.append((size1, size2, root1, root2, wrong))
    return probes


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION_VECTORS, ids=_ids(INCLUSION_VECTORS))
def test_inclusion_vectors(index: int, size: int, expected: list[bytes]) -> None:
    assert inclusion_proof(LEAVES, index, size) == expected
    assert inclusion_proof(LEAVES[:size], index, size) == expected
    leaf = leaf_hash(LEAVES[index])
    assert verify_inclusion(leaf, index, size, expected, ROOTS[size])
    for idx, sz, root_, leaf_, proof in corrupt_inclusion(index, size, expected, ROOTS[size], leaf):
        assert verify_inclusion(leaf_, idx, sz, proof, root_) is False, (idx, sz)


@pytest.mark.parametrize(("size1", "size2", "expected"), CONSISTENCY_VECTORS, ids=_ids(CONSISTENCY_VECTORS))
def test_consistency_vectors(size1: int, size2: int, expected: list[bytes]) -> None:
    assert consistency_proof(LEAVES, size1, size2) == expected
    assert consistency_proof(LEAVES[:size2], size1, size2) == expected
    assert verify_consistency(size1, size2, ROOTS[size1], ROOTS[size2], expected)
    if not expected:
        return
    for s1, s2, r1, r2, proof in corrupt_consistency(size1, size2, ROOTS[size1], ROOTS[size2], expected):
        assert verify_consistency(s1, s2, r1, r2, proof) is False, (s1, s2)


@pytest.mark.parametrize(("index", "size", "expected"), STRUCTURAL_INCLUSION, ids=_ids(STRUCTURAL_INCLUSION))
def test_structural_inclusion_vectors(index: int, size: int, expected: list[bytes]) -> None:
    assert inclusion_proof(LEAVES, index, size) == expected
    assert verify_inclusion(n(0, index), index, size, expected, ROOTS[size])


@pytest.mark.parametrize(
    ("size1", "size2", "expected"), STRUCTURAL_CONSISTENCY, ids=_ids(STRUCTURAL_CONSISTENCY)
)
def test_structural_consistency_vectors(size1: int, size2: int, expected: list[bytes]) -> None:
    assert consistency_proof(LEAVES, size1, size2) == expected
    assert verify_consistency(size1, size2, ROOTS[size1], ROOTS[size2], expected)


def test_verify_inclusion_single_entry() -> None:
    # proof/verify_test.go TestVerifyInclusionSingleEntry: a 1-leaf tree's root is its leaf hash.
    single = leaf_hash(b"data")
    assert verify_inclusion(single, 0, 1, [], single)
    assert not verify_inclusion(b"", 0, 1, [], single)
    assert not verify_inclusion(single, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], b"")


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_verify_inclusion_degenerate_probes(index: int, size: int) -> None:
    # proof/verify_test.go TestVerifyInclusion's probes with an empty proof.
    assert not verify_inclusion(SOME_HASH, index, size, [], b"")
    assert not verify_inclusion(b"", index, size, [], EMPTY_TREE_HASH)
    assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_TREE_HASH)


def test_verify_consistency_edge_cases() -> None:
    # proof/verify_test.go TestVerifyConsistency, with 32-byte roots ("don't care" roots of other
    # lengths are always rejected here), and with size1 == 0 < size2 rejected by policy.
    r1, r2 = leaf_hash(b"don't care 1"), leaf_hash(b"don't care 2")
    assert not verify_consistency(0, 0, r1, r2, [])
    assert not verify_consistency(1, 1, r1, r2, [])
    assert verify_consistency(0, 0, r1, r1, [])
    assert verify_consistency(1, 1, r2, r2, [])
    assert not verify_consistency(0, 1, r1, r2, [])  # a proof from the empty tree is meaningless
    assert not verify_consistency(0, 1, EMPTY_TREE_HASH, ROOTS[1], [])
    assert not verify_consistency(1, 0, r1, r2, [])
    assert not verify_consistency(2, 1, r1, r2, [])
    assert not verify_consistency(1, 2, r1, r2, [])
    assert not verify_consistency(0, 0, EMPTY_TREE_HASH, r2, [])
    assert not verify_consistency(1, 1, EMPTY_TREE_HASH, r2, [])
    for s1, s2 in [(0, 0), (0, 1), (1, 1)]:
        assert not verify_consistency(s1, s2, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [EMPTY_TREE_HASH])
    # "don't care" roots of the wrong length.
    assert not verify_consistency(0, 0, b"don't care 1", b"don't care 1", [])
    assert not verify_consistency(1, 1, b"don't care 2", b"don't care 2", [])


# ---------------------------------------------------------------------------------------------
# An independent reference: the RFC's recursive definitions, memoised.
# ---------------------------------------------------------------------------------------------


def _k(size: int) -> int:
    """Largest power of two strictly smaller than size (size >= 2)."""
    k = 1
    while k * 2 < size:
        k *= 2
    return k


class RefTree:
    """MTH, PATH and SUBPROOF transcribed from RFC 9162 section 2.1, with a cache of subtree hashes."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = list(leaves)
        self.leaf_hashes = [hashlib.sha256(b"\x00" + d).digest() for d in self.leaves]
        self._mth: dict[tuple[int, int], bytes] = {}

    def __len__(self) -> int:
        return len(self.leaves)

    def mth(self, lo: int, hi: int) -> bytes:
        key = (lo, hi)
        cached = self._mth.get(key)
        if cached is None:
            if hi - lo == 0:
                cached = hashlib.sha256(b"").digest()
            elif hi - lo == 1:
                cached = self.leaf_hashes[lo]
            else:
                k = _k(hi - lo)
                cached = hashlib.sha256(b"\x01" + self.mth(lo, lo + k) + self.mth(lo + k, hi)).digest()
            self._mth[key] = cached
        return cached

    def root(self, size: int) -> bytes:
        return self.mth(0, size)

    def _path(self, m: int, lo: int, hi: int) -> list[bytes]:
        if hi - lo == 1:
            return []
        k = _k(hi - lo)
        if m < k:
            return [*self._path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self._path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def _subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        if m == hi - lo:
            return [] if b else [self.mth(lo, hi)]
        k = _k(hi - lo)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, b), self.mth(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return self._path(index, 0, size)

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        return self._subproof(size1, 0, size2, True)


def inclusion_shape(index: int, size: int) -> tuple[str, ...]:
    """The hash chain PATH(index, D[size]) describes, leaf first: the side each proof hash sits on.

    Any RFC 9162 verifier computes the same root from the same leaf hash and proof for two
    (index, size) pairs with the same shape, so a proof is also accepted for such a pair.
    """
    sides: list[str] = []
    m, size_ = index, size
    while size_ > 1:
        k = _k(size_)
        if m < k:
            sides.append("right")
            size_ = k
        else:
            sides.append("left")
            m, size_ = m - k, size_ - k
    return tuple(reversed(sides))


def consistency_shape(size1: int, size2: int) -> tuple[str, ...]:
    """The computation PROOF(size1, D[size2]) describes, bottom-up, for 0 < size1 < size2.

    First whether the chain starts from root1 itself or from a hash sent in the proof, then for
    each further proof hash whether it is a right sibling (in the new tree only) or a left one
    (in both trees). Equal shapes mean identical verifier computations.
    """
    sides: list[str] = []
    m, size_, have_root = size1, size2, True
    while m < size_:
        k = _k(size_)
        if m <= k:
            sides.append("right")
            size_ = k
        else:
            sides.append("left")
            m, size_, have_root = m - k, size_ - k, False
    return ("seed:root1" if have_root else "seed:proof", *reversed(sides))


def bit_flips(value: bytes) -> Iterator[bytes]:
    for bit in range(len(value) * 8):
        flipped = bytearray(value)
        flipped[bit // 8] ^= 1 << (bit % 8)
        yield bytes(flipped)


def test_reference_matches_vectors() -> None:
    ref = RefTree(LEAVES)
    for size in range(9):
        assert ref.root(size) == ROOTS[size]
    for index, size, expected in INCLUSION_VECTORS + STRUCTURAL_INCLUSION:
        assert ref.inclusion(index, size) == expected
    for size1, size2, expected in CONSISTENCY_VECTORS + STRUCTURAL_CONSISTENCY:
        assert ref.consistency(size1, size2) == expected


def test_every_proof_of_the_vector_tree() -> None:
    ref = RefTree(LEAVES)
    for size2 in range(1, 9):
        for index in range(size2):
            proof = inclusion_proof(LEAVES, index, size2)
            assert proof == ref.inclusion(index, size2)
            assert verify_inclusion(n(0, index), index, size2, proof, ROOTS[size2])
        for size1 in range(1, size2 + 1):
            proof = consistency_proof(LEAVES, size1, size2)
            assert proof == ref.consistency(size1, size2)
            assert verify_consistency(size1, size2, ROOTS[size1], ROOTS[size2], proof)


def test_size_is_bound_only_through_the_proof_shape() -> None:
    # A property of RFC 9162 itself, not of this implementation: PATH(0, D[5]) and PATH(0, D[6])
    # describe the same hash chain, so the size-5 proof also "verifies" as a size-6 one against
    # the size-5 root. What pins a size to a root is the signed checkpoint, not the proof.
    assert inclusion_shape(0, 5) == inclusion_shape(0, 6)
    proof = inclusion_proof(LEAVES, 0, 5)
    assert verify_inclusion(n(0, 0), 0, 6, proof, ROOTS[5])
    assert not verify_inclusion(n(0, 0), 0, 6, proof, ROOTS[6])
    assert consistency_shape(1, 5) == consistency_shape(1, 6)
    proof = consistency_proof(LEAVES, 1, 5)
    assert verify_consistency(1, 6, ROOTS[1], ROOTS[5], proof)
    assert not verify_consistency(1, 6, ROOTS[1], ROOTS[6], proof)


# ---------------------------------------------------------------------------------------------
# 2. Property tests
# ---------------------------------------------------------------------------------------------

MAX_LEAVES = 300

random_leaves = st.lists(st.binary(max_size=24), min_size=MAX_LEAVES, max_size=MAX_LEAVES)


@st.composite
def distinct_trees(draw: st.DrawFn, min_size: int = 1, max_size: int = MAX_LEAVES) -> RefTree:
    """A tree of distinct random leaves, so no two different subtrees share a hash."""
    size = draw(st.integers(min_size, max_size))
    leaves = draw(st.lists(st.binary(max_size=16), min_size=size, max_size=size, unique=True))
    return RefTree(leaves)


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[RefTree, int, int]:
    tree = draw(distinct_trees())
    size = draw(st.integers(1, len(tree)))
    index = draw(st.integers(0, size - 1))
    return tree, index, size


@st.composite
def tree_and_sizes(draw: st.DrawFn) -> tuple[RefTree, int, int]:
    """A tree and 0 < size1 < size2 <= its size: a consistency proof with at least one hash."""
    tree = draw(distinct_trees(min_size=2))
    size2 = draw(st.integers(2, len(tree)))
    size1 = draw(st.integers(1, size2 - 1))
    return tree, size1, size2


SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]


@settings(max_examples=8, deadline=None, suppress_health_check=SLOW_OK)
@given(random_leaves)
def test_every_inclusion_proof_up_to_300_verifies(leaves: list[bytes]) -> None:
    ref = RefTree(leaves)
    hashed = [leaf_hash(d) for d in leaves]
    assert hashed == ref.leaf_hashes
    for size in range(1, MAX_LEAVES + 1):
        tree_root = ref.root(size)
        for index in range(size):
            assert verify_inclusion(hashed[index], index, size, ref.inclusion(index, size), tree_root), (
                index,
                size,
            )


@settings(max_examples=8, deadline=None, suppress_health_check=SLOW_OK)
@given(random_leaves)
def test_every_consistency_proof_up_to_300_verifies(leaves: list[bytes]) -> None:
    ref = RefTree(leaves)
    roots = [ref.root(size) for size in range(MAX_LEAVES + 1)]
    for size2 in range(1, MAX_LEAVES + 1):
        for size1 in range(1, size2 + 1):
            proof = ref.consistency(size1, size2)
            assert verify_consistency(size1, size2, roots[size1], roots[size2], proof), (size1, size2)


@settings(max_examples=3, deadline=None, suppress_health_check=SLOW_OK)
@given(st.lists(st.binary(max_size=24), min_size=64, max_size=64))
def test_generated_proofs_for_every_size_up_to_64(leaves: list[bytes]) -> None:
    ref = RefTree(leaves)
    for size2 in range(1, 65):
        assert root(leaves[:size2]) == ref.root(size2)
        for index in range(size2):
            proof = inclusion_proof(leaves, index, size2)
            assert proof == ref.inclusion(index, size2)
            assert verify_inclusion(leaf_hash(leaves[index]), index, size2, proof, ref.root(size2))
        for size1 in range(1, size2 + 1):
            proof = consistency_proof(leaves, size1, size2)
            assert proof == ref.consistency(size1, size2)
            assert verify_consistency(size1, size2, ref.root(size1), ref.root(size2), proof)


@settings(max_examples=100, deadline=None, suppress_health_check=SLOW_OK)
@given(st.lists(st.binary(max_size=24), min_size=1, max_size=MAX_LEAVES), st.data())
def test_generated_proofs_match_reference(leaves: list[bytes], data: st.DataObject) -> None:
    ref = RefTree(leaves)
    assert root(leaves) == ref.root(len(leaves))
    size2 = data.draw(st.integers(1, len(leaves)), label="size2")
    index = data.draw(st.integers(0, size2 - 1), label="index")
    size1 = data.draw(st.integers(1, size2), label="size1")
    proof = inclusion_proof(leaves, index, size2)
    assert proof == ref.inclusion(index, size2)
    assert verify_inclusion(leaf_hash(leaves[index]), index, size2, proof, ref.root(size2))
    proof = consistency_proof(leaves, size1, size2)
    assert proof == ref.consistency(size1, size2)
    assert verify_consistency(size1, size2, ref.root(size1), ref.root(size2), proof)


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW_OK)
@given(tree_and_index())
def test_inclusion_every_bit_flip_fails(case: tuple[RefTree, int, int]) -> None:
    tree, index, size = case
    proof = inclusion_proof(tree.leaves, index, size)
    leaf, tree_root = tree.leaf_hashes[index], tree.root(size)
    assert verify_inclusion(leaf, index, size, proof, tree_root)
    for i, element in enumerate(proof):
        for flipped in bit_flips(element):
            assert not verify_inclusion(leaf, index, size, [*proof[:i], flipped, *proof[i + 1 :]], tree_root)
    for flipped in bit_flips(tree_root):
        assert not verify_inclusion(leaf, index, size, proof, flipped)
    for flipped in bit_flips(leaf):
        assert not verify_inclusion(flipped, index, size, proof, tree_root)


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW_OK)
@given(tree_and_sizes())
def test_consistency_every_bit_flip_fails(case: tuple[RefTree, int, int]) -> None:
    tree, size1, size2 = case
    proof = consistency_proof(tree.leaves, size1, size2)
    root1, root2 = tree.root(size1), tree.root(size2)
    assert verify_consistency(size1, size2, root1, root2, proof)
    for i, element in enumerate(proof):
        for flipped in bit_flips(element):
            assert not verify_consistency(size1, size2, root1, root2, [*proof[:i], flipped, *proof[i + 1 :]])
    for flipped in bit_flips(root1):
        assert not verify_consistency(size1, size2, flipped, root2, proof)
    for flipped in bit_flips(root2):
        assert not verify_consistency(size1, size2, root1, flipped, proof)


# RFC 9162 tree sizes are uint64; larger ones are rejected even where the shape would fit.
UINT64_MAX = 2**64 - 1


def _inclusion_should_accept(tree: RefTree, index: int, size: int, new_index: int, new_size: int) -> bool:
    """Whether the statement with (index, size) replaced by (new_index, new_size) is still valid."""
    if not 0 <= new_index < new_size <= UINT64_MAX:
        return False
    proof = tree.inclusion(index, size)
    # A genuinely valid statement about the tree (for distinct leaves only the unchanged one) ...
    if (
        new_size <= len(tree)
        and tree.leaf_hashes[new_index] == tree.leaf_hashes[index]
        and tree.inclusion(new_index, new_size) == proof
        and tree.root(new_size) == tree.root(size)
    ):
        return True
    # ... or a pair that any RFC 9162 verifier reduces to the very same hash computation.
    return inclusion_shape(new_index, new_size) == inclusion_shape(index, size)


def _consistency_should_accept(tree: RefTree, size1: int, size2: int, new1: int, new2: int) -> bool:
    if not 0 < new1 < new2 <= UINT64_MAX:  # the proof is not empty: new1 == new2 and new1 == 0 fail
        return False
    proof = tree.consistency(size1, size2)
    if (
        new2 <= len(tree)
        and tree.consistency(new1, new2) == proof
        and tree.root(new1) == tree.root(size1)
        and tree.root(new2) == tree.root(size2)
    ):
        return True
    return consistency_shape(new1, new2) == consistency_shape(size1, size2)


big_or_small = st.one_of(st.integers(-3, 2 * MAX_LEAVES), st.integers(-(2**70), 2**70))


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW_OK)
@given(tree_and_index(), big_or_small, big_or_small)
def test_inclusion_changed_index_or_size(
    case: tuple[RefTree, int, int], other_index: int, other_size: int
) -> None:
    tree, index, size = case
    proof = tree.inclusion(index, size)
    leaf, tree_root = tree.leaf_hashes[index], tree.root(size)
    candidates = {(index + d, size) for d in (-1, 1)} | {(index, size + d) for d in (-1, 1)}
    candidates |= {(index + 1, size + 1), (index - 1, size - 1), (other_index, size), (index, other_size)}
    candidates |= {(other_index, other_size)}
    for new_index, new_size in candidates:
        if (new_index, new_size) == (index, size):
            continue
        expected = _inclusion_should_accept(tree, index, size, new_index, new_size)
        assert verify_inclusion(leaf, new_index, new_size, proof, tree_root) is expected, (
            new_index,
            new_size,
        )


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW_OK)
@given(tree_and_sizes(), big_or_small, big_or_small)
def test_consistency_changed_sizes(case: tuple[RefTree, int, int], other1: int, other2: int) -> None:
    tree, size1, size2 = case
    proof = tree.consistency(size1, size2)
    root1, root2 = tree.root(size1), tree.root(size2)
    candidates = {(size1 + d, size2) for d in (-1, 1)} | {(size1, size2 + d) for d in (-1, 1)}
    candidates |= {(size1 + 1, size2 + 1), (size1 - 1, size2 - 1), (size2, size1), (size1, size1)}
    candidates |= {(other1, size2), (size1, other2), (other1, other2), (0, size2)}
    for new1, new2 in candidates:
        if (new1, new2) == (size1, size2):
            continue
        expected = _consistency_should_accept(tree, size1, size2, new1, new2)
        assert verify_consistency(new1, new2, root1, root2, proof) is expected, (new1, new2)


def test_shape_equivalence_is_common_but_not_universal() -> None:
    # Guards the guard: the shape rule must not make the mutation tests vacuous.
    assert inclusion_shape(3, 7) == inclusion_shape(3, 8)  # leaf 3 sits in the same complete subtree
    assert inclusion_shape(6, 7) != inclusion_shape(6, 8)
    assert inclusion_shape(3, 7) != inclusion_shape(3, 4)
    assert inclusion_shape(2, 7) != inclusion_shape(3, 7)
    assert consistency_shape(3, 7) != consistency_shape(4, 7)
    assert consistency_shape(6, 7) == consistency_shape(6, 8)
    assert consistency_shape(6, 7) != consistency_shape(5, 7)


WRONG_LENGTHS = (0, 1, 16, 31, 33, 64)


def _resized(value: bytes, length: int) -> bytes:
    return (value * 3)[:length]


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)
@given(tree_and_index(), st.binary(min_size=32, max_size=32))
def test_inclusion_malformed_proofs(case: tuple[RefTree, int, int], junk: bytes) -> None:
    tree, index, size = case
    proof = inclusion_proof(tree.leaves, index, size)
    leaf, tree_root = tree.leaf_hashes[index], tree.root(size)

    def rejects(leaf_: Any, index_: Any, size_: Any, proof_: Any, root_: Any) -> None:
        assert verify_inclusion(leaf_, index_, size_, proof_, root_) is False

    assert verify_inclusion(leaf, index, size, proof, tree_root) is True
    # Extra hashes, anywhere.
    for extra in (junk, tree_root, leaf, *proof):
        for position in range(len(proof) + 1):
            rejects(leaf, index, size, [*proof[:position], extra, *proof[position:]], tree_root)
    # Missing hashes, anywhere.
    for position in range(len(proof)):
        rejects(leaf, index, size, [*proof[:position], *proof[position + 1 :]], tree_root)
    if proof:
        rejects(leaf, index, size, [], tree_root)
    # Hashes of the wrong length.
    for length in WRONG_LENGTHS:
        rejects(_resized(leaf, length), index, size, proof, tree_root)
        rejects(leaf, index, size, proof, _resized(tree_root, length))
        for position in range(len(proof)):
            resized = _resized(proof[position], length)
            rejects(leaf, index, size, [*proof[:position], resized, *proof[position + 1 :]], tree_root)
    # Out-of-range and ill-typed numbers.
    for bad_index, bad_size in [
        (size, size),
        (size + 1, size),
        (index, index),
        (-1, size),
        (index, -size),
        (-index - 1, -size),
        (index, 0),
        (float(index), size),
        (index, float(size)),
        (str(index), size),
        (index, None),
        (index + 2**64, size + 2**64),
    ]:
        rejects(leaf, bad_index, bad_size, proof, tree_root)
    if index in (0, 1):
        rejects(leaf, bool(index), size, proof, tree_root)
    if size == 1:
        rejects(leaf, index, True, proof, tree_root)
    # Not bytes at all.
    for bad in (leaf.hex(), list(leaf), None, 0):
        rejects(bad, index, size, proof, tree_root)
        rejects(leaf, index, size, proof, bad)
        if proof:
            rejects(leaf, index, size, [bad, *proof[1:]], tree_root)
    for bad_proof in (None, b"".join(proof), "".join(p.hex() for p in proof), iter(proof), set(proof), 0):
        rejects(leaf, index, size, bad_proof, tree_root)
    # Bytes-like objects are accepted.
    loose: Any = verify_inclusion  # the signature says bytes; bytes-like objects are accepted too
    assert loose(bytearray(leaf), index, size, tuple(memoryview(p) for p in proof), bytearray(tree_root))


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)
@given(tree_and_sizes(), st.binary(min_size=32, max_size=32))
def test_consistency_malformed_proofs(case: tuple[RefTree, int, int], junk: bytes) -> None:
    tree, size1, size2 = case
    proof = consistency_proof(tree.leaves, size1, size2)
    root1, root2 = tree.root(size1), tree.root(size2)

    def rejects(size1_: Any, size2_: Any, root1_: Any, root2_: Any, proof_: Any) -> None:
        assert verify_consistency(size1_, size2_, root1_, root2_, proof_) is False

    assert verify_consistency(size1, size2, root1, root2, proof) is True
    for extra in (junk, root1, root2, *proof):
        for position in range(len(proof) + 1):
            rejects(size1, size2, root1, root2, [*proof[:position], extra, *proof[position:]])
    for position in range(len(proof)):
        rejects(size1, size2, root1, root2, [*proof[:position], *proof[position + 1 :]])
    rejects(size1, size2, root1, root2, [])
    for length in WRONG_LENGTHS:
        rejects(size1, size2, _resized(root1, length), root2, proof)
        rejects(size1, size2, root1, _resized(root2, length), proof)
        for position in range(len(proof)):
            resized = _resized(proof[position], length)
            rejects(size1, size2, root1, root2, [*proof[:position], resized, *proof[position + 1 :]])
    for bad1, bad2 in [
        (size2, size1),
        (size2 + 1, size2),
        (0, size2),
        (-1, size2),
        (size1, -size2),
        (-size1, -size2),
        (float(size1), size2),
        (size1, float(size2)),
        (str(size1), size2),
        (None, size2),
        (size1 + 2**64, size2 + 2**64),
    ]:
        rejects(bad1, bad2, root1, root2, proof)
    if size1 == 1:
        rejects(True, size2, root1, root2, proof)
    # Equal sizes need an empty proof and equal roots.
    rejects(size2, size2, root2, root2, proof)
    rejects(size1, size1, root1, root1, proof)
    assert verify_consistency(size2, size2, root2, root2, [])
    rejects(size2, size2, root1, root2, [])
    for bad in (root1.hex(), list(root1), None, 0):
        rejects(size1, size2, bad, root2, proof)
        rejects(size1, size2, root1, bad, proof)
        rejects(size1, size2, root1, root2, [bad, *proof[1:]])
    for bad_proof in (None, b"".join(proof), "".join(p.hex() for p in proof), iter(proof), set(proof), 0):
        rejects(size1, size2, root1, root2, bad_proof)
    loose: Any = verify_consistency  # the signature says bytes; bytes-like objects are accepted too
    assert loose(size1, size2, memoryview(root1), bytearray(root2), tuple(map(bytearray, proof)))


class _ExplodingSequence(Sequence[bytes]):
    """A proof whose every access raises."""

    def __init__(self, length: int, error: type[Exception]) -> None:
        self._length = length
        self._error = error

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: Any) -> Any:
        raise self._error("boom")


class _LyingLength(Sequence[bytes]):
    def __len__(self) -> int:
        raise OverflowError("no length for you")

    def __getitem__(self, index: Any) -> Any:
        raise IndexError(index)


def test_verifiers_swallow_exceptions_from_hostile_inputs() -> None:
    index, size = 5, 8
    proof = INCLUSION_VECTORS[-1][2]
    for error in (RuntimeError, ValueError, TypeError, IndexError):
        hostile = _ExplodingSequence(len(proof), error)
        assert verify_inclusion(n(0, index), index, size, hostile, ROOTS[size]) is False
        assert verify_consistency(6, 8, ROOTS[6], ROOTS[8], _ExplodingSequence(3, error)) is False
    assert verify_inclusion(n(0, index), index, size, _LyingLength(), ROOTS[size]) is False
    assert verify_consistency(6, 8, ROOTS[6], ROOTS[8], _LyingLength()) is False
    released: Any = memoryview(ROOTS[size])
    released.release()
    assert verify_inclusion(n(0, index), index, size, proof, released) is False
    assert verify_consistency(8, 8, released, ROOTS[8], []) is False
    # Enormous sizes are rejected before anything proportional to them is done.
    assert verify_inclusion(n(0, 0), 0, 10**10000, proof, ROOTS[size]) is False
    assert verify_consistency(1, 10**10000, ROOTS[1], ROOTS[8], proof) is False
    assert verify_consistency(2**64 - 1, 2**64 - 1, ROOTS[1], ROOTS[1], [])


junk_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=40),
    st.binary(max_size=40),
    st.binary(min_size=32, max_size=32),
    st.lists(st.binary(min_size=32, max_size=32), max_size=12),
    st.lists(st.one_of(st.none(), st.integers(), st.binary(max_size=40)), max_size=12),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
)


@settings(max_examples=500, deadline=None)
@given(junk_values, junk_values, junk_values, junk_values, junk_values)
def test_verifiers_never_raise_on_junk(a: Any, b: Any, c: Any, d: Any, e: Any) -> None:
    assert verify_inclusion(a, b, c, d, e) in (True, False)
    assert verify_consistency(a, b, c, d, e) in (True, False)
    # Junk claims about a real tree are never accepted.
    assert verify_inclusion(a, b, c, d, ROOTS[8]) is False
    assert verify_consistency(a, b, ROOTS[3], ROOTS[8], c) is False


# ---------------------------------------------------------------------------------------------
# 3. Generation errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "size", "match"),
    [
        (-1, 4, "negative"),
        (4, 4, "out of range"),
        (5, 4, "out of range"),
        (0, 0, "out of range"),
        (0, 9, "larger than the number of leaves"),
        (8, 9, "larger than the number of leaves"),
    ],
)
def test_inclusion_proof_bad_arguments(index: int, size: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        inclusion_proof(LEAVES, index, size)


@pytest.mark.parametrize(
    ("size1", "size2", "match"),
    [
        (0, 4, "positive"),
        (-1, 4, "positive"),
        (0, 0, "positive"),
        (5, 4, "must not be larger"),
        (1, 9, "larger than the number of leaves"),
        (9, 9, "larger than the number of leaves"),
    ],
)
def test_consistency_proof_bad_arguments(size1: int, size2: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        consistency_proof(LEAVES, size1, size2)


@pytest.mark.parametrize(
    "call",
    [
        lambda: inclusion_proof(LEAVES, True, 8),
        lambda: inclusion_proof(LEAVES, 0, cast(Any, 8.0)),
        lambda: inclusion_proof(LEAVES, cast(Any, "0"), 8),
        lambda: consistency_proof(LEAVES, True, 8),
        lambda: consistency_proof(LEAVES, 1, cast(Any, None)),
    ],
)
def test_proof_generation_rejects_non_int_numbers(call: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="must be an int"):
        call()


def test_proof_generation_over_a_prefix_ignores_later_leaves() -> None:
    longer = [*LEAVES, b"later", b"leaves"]
    for size2 in range(1, 9):
        for index in range(size2):
            assert inclusion_proof(longer, index, size2) == inclusion_proof(LEAVES[:size2], index, size2)
        for size1 in range(1, size2 + 1):
            assert consistency_proof(longer, size1, size2) == consistency_proof(LEAVES, size1, size2)
