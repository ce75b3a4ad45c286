"""``kiroku ingest``: read datasets and crawls into catalog shards, each finished shard a ledger record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from kiroku.catalog import SourceError
from kiroku.catalog.shards import Document
from kiroku.cli._common import WorkspaceOption, err, fail, out, progress_bar, user_errors, workspace_from
from kiroku.cli.stage import print_stage_summary, progress_callback
from kiroku.ingest import (
    BlocklistStep,
    IngestError,
    JsonlFields,
    WarcReader,
    ingest_files,
    read_jsonl,
    read_parquet,
)
from kiroku.ingest.images import ImageInventoryReader, find_images, write_inventory
from kiroku.ingest.openlineage import ingest_openlineage
from kiroku.optout import BlocklistError, Blocklists
from kiroku.workspace import Workspace

__all__ = ["app"]

app = typer.Typer(help="Ingest training data into the catalog (streaming, resumable).", no_args_is_help=True)

Reader = Callable[[Path, int], Iterator[tuple[int, Document]]]
SourceOption = Annotated[str, typer.Option(help="The registered source these files belong to.")]
ShardOption = Annotated[int, typer.Option(min=1, help="Documents per shard.")]


@app.command()
def jsonl(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="JSON Lines files (.jsonl, .jsonl.gz, .jsonl.zst).")],
    source: SourceOption,
    text_field: Annotated[
        str, typer.Option(help="Field holding the text (dots reach into objects).")
    ] = "text",
    url_field: Annotated[str, typer.Option(help="Field holding the URL, if any.")] = "url",
    id_field: Annotated[str, typer.Option(help="Field holding the dataset's own id, if any.")] = "id",
    shard_documents: ShardOption = 100_000,
    workspace: WorkspaceOption = None,
) -> None:
    """Ingest JSON Lines datasets. Re-running records nothing twice; an interrupted run resumes."""
    reader = partial(read_jsonl, fields=JsonlFields(text_field, url_field or None, id_field or None))
    _ingest(workspace_from(ctx, workspace), source, files, reader, shard_documents, unit="line")


@app.command()
def parquet(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Parquet files (one document per row).")],
    source: SourceOption,
    text_field: Annotated[
        str, typer.Option(help="Column holding the text (dots reach into struct columns).")
    ] = "text",
    url_field: Annotated[str, typer.Option(help="Column holding the URL, if any.")] = "url",
    id_field: Annotated[str, typer.Option(help="Column holding the dataset's own id, if any.")] = "id",
    shard_documents: ShardOption = 100_000,
    workspace: WorkspaceOption = None,
) -> None:
    """Ingest Parquet datasets, streamed by row group. Re-running records nothing twice; resumable."""
    reader = partial(read_parquet, fields=JsonlFields(text_field, url_field or None, id_field or None))
    _ingest(workspace_from(ctx, workspace), source, files, reader, shard_documents, unit="row")


@app.command()
def warc(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="WARC files (.warc, .warc.gz).")],
    source: SourceOption,
    robots: Annotated[
        list[Path] | None,
        typer.Option(
            "--robots",
            metavar="FILE",
            help="A WARC of robots.txt (and tdmrep.json) captures kept apart from the pages; repeatable.",
        ),
    ] = None,
    shard_documents: ShardOption = 100_000,
    workspace: WorkspaceOption = None,
) -> None:
    """Ingest WARC crawls: HTTP 200 text responses, HTML turned into text, each with the opt-out signals of its
    site (robots.txt and tdmrep.json captured in the file or in --robots files) and page. Resumable; recorded
    once."""
    ws = workspace_from(ctx, workspace)
    settings = ws.config.optout
    try:
        reader = WarcReader(
            optout=settings.to_policy(), robots=robots or [], crawler_agent=settings.crawler_agent
        )
    except IngestError as exc:
        fail(str(exc))
    _ingest(ws, source, files, reader, shard_documents, unit="record")
    for summary in reader.summaries.values():
        agent = f"{summary.crawler_agent} (from {summary.agent_from})" if summary.crawler_agent else "none"
        out.print(
            f"{summary.path}: robots.txt captured for {summary.robots_origins:,} origin(s), tdmrep.json for "
            f"{summary.tdmrep_origins:,}; crawler agent {agent}; {len(summary.ignored)} capture(s) unreadable"
        )
        for line in summary.ignored:
            err.print(f"  unreadable: {line}")


@app.command()
def images(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help="Image files, or folders searched for .jpg .png .webp .tif .gif files."),
    ],
    source: SourceOption,
    shard_documents: ShardOption = 100_000,
    workspace: WorkspaceOption = None,
) -> None:
    """Ingest images with their provenance: C2PA training-and-data-mining assertions and IPTC data-mining
    prohibitions are opt-outs (the workspace's opt-out policy drops or flags them); IPTC or C2PA
    trainedAlgorithmicMedia marks an image synthetic. Recorded once; see docs/provenance.md."""
    ws = workspace_from(ctx, workspace)
    try:
        found = find_images(paths)
        inventory = write_inventory(found, ws.root / "inputs")
    except IngestError as exc:
        fail(str(exc))
    reader = ImageInventoryReader(ws.config.optout.to_policy())
    _ingest(ws, source, [inventory.path], reader, shard_documents, unit="image")
    states = ", ".join(f"{count:,} {state}" for state, count in sorted(inventory.c2pa.items())) or "none"
    out.print(
        f"{inventory.images:,} image(s): {inventory.opted_out:,} with an opt-out "
        f"(policy {ws.config.optout.policy}), {inventory.synthetic:,} synthetic, C2PA manifests: {states}; "
        f"{inventory.problems:,} with unreadable parts; inventory {inventory.path}"
    )


def _ingest(
    ws: Workspace,
    source: str,
    files: list[Path],
    reader: Reader,
    shard_documents: int,
    *,
    unit: str,
) -> None:
    try:
        blocklists = Blocklists.load(ws.config.optout.blocklist_files(ws.root))
    except BlocklistError as exc:
        fail(str(exc))
    steps = [BlocklistStep(blocklists)] if blocklists else []
    with user_errors(), ws.ledger() as ledger, progress_bar("Ingesting") as bar:
        task = bar.add_task("Ingesting documents", total=None)
        try:
            results = ingest_files(
                ledger,
                ws.catalog_dir,
                source,
                files,
                reader,
                max_documents=shard_documents,
                on_document=lambda: bar.advance(task),
                steps=steps,
            )
        except (IngestError, SourceError) as exc:
            bar.stop()
            fail(str(exc))
    for result in results:
        if result.already_done:
            err.print(
                f"{result.path}: already in the catalog (sha256 {result.sha256[:16]}…); nothing recorded"
            )
            continue
        resumed = f", resumed at {unit} {result.resumed_from + 1}" if result.resumed_from else ""
        out.print(f"{result.path}: {result.documents:,} documents in {len(result.shards)} shard(s){resumed}")


@app.command()
def openlineage(
    ctx: typer.Context,
    events: Annotated[
        list[Path], typer.Argument(help="OpenLineage RunEvent files: .json (an event or an array) or .jsonl.")
    ],
    stage: Annotated[
        str | None,
        typer.Option(help="The stage's name (default: the job facet kiroku.stage, else job.name)."),
    ] = None,
    input: Annotated[
        str | None,
        typer.Option("--input", help="The input set (default: the input dataset in namespace 'kiroku')."),
    ] = None,
    id_field: Annotated[str, typer.Option(help="The id field of the kept and dropped files.")] = "id",
    workspace: WorkspaceOption = None,
) -> None:
    """Record a cleaning stage for each COMPLETE run in OpenLineage events (Airflow, Spark, ...).

    The kept ids are read from the run's output file; START events are skipped; a failed run records nothing.
    """
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger, progress_bar("Recording") as bar:
        try:
            result = ingest_openlineage(
                ledger,
                ws.catalog_dir,
                events,
                stage=stage,
                input=input,
                id_field=id_field,
                progress=progress_callback(bar),
            )
        except IngestError as exc:
            bar.stop()
            fail(str(exc))
    for note in result.notes:
        err.print(f"note: {note}", markup=False)
    for index, record in result.recorded:
        print_stage_summary(index, record)
    if not result.recorded:
        out.print("No completed run to record.")
