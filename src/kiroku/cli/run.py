"""``kiroku run``: training runs: the model, its method and compute, and the exact kept sets it trained on."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(help="Record training runs: model, methods, compute and data mix.", no_args_is_help=True)
