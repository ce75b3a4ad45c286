"""A shard's token file and suffix array: layout, widths, sparse sampling and damaged files, against brute force."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiroku.trace.errors import IndexCorrupt, IndexMissing
from kiroku.trace.suffix import SuffixShard, write_suffix_files

LICENSES = Path("/usr/share/common-licenses")


def license_docs() -> tuple[list[np.ndarray], int]:
    """The English licence texts as documents of word ids (first-seen numbering)."""
    vocab: dict[str, int] = {}
    docs = []
    for path in sorted(LICENSES.iterdir()):
        if path.is_symlink():
            continue
        words = re.findall(r"\w+|[^\w\s]", path.read_text(encoding="utf-8").lower())
        docs.append(np.array([vocab.setdefault(w, len(vocab) + 1) for w in words], dtype=np.uint32))
    return docs, len(vocab)


def token_stream(docs: list[np.ndarray]) -> list[int]:
    out: list[int] = []
    for doc in docs:
        out.extend(int(t) for t in doc)
        out.append(0)
    return out


def brute_suffix_order(stream: list[int], sparse: int = 1) -> list[int]:
    return sorted(range(0, len(stream), sparse), key=lambda p: stream[p:])


def test_layout_matches_the_shared_model(tmp_path: Path) -> None:
    docs = [np.array([5, 3, 9]), np.array([], dtype=np.int64), np.array([9, 5])]
    info = write_suffix_files(tmp_path, docs, vocab_size=9)
    shard = SuffixShard.open(tmp_path)
    assert shard.tokens(0, shard.n_tokens).tolist() == [5, 3, 9, 0, 0, 9, 5, 0]
    assert shard.tokens(0, 8).dtype == np.uint32
    assert shard.doc_starts.tolist() == [0, 4, 5, 8]
    assert (shard.n_tokens, shard.n_docs, shard.sparse) == (8, 3, 1)
    assert (info.token_width, info.pointer_width) == (1, 1)
    docs_at, offsets = shard.locate(np.array([0, 2, 3, 4, 5, 6, 7]))
    assert docs_at.tolist() == [0, 0, 0, 1, 2, 2, 2]
    assert offsets.tolist() == [0, 2, 3, 0, 0, 1, 2]


def test_suffix_json_records_sizes_and_hashes(tmp_path: Path) -> None:
    docs, vocab = license_docs()
    info = write_suffix_files(tmp_path, docs, vocab_size=vocab)
    data = json.loads((tmp_path / "suffix.json").read_text())
    assert data["format"] == "kiroku.suffix/v1"
    assert data["n_tokens"] == sum(len(d) + 1 for d in docs)
    assert data["n_docs"] == len(docs)
    assert data["token_width"] == 2  # a few thousand words
    assert data["pointer_width"] == 2  # fewer than 65,536 tokens
    assert 256 < data["n_tokens"] <= 65_536
    assert data["sparse"] == 1
    assert set(data["sha256"]) == {"tokens.npy", "suffixes.npy", "doc_starts.npy"}
    assert not list(tmp_path.glob("*.tmp"))
    SuffixShard.open(tmp_path).verify()
    assert info.bytes_per_token == 4.0


def test_real_text_suffix_array_is_sorted(tmp_path: Path) -> None:
    docs, vocab = license_docs()
    write_suffix_files(tmp_path, docs, vocab_size=vocab)
    shard = SuffixShard.open(tmp_path)
    stream = shard.tokens(0, shard.n_tokens)
    assert stream.tolist() == token_stream(docs)
    order = shard.pointers(np.arange(shard.n_suffixes))
    assert sorted(order.tolist()) == list(range(shard.n_tokens))
    # adjacent suffixes in order: compare the first 64 tokens, then in full where they tie
    for a, b in zip(order[:-1].tolist(), order[1:].tolist(), strict=True):
        left, right = stream[a : a + 64].tolist(), stream[b : b + 64].tolist()
        if left == right:
            left, right = stream[a:].tolist(), stream[b:].tolist()
        assert left < right


@pytest.mark.parametrize(
    ("vocab_size", "token_width"),
    [(200, 1), (255, 1), (256, 2), (65_535, 2), (65_536, 3), (2**24, 4), (2**32 - 1, 4)],
)
def test_every_token_width(tmp_path: Path, vocab_size: int, token_width: int) -> None:
    rng = np.random.default_rng(vocab_size % 1000)
    # ids near the top of the vocabulary, so every byte of the width is used
    alphabet = np.array([vocab_size, vocab_size - 1, max(1, vocab_size // 2), 1], dtype=np.uint32)
    docs = [alphabet[rng.integers(0, 4, size=int(rng.integers(0, 30)))] for _ in range(6)]
    info = write_suffix_files(tmp_path, docs, vocab_size=vocab_size)
    shard = SuffixShard.open(tmp_path)
    assert info.token_width == token_width
    stream = token_stream(docs)
    assert shard.tokens(0, shard.n_tokens).tolist() == stream
    assert shard.pointers(np.arange(shard.n_suffixes)).tolist() == brute_suffix_order(stream)


@pytest.mark.parametrize("pointer_width", [1, 2, 3, 4, 5, 8])
def test_every_pointer_width(tmp_path: Path, pointer_width: int) -> None:
    rng = np.random.default_rng(pointer_width)
    docs = [rng.integers(1, 4, size=int(rng.integers(0, 40))) for _ in range(5)]
    info = write_suffix_files(tmp_path, docs, vocab_size=3, pointer_width=pointer_width)
    shard = SuffixShard.open(tmp_path)
    assert info.pointer_width == pointer_width
    assert shard.pointers(np.arange(shard.n_suffixes)).tolist() == brute_suffix_order(token_stream(docs))


def test_pointer_width_grows_with_the_shard(tmp_path: Path) -> None:
    assert write_suffix_files(tmp_path / "a", [np.ones(255, dtype=np.int64)], vocab_size=1).pointer_width == 1
    assert write_suffix_files(tmp_path / "b", [np.ones(256, dtype=np.int64)], vocab_size=1).pointer_width == 2
    assert (
        write_suffix_files(tmp_path / "c", [np.ones(65_536, dtype=np.int64)], vocab_size=1).pointer_width == 3
    )
    with pytest.raises(ValueError, match="pointer_width"):
        write_suffix_files(tmp_path / "d", [np.ones(300, dtype=np.int64)], vocab_size=1, pointer_width=1)


@pytest.mark.parametrize("sparse", [2, 3, 4])
def test_sparse_keeps_every_kth_suffix_in_order(tmp_path: Path, sparse: int) -> None:
    docs, vocab = license_docs()
    docs = docs[:3]
    info = write_suffix_files(tmp_path, docs, vocab_size=vocab, sparse=sparse)
    shard = SuffixShard.open(tmp_path)
    stream = token_stream(docs)
    assert shard.n_suffixes == -(-len(stream) // sparse)
    assert shard.pointers(np.arange(shard.n_suffixes)).tolist() == brute_suffix_order(stream, sparse)
    assert info.index_bytes == len(stream) * info.token_width + shard.n_suffixes * info.pointer_width


@settings(max_examples=60, deadline=None)
@given(
    docs=st.lists(st.lists(st.integers(1, 3), max_size=25), max_size=6),
    sparse=st.integers(1, 4),
)
def test_suffix_order_matches_brute_force(docs: list[list[int]], sparse: int) -> None:
    arrays = [np.array(d, dtype=np.int64) for d in docs]
    with tempfile.TemporaryDirectory() as directory:
        write_suffix_files(Path(directory), arrays, vocab_size=3, sparse=sparse)
        shard = SuffixShard.open(Path(directory))
        stream = token_stream(arrays)
        assert shard.tokens(0, shard.n_tokens).tolist() == stream
        assert shard.pointers(np.arange(shard.n_suffixes)).tolist() == brute_suffix_order(stream, sparse)
        positions = np.arange(len(stream))
        docs_at, offsets = shard.locate(positions)
        starts = np.cumsum([0] + [len(d) + 1 for d in docs])
        assert (starts[docs_at] + offsets == positions).all()
        assert ((offsets >= 0) & (offsets <= np.array([len(d) for d in docs] or [0])[docs_at])).all()


def test_windows_are_zero_padded_past_the_end(tmp_path: Path) -> None:
    write_suffix_files(tmp_path, [np.array([300, 2, 7])], vocab_size=300)
    shard = SuffixShard.open(tmp_path)
    rows = shard.windows(np.array([0, 2, 3, 4]), 3)
    assert rows.tolist() == [
        [1, 44, 0, 2, 0, 7],
        [0, 7, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ]


def test_an_empty_shard_opens(tmp_path: Path) -> None:
    info = write_suffix_files(tmp_path, [], vocab_size=10)
    shard = SuffixShard.open(tmp_path)
    assert (info.n_tokens, shard.n_docs, shard.n_suffixes) == (0, 0, 0)
    assert shard.tokens(0, 5).tolist() == []
    assert shard.doc_starts.tolist() == [0]


def test_rebuilding_replaces_the_old_files(tmp_path: Path) -> None:
    write_suffix_files(tmp_path, [np.array([1, 2, 3])], vocab_size=3)
    write_suffix_files(tmp_path, [np.array([3, 3])], vocab_size=3, sparse=2)
    shard = SuffixShard.open(tmp_path)
    shard.verify()
    assert shard.tokens(0, shard.n_tokens).tolist() == [3, 3, 0]
    assert shard.sparse == 2


def test_token_ids_out_of_range_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"1\.\.5"):
        write_suffix_files(tmp_path, [np.array([1, 6])], vocab_size=5)
    with pytest.raises(ValueError, match="separator"):
        write_suffix_files(tmp_path, [np.array([1, 0, 2])], vocab_size=5)
    with pytest.raises(ValueError, match="sparse"):
        write_suffix_files(tmp_path, [np.array([1])], vocab_size=5, sparse=0)


def _built(tmp_path: Path) -> Path:
    docs, vocab = license_docs()
    write_suffix_files(tmp_path, docs[:4], vocab_size=vocab)
    return tmp_path


def test_no_index_is_index_missing(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing, match=r"suffix\.json is missing.*kiroku index build"):
        SuffixShard.open(tmp_path / "nowhere")


@pytest.mark.parametrize("name", ["tokens.npy", "suffixes.npy", "doc_starts.npy"])
def test_a_truncated_file_is_index_corrupt(tmp_path: Path, name: str) -> None:
    path = _built(tmp_path) / name
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 5])
    with pytest.raises(IndexCorrupt, match=re.escape(name)):
        SuffixShard.open(tmp_path)


@pytest.mark.parametrize("name", ["tokens.npy", "suffixes.npy", "doc_starts.npy"])
def test_a_missing_file_is_index_corrupt(tmp_path: Path, name: str) -> None:
    (_built(tmp_path) / name).unlink()
    with pytest.raises(IndexCorrupt, match=f"{re.escape(name)} is missing"):
        SuffixShard.open(tmp_path)


def test_a_file_of_the_wrong_size_is_index_corrupt(tmp_path: Path) -> None:
    directory = _built(tmp_path)
    np.save(directory / "suffixes.npy", np.zeros(12, dtype=np.uint8))
    with pytest.raises(IndexCorrupt, match=r"suffixes\.npy holds"):
        SuffixShard.open(directory)


def test_garbled_suffix_json_is_index_corrupt(tmp_path: Path) -> None:
    directory = _built(tmp_path)
    info = directory / "suffix.json"
    info.write_text("{not json")
    with pytest.raises(IndexCorrupt, match="cannot be read"):
        SuffixShard.open(directory)
    data = json.loads(json.dumps({"format": "kiroku.suffix/v1", "n_tokens": "many"}))
    info.write_text(json.dumps(data))
    with pytest.raises(IndexCorrupt, match="n_tokens"):
        SuffixShard.open(directory)
    info.write_text(json.dumps({"format": "other/v9"}))
    with pytest.raises(IndexCorrupt, match="format"):
        SuffixShard.open(directory)


def test_verify_finds_an_altered_byte(tmp_path: Path) -> None:
    directory = _built(tmp_path)
    shard = SuffixShard.open(directory)
    shard.verify()
    path = directory / "tokens.npy"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match=r"tokens\.npy does not match"):
        SuffixShard.open(directory).verify()
