"""What every command shares: the workspace option, consoles, and turning errors into one line and an exit code.

Exit codes: 0 success; 1 something was checked and does not verify (tampering, a false proof); 2 the input or
the set-up is wrong (a malformed file, an unknown kind, a key of another log, no workspace).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from kiroku.catalog import CatalogError
from kiroku.domains.errors import IndexTampered
from kiroku.ingest import IngestError
from kiroku.ledger import InvalidSignature, Ledger, LedgerError, NoteError, Signer, VerificationError
from kiroku.optout import BlocklistError
from kiroku.trace.errors import TraceBundleError
from kiroku.workspace import Workspace, WorkspaceError

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_NOT_VERIFIED",
    "WorkspaceOption",
    "checkpoint_covering",
    "err",
    "fail",
    "out",
    "progress_bar",
    "read_input",
    "user_errors",
    "workspace_from",
]

EXIT_NOT_VERIFIED = 1
EXIT_BAD_INPUT = 2

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder (default: $KIROKU_WORKSPACE, else the current folder or the nearest above it).",
        file_okay=False,
    ),
]


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``kiroku: error: message`` on stderr, on one line, and exit with ``code``."""
    one_line = " ".join(message.split())  # driver messages (psycopg, sqlite) can span lines
    err.print(f"[bold red]kiroku: error:[/] {escape(one_line)}", markup=True)
    raise typer.Exit(code)


def date_option(value: str | None, option: str) -> date | None:
    """An option's ISO 8601 date (2026-04-01), or a one-line error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date like 2026-04-01")


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn kiroku's errors into one line on stderr: exit 1 when something does not verify, else 2."""
    try:
        yield
    except VerificationError as exc:
        fail(str(exc), EXIT_NOT_VERIFIED)
    except (InvalidSignature, IndexTampered, TraceBundleError) as exc:
        fail(str(exc), EXIT_NOT_VERIFIED)
    except (LedgerError, NoteError, WorkspaceError, CatalogError, IngestError, BlocklistError) as exc:
        fail(str(exc))


def workspace_from(ctx: typer.Context, option: Path | None) -> Workspace:
    """The workspace named on this command, on the root command, or found from the environment."""
    explicit = option or (ctx.obj or {}).get("workspace")
    with user_errors():
        return Workspace.find(explicit)


def read_input(path: Path, what: str) -> bytes:
    """Read a file the user named (``-`` is standard input), failing with a clear line."""
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        fail(f"{what} {path} does not exist")
    except IsADirectoryError:
        fail(f"{what} {path} is a folder, not a file")
    except OSError as exc:
        fail(f"cannot read {what} {path}: {exc.strerror}")


def progress_bar(description: str) -> Progress:
    """A progress bar on stderr, hidden when stderr is not a terminal."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
        transient=False,
    )


def checkpoint_covering(ledger: Ledger, signer: Signer, indexes: list[int]) -> tuple[str, bool]:
    """The latest signed checkpoint if it covers every record to prove, else a new one (and whether it is new)."""
    latest = ledger.latest_checkpoint()
    if latest is not None and latest.size > max(indexes):
        return latest.note, False
    return ledger.checkpoint(signer).note, True
