"""``kiroku retention``: what the retention policy ends when, and applying it to ledger bodies and catalog files."""

from __future__ import annotations

import re
import sys
from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.table import Table

from kiroku.catalog.retention import (
    AppliedRetention,
    CatalogFile,
    RetentionPlan,
    apply_retention,
    plan_retention,
)
from kiroku.cli._common import WorkspaceOption, err, fail, out, user_errors, workspace_from
from kiroku.ledger import InvalidRecord
from kiroku.ledger.records import format_time, parse_time

__all__ = ["app"]

app = typer.Typer(
    help="Plan and apply the retention policy to ledger bodies and catalog files.", no_args_is_help=True
)

AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="The moment to plan or apply at: a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 time. "
        "Default: now.",
    ),
]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STATE = {"held": "held", "due": "[bold]ended[/]", "deleted": "deleted"}


def _moment(text: str | None) -> datetime:
    """``--at``: a plain date is midnight UTC; a time must carry its timezone."""
    if text is None:
        return datetime.now(UTC)
    try:
        if _DATE.match(text.strip()):
            return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time(), UTC)
        return parse_time(text.strip())
    except (ValueError, InvalidRecord) as exc:
        fail(f"--at {text!r}: not a date (YYYY-MM-DD) or an RFC 3339 time with a timezone ({exc})")


def _when(value: datetime | None, none: str = "never") -> str:
    """A moment to the second, in UTC (``--json`` gives microseconds)."""
    return none if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _size(value: int) -> str:
    if value < 1000:
        return f"{value} B"
    scaled = float(value)
    for unit in ("kB", "MB", "GB", "TB"):
        scaled /= 1000
        if scaled < 1000 or unit == "TB":
            break
    return f"{scaled:,.1f} {unit}"


def _kinds_table(plan: RetentionPlan) -> Table:
    table = Table(title="Ledger records", title_justify="left")
    table.add_column("kind", overflow="fold")
    table.add_column("period", no_wrap=True)
    for name in ("records", "held", "ended", "expired", "never"):
        table.add_column(name, justify="right", min_width=len(name))
    table.add_column("earliest end", overflow="fold")
    table.add_column("latest end", overflow="fold")
    for k in plan.kinds:
        counts = (k.records, k.held, k.ended, k.expired, k.never)
        none = "never" if k.never else "-"
        table.add_row(
            k.kind,
            k.period,
            *(f"{n:,}" for n in counts),
            _when(k.earliest_end, none),
            _when(k.latest_end, none),
        )
    return table


def _files_table(plan: RetentionPlan) -> Table:
    table = Table(title="Catalog files", title_justify="left")
    table.add_column("record", justify="right")
    table.add_column("role")
    table.add_column("file", overflow="fold")
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("ends", overflow="fold")
    table.add_column("state")
    for f in plan.files:
        table.add_row(str(f.record), f.role, f.file, _file_size(f), _when(f.ends), _state(f))
    return table


def _print_plan(plan: RetentionPlan) -> None:
    out.print(f"Retention at {format_time(plan.at)} (UTC)")
    policy = ", ".join(f"{k.removeprefix('kind:')} {v}" for k, v in plan.policy.to_mapping().items())
    out.print(f"Policy: {policy}; retention.* records are kept forever")
    out.print(_kinds_table(plan))
    summary = plan.to_json()["catalog"]
    out.print(f"Catalog text is kept: {summary['text_period']}")
    if plan.files:
        out.print(_files_table(plan))
    _print_due(plan)
    if plan.unaccounted:
        err.print(
            f"Warning: {len(plan.unaccounted)} catalog record(s) (e.g. record {plan.unaccounted[0]}) lost their "
            "bodies outside 'kiroku retention apply' (kiroku log expire), so the ledger no longer names their "
            "files; look for them in the catalog folder."
        )


def _file_size(f: CatalogFile) -> str:
    return "gone" if f.bytes is None else _size(f.bytes)


def _state(f: CatalogFile) -> str:
    if f.state == "deleted":
        return f"deleted (record {f.deleted_by})"
    return _STATE[f.state]


def _print_due(plan: RetentionPlan) -> None:
    if plan.nothing_due:
        out.print(f"Nothing still held has ended by {format_time(plan.at)}: 'apply' would delete nothing.")
        return
    bodies = plan.due_bodies
    files = plan.due_files
    listed = ", ".join(f"{count:,} {kind}" for kind, count in bodies.items()) or "none"
    size = sum(f.bytes or 0 for f in files)
    roles = ", ".join(f"{sum(f.role == r for f in files)} {r}" for r in ("text", "docs", "lineage"))
    out.print(f"Ended by {format_time(plan.at)} and still held:")
    out.print(f"  record bodies  {sum(bodies.values()):,} ({listed})")
    out.print(f"  catalog files  {len(files):,} ({roles}), {_size(size)}")


@app.command()
def plan(
    ctx: typer.Context,
    at: AtOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Show when each obligation ends: per record kind and per catalog file, and what has ended at --at."""
    ws = workspace_from(ctx, workspace)
    moment = _moment(at)
    with user_errors(), ws.ledger() as ledger:
        result = plan_retention(ledger, ws.catalog_dir, moment)
    if as_json:
        out.print_json(data=result.to_json())
        return
    _print_plan(result)


def _print_applied(done: AppliedRetention) -> None:
    bodies = ", ".join(f"{count:,} {kind}" for kind, count in done.bodies.items()) or "none"
    gone = sum(f.found_sha256 is None for f in done.files)
    out.print(f"Applied retention at {format_time(done.plan.at)}:")
    out.print(f"  record bodies deleted  {sum(done.bodies.values()):,} ({bodies})")
    roles = ", ".join(f"{sum(f.role == r for f in done.files)} {r}" for r in ("text", "docs", "lineage"))
    note = f"; {gone} were already gone" if gone else ""
    out.print(f"  catalog files deleted  {len(done.files):,} ({roles}){note}")
    expired = (
        "" if done.expired_record is None else f", bodies in retention.expired record {done.expired_record}"
    )
    out.print(f"  recorded as            retention.applied record {done.record}{expired}")
    out.print("Digests stay in the ledger: every proof still verifies ('kiroku log verify').")


@app.command()
def apply(
    ctx: typer.Context,
    at: AtOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be deleted; delete nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Delete the record bodies and catalog files whose retention has ended, and record what went.

    Exits 1 if you decline the confirmation.
    """
    ws = workspace_from(ctx, workspace)
    moment = _moment(at)
    if moment > datetime.now(UTC) and not dry_run:
        fail(
            f"--at {format_time(moment)} is in the future: deleting now what ends then would break the "
            "retention promise; rehearse it with --dry-run"
        )
    with user_errors(), ws.ledger() as ledger:
        planned = plan_retention(ledger, ws.catalog_dir, moment)
        if planned.nothing_due:
            out.print(f"Nothing has reached the end of its retention at {format_time(moment)}.")
            return
        _print_due(planned)
        if dry_run:
            out.print("Dry run: nothing was deleted.")
            return
        if not yes and sys.stdin.isatty() and not typer.confirm("Delete them?", default=False):
            err.print("Cancelled: nothing was deleted.")
            raise typer.Exit(1)
        done = apply_retention(ledger, ws.catalog_dir, moment)
    if done.record is None:
        out.print(f"Nothing has reached the end of its retention at {format_time(moment)}.")
        return
    _print_applied(done)
