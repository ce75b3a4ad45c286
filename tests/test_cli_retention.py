"""``kiroku retention plan`` and ``apply`` on real workspaces, with a catalog built by a real JSON Lines ingest.

Records are appended "now", so the tests that delete use the period ``P0D`` (the body may go as soon as it is
recorded); the tests that only plan use ``P1D`` and a later ``--at``.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from kiroku.catalog.retention import RetentionApplied
from kiroku.catalog.shards import ShardRecord
from kiroku.ledger.records import format_time, parse_time
from kiroku.workspace import Workspace
from tests.conftest import kiroku

DOCUMENTS = 250
PER_SHARD = 100  # 3 shards: 100, 100, 50


def set_retention(workspace: Path, default: str = "P10Y", **kinds: str) -> None:
    """Rewrite the [retention] table of kiroku.toml (kind names are quoted: they hold dots)."""
    config = workspace / "kiroku.toml"
    head = config.read_text().split("[retention]")[0]
    lines = "".join(f'"{kind}" = "{period}"\n' for kind, period in kinds.items())
    config.write_text(f'{head}[retention]\ndefault = "{default}"\n\n[retention.kinds]\n{lines}')


def run(workspace: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = kiroku("-w", str(workspace), *args)
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def ingest(workspace: Path, tmp_path: Path, name: str = "news", count: int = DOCUMENTS) -> list[int]:
    """Register a source and ingest a JSONL file of ``count`` documents; the shard records' indexes."""
    path = tmp_path / f"{name}.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {"text": f"{name} article {i}: 記録 {i * 13}", "url": f"https://{name}.example.jp/{i}"}
            )
            + "\n"
            for i in range(count)
        )
    )
    run(workspace, "source", "add", name, "--type", "public_dataset")
    run(workspace, "ingest", "jsonl", str(path), "--source", name, "--shard-documents", str(PER_SHARD))
    return [index for index, shard in shards(workspace) if shard.source == name]


def shards(workspace: Path) -> list[tuple[int, ShardRecord]]:
    """Every catalog.shard record whose body is still held, read straight from the ledger."""
    with Workspace.open(workspace).ledger() as ledger:
        return [
            (r.index, ShardRecord.model_validate(r.body_json()))
            for r in ledger.records_of_kind("catalog.shard")
            if r.body is not None
        ]


def record_time(workspace: Path, index: int) -> datetime:
    with Workspace.open(workspace).ledger() as ledger:
        return parse_time(ledger.record(index).entry.time)


def applied_records(workspace: Path) -> list[RetentionApplied]:
    with Workspace.open(workspace).ledger() as ledger:
        return [
            RetentionApplied.model_validate(r.body_json())
            for r in ledger.records_of_kind("retention.applied")
        ]


def plan_json(workspace: Path, *args: str) -> dict[str, Any]:
    result = json.loads(run(workspace, "retention", "plan", "--json", *args).stdout)
    assert isinstance(result, dict)
    return result


def kind_row(plan: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(row for row in plan["kinds"] if row["kind"] == kind)


def files_of(plan: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [f for f in plan["catalog"]["files"] if f["role"] == role]


def day(moment: datetime, days: int) -> str:
    return (moment + timedelta(days=days)).date().isoformat()


# -- plan ---------------------------------------------------------------------------------------------------


def test_plan_gives_each_kind_its_period_count_and_end_dates(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.shard": "P1D"})
    ingest(workspace, tmp_path)
    recorded = shards(workspace)
    times = [record_time(workspace, index) for index, _ in recorded]
    at = day(times[-1], 3)

    plan = plan_json(workspace, "--at", at)

    assert plan["at"] == f"{at}T00:00:00.000000Z"
    row = kind_row(plan, "catalog.shard")
    assert (row["period"], row["records"], row["ended"], row["due"], row["held"]) == ("P1D", 3, 3, 3, 0)
    assert row["earliest_end"] == format_time(times[0] + timedelta(days=1))
    assert row["latest_end"] == format_time(times[-1] + timedelta(days=1))
    source = kind_row(plan, "source")
    assert (source["period"], source["records"], source["ended"]) == ("P10Y", 1, 0)
    assert plan["catalog"]["text_period"] == "with its shard"
    for role, sha in (("text", "text_sha256"), ("docs", "docs_sha256")):
        listed = files_of(plan, role)
        assert [(f["record"], f["file"], f["sha256"]) for f in listed] == [
            (index, getattr(shard, f"{role}_file"), getattr(shard, sha)) for index, shard in recorded
        ]
        assert [f["ends"] for f in listed] == [format_time(t + timedelta(days=1)) for t in times]
        assert {f["state"] for f in listed} == {"due"}
        assert all(f["bytes"] == (workspace / "catalog" / f["file"]).stat().st_size for f in listed)
    assert plan["due"] == {"bodies": {"catalog.shard": 3}, "files": 6}


def test_plan_before_the_end_shows_everything_held(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.shard": "P1D"})
    ingest(workspace, tmp_path)

    plan = plan_json(workspace)  # now: nothing has ended yet

    assert kind_row(plan, "catalog.shard")["ended"] == 0
    assert {f["state"] for f in plan["catalog"]["files"]} == {"held"}
    assert plan["due"] == {"bodies": {}, "files": 0}


def test_catalog_text_has_its_own_shorter_period(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.shard": "P1Y", "catalog.text": "P30D"})
    ingest(workspace, tmp_path)
    index = shards(workspace)[0][0]
    time = record_time(workspace, index)
    at = day(time, 31)

    plan = plan_json(workspace, "--at", at)

    assert plan["catalog"]["text_period"] == "P30D"
    text = next(f for f in files_of(plan, "text") if f["record"] == index)
    docs = next(f for f in files_of(plan, "docs") if f["record"] == index)
    assert text["ends"] == format_time(time + timedelta(days=30)) and text["state"] == "due"
    assert docs["ends"] == format_time(time.replace(year=time.year + 1)) and docs["state"] == "held"
    assert kind_row(plan, "catalog.shard")["due"] == 0
    assert plan["catalog"]["text"]["due"] == 3 and plan["catalog"]["docs"]["due"] == 0


def test_text_never_outlives_its_shard_record(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.shard": "P1D", "catalog.text": "forever"})
    ingest(workspace, tmp_path)
    index = shards(workspace)[0][0]

    plan = plan_json(workspace, "--at", day(record_time(workspace, index), 2))

    text = next(f for f in files_of(plan, "text") if f["record"] == index)
    assert text["ends"] == format_time(record_time(workspace, index) + timedelta(days=1))
    assert text["state"] == "due"


def test_plan_prints_a_table_of_kinds_and_files(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.shard": "P1D"})
    ingest(workspace, tmp_path)
    recorded = shards(workspace)

    result = run(workspace, "retention", "plan", "--at", day(record_time(workspace, recorded[-1][0]), 2))

    assert "Ledger records" in result.stdout and "Catalog files" in result.stdout
    assert "catalog.shard" in result.stdout and "P1D" in result.stdout
    assert recorded[0][1].text_file in result.stdout
    row = next(line for line in result.stdout.splitlines() if recorded[0][1].text_file in line)
    assert row.split("│")[-2].strip() == "ended"
    assert "record bodies  3 (3 catalog.shard)" in result.stdout
    assert "catalog files  6 (3 text, 3 docs, 0 lineage)" in result.stdout


def test_plan_rejects_a_malformed_date(workspace: Path) -> None:
    result = run(workspace, "retention", "plan", "--at", "next tuesday", ok=False)
    assert result.returncode == 2
    assert "--at 'next tuesday'" in result.stderr and "YYYY-MM-DD" in result.stderr


def test_plan_rejects_a_time_without_timezone(workspace: Path) -> None:
    result = run(workspace, "retention", "plan", "--at", "2030-01-01T00:00:00", ok=False)
    assert result.returncode == 2 and "timezone" in result.stderr


# -- apply --------------------------------------------------------------------------------------------------


def test_apply_deletes_ended_text_and_keeps_metadata_and_stats(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.text": "P0D"})
    ingest(workspace, tmp_path)
    recorded = shards(workspace)
    catalog = workspace / "catalog"
    before = json.loads(run(workspace, "catalog", "stats", "--json").stdout)

    result = run(workspace, "retention", "apply", "--yes")

    assert "catalog files deleted  3 (3 text, 0 docs, 0 lineage)" in result.stdout
    for _, shard in recorded:
        assert not (catalog / shard.text_file).exists()
        assert (catalog / shard.docs_file).is_file()
    [applied] = applied_records(workspace)
    assert applied.bodies == {} and applied.expired_record is None
    assert applied.policy["kind:catalog.text"] == "P0D"
    assert [(f.record, f.role, f.file, f.sha256, f.found_sha256) for f in applied.files] == [
        (index, "text", shard.text_file, shard.text_sha256, shard.text_sha256) for index, shard in recorded
    ]
    assert json.loads(run(workspace, "catalog", "stats", "--json").stdout) == before
    assert "OK" in run(workspace, "log", "verify").stdout
    plan = plan_json(workspace)
    assert {f["state"] for f in files_of(plan, "text")} == {"deleted"}
    assert {f["state"] for f in files_of(plan, "docs")} == {"held"}


def test_apply_deletes_ended_bodies_and_files_and_every_earlier_proof_still_verifies(
    workspace: Path, tmp_path: Path
) -> None:
    set_retention(workspace, "P10Y", **{"catalog.shard": "P0D"})
    ingest(workspace, tmp_path)
    recorded = shards(workspace)
    index = recorded[0][0]
    run(workspace, "log", "checkpoint", "-o", str(tmp_path / "before.checkpoint"))
    bundle = tmp_path / "before.json"
    run(workspace, "log", "prove", str(index), "-o", str(bundle))
    key = run(workspace, "log", "key").stdout.strip()

    result = run(workspace, "retention", "apply", "--yes")

    assert "record bodies deleted  3 (3 catalog.shard)" in result.stdout
    for _, shard in recorded:
        assert not (workspace / "catalog" / shard.text_file).exists()
        assert not (workspace / "catalog" / shard.docs_file).exists()
    assert shards(workspace) == []
    shown = json.loads(run(workspace, "log", "show", str(index), "--json").stdout)
    assert shown["body"] is None and shown["expired_at"] is not None
    [applied] = applied_records(workspace)
    assert applied.bodies == {"catalog.shard": 3}
    assert sorted((f.record, f.role) for f in applied.files) == sorted(
        (i, role) for i, _ in recorded for role in ("text", "docs")
    )
    with Workspace.open(workspace).ledger() as ledger:
        assert applied.expired_record is not None
        assert ledger.record(applied.expired_record).entry.kind == "retention.expired"
    assert "OK" in run(workspace, "log", "verify").stdout
    assert "OK: record" in run(workspace, "verify", str(bundle), "--key", key).stdout
    run(workspace, "log", "checkpoint")
    after = tmp_path / "after.json"
    run(workspace, "log", "prove", str(index), "-o", str(after))
    assert "by digest only" in run(workspace, "verify", str(after), "--key", key).stdout
    stats = json.loads(run(workspace, "catalog", "stats", "--json").stdout)
    assert (stats["documents"], stats["shards"]) == (0, 0)


def test_the_log_grows_consistently_across_apply(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.shard": "P0D"})
    ingest(workspace, tmp_path)
    run(workspace, "log", "checkpoint", "-o", str(tmp_path / "old.checkpoint"))
    run(workspace, "retention", "apply", "--yes")
    run(workspace, "log", "checkpoint", "-o", str(tmp_path / "new.checkpoint"))
    bundle = tmp_path / "consistency.json"

    run(workspace, "log", "consistency", str(tmp_path / "old.checkpoint"), str(tmp_path / "new.checkpoint"),
        "-o", str(bundle))  # fmt: skip

    key = run(workspace, "log", "key").stdout.strip()
    assert "extends its history" in run(workspace, "verify", str(bundle), "--key", key).stdout


def test_apply_refuses_a_future_date_unless_dry_run(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.shard": "P1D"})
    ingest(workspace, tmp_path)
    recorded = shards(workspace)
    future = day(datetime.now(UTC), 3)
    with Workspace.open(workspace).ledger() as ledger:
        size = ledger.size

    refused = run(workspace, "retention", "apply", "--at", future, "--yes", ok=False)
    rehearsed = run(workspace, "retention", "apply", "--at", future, "--dry-run")

    assert refused.returncode == 2
    assert "in the future" in refused.stderr and "--dry-run" in refused.stderr
    assert "record bodies  3 (3 catalog.shard)" in rehearsed.stdout and "Dry run" in rehearsed.stdout
    with Workspace.open(workspace).ledger() as ledger:
        assert ledger.size == size
    assert all((workspace / "catalog" / s.text_file).is_file() for _, s in recorded)


def test_apply_with_nothing_ended_records_nothing(workspace: Path, tmp_path: Path) -> None:
    ingest(workspace, tmp_path)
    with Workspace.open(workspace).ledger() as ledger:
        size = ledger.size

    result = run(workspace, "retention", "apply", "--yes")

    assert "Nothing has reached the end of its retention" in result.stdout
    with Workspace.open(workspace).ledger() as ledger:
        assert ledger.size == size


def test_a_second_apply_finds_nothing_left(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.shard": "P0D"})
    ingest(workspace, tmp_path)
    run(workspace, "retention", "apply", "--yes")

    again = run(workspace, "retention", "apply", "--yes")

    assert "Nothing has reached the end of its retention" in again.stdout
    assert len(applied_records(workspace)) == 1


def test_apply_without_a_terminal_does_not_wait_for_confirmation(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.text": "P0D"})
    ingest(workspace, tmp_path)

    result = kiroku("-w", str(workspace), "retention", "apply", input="")

    assert result.returncode == 0, result.stderr
    assert len(applied_records(workspace)) == 1


# A trigger that fails the insert of the retention.applied record: the state a crash leaves after the files
# were deleted and before the ledger recorded it.
FAIL_RECORDING = {
    "sqlite": [
        "CREATE TRIGGER simulated_crash BEFORE INSERT ON leaves WHEN NEW.kind = 'retention.applied' "
        "BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION simulated_crash() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RAISE EXCEPTION 'simulated crash'; END $$",
        "CREATE TRIGGER simulated_crash BEFORE INSERT ON leaves FOR EACH ROW "
        "WHEN (NEW.kind = 'retention.applied') EXECUTE FUNCTION simulated_crash()",
    ],
}


def test_a_rerun_after_an_interrupted_apply_finishes_and_records_it(
    workspace: Path, tmp_path: Path, store_url: str
) -> None:
    set_retention(workspace, "P10Y", **{"catalog.shard": "P0D"})
    ingest(workspace, tmp_path)
    recorded = shards(workspace)
    engine = create_engine(store_url)
    with engine.begin() as conn:
        for statement in FAIL_RECORDING[engine.dialect.name]:
            conn.exec_driver_sql(statement)

    crashed = run(workspace, "retention", "apply", "--yes", ok=False)

    assert crashed.returncode != 0
    assert all(not (workspace / "catalog" / s.docs_file).exists() for _, s in recorded)
    assert len(shards(workspace)) == 3, "the bodies went although the deletion was not recorded"
    assert "OK" in run(workspace, "log", "verify").stdout
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "DROP TRIGGER simulated_crash" + (" ON leaves" if engine.dialect.name != "sqlite" else "")
        )
    engine.dispose()

    finished = run(workspace, "retention", "apply", "--yes")

    assert "6 were already gone" in finished.stdout
    [applied] = applied_records(workspace)
    assert len(applied.files) == 6 and all(f.found_sha256 is None for f in applied.files)
    assert applied.bodies == {"catalog.shard": 3}
    assert shards(workspace) == []
    assert "OK" in run(workspace, "log", "verify").stdout


def test_a_dry_run_deletes_nothing(workspace: Path, tmp_path: Path) -> None:
    set_retention(workspace, "P10Y", **{"catalog.shard": "P0D"})
    ingest(workspace, tmp_path)
    recorded = shards(workspace)
    with Workspace.open(workspace).ledger() as ledger:
        size = ledger.size

    result = run(workspace, "retention", "apply", "--dry-run")

    assert "record bodies  3 (3 catalog.shard)" in result.stdout and "Dry run" in result.stdout
    with Workspace.open(workspace).ledger() as ledger:
        assert ledger.size == size
    assert shards(workspace) == recorded
    assert all((workspace / "catalog" / s.docs_file).is_file() for _, s in recorded)


def test_log_expire_leaves_records_that_own_catalog_files_to_retention_apply(
    workspace: Path, tmp_path: Path
) -> None:
    set_retention(workspace, default="P0D")
    ingest(workspace, tmp_path, count=5)
    before = shards(workspace)
    result = run(workspace, "log", "expire", ok=False)
    assert result.returncode == 2
    assert "kiroku retention apply" in result.stderr
    assert shards(workspace) == before
