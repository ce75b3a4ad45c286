"""Near-duplicate and similar passages of one shard: MinHash signatures and LSH band keys in memory-mapped files.

Passages
    Windows of ``window`` tokens every ``stride`` tokens inside each document, never across the 0 separators; when
    the last regular window stops short of the document's end one more window ends exactly there, so every token of a
    document is in some passage. A document shorter than a window is one passage if it has at least one shingle.
    Shingles are the ``shingle``-grams of token ids, hashed to 64 bits with numpy (``_shingle_hashes``); a passage is
    the *set* of its shingles. A query output is cut the same way (one "document"), but with windows every
    `PassageConfig.query_stride` = stride // 4 tokens by default, so that a copy at any offset meets a window
    misaligned by at most 4 tokens; its shingles that cover an unknown token (id 0) are left out: no passage holds
    one.

MinHash (rensa 0.5, ``RMinHash.digest_matrix_from_flat_token_hashes``)
    rensa signs one flat uint64 buffer of shingle hashes with row offsets, without a Python object per passage:
    ~700k passages/s for the call alone (96 permutations, ~46 shingles a passage, 3.8M tokens of real text). It
    hands the digests back only as Python lists (``RMinHashDigestMatrix.to_rows``; no buffer protocol), and turning
    those into numpy costs ~6x the signing; with the garbage collector paused meanwhile (``_sign``) signing runs at
    ~100k passages/s, and a whole shard build at ~65k. datasketch 2.0 on the same hashes: ~4.6k/s (update_batch),
    ~19k/s (MinHash.bulk). The per-object API (``RMinHash.update``) takes only str/bytes tokens, so integer shingles
    would have to be re-encoded: slower.

LSH: 16 bands x 6 rows (96 permutations)
    A (query window, passage) pair becomes a candidate when all 6 rows of some band agree; with Jaccard s that
    happens with probability 1 - (1 - s^6)^16 (threshold ~ (1/16)^(1/6) = 0.63):

    ======= ===== ===== ===== ===== ===== ===== =====
    J       0.2   0.3   0.4   0.5   0.6   0.7   0.8
    P(cand) 0.001 0.012 0.063 0.222 0.535 0.865 0.992
    ======= ===== ===== ===== ===== ===== ===== =====

    Recall is >= 0.99 for J >= 0.8 (target 0.95, met with room for the sampling noise of 96 permutations), while
    passages sharing half their text with a window (J ~ 0.3, the neighbours of every true match) become candidates
    about once in 80. 14x7 would give 0.96 at 0.8 (too little room) and 20x6 costs a quarter more time and space for
    0.998. Each band key is a 64-bit hash of the band number and its 6 values, so all bands share one sorted array.

Files (all written before ``minhash.json``, which is written last, atomically, with every file's SHA-256)
    ``passages.npy``      int64 (n, 2): start and end token offsets of each passage in the shard stream
    ``signatures.npy``    uint16 (n, num_perm): the low 16 bits of each MinHash value, for estimated Jaccard
                          (a 1 in 65536 chance collision, corrected for in the estimate; half the bytes of uint32)
    ``lsh.keys.npy``      uint64 (n * bands,): band keys, sorted
    ``lsh.passages.npy``  uint32 (n * bands,): the passage number of each key
    At the defaults a passage costs 16 + 192 + 192 bytes = 12.5 bytes per corpus token.

A query looks its windows' band keys up with ``np.searchsorted`` in the mapped keys, so memory stays flat in the
corpus size, then scores each candidate passage three ways: estimated Jaccard (its signature against the best
window's), exact Jaccard (shingle sets, the best window of the output) and containment (the share of the passage's
shingles found anywhere in the output), these last two from the real token ids. Cutting and signing the query's
windows (~0.9 ms for 500 tokens) is cached across the shards of an index; each shard then costs ~0.15-0.45 ms for
lookups and estimates plus ~0.4 ms of exact rescoring when ~15 passages are candidates.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import rensa  # type: ignore[import-untyped]

from kiroku.trace.errors import IndexCorrupt, IndexMissing, StaleIndex

__all__ = ["PassageConfig", "PassageIndex", "PassageInfo", "PassageMatch", "write_passage_files"]

FORMAT: Final = "kiroku.minhash/v1"
MANIFEST: Final = "minhash.json"
SHINGLE_HASH: Final = "kiroku-shingle64/v1"
SIGNATURE_BITS: Final = 16
FILES: Final = ("passages.npy", "signatures.npy", "lsh.keys.npy", "lsh.passages.npy")
BATCH: Final = 8192  # passages signed per rensa call: bounds the Python lists rensa returns
MAX_CANDIDATES: Final = (
    256  # candidate passages of one shard estimated for a query (those with most collisions)
)
EXACT_PER_MATCH: Final = (
    4  # ... of which this many per match asked for are scored exactly, best estimates first
)

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
TokensOf = Callable[[int, int], npt.NDArray[np.uint32]]

_MUL: Final = np.uint64(0x9E3779B97F4A7C15)
_MIX1: Final = np.uint64(0xBF58476D1CE4E5B9)
_MIX2: Final = np.uint64(0x94D049BB133111EB)
_BAND_SALT: Final = np.uint64(0x632BE59BD9B4E019)


@dataclass(frozen=True)
class PassageConfig:
    """Passage windows, shingles and MinHash LSH parameters of one index (recorded in ``minhash.json``)."""

    window: int = 64
    stride: int = 32
    shingle: int = 5
    bands: int = 16
    rows: int = 6
    seed: int = 1729

    def __post_init__(self) -> None:
        for name in ("window", "stride", "shingle", "bands", "rows"):
            if getattr(self, name) < 1:
                raise ValueError(f"PassageConfig.{name} must be at least 1, not {getattr(self, name)}")
        if self.shingle > self.window:
            raise ValueError(f"PassageConfig.shingle ({self.shingle}) must not exceed window ({self.window})")
        if self.stride > self.window:
            raise ValueError(f"PassageConfig.stride ({self.stride}) must not exceed window ({self.window})")
        if not 0 <= self.seed < 2**64:
            raise ValueError("PassageConfig.seed must fit in 64 bits")

    @property
    def num_perm(self) -> int:
        """MinHash permutations: one per row of each band."""
        return self.bands * self.rows

    @property
    def query_stride(self) -> int:
        """The default stride of query windows: a quarter of the passage stride."""
        return max(1, self.stride // 4)


@dataclass(frozen=True)
class PassageInfo:
    """What `write_passage_files` wrote: counts and bytes on disk."""

    directory: Path
    config: PassageConfig
    tokens: int
    documents: int
    passages: int
    bytes: int


@dataclass(frozen=True)
class PassageMatch:
    """A passage similar to the query: where it lies in the shard stream, the best window of the query, its scores.

    ``start``/``end`` are token offsets in the shard stream, ``query_start``/``query_end`` token offsets in the
    query of the window with the highest exact Jaccard; ``estimated_jaccard`` is the MinHash estimate for that
    window, ``jaccard`` the exact shingle-set Jaccard, ``containment`` the share of the passage's shingles found
    anywhere in the query.
    """

    passage: int
    start: int
    end: int
    query_start: int
    query_end: int
    estimated_jaccard: float
    jaccard: float
    containment: float

    @property
    def score(self) -> float:
        """The larger of exact Jaccard and containment: what the threshold is applied to."""
        return max(self.jaccard, self.containment)


# --- hashing and signing -------------------------------------------------------------------------------------------


def _finalize(h: U64) -> U64:
    """splitmix64's finalizer, in place: every input bit reaches every output bit."""
    h ^= h >> np.uint64(30)
    h *= _MIX1
    h ^= h >> np.uint64(27)
    h *= _MIX2
    h ^= h >> np.uint64(31)
    return h


def _shingle_hashes(tokens: npt.NDArray[np.uint32], n: int) -> U64:
    """64-bit hashes of every ``n``-gram of ``tokens`` (length ``len(tokens) - n + 1``, empty when shorter)."""
    count = len(tokens) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    t = np.asarray(tokens, dtype=np.uint64)
    h = np.full(count, n, dtype=np.uint64)
    for j in range(n):
        h ^= t[j : j + count]
        h *= _MUL
        h ^= h >> np.uint64(32)
    return _finalize(h)


@contextmanager
def _gc_paused() -> Iterator[None]:
    # rensa returns digests as lists of Python ints; the collector would walk them again and again as they grow.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _sign(flat: U64, offsets: npt.NDArray[np.uint64], config: PassageConfig) -> U32:
    """MinHash signatures (rows, num_perm) of the shingle-hash sets ``flat[offsets[i]:offsets[i+1]]``."""
    rows = len(offsets) - 1
    if rows <= 0:
        return np.zeros((0, config.num_perm), dtype=np.uint32)
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, config.num_perm, config.seed)
    with _gc_paused():
        values = chain.from_iterable(matrix.to_rows())
        signed = np.fromiter(values, dtype=np.uint32, count=rows * config.num_perm)
    return signed.reshape(rows, config.num_perm)


def _band_keys(signatures: U32, config: PassageConfig) -> U64:
    """One 64-bit key per (row, band): a hash of the band number and the band's ``rows`` values."""
    n = len(signatures)
    values = signatures.astype(np.uint64).reshape(n, config.bands, config.rows)
    keys = np.empty((n, config.bands), dtype=np.uint64)
    keys[:] = _BAND_SALT * np.arange(1, config.bands + 1, dtype=np.uint64)
    for row in range(config.rows):
        keys ^= values[:, :, row]
        keys *= _MUL
        keys ^= keys >> np.uint64(29)
    return _finalize(keys)


def _window_starts(length: int, window: int, stride: int, shingle: int) -> I64:
    """Start offsets of the windows of one document of ``length`` tokens (empty if it holds no shingle)."""
    if length < shingle:
        return np.zeros(0, dtype=np.int64)
    if length <= window:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, length - window + 1, stride, dtype=np.int64)
    if starts[-1] != length - window:
        starts = np.append(starts, length - window)
    return starts


def _passage_bounds(doc_starts: I64, config: PassageConfig) -> I64:
    """(n, 2) start/end offsets of every passage of the shard, in stream order (the `_window_starts` rule, vectorised)."""
    first = doc_starts[:-1]
    length = doc_starts[1:] - 1 - first  # each document's last token is followed by its 0
    window, stride = config.window, config.stride
    over = np.maximum(length - window, 0)
    regular = np.where(length > window, over // stride + 1, (length >= config.shingle).astype(np.int64))
    extra = (length > window) & (over % stride != 0)
    counts = regular + extra
    total = int(counts.sum())
    doc = np.repeat(np.arange(len(first)), counts)
    ends_of_run = np.cumsum(counts)
    k = np.arange(total, dtype=np.int64) - np.repeat(ends_of_run - counts, counts)
    offset = np.minimum(k * stride, over[doc])  # the extra window is the one clipped to end the document
    starts = first[doc] + offset
    ends = starts + np.minimum(window, length[doc])
    return np.stack([starts, ends], axis=1).astype(np.int64)


def _flat_rows(bounds: I64, base: int, n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
    """Indexes into a shingle-hash array starting at ``base`` for each row of ``bounds``, and the row offsets."""
    counts = bounds[:, 1] - bounds[:, 0] - n + 1
    offsets = np.zeros(len(bounds) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    index = np.repeat(bounds[:, 0] - base - offsets[:-1], counts) + np.arange(offsets[-1], dtype=np.int64)
    return index, offsets.astype(np.uint64)


# --- writing -------------------------------------------------------------------------------------------------------


def _check_stream(tokens: npt.NDArray[np.uint32], doc_starts: I64) -> None:
    if tokens.ndim != 1 or tokens.dtype != np.uint32:
        raise ValueError(f"tokens must be a 1-D uint32 array, not {tokens.ndim}-D {tokens.dtype}")
    if doc_starts.ndim != 1 or len(doc_starts) < 1 or not np.issubdtype(doc_starts.dtype, np.integer):
        raise ValueError("doc_starts must be a 1-D integer array of length n_docs + 1")
    if doc_starts[0] != 0 or doc_starts[-1] != len(tokens) or np.any(np.diff(doc_starts) < 1):
        raise ValueError(
            "doc_starts must rise from 0 to len(tokens), each document followed by its 0 separator"
        )
    n_docs = len(doc_starts) - 1
    if n_docs and (np.any(tokens[doc_starts[1:] - 1] != 0) or np.count_nonzero(tokens == 0) != n_docs):
        raise ValueError(
            "the token stream must hold exactly one 0, after each document, at doc_starts[i+1] - 1"
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _save(directory: Path, name: str, array: npt.NDArray[Any]) -> None:
    tmp = directory / f".{name}.tmp"
    with tmp.open("wb") as handle:
        np.save(handle, array)
    os.replace(tmp, directory / name)


def write_passage_files(
    directory: Path, tokens: npt.NDArray[np.uint32], doc_starts: npt.NDArray[np.int64], config: PassageConfig
) -> PassageInfo:
    """Write the passage, signature and LSH files of one shard into ``directory``, ``minhash.json`` last.

    ``tokens`` is the whole shard stream (each document followed by a 0), ``doc_starts`` the n_docs + 1 offsets
    where documents begin (the last is ``len(tokens)``). Signing goes in batches of `BATCH` passages and the
    signatures go straight to their mapped file, so memory peaks while the band keys are sorted: about 28 bytes per
    passage and band (448 per passage at the defaults), beyond the token stream itself.
    """
    tokens = np.asarray(tokens)
    doc_starts = np.asarray(doc_starts, dtype=np.int64)
    _check_stream(tokens, doc_starts)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MANIFEST).unlink(missing_ok=True)  # the files below are about to change

    bounds = _passage_bounds(doc_starts, config)
    n = len(bounds)
    keys = np.empty((n, config.bands), dtype=np.uint64)
    sig_tmp = directory / ".signatures.npy.tmp"
    signatures = np.lib.format.open_memmap(sig_tmp, mode="w+", dtype=np.uint16, shape=(n, config.num_perm))
    for first in range(0, n, BATCH):
        batch = bounds[first : first + BATCH]
        base, stop = int(batch[0, 0]), int(batch[-1, 1])
        hashes = _shingle_hashes(tokens[base:stop], config.shingle)
        index, offsets = _flat_rows(batch, base, config.shingle)
        signed = _sign(hashes[index], offsets, config)
        keys[first : first + len(batch)] = _band_keys(signed, config)
        signatures[first : first + len(batch)] = signed.astype(np.uint16)  # keeps the low 16 bits
    signatures.flush()
    del signatures
    os.replace(sig_tmp, directory / "signatures.npy")

    flat_keys = keys.reshape(-1)
    order = np.argsort(flat_keys, kind="stable")
    _save(directory, "lsh.keys.npy", flat_keys[order])
    _save(directory, "lsh.passages.npy", (order // config.bands).astype(np.uint32))
    del order, flat_keys, keys
    _save(directory, "passages.npy", bounds)

    files: dict[str, dict[str, Any]] = {
        name: {"bytes": (directory / name).stat().st_size, "sha256": _sha256(directory / name)}
        for name in FILES
    }
    manifest = {
        "format": FORMAT,
        "parameters": {
            "window": config.window,
            "stride": config.stride,
            "shingle": config.shingle,
            "num_perm": config.num_perm,
            "bands": config.bands,
            "rows": config.rows,
            "seed": config.seed,
            "signature_bits": SIGNATURE_BITS,
            "shingle_hash": SHINGLE_HASH,
            "minhash": f"rensa.RMinHash/{rensa.RMinHash.ALGORITHM_VERSION}",
        },
        "counts": {
            "tokens": len(tokens),
            "documents": len(doc_starts) - 1,
            "passages": n,
            "band_keys": n * config.bands,
        },
        "files": files,
    }
    tmp = directory / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, directory / MANIFEST)
    total = sum(int(entry["bytes"]) for entry in files.values()) + (directory / MANIFEST).stat().st_size
    return PassageInfo(directory, config, len(tokens), len(doc_starts) - 1, n, total)


# --- reading and querying ------------------------------------------------------------------------------------------


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise IndexMissing(
            f"no near-duplicate index in {directory} ({MANIFEST} is missing); build it with `kiroku index build`"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(
            f"{path} is not readable JSON ({exc}); rebuild the index with `kiroku index build --rebuild`"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise IndexCorrupt(
            f"{path}: format is {found!r}, expected {FORMAT!r}; rebuild the index with `kiroku index build --rebuild`"
        )
    return manifest


def _config_of(path: Path, manifest: dict[str, Any]) -> tuple[PassageConfig, dict[str, int]]:
    try:
        params, counts = manifest["parameters"], manifest["counts"]
        config = PassageConfig(
            window=int(params["window"]),
            stride=int(params["stride"]),
            shingle=int(params["shingle"]),
            bands=int(params["bands"]),
            rows=int(params["rows"]),
            seed=int(params["seed"]),
        )
        sizes = {key: int(counts[key]) for key in ("tokens", "documents", "passages", "band_keys")}
        checks = (
            int(params["num_perm"]) == config.num_perm,
            int(params["signature_bits"]) == SIGNATURE_BITS,
            params["shingle_hash"] == SHINGLE_HASH,
            sizes["band_keys"] == sizes["passages"] * config.bands,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexCorrupt(
            f"{path}: missing or invalid field ({exc}); rebuild the index with `kiroku index build --rebuild`"
        ) from exc
    if not all(checks):
        raise IndexCorrupt(
            f"{path}: parameters or counts do not agree; rebuild the index with `kiroku index build --rebuild`"
        )
    wanted = f"rensa.RMinHash/{rensa.RMinHash.ALGORITHM_VERSION}"
    if params.get("minhash") != wanted:
        raise StaleIndex(
            f"{path}: signatures were made with {params.get('minhash')}, this kiroku signs with {wanted}; "
            "rebuild the index with `kiroku index build --rebuild`"
        )
    return config, sizes


@dataclass(frozen=True)
class _Windows:
    """A query cut into signed windows, with its shingles laid out for vectorised exact scoring.

    Each valid shingle position counts, for the windows ``[first[i], after[i])``, as the first occurrence of its
    shingle in the window: those ranges partition the windows holding each distinct shingle, so the number of
    distinct shingles a window shares with a set is a sum of ranges (a difference array and a cumulative sum).
    """

    bounds: I64  # (w, 2) token offsets of each window in the query
    sizes: I64  # (w,) distinct valid shingles per window
    distinct: U64  # sorted distinct valid shingles of the whole query
    by_shingle: I64  # valid shingle positions ordered by their index in ``distinct``
    shingle_ptr: I64  # by_shingle[shingle_ptr[d]:shingle_ptr[d + 1]] are the positions of distinct[d]
    first: I64  # per shingle position: the first window where it is the first occurrence of its shingle
    after: I64  # per shingle position: one past the last such window (first == after where none)
    signatures: U32  # (w, num_perm)
    keys: U64  # the windows' band keys, sorted
    key_windows: I64  # the window of each key


def _ranges_sum(rows: I64, first: I64, after: I64, shape: tuple[int, int]) -> I64:
    """For each (row, first, after), add 1 to ``out[row, first:after]``: a difference array and a cumulative sum."""
    width = shape[1] + 1
    delta = np.bincount(rows * width + first, minlength=shape[0] * width)
    delta -= np.bincount(rows * width + after, minlength=shape[0] * width)
    summed: I64 = np.cumsum(delta.reshape(shape[0], width), axis=1)[:, : shape[1]]
    return summed


@lru_cache(maxsize=4)
def _cut(query: bytes, config: PassageConfig, stride: int) -> _Windows | None:
    """A query (uint32 bytes) cut into signed windows; cached, since every shard of an index asks the same."""
    tokens = np.frombuffer(query, dtype=np.uint32)
    n = config.shingle
    hashes = _shingle_hashes(tokens, n)
    if not len(hashes):
        return None
    # a shingle is valid when none of its n tokens is 0 (unknown): count zeros in each n-gram
    zeros = np.concatenate([[0], np.cumsum(tokens == 0)])
    valid = (zeros[n:] - zeros[:-n]) == 0
    starts = _window_starts(len(tokens), config.window, stride, n)
    width = min(config.window, len(tokens)) - n + 1  # shingle positions per window, the same for all
    counted = np.concatenate([[0], np.cumsum(valid)])
    starts = starts[counted[starts + width] > counted[starts]]  # windows holding at least one valid shingle
    if not len(starts):
        return None
    index, _ = _flat_rows(np.stack([starts, starts + width + n - 1], axis=1), 0, n)
    index = index[valid[index]]
    offsets = np.zeros(len(starts) + 1, dtype=np.uint64)
    np.cumsum(counted[starts + width] - counted[starts], out=offsets[1:])
    signatures = _sign(hashes[index], offsets, config)

    at = np.flatnonzero(valid)
    order = at[np.argsort(hashes[at], kind="stable")]  # valid positions by shingle, then by position
    ordered = hashes[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    distinct = ordered[new]
    previous = np.full(len(hashes), -1, dtype=np.int64)
    previous[order[1:][~new[1:]]] = order[:-1][~new[1:]]
    # window k holds position i as the first occurrence of its shingle iff
    # max(previous[i] + 1, i - width + 1) <= start_k <= i
    first = np.zeros(len(hashes), dtype=np.int64)
    after = np.zeros(len(hashes), dtype=np.int64)
    first[at] = np.searchsorted(starts, np.maximum(previous[at] + 1, at - width + 1), side="left")
    after[at] = np.maximum(np.searchsorted(starts, at, side="right"), first[at])
    sizes = _ranges_sum(np.zeros(len(at), dtype=np.int64), first[at], after[at], (1, len(starts)))[0]
    shingle_ptr = np.append(np.flatnonzero(new), len(order)).astype(np.int64)
    keys = _band_keys(signatures, config).reshape(-1)
    key_order = np.argsort(keys)
    cut = _Windows(
        np.stack([starts, np.minimum(starts + config.window, len(tokens))], axis=1),
        sizes,
        distinct,
        order,
        shingle_ptr,
        first,
        after,
        signatures,
        keys[key_order],
        key_order // config.bands,
    )
    for array in (
        cut.bounds,
        cut.sizes,
        cut.distinct,
        cut.by_shingle,
        cut.shingle_ptr,
        cut.first,
        cut.after,
        cut.keys,
    ):
        array.flags.writeable = False
    return cut


class PassageIndex:
    """The near-duplicate index of one shard, memory-mapped; open it with `PassageIndex.open`."""

    def __init__(
        self,
        directory: Path,
        config: PassageConfig,
        counts: dict[str, int],
        manifest: dict[str, Any],
        arrays: dict[str, npt.NDArray[Any]],
    ) -> None:
        self.directory = directory
        self.config = config
        self.counts = counts
        self._manifest = manifest
        self.passages: I64 = arrays["passages.npy"]
        self.signatures: npt.NDArray[np.uint16] = arrays["signatures.npy"]
        self.keys: U64 = arrays["lsh.keys.npy"]
        self.key_passages: U32 = arrays["lsh.passages.npy"]

    @classmethod
    def open(cls, directory: Path, *, verify: bool = False) -> PassageIndex:
        """Map the index files of ``directory``, checking their shapes (and with ``verify`` their SHA-256).

        Raises `IndexMissing` when ``minhash.json`` is absent, `IndexCorrupt` when a file is missing, truncated or
        does not match the manifest, `StaleIndex` when it was signed by another MinHash algorithm version.
        """
        directory = Path(directory)
        manifest = _read_manifest(directory)
        config, counts = _config_of(directory / MANIFEST, manifest)
        n = counts["passages"]
        expected: dict[str, tuple[np.dtype[Any], tuple[int, ...]]] = {
            "passages.npy": (np.dtype(np.int64), (n, 2)),
            "signatures.npy": (np.dtype(np.uint16), (n, config.num_perm)),
            "lsh.keys.npy": (np.dtype(np.uint64), (counts["band_keys"],)),
            "lsh.passages.npy": (np.dtype(np.uint32), (counts["band_keys"],)),
        }
        files = manifest.get("files")
        arrays: dict[str, npt.NDArray[Any]] = {}
        for name, (dtype, shape) in expected.items():
            path = directory / name
            entry = files.get(name) if isinstance(files, dict) else None
            if not isinstance(entry, dict) or "bytes" not in entry or "sha256" not in entry:
                raise IndexCorrupt(
                    f"{directory / MANIFEST} does not record {name}; rebuild the index with `kiroku index build --rebuild`"
                )
            if not path.is_file():
                raise IndexCorrupt(
                    f"{path} is missing; rebuild the index with `kiroku index build --rebuild`"
                )
            if path.stat().st_size != entry["bytes"]:
                raise IndexCorrupt(
                    f"{path} has {path.stat().st_size} bytes, {MANIFEST} records {entry['bytes']}: truncated or "
                    "replaced; rebuild the index with `kiroku index build --rebuild`"
                )
            try:
                array = np.load(path, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise IndexCorrupt(
                    f"{path} is not a readable .npy file ({exc}); rebuild the index with `kiroku index build --rebuild`"
                ) from exc
            if array.dtype != dtype or array.shape != shape:
                raise IndexCorrupt(
                    f"{path} holds {array.dtype} {array.shape}, expected {dtype} {shape}; rebuild the index with `kiroku index build --rebuild`"
                )
            arrays[name] = np.asarray(array)  # a plain view of the mapping: no np.memmap overhead per lookup
        index = cls(directory, config, counts, manifest, arrays)
        if verify:
            index.verify()
        return index

    def verify(self) -> None:
        """Re-hash every index file against the SHA-256 in ``minhash.json``; `IndexCorrupt` on any difference."""
        for name in FILES:
            path = self.directory / name
            recorded = self._manifest["files"][name]["sha256"]
            if not path.is_file():
                raise IndexCorrupt(
                    f"{path} is missing; rebuild the index with `kiroku index build --rebuild`"
                )
            if _sha256(path) != recorded:
                raise IndexCorrupt(
                    f"{path} does not match the SHA-256 recorded in {MANIFEST}: it was altered; rebuild the index with `kiroku index build --rebuild`"
                )

    def __len__(self) -> int:
        """The number of passages."""
        return len(self.passages)

    def _matches(self, windows: _Windows, *, owners: bool) -> tuple[I64, I64]:
        """Every band-key match of the windows: the passage of each (one per band that agrees, so a passage may
        come several times), with ``owners`` also the window of each (else an empty array)."""
        none = np.zeros(0, dtype=np.int64)
        if not len(self.keys):
            return none, none
        lo = np.searchsorted(self.keys, windows.keys)  # sorted probes walk the mapped keys front to back
        found = lo < len(self.keys)
        found[found] = self.keys[lo[found]] == windows.keys[found]
        if not found.any():
            return none, none
        lo = lo[found]
        reps = np.searchsorted(self.keys, windows.keys[found], side="right") - lo
        slots = np.repeat(lo - np.cumsum(reps) + reps, reps) + np.arange(int(reps.sum()))
        passages = self.key_passages[slots].astype(np.int64)
        return (np.repeat(windows.key_windows[found], reps) if owners else none), passages

    def _lookup(self, windows: _Windows) -> tuple[I64, I64, I64]:
        """(window, passage) candidate pairs whose band keys agree, distinct, ordered by window then passage, with
        the number of bands that agree for each."""
        owners, passages = self._matches(windows, owners=True)
        n = len(self.passages)
        pairs, bands = np.unique(owners * n + passages, return_counts=True)
        return pairs // n, pairs % n, bands

    def _candidates(self, windows: _Windows) -> tuple[I64, I64]:
        """The LSH query proper: the distinct candidate passages, ascending, and how many (window, band) keys each
        shares with the query."""
        _, passages = self._matches(windows, owners=False)
        if len(passages) * 16 > len(self.passages):  # text repeated all over the shard: one pass beats a sort
            counts = np.bincount(passages, minlength=len(self.passages))
            candidates = np.flatnonzero(counts)
            return candidates, counts[candidates]
        candidates, hits = np.unique(passages, return_counts=True)
        return candidates, hits

    def candidates(
        self, query: npt.NDArray[np.uint32], *, stride: int | None = None
    ) -> list[tuple[int, int, int]]:
        """The LSH candidate pairs of ``query``: (window start, window end, passage number), before any scoring."""
        windows = _cut_query(query, self.config, stride)
        if windows is None:
            return []
        w, p, _ = self._lookup(windows)
        return [
            (int(windows.bounds[i, 0]), int(windows.bounds[i, 1]), int(j)) for i, j in zip(w, p, strict=True)
        ]

    def query(
        self,
        query: npt.NDArray[np.uint32],
        tokens_of: TokensOf,
        *,
        threshold: float = 0.5,
        limit: int = 20,
        stride: int | None = None,
        max_candidates: int = MAX_CANDIDATES,
    ) -> list[PassageMatch]:
        """Passages whose exact Jaccard with a window of ``query``, or containment in it, reaches ``threshold``.

        ``query`` holds the output's token ids (0 for a token outside the vocabulary); ``tokens_of(start, end)``
        returns the shard stream's tokens in ``[start, end)``. Windows are cut every ``stride`` tokens
        (default `PassageConfig.query_stride`). Candidates come from band-key lookups; when there are more than
        ``max_candidates`` distinct passages (text repeated all over the shard) those with the most band keys in
        common with the windows are kept. Their Jaccard is estimated from the signatures, and the `EXACT_PER_MATCH` x ``limit``
        best estimates (with every passage shorter than a window) are scored exactly. Matches come best first
        (score, then Jaccard, then passage number), at most ``limit``.
        """
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must lie in [0, 1], not {threshold}")
        if max_candidates < 1:
            raise ValueError(f"max_candidates must be at least 1, not {max_candidates}")
        windows = _cut_query(query, self.config, stride)  # checks the query even where nothing can match
        if windows is None or limit <= 0 or not len(self.passages):
            return []
        candidates, hits = self._candidates(windows)
        if not len(candidates):
            return []
        if len(candidates) > max_candidates:
            # the most bands agreeing over all windows: more agreeing bands, higher Jaccard with some window
            candidates = candidates[np.argsort(-hits, kind="stable")[:max_candidates]]
        candidates = np.sort(candidates)  # mapped rows read front to back
        estimated = self._estimates(candidates, windows.signatures)
        bounds = np.asarray(self.passages[candidates])
        if len(candidates) > EXACT_PER_MATCH * limit:
            # exact scores for the best estimates only, and for passages shorter than a window (their containment
            # can be high while their Jaccard with any window is low)
            best_estimate = estimated.max(axis=1)
            chosen = bounds[:, 1] - bounds[:, 0] < self.config.window
            chosen[np.argsort(-best_estimate, kind="stable")[: EXACT_PER_MATCH * limit]] = True
            candidates, estimated, bounds = candidates[chosen], estimated[chosen], bounds[chosen]
        jaccards, containment = self._exact(bounds, windows, tokens_of)
        best = np.argmax(jaccards, axis=1)
        rows = np.arange(len(candidates))
        best_jaccard = jaccards[rows, best]
        keep = np.flatnonzero(np.maximum(best_jaccard, containment) >= threshold)
        matches = [
            PassageMatch(
                passage=int(candidates[row]),
                start=int(bounds[row, 0]),
                end=int(bounds[row, 1]),
                query_start=int(windows.bounds[best[row], 0]),
                query_end=int(windows.bounds[best[row], 1]),
                estimated_jaccard=float(estimated[row, best[row]]),
                jaccard=float(best_jaccard[row]),
                containment=float(containment[row]),
            )
            for row in keep.tolist()
        ]
        matches.sort(key=lambda m: (-m.score, -m.jaccard, m.passage))
        return matches[:limit]

    def _exact(
        self, bounds: I64, windows: _Windows, tokens_of: TokensOf
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Exact Jaccard (candidates, windows) and containment (candidates,) from the passages' real tokens."""
        n = self.config.shingle
        lengths = bounds[:, 1] - bounds[:, 0]
        pieces = [np.asarray(tokens_of(start, end), dtype=np.uint32) for start, end in bounds.tolist()]
        for piece, (start, end) in zip(pieces, bounds.tolist(), strict=True):
            if piece.shape != (end - start,):
                raise IndexCorrupt(
                    f"the shard's tokens [{start}, {end}) came back as {piece.shape[0]} tokens: the token file does "
                    f"not match {self.directory / MANIFEST}; rebuild the index with `kiroku index build --rebuild`"
                )
        offsets = np.zeros(len(bounds) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        index, _ = _flat_rows(np.stack([offsets[:-1], offsets[1:]], axis=1), 0, n)
        hashes = _shingle_hashes(np.concatenate(pieces), n)[index]
        owner = np.repeat(np.arange(len(bounds)), lengths - n + 1)
        order = np.lexsort((hashes, owner))
        hashes, owner = hashes[order], owner[order]
        new = np.ones(len(hashes), dtype=bool)
        new[1:] = (hashes[1:] != hashes[:-1]) | (owner[1:] != owner[:-1])
        hashes, owner = hashes[new], owner[new]  # each passage's distinct shingles
        sizes = np.bincount(owner, minlength=len(bounds))
        at = np.searchsorted(windows.distinct, hashes)
        found = windows.distinct[np.minimum(at, len(windows.distinct) - 1)] == hashes
        contained = np.bincount(owner[found], minlength=len(bounds))
        owner, at = owner[found], at[found]
        # every query position of each shared shingle adds 1 over the windows where it is the first occurrence
        spans = windows.shingle_ptr[at + 1] - windows.shingle_ptr[at]
        where = windows.by_shingle[
            np.repeat(windows.shingle_ptr[at] - np.cumsum(spans) + spans, spans) + np.arange(int(spans.sum()))
        ]
        rows = np.repeat(owner, spans)
        inter = _ranges_sum(
            rows, windows.first[where], windows.after[where], (len(bounds), len(windows.sizes))
        )
        jaccards: npt.NDArray[np.float64] = inter / (windows.sizes[None, :] + sizes[:, None] - inter)
        containment: npt.NDArray[np.float64] = contained / sizes
        return jaccards, containment

    def _estimates(self, candidates: npt.NDArray[np.int64], signatures: U32) -> npt.NDArray[np.float64]:
        """(candidates, windows) estimated Jaccard from the stored 16-bit signatures (``candidates`` sorted)."""
        stored = np.asarray(self.signatures[candidates])
        low = signatures.astype(np.uint16)
        agree = (stored[:, None, :] == low[None, :, :]).mean(axis=2)
        chance = 2.0**-SIGNATURE_BITS  # two different 32-bit values share their low 16 bits this often
        estimates: npt.NDArray[np.float64] = np.clip((agree - chance) / (1.0 - chance), 0.0, 1.0)
        return estimates


def _as_query(query: npt.NDArray[Any]) -> npt.NDArray[np.uint32]:
    array = np.asarray(query)
    if array.ndim != 1:
        raise ValueError(f"a query is a 1-D array of token ids, not {array.ndim}-D")
    if array.dtype == np.uint32 or not array.size:
        return array.astype(np.uint32, copy=False)
    if not np.issubdtype(array.dtype, np.integer) or array.min() < 0 or array.max() > np.iinfo(np.uint32).max:
        raise ValueError(f"a query holds uint32 token ids, not {array.dtype} values outside that range")
    return array.astype(np.uint32)


def _cut_query(query: npt.NDArray[Any], config: PassageConfig, stride: int | None) -> _Windows | None:
    step = config.query_stride if stride is None else stride
    if step < 1:
        raise ValueError(f"the query stride must be at least 1, not {step}")
    return _cut(_as_query(query).tobytes(), config, step)
