"""``kiroku model``: model releases: when a model version went into which service, and when it was withdrawn."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from kiroku.catalog.releases import (
    ModelVersion,
    ReleaseAction,
    ReleaseError,
    model_versions,
    models_in_service,
    record_release,
)
from kiroku.catalog.runs import validation_message
from kiroku.cli._common import WorkspaceOption, date_option, fail, out, user_errors, workspace_from

__all__ = ["app"]

app = typer.Typer(help="Record when model versions enter and leave services.", no_args_is_help=True)


@app.command()
def release(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="The model's name, as in its training run.")],
    version: Annotated[str, typer.Argument(help="The model version.")],
    service: Annotated[str, typer.Option(help="The service (product, API) it went into or left.")],
    on: Annotated[
        str | None, typer.Option("--date", help="The day it happened (YYYY-MM-DD; default: today).")
    ] = None,
    withdraw: Annotated[
        bool, typer.Option("--withdraw", help="Record that it was withdrawn from the service.")
    ] = False,
    notes: Annotated[str | None, typer.Option(help="Anything a reader should know.")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Record that a model version went into a service (or, with --withdraw, left it): kind 'model.release'.

    The record names the training runs recorded for MODEL@VERSION. Withdrawing a version that is not in the
    service, releasing one that already is, or a date before the version's last event there is refused.
    """
    when = date_option(on, "--date") or date.today()
    action = ReleaseAction.withdraw if withdraw else ReleaseAction.release
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        try:
            index, event = record_release(
                ledger, model, version, service, on=when, action=action, notes=notes
            )
        except ValidationError as exc:
            fail(f"model release: {validation_message(exc)}")
        except ReleaseError as exc:
            fail(str(exc))
    runs = (
        f"training run record(s) {', '.join(map(str, event.runs))}"
        if event.runs
        else f"no training run recorded for {model}@{version}"
    )
    verb = "withdrawal from" if withdraw else "release into"
    out.print(f"Recorded {verb} service {service} of {model}@{version} on {when} as record {index} ({runs})")


def _json(version: ModelVersion) -> dict[str, Any]:
    return {
        "model": version.model,
        "version": version.version,
        "runs": list(version.runs),
        "services": [
            {
                "service": p.service,
                "released": p.released.isoformat(),
                "withdrawn": p.withdrawn.isoformat() if p.withdrawn else None,
                "release_record": p.release_record,
                "withdraw_record": p.withdraw_record,
            }
            for p in version.periods
        ],
    }


@app.command("list")
def list_(
    ctx: typer.Context,
    start: Annotated[
        str | None, typer.Option("--from", help="Only versions in service on or after this day.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Only versions in service on or before this day.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """List model versions, their training runs and their periods in each service.

    With --from/--to, only the versions in service at some time in that period (or withdrawn within it).
    """
    period = (date_option(start, "--from") or date.min, date_option(end, "--to") or date.max)
    if period[1] < period[0]:
        fail(f"--to {period[1]} is before --from {period[0]}")
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        chosen = models_in_service(ledger, *period) if start or end else None
        versions = model_versions(ledger, chosen)
    if as_json:
        out.print_json(data=[_json(version) for version in versions])
        return
    if not versions:
        out.print("No model versions yet: kiroku run record RUN.toml, kiroku model release MODEL VERSION")
        return
    table = Table("model", "version", "service", "released", "withdrawn", "training runs")
    for version in versions:
        runs = ", ".join(map(str, version.runs))
        for p in version.periods or [None]:
            table.add_row(
                version.model,
                version.version,
                p.service if p else "(not released)",
                str(p.released) if p else "",
                str(p.withdrawn or "") if p else "",
                runs,
            )
    out.print(table)
