"""One shard's token file and suffix array, memory-mapped for exact-span search.

A shard's documents are laid out as ``doc0, 0, doc1, 0, ...`` (token ids 1..vocab_size, 0 after every document).
Tokens are stored big-endian in the fewest bytes that hold ``vocab_size`` (``token_width``), so comparing packed
byte strings compares token sequences; the suffix array is built by libdivsufsort (pydivsufsort) over those bytes,
keeping the suffixes that start on a token boundary, and its pointers are stored in the fewest bytes that hold a
token position (``pointer_width``). With ``sparse=k`` only positions ``p % k == 0`` are kept: about
``token_width + pointer_width / k`` bytes a token, and spans of at least k tokens are still found (see
`kiroku.trace.spans`).

Files in the shard directory: ``tokens.npy`` and ``suffixes.npy`` (flat uint8), ``doc_starts.npy`` (int64,
n_docs + 1) and ``suffix.json``, written last and atomically, with each file's SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pydivsufsort  # type: ignore[import-untyped]

from kiroku.trace.errors import IndexCorrupt, IndexMissing

__all__ = ["FORMAT", "INFO_FILE", "SuffixInfo", "SuffixShard", "write_suffix_files"]

FORMAT: Final = "kiroku.suffix/v1"
INFO_FILE: Final = "suffix.json"
TOKENS_FILE: Final = "tokens.npy"
SUFFIXES_FILE: Final = "suffixes.npy"
DOC_STARTS_FILE: Final = "doc_starts.npy"
_FILES: Final = (TOKENS_FILE, SUFFIXES_FILE, DOC_STARTS_FILE)
# suffix-array entries filtered and packed per step: bounds the build's temporary memory
_CHUNK: Final = 1 << 22


def _width(max_value: int) -> int:
    """Fewest bytes holding ``max_value`` (at least 1)."""
    return max(1, (int(max_value).bit_length() + 7) // 8)


@dataclass(frozen=True)
class SuffixInfo:
    """What ``suffix.json`` records about one shard's suffix files."""

    n_tokens: int
    n_docs: int
    n_suffixes: int
    vocab_size: int
    token_width: int
    pointer_width: int
    sparse: int
    sha256: dict[str, str]
    format: str = FORMAT

    @property
    def index_bytes(self) -> int:
        """Bytes of the token file plus the suffix array (the ``.npy`` headers and doc_starts aside)."""
        return self.n_tokens * self.token_width + self.n_suffixes * self.pointer_width

    @property
    def bytes_per_token(self) -> float:
        """Index bytes per token (token file and suffix array)."""
        return self.index_bytes / self.n_tokens if self.n_tokens else 0.0

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to ``suffix.json``."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, where: Path) -> SuffixInfo:
        """Read ``suffix.json``'s object; IndexCorrupt naming the field that is missing or wrong."""
        if not isinstance(data, dict):
            raise IndexCorrupt(
                f"{where} is not a JSON object; rebuild the index with `kiroku index build --rebuild`"
            )
        if data.get("format") != FORMAT:
            raise IndexCorrupt(
                f"{where}: format is {data.get('format')!r}, expected {FORMAT!r}; rebuild the index with "
                "`kiroku index build --rebuild`"
            )
        values: dict[str, Any] = {}
        for name in (
            "n_tokens",
            "n_docs",
            "n_suffixes",
            "vocab_size",
            "token_width",
            "pointer_width",
            "sparse",
        ):
            value = data.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise IndexCorrupt(f"{where}: field {name!r} is missing or not a non-negative integer")
            values[name] = value
        sha = data.get("sha256")
        if not isinstance(sha, dict) or any(not isinstance(sha.get(f), str) for f in _FILES):
            raise IndexCorrupt(f"{where}: field 'sha256' must give the SHA-256 of {', '.join(_FILES)}")
        info = cls(sha256={f: sha[f] for f in _FILES}, **values)
        if not 1 <= info.token_width <= 4 or not 1 <= info.pointer_width <= 8 or info.sparse < 1:
            raise IndexCorrupt(f"{where}: token_width, pointer_width or sparse out of range")
        if info.n_suffixes != -(-info.n_tokens // info.sparse):
            raise IndexCorrupt(f"{where}: n_suffixes does not match n_tokens and sparse")
        return info


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def write_suffix_files(
    directory: Path,
    docs: Iterable[npt.ArrayLike],
    *,
    vocab_size: int,
    sparse: int = 1,
    pointer_width: int | None = None,
) -> SuffixInfo:
    """Write one shard's token file and suffix array into ``directory``; ``suffix.json`` last, atomically.

    ``docs`` are 1-D arrays of token ids in ``1..vocab_size``. ``sparse=k`` keeps only suffixes starting at token
    positions divisible by k. ``pointer_width`` forces wider suffix pointers than the fewest bytes needed (tests,
    or to keep one width across shards). Raises ValueError on ids out of range.
    """
    if not 1 <= vocab_size <= 0xFFFFFFFF:
        raise ValueError(f"vocab_size must be in 1..{0xFFFFFFFF}, got {vocab_size}")
    if sparse < 1:
        raise ValueError(f"sparse must be at least 1, got {sparse}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # an old suffix.json must not vouch for files being rewritten
    (directory / INFO_FILE).unlink(missing_ok=True)

    parts: list[npt.NDArray[np.uint32]] = []
    for number, doc in enumerate(docs):
        array = np.asarray(doc)
        if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
            raise ValueError(f"document {number}: expected a 1-D array of integer token ids")
        if array.size and (int(array.min()) < 1 or int(array.max()) > vocab_size):
            raise ValueError(
                f"document {number}: token ids must be in 1..{vocab_size} (0 is the document separator)"
            )
        parts.append(array.astype(np.uint32, copy=False))
    n_docs = len(parts)
    lengths = np.fromiter((len(p) + 1 for p in parts), dtype=np.int64, count=n_docs)
    doc_starts = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(lengths, out=doc_starts[1:])
    n_tokens = int(doc_starts[-1])

    width = _width(vocab_size)
    packed = np.zeros((n_tokens, width), dtype=np.uint8)
    for start, part in zip(doc_starts[:-1].tolist(), parts, strict=True):
        if len(part):
            packed[start : start + len(part)] = (
                part.astype(">u4").view(np.uint8).reshape(-1, 4)[:, 4 - width :]
            )
    del parts
    flat = packed.reshape(-1)

    needed = _width(max(n_tokens - 1, 0))
    pwidth = needed if pointer_width is None else pointer_width
    if not needed <= pwidth <= 8:
        raise ValueError(f"pointer_width must be in {needed}..8 for {n_tokens} tokens, got {pointer_width}")
    step = width * sparse
    pointers: list[npt.NDArray[np.uint8]] = []
    if n_tokens:
        order = pydivsufsort.divsufsort(flat)
        for begin in range(0, len(order), _CHUNK):
            chunk = order[begin : begin + _CHUNK]
            kept = (chunk[chunk % step == 0] // width).astype(">u8")
            pointers.append(kept.view(np.uint8).reshape(-1, 8)[:, 8 - pwidth :].reshape(-1))
        del order
    suffixes = np.concatenate(pointers) if pointers else np.zeros(0, dtype=np.uint8)
    n_suffixes = len(suffixes) // pwidth
    assert n_suffixes == -(-n_tokens // sparse)

    np.save(directory / TOKENS_FILE, flat, allow_pickle=False)
    np.save(directory / SUFFIXES_FILE, suffixes, allow_pickle=False)
    np.save(directory / DOC_STARTS_FILE, doc_starts, allow_pickle=False)
    info = SuffixInfo(
        n_tokens=n_tokens,
        n_docs=n_docs,
        n_suffixes=n_suffixes,
        vocab_size=vocab_size,
        token_width=width,
        pointer_width=pwidth,
        sparse=sparse,
        sha256={name: _sha256(directory / name) for name in _FILES},
    )
    temp = directory / (INFO_FILE + ".tmp")
    temp.write_text(json.dumps(info.to_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(temp, directory / INFO_FILE)
    return info


def _bytes_view(buffer: npt.NDArray[np.uint8], size: int, stride: int) -> npt.NDArray[Any]:
    """``buffer`` seen as overlapping ``size``-byte strings every ``stride`` bytes (no copy); row gathers are memcpy."""
    count = (len(buffer) - size) // stride + 1 if len(buffer) >= size else 0
    return np.ndarray(shape=(count,), dtype=f"S{size}", buffer=buffer, strides=(stride,))


class SuffixShard:
    """One shard's token file, suffix array and document starts, memory-mapped read-only.

    Open with `SuffixShard.open`; positions are token offsets into the shard's token file, suffix-array indexes
    run over ``0..n_suffixes``.
    """

    def __init__(
        self,
        directory: Path,
        info: SuffixInfo,
        token_bytes: npt.NDArray[np.uint8],
        suffix_bytes: npt.NDArray[np.uint8],
        doc_starts: npt.NDArray[np.int64],
    ) -> None:
        self.directory = directory
        self.info = info
        self.token_bytes = token_bytes
        self.suffix_bytes = suffix_bytes
        self._doc_starts = doc_starts
        self._windows: dict[int, tuple[npt.NDArray[Any], npt.NDArray[Any], int]] = {}
        self._pointer_view = _bytes_view(suffix_bytes, info.pointer_width, info.pointer_width)

    @classmethod
    def open(cls, directory: Path) -> SuffixShard:
        """Memory-map the shard in ``directory``; IndexMissing without ``suffix.json``, IndexCorrupt if damaged."""
        directory = Path(directory)
        info_path = directory / INFO_FILE
        if not info_path.is_file():
            raise IndexMissing(
                f"no suffix index in {directory} ({INFO_FILE} is missing); build it with `kiroku index build`"
            )
        try:
            data = json.loads(info_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise IndexCorrupt(
                f"{info_path} cannot be read ({error}); rebuild the index with `kiroku index build --rebuild`"
            ) from error
        info = SuffixInfo.from_json(data, info_path)
        arrays = {}
        expected = {
            TOKENS_FILE: (np.dtype(np.uint8), info.n_tokens * info.token_width),
            SUFFIXES_FILE: (np.dtype(np.uint8), info.n_suffixes * info.pointer_width),
            DOC_STARTS_FILE: (np.dtype(np.int64), info.n_docs + 1),
        }
        for name, (dtype, size) in expected.items():
            path = directory / name
            if not path.is_file():
                raise IndexCorrupt(
                    f"{path} is missing; rebuild the index with `kiroku index build --rebuild`"
                )
            try:
                array = np.load(path, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError, EOFError) as error:
                raise IndexCorrupt(
                    f"{path} is truncated or garbled ({error}); rebuild the index with `kiroku index build --rebuild`"
                ) from error
            if array.dtype != dtype or array.ndim != 1 or array.shape[0] != size:
                raise IndexCorrupt(
                    f"{path} holds {array.shape} {array.dtype}, but {INFO_FILE} says {size} {dtype}; "
                    "rebuild the index with `kiroku index build --rebuild`"
                )
            arrays[name] = np.asarray(array)
        starts = arrays[DOC_STARTS_FILE]
        if starts[0] != 0 or starts[-1] != info.n_tokens:
            raise IndexCorrupt(
                f"{directory / DOC_STARTS_FILE} does not span the {info.n_tokens} tokens of {TOKENS_FILE}; "
                "rebuild the index with `kiroku index build --rebuild`"
            )
        return cls(directory, info, arrays[TOKENS_FILE], arrays[SUFFIXES_FILE], starts)

    def verify(self) -> None:
        """Re-hash every file against ``suffix.json``; IndexCorrupt naming the first that differs."""
        for name in _FILES:
            path = self.directory / name
            try:
                digest = _sha256(path)
            except OSError as error:
                raise IndexCorrupt(f"{path} cannot be read ({error})") from error
            if digest != self.info.sha256[name]:
                raise IndexCorrupt(
                    f"{path} does not match the SHA-256 recorded in {INFO_FILE}; rebuild the index with "
                    "`kiroku index build --rebuild`"
                )

    @property
    def n_tokens(self) -> int:
        """Tokens in the token file, separators included."""
        return self.info.n_tokens

    @property
    def n_docs(self) -> int:
        """Documents in the shard."""
        return self.info.n_docs

    @property
    def n_suffixes(self) -> int:
        """Entries in the suffix array (``ceil(n_tokens / sparse)``)."""
        return self.info.n_suffixes

    @property
    def sparse(self) -> int:
        """1 when every suffix is indexed; k when only positions divisible by k are."""
        return self.info.sparse

    @property
    def token_width(self) -> int:
        """Bytes per stored token."""
        return self.info.token_width

    @property
    def vocab_size(self) -> int:
        """Largest token id the shard may hold."""
        return self.info.vocab_size

    @property
    def doc_starts(self) -> npt.NDArray[np.int64]:
        """Token offset where each document begins; ``n_docs + 1`` entries, the last being ``n_tokens``."""
        return self._doc_starts

    def tokens(self, start: int, end: int) -> npt.NDArray[np.uint32]:
        """Token ids at positions ``start..end`` (clipped to the file) as uint32."""
        start, end = max(0, start), min(self.n_tokens, end)
        if end <= start:
            return np.zeros(0, dtype=np.uint32)
        width = self.token_width
        raw = self.token_bytes[start * width : end * width].reshape(-1, width)
        padded = np.zeros((end - start, 4), dtype=np.uint8)
        padded[:, 4 - width :] = raw
        return padded.view(">u4").reshape(-1).astype(np.uint32)

    def pointers(self, indexes: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Token positions of the suffix-array entries at ``indexes`` (each in ``0..n_suffixes``)."""
        rows = np.asarray(indexes, dtype=np.int64).reshape(-1)
        width = self.info.pointer_width
        raw = self._pointer_view[rows].view(np.uint8).reshape(-1, width)
        padded = np.zeros((len(rows), 8), dtype=np.uint8)
        padded[:, 8 - width :] = raw
        return padded.view(">u8").reshape(-1).astype(np.int64)

    def windows(self, positions: npt.NDArray[np.int64], width: int) -> npt.NDArray[np.uint8]:
        """Packed bytes of ``width`` tokens from each position, one row each; zero bytes past the file's end."""
        size = width * self.token_width
        total = len(self.token_bytes)
        cached = self._windows.get(size)
        if cached is None:
            tail_start = max(0, total - size)
            tail = np.concatenate([self.token_bytes[tail_start:], np.zeros(size, dtype=np.uint8)])
            cached = (_bytes_view(self.token_bytes, size, 1), _bytes_view(tail, size, 1), tail_start)
            self._windows[size] = cached
        body, tail_view, tail_start = cached
        starts = np.minimum(positions * self.token_width, total)
        late = starts > total - size
        if late.any():
            out = np.empty(len(starts), dtype=f"S{size}")
            out[~late] = body[starts[~late]]
            out[late] = tail_view[starts[late] - tail_start]
        else:
            out = body[starts]
        return out.view(np.uint8).reshape(-1, size)

    def locate(self, positions: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Document index and offset within that document of each token position."""
        where = np.asarray(positions, dtype=np.int64).reshape(-1)
        docs = np.searchsorted(self._doc_starts, where, side="right") - 1
        return docs.astype(np.int64), where - self._doc_starts[docs]
