"""``kiroku log``: append records, read them, sign checkpoints, make proofs, audit the ledger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kiroku.catalog.retention import OWNER_KINDS, plan_retention
from kiroku.cli._common import (
    WorkspaceOption,
    err,
    fail,
    out,
    progress_bar,
    read_input,
    user_errors,
    workspace_from,
)
from kiroku.ledger import InvalidRecord, Ledger, LoggedRecord, PreparedRecord, parse_json_object, prepare
from kiroku.ledger.records import parse_time

__all__ = ["app"]

app = typer.Typer(
    help="The ledger: append records, sign checkpoints, prove and verify.", no_args_is_help=True
)

OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _write(text: str, path: Path | None, what: str) -> None:
    if path is None:
        out.file.write(text)
        return
    try:
        path.write_text(text)
    except OSError as exc:
        fail(f"cannot write {what} to {path}: {exc.strerror}")
    err.print(f"Wrote {what} to {path}")


def _lines(data: bytes, source: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(data.decode("utf-8", "strict").splitlines(), start=1):
        if line.strip():
            yield number, line


def _prepared(data: bytes, source: str, kind: str, time: str | None, lines: bool) -> Iterator[PreparedRecord]:
    if not lines:
        yield prepare(kind, parse_json_object(data, source=source), time)
        return
    for number, line in _lines(data, source):
        where = f"{source}: line {number}"
        body = parse_json_object(line, source=where)
        try:
            yield prepare(kind, body, time)
        except InvalidRecord as exc:
            raise InvalidRecord(f"{where}: {exc}") from exc


@app.command()
def append(
    ctx: typer.Context,
    kind: Annotated[str, typer.Option(help="Record kind, e.g. 'note' (any JSON object).")],
    file: Annotated[
        Path,
        typer.Option(help="The record body: a JSON object, or JSON Lines with --lines. '-' reads stdin."),
    ],
    lines: Annotated[
        bool,
        typer.Option(
            "--lines",
            help="FILE holds one body per line (JSON Lines); all are checked before any is appended.",
        ),
    ] = False,
    time: Annotated[
        str | None, typer.Option(help="When the event happened (RFC 3339; default: now).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Append a record (or, with --lines, many records in batches) to the ledger."""
    ws = workspace_from(ctx, workspace)
    source = "stdin" if str(file) == "-" else str(file)
    data = read_input(file, "record file")
    lines = lines or source.endswith(".jsonl")
    with user_errors():
        if time is not None:
            parse_time(time)
        try:
            # check every record before appending any, so a bad line leaves the ledger untouched
            count = sum(1 for _ in _prepared(data, source, kind, time, lines))
        except UnicodeDecodeError as exc:
            fail(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        with ws.ledger() as ledger, progress_bar("Appending") as bar:
            task = bar.add_task("Appending", total=count)
            indexes = ledger.append_many(
                _prepared(data, source, kind, time, lines), progress=lambda n: bar.advance(task, n)
            )
    if len(indexes) == 1:
        record = ledger.record(indexes[0])
        out.print(f"Appended record {indexes[0]} ({record.entry.kind}, {record.entry.time})")
        out.print(f"  leaf hash {record.leaf_hash.hex()}")
        out.print(f"  body kept until {record.expires_at or 'forever'}")
    else:
        out.print(f"Appended {len(indexes)} records of kind {kind}: {indexes.start}..{indexes.stop - 1}")


def _record_json(record: LoggedRecord) -> dict[str, object]:
    return {
        "index": record.index,
        **record.entry.to_json(),
        "leaf_hash": record.leaf_hash.hex(),
        "body": record.body_json(),
        "expires_at": record.expires_at,
        "expired_at": record.expired_at,
    }


def _summary(ledger: Ledger) -> dict[str, object]:
    latest = ledger.latest_checkpoint()
    size = ledger.size
    return {
        "origin": ledger.origin,
        "size": size,
        "root_hash": ledger.root().hex(),
        "latest_checkpoint": None if latest is None else {"size": latest.size, "signed_at": latest.signed_at},
        "unsigned_records": size - (latest.size if latest else 0),
        "checkpoints": len(ledger.checkpoints()),
    }


@app.command()
def show(
    ctx: typer.Context,
    index: Annotated[
        int | None, typer.Argument(help="A record's index; without it, a summary of the log.")
    ] = None,
    as_json: JsonFlag = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Show one record, or a summary of the ledger."""
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        if index is None:
            summary = _summary(ledger)
            if as_json:
                out.print_json(data=summary)
                return
            out.print(f"Ledger {summary['origin']} of {ws.config.organisation.name}")
            out.print(f"  records     {summary['size']}")
            out.print(f"  root hash   {summary['root_hash']}")
            latest = ledger.latest_checkpoint()
            if latest is None:
                out.print("  checkpoint  none yet (kiroku log checkpoint)")
            else:
                out.print(f"  checkpoint  size {latest.size}, signed {latest.signed_at}")
                if summary["unsigned_records"]:
                    out.print(
                        f"              {summary['unsigned_records']} records since; sign a new checkpoint"
                    )
            out.print(f"  retention   {ws.config.retention}")
            return
        record = ledger.record(index)
    if as_json:
        out.print_json(data=_record_json(record))
        return
    out.print(f"Record {record.index}: {record.entry.kind} at {record.entry.time}")
    out.print(f"  body sha256  {record.entry.body_sha256.hex()}")
    out.print(f"  leaf hash    {record.leaf_hash.hex()}")
    if record.body is None:
        out.print(f"  body         expired at {record.expired_at} (retention ended {record.expires_at})")
    else:
        out.print(f"  kept until   {record.expires_at or 'forever'}")
        out.print_json(data=record.body_json())


@app.command()
def tail(
    ctx: typer.Context,
    count: Annotated[int, typer.Option("-n", "--count", min=1, help="How many of the latest records.")] = 10,
    as_json: JsonFlag = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Show the latest records."""
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        records = ledger.tail(count)
    if as_json:
        for record in records:
            out.file.write(json.dumps(_record_json(record), ensure_ascii=False) + "\n")
        return
    table = Table("index", "time", "kind", "body")
    kind_width = max([4, *(len(r.entry.kind) for r in records)])
    room = max(20, out.width - 45 - kind_width)  # what is left of the line for the body
    for record in records:
        body = "(expired)" if record.body is None else record.body.decode()
        shown = body if len(body) <= room else body[: room - 1] + "…"
        table.add_row(str(record.index), record.entry.time, record.entry.kind, shown)
    out.print(table)


@app.command()
def checkpoint(ctx: typer.Context, output: OutOption = None, workspace: WorkspaceOption = None) -> None:
    """Sign a checkpoint (C2SP tlog-checkpoint) of the ledger as it is now, and keep it."""
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        signed = ledger.checkpoint(ws.signer())
    _write(signed.note, output, "the checkpoint")


@app.command()
def key(ctx: typer.Context, workspace: WorkspaceOption = None) -> None:
    """Print the ledger's verifier key (C2SP signed-note format: name+keyid+base64)."""
    ws = workspace_from(ctx, workspace)
    with user_errors():
        out.print(ws.verifier().to_vkey())


@app.command()
def prove(
    ctx: typer.Context,
    index: Annotated[int, typer.Argument(help="The record's index.")],
    checkpoint_file: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="Prove against this signed checkpoint (default: the latest)."),
    ] = None,
    digest_only: Annotated[
        bool, typer.Option("--digest-only", help="Leave the body out; keep only its digest.")
    ] = False,
    output: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Write a self-contained inclusion bundle for a record (verify it with 'kiroku verify')."""
    ws = workspace_from(ctx, workspace)
    note = (
        None
        if checkpoint_file is None
        else read_input(checkpoint_file, "checkpoint").decode("utf-8", "replace")
    )
    with user_errors(), ws.ledger() as ledger:
        bundle = ledger.prove(index, verifier=ws.verifier(), checkpoint=note, include_body=not digest_only)
    _write(bundle.to_json(), output, f"the inclusion bundle for record {index}")


def _checkpoint_size(ledger: Ledger, ref: str) -> int:
    """A checkpoint named by its tree size or by a file holding a signed checkpoint."""
    if ref.isdigit():
        return int(ref)
    from kiroku.ledger.note import Checkpoint, parse_note

    text = read_input(Path(ref), "checkpoint").decode("utf-8", "replace")
    return Checkpoint.from_text(parse_note(text).text).size


@app.command()
def consistency(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="The older checkpoint: its tree size, or a checkpoint file.")],
    new: Annotated[str, typer.Argument(help="The newer checkpoint: its tree size, or a checkpoint file.")],
    output: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Write a consistency bundle: proof that the newer checkpoint only appended to the older one."""
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        bundle = ledger.prove_consistency(_checkpoint_size(ledger, old), _checkpoint_size(ledger, new))
    _write(bundle.to_json(), output, f"the consistency bundle {bundle.old_size} → {bundle.new_size}")


@app.command("verify")
def verify_log(ctx: typer.Context, workspace: WorkspaceOption = None) -> None:
    """Recompute the whole tree from the stored records; check every hash, body and checkpoint."""
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        size = ledger.size
        with progress_bar("Verifying") as bar:
            task = bar.add_task("Verifying", total=size)
            try:
                report = ledger.verify(ws.verifier(), progress=lambda n: bar.advance(task, n))
            except Exception:
                bar.stop()
                raise
    out.print(f"OK: ledger {ledger.origin} verified: {report.size} records, {report.nodes} interior nodes,")
    out.print(
        f"    {report.bodies} bodies ({report.expired_bodies} expired by retention), {report.checkpoints} checkpoints"
    )
    out.print(f"    root {report.root_hash.hex()}")


@app.command()
def expire(
    ctx: typer.Context,
    now: Annotated[
        str | None, typer.Option(help="Treat this time as now (RFC 3339); for dry runs of policy.")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Delete record bodies whose retention period has ended (digests stay, so proofs still verify).

    Records that own catalog files (shards, stages) are left to 'kiroku retention apply', which deletes their
    files with them.
    """
    ws = workspace_from(ctx, workspace)
    with user_errors(), ws.ledger() as ledger:
        when: datetime | None = parse_time(now) if now else None
        due = plan_retention(ledger, ws.catalog_dir, when).due_bodies
        owners = sorted(kind for kind in due if kind in OWNER_KINDS)
        if owners:
            fail(
                f"{sum(due[k] for k in owners)} ended {' and '.join(owners)} records own catalog files; "
                "run 'kiroku retention apply' so that their files are deleted with them"
            )
        count = ledger.expire(when)
    out.print(
        f"Expired {count} record bodies." if count else "No record body has reached the end of its retention."
    )
