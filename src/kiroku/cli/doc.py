"""``kiroku doc``: one document's whole lineage, with a chained proof anyone can check offline."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(help="Show one document's lineage with its chained proof.", no_args_is_help=True)
