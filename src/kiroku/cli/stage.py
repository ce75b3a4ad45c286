"""``kiroku stage``: cleaning-stage lineage: which documents each stage kept and dropped, and why."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, TaskID
from rich.table import Table

from kiroku.catalog.stages import (
    CATALOG,
    StageError,
    StageRecord,
    find_stage,
    list_stages,
    read_id_file,
    record_stage,
)
from kiroku.cli._common import WorkspaceOption, fail, out, progress_bar, user_errors, workspace_from

__all__ = ["app", "parse_params", "print_stage_summary", "progress_callback", "stage_json"]

app = typer.Typer(
    help="Record cleaning stages: which documents each kept and dropped, and why.", no_args_is_help=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as a JSON object: a VALUE that parses as JSON is taken as JSON, else as a string."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--param {pair!r} is not KEY=VALUE")
        key = key.strip()
        if key in params:
            fail(f"--param {key!r} is given twice")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def progress_callback(bar: Progress) -> Callable[[str, int, int | None], None]:
    """A `kiroku.catalog.stages.Progress` callback that shows each phase as a task of ``bar``."""
    tasks: dict[str, TaskID] = {}

    def update(phase: str, advance: int, total: int | None) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=total)
        bar.update(tasks[phase], advance=advance, total=total)

    return update


def stage_json(index: int, stage: StageRecord) -> dict[str, Any]:
    """A stage as ``kiroku stage show --json`` prints it: the record's fields and its index."""
    return {"record": index, **stage.model_dump(mode="json")}


def print_stage_summary(index: int, stage: StageRecord) -> None:
    """What recording a stage did, in a few lines."""
    out.print(f"Recorded stage {stage.name} over {stage.input} as record {index} (via {stage.via})")
    out.print(f"  input     {stage.input_documents:,} documents")
    out.print(f"  kept      {stage.kept:,}")
    out.print(f"  dropped   {stage.dropped:,}")
    for reason, count in sorted(stage.dropped_by_reason.items(), key=lambda item: (-item[1], item[0])):
        out.print(f"    {count:>10,}  {reason}")
    out.print(f"  kept root {stage.kept_root}")
    out.print(f"  lineage   {stage.lineage_file}")


@app.command()
def record(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The stage's name, unique in the ledger, e.g. langid-ja.")],
    input: Annotated[
        str, typer.Option("--input", help=f"The input set: {CATALOG!r} or the name of an earlier stage.")
    ],
    kept: Annotated[
        Path,
        typer.Option(
            "--kept",
            help="The documents kept: one id per line, or JSON Lines, or Parquet. An id is the 64-hex "
            "document id, the dataset's own id or the URL; a JSON line without an id may give the text.",
        ),
    ],
    dropped: Annotated[
        Path | None,
        typer.Option(help='Reasons for dropped documents: JSON Lines {"id": ..., "reason": ...}.'),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(help="Reason for dropped documents not in --dropped (default: 'dropped by NAME')."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(help="A parameter of the stage, KEY=VALUE (VALUE as JSON if it parses); repeatable."),
    ] = None,
    id_field: Annotated[str, typer.Option(help="The id field in JSON Lines and Parquet files.")] = "id",
    text_field: Annotated[str, typer.Option(help="The text field, used when a record has no id.")] = "text",
    workspace: WorkspaceOption = None,
) -> None:
    """Record a cleaning stage: every input document is kept (listed in --kept) or dropped, with a reason."""
    params = parse_params(param or [])
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger, progress_bar("Recording") as bar:
        try:
            callback = progress_callback(bar)
            kept_ids = read_id_file(kept, id_field=id_field, text_field=text_field, progress=callback)
            dropped_ids = (
                read_id_file(dropped, id_field=id_field, text_field=text_field, progress=callback)
                if dropped
                else None
            )
            index, stage = record_stage(
                ledger,
                ws.catalog_dir,
                name,
                input,
                kept_ids,
                dropped_reasons=dropped_ids,
                default_reason=reason,
                parameters=params,
                via="cli",
                progress=callback,
            )
        except StageError as exc:
            bar.stop()
            fail(str(exc))
    print_stage_summary(index, stage)


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False, workspace: WorkspaceOption = None) -> None:
    """List the recorded stages, oldest first."""
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        stages = list_stages(ledger)
    if as_json:
        out.print_json(data=[stage_json(index, stage) for index, stage in stages])
        return
    if not stages:
        out.print("No stages yet: kiroku stage record NAME --input catalog --kept FILE")
        return
    table = Table("name", "input", "documents", "kept", "dropped", "via", "record")
    for index, s in stages:
        table.add_row(
            s.name, s.input, f"{s.input_documents:,}", f"{s.kept:,}", f"{s.dropped:,}", s.via, str(index)
        )
    out.print(table)


@app.command()
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The stage's name.")],
    as_json: JsonFlag = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Show one stage: its input, counts, reasons, parameters, roots and lineage file."""
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        index, stage = find_stage(ledger, name)
    if as_json:
        out.print_json(data=stage_json(index, stage))
        return
    data = stage_json(index, stage)
    for key, value in data.items():
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False) if value else ""
        out.print(f"{key:18} {'' if value is None else value}")
