"""``kiroku stage``: cleaning-stage lineage: which documents each stage kept and dropped, and why."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(
    help="Record cleaning stages: which documents each kept and dropped, and why.", no_args_is_help=True
)
