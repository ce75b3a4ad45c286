"""``kiroku model``: model releases: when a model version went into which service, and when it was withdrawn."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(help="Record when model versions enter and leave services.", no_args_is_help=True)
