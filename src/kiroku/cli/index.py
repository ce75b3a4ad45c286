"""``kiroku index``: build the indexes that answer questions about the training data."""

from __future__ import annotations

from typing import Annotated

import typer

from kiroku.cli._common import WorkspaceOption, out, progress_bar, user_errors, workspace_from
from kiroku.domains import build_domain_index

__all__ = ["app"]

app = typer.Typer(help="Build the indexes that answer rightsholders' questions.", no_args_is_help=True)


@app.command()
def domains(
    ctx: typer.Context,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild", help="Start from nothing instead of adding what is new since the last build."
        ),
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Build or update the domain index (by registrable domain and host) and commit to it in the ledger.

    Only shards, stages and runs recorded since the last build are read; the catalog's counts are re-summed
    from per-build segments. Each build appends a domains.index record holding every scope's Merkle roots.
    """
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger, progress_bar("Indexing") as bar:
        task = bar.add_task("Indexing", total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        report = build_domain_index(ledger, ws.catalog_dir, ws.index_dir, rebuild=rebuild, progress=progress)
    how = "Built" if report.rebuilt else "Updated"
    out.print(
        f"{how} the domain index: {report.documents:,} documents over {report.domains:,} domains and "
        f"{report.hosts:,} hosts under them in {report.seconds:.2f} s; committed as record {report.record}"
    )
    if not report.rebuilt:
        out.print(f"  {report.new_shards} new shard(s) read; reused {len(report.scopes_reused)} scope(s)")
    out.print(f"  scopes: {', '.join(report.scopes_built + report.scopes_reused)}")
