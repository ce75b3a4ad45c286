"""``kiroku query``: did a domain, a host, a path or a URL appear in the training data, and what became of it."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.table import Table

from kiroku.catalog.lineage import document_lineage, find_documents
from kiroku.cli._common import (
    WorkspaceOption,
    checkpoint_covering,
    err,
    fail,
    out,
    progress_bar,
    read_input,
    user_errors,
    workspace_from,
)
from kiroku.cli.doc import print_lineage
from kiroku.domains import DomainIndex
from kiroku.domains.answer import DomainAnswer, answer_domain, scopes_asked, table_of
from kiroku.domains.bulk import BULK_COLUMNS, answer_many
from kiroku.domains.bundle import domain_bundle, verification_view, verify_domain_bundle
from kiroku.domains.names import parse_target
from kiroku.domains.prefix import answer_prefix

__all__ = ["app"]

app = typer.Typer(
    help="Answer rightsholders: did a domain or URL appear in the training data, and did it survive cleaning?",
    no_args_is_help=True,
)

ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model", help="Only the training runs of this model (NAME, NAME@VERSION or a run's ident)."
    ),
]
StageOption = Annotated[
    str | None,
    typer.Option("--stage", help="Count as kept what this cleaning stage kept (default: the final one)."),
]


def _print_answer(answer: DomainAnswer) -> None:
    data = answer.to_json()
    out.print(data["summary"]["en"])
    out.print(data["summary"]["ja"])
    if not data["appeared"]:
        return
    table = Table("", "documents", title_justify="left", show_header=False, box=None, pad_edge=False)
    table.add_row("fetched", f"{data['fetched']:,}")
    for signal, count in data["dropped_by_signal"].items():
        table.add_row(f"  dropped at ingest: {signal}", f"{count:,}")
    table.add_row("kept at ingest", f"{data['kept_at_ingest']:,}")
    for signal, count in data["flagged_by_signal"].items():
        table.add_row(f"  kept although flagged: {signal}", f"{count:,}")
    for name, stage in data["stages"].items():
        table.add_row(f"  kept by stage {name}", f"{stage['kept']:,}")
    table.add_row(f"in the final kept set ({data['kept_scope']})", f"{data['kept']:,}")
    if data["not_yet_cleaned"]:
        table.add_row("  fetched after cleaning ran, not cleaned yet", f"{data['not_yet_cleaned']:,}")
    for run, count in data["runs"].items():
        table.add_row(f"trained on by {run}", f"{count:,}")
    out.print(table)
    when = " .. ".join(x for x in (data["first_fetch"], data["last_fetch"]) if x)
    if when:
        out.print(f"[dim]fetched {when}; index record {data['index']['record']}[/dim]")


@app.command()
def domain(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(
            metavar="DOMAIN",
            help="A registrable domain (example.com), a host (news.example.com), a path prefix "
            "(example.com/news/) or an internationalised name (例え.jp).",
        ),
    ],
    model: ModelOption = None,
    stage: StageOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as one JSON object.")] = False,
    bundle: Annotated[
        Path | None,
        typer.Option(
            "--bundle",
            help="Write the answer's proof (the name's entry, or its two neighbours, in every scope) to this "
            "file; check it with 'kiroku verify FILE --key KEY'.",
            dir_okay=False,
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Write the answer as a bilingual (ja/en) HTML page.", dir_okay=False),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Did this domain appear in the training data? Pages fetched, dropped by opt-outs, kept, used by each run."""
    ws = workspace_from(ctx, workspace)
    verification: dict[str, Any] | None = None
    with user_errors():
        target = parse_target(name)
        if target.kind == "prefix" and bundle is not None:
            fail(
                f"a proof covers a whole host or domain, not a path; ask for {target.name} to get one "
                "(the answer for the path is shown without --bundle)"
            )
        index = DomainIndex.open(ws.index_dir)
        with ws.ledger() as ledger:
            index.check(ledger)
            if target.kind == "prefix":
                answer = answer_prefix(index, ledger, ws.catalog_dir, target, model=model, stage=stage)
            else:
                answer = answer_domain(index, target, model=model, stage=stage)
            if bundle is not None:
                note, fresh = checkpoint_covering(ledger, ws.signer(), [index.manifest.record])
                scopes = [s.scope for s in scopes_asked(index, model=model, stage=stage)]
                proof = domain_bundle(
                    index, ledger, target.name, table_of(target), scopes, ws.verifier(), note
                )
                verified = verify_domain_bundle(proof, ws.verifier())  # never hand out a bundle that fails
                bundle.write_text(proof.to_json(), encoding="utf-8")
                verification = verification_view(verified, ws.verifier().name)
    if html is not None:
        from kiroku.domains.render import render_answer_html  # Jinja2 is loaded only when a page is asked for

        html.write_text(render_answer_html(answer.to_json(), verification), encoding="utf-8")
    if as_json:
        out.print_json(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        _print_answer(answer)
    notes = []
    if bundle is not None:
        signed = "a new checkpoint, signed now" if fresh else "the latest signed checkpoint"
        notes.append(
            f"Proof written to {bundle} (against {signed}); check it with 'kiroku verify {bundle} --key KEY'"
        )
    if html is not None:
        notes.append(f"HTML page written to {html}")
    for note in notes:
        (err if as_json else out).print(note)


@app.command()
def url(
    ctx: typer.Context,
    address: Annotated[
        str, typer.Argument(metavar="URL", help="The page's URL, as fetched (http or https).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the lineage as JSON.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """One page's lineage: when it was fetched, its opt-out signals, each stage's verdict, the runs that used it."""
    if not address.lower().startswith(("http://", "https://")):
        fail(f"{address!r} is not an http(s) URL; for a whole site use 'kiroku query domain {address}'")
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        lineages = [
            document_lineage(ledger, ws.catalog_dir, i)
            for i in find_documents(ledger, ws.catalog_dir, address)
        ]
        lineages = [lineage for lineage in lineages if lineage.occurrences]
    if not lineages:
        if as_json:
            out.print_json(json.dumps({"url": address, "appeared": False, "documents": []}))
        else:
            out.print(f"{address}: no page at this URL is in the training-data catalog.")
        return
    if as_json:
        out.print_json(
            json.dumps(
                {"url": address, "appeared": True, "documents": [lineage.to_json() for lineage in lineages]}
            )
        )
        return
    for lineage in lineages:
        print_lineage(lineage)


def _names(data: bytes, source: str) -> Iterator[str]:
    """One name per line, or the first column of a CSV; blank lines and '#' comments skipped."""
    text = data.decode("utf-8-sig", "replace")
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        if number == 1 and row[0].strip().lower() in ("domain", "name", "host", "query"):
            continue  # a header
        yield row[0].strip()
    del source


@app.command("domains")
def domains_(
    ctx: typer.Context,
    names_file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="Names, one per line or in a CSV's first column ('-' for stdin)."
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the CSV here instead of standard output.", dir_okay=False),
    ] = None,
    model: ModelOption = None,
    stage: StageOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Answer for many domains at once: one CSV row per name, thousands of names per second."""
    names = list(_names(read_input(names_file, "names file"), str(names_file)))
    ws = workspace_from(ctx, workspace)
    with user_errors():
        index = DomainIndex.open(ws.index_dir)
        with ws.ledger() as ledger:
            index.check(ledger)
        with progress_bar("Answering") as bar:
            task = bar.add_task("Answering", total=len(names))
            rows = answer_many(
                index, names, model=model, stage=stage, progress=lambda n: bar.advance(task, n)
            )
            handle: TextIO = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
            try:
                writer = csv.DictWriter(handle, fieldnames=[*BULK_COLUMNS, *rows.run_columns])
                writer.writeheader()
                writer.writerows(rows.rows)
            finally:
                if output:
                    handle.close()
    if output is not None:
        found = sum(1 for row in rows.rows if row.get("appeared") == "true")
        invalid = sum(1 for row in rows.rows if row["error"])
        out.print(
            f"{len(rows.rows):,} names answered ({found:,} appeared, {invalid:,} not valid names) into {output}"
        )
