"""``kiroku retention``: what the retention policy ends when, and applying it to ledger bodies and catalog text."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(
    help="Plan and apply the retention policy to ledger bodies and catalog text.", no_args_is_help=True
)
