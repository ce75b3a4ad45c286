"""``kiroku catalog``: read the catalog."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from kiroku.catalog.stats import catalog_stats
from kiroku.cli._common import WorkspaceOption, out, user_errors, workspace_from

__all__ = ["app"]

app = typer.Typer(help="The catalog of training documents.", no_args_is_help=True)


@app.command()
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Documents, bytes and tokens by source, data type and cleaning stage; opt-out drops by reason."""
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        data = catalog_stats(ledger, ws.catalog_dir)
    if as_json:
        out.print_json(data=data)
        return
    out.print(
        f"{data['documents']:,} documents ({data['kept']:,} kept), {data['bytes']:,} bytes, "
        f"{data['tokens']:,} tokens in {data['shards']} shards"
    )
    for title, key in (("by source", "by_source"), ("by data type", "by_type")):
        table = Table(title, "documents", "kept", "bytes", "tokens", title_justify="left")
        for name, entry in data[key].items():
            table.add_row(name, *(f"{entry[k]:,}" for k in ("documents", "kept", "bytes", "tokens")))
        out.print(table)
    if data["by_stage"]:
        table = Table(
            "by stage", "input", "in", "kept", "dropped", "kept bytes", "kept tokens", title_justify="left"
        )
        for name, entry in data["by_stage"].items():
            table.add_row(
                name,
                entry["input"],
                *(
                    f"{entry[k]:,}"
                    for k in ("input_documents", "kept", "dropped", "kept_bytes", "kept_tokens")
                ),
            )
        out.print(table)
        reasons = Table("stage", "dropped because", "documents", title_justify="left")
        for name, entry in data["by_stage"].items():
            for reason, count in entry["dropped_by_reason"].items():
                reasons.add_row(name, reason, f"{count:,}")
        if reasons.row_count:
            out.print(reasons)
    if data["optout"]:
        table = Table("opt-out signal", "documents")
        for reason, count in data["optout"].items():
            table.add_row(reason, f"{count:,}")
        out.print(table)
