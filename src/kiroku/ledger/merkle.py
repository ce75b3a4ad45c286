"""The RFC 9162 section 2.1 Merkle tree core: hashing, proof generation and proof verification.

This module implements, with nothing but :mod:`hashlib`, the append-only Merkle tree of
RFC 9162 ("Certificate Transparency Version 2.0") section 2.1, which is the same tree as
RFC 6962 section 2.1:

* ``MTH(D[n])``, the Merkle Tree Hash of a list of ``n`` raw leaf inputs (:func:`root`), built
  from the domain-separated hashes ``leaf_hash(d) = SHA-256(0x00 || d)`` (:func:`leaf_hash`) and
  ``node_hash(l, r) = SHA-256(0x01 || l || r)`` (:func:`node_hash`); the empty tree hashes to
  ``SHA-256("")``.
* ``PATH(m, D[n])``, the inclusion proof (audit path) of leaf ``m`` in the tree of the first
  ``n`` leaves (:func:`inclusion_proof`), and its verification, RFC 9162 section 2.1.3.2
  (:func:`verify_inclusion`).
* ``PROOF(m, D[n])`` / ``SUBPROOF(m, D[n], b)``, the consistency proof that the tree of the first
  ``m`` leaves is a prefix of the tree of the first ``n`` leaves (:func:`consistency_proof`), and
  its verification, RFC 9162 section 2.1.4.2 (:func:`verify_consistency`).

Proof generation takes the raw leaf inputs, hashes them once and computes the hash of each
sibling subtree bottom-up, so one proof costs O(n) hashes. Bad arguments raise
:class:`ValueError` (out-of-range numbers) or :class:`TypeError` (a size or index that is not an
``int``, or is a ``bool``).

Verification is strict and fails closed. The two ``verify_*`` functions return ``True`` only for
a proof that is exactly right, and ``False`` for everything else; no exception ever escapes them.
In particular they return ``False`` for: a leaf hash, root or proof element that is not a
bytes-like object (``bytes``, ``bytearray``, ``memoryview``) of exactly :data:`HASH_SIZE` bytes;
a proof that is not a sequence (a ``str`` or ``bytes`` is not taken for a sequence of hashes);
a size or index that is not an ``int`` (``bool`` included), is negative or does not fit in the
uint64 that RFC 9162 uses for tree sizes; ``index >= size``; ``size1 > size2``; a proof with one
hash too many or too few (the exact expected length is checked before any hashing, as
transparency-dev/merkle does: an inclusion proof for ``index`` in a tree of ``size`` has
``inner + border`` hashes, where ``inner = bit_length(index ^ (size - 1))`` and
``border = popcount(index >> inner)``). The consistency policy follows transparency-dev/merkle's
``RootFromConsistencyProof``: ``size1 == size2`` is valid if and only if the proof is empty and
``root1 == root2``; a proof from the empty tree (``size1 == 0 < size2``) is meaningless and is
rejected; ``size1 < size2`` with an empty proof is rejected. The final root comparisons use
:func:`hmac.compare_digest`.

Note that an inclusion or consistency proof binds a tree size only through the shape of the
hash chain it describes: as with every RFC 9162 verifier, it is the (signed) pairing of a root
with its size that the caller must trust, not the size argument alone.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import TypeGuard

__all__ = [
    "HASH_SIZE",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Size in bytes of every hash in the tree (SHA-256)."""

# RFC 9162 carries tree sizes and leaf indexes as uint64.
_MAX_UINT64 = (1 << 64) - 1

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


# --- hashing -----------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 hash of one raw leaf input: ``SHA-256(0x00 || data)``."""
    h = hashlib.sha256(_LEAF_PREFIX)
    h.update(data)
    return h.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 hash of an interior node: ``SHA-256(0x01 || left || right)``."""
    h = hashlib.sha256(_NODE_PREFIX)
    h.update(left)
    h.update(right)
    return h.digest()


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Return MTH over a non-empty run of leaf hashes.

    The tree is built bottom-up, pairing neighbours level by level and promoting an odd last
    node unchanged. This gives exactly the RFC's recursive split at the largest power of two
    smaller than ``n``: the left part of every split is a perfect subtree whose pairs never
    straddle the split, and the right part has folded to a single node by the time the left
    part has.
    """
    level = list(hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _split(n: int) -> int:
    """Return the largest power of two strictly smaller than ``n`` (``n >= 2``): RFC 9162's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """Return MTH(D[n]), the RFC 9162 Merkle Tree Hash of the raw leaf inputs ``leaves``.

    The hash of the empty tree is ``SHA-256("")``.
    """
    if len(leaves) == 0:
        return hashlib.sha256(b"").digest()
    return _fold([leaf_hash(leaves[i]) for i in range(len(leaves))])


# --- proof generation --------------------------------------------------------------------------


def _require_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


def _leaf_hashes(leaves: Sequence[bytes], size: int) -> list[bytes]:
    return [leaf_hash(leaves[i]) for i in range(size)]


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """Return PATH(index, D[0:size]), the RFC 9162 inclusion proof of leaf ``index``.

    The tree is the one over the first ``size`` raw leaf inputs of ``leaves`` (``size`` may be
    smaller than ``len(leaves)``). The proof lists sibling subtree hashes from the leaf up to the
    root. Raises :class:`ValueError` unless ``0 <= index < size <= len(leaves)``.
    """
    index = _require_int("index", index)
    size = _require_int("size", size)
    if size > len(leaves):
        raise ValueError(f"tree size {size} is larger than the number of leaves ({len(leaves)})")
    if index < 0:
        raise ValueError(f"leaf index must not be negative, got {index}")
    if index >= size:
        raise ValueError(f"leaf index {index} is out of range for a tree of size {size}")

    hashes = _leaf_hashes(leaves, size)
    # Walk down from the root, recording the sibling of the subtree holding the leaf.
    top_down: list[bytes] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            top_down.append(_fold(hashes[lo + k : hi]))
            hi = lo + k
        else:
            top_down.append(_fold(hashes[lo : lo + k]))
            lo += k
            m -= k
    top_down.reverse()
    return top_down


def consistency_proof(leaves: Sequence[bytes], size1: int, size2: int) -> list[bytes]:
    """Return PROOF(size1, D[0:size2]), the RFC 9162 consistency proof between two tree sizes.

    The trees are those over the first ``size1`` and the first ``size2`` raw leaf inputs of
    ``leaves``. ``size1 == size2`` gives the empty proof. Raises :class:`ValueError` unless
    ``0 < size1 <= size2 <= len(leaves)``: a proof from the empty tree is meaningless.
    """
    size1 = _require_int("size1", size1)
    size2 = _require_int("size2", size2)
    if size2 > len(leaves):
        raise ValueError(f"tree size {size2} is larger than the number of leaves ({len(leaves)})")
    if size1 <= 0:
        raise ValueError(f"size1 must be positive (a proof from the empty tree is meaningless), got {size1}")
    if size1 > size2:
        raise ValueError(f"size1 ({size1}) must not be larger than size2 ({size2})")
    if size1 == size2:
        return []

    hashes = _leaf_hashes(leaves, size2)
    # SUBPROOF(m, D[lo:hi], b), unrolled from the top; each step appends its sibling subtree.
    top_down: list[bytes] = []
    lo, hi, m, have_root = 0, size2, size1, True
    while m < hi - lo:
        k = _split(hi - lo)
        if m <= k:
            top_down.append(_fold(hashes[lo + k : hi]))
            hi = lo + k
        else:
            top_down.append(_fold(hashes[lo : lo + k]))
            lo += k
            m -= k
            have_root = False
    if not have_root:
        # SUBPROOF(m, D[m], false) = [MTH(D[m])]: the old subtree the verifier cannot know.
        top_down.append(_fold(hashes[lo:hi]))
    top_down.reverse()
    return top_down


# --- verification ------------------------------------------------------------------------------


def _is_uint64(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_UINT64


def _as_hash(value: object) -> bytes | None:
    if not isinstance(value, bytes | bytearray | memoryview):
        return None
    raw = bytes(value)
    return raw if len(raw) == HASH_SIZE else None


def _is_proof_sequence(proof: object) -> TypeGuard[Sequence[object]]:
    return isinstance(proof, Sequence) and not isinstance(proof, str | bytes | bytearray | memoryview)


def _as_hashes(proof: Sequence[object]) -> list[bytes] | None:
    out: list[bytes] = []
    for element in proof:
        h = _as_hash(element)
        if h is None:
            return None
        out.append(h)
    return out


def _inclusion_proof_length(index: int, size: int) -> int:
    """Exact length of PATH(index, D[size]): inner hashes below the right border, then border ones."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


def _verify_inclusion(
    hashed_leaf: object, index: object, size: object, proof: object, expected: object
) -> bool:
    if not (_is_uint64(index) and _is_uint64(size)):
        return False
    if index >= size:
        return False
    leaf = _as_hash(hashed_leaf)
    want = _as_hash(expected)
    if leaf is None or want is None or not _is_proof_sequence(proof):
        return False
    if len(proof) != _inclusion_proof_length(index, size):
        return False
    path = _as_hashes(proof)
    if path is None:
        return False

    # RFC 9162 section 2.1.3.2.
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # On the right border: climb past the levels where this node has no sibling.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return False
    return hmac.compare_digest(r, want)


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Return whether ``proof`` proves the leaf hashed ``leaf_hash`` is at ``index`` in the tree ``root``.

    ``leaf_hash`` is an already-hashed leaf (see :func:`leaf_hash`), ``size`` the tree size whose
    Merkle Tree Hash is ``root``. Implements RFC 9162 section 2.1.3.2, after checking the proof
    has exactly the expected number of hashes. Fails closed: anything malformed or unexpected
    gives ``False``, never an exception.
    """
    try:
        return _verify_inclusion(leaf_hash, index, size, proof, root)
    except Exception:
        return False


def _consistency_proof_length(size1: int, size2: int) -> int:
    """Exact length of PROOF(size1, D[size2]) for ``0 < size1 < size2``."""
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length()
    border = ((size1 - 1) >> inner).bit_count()
    shift = (size1 & -size1).bit_length() - 1  # trailing zero bits of size1
    # The old tree's largest complete subtree (2**shift leaves) is only sent when it is not
    # the whole old tree, i.e. when size1 is not a power of two.
    seed = 0 if size1 == 1 << shift else 1
    return seed + (inner - shift) + border


def _verify_consistency(size1: object, size2: object, root1: object, root2: object, proof: object) -> bool:
    if not (_is_uint64(size1) and _is_uint64(size2)):
        return False
    first = _as_hash(root1)
    second = _as_hash(root2)
    if first is None or second is None or not _is_proof_sequence(proof):
        return False
    if size1 > size2:
        return False
    if size1 == size2:
        return len(proof) == 0 and hmac.compare_digest(first, second)
    if size1 == 0 or len(proof) == 0:
        return False
    if len(proof) != _consistency_proof_length(size1, size2):
        return False
    path = _as_hashes(proof)
    if path is None:
        return False

    # RFC 9162 section 2.1.4.2.
    if size1 & (size1 - 1) == 0:  # size1 is an exact power of two
        path = [first, *path]
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return False
    first_ok = hmac.compare_digest(fr, first)
    second_ok = hmac.compare_digest(sr, second)
    return first_ok and second_ok


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> bool:
    """Return whether ``proof`` proves the tree ``root1`` of ``size1`` leaves is a prefix of ``root2``.

    ``root2`` is the Merkle Tree Hash of the tree of ``size2`` leaves. Implements RFC 9162
    section 2.1.4.2, after checking the proof has exactly the expected number of hashes, with
    transparency-dev/merkle's policy for the edge cases: ``size1 == size2`` is valid if and only
    if the proof is empty and the roots are equal; ``size1 == 0 < size2`` and an empty proof for
    ``size1 < size2`` are rejected. Fails closed: anything malformed or unexpected gives
    ``False``, never an exception.
    """
    try:
        return _verify_consistency(size1, size2, root1, root2, proof)
    except Exception:
        return False
