"""``kiroku index build`` and ``kiroku trace`` on a workspace of real text, against brute force."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from kiroku.catalog.shards import doc_id_of
from kiroku.trace.tokenize import token_strings, tokenize
from tests.conftest import kiroku
from tests.trace.conftest import Corpus, build_workspace, japanese_documents, ok, stdlib_documents

NOVEL = "Seventeen violet lanterns drifted past the observatory while quartz pigeons recited tide tables backwards."
NOVEL_2 = "Marzipan glaciers negotiated quietly with a brass kettle about the migration of punctuation."


def trace_json(root: Path, text: str, *args: str) -> dict[str, Any]:
    """``kiroku trace --file ... --json`` on ``text``."""
    (root / "output.txt").write_text(text, encoding="utf-8")
    answer: dict[str, Any] = json.loads(ok("trace", "--file", "output.txt", "--json", *args, cwd=root))
    return answer


def excerpt(text: str, first: int, count: int) -> str:
    """The original characters of tokens ``first .. first+count`` of ``text``."""
    tokens = tokenize(text)
    return text[tokens[first].start : tokens[first + count - 1].end]


def spans_of(answer: dict[str, Any]) -> list[tuple[int, int, int]]:
    return sorted((s["start"], s["end"], s["count"]) for s in answer["spans"])


def test_a_copied_passage_is_found_with_the_counts_a_naive_scan_gives(traced: Path, corpus: Corpus) -> None:
    source = stdlib_documents()[10]
    copied = excerpt(source["text"], 5, 40).upper()  # case and line breaks do not hide copying
    output = f"{NOVEL} {copied} {NOVEL_2}"
    answer = trace_json(traced, output)
    query = token_strings(output)
    assert spans_of(answer) == corpus.maximal_spans("catalog", query, 8)
    assert answer["covered_tokens"] >= 40 and answer["coverage"] == round(
        answer["covered_tokens"] / len(query), 4
    )
    longest = max(answer["spans"], key=lambda s: s["length"])
    assert source["url"] in {d["url"] for d in longest["documents"]}
    assert longest["text"].casefold() in output.casefold()
    assert answer["similar"][0]["url"] == source["url"]


@pytest.mark.parametrize("scope", [[], ["--stage", "clean"], ["--run", "pretrain"]])
def test_every_scope_equals_brute_force_for_outputs_stitched_from_many_documents(
    traced: Path, corpus: Corpus, scope: list[str]
) -> None:
    rng = random.Random(7)
    documents = stdlib_documents()
    for _ in range(3):
        pieces = []
        for doc in rng.sample(documents, 4):
            n = len(tokenize(doc["text"]))
            first = rng.randrange(0, max(1, n - 20))
            pieces.append(excerpt(doc["text"], first, min(20, n - first)))
        output = " ".join(pieces)
        answer = trace_json(traced, output, *scope)
        key = {"": "catalog", "--stage": "stage:clean", "--run": "run"}[scope[0] if scope else ""]
        assert spans_of(answer) == corpus.maximal_spans(key, token_strings(output), 8)
        for span in answer["spans"]:
            for doc in span["documents"]:
                assert doc["snippet"] is None or doc["snippet"]["match"]


def test_a_document_the_stage_dropped_is_found_in_the_catalog_and_not_in_the_stage(traced: Path) -> None:
    dropped = {json.loads(line)["id"] for line in (traced / "clean.dropped.jsonl").read_text().splitlines()}
    victim = next(d for d in stdlib_documents() if doc_id_of(d["text"]).hex() in dropped)
    output = excerpt(victim["text"], 0, 30)
    in_catalog = trace_json(traced, output)
    in_stage = trace_json(traced, output, "--stage", "clean")
    assert victim["url"] in {d["url"] for s in in_catalog["spans"] for d in s["documents"]}
    assert victim["url"] not in {d["url"] for s in in_stage["spans"] for d in s["documents"]}
    assert in_stage["scope"] == "stage:clean"


def test_japanese_text_is_traced_across_full_width_and_half_width_forms(traced: Path, corpus: Corpus) -> None:
    article = japanese_documents()[0]
    sentence = article["text"][:60].replace("四月", "４月")
    output = f"昨日のニュースによると、{sentence}とのことです。"
    answer = trace_json(traced, output)
    assert spans_of(answer) == corpus.maximal_spans("catalog", token_strings(output), 8)
    assert article["url"] in {d["url"] for s in answer["spans"] for d in s["documents"]}
    assert "そのまま現れます" in answer["summary"]["ja"]


def test_new_text_has_no_spans_and_zero_coverage(traced: Path) -> None:
    answer = trace_json(traced, f"{NOVEL} {NOVEL_2}")
    assert answer["spans"] == [] and answer["coverage"] == 0.0
    assert answer["passages"] == []
    assert "No span" in answer["summary"]["en"]


def test_a_near_copy_is_a_similar_passage_even_without_long_spans(traced: Path) -> None:
    source = stdlib_documents()[3]
    words = excerpt(source["text"], 0, 64).split()
    for i in range(3, len(words), 12):  # every twelfth word changed: no verbatim run of 12 tokens survives
        words[i] = "zyzzyva"
    answer = trace_json(traced, " ".join(words), "--min-length", "12")
    assert answer["spans"] == []
    best = next(p for p in answer["passages"] if p["url"] == source["url"])
    assert max(best["jaccard"], best["containment"]) >= 0.5
    assert answer["similar"][0]["url"] == source["url"]


def test_a_heavier_rewrite_is_still_the_most_similar_document(traced: Path) -> None:
    source = stdlib_documents()[20]
    words = excerpt(source["text"], 0, 64).split()
    for i in range(3, len(words), 5):  # every fifth word changed: too far for MinHash, close for BM25
        words[i] = "zyzzyva"
    answer = trace_json(traced, " ".join(words), "--min-length", "8")
    assert answer["passages"] == []
    assert answer["similar"][0]["url"] == source["url"]


def test_the_text_answer_says_what_was_found(traced: Path) -> None:
    source = stdlib_documents()[10]
    (traced / "copy.txt").write_text(excerpt(source["text"], 0, 30), encoding="utf-8")
    text = ok("trace", "--file", "copy.txt", cwd=traced)
    assert "appears verbatim" in text and source["url"] in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\t ", "empty"),
        (b"\x00\x01\x02binary\xff\xfe", "binary"),
        (b"\xff\xfe\xfa not utf-8", "not UTF-8"),
        (("word " * 250_000).encode(), "over the limit"),
        (b"!!! ... ???", "no words"),
    ],
)
def test_outputs_that_cannot_be_traced_get_a_clear_error(traced: Path, content: bytes, message: str) -> None:
    (traced / "bad.txt").write_bytes(content)
    result = kiroku("trace", "--file", "bad.txt", cwd=traced)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_index_that_was_never_built_is_named_with_the_command_to_build_it(traced: Path) -> None:
    shutil.copytree(traced, traced.parent / "no-index", dirs_exist_ok=False)
    other = traced.parent / "no-index"
    shutil.rmtree(other / "index" / "trace")
    result = kiroku("trace", "--text", NOVEL, cwd=other)
    assert result.returncode == 2
    assert "kiroku index build" in result.stderr


def test_a_stale_index_is_refused_and_an_update_adds_only_the_new_shard(
    tmp_path: Path, corpus: Corpus
) -> None:
    root = build_workspace(tmp_path / "ws", shard_tokens=20_000)
    extra = [{"url": "https://extra.example/1", "text": f"{NOVEL} {NOVEL_2} " * 3}]
    (root / "extra.jsonl").write_text("".join(json.dumps(d) + "\n" for d in extra))
    ok("source", "add", "extra", "--type", "web_crawl", cwd=root)
    ok("ingest", "jsonl", "extra.jsonl", "--source", "extra", cwd=root)
    stale = kiroku("trace", "--text", NOVEL, cwd=root)
    assert stale.returncode == 2 and "kiroku index build" in stale.stderr
    assert "recorded after the trace index" in stale.stderr
    before = len(list((root / "index" / "trace" / "catalog").glob("shard-*")))
    ok("index", "build", "--shard-tokens", "20000", cwd=root)
    after = len(list((root / "index" / "trace" / "catalog").glob("shard-*")))
    assert after == before + 1
    answer = trace_json(root, NOVEL)
    assert answer["coverage"] == 1.0
    assert answer["spans"][0]["documents"][0]["url"] == "https://extra.example/1"
    assert "up to date" in ok("index", "build", cwd=root)
    # the stage's index is untouched by new catalog shards and stays valid
    assert trace_json(root, NOVEL, "--stage", "clean")["spans"] == []


def test_an_index_copied_into_another_workspace_is_refused(traced: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    ok("init", str(other), "--org", "Other", "--origin", "other.kiroku/ledger", cwd=tmp_path)
    shutil.copytree(traced / "index", other / "index", dirs_exist_ok=True)
    result = kiroku("trace", "--text", NOVEL, cwd=other)
    assert result.returncode == 2
    assert "another ledger" in result.stderr
