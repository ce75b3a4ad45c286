"""Retention of the catalog's files, through the library: readers after deletion, the plan against the ledger's
own expiry rule, files already gone, and names that would leave the catalog folder."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiroku.catalog.retention import (
    RetentionError,
    TextEnded,
    apply_retention,
    file_ended,
    plan_retention,
    text_available,
    text_path,
)
from kiroku.catalog.shards import InputRange, ShardRecord
from kiroku.catalog.stats import CatalogError, catalog_stats
from kiroku.ledger.records import format_time, parse_time
from kiroku.workspace import Workspace
from tests.test_cli_retention import applied_records, ingest, run, set_retention, shards


def test_reading_deleted_text_says_when_its_retention_ended(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.text": "P0D"})
    ingest(workspace, tmp_path)
    run(workspace, "retention", "apply", "--yes")
    ws = Workspace.open(workspace)
    index, shard = shards(workspace)[0]
    with ws.ledger() as ledger:
        ended = format_time(parse_time(ledger.record(index).entry.time))  # P0D: it ends when recorded

    assert text_available(ws.catalog_dir, shard) is False
    with pytest.raises(TextEnded, match=rf"text of shard {shard.shard} ended under retention on {ended}"):
        text_path(ws.catalog_dir, shard)
    marker = file_ended(ws.catalog_dir, shard.text_file)
    assert marker is not None and (marker.record, marker.role, marker.ended) == (index, "text", ended)


def test_text_still_held_is_readable(workspace: Path, tmp_path: Path) -> None:
    ingest(workspace, tmp_path)
    ws = Workspace.open(workspace)
    _, shard = shards(workspace)[0]

    assert text_available(ws.catalog_dir, shard)
    assert text_path(ws.catalog_dir, shard) == ws.catalog_dir / shard.text_file


def test_text_missing_without_retention_is_reported_as_damage(workspace: Path, tmp_path: Path) -> None:
    ingest(workspace, tmp_path)
    ws = Workspace.open(workspace)
    _, shard = shards(workspace)[0]
    (ws.catalog_dir / shard.text_file).unlink()

    with pytest.raises(CatalogError, match="no retention run deleted it") as caught:
        text_available(ws.catalog_dir, shard)
    assert not isinstance(caught.value, TextEnded)


def test_the_plan_counts_exactly_the_bodies_the_ledger_would_expire(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", note="P1M", **{"catalog.shard": "P1D"})
    ingest(workspace, tmp_path)
    notes = tmp_path / "notes.json"
    notes.write_text('{"event": "crawl started"}')
    for time in ("2024-01-31T10:00:00Z", "2024-02-29T23:59:59Z", "2025-06-01T00:00:00+09:00"):
        run(workspace, "log", "append", "--kind", "note", "--file", str(notes), "--time", time)
    ws = Workspace.open(workspace)
    now = datetime.now(UTC)
    moments = [datetime(2024, 2, 29, 10, tzinfo=UTC), datetime(2024, 3, 29, 23, 59, 59, tzinfo=UTC), now]
    moments += [now + timedelta(days=1, hours=1), now + timedelta(days=3660)]

    with ws.ledger() as ledger:
        for moment in moments:
            plan = plan_retention(ledger, ws.catalog_dir, moment)
            assert sum(plan.due_bodies.values()) == ledger.expire(moment, dry_run=True), moment
        note = next(k for k in plan_retention(ledger, ws.catalog_dir, now).kinds if k.kind == "note")
    # Jan 31 + 1 month is clamped to Feb 29 (2024 is a leap year); times are shown in UTC
    assert note.earliest_end is not None and note.latest_end is not None
    assert format_time(note.earliest_end) == "2024-02-29T10:00:00.000000Z"
    assert format_time(note.latest_end) == "2025-06-30T15:00:00.000000Z"
    assert (note.records, note.due) == (3, 3)


def test_notes_from_the_past_end_and_are_deleted_with_the_catalog(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", note="P1D", **{"catalog.text": "P0D"})
    ingest(workspace, tmp_path)
    notes = tmp_path / "notes.json"
    notes.write_text('{"event": "crawl started"}')
    run(workspace, "log", "append", "--kind", "note", "--file", str(notes), "--time", "2025-01-01T00:00:00Z")
    ws = Workspace.open(workspace)

    with ws.ledger() as ledger:
        done = apply_retention(ledger, ws.catalog_dir)

    assert done.bodies == {"note": 1} and len(done.files) == 3
    [applied] = applied_records(workspace)
    assert applied.bodies == {"note": 1} and applied.expired_record == done.expired_record
    assert "OK" in run(workspace, "log", "verify").stdout


def test_a_file_already_gone_is_recorded_as_such(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.text": "P0D"})
    ingest(workspace, tmp_path)
    ws = Workspace.open(workspace)
    (first, gone), *rest = shards(workspace)
    (ws.catalog_dir / gone.text_file).unlink()

    with ws.ledger() as ledger:
        done = apply_retention(ledger, ws.catalog_dir)

    found = {f.record: f.found_sha256 for f in done.files}
    assert found[first] is None
    assert all(found[index] == shard.text_sha256 for index, shard in rest)


def test_stats_keep_working_after_text_and_docs_are_deleted(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.text": "P0D"})
    ingest(workspace, tmp_path, name="kept")
    set_retention(workspace, "P10Y", **{"catalog.shard": "P0D"})
    ingest(workspace, tmp_path, name="ended")
    ws = Workspace.open(workspace)

    with ws.ledger() as ledger:
        apply_retention(ledger, ws.catalog_dir)
        stats = catalog_stats(ledger, ws.catalog_dir)

    assert stats["documents"] == 250 and list(stats["by_source"]) == ["kept"]
    assert {s.source for _, s in shards(workspace)} == {"kept"}


def test_a_record_naming_a_file_outside_the_catalog_is_refused(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.shard": "P0D"})
    outside = workspace / "kiroku-outside.parquet"
    outside.write_bytes(b"not the catalog's")
    forged = ShardRecord(
        shard="forged", source="none", documents=0, distinct_documents=0, kept=0, bytes=0, tokens=0,
        doc_root="00" * 32, docs_file="../kiroku-outside.parquet", docs_sha256="00" * 32,
        text_file="forged.text.parquet", text_sha256="00" * 32,
        input=InputRange(path="x", sha256="00" * 32, start=0, end=0, complete=True),
    )  # fmt: skip
    ws = Workspace.open(workspace)
    with ws.ledger() as ledger:
        ledger.append("catalog.shard", forged)
        size = ledger.size

        with pytest.raises(RetentionError, match="outside"):
            apply_retention(ledger, ws.catalog_dir)

        assert ledger.size == size
    assert outside.read_bytes() == b"not the catalog's"


def test_apply_refuses_a_moment_in_the_future(workspace: Path) -> None:
    ws = Workspace.open(workspace)
    with ws.ledger() as ledger, pytest.raises(RetentionError, match="in the future"):
        apply_retention(ledger, ws.catalog_dir, datetime.now(UTC) + timedelta(hours=1))


def test_the_plan_serialises_to_json_with_utc_times(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.shard": "P1D"})
    ingest(workspace, tmp_path)
    ws = Workspace.open(workspace)
    at = datetime(2030, 1, 1, 9, tzinfo=UTC)

    with ws.ledger() as ledger:
        data = json.loads(json.dumps(plan_retention(ledger, ws.catalog_dir, at).to_json()))

    assert data["at"] == "2030-01-01T09:00:00.000000Z"
    ends = [f["ends"] for f in data["catalog"]["files"]] + [k["latest_end"] for k in data["kinds"]]
    assert all(end is None or end.endswith("Z") for end in ends)
    assert data["catalog"]["docs"]["due"] == 3 and data["catalog"]["text"]["due"] == 3


def test_a_stage_lineage_file_ends_with_its_stage_record(workspace: Path, tmp_path: Path) -> None:
    from kiroku.catalog.stages import input_ids, record_stage

    set_retention(workspace, "P10Y", **{"catalog.stage": "P1D"})
    ingest(workspace, tmp_path)
    ws = Workspace.open(workspace)
    recorded = datetime(2025, 1, 1, 9, tzinfo=UTC)
    with ws.ledger() as ledger:
        kept = input_ids(ledger, ws.catalog_dir, "catalog").to_pylist()[:100]
        index, stage = record_stage(ledger, ws.catalog_dir, "lang-ja", "catalog", kept, time=recorded)
        [lineage] = [f for f in plan_retention(ledger, ws.catalog_dir).files if f.role == "lineage"]
        assert (lineage.record, lineage.file, lineage.sha256) == (
            index,
            stage.lineage_file,
            stage.lineage_sha256,
        )
        assert (lineage.ends, lineage.state) == (recorded + timedelta(days=1), "due")

        done = apply_retention(ledger, ws.catalog_dir)

    assert not (ws.catalog_dir / stage.lineage_file).exists()
    assert done.bodies == {"catalog.stage": 1}
    assert [(f.role, f.record, f.found_sha256) for f in done.files] == [
        ("lineage", index, stage.lineage_sha256)
    ]
    assert "OK" in run(workspace, "log", "verify").stdout
