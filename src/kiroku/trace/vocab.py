"""The corpus vocabulary: each token string of the corpus gets a uint32 id, 1..size (0 is reserved).

The vocabulary stores no strings: a token is known by its key, the first 8 bytes of BLAKE2b of its UTF-8 form read
as a big-endian unsigned integer (`token_key`). Files, in the vocabulary's directory, each written to a temporary
file and moved into place:

- ``keys.npy``: uint64, the keys in ascending order;
- ``ids.npy``: uint32, the id of each key, aligned with ``keys.npy``;
- ``vocab.json``, written last: format ``kiroku.vocab/v1``, the tokenizer and Unicode version the tokens come
  from, ``size`` (ids in use are 1..size), the strings given their own id because their key was taken (below),
  and the SHA-256 of each ``.npy`` file.

Building (`VocabularyBuilder`) is incremental: a vocabulary loaded from disk keeps every id and new strings get
ids after the old ones. Ids are given in order of first appearance, so the same documents in the same order give
the same ids.

Key collisions: two distinct strings with the same 64-bit key are expected about once among 6 * 10**9 distinct
strings (birthday bound at 50%; about 3 * 10**-4 for 10**8 strings). They are never merged silently: when a string
seen for the first time has the key of another string this builder has already given an id, it gets an id of its
own, recorded by string in ``vocab.json`` and counted by `VocabularyBuilder.collisions`; lookups check these
strings first. A collision with a string seen only by an earlier build (whose strings are not kept) cannot be told
apart from the same string seen again, and a string absent from the corpus whose key equals a corpus key looks
up as that key's token (chance about size / 2**64 per lookup).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from kiroku.trace.errors import IndexCorrupt, IndexMissing, TraceError
from kiroku.trace.tokenize import TOKENIZER, UNICODE_VERSION

__all__ = ["FORMAT", "Vocabulary", "VocabularyBuilder", "token_key"]

FORMAT: Final = "kiroku.vocab/v1"
INFO_FILE: Final = "vocab.json"
KEYS_FILE: Final = "keys.npy"
IDS_FILE: Final = "ids.npy"
KEY_SCHEME: Final = "blake2b-64"
MAX_SIZE: Final = 0xFFFFFFFF
CACHE_LIMIT: Final = 1 << 18
"""Strings a builder keeps cached (about 30 MB of Python objects), and keys it holds in a dict before merging."""
CHECK_PERSON: Final = b"kiroku.check"

_REBUILD: Final = "rebuild the index with `kiroku index build --rebuild`"

Ids = npt.NDArray[np.uint32]
Keys = npt.NDArray[np.uint64]


def token_key(token: str) -> int:
    """The token's stable 64-bit key: BLAKE2b (8-byte digest) of its UTF-8 form, as a big-endian unsigned int."""
    return int.from_bytes(
        hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big"
    )


def _keys(tokens: list[str], key: Callable[[str], int]) -> Keys:
    if key is token_key:  # the same keys, without an int per token
        digests = b"".join(
            hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest()
            for token in tokens
        )
        return np.frombuffer(digests, dtype=">u8").astype(np.uint64)
    return np.fromiter(map(key, tokens), dtype=np.uint64, count=len(tokens))


def _check_hashes(tokens: list[str]) -> Keys:
    """A second 64-bit hash of each token, independent of its key (BLAKE2b personalised), never 0."""
    digests = b"".join(
        hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8, person=CHECK_PERSON).digest()
        for token in tokens
    )
    return np.frombuffer(digests, dtype="<u8") | np.uint64(1)


def _find(keys: Keys, ids: Ids, wanted: Keys) -> Ids:
    """The id of each wanted key in the sorted ``keys``, 0 where it is absent."""
    if len(keys) == 0:
        return np.zeros(len(wanted), dtype=np.uint32)
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, ids[at], 0).astype(np.uint32)


class VocabularyBuilder:
    """Gives token strings ids while an index is built; `save` writes the vocabulary, `load` continues one.

    ``key`` replaces `token_key` (tests force collisions with it); `Vocabulary.open` must then get the same.

    Memory stays bounded whatever the corpus: strings are cached (string to id) up to ``cache_limit`` and the cache
    is emptied when full, since the common words come back within a few documents; keys added since the last merge
    are kept in a dict of at most ``cache_limit`` entries, then merged into the sorted key and id arrays. A string
    whose key is already taken is told apart from the same string seen again, without keeping strings, by a second,
    independent 64-bit hash (`_check_hashes`) recorded per id when a string first reaches it in this process: the
    two hashes of two distinct strings agree by chance about once in 2**128.
    """

    def __init__(self, *, key: Callable[[str], int] = token_key, cache_limit: int = CACHE_LIMIT) -> None:
        if cache_limit < 1:
            raise ValueError(f"cache_limit must be at least 1, not {cache_limit}")
        self._key = key
        self._cache_limit = cache_limit
        self._cache: dict[str, int] = {}  # strings given or reached an id lately
        self._saved_keys: Keys = np.zeros(0, dtype=np.uint64)  # sorted, as last merged, saved or loaded
        self._saved_ids: Ids = np.zeros(0, dtype=np.uint32)
        self._new_keys: dict[int, int] = {}  # key -> id, added since
        # by id: the check hash of the string that reached the id in this process, 0 while none has
        self._checks: Keys = np.zeros(1024, dtype=np.uint64)
        self._own: dict[str, int] = {}  # strings whose key was taken, with their own ids
        self._size = 0

    @classmethod
    def load(
        cls, directory: Path, *, key: Callable[[str], int] = token_key, cache_limit: int = CACHE_LIMIT
    ) -> VocabularyBuilder:
        """Continue the vocabulary saved in ``directory`` (checked against its ``vocab.json`` first)."""
        saved = Vocabulary.open(directory, key=key)
        saved.verify()
        builder = cls(key=key, cache_limit=cache_limit)
        builder._saved_keys = np.array(saved.keys, dtype=np.uint64)
        builder._saved_ids = np.array(saved.ids, dtype=np.uint32)
        builder._own = dict(saved.own)
        builder._size = saved.size
        builder._checks = np.zeros(saved.size + 1024, dtype=np.uint64)
        return builder

    @property
    def size(self) -> int:
        """Ids in use: 1..size."""
        return self._size

    @property
    def collisions(self) -> int:
        """Strings given their own id because another string had their key (this build and the earlier ones)."""
        return len(self._own)

    def ids(self, tokens: list[str]) -> Ids:
        """The id of each token, giving new strings new ids (in order of first appearance)."""
        cache = self._cache
        try:
            return np.fromiter(map(cache.__getitem__, tokens), dtype=np.uint32, count=len(tokens))
        except KeyError:
            pass
        if len(cache) >= self._cache_limit:
            cache.clear()
        self._add(list(itertools.filterfalse(cache.__contains__, dict.fromkeys(tokens))))
        return np.fromiter(map(cache.__getitem__, tokens), dtype=np.uint32, count=len(tokens))

    def _add(self, strings: list[str]) -> None:
        keys = _keys(strings, self._key)
        checks = _check_hashes(strings)
        known = _find(self._saved_keys, self._saved_ids, keys).tolist()
        cache, own, new_keys = self._cache, self._own, self._new_keys
        for string, key, check, saved in zip(strings, keys.tolist(), checks.tolist(), known, strict=True):
            if string in own:  # a collision recorded earlier
                cache[string] = own[string]
                continue
            id_ = saved or new_keys.get(key, 0)
            if not id_:
                id_ = new_keys[key] = self._next()
                self._checks[id_] = check
            elif self._checks[id_] == 0:  # the first string to reach a saved key in this process takes it
                self._checks[id_] = check
            elif self._checks[id_] != check:  # the key is another string's: this string gets an id of its own
                id_ = own[string] = self._next()
            cache[string] = id_
        if len(new_keys) >= self._cache_limit:
            self._merge()

    def _next(self) -> int:
        if self._size >= MAX_SIZE:
            raise TraceError(
                f"the vocabulary is full: {MAX_SIZE} distinct tokens, the most 32-bit ids hold; "
                "index the corpus in several scopes (stages or runs)"
            )
        self._size += 1
        if self._size >= len(self._checks):
            self._checks = np.concatenate([self._checks, np.zeros(len(self._checks), dtype=np.uint64)])
        return self._size

    def _merge(self) -> None:
        """Move the keys added since the last merge into the sorted arrays."""
        if not self._new_keys:
            return
        added_keys = np.fromiter(self._new_keys.keys(), dtype=np.uint64, count=len(self._new_keys))
        added_ids = np.fromiter(self._new_keys.values(), dtype=np.uint32, count=len(self._new_keys))
        order = np.argsort(added_keys, kind="stable")
        added_keys, added_ids = added_keys[order], added_ids[order]
        at = np.searchsorted(self._saved_keys, added_keys)
        self._saved_keys = np.insert(self._saved_keys, at, added_keys)
        self._saved_ids = np.insert(self._saved_ids, at, added_ids)
        self._new_keys = {}

    def save(self, directory: Path) -> None:
        """Write ``keys.npy``, ``ids.npy`` and, last, ``vocab.json`` into ``directory``, each atomically."""
        self._merge()
        directory.mkdir(parents=True, exist_ok=True)
        files = {
            KEYS_FILE: _write_array(directory / KEYS_FILE, self._saved_keys),
            IDS_FILE: _write_array(directory / IDS_FILE, self._saved_ids),
        }
        info = {
            "format": FORMAT,
            "tokenizer": TOKENIZER,
            "unicode": UNICODE_VERSION,
            "key": KEY_SCHEME if self._key is token_key else "custom",
            "size": self._size,
            "keys": len(self._saved_keys),
            "own_ids": [[string, id_] for string, id_ in sorted(self._own.items(), key=lambda item: item[1])],
            "files": files,
        }
        _replace(
            directory / INFO_FILE, (json.dumps(info, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
        )


class Vocabulary:
    """A saved vocabulary, memory-mapped read-only, for looking tokens up."""

    def __init__(
        self,
        directory: Path,
        info: dict[str, Any],
        keys: Keys,
        ids: Ids,
        own: dict[str, int],
        key: Callable[[str], int],
    ) -> None:
        self.directory = directory
        self.info = info
        self.keys = keys
        self.ids = ids
        self.own = own
        self._key = key

    @classmethod
    def open(cls, directory: Path, *, key: Callable[[str], int] = token_key) -> Vocabulary:
        """Open the vocabulary in ``directory``; `IndexMissing` without ``vocab.json``, `IndexCorrupt` if unreadable."""
        path = directory / INFO_FILE
        if not path.is_file():
            raise IndexMissing(f"no vocabulary at {directory} ({INFO_FILE} is missing); {_REBUILD}")
        info = _read_info(path)
        arrays = []
        for name, dtype in ((KEYS_FILE, np.uint64), (IDS_FILE, np.uint32)):
            file = directory / name
            try:
                array = np.load(file, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise IndexCorrupt(f"{file} is missing or unreadable ({exc}); {_REBUILD}") from exc
            if array.dtype != dtype or array.ndim != 1 or len(array) != info["keys"]:
                raise IndexCorrupt(
                    f"{file} holds {array.dtype} {array.shape}, {path} records {info['keys']} {np.dtype(dtype)}; "
                    f"{_REBUILD}"
                )
            arrays.append(array)
        own = dict(info["own_ids"])
        return cls(directory, info, arrays[0], arrays[1], own, key)

    @property
    def size(self) -> int:
        """Ids in use: 1..size."""
        return int(self.info["size"])

    @property
    def width(self) -> int:
        """Bytes that hold the largest id: 1, 2, 3 or 4."""
        return max(1, (self.size.bit_length() + 7) // 8)

    def lookup(self, tokens: list[str]) -> Ids:
        """The id of each token, 0 for a token not in the vocabulary."""
        ids = _find(np.asarray(self.keys), np.asarray(self.ids), _keys(tokens, self._key))
        if self.own:
            for i, token in enumerate(tokens):
                if token in self.own:
                    ids[i] = self.own[token]
        return ids

    def verify(self) -> None:
        """Re-hash the files against ``vocab.json`` and check their order; `IndexCorrupt` names the file at fault."""
        for name, recorded in self.info["files"].items():
            file = self.directory / name
            try:
                with file.open("rb") as handle:
                    actual = hashlib.file_digest(handle, "sha256").hexdigest()
            except OSError as exc:
                raise IndexCorrupt(f"{file} is unreadable ({exc}); {_REBUILD}") from exc
            if actual != recorded:
                raise IndexCorrupt(f"{file} does not match the SHA-256 recorded in {INFO_FILE}; {_REBUILD}")
        keys, ids = np.asarray(self.keys), np.asarray(self.ids)
        if len(keys) > 1 and not bool(np.all(keys[1:] > keys[:-1])):
            raise IndexCorrupt(f"{self.directory / KEYS_FILE} is not in strictly ascending order; {_REBUILD}")
        if len(ids) and (int(ids.min()) < 1 or int(ids.max()) > self.size):
            raise IndexCorrupt(f"{self.directory / IDS_FILE} holds ids outside 1..{self.size}; {_REBUILD}")


def _read_info(path: Path) -> dict[str, Any]:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(f"{path} is unreadable ({exc}); {_REBUILD}") from exc
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise IndexCorrupt(f"{path} is not a {FORMAT} file; {_REBUILD}")
    for field in ("size", "keys", "own_ids", "files"):
        if not _valid(field, info.get(field)):
            raise IndexCorrupt(f"{path}: field {field!r} is missing or invalid; {_REBUILD}")
    return info


def _valid(field: str, value: object) -> bool:
    if field in ("size", "keys"):
        return isinstance(value, int) and 0 <= value <= MAX_SIZE
    if field == "own_ids":
        return isinstance(value, list) and all(
            isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], int)
            for p in value
        )
    return isinstance(value, dict) and set(value) == {KEYS_FILE, IDS_FILE}


def _write_array(path: Path, array: npt.NDArray[Any]) -> str:
    """Save ``array`` as ``.npy`` at ``path`` atomically; its SHA-256."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        np.save(handle, array, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    with tmp.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    os.replace(tmp, path)
    return digest


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
