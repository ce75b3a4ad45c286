"""``kiroku index``: build the indexes that answer questions about the training data."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from kiroku.cli._common import WorkspaceOption, err, fail, out, progress_bar, user_errors, workspace_from
from kiroku.domains import build_domain_index
from kiroku.trace.build import BuildOptions, build_trace_index
from kiroku.trace.corpus import resolve_scope
from kiroku.trace.errors import IndexCorrupt
from kiroku.trace.index import TraceIndex

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


@app.command()
def build(
    ctx: typer.Context,
    stage: Annotated[
        str | None, typer.Option("--stage", help="Index the documents a cleaning stage kept.")
    ] = None,
    run: Annotated[
        str | None,
        typer.Option("--run", help="Index a training run's data mix (MODEL@VERSION/RUN, or the run's name)."),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="local: shards built in this process; ray: shards built as Ray tasks (pip install 'kiroku\\[ray]').",
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="With --engine ray: the cluster (ray://HOST:10001, HOST:6379 or auto); default $RAY_ADDRESS, "
            "else a local cluster for this build.",
        ),
    ] = None,
    sparse: Annotated[
        int,
        typer.Option(
            "--sparse",
            min=1,
            help="Index every K-th suffix only: the suffix array's pointers shrink K-fold (6 bytes a token dense, "
            "4.5 at 2, 3.75 at 4); spans of at least K tokens are still found, with the same counts.",
        ),
    ] = 1,
    shard_tokens: Annotated[
        int, typer.Option("--shard-tokens", min=1000, help="Tokens per index shard.")
    ] = BuildOptions.shard_tokens,
    semantic: Annotated[
        bool | None,
        typer.Option(
            "--semantic/--no-semantic",
            help="Also embed passages for the semantic tier (paraphrase; pip install 'kiroku\\[semantic]'). Slow: "
            "a few 100-token passages a second per CPU core. Default: what the index was built with (none for a new "
            "index).",
        ),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Start from nothing instead of resuming or adding what is new.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Build or update the trace index (exact spans, near-duplicate passages, BM25) and commit to it in the ledger.

    Without --stage or --run the index covers everything the catalog kept. An interrupted build resumes after its
    last finished shard; a later build of the catalog index adds the shards recorded since, with the same
    settings (--sparse, --semantic; changing one needs --rebuild).
    """
    if engine not in ("local", "ray"):
        fail(f"--engine must be local or ray, not {engine!r}")
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger, progress_bar("Indexing") as bar:
        scope = resolve_scope(ledger, stage=stage, run=run)
        task = bar.add_task(f"Indexing {scope.label}", total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        options = BuildOptions(shard_tokens=shard_tokens, sparse=sparse, semantic=semantic)
        report = build_trace_index(
            ledger, ws.catalog_dir, ws.index_dir, scope, options=options, rebuild=rebuild,
            engine="ray" if engine == "ray" else "local", ray_address=ray_address, progress=progress,
        )  # fmt: skip
    if report.up_to_date:
        out.print(
            f"The trace index of {report.scope} is up to date: {report.documents:,} documents, "
            f"{report.tokens:,} tokens in {report.shards} shard(s) (record {report.record})"
        )
        return
    rate = report.text_bytes / 1e6 / report.seconds if report.seconds else 0.0
    out.print(
        f"Indexed {report.scope}: {report.documents:,} documents, {report.tokens:,} tokens in {report.shards} "
        f"shard(s), {report.new_shards} new, in {report.seconds:.1f} s ({rate:.1f} MB/s of text); "
        f"committed as record {report.record}"
    )
    if report.tokens:
        out.print(
            f"  index size {report.index_bytes / 1e6:,.1f} MB ({report.index_bytes / report.tokens:.1f} bytes a token, "
            "all tiers)"
        )
    if report.semantic_passages is not None:
        out.print(f"  semantic tier: {report.semantic_passages:,} passages embedded (all-MiniLM-L6-v2)")


@app.command()
def verify(
    ctx: typer.Context,
    stage: Annotated[
        str | None, typer.Option("--stage", help="The index of a cleaning stage's kept set.")
    ] = None,
    run: Annotated[str | None, typer.Option("--run", help="The index of a training run's data mix.")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Re-hash every file of a trace index against its ledger record; exit 1 if any byte differs.

    Answers check the index's record and file sizes, not every byte: run this after copying an index or on a
    schedule. Without --stage or --run, the catalog's index.
    """
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        scope = resolve_scope(ledger, stage=stage, run=run)
        index = TraceIndex.open(ws.index_dir, scope)
        index.check(ledger)
        try:
            files = index.verify()
        except IndexCorrupt as exc:
            err.print(escape(f"kiroku: the trace index of {scope.label} does not verify: {exc}"))
            raise typer.Exit(1) from exc
    record = index.manifest.index
    out.print(
        f"The trace index of {scope.label} verifies: {files} files re-hashed over {len(record.shards)} shard(s), "
        f"{record.documents:,} documents, {record.tokens:,} tokens, committed in ledger record {index.manifest.record}"
    )
