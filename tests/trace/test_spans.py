"""Maximal spans over suffix-array shards, checked against a naive scan of the documents."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiroku.trace.spans import Span, find_spans, longest_matches, merge_matches, span_hits
from kiroku.trace.suffix import SuffixShard, write_suffix_files

LICENSES = Path("/usr/share/common-licenses")

# Japanese prose written for this test (characters are the tokens)
JAPANESE = [
    "川沿いの古い町には、朝になると豆腐屋の笛の音が響く。店主の佐藤さんは四十年同じ釜で大豆を煮てきた。"
    "水は裏山から引いた湧き水で、冬でも温度がほとんど変わらないという。",
    "駅前の図書館は昨年改装され、窓際に長い机が置かれた。放課後には中学生が並んで宿題をし、"
    "夕方になると仕事帰りの人が新聞を読みに来る。館長は「静かな居場所が町に一つあればいい」と話す。",
    "秋祭りの準備は九月の初めに始まる。子どもたちは太鼓の練習をし、大人は山車の飾りを直す。"
    "豆腐屋の佐藤さんも毎年、祭りの朝には油揚げを配っている。",
]


def naive_spans(
    docs: Sequence[Iterable[Any]], query: Iterable[Any], min_length: int
) -> list[tuple[int, int, int]]:
    """Maximal spans by scanning the documents: strings of one character per token, searched with str.find."""
    ids = sorted({int(t) for d in docs for t in d} | {int(t) for t in query if t})
    code = {t: chr(0x100 + i) for i, t in enumerate(ids)}
    text = "\x00".join("".join(code[int(t)] for t in d) for d in docs) + "\x00"
    q = [int(t) for t in query]
    pattern = "".join(code[t] if t else "\x00" for t in q)
    longest = [0] * len(q)
    end = 0
    for start in range(len(q)):
        end = max(end, start)
        while end < len(q) and q[end] != 0 and text.find(pattern[start : end + 1]) >= 0:
            end += 1
        longest[start] = end - start
    spans = []
    for start, length in enumerate(longest):
        if length >= min_length and (start == 0 or longest[start - 1] <= length):
            needle, count, at = pattern[start : start + length], 0, text.find(pattern[start : start + length])
            while at >= 0:
                count += 1
                at = text.find(needle, at + 1)
            spans.append((start, start + length, count))
    return spans


def docs_holding(docs: Sequence[Iterable[Any]], tokens: Iterable[int]) -> set[int]:
    """Indexes of the documents in which ``tokens`` occur."""
    needle = list(tokens)
    found = set()
    for index, doc in enumerate(docs):
        items = [int(t) for t in doc]
        if any(items[i : i + len(needle)] == needle for i in range(len(items) - len(needle) + 1)):
            found.add(index)
    return found


def build(
    directory: Path, docs: Sequence[np.ndarray], vocab_size: int, sparse: int = 1, shards: int = 1
) -> list[SuffixShard]:
    """Shards of consecutive documents."""
    bounds = np.linspace(0, len(docs), shards + 1).astype(int)
    opened = []
    for number in range(shards):
        path = directory / f"shard-{number:05d}"
        write_suffix_files(
            path, docs[bounds[number] : bounds[number + 1]], vocab_size=vocab_size, sparse=sparse
        )
        opened.append(SuffixShard.open(path))
    return opened


def triples(spans: list[Span]) -> list[tuple[int, int, int]]:
    return [(s.start, s.end, s.count) for s in spans]


def words(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text.lower())


def license_corpus() -> tuple[list[np.ndarray], dict[str, int]]:
    vocab: dict[str, int] = {}
    docs = []
    for path in sorted(LICENSES.iterdir()):
        if not path.is_symlink():
            tokens = words(path.read_text(encoding="utf-8"))
            docs.append(np.array([vocab.setdefault(w, len(vocab) + 1) for w in tokens], dtype=np.uint32))
    return docs, vocab


def license_query(docs: list[np.ndarray], vocab: dict[str, int]) -> np.ndarray:
    """Passages of several licences (some shared between versions) among prose that is not in them."""
    prose = words(
        (np.__doc__ or "")
        + (re.__doc__ or "")
        + "You may copy and distribute verbatim copies of this document, but the weather today is fine."
    )
    unknown = len(vocab) + 1
    other = np.array([vocab.get(w, unknown + i % 7) for i, w in enumerate(prose)], dtype=np.uint32)
    parts = [
        other[:40], docs[7][100:260], other[40:80], docs[9][500:620], np.array([0], dtype=np.uint32),
        docs[9][620:700], other[80:120], docs[2][10:60], docs[11][3000:3040], other[120:160],
    ]  # fmt: skip
    return np.concatenate(parts)


@pytest.fixture(scope="module")
def licenses(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[np.ndarray], np.ndarray, int, Path]:
    docs, vocab = license_corpus()
    return docs, license_query(docs, vocab), len(vocab), tmp_path_factory.mktemp("licenses")


@pytest.mark.parametrize(("sparse", "shards"), [(1, 1), (1, 3), (2, 1), (2, 2), (4, 3)])
@pytest.mark.parametrize("min_length", [4, 8, 20])
def test_real_text_spans_equal_the_naive_scan(
    licenses: tuple[list[np.ndarray], np.ndarray, int, Path], sparse: int, shards: int, min_length: int
) -> None:
    docs, query, vocab, root = licenses
    if min_length < sparse:
        pytest.skip("a sparse index needs min_length >= sparse")
    opened = build(root / f"{sparse}-{shards}-{min_length}", docs, vocab, sparse, shards)
    expected = naive_spans(docs, query, min_length)
    assert len(expected) >= 5 and any(count > 1 for _, _, count in expected)
    found = find_spans(opened, query, min_length)
    assert triples(found) == expected
    for span in found:
        assert span.tokens == tuple(int(t) for t in query[span.start : span.end])
        assert sum(r.count for r in span.ranges) == span.count
        if sparse == 1:
            assert all(r.hi - r.lo == r.count and r.offset == 0 for r in span.ranges)


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_random_small_alphabets_equal_the_naive_scan(data: st.DataObject) -> None:
    alphabet = data.draw(st.integers(1, 4), label="alphabet")
    token = st.integers(1, alphabet)
    docs = data.draw(st.lists(st.lists(token, max_size=40), min_size=1, max_size=6), label="docs")
    pieces = []
    for _ in range(data.draw(st.integers(1, 4))):
        if data.draw(st.booleans()):
            doc = data.draw(st.sampled_from(docs))
            at = data.draw(st.integers(0, len(doc)))
            pieces.extend(doc[at : at + data.draw(st.integers(0, 30))])
        else:
            pieces.extend(data.draw(st.lists(st.integers(0, alphabet + 1), max_size=12)))
    query = np.array(pieces, dtype=np.int64)
    min_length = data.draw(st.integers(1, 8), label="min_length")
    sparse = data.draw(st.sampled_from([k for k in (1, 2, 4) if k <= min_length]), label="sparse")
    shards = data.draw(st.integers(1, min(3, len(docs))), label="shards")
    arrays = [np.array(d, dtype=np.int64) for d in docs]
    with tempfile.TemporaryDirectory() as directory:
        opened = build(Path(directory), arrays, alphabet, sparse, shards)
        assert triples(find_spans(opened, query, min_length)) == naive_spans(docs, query, min_length)


@pytest.mark.parametrize("sparse", [2, 4])
def test_sparse_answers_equal_dense_ones(
    licenses: tuple[list[np.ndarray], np.ndarray, int, Path], sparse: int
) -> None:
    docs, query, vocab, root = licenses
    dense = build(root / f"dense-{sparse}", docs, vocab)
    thin = build(root / f"thin-{sparse}", docs, vocab, sparse)
    for min_length in (sparse, sparse + 1, 8):
        assert triples(find_spans(thin, query, min_length)) == triples(find_spans(dense, query, min_length))


@pytest.mark.parametrize(
    ("vocab_size", "pointer_width"),
    [(3, 1), (255, 2), (4_000, 2), (70_000, 3), (2**24 + 5, 4), (2**32 - 1, 5)],
)
@pytest.mark.parametrize("sparse", [1, 2])
def test_every_token_and_pointer_width(
    tmp_path: Path, vocab_size: int, pointer_width: int, sparse: int
) -> None:
    rng = np.random.default_rng(vocab_size)
    alphabet = np.array([1, 2, vocab_size // 2 + 1, vocab_size - 1, vocab_size], dtype=np.uint32)[-3:]
    longest = 60 if pointer_width == 1 else 200  # a one-byte pointer holds 256 positions
    docs = [alphabet[rng.integers(0, 3, size=int(rng.integers(longest // 4, longest)))] for _ in range(8)]
    query = np.concatenate(
        [docs[1][20:60], alphabet[rng.integers(0, 3, size=60)], docs[6][5:40], docs[3][:30]]
    )
    for number, chunk in enumerate((docs[:4], docs[4:])):
        write_suffix_files(
            tmp_path / str(number), chunk, vocab_size=vocab_size, sparse=sparse, pointer_width=pointer_width
        )
    opened = [SuffixShard.open(tmp_path / "0"), SuffixShard.open(tmp_path / "1")]
    assert opened[0].info.pointer_width == pointer_width
    assert triples(find_spans(opened, query, 6)) == naive_spans(docs, query, 6)


def test_unknown_tokens_break_spans(tmp_path: Path) -> None:
    docs, vocab = license_corpus()
    shards = build(tmp_path, docs, len(vocab))
    passage = docs[7][200:260].copy()
    for broken in (0, len(vocab) + 3, 2**32 - 1):
        query = passage.copy()
        query[30] = broken
        found = find_spans(shards, query, 8)
        assert triples(found) == naive_spans(docs, query, 8)
        assert all(not span.start <= 30 < span.end for span in found)
        assert (found[0].start, found[0].end) == (0, 30)
        assert found[-1].start == 31 and found[-1].end == 60


def test_spans_never_cross_documents(tmp_path: Path) -> None:
    first = np.array([9, 9, 1, 2, 3, 4, 5, 6], dtype=np.uint32)
    second = np.array([7, 8, 10, 11, 12, 9, 9], dtype=np.uint32)
    shards = build(tmp_path, [first, second], 12)
    query = np.concatenate([first[2:], second[:5]])  # 1 2 3 4 5 6 | 7 8 10 11 12
    found = find_spans(shards, query, 3)
    assert [(s.start, s.end, s.count) for s in found] == [(0, 6, 1), (6, 11, 1)]


def test_span_hits_point_at_the_span(licenses: tuple[list[np.ndarray], np.ndarray, int, Path]) -> None:
    docs, query, vocab, root = licenses
    for sparse, shards in ((1, 1), (1, 3), (2, 2), (4, 3)):
        opened = build(root / f"hits-{sparse}-{shards}", docs, vocab, sparse, shards)
        starts = np.linspace(0, len(docs), shards + 1).astype(int)
        for span in find_spans(opened, query, 6):
            holders = docs_holding(docs, span.tokens)
            for limit in (1, 3, 50):
                hits = span_hits(opened, span, limit)
                assert hits == span_hits(opened, span, limit)
                assert len(hits) == min(limit, len(holders))
                assert len({(h.shard, h.doc_index) for h in hits}) == len(hits)
                for hit in hits:
                    shard = opened[hit.shard]
                    start = int(shard.doc_starts[hit.doc_index]) + hit.offset
                    assert start == hit.position
                    assert tuple(shard.tokens(start, start + span.length).tolist()) == span.tokens
                    assert int(starts[hit.shard]) + hit.doc_index in holders
                assert hits == sorted(hits, key=lambda h: (h.shard, h.doc_index, h.offset))


def test_japanese_characters(tmp_path: Path) -> None:
    vocab: dict[str, int] = {}
    docs = [
        np.array([vocab.setdefault(c, len(vocab) + 1) for c in text], dtype=np.uint32) for text in JAPANESE
    ]
    output = "今朝、川沿いの古い町には、朝になると豆腐屋の笛の音が聞こえた。豆腐屋の佐藤さんも毎年来る。"
    query = np.array([vocab.get(c, 0) for c in output], dtype=np.uint32)
    shards = build(tmp_path, docs, len(vocab), sparse=2)
    found = find_spans(shards, query, 6)
    assert triples(found) == naive_spans(docs, query, 6)
    texts = ["".join(output[s.start : s.end]) for s in found]
    assert "川沿いの古い町には、朝になると豆腐屋の笛の音が" in texts
    assert "。豆腐屋の佐藤さんも毎年" in texts  # the full stop before it is in the same article
    (hit,) = span_hits(shards, found[texts.index("。豆腐屋の佐藤さんも毎年")], 5)
    assert (hit.doc_index, JAPANESE[2][hit.offset :].startswith("。豆腐屋の佐藤さんも毎年")) == (2, True)


def test_shards_fan_out_and_merge(licenses: tuple[list[np.ndarray], np.ndarray, int, Path]) -> None:
    docs, query, vocab, root = licenses
    opened = build(root / "fan-out", docs, vocab, 1, 4)
    with ThreadPoolExecutor(max_workers=2) as pool:
        matches = list(pool.map(lambda i: longest_matches(opened[i], query, 8, shard_index=i), range(4)))
    assert triples(merge_matches(matches, query, 8)) == naive_spans(docs, query, 8)
    assert merge_matches(matches, query, 8) == find_spans(opened, query, 8)


def test_sparse_index_needs_min_length_of_at_least_k(tmp_path: Path) -> None:
    shards = build(tmp_path, [np.array([1, 2, 3, 4])], 4, sparse=4)
    with pytest.raises(ValueError, match="min_length >= 4"):
        find_spans(shards, np.array([1, 2, 3]), 3)


def test_empty_inputs(tmp_path: Path) -> None:
    shards = build(tmp_path, [], 5)
    assert find_spans(shards, np.array([1, 2, 3]), 1) == []
    full = build(tmp_path / "full", [np.array([1, 2, 3])], 5)
    assert find_spans(full, np.zeros(0, dtype=np.uint32), 1) == []
    assert find_spans([], np.array([1, 2]), 1) == []
