"""Near-duplicate passages (kiroku.trace.neardup) against brute-force shingle sets on real English and Japanese text."""

from __future__ import annotations

import json
import random
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiroku.trace import neardup
from kiroku.trace.errors import IndexCorrupt, IndexMissing, StaleIndex
from kiroku.trace.neardup import PassageConfig, PassageIndex, PassageMatch, write_passage_files

LICENSES = Path("/usr/share/common-licenses")

# Japanese prose written for these tests (one document per paragraph; token id = the character's code point).
JAPANESE = [
    "春の朝、川沿いの小道を歩くと、桜の花びらが水面に浮かんでゆっくりと流れていく。近所の老人は毎日同じ時刻に"
    "ベンチに座り、新聞を広げながら鳩に餌をやっている。子どもたちはランドセルを揺らして駆けていき、その笑い声が"
    "橋の下まで響いた。私はその光景を眺めながら、季節が変わるたびに同じ場所で同じ人に会えることの不思議さを考えていた。",
    "図書館の奥には、古い地図や手書きの日記を集めた小さな部屋がある。そこでは紙の匂いと静けさが時間を止めている"
    "ように感じられる。ある日、私は明治時代の商人が書いた帳簿を見つけた。米の値段、船の到着日、取引相手の名前が"
    "丁寧な字で記されており、百年以上前の町の暮らしが目の前に立ち上がってくるようだった。記録とは、忘れられる"
    "はずだった日々を未来へ運ぶ舟なのだと思う。",
    "人工知能が文章を書く時代になって、その文章がどこから来たのかを確かめたいと願う人が増えている。作家や新聞社は、"
    "自分の作品が学習に使われたかどうかを知る権利があると考える。一方で開発者は、膨大なデータの中から一つの文を"
    "探し出すのは難しいと言う。しかし索引を工夫すれば、数十億の文書の中からでも似た文章を素早く見つけることが"
    "できる。大切なのは、答えに証拠を添えて、誰もが後から確かめられるようにすることである。",
    "山あいの村では、冬になると雪が屋根の高さまで積もる。村人たちは秋のうちに薪を割り、漬物を樽に詰め、長い冬に"
    "備える。夜になると囲炉裏の周りに家族が集まり、祖母が昔話を語って聞かせる。狐に化かされた旅人の話や、川の主"
    "である大きな鯉の話を、子どもたちは何度聞いても目を輝かせて聞いていた。",
    "雨上がり。",  # shorter than a window: one passage
    "虹。",  # shorter than a shingle: no passage
]


@dataclass
class Corpus:
    """A shard stream of real text and what brute force needs to check the index."""

    tokens: npt.NDArray[np.uint32]
    doc_starts: npt.NDArray[np.int64]
    vocabulary: int
    english: list[list[int]]
    japanese: list[list[int]]

    def tokens_of(self, start: int, end: int) -> npt.NDArray[np.uint32]:
        return self.tokens[start:end]


def stream(docs: list[list[int]]) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    tokens: list[int] = []
    starts = []
    for doc in docs:
        starts.append(len(tokens))
        tokens.extend(doc)
        tokens.append(0)
    starts.append(len(tokens))
    return np.array(tokens, dtype=np.uint32), np.array(starts, dtype=np.int64)


def build_corpus() -> Corpus:
    vocab: dict[str, int] = {}
    english = []
    for path in sorted(LICENSES.iterdir()):
        if path.is_symlink():
            continue
        for paragraph in re.split(r"\n\s*\n", path.read_text(encoding="utf-8", errors="replace")):
            words = re.findall(r"\w+", paragraph.lower())
            if words:
                english.append([vocab.setdefault(word, len(vocab) + 1) for word in words])
    japanese = [[ord(ch) for ch in text] for text in JAPANESE]
    assert len(vocab) < min(min(doc) for doc in japanese)  # the two id ranges do not meet
    tokens, starts = stream(english + japanese)
    return Corpus(tokens, starts, len(vocab), english, japanese)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return build_corpus()


@pytest.fixture(scope="module")
def built(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("shard")
    write_passage_files(directory, corpus.tokens, corpus.doc_starts, PassageConfig())
    return directory


@pytest.fixture(scope="module")
def index(built: Path) -> PassageIndex:
    return PassageIndex.open(built)


# --- brute force ---------------------------------------------------------------------------------------------------


def shingles(ids: list[int] | npt.NDArray[np.uint32], n: int) -> frozenset[tuple[int, ...]]:
    ids = [int(t) for t in ids]
    return frozenset(tuple(ids[i : i + n]) for i in range(len(ids) - n + 1) if 0 not in ids[i : i + n])


Windows = list[tuple[int, int, frozenset[tuple[int, ...]]]]


def window_starts(length: int, window: int, stride: int, n: int) -> list[int]:
    if length < n:
        return []
    if length <= window:
        return [0]
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


def brute_passages(
    tokens: npt.NDArray[np.uint32], doc_starts: npt.NDArray[np.int64], cfg: PassageConfig
) -> list[tuple[int, int]]:
    out = []
    for first, after in zip(doc_starts[:-1].tolist(), doc_starts[1:].tolist(), strict=True):
        length = after - 1 - first
        for start in window_starts(length, cfg.window, cfg.stride, cfg.shingle):
            out.append((first + start, first + min(start + cfg.window, length)))
    return out


def query_windows(query: list[int], cfg: PassageConfig, stride: int) -> Windows:
    out = []
    for start in window_starts(len(query), cfg.window, stride, cfg.shingle):
        end = min(start + cfg.window, len(query))
        members = shingles(query[start:end], cfg.shingle)
        if members:
            out.append((start, end, members))
    return out


def check_exact(
    match: PassageMatch,
    query: list[int],
    tokens: npt.NDArray[np.uint32],
    cfg: PassageConfig,
    windows: Windows | None = None,
    stride: int | None = None,
) -> None:
    """The match's scores equal brute force: best window's Jaccard, containment in the whole query."""
    passage = shingles(tokens[match.start : match.end], cfg.shingle)
    if windows is None:
        windows = query_windows(query, cfg, cfg.query_stride if stride is None else stride)
    scored = [(len(w & passage) / len(w | passage), s, e) for s, e, w in windows]
    best = max(j for j, _, _ in scored)
    assert match.jaccard == best
    assert (match.query_start, match.query_end) == next((s, e) for j, s, e in scored if j == best)
    assert match.containment == len(passage & shingles(query, cfg.shingle)) / len(passage)
    assert 0.0 <= match.estimated_jaccard <= 1.0


# --- planted near-copies -------------------------------------------------------------------------------------------


def mutate(seq: list[int], rng: random.Random, edits: int, vocabulary: int) -> list[int]:
    seq = list(seq)
    for _ in range(edits):
        op, at = rng.choice("sid"), rng.randrange(len(seq))
        if op == "s":
            seq[at] = rng.randint(1, vocabulary)
        elif op == "i":
            seq.insert(at, rng.randint(1, vocabulary))
        elif len(seq) > 1:
            del seq[at]
    return seq


def planted_query(corpus: Corpus, rng: random.Random, copies: int) -> list[int]:
    long_docs = [doc for doc in corpus.english if len(doc) >= 64]
    query: list[int] = []
    for _ in range(copies):
        query += [
            rng.randint(1, corpus.vocabulary) for _ in range(rng.randint(3, 30))
        ]  # new text between copies
        doc = rng.choice(long_docs)
        length = rng.randint(64, min(160, len(doc)))
        start = rng.randint(0, len(doc) - length)
        query += mutate(doc[start : start + length], rng, rng.randint(0, length // 40), corpus.vocabulary)
    return query


def test_passages_are_windows_inside_documents(corpus: Corpus, index: PassageIndex) -> None:
    expected = brute_passages(corpus.tokens, corpus.doc_starts, index.config)
    assert [tuple(p) for p in index.passages.tolist()] == expected
    assert all(0 not in corpus.tokens[s:e] for s, e in expected)
    covered = np.zeros(len(corpus.tokens), dtype=bool)
    for start, end in expected:
        covered[start:end] = True
    for first, after in zip(corpus.doc_starts[:-1].tolist(), corpus.doc_starts[1:].tolist(), strict=True):
        assert covered[first : after - 1].all() == (after - 1 - first >= index.config.shingle)
    japanese_first = int(corpus.doc_starts[len(corpus.english)])
    short = [(s, e) for s, e in expected if s >= japanese_first and e - s < 64]
    assert [corpus.tokens[s:e].tolist() for s, e in short] == [[ord(c) for c in "雨上がり。"]]


def test_files_round_trip(corpus: Corpus, built: Path, index: PassageIndex) -> None:
    again = PassageIndex.open(built, verify=True)
    assert again.config == PassageConfig()
    manifest = json.loads((built / "minhash.json").read_text())
    assert manifest["format"] == "kiroku.minhash/v1"
    assert (
        manifest["parameters"]["bands"] * manifest["parameters"]["rows"] == manifest["parameters"]["num_perm"]
    )
    assert (
        manifest["counts"]["passages"]
        == len(index)
        == len(brute_passages(corpus.tokens, corpus.doc_starts, index.config))
    )
    assert manifest["counts"]["documents"] == len(corpus.doc_starts) - 1
    assert np.all(np.diff(again.keys.astype(np.uint64)) >= 0)
    assert np.array_equal(
        np.bincount(again.key_passages, minlength=len(index)), np.full(len(index), index.config.bands)
    )
    assert np.array_equal(again.signatures, index.signatures)
    assert sorted(p.name for p in built.iterdir()) == sorted(
        ["minhash.json", "passages.npy", "signatures.npy", "lsh.keys.npy", "lsh.passages.npy"]
    )


def test_recall_of_planted_near_copies_against_all_pairs(corpus: Corpus, index: PassageIndex) -> None:
    cfg = index.config
    passage_sets = [shingles(corpus.tokens[s:e], cfg.shingle) for s, e in index.passages.tolist()]
    holders: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for number, members in enumerate(passage_sets):
        for shingle in members:
            holders[shingle].append(number)
    rng = random.Random(20260405)
    pairs = found = 0
    for _ in range(8):
        query = planted_query(corpus, rng, copies=12)
        candidates = {
            (start, passage) for start, _, passage in index.candidates(np.array(query, dtype=np.uint32))
        }
        similar: dict[int, float] = {}
        windows = query_windows(query, cfg, cfg.query_stride)
        for start, _, window in windows:
            # every pair sharing no shingle has Jaccard 0; the others are computed exactly
            for passage in {p for shingle in window for p in holders.get(shingle, ())}:
                jaccard = len(window & passage_sets[passage]) / len(window | passage_sets[passage])
                similar[passage] = max(similar.get(passage, 0.0), jaccard)
                if jaccard >= 0.8:
                    pairs += 1
                    found += (start, passage) in candidates
        matches = index.query(np.array(query, dtype=np.uint32), corpus.tokens_of, threshold=0.8, limit=10**6)
        for match in matches:
            check_exact(match, query, corpus.tokens, cfg, windows)
        found_passages = {m.passage for m in matches}
        reached = {p for _, p in candidates if similar.get(p, 0.0) >= 0.8}
        assert reached <= found_passages
        scores = [m.score for m in matches]
        assert scores == sorted(scores, reverse=True)
    print(f"LSH recall at Jaccard >= 0.8: {found}/{pairs} = {found / pairs:.3f}")
    assert pairs >= 200
    assert found / pairs >= 0.95, f"recall {found}/{pairs}"


def test_exact_copy_of_a_passage_scores_one(corpus: Corpus, index: PassageIndex) -> None:
    rng = random.Random(7)
    start, end = (int(v) for v in index.passages[500])
    copy = corpus.tokens[start:end].tolist()
    lead = [rng.randint(1, corpus.vocabulary) for _ in range(3 * index.config.query_stride)]
    query = lead + copy + [rng.randint(1, corpus.vocabulary) for _ in range(40)]
    matches = index.query(np.array(query, dtype=np.uint32), corpus.tokens_of)
    top = next(m for m in matches if m.passage == 500)
    assert (top.jaccard, top.containment, top.estimated_jaccard) == (1.0, 1.0, 1.0)
    assert (top.start, top.end, top.query_start, top.query_end) == (
        start,
        end,
        len(lead),
        len(lead) + len(copy),
    )
    assert matches[0].score == 1.0


def test_stride_one_meets_a_copy_at_any_offset(corpus: Corpus, index: PassageIndex) -> None:
    number = next(p for p in range(700, len(index)) if np.diff(index.passages[p])[0] == index.config.window)
    start, end = (int(v) for v in index.passages[number])
    query = [1, 2, 3, *corpus.tokens[start:end].tolist(), 4, 5]
    matches = index.query(np.array(query, dtype=np.int64), corpus.tokens_of, stride=1)
    assert (matches[0].passage, matches[0].jaccard, matches[0].query_start) == (number, 1.0, 3)
    check_exact(matches[0], query, corpus.tokens, index.config, stride=1)


def test_japanese_near_copy_is_traced(corpus: Corpus, index: PassageIndex) -> None:
    text = list(JAPANESE[2][30:130])
    text[20], text[70] = "森", "海"  # two characters changed
    english = corpus.english[40][:20]
    query = english + [ord(c) for c in text] + english[:10]
    matches = index.query(np.array(query, dtype=np.uint32), corpus.tokens_of, threshold=0.6)
    japanese_first = int(corpus.doc_starts[len(corpus.english)])
    assert matches and matches[0].start >= japanese_first
    assert matches[0].jaccard >= 0.8
    for match in matches:
        check_exact(match, query, corpus.tokens, index.config)
    assert "".join(chr(t) for t in corpus.tokens[matches[0].start : matches[0].end]) in JAPANESE[2]


def test_new_text_finds_nothing(corpus: Corpus, index: PassageIndex) -> None:
    rng = random.Random(11)
    query = [rng.randint(1, corpus.vocabulary) for _ in range(500)]
    assert index.query(np.array(query, dtype=np.uint32), corpus.tokens_of) == []


@pytest.mark.parametrize("query", [[], [5], [5, 6, 7, 8], [0] * 200, [0, 5, 6, 7, 8, 0] * 30])
def test_empty_and_short_queries_return_nothing(
    corpus: Corpus, index: PassageIndex, query: list[int]
) -> None:
    assert index.query(np.array(query, dtype=np.uint32), corpus.tokens_of) == []
    assert index.candidates(np.array(query, dtype=np.uint32)) == []


def test_unknown_tokens_break_shingles_not_windows(corpus: Corpus, index: PassageIndex) -> None:
    start, end = (int(v) for v in index.passages[300])
    query = corpus.tokens[start:end].tolist()
    query[30] = 0  # a word outside the vocabulary: 5 shingles lost
    matches = index.query(np.array(query, dtype=np.uint32), corpus.tokens_of)
    assert matches[0].passage == 300
    check_exact(matches[0], query, corpus.tokens, index.config)
    assert matches[0].jaccard == (end - start - 4 - 5) / (end - start - 4)


def test_bad_arguments_are_refused(corpus: Corpus, index: PassageIndex) -> None:
    with pytest.raises(ValueError, match="threshold"):
        index.query(np.array([1, 2, 3], dtype=np.uint32), corpus.tokens_of, threshold=1.5)
    with pytest.raises(ValueError, match="1-D"):
        index.query(np.zeros((2, 8), dtype=np.uint32), corpus.tokens_of)
    with pytest.raises(ValueError, match="uint32"):
        index.query(np.array([5, -1, 7, 8, 9], dtype=np.int64), corpus.tokens_of)
    with pytest.raises(ValueError, match="stride"):
        index.query(corpus.tokens[:200], corpus.tokens_of, stride=0)
    assert index.query(corpus.tokens[:200], corpus.tokens_of, limit=0) == []
    with pytest.raises(ValueError, match="separator"):
        write_passage_files(Path(tempfile.mkdtemp()), corpus.tokens[:-1], corpus.doc_starts, PassageConfig())
    with pytest.raises(ValueError, match="stride"):
        PassageConfig(window=16, stride=32)


def test_a_shard_without_passages_answers_nothing(tmp_path: Path) -> None:
    tokens, starts = stream([[1, 2], [3], [4, 5, 6]])
    info = write_passage_files(tmp_path, tokens, starts, PassageConfig())
    assert (info.passages, info.documents) == (0, 3)
    empty = PassageIndex.open(tmp_path, verify=True)
    assert empty.query(np.array([1, 2, 3, 4, 5, 6, 7], dtype=np.uint32), lambda s, e: tokens[s:e]) == []


# --- damaged files -------------------------------------------------------------------------------------------------


def copy_of(built: Path, tmp_path: Path) -> Path:
    target = tmp_path / "shard"
    target.mkdir()
    for path in built.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


@pytest.mark.parametrize("name", ["passages.npy", "signatures.npy", "lsh.keys.npy", "lsh.passages.npy"])
def test_truncated_file_is_corrupt(built: Path, tmp_path: Path, name: str) -> None:
    shard = copy_of(built, tmp_path)
    data = (shard / name).read_bytes()
    (shard / name).write_bytes(data[: len(data) - 9])
    with pytest.raises(IndexCorrupt, match=name):
        PassageIndex.open(shard)


@pytest.mark.parametrize("name", ["passages.npy", "signatures.npy", "lsh.keys.npy", "lsh.passages.npy"])
def test_altered_file_fails_verification(built: Path, tmp_path: Path, name: str) -> None:
    shard = copy_of(built, tmp_path)
    data = bytearray((shard / name).read_bytes())
    data[-3] ^= 0x40
    (shard / name).write_bytes(bytes(data))
    opened = PassageIndex.open(shard)  # sizes and shapes still agree
    with pytest.raises(IndexCorrupt, match=name):
        opened.verify()
    with pytest.raises(IndexCorrupt, match=name):
        PassageIndex.open(shard, verify=True)


def test_missing_pieces(built: Path, tmp_path: Path) -> None:
    with pytest.raises(IndexMissing, match=r"minhash\.json"):
        PassageIndex.open(tmp_path / "nowhere")
    shard = copy_of(built, tmp_path)
    (shard / "lsh.keys.npy").unlink()
    with pytest.raises(IndexCorrupt, match=r"lsh\.keys\.npy is missing"):
        PassageIndex.open(shard)
    (shard / "minhash.json").unlink()
    with pytest.raises(IndexMissing, match="kiroku index build"):
        PassageIndex.open(shard)


def test_damaged_manifest(built: Path, tmp_path: Path) -> None:
    shard = copy_of(built, tmp_path)
    manifest = json.loads((shard / "minhash.json").read_text())
    (shard / "minhash.json").write_text("{not json")
    with pytest.raises(IndexCorrupt, match="JSON"):
        PassageIndex.open(shard)
    (shard / "minhash.json").write_text(json.dumps({**manifest, "format": "kiroku.minhash/v0"}))
    with pytest.raises(IndexCorrupt, match="format"):
        PassageIndex.open(shard)
    params = {**manifest["parameters"], "rows": 7}
    (shard / "minhash.json").write_text(json.dumps({**manifest, "parameters": params}))
    with pytest.raises(IndexCorrupt):
        PassageIndex.open(shard)
    params = {**manifest["parameters"], "minhash": "rensa.RMinHash/1"}
    (shard / "minhash.json").write_text(json.dumps({**manifest, "parameters": params}))
    with pytest.raises(StaleIndex, match="rebuild"):
        PassageIndex.open(shard)


# --- exact scores on small random corpora --------------------------------------------------------------------------

SMALL = PassageConfig(window=12, stride=6, shingle=3, bands=8, rows=2)
docs_strategy = st.lists(st.lists(st.integers(1, 6), min_size=0, max_size=40), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(
    docs=docs_strategy,
    query=st.lists(st.integers(0, 6), max_size=60),
    threshold=st.sampled_from([0.0, 0.3, 0.7]),
    stride=st.sampled_from([None, 1, 5, 12]),
)
def test_exact_scores_equal_brute_force(
    docs: list[list[int]], query: list[int], threshold: float, stride: int | None
) -> None:
    tokens, starts = stream(docs)
    tokens_of: Callable[[int, int], npt.NDArray[np.uint32]] = lambda s, e: tokens[s:e]  # noqa: E731
    with tempfile.TemporaryDirectory() as directory:
        write_passage_files(Path(directory), tokens, starts, SMALL)
        small = PassageIndex.open(Path(directory), verify=True)
        assert [tuple(p) for p in small.passages.tolist()] == brute_passages(tokens, starts, SMALL)
        ids = np.array(query, dtype=np.uint32)
        matches = small.query(ids, tokens_of, threshold=threshold, limit=10**6, stride=stride)
        candidates = {p for _, _, p in small.candidates(ids, stride=stride)}
    for match in matches:
        check_exact(match, query, tokens, SMALL, stride=stride)
        assert match.score >= threshold
    assert {m.passage for m in matches} <= candidates
    if threshold == 0.0:
        assert {m.passage for m in matches} == candidates


def test_text_repeated_all_over_the_shard_keeps_the_best_matches(corpus: Corpus, tmp_path: Path) -> None:
    """A passage copied 600 times with small edits gives far more candidates than are scored exactly; the matches
    listed are still the best ones exact scoring of every candidate finds."""
    rng = random.Random(11)
    original = next(doc for doc in corpus.english if len(doc) >= 64)[:64]
    docs = [mutate(list(original), rng, rng.randrange(1, 12), corpus.vocabulary) for _ in range(600)]
    docs += [*corpus.english[:200], list(original)]
    tokens, starts = stream(docs)
    write_passage_files(tmp_path, tokens, starts, PassageConfig())
    index = PassageIndex.open(tmp_path)

    def tokens_of(start: int, end: int) -> npt.NDArray[np.uint32]:
        return tokens[start:end]

    query = np.array(original, dtype=np.uint32)
    every = index.query(query, tokens_of, threshold=0.5, limit=10**6, max_candidates=10**6)
    assert len(every) > neardup.MAX_CANDIDATES  # more candidates than are even estimated ...
    assert len({m.score for m in every[:40]}) > 5  # the copies differ: the best ten must be picked out
    listed = index.query(query, tokens_of, threshold=0.5, limit=10)
    assert [m.score for m in listed] == [m.score for m in every[:10]]  # ... yet the best scores are found
    assert listed[0].score == 1.0 and listed[0].start == every[0].start  # the exact copy first
