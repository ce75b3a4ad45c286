"""The corpus vocabulary against a plain dict built from the same real text, on disk and in memory."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from kiroku.trace.errors import IndexCorrupt, IndexMissing
from kiroku.trace.tokenize import TOKENIZER, token_strings
from kiroku.trace.vocab import FORMAT, Vocabulary, VocabularyBuilder, token_key

LICENSES = sorted(p for p in Path("/usr/share/common-licenses").iterdir() if p.is_file())
JAPANESE = "記録は学習に使われたデータを確かめる仕組みです。東京タワーは一九五八年に完成しました。"


def documents() -> list[list[str]]:
    """Real documents as token lists: each license, then a Japanese sentence."""
    docs = [token_strings(p.read_text(encoding="utf-8", errors="replace")) for p in LICENSES]
    return [d for d in docs if d] + [token_strings(JAPANESE)]


def first_appearance(docs: list[list[str]]) -> dict[str, int]:
    """The brute force: ids 1, 2, ... in order of first appearance."""
    ids: dict[str, int] = {}
    for doc in docs:
        for token in doc:
            ids.setdefault(token, len(ids) + 1)
    return ids


def weak_key(token: str) -> int:
    """256 keys only, so distinct strings collide often."""
    return token_key(token) & 0xFF


def test_token_key_is_blake2b_of_utf8() -> None:
    for token in ("", "kiroku", "東京", "café"):
        digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
        assert token_key(token) == int.from_bytes(digest, "big")
    assert token_key("kiroku") == 0x3261E6C210C456DF  # printf kiroku | b2sum -l 64
    assert 0 <= token_key("x") < 2**64


def test_ids_follow_first_appearance(tmp_path: Path) -> None:
    docs = documents()
    expected = first_appearance(docs)
    builder = VocabularyBuilder()
    for doc in docs:
        ids = builder.ids(doc)
        assert ids.dtype == np.uint32
        assert ids.tolist() == [expected[t] for t in doc]
    assert builder.size == len(expected)
    assert builder.collisions == 0
    builder.save(tmp_path)
    vocabulary = Vocabulary.open(tmp_path)
    vocabulary.verify()
    assert vocabulary.size == len(expected)
    for doc in docs:
        assert vocabulary.lookup(doc).tolist() == [expected[t] for t in doc]


def test_unknown_tokens_look_up_as_zero(tmp_path: Path) -> None:
    builder = VocabularyBuilder()
    builder.ids(token_strings("the quick brown fox"))
    builder.save(tmp_path)
    vocabulary = Vocabulary.open(tmp_path)
    assert vocabulary.lookup(["quick", "zebra", "fox", "狐", ""]).tolist() == [2, 0, 4, 0, 0]
    assert vocabulary.lookup([]).tolist() == []


def test_ids_stay_the_same_across_save_load_and_continue(tmp_path: Path) -> None:
    docs = documents()
    expected = first_appearance(docs)
    half = len(docs) // 2
    first = VocabularyBuilder()
    for doc in docs[:half]:
        first.ids(doc)
    first.save(tmp_path)
    before = Vocabulary.open(tmp_path)
    old = {t: int(i) for doc in docs[:half] for t, i in zip(doc, before.lookup(doc), strict=True)}
    saved_size = before.size

    later = VocabularyBuilder.load(tmp_path)
    assert later.size == saved_size
    for doc in docs:  # the old documents again, then new ones
        assert later.ids(doc).tolist() == [expected[t] for t in doc]
    later.save(tmp_path)
    after = Vocabulary.open(tmp_path)
    after.verify()
    assert after.size == len(expected) > saved_size
    assert {t: int(i) for doc in docs[:half] for t, i in zip(doc, after.lookup(doc), strict=True)} == old
    keys, ids = np.asarray(after.keys), np.asarray(after.ids)
    assert np.all(keys[1:] > keys[:-1])
    assert sorted(ids.tolist()) == list(range(1, len(expected) + 1))
    assert dict(zip(keys.tolist(), ids.tolist(), strict=True)) == {
        token_key(t): i for t, i in expected.items()
    }


def test_saving_twice_in_one_build_keeps_ids(tmp_path: Path) -> None:
    docs = documents()
    expected = first_appearance(docs)
    builder = VocabularyBuilder()
    for number, doc in enumerate(docs):
        assert builder.ids(doc).tolist() == [expected[t] for t in doc]
        if number % 5 == 0:
            builder.save(tmp_path)
    builder.save(tmp_path)
    vocabulary = Vocabulary.open(tmp_path)
    vocabulary.verify()
    assert all(vocabulary.lookup(doc).tolist() == [expected[t] for t in doc] for doc in docs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ids.npy", "keys.npy", "vocab.json"]


def test_vocab_json_records_format_tokenizer_size_and_hashes(tmp_path: Path) -> None:
    builder = VocabularyBuilder()
    builder.ids(token_strings("one two three two one"))
    builder.save(tmp_path)
    info = json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8"))
    assert info["format"] == FORMAT == "kiroku.vocab/v1"
    assert info["tokenizer"] == TOKENIZER
    assert info["size"] == 3
    for name in ("keys.npy", "ids.npy"):
        assert info["files"][name] == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
    assert np.load(tmp_path / "keys.npy").dtype == np.uint64
    assert np.load(tmp_path / "ids.npy").dtype == np.uint32


def test_empty_vocabulary(tmp_path: Path) -> None:
    builder = VocabularyBuilder()
    assert builder.ids([]).tolist() == []
    builder.save(tmp_path)
    vocabulary = Vocabulary.open(tmp_path)
    vocabulary.verify()
    assert vocabulary.size == 0 and vocabulary.width == 1
    assert vocabulary.lookup(["anything"]).tolist() == [0]
    assert VocabularyBuilder.load(tmp_path).ids(["anything"]).tolist() == [1]


@pytest.mark.parametrize("size,width", [(1, 1), (255, 1), (256, 2), (65535, 2), (65536, 3)])
def test_width_holds_the_largest_id(tmp_path: Path, size: int, width: int) -> None:
    builder = VocabularyBuilder()
    builder.ids([f"w{i}" for i in range(size)])
    builder.save(tmp_path)
    assert Vocabulary.open(tmp_path).width == width


@pytest.mark.parametrize("size,width", [(2**24 - 1, 3), (2**24, 4), (2**32 - 1, 4)])
def test_width_of_large_vocabularies(tmp_path: Path, size: int, width: int) -> None:
    """A vocabulary written by hand whose one key has the largest id."""
    np.save(tmp_path / "keys.npy", np.array([token_key("big")], dtype=np.uint64))
    np.save(tmp_path / "ids.npy", np.array([size], dtype=np.uint32))
    files = {n: hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in ("keys.npy", "ids.npy")}
    info = {"format": FORMAT, "tokenizer": TOKENIZER, "size": size, "keys": 1, "own_ids": [], "files": files}
    (tmp_path / "vocab.json").write_text(json.dumps(info), encoding="utf-8")
    vocabulary = Vocabulary.open(tmp_path)
    vocabulary.verify()
    assert vocabulary.width == width
    assert vocabulary.lookup(["big", "small"]).tolist() == [size, 0]


def test_colliding_strings_keep_their_own_ids(tmp_path: Path) -> None:
    docs = documents()
    expected = first_appearance(docs)
    builder = VocabularyBuilder(key=weak_key)
    for doc in docs:
        assert builder.ids(doc).tolist() == [expected[t] for t in doc]  # never merged
    distinct_keys = len({weak_key(t) for t in expected})
    assert distinct_keys <= 256 < len(expected)
    assert builder.collisions == len(expected) - distinct_keys
    builder.save(tmp_path)
    info = json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8"))
    assert len(info["own_ids"]) == builder.collisions
    assert info["key"] == "custom"
    vocabulary = Vocabulary.open(tmp_path, key=weak_key)
    vocabulary.verify()
    assert all(vocabulary.lookup(doc).tolist() == [expected[t] for t in doc] for doc in docs)

    # a continued build knows the recorded strings and keeps giving distinct strings distinct ids
    later = VocabularyBuilder.load(tmp_path, key=weak_key)
    assert later.collisions == builder.collisions
    assert all(later.ids(doc).tolist() == [expected[t] for t in doc] for doc in reversed(docs))
    fresh = [f"new{i}" for i in range(300)]
    ids = later.ids(fresh).tolist()
    assert ids == list(range(len(expected) + 1, len(expected) + 301))
    assert later.collisions == builder.collisions + 300  # every one of 256 keys was taken already


def test_collision_between_new_strings_in_one_build() -> None:
    builder = VocabularyBuilder(key=lambda token: 7)
    assert builder.ids(["a", "b", "a", "c"]).tolist() == [1, 2, 1, 3]
    assert builder.collisions == 2


def test_missing_vocabulary(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing, match=r"vocab.json"):
        Vocabulary.open(tmp_path / "nowhere")
    with pytest.raises(IndexMissing):
        VocabularyBuilder.load(tmp_path)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    builder = VocabularyBuilder()
    for doc in documents():
        builder.ids(doc)
    builder.save(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b"\xff\xfe", b"[]", b'{"format": "other"}'],
    ids=["empty", "garbled", "binary", "list", "format"],
)
def test_garbled_vocab_json(saved: Path, content: bytes) -> None:
    (saved / "vocab.json").write_bytes(content)
    with pytest.raises(IndexCorrupt, match=r"vocab.json"):
        Vocabulary.open(saved)


@pytest.mark.parametrize("field", ["size", "keys", "own_ids", "files"])
def test_vocab_json_missing_a_field(saved: Path, field: str) -> None:
    info = json.loads((saved / "vocab.json").read_text(encoding="utf-8"))
    del info[field]
    (saved / "vocab.json").write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(IndexCorrupt, match=field):
        Vocabulary.open(saved)


def test_corrupted_keys_are_detected(saved: Path) -> None:
    data = bytearray((saved / "keys.npy").read_bytes())
    data[-3] ^= 0x40  # one bit of the last key
    (saved / "keys.npy").write_bytes(bytes(data))
    vocabulary = Vocabulary.open(saved)  # same shape: opening is cheap and does not notice
    with pytest.raises(IndexCorrupt, match=r"keys.npy"):
        vocabulary.verify()
    with pytest.raises(IndexCorrupt, match=r"keys.npy"):
        VocabularyBuilder.load(saved)


def test_corrupted_ids_are_detected(saved: Path) -> None:
    ids = np.load(saved / "ids.npy")
    ids[0] += 1
    np.save(saved / "ids.npy", ids)
    with pytest.raises(IndexCorrupt, match=r"ids.npy"):
        Vocabulary.open(saved).verify()


@pytest.mark.parametrize("name", ["keys.npy", "ids.npy"])
def test_truncated_or_missing_arrays(saved: Path, name: str) -> None:
    data = (saved / name).read_bytes()
    (saved / name).write_bytes(data[: len(data) - 8])
    with pytest.raises(IndexCorrupt, match=name):
        Vocabulary.open(saved)
    (saved / name).unlink()
    with pytest.raises(IndexCorrupt, match=name):
        Vocabulary.open(saved)


def test_unsorted_keys_with_matching_hash_are_detected(saved: Path) -> None:
    """Keys rewritten out of order (and the hash updated) still fail verification."""
    keys = np.load(saved / "keys.npy")[::-1].copy()
    np.save(saved / "keys.npy", keys)
    info = json.loads((saved / "vocab.json").read_text(encoding="utf-8"))
    info["files"]["keys.npy"] = hashlib.sha256((saved / "keys.npy").read_bytes()).hexdigest()
    (saved / "vocab.json").write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="ascending"):
        Vocabulary.open(saved).verify()


@pytest.mark.parametrize("cache_limit", [1, 7, 1000])
def test_a_small_cache_gives_the_same_ids(tmp_path: Path, cache_limit: int) -> None:
    """Strings dropped from the cache come back to their ids (told apart from colliding strings by the check hash),
    and keys merged into the sorted arrays mid-build are found there."""
    docs = documents()
    expected = first_appearance(docs)
    builder = VocabularyBuilder(cache_limit=cache_limit)
    for doc in [*docs, *reversed(docs)]:
        assert builder.ids(doc).tolist() == [expected[t] for t in doc]
        assert len(builder._cache) <= cache_limit + len(set(doc))
        assert len(builder._new_keys) < max(cache_limit, 2)
    assert builder.collisions == 0
    builder.save(tmp_path)
    vocabulary = Vocabulary.open(tmp_path)
    assert all(vocabulary.lookup(doc).tolist() == [expected[t] for t in doc] for doc in docs)


def test_a_small_cache_still_keeps_colliding_strings_apart() -> None:
    docs = documents()
    expected = first_appearance(docs)
    builder = VocabularyBuilder(key=weak_key, cache_limit=3)
    for doc in [*docs, *docs]:
        assert builder.ids(doc).tolist() == [expected[t] for t in doc]
    assert builder.collisions == len(expected) - len({weak_key(t) for t in expected})


def test_cache_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="cache_limit must be at least 1"):
        VocabularyBuilder(cache_limit=0)
