"""OpenLineage RunEvents from Airflow and Spark become cleaning stages; events that cannot be used are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kiroku.catalog.shards import doc_id_of
from kiroku.catalog.stages import find_stage, list_stages, read_lineage
from kiroku.ingest import OpenLineageError, ingest_files, ingest_openlineage, read_jsonl
from kiroku.ledger import Ledger, Signer, merkle
from tests.conftest import kiroku
from tests.ingest.conftest import ORIGIN, SOURCE

DATA = Path(__file__).parent.parent / "data" / "openlineage"
CORPUS = [json.loads(line) for line in (DATA / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
JA = [doc for doc in CORPUS if doc["id"].startswith("ja")]


def ids_of(*names: str) -> list[bytes]:
    by_name = {doc["id"]: doc_id_of(doc["text"]) for doc in CORPUS}
    return sorted(by_name[name] for name in names)


@pytest.fixture
def events(tmp_path: Path) -> Path:
    """A copy of the example events with the files their outputs name."""
    folder = tmp_path / "events"
    shutil.copytree(DATA, folder)
    return folder


@pytest.fixture
def catalog(ledger: Ledger, tmp_path: Path) -> Path:
    ingest_files(ledger, tmp_path / "catalog", SOURCE, [DATA / "corpus.jsonl"], read_jsonl)
    return tmp_path / "catalog"


def test_airflow_and_spark_runs_become_two_chained_stages(
    ledger: Ledger, catalog: Path, events: Path
) -> None:
    paths = [events / "airflow-langid.jsonl", events / "airflow-failed.jsonl", events / "spark-quality.json"]
    result = ingest_openlineage(ledger, catalog, paths)
    (langid_index, langid), (quality_index, quality) = result.recorded
    assert (langid.name, langid.input, langid.via) == ("pretrain_cleaning.langid", "catalog", "openlineage")
    assert (langid.input_documents, langid.kept) == (len(CORPUS), len(JA))
    assert langid.dropped_by_reason == {"langid: not Japanese": len(CORPUS) - len(JA)}
    assert langid.kept_root == merkle.root(ids_of(*(doc["id"] for doc in JA))).hex()
    assert ledger.record(langid_index).entry.time == "2026-06-02T00:06:58.043000Z"  # the event's eventTime
    assert (quality.name, quality.input, quality.input_record) == ("quality", langid.name, langid_index)
    assert quality.dropped_by_reason == {"gopher:repetition": 1, "pii:phone": 1, "minhash: near-duplicate": 1}
    kept = [line for line in (events / "kept" / "quality.jsonl").read_text().splitlines()]
    assert quality.kept_root == merkle.root(ids_of(*(json.loads(line)["id"] for line in kept))).hex()
    assert find_stage(ledger, "quality")[0] == quality_index
    assert ledger.verify(Signer.generate(ORIGIN).verifier()).size == ledger.size


def test_parameters_keep_the_kiroku_facet_and_the_whole_event(
    ledger: Ledger, catalog: Path, events: Path
) -> None:
    ((_, langid),) = ingest_openlineage(ledger, catalog, [events / "airflow-langid.jsonl"]).recorded
    complete = json.loads((events / "airflow-langid.jsonl").read_text().splitlines()[1])
    assert langid.parameters == {
        "model": "fasttext lid.176.bin", "language": "ja", "threshold": 0.65, "openlineage": complete,
    }  # fmt: skip
    openlineage: Any = langid.parameters["openlineage"]  # JSON as recorded
    assert openlineage["run"]["facets"]["airflow"]["dag"]["dag_id"] == "pretrain_cleaning"


def test_start_events_and_failed_runs_record_nothing_with_a_note(
    ledger: Ledger, catalog: Path, events: Path
) -> None:
    size = ledger.size
    result = ingest_openlineage(ledger, catalog, [events / "airflow-failed.jsonl"])
    assert result.recorded == [] and ledger.size == size
    assert len(result.notes) == 1
    assert (
        "line 2: run 01972b3b-0c44-7a1d-8c55-90e1f3a2b7c3 of job acme-airflow/pretrain_cleaning.pii_scrub "
        in result.notes[0]
    )
    assert result.notes[0].endswith("ended with FAIL: nothing recorded for it")
    start_only = events / "start.jsonl"
    start_only.write_text((events / "airflow-langid.jsonl").read_text().splitlines()[0] + "\n")
    result = ingest_openlineage(ledger, catalog, [start_only])
    assert result.recorded == [] and "line 1: START event of run" in result.notes[0]


def test_a_run_ingested_twice_is_recorded_once(ledger: Ledger, catalog: Path, events: Path) -> None:
    ingest_openlineage(ledger, catalog, [events / "airflow-langid.jsonl"])
    size = ledger.size
    again = ingest_openlineage(ledger, catalog, [events / "airflow-langid.jsonl"])
    assert again.recorded == [] and ledger.size == size
    assert "is already recorded as stage 'pretrain_cleaning.langid'" in again.notes[-1]


def complete_event(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((DATA / "airflow-langid.jsonl").read_text().splitlines()[1])
    event.update(changes)
    return event


def test_a_parquet_output_with_an_id_column_and_a_stage_override(
    ledger: Ledger, catalog: Path, tmp_path: Path
) -> None:
    pq.write_table(
        pa.table({"id": [JA[0]["id"], JA[1]["url"]], "score": [0.9, 0.7]}), tmp_path / "kept.parquet"
    )
    event = complete_event(
        outputs=[{"namespace": "file", "name": str(tmp_path / "kept.parquet"), "facets": {}}]
    )
    (tmp_path / "event.json").write_text(json.dumps(event))
    ((_, stage),) = ingest_openlineage(ledger, catalog, [tmp_path / "event.json"], stage="ja-sample").recorded
    assert (stage.name, stage.kept) == ("ja-sample", 2)
    assert stage.kept_root == merkle.root(ids_of(JA[0]["id"], JA[1]["id"])).hex()


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("{not json", r"events.jsonl: line 1: not JSON"),
        (json.dumps([1]), r"events.jsonl: line 1: an OpenLineage event is a JSON object"),
        (
            json.dumps({k: v for k, v in complete_event().items() if k != "run"}),
            r"line 1: field 'run': Field required",
        ),
        (json.dumps(complete_event(eventType="DONE")), r"line 1: field 'eventType': Input should be 'START'"),
        (
            json.dumps(complete_event(eventTime="2026-06-02T00:06:58")),
            r"line 1: eventTime .* has no timezone",
        ),
        (json.dumps(complete_event(inputs=[])), r"line 1: cannot tell the input set \(inputs: none\)"),
        (
            json.dumps(complete_event(outputs=[{"namespace": "s3://bucket", "name": "kept.jsonl"}])),
            r"line 1: no output file holds the kept ids \(outputs: s3://bucket/kept.jsonl\)",
        ),
        (
            json.dumps(complete_event(outputs=[{"namespace": "file", "name": "missing.jsonl"}])),
            r"line 1: stage 'pretrain_cleaning.langid': .*missing.jsonl: no such file",
        ),
    ],
)
def test_unusable_events_are_refused_naming_file_and_line(
    ledger: Ledger, catalog: Path, tmp_path: Path, event: str, message: str
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(event + "\n")
    size = ledger.size
    with pytest.raises(OpenLineageError, match=message):
        ingest_openlineage(ledger, catalog, [path])
    assert ledger.size == size and not list_stages(ledger)


def test_an_unknown_kept_id_names_the_kept_file_and_line(
    ledger: Ledger, catalog: Path, tmp_path: Path
) -> None:
    (tmp_path / "kept.jsonl").write_text(
        json.dumps({"id": JA[0]["id"]}) + "\n" + json.dumps({"id": "jaweb-999999"}) + "\n"
    )
    event = complete_event(outputs=[{"namespace": "file", "name": "kept.jsonl"}])
    (tmp_path / "events.jsonl").write_text(json.dumps(event) + "\n")
    with pytest.raises(
        OpenLineageError,
        match=r"events.jsonl: line 1: stage .*kept.jsonl: line 2: 'jaweb-999999' is not in the input set",
    ):
        ingest_openlineage(ledger, catalog, [tmp_path / "events.jsonl"])
    assert not list_stages(ledger)


def test_cli_ingests_events_and_prints_notes(workspace: Path, events: Path) -> None:
    assert kiroku("source", "add", SOURCE, "--type", "public_dataset", cwd=workspace).returncode == 0
    assert (
        kiroku("ingest", "jsonl", str(events / "corpus.jsonl"), "--source", SOURCE, cwd=workspace).returncode
        == 0
    )
    result = kiroku(
        "ingest", "openlineage", str(events / "airflow-langid.jsonl"), str(events / "airflow-failed.jsonl"),
        str(events / "spark-quality.json"), cwd=workspace,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Recorded stage pretrain_cleaning.langid over catalog" in result.stdout
    assert "Recorded stage quality over pretrain_cleaning.langid" in result.stdout
    assert "ended with FAIL: nothing recorded for it" in result.stderr
    listed = json.loads(kiroku("stage", "list", "--json", cwd=workspace).stdout)
    assert [(s["name"], s["via"]) for s in listed] == [
        ("pretrain_cleaning.langid", "openlineage"),
        ("quality", "openlineage"),
    ]
    lineage = read_lineage(workspace / "catalog", find_stage_json(listed, "quality"))
    assert lineage.num_rows == len(JA)
    bad = kiroku("ingest", "openlineage", str(events / "kept" / "quality.jsonl"), cwd=workspace)
    assert bad.returncode == 2 and "quality.jsonl: line 1: field 'eventTime': Field required" in bad.stderr


def find_stage_json(listed: list[dict[str, Any]], name: str) -> Any:
    from kiroku.catalog.stages import StageRecord

    entry = next(s for s in listed if s["name"] == name)
    return StageRecord.model_validate({k: v for k, v in entry.items() if k != "record"})
