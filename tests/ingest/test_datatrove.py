"""A real datatrove pipeline (reader, filter, kiroku's step) records a cleaning stage in a real workspace."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("datatrove", reason="datatrove is not installed (pip install 'kiroku[datatrove]')")

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.filters import LambdaFilter
from datatrove.pipeline.readers import JsonlReader

from kiroku.catalog import DataType, Source, register_source
from kiroku.catalog.shards import doc_id_of
from kiroku.catalog.stages import StageError, find_stage, list_stages, read_lineage
from kiroku.ingest import KirokuStageRecorder, ingest_files, read_jsonl
from kiroku.ledger import merkle
from kiroku.workspace import Workspace

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
DOCS = [
    {"id": "ja-1", "url": "https://ja.example.jp/1", "text": "記録は後に伝えるために書き留めることである。"},
    {"id": "en-1", "url": "https://en.example.com/1", "text": "A record is an account kept in writing."},
    {"id": "ja-2", "url": "https://ja.example.jp/2", "text": "著作権は著作物を創作した者の権利である。"},
    {
        "id": "en-2",
        "url": "https://en.example.com/2",
        "text": "Copyright protects original works of authorship.",
    },
    {
        "id": "ja-3",
        "url": "https://ja.example.jp/3",
        "text": "機械学習は経験から学ぶアルゴリズムの研究である。",
    },
    {"id": "mixed", "url": "https://mixed.example.net/1", "text": "Tokyo (東京) is the capital of Japan."},
]


def write(path: Path, docs: list[dict[str, str]], *, with_ids: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [doc if with_ids else {k: v for k, v in doc.items() if k != "id"} for doc in docs]
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def kept_ids(*texts: str) -> list[bytes]:
    return sorted(doc_id_of(text) for text in texts)


@pytest.fixture
def ws(workspace: Path, tmp_path: Path) -> Workspace:
    """The test workspace with DOCS ingested as source 'web' (two input files)."""
    opened = Workspace.open(workspace)
    with opened.ledger() as ledger:
        register_source(ledger, Source(name="web", type=DataType.web_crawl))
        files = [write(tmp_path / "in" / "a.jsonl", DOCS[:3]), write(tmp_path / "in" / "b.jsonl", DOCS[3:])]
        ingest_files(ledger, opened.catalog_dir, "web", files, read_jsonl)
    return opened


def run(pipeline: list[object], tmp_path: Path, tasks: int = 1) -> None:
    logs = tmp_path / f"logs-{len(list(tmp_path.glob('logs-*')))}"
    LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=str(logs)).run()


def test_a_filter_followed_by_the_recorder_records_what_passed(ws: Workspace, tmp_path: Path) -> None:
    run(
        [
            JsonlReader(str(tmp_path / "in")),
            LambdaFilter(lambda doc: bool(JAPANESE.search(doc.text))),
            KirokuStageRecorder(
                workspace=ws.root,
                stage="has-japanese",
                parameters={"rule": "any kana or kanji"},
                reason="no Japanese",
            ),
        ],
        tmp_path,
    )
    with ws.ledger() as ledger:
        index, stage = find_stage(ledger, "has-japanese")
        assert ledger.record(index).entry.kind == "catalog.stage"
    japanese = [doc["text"] for doc in DOCS if JAPANESE.search(doc["text"])]
    assert (stage.via, stage.input, stage.input_documents, stage.kept) == ("datatrove", "catalog", 6, 4)
    assert stage.dropped_by_reason == {"no Japanese": 2}
    assert stage.kept_root == merkle.root(kept_ids(*japanese)).hex()
    assert stage.parameters["rule"] == "any kana or kanji"
    datatrove: Any = stage.parameters["datatrove"]  # JSON as recorded
    assert datatrove["tasks"] == 1
    assert not (ws.catalog_dir / "stages" / "has-japanese.datatrove").exists()


def test_several_tasks_record_one_stage_and_ids_fall_back_to_the_text(ws: Workspace, tmp_path: Path) -> None:
    # the same documents without ids: datatrove names them file/line, so kiroku matches them by their text
    write(tmp_path / "noid" / "a.jsonl", DOCS[:3], with_ids=False)
    write(tmp_path / "noid" / "b.jsonl", DOCS[3:], with_ids=False)
    run(
        [
            JsonlReader(str(tmp_path / "noid")),
            LambdaFilter(lambda doc: "record" not in doc.text.lower() and "記録" not in doc.text),
            KirokuStageRecorder(workspace=ws.root, stage="no-records"),
        ],
        tmp_path,
        tasks=2,
    )
    with ws.ledger() as ledger:
        stages = list_stages(ledger)
    assert [s.name for _, s in stages] == ["no-records"]
    stage = stages[0][1]
    assert (stage.kept, stage.dropped_by_reason) == (4, {"dropped by no-records": 2})
    datatrove: Any = stage.parameters["datatrove"]
    assert datatrove["tasks"] == 2
    lineage = read_lineage(ws.catalog_dir, stage).to_pylist()
    assert [row["doc_id"] for row in lineage if not row["kept"]] == kept_ids(DOCS[0]["text"], DOCS[1]["text"])


def test_a_second_datatrove_stage_works_on_the_first_ones_kept_set(ws: Workspace, tmp_path: Path) -> None:
    ja = KirokuStageRecorder(workspace=ws.root, stage="ja")
    run([JsonlReader(str(tmp_path / "in")), LambdaFilter(lambda doc: doc.id.startswith("ja")), ja], tmp_path)
    short = KirokuStageRecorder(workspace=ws.root, stage="short", input="ja", parameters={"max_chars": 21})
    run(
        [
            JsonlReader(str(tmp_path / "in")),
            LambdaFilter(lambda doc: doc.id.startswith("ja") and len(doc.text) <= 21),
            short,
        ],
        tmp_path,
    )
    with ws.ledger() as ledger:
        first, _ = find_stage(ledger, "ja")
        _, stage = find_stage(ledger, "short")
    assert (stage.input, stage.input_record, stage.input_documents) == ("ja", first, 3)
    assert (
        stage.kept_root
        == merkle.root(
            kept_ids(*(d["text"] for d in DOCS if d["id"].startswith("ja") and len(d["text"]) <= 21))
        ).hex()
    )


def test_a_document_outside_the_input_set_fails_the_pipeline_and_records_nothing(
    ws: Workspace, tmp_path: Path
) -> None:
    write(tmp_path / "other" / "c.jsonl", [{"id": "new-1", "text": "never ingested into the catalog"}])
    with pytest.raises(
        StageError, match=r"datatrove step 'x' \(task 0\): document 1: 'new-1' is not in the input set"
    ):
        run(
            [JsonlReader(str(tmp_path / "other")), KirokuStageRecorder(workspace=ws.root, stage="x")],
            tmp_path,
        )
    with ws.ledger() as ledger:
        assert list_stages(ledger) == []
