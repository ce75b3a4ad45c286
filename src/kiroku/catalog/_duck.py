"""DuckDB connections as kiroku opens them: quiet, because kiroku draws its own progress bars."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

ConfigValue = str | bool | int | float | list[str]


def connect(config: dict[str, ConfigValue] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with DuckDB's own progress bar off (it would interleave with kiroku's)."""
    con = duckdb.connect(config=config or {})
    con.execute("SET enable_progress_bar = false")
    return con


def arrow_reader(relation: Any, batch_size: int) -> pa.RecordBatchReader:
    """Stream a DuckDB relation or result as Arrow batches (``to_arrow_reader`` in DuckDB 2, ``fetch_record_batch``
    in 1)."""
    to_reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
    reader: pa.RecordBatchReader = to_reader(batch_size)
    return reader
