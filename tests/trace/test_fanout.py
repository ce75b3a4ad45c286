"""A trace fans out over the index's shards on threads: the answer is the same whatever the number of workers.

The workspace of `tests.trace.conftest` is indexed in shards of about 1,000 tokens, so that an output's spans,
passages and similar documents come from many shards and the merge has ties and overlaps to order.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from kiroku.trace.corpus import resolve_scope
from kiroku.trace.errors import InvalidOutput
from kiroku.trace.index import TraceIndex
from kiroku.trace.query import DEFAULT_WORKERS, TraceOptions, trace_output
from kiroku.trace.tokenize import token_strings, tokenize
from kiroku.workspace import Workspace
from tests.conftest import kiroku
from tests.trace.conftest import Corpus, build_workspace, japanese_documents, stdlib_documents
from tests.trace.test_trace_cli import NOVEL, excerpt, trace_json


@pytest.fixture(scope="module")
def many_shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workspace(tmp_path_factory.mktemp("fanout") / "ws", shard_tokens=1000)


def outputs() -> list[str]:
    """Outputs whose parts sit in many shards: pieces of eight documents, a near copy, Japanese, new text."""
    rng = random.Random(11)
    documents = stdlib_documents()
    pieces = []
    for doc in rng.sample(documents, 8):
        n = len(tokenize(doc["text"]))
        first = rng.randrange(0, max(1, n - 20))
        pieces.append(excerpt(doc["text"], first, min(20, n - first)))
    near = excerpt(documents[3]["text"], 0, 64).split()
    for i in range(3, len(near), 12):
        near[i] = "zyzzyva"
    return [
        " ".join(pieces),
        " ".join(near),
        "昨日のニュースによると、" + japanese_documents()[0]["text"][:60],
        f"{NOVEL} the value of the attribute is returned",
    ]


def without_time(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key != "seconds"}


@pytest.mark.parametrize("scope", [[], ["--stage", "clean"]])
def test_one_worker_and_four_give_the_same_answer(many_shards: Path, scope: list[str]) -> None:
    shards = len(list((many_shards / "index" / "trace" / "catalog").glob("shard-*")))
    assert shards >= 10
    for output in outputs():
        one = trace_json(many_shards, output, "--workers", "1", *scope)
        four = trace_json(many_shards, output, "--workers", "4", *scope)
        assert without_time(one) == without_time(four)
    first = trace_json(many_shards, outputs()[0], "--workers", "4", *scope)
    assert first["span_count"] >= 6 and len({d["id"] for d in first["similar"]}) == len(first["similar"])


def test_spans_merged_from_many_shards_equal_brute_force(many_shards: Path) -> None:
    output = outputs()[0]
    answer = trace_json(many_shards, output, "--workers", "4")
    expected = Corpus.read(many_shards).maximal_spans("catalog", token_strings(output), 8)
    assert sorted((s["start"], s["end"], s["count"]) for s in answer["spans"]) == expected


def test_workers_in_python_and_their_bounds(many_shards: Path) -> None:
    assert TraceOptions().workers == DEFAULT_WORKERS == 1  # threads measured slower (kiroku.trace.query)
    ws = Workspace.open(many_shards)
    with ws.ledger() as ledger:
        index = TraceIndex.open(ws.index_dir, resolve_scope(ledger, stage=None, run=None))
    output = outputs()[1]
    answers = [
        without_time(trace_output(index, output, ws.catalog_dir, TraceOptions(workers=n))) for n in (1, 2, 16)
    ]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["passages"]
    with pytest.raises(InvalidOutput, match="--workers must be at least 1"):
        trace_output(index, output, ws.catalog_dir, TraceOptions(workers=0))
    result = kiroku("trace", "--text", output, "--workers", "0", cwd=many_shards)
    assert result.returncode == 2 and "--workers" in result.stderr
