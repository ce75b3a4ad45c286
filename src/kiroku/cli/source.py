"""``kiroku source``: register and list the sources of training data."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from kiroku.catalog import DataType, Source, find_source, list_sources, register_source
from kiroku.cli._common import WorkspaceOption, date_option, fail, out, user_errors, workspace_from

__all__ = ["app"]

app = typer.Typer(help="Sources of training data: register them, list them.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@app.command()
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A short unique name, e.g. acme-web-2026q2.")],
    type_: Annotated[
        DataType, typer.Option("--type", help="The kind of data, as the code distinguishes them.")
    ],
    origin: Annotated[
        str | None, typer.Option(help="Where it comes from: a URL, a crawler or a vendor.")
    ] = None,
    licence: Annotated[str | None, typer.Option(help="Licence or terms under which it is used.")] = None,
    period_from: Annotated[
        str | None, typer.Option("--from", help="First day of collection (YYYY-MM-DD).")
    ] = None,
    period_to: Annotated[
        str | None, typer.Option("--to", help="Last day of collection (YYYY-MM-DD).")
    ] = None,
    personal_data: Annotated[
        bool | None, typer.Option("--personal-data/--no-personal-data", help="May it hold personal data?")
    ] = None,
    copyrighted: Annotated[
        bool | None, typer.Option("--copyrighted/--no-copyrighted", help="May it hold copyrighted works?")
    ] = None,
    generator: Annotated[
        str | None, typer.Option(help="For synthetic data: the model that generated it.")
    ] = None,
    description: Annotated[str | None, typer.Option(help="Anything else a reader should know.")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Register a source of training data (a ledger record of kind 'source')."""
    try:
        source = Source(
            name=name,
            type=type_,
            origin=origin,
            licence=licence,
            period_start=date_option(period_from, "--from"),
            period_end=date_option(period_to, "--to"),
            personal_data=personal_data,
            copyrighted_works=copyrighted,
            generator_model=generator,
            description=description,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        fail(f"source {name!r}: {field + ': ' if field else ''}{first['msg'].removeprefix('Value error, ')}")
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        index = register_source(ledger, source)
    out.print(f"Registered source {name} ({type_.value}) as record {index}")


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False, workspace: WorkspaceOption = None) -> None:
    """List the registered sources."""
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        sources = list(list_sources(ledger))
    if as_json:
        out.print_json(data=[{"record": index, **s.model_dump(mode="json")} for index, s in sources])
        return
    if not sources:
        out.print("No sources yet: kiroku source add NAME --type TYPE")
        return
    table = Table("name", "type", "origin", "licence", "period", "record")
    for index, s in sources:
        period = f"{s.period_start or '…'} .. {s.period_end or '…'}" if s.period_start or s.period_end else ""
        table.add_row(s.name, s.type.value, s.origin or "", s.licence or "", period, str(index))
    out.print(table)


@app.command()
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The source's name.")],
    as_json: JsonFlag = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Show one source."""
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        index, source = find_source(ledger, name)
    data = {"record": index, **source.model_dump(mode="json")}
    if as_json:
        out.print_json(data=data)
        return
    for key, value in data.items():
        out.print(f"{key:18} {'' if value is None else value}")
