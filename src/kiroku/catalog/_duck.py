"""DuckDB connections as kiroku opens them: quiet, because kiroku draws its own progress bars."""

from __future__ import annotations

import duckdb

ConfigValue = str | bool | int | float | list[str]


def connect(config: dict[str, ConfigValue] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with DuckDB's own progress bar off (it would interleave with kiroku's)."""
    con = duckdb.connect(config=config or {})
    con.execute("SET enable_progress_bar = false")
    return con
