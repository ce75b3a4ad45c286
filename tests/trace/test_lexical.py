"""The BM25 tier against a brute-force BM25 written out here, on licence texts and on Japanese prose."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiroku.trace.errors import IndexCorrupt, IndexMissing
from kiroku.trace.lexical import LexicalIndex, LexicalInfo, write_lexical_files
from kiroku.trace.tokenize import token_strings

LICENSES = Path("/usr/share/common-licenses")

# Written for this test: a few paragraphs of plain Japanese prose on distinct subjects.
JAPANESE = [
    "春になると、川沿いの桜並木には朝早くから散歩をする人が集まる。花びらが水面に落ちて、ゆっくりと下流へ流れていく。",
    "駅前の古い本屋は、店主が一人で五十年続けてきた。棚には地元の歴史や郷土料理についての本が多く並んでいる。",
    "台風が近づいているため、明日の午後は電車の運転を見合わせる可能性があると鉄道会社が発表した。",
    "祖母の作る味噌汁は、煮干しでだしを取り、豆腐とわかめを入れるだけの簡単なものだが、誰にもまねできない味がする。",
    "新しい図書館では、子ども向けの読み聞かせ会が毎週土曜日に開かれ、多くの親子が参加している。",
    "山の上の小さな村では、冬になると雪が二メートル近く積もり、道路が閉ざされることもある。",
    "研究チームは、海水の温度が上がると魚の群れが北へ移動する傾向があることを、十年分の観測記録から明らかにした。",
    "夏祭りの夜、商店街には屋台が並び、浴衣を着た人々が金魚すくいや焼きそばを楽しんでいた。",
]


english_tokens = japanese_tokens = (
    token_strings  # kiroku's matching tokens: words, and characters for Japanese
)


class Terms:
    """Term ids for token strings, given in order of first sight from 1 as kiroku's vocabulary does (0 is no term).

    One instance serves the whole module, so a query's strings get the ids its index was built with; a string no
    index holds gets a new id, which no index knows.
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def of(self, tokens: list[str]) -> list[int]:
        return [self._ids.setdefault(token, len(self._ids) + 1) for token in tokens]


TERMS = Terms()


def write(directory: Path, docs: list[list[str]], k1: float = 1.5, b: float = 0.75) -> LexicalInfo:
    """`write_lexical_files` for documents given as token strings."""
    flat = np.array([i for doc in docs for i in TERMS.of(doc)], dtype=np.uint32)
    lengths = np.array([len(doc) for doc in docs], dtype=np.int64)
    return write_lexical_files(directory, flat, lengths, k1=k1, b=b)


def rank(index: LexicalIndex, query: list[str], k: int = 10) -> list[tuple[int, float]]:
    """`LexicalIndex.rank` for a query given as token strings."""
    return index.rank(TERMS.of(query), k=k)


def brute_force_bm25(docs: list[list[str]], query: list[str], k1: float, b: float) -> dict[int, float]:
    """BM25, the Lucene variant (bm25s ``method="lucene"``), summed over the distinct query tokens.

    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5));  tf part = tf / (tf + k1 * (1 - b + b * |d| / avgdl)).
    Returns the documents with a positive score.
    """
    n = len(docs)
    avgdl = sum(len(doc) for doc in docs) / n
    df = Counter(token for doc in docs for token in set(doc))
    scores: dict[int, float] = {}
    for index, doc in enumerate(docs):
        tf = Counter(doc)
        score = 0.0
        for token in set(query):
            if tf[token]:
                idf = math.log(1 + (n - df[token] + 0.5) / (df[token] + 0.5))
                score += idf * tf[token] / (tf[token] + k1 * (1 - b + b * len(doc) / avgdl))
        if score > 0:
            scores[index] = score
    return scores


def license_documents() -> list[list[str]]:
    """Paragraphs of the licence texts, one document each, with an empty document planted at index 3."""
    docs: list[list[str]] = []
    for path in sorted({p.resolve() for p in LICENSES.iterdir() if p.is_file()}):
        for paragraph in path.read_text(encoding="utf-8", errors="replace").split("\n\n"):
            tokens = english_tokens(paragraph)
            if len(tokens) >= 5:
                docs.append(tokens)
    docs.insert(3, [])
    return docs


def assert_matches_brute_force(
    index: LexicalIndex, docs: list[list[str]], query: list[str], k1: float = 1.5, b: float = 0.75
) -> None:
    expected = brute_force_bm25(docs, query, k1, b)
    got = rank(index, query, k=len(docs))
    assert {doc for doc, _ in got} == set(expected)
    for doc, score in got:
        assert score == pytest.approx(expected[doc], rel=2e-5, abs=1e-6)
    assert all(got[i][1] >= got[i + 1][1] for i in range(len(got) - 1))
    assert all(score > 0 for _, score in got)
    top = rank(index, query, k=5)
    assert top == got[:5]


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[list[str]], LexicalIndex]:
    if not LICENSES.is_dir():
        pytest.skip("needs /usr/share/common-licenses (Debian's base-files)")
    docs = license_documents()
    directory = tmp_path_factory.mktemp("shard")
    info = write(directory, docs)
    assert info.n_docs == len(docs)
    assert info.n_tokens == sum(map(len, docs))
    assert info.vocab_size == len({t for doc in docs for t in doc})
    return docs, LexicalIndex.open(directory)


def test_scores_equal_brute_force_on_license_paragraphs(
    english: tuple[list[list[str]], LexicalIndex],
) -> None:
    docs, index = english
    assert len(docs) > 500
    queries = [
        english_tokens("you may not use this file except in compliance with the license"),
        english_tokens("the software is provided as is without warranty of any kind"),
        english_tokens("Creative Commons Zero waiver of copyright and related rights"),
        docs[40],
        docs[-1][:30],
        ["the"],
        ["the", "the", "the", "copyleft"],
    ]
    for query in queries:
        assert_matches_brute_force(index, docs, query)


def test_a_paragraph_ranks_itself_first(english: tuple[list[list[str]], LexicalIndex]) -> None:
    docs, index = english
    unique = [i for i, doc in enumerate(docs) if doc and sum(other == doc for other in docs) == 1]
    for i in unique[::5]:
        first = rank(index, docs[i], k=1)[0][0]
        # ... or behind a paragraph holding every word of it (licence versions extend each other's paragraphs)
        assert first == i or set(docs[i]) <= set(docs[first])


def test_empty_and_unknown_queries_give_nothing(english: tuple[list[list[str]], LexicalIndex]) -> None:
    _, index = english
    assert rank(index, []) == []
    assert rank(index, ["zzqx-never-seen", "ぬぬぬ"]) == []
    with pytest.raises(ValueError, match="k must be"):
        rank(index, ["license"], k=0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_queries_equal_brute_force(
    english: tuple[list[list[str]], LexicalIndex], data: st.DataObject
) -> None:
    docs, index = english
    vocabulary = [*sorted({t for doc in docs[:200] for t in doc}), "unknown-word"]
    query = data.draw(st.lists(st.sampled_from(vocabulary), max_size=40))
    assert_matches_brute_force(index, docs, query)


def test_japanese_documents_by_characters(tmp_path: Path) -> None:
    docs = [japanese_tokens(text) for text in JAPANESE]
    write(tmp_path, docs)
    index = LexicalIndex.open(tmp_path)
    # A reworded account of the festival (document 7) and of the library (document 4).
    for query_text, expected in (
        ("夏祭りの夜は屋台がたくさん出て、浴衣姿の人たちが焼きそばや金魚すくいを楽しんだ。", 7),
        ("図書館で毎週土曜日に子どもへの読み聞かせ会があり、親子で参加できる。", 4),
    ):
        query = japanese_tokens(query_text)
        shared = [len(set(query) & set(doc)) for doc in docs]
        assert shared.index(max(shared)) == expected  # the document sharing the most characters ...
        assert rank(index, query, k=3)[0][0] == expected  # ... ranks first
        assert_matches_brute_force(index, docs, query)


def test_round_trip_and_rewrite(tmp_path: Path) -> None:
    docs = [english_tokens(t) for t in ("a b c", "b c d", "c d e e")]
    first = write(tmp_path, docs, k1=1.2, b=0.5)
    assert (first.k1, first.b, first.method) == (1.2, 0.5, "lucene")
    index = LexicalIndex.open(tmp_path)
    index.verify()
    assert (index.n_docs, index.vocab_size, index.k1, index.b) == (3, 5, 1.2, 0.5)
    assert_matches_brute_force(index, docs, ["e", "a"], k1=1.2, b=0.5)
    # Rewriting the directory (a resumed build) replaces the earlier files entirely.
    other = [english_tokens("x y"), english_tokens("y z")]
    write(tmp_path, other)
    again = LexicalIndex.open(tmp_path)
    again.verify()
    assert again.n_docs == 2
    assert rank(again, ["a"]) == []
    assert_matches_brute_force(again, other, ["z"])
    recorded = json.loads((tmp_path / "bm25.json").read_text())
    assert recorded["format"] == "kiroku.bm25/v2"
    assert sorted(recorded["files"]) == sorted(f"bm25/{p.name}" for p in (tmp_path / "bm25").iterdir())


def test_documents_without_tokens(tmp_path: Path) -> None:
    info = write(tmp_path, [[], []])
    assert (info.n_docs, info.vocab_size, info.n_bytes) == (2, 0, 0)
    index = LexicalIndex.open(tmp_path)
    index.verify()
    assert rank(index, ["anything"]) == []
    write(tmp_path / "none", [])
    assert LexicalIndex.open(tmp_path / "none").n_docs == 0


@pytest.fixture
def built(tmp_path: Path) -> Path:
    write(tmp_path, [english_tokens(t) for t in ("the quick brown fox", "jumps over", "the lazy dog")])
    return tmp_path


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing, match=r"bm25\.json is missing.*kiroku index build"):
        LexicalIndex.open(tmp_path)


def test_altered_byte_is_caught_by_verify(built: Path) -> None:
    data = built / "bm25" / "data.csc.index.npy"
    raw = bytearray(data.read_bytes())
    raw[-1] ^= 0x40
    data.write_bytes(bytes(raw))
    index = LexicalIndex.open(built)  # same size: open's cheap checks pass
    with pytest.raises(IndexCorrupt, match=r"data\.csc\.index\.npy does not match the SHA-256"):
        index.verify()


def test_truncated_or_removed_file_is_caught_by_open(built: Path) -> None:
    indices = built / "bm25" / "indices.csc.index.npy"
    indices.write_bytes(indices.read_bytes()[:-4])
    with pytest.raises(IndexCorrupt, match=r"indices\.csc\.index\.npy has \d+ bytes"):
        LexicalIndex.open(built)
    indices.unlink()
    with pytest.raises(IndexCorrupt, match=r"indices\.csc\.index\.npy is missing"):
        LexicalIndex.open(built)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "cannot be read as JSON"),
        ('{"format": "kiroku.bm25/v1"}', "format is 'kiroku.bm25/v1', expected 'kiroku.bm25/v2'"),
        ('{"format": "kiroku.bm25/v2", "n_docs": "3"}', "field 'n_docs'"),
    ],
)
def test_bad_manifest(built: Path, text: str, message: str) -> None:
    (built / "bm25.json").write_text(text)
    with pytest.raises(IndexCorrupt, match=message):
        LexicalIndex.open(built)


def test_manifest_counts_must_match_the_arrays(built: Path) -> None:
    manifest = json.loads((built / "bm25.json").read_text())
    manifest["n_docs"] = 4
    (built / "bm25.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="does not match the counts"):
        LexicalIndex.open(built)


def test_the_matrix_is_the_one_bm25s_builds(english: tuple[list[list[str]], LexicalIndex]) -> None:
    """kiroku counts the score matrix with numpy; bm25s's own builder gives the same matrix on the same terms."""
    bm25s = pytest.importorskip("bm25s")
    docs, index = english
    vocab = {str(term): column for column, term in enumerate(index._terms.tolist())}
    columns = [[vocab[str(i)] for i in TERMS.of(doc)] for doc in docs]
    model = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    model.index((columns, vocab), create_empty_token=False, show_progress=False)
    ours = index._model.scores
    assert np.array_equal(ours["indptr"], model.scores["indptr"])
    assert np.array_equal(ours["indices"], model.scores["indices"])
    assert ours["data"].dtype == model.scores["data"].dtype == np.float32
    assert np.allclose(ours["data"], model.scores["data"], rtol=1e-6, atol=0)
    # and the saved directory is one bm25s loads by itself, with the same vocabulary
    loaded = bm25s.BM25.load(str(index.directory / "bm25"), mmap=True)
    assert loaded.vocab_dict == vocab
    assert np.array_equal(loaded.scores["data"], ours["data"])


def test_lengths_must_add_up(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="add up to the number of terms"):
        write_lexical_files(tmp_path, np.array([1, 2, 3], dtype=np.uint32), np.array([1, 1], dtype=np.int64))
    assert not (tmp_path / "bm25.json").exists()
