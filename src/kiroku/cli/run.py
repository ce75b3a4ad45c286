"""``kiroku run``: training runs: the model, its method and compute, and the exact kept sets it trained on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from kiroku.catalog.runs import RunError, RunRecord, find_run, list_runs, load_run, record_run
from kiroku.cli._common import WorkspaceOption, fail, out, user_errors, workspace_from

__all__ = ["app"]

app = typer.Typer(help="Record training runs: model, methods, compute and data mix.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _json(index: int, run: RunRecord) -> dict[str, Any]:
    data = {"record": index, **run.model_dump(mode="json")}
    for entry, tokens in zip(data["data_mix"], run.trained_tokens(), strict=True):
        entry["trained_tokens"] = tokens
    return data


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


@app.command()
def record(
    ctx: typer.Context,
    run_file: Annotated[Path, typer.Argument(metavar="RUN.toml", help="The run described in TOML.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Record a training run described in a TOML file (a ledger record of kind 'training.run').

    \b
    name = "pretrain-1"                    # run name; model, version and name are recorded once
    model = "acme-lm"
    version = "2.0"                        # the model version this run produced
    methods = ["pre-training"]             # pre-training, continued-pre-training, sft,
                                           # preference-tuning (RLHF/DPO), distillation, other
    training_tokens = 2_000_000_000_000    # tokens seen, repeats included
    compute_flops = 8.4e22                 # optional: if left out, 6 x parameters x tokens,
                                           # recorded with compute_estimated = true
    start = 2026-01-10                     # TOML dates
    end = 2026-03-02
    hardware = "512 x H100 80GB"           # optional
    description = "..."                    # optional
    weight_unit = "share"                  # "share": weights are shares of the tokens, summing to 1
                                           # "epochs": weights are passes over each set
    \\[architecture]
    family = "decoder-only transformer"
    parameters = 7_000_000_000
    layers = 32                            # optional
    context_length = 8192                  # optional
    notes = "grouped-query attention"      # optional
    \\[\\[data_mix]]                           # one table per entry; name exactly one of:
    stage = "dedup"                        #   a recorded cleaning stage: its kept documents
    weight = 0.8
    \\[\\[data_mix]]
    source = "aozora"                      #   a source: every kept document of its shards
    weight = 0.2                           #   (or catalog = true: every kept document)

    Each entry is recorded with what it resolved to now: a stage's record and kept-set root, or the shard
    records of a source or of the catalog and the Merkle root over their document roots. A full example:
    docs/examples/run.toml.
    """
    ws = workspace_from(ctx, workspace)
    with user_errors():
        run = load_run(run_file)
    with user_errors(), ws.ledger() as ledger:
        try:
            index, recorded = record_run(ledger, run, catalog_dir=ws.catalog_dir)
        except RunError as exc:
            fail(f"{run_file}: {exc}")
    how = "estimated as 6 x parameters x tokens" if recorded.compute_estimated else "as given"
    kept = ", ".join(f"{entry.describe()} {entry.documents:,}" for entry in recorded.data_mix)
    out.print(
        f"Recorded run {recorded.name} of {recorded.model_version} as record {index}; "
        f"kept documents: {kept}; compute {recorded.compute_flops:.3g} FLOPs ({how})"
    )


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False, workspace: WorkspaceOption = None) -> None:
    """List the recorded training runs."""
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        runs = list_runs(ledger)
    if as_json:
        out.print_json(data=[_json(index, run) for index, run in runs])
        return
    if not runs:
        out.print("No training runs yet: kiroku run record RUN.toml")
        return
    table = Table("run", "model", "version", "methods", "tokens", "compute (FLOPs)", "dates", "record")
    for index, run in runs:
        table.add_row(
            run.name,
            run.model,
            run.version,
            ", ".join(run.methods),
            f"{run.training_tokens:,}",
            f"{run.compute_flops:.3g}{' (est.)' if run.compute_estimated else ''}",
            f"{run.start} .. {run.end}",
            str(index),
        )
    out.print(table)


@app.command()
def show(
    ctx: typer.Context,
    ident: Annotated[
        str,
        typer.Argument(metavar="NAME_OR_MODEL@VERSION", help="Run name, MODEL@VERSION or MODEL@VERSION/RUN."),
    ],
    as_json: JsonFlag = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Show one training run: its facts and its data mix with each entry's commitment, documents and tokens."""
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        index, run = find_run(ledger, ident)
    if as_json:
        out.print_json(data=_json(index, run))
        return
    arch = run.architecture
    shape = ", ".join(
        part
        for part in (
            arch.family,
            f"{arch.parameters:,} parameters",
            f"{arch.layers} layers" if arch.layers else "",
            f"context {arch.context_length:,}" if arch.context_length else "",
        )
        if part
    )
    for key, value in (
        ("run", f"{run.name} (record {index})"),
        ("model", run.model_version),
        ("architecture", shape + (f"; {arch.notes}" if arch.notes else "")),
        ("methods", ", ".join(run.methods)),
        ("tokens", f"{run.training_tokens:,}"),
        (
            "compute",
            f"{run.compute_flops:.3g} FLOPs{' (estimated: 6 x parameters x tokens)' if run.compute_estimated else ''}",
        ),
        ("dates", f"{run.start} .. {run.end}"),
        ("hardware", run.hardware or ""),
        ("description", run.description or ""),
    ):
        if value:
            out.print(f"{key:13} {value}")
    table = Table(
        "entry", f"weight ({run.weight_unit})", "committed to", "root", "documents", "tokens", "trained tokens",
        title="data mix (documents and tokens: the entry's kept set)", title_justify="left",
    )  # fmt: skip
    for entry, trained in zip(run.data_mix, run.trained_tokens(), strict=True):
        where = f"record {entry.record}" if entry.record is not None else _shards(entry.shards)
        table.add_row(
            entry.describe(), f"{entry.weight:g}", where, entry.root[:12] + "…",
            f"{entry.documents:,}", _count(entry.tokens), _count(trained),
        )  # fmt: skip
    out.print(table)


def _shards(indexes: list[int]) -> str:
    if len(indexes) <= 4:
        return "shard records " + ", ".join(map(str, indexes))
    return f"{len(indexes)} shard records {indexes[0]}..{indexes[-1]}"
