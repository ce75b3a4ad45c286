"""Parquet datasets: one document per row, read as a stream of bounded record batches.

Only the text, URL and id columns are read (pyarrow's ``ParquetFile.iter_batches``), a few thousand rows at a
time, so memory does not grow with the file. A document's position is its row index in the file (0-based), so an
ingest resumes like JSON Lines does by line; the row groups before the resume point are skipped by their
metadata without being read. Field names may be dotted paths into struct columns (``meta.url``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kiroku.catalog.shards import Document
from kiroku.ingest._errors import IngestError
from kiroku.ingest.jsonl import JsonlFields

__all__ = ["BATCH_ROWS", "read_parquet"]

BATCH_ROWS = 2048
"""Rows decoded at a time: bounds the memory a batch of long texts takes."""
_FIELDS = JsonlFields()


@dataclass(frozen=True)
class _Column:
    """Where a field lives: the dotted path pyarrow reads, the top-level column and the struct path below it."""

    path: str
    top: str
    inner: tuple[str, ...]
    type: pa.DataType


def _is_string(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_string(kind.value_type)
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind))


def _column_names(schema: pa.Schema) -> list[str]:
    """Every readable leaf of the schema as a dotted path, for error messages."""
    names: list[str] = []

    def walk(prefix: str, kind: pa.DataType) -> None:
        if pa.types.is_struct(kind):
            for child in kind:
                walk(f"{prefix}.{child.name}", child.type)
        else:
            names.append(prefix)

    for top in schema:
        walk(top.name, top.type)
    return names


def _find(schema: pa.Schema, dotted: str) -> _Column | None:
    """The column a field name names: a top-level column of that exact name, else a path into structs."""
    if dotted in schema.names:
        return _Column(dotted, dotted, (), schema.field(dotted).type)
    top, *inner = dotted.split(".")
    if top not in schema.names:
        return None
    kind = schema.field(top).type
    for part in inner:
        if not pa.types.is_struct(kind) or kind.get_field_index(part) < 0:
            return None
        kind = kind.field(part).type
    return _Column(dotted, top, tuple(inner), kind)


def _values(batch: pa.RecordBatch, column: _Column) -> pa.Array:
    array = batch.column(column.top)
    return pc.struct_field(array, list(column.inner)) if column.inner else array


def _columns(
    path: Path, schema: pa.Schema, fields: JsonlFields
) -> tuple[_Column, _Column | None, _Column | None]:
    """Resolve the text, URL and id fields against the file's schema, or say what the file has instead."""
    text = _find(schema, fields.text)
    if text is None:
        found = ", ".join(_column_names(schema)) or "none"
        raise IngestError(f"{path}: no text column {fields.text!r} (columns: {found}); see --text-field")
    if not _is_string(text.type):
        raise IngestError(f"{path}: text column {fields.text!r} holds {text.type}, not strings")
    url = _find(schema, fields.url) if fields.url else None
    if url is not None and not _is_string(url.type):
        raise IngestError(f"{path}: URL column {fields.url!r} holds {url.type}, not strings")
    ident = _find(schema, fields.id) if fields.id else None
    if ident is not None and not (pa.types.is_primitive(ident.type) or _is_string(ident.type)):
        raise IngestError(f"{path}: id column {fields.id!r} holds {ident.type}, not scalar values")
    return text, url, ident


def _open(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise IngestError(f"{path}: not a readable Parquet file ({exc})") from exc


def read_parquet(
    path: Path, start: int = 0, *, fields: JsonlFields = _FIELDS
) -> Iterator[tuple[int, Document]]:
    """Yield ``(row index, document)`` for each row of a Parquet file from row ``start`` (0-based) on.

    ``fields`` names the text, URL and id columns as for JSON Lines; a missing URL or id column means none.
    Raises `IngestError` naming the file before any row is read when the text column is missing or does not
    hold strings, or the file is not Parquet (or is truncated); naming the file and row (1-based, as in the
    CLI's messages) for a null text; and naming the file and row group for a row group that cannot be decoded.
    """
    with _open(path) as parquet:
        text, url, ident = _columns(path, parquet.schema_arrow, fields)
        wanted = list(dict.fromkeys(c.path for c in (text, url, ident) if c is not None))
        meta = parquet.metadata
        first = 0  # the row index where row group ``group`` begins
        for group in range(meta.num_row_groups):
            rows = meta.row_group(group).num_rows
            if first + rows <= start:
                first += rows
                continue
            yield from _row_group(path, parquet, group, first, start, wanted, text, url, ident)
            first += rows


def _row_group(
    path: Path,
    parquet: pq.ParquetFile,
    group: int,
    first: int,
    start: int,
    wanted: list[str],
    text: _Column,
    url: _Column | None,
    ident: _Column | None,
) -> Iterator[tuple[int, Document]]:
    """The documents of one row group, from row ``start`` on."""
    row = first
    try:
        batches = parquet.iter_batches(batch_size=BATCH_ROWS, row_groups=[group], columns=wanted)
        for batch in batches:
            if row + batch.num_rows <= start:
                row += batch.num_rows
                continue
            skip = max(0, start - row)
            part = batch.slice(skip) if skip else batch
            yield from _documents(path, part, row + skip, text, url, ident)
            row += batch.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise IngestError(f"{path}: row group {group} (from row {first + 1}): cannot read: {exc}") from exc


def _documents(
    path: Path,
    batch: pa.RecordBatch,
    row: int,
    text: _Column,
    url: _Column | None,
    ident: _Column | None,
) -> Iterator[tuple[int, Document]]:
    """The documents of one batch; the rows before a null text are yielded before the error is raised."""
    texts = _values(batch, text)
    null = pc.index(texts.is_null(), True).as_py() if texts.null_count else None
    good = batch.num_rows if null is None else null
    urls = _values(batch, url).to_pylist() if url else [None] * batch.num_rows
    ids = _values(batch, ident).to_pylist() if ident else [None] * batch.num_rows
    for offset, value in enumerate(texts.slice(0, good).to_pylist()):
        key = ids[offset]
        yield (
            row + offset,
            Document(text=value, url=urls[offset], external_id=None if key is None else str(key)),
        )
    if null is not None:
        raise IngestError(f"{path}: row {row + null + 1}: text column {text.path!r} is null")
