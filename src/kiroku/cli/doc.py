"""``kiroku doc``: one document's whole lineage, with a chained proof anyone can check offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kiroku.catalog.lineage import DocumentLineage, document_bundle, document_lineage, find_documents
from kiroku.cli._common import (
    WorkspaceOption,
    checkpoint_covering,
    err,
    fail,
    out,
    user_errors,
    workspace_from,
)

__all__ = ["app", "print_lineage"]

app = typer.Typer(help="Show one document's lineage with its chained proof.", no_args_is_help=True)


def print_lineage(lineage: DocumentLineage) -> None:
    """Print a document's lineage as text: fetch, opt-out, each stage, the runs."""
    out.print(f"[bold]Document[/bold] {lineage.doc_id.hex()}")
    for o in lineage.occurrences:
        where = o.url or (f"id {o.external_id}" if o.external_id else "no URL")
        when = f" on {o.fetch_time.isoformat()}" if o.fetch_time else ""
        out.print(f"  from      {where}{when}")
        out.print(f"            source {o.shard.source}, shard {o.shard.shard} (record {o.record})")
        if o.optout:
            verdict = "kept and flagged" if o.kept else "dropped at ingest"
            out.print(f"  opt-out   {', '.join(o.optout)}: {verdict}")
        else:
            out.print(f"  opt-out   no signal; {'kept' if o.kept else 'not kept'} at ingest")
    if lineage.stages:
        out.print("[bold]Cleaning stages[/bold]")
        width = max(len(s.stage.name) for s in lineage.stages)
        for s in lineage.stages:
            outcome = f"dropped: {s.reason}" if s.outcome == "dropped" else s.outcome
            out.print(f"  {s.stage.name:<{width}}  {outcome}  (record {s.record}, over {s.stage.input})")
    else:
        out.print("No cleaning stages recorded.")
    if lineage.runs:
        out.print("[bold]Training runs[/bold]")
        for use in lineage.runs:
            out.print(f"  {use.model} {use.version} (record {use.record}) via {', '.join(use.via)}")
    else:
        out.print("Not in the data mix of any recorded training run.")
    for note in lineage.notes:
        out.print(f"[dim]Note: {note}[/dim]")


@app.command()
def show(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="ID_OR_URL", help="A document id (64 hex digits) or a URL.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the lineage as JSON.")] = False,
    proof: Annotated[
        Path | None,
        typer.Option(
            "--proof",
            help="Write the chained proof (document in shard and stages, records in the log) to this file; "
            "check it with 'kiroku verify FILE --key KEY'.",
            dir_okay=False,
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Show a document's lineage: fetch, opt-out signals, each stage kept or dropped and why, runs that used it."""
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        ids = find_documents(ledger, ws.catalog_dir, key)
        lineages = [document_lineage(ledger, ws.catalog_dir, doc_id) for doc_id in ids]
        lineages = [lineage for lineage in lineages if lineage.occurrences]
        if not lineages:
            fail(f"{key}: no such document in the catalog", 1)
        if proof is not None:
            if len(lineages) > 1:
                fail(
                    f"{key}: {len(lineages)} documents have this URL; give one of their ids to write a proof"
                )
            lineage = lineages[0]
            indexes = [o.record for o in lineage.occurrences] + [s.record for s in lineage.stages]
            indexes += [use.record for use in lineage.runs]
            note, fresh = checkpoint_covering(ledger, ws.signer(), indexes)
            bundle = document_bundle(ledger, ws.catalog_dir, lineage, ws.verifier(), note)
            proof.write_text(bundle.to_json(), encoding="utf-8")
    if as_json:
        data = [lineage.to_json() for lineage in lineages]
        out.print_json(json.dumps(data[0] if len(data) == 1 else data))
    else:
        for lineage in lineages:
            print_lineage(lineage)
    if proof is not None:
        signed = "a new checkpoint, signed now" if fresh else "the latest signed checkpoint"
        (err if as_json else out).print(
            f"Proof written to {proof} (against {signed}); check it with 'kiroku verify {proof} --key KEY'"
        )
