"""Lists of document ids as people and pipelines give them, before they are resolved against an input set.

An id may be the 64-hex document id (the SHA-256 of the text), the dataset's own id (the catalog's
``external_id``), the URL, or, in JSON Lines and Parquet, missing with the text given instead. Each entry keeps
where it was given (file and line), so that an id that is not in the input set is reported where it was written.
The entries go into Arrow record batches as they are read: ten million ids are a few hundred megabytes, not
ten million Python objects.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import weakref
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import zstandard

from kiroku.catalog.errors import StageError
from kiroku.catalog.textfiles import dotted_field, open_text

__all__ = [
    "IDS_SCHEMA",
    "IdCollector",
    "IdList",
    "Progress",
    "StageError",
    "ids_from_bytes",
    "read_id_file",
]

IDS_SCHEMA = pa.schema(
    [
        pa.field("line", pa.int64(), nullable=False),  # where it was given: 1-based line, row or item
        pa.field("name", pa.string()),  # as written: an external id, a URL (or a 64-hex document id)
        pa.field("doc_id", pa.binary()),  # a document id, 32 bytes
        pa.field(
            "text_id", pa.binary()
        ),  # SHA-256 of the text given with it, tried when nothing else matches
        pa.field("reason", pa.string()),  # for dropped documents: why
    ]
)

_BATCH = 65_536
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")

Progress = Callable[[str, int, int | None], None]
"""Called as ``progress(phase, advance, total)`` during long work; ``total`` is None when it is unknown."""


class IdList:
    """Ids in the order they were given, each with its position, not yet resolved to document ids.

    The entries live in a Parquet file of `IDS_SCHEMA` rows, not in memory; a temporary one is removed when the
    list is garbage-collected.
    """

    def __init__(
        self, path: Path, label: str, unit: str = "line", count: int = 0, *, temporary: bool = False
    ):
        self.path = path
        self.label = label
        """What gave them, for messages: a file's path, ``kept_ids``, a datatrove step."""
        self.unit = unit
        """What a position counts: ``line``, ``row``, ``item`` or ``document``."""
        self.count = count
        if temporary:
            weakref.finalize(self, path.unlink, missing_ok=True)

    def where(self, line: int) -> str:
        """``label: unit N``, the start of an error message about the entry at position ``line``."""
        return f"{self.label}: {self.unit} {line}"

    def __len__(self) -> int:
        return self.count

    def table(self) -> pa.Table:
        """The entries as an Arrow table (reads the whole file: for small lists and tests)."""
        return pq.read_table(self.path, schema=IDS_SCHEMA)


class IdCollector:
    """Collects ids one at a time, writing them out in Arrow batches of bounded size."""

    def __init__(self, label: str, unit: str = "line", path: Path | None = None) -> None:
        self.label, self.unit = label, unit
        self._temporary = path is None
        if path is None:
            handle, name = tempfile.mkstemp(prefix="kiroku-ids-", suffix=".parquet")
            os.close(handle)
            path = Path(name)
        self.path = path
        self.count = 0
        self._writer = pq.ParquetWriter(path, IDS_SCHEMA, compression="zstd")
        self._rows: dict[str, list[Any]] = {name: [] for name in IDS_SCHEMA.names}

    def add(
        self,
        line: int,
        *,
        name: str | None = None,
        doc_id: bytes | None = None,
        text: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Add the id given at position ``line``: a name, a 32-byte document id, and/or the text to hash.

        A name of 64 hex digits is kept as the document id it spells (and still tried as a name).
        """
        if name is not None and doc_id is None and len(name) == 64 and _HEX.match(name):
            doc_id, name = bytes.fromhex(name), None
        rows = self._rows
        rows["line"].append(line)
        rows["name"].append(name)
        rows["doc_id"].append(doc_id)
        rows["text_id"].append(
            None if text is None else hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
        )
        rows["reason"].append(reason)
        self.count += 1
        if len(rows["line"]) >= _BATCH:
            self._flush()

    def add_batch(self, batch: pa.RecordBatch) -> None:
        """Add entries already in `IDS_SCHEMA` form."""
        self._flush()
        self._writer.write_batch(batch)
        self.count += batch.num_rows

    def _flush(self) -> None:
        if self._rows["line"]:
            self._writer.write_batch(pa.RecordBatch.from_pydict(self._rows, schema=IDS_SCHEMA))
            self._rows = {name: [] for name in IDS_SCHEMA.names}

    def finish(self) -> IdList:
        """The ids collected, as a list backed by the written file."""
        self._flush()
        self._writer.close()
        return IdList(self.path, self.label, self.unit, self.count, temporary=self._temporary)

    def abandon(self) -> None:
        """Stop collecting and remove a temporary file (after an error)."""
        self._writer.close()
        if self._temporary:
            self.path.unlink(missing_ok=True)


def ids_from_bytes(ids: Iterable[bytes], label: str = "kept_ids") -> IdList:
    """An `IdList` of 32-byte document ids given by a program (positions count from 1)."""
    collector = IdCollector(label, unit="item")
    try:
        for position, value in enumerate(ids, start=1):
            raw = bytes(value)
            if len(raw) != 32:
                raise StageError(f"{label}: item {position}: a document id is 32 bytes, not {len(raw)}")
            collector.add(position, doc_id=raw)
    except BaseException:
        collector.abandon()
        raise
    return collector.finish()


def read_id_file(
    path: Path,
    *,
    id_field: str = "id",
    text_field: str = "text",
    progress: Progress | None = None,
) -> IdList:
    """Read ids from plain text (one per line), JSON Lines (``.gz`` / ``.zst`` too) or Parquet.

    JSON Lines is recognised by its first non-blank line starting with ``{``. In JSON Lines and Parquet the id is
    in ``id_field``; a record without one but with ``text_field`` is known by the SHA-256 of its text; an optional
    ``reason`` field says why the document was dropped. `StageError` names the file and line of a bad entry.
    """
    if not path.is_file():
        raise StageError(f"{path}: no such file")
    collector = IdCollector(str(path), unit="row" if path.suffix == ".parquet" else "line")
    try:
        if path.suffix == ".parquet":
            _read_parquet(collector, path, id_field, text_field, progress)
        else:
            _read_lines(collector, path, id_field, text_field, progress)
    except BaseException:
        collector.abandon()
        raise
    return collector.finish()


def _read_lines(
    collector: IdCollector, path: Path, id_field: str, text_field: str, progress: Progress | None
) -> None:
    phase = f"Reading {path.name}"
    line_no, jsonl = 0, None
    try:
        with open_text(path) as handle:
            for line_no, line in enumerate(handle, start=1):
                if progress and line_no % 10_000 == 0:
                    progress(phase, 10_000, None)
                stripped = line.strip()
                if not stripped:
                    continue
                if jsonl is None:
                    jsonl = stripped.startswith("{")
                if jsonl:
                    _add_json(collector, path, line_no, stripped, id_field, text_field)
                else:
                    collector.add(line_no, name=stripped)
    except (OSError, EOFError, zlib.error, zstandard.ZstdError, UnicodeDecodeError) as exc:
        raise StageError(f"{path}: cannot read after line {line_no}: {exc}") from exc


def _add_json(
    collector: IdCollector, path: Path, line_no: int, line: str, id_field: str, text_field: str
) -> None:
    where = f"{path}: line {line_no}"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise StageError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(obj, dict):
        raise StageError(f"{where}: a JSON Lines record must be an object")
    ident, text, reason = dotted_field(obj, id_field), dotted_field(obj, text_field), obj.get("reason")
    if isinstance(ident, bool) or not isinstance(ident, str | int | None):
        raise StageError(f"{where}: field {id_field!r} must be a string or an integer")
    if reason is not None and not isinstance(reason, str):
        raise StageError(f"{where}: field 'reason' must be a string")
    if ident is None and not isinstance(text, str):
        found = ", ".join(sorted(obj)) or "none"
        raise StageError(
            f"{where}: no id field {id_field!r} and no text field {text_field!r} (fields: {found})"
        )
    collector.add(
        line_no,
        name=None if ident is None else str(ident),
        text=text if isinstance(text, str) else None,
        reason=reason,
    )


def _read_parquet(
    collector: IdCollector, path: Path, id_field: str, text_field: str, progress: Progress | None
) -> None:
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise StageError(f"{path}: not a Parquet file: {exc}") from exc
    names = parquet.schema_arrow.names
    if id_field not in names and text_field not in names:
        raise StageError(
            f"{path}: no id column {id_field!r} and no text column {text_field!r} (columns: {', '.join(names)})"
        )
    columns = [c for c in (id_field, text_field, "reason") if c in names]
    row = 0
    try:
        for batch in parquet.iter_batches(batch_size=_BATCH, columns=columns):
            collector.add_batch(_parquet_batch(path, batch, row, id_field, text_field))
            row += batch.num_rows
            if progress:
                progress(f"Reading {path.name}", batch.num_rows, parquet.metadata.num_rows)
    except (OSError, pa.ArrowException) as exc:
        raise StageError(f"{path}: cannot read after row {row}: {exc}") from exc


def _first_true(mask: pa.Array) -> int | None:
    if not pc.any(mask).as_py():
        return None
    return int(pc.index(mask, True).as_py())


def _is_binary(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind)
    )


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _parquet_batch(
    path: Path, batch: pa.RecordBatch, row: int, id_field: str, text_field: str
) -> pa.RecordBatch:
    n = batch.num_rows
    names, doc_ids, text_ids = pa.nulls(n, pa.string()), pa.nulls(n, pa.binary()), pa.nulls(n, pa.binary())
    if id_field in batch.schema.names:
        column = batch.column(id_field)
        if _is_binary(column.type):
            lengths = pc.binary_length(column)
            bad = _first_true(pc.fill_null(pc.not_equal(lengths, 32), False))
            if bad is not None:
                raise StageError(
                    f"{path}: row {row + bad + 1}: a binary id is 32 bytes, not {lengths[bad].as_py()}"
                )
            doc_ids = column.cast(pa.binary())
        elif _is_text(column.type) or pa.types.is_integer(column.type):
            names = column.cast(pa.string())
        else:
            raise StageError(
                f"{path}: column {id_field!r} holds {column.type}, not text, integers or 32-byte ids"
            )
    if text_field in batch.schema.names:
        texts = batch.column(text_field)
        if not _is_text(texts.type):
            raise StageError(f"{path}: column {text_field!r} holds {texts.type}, not text")
        text_ids = pa.array(
            [None if t is None else hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest() for t in texts.to_pylist()],
            pa.binary(),
        )  # fmt: skip
    missing = _first_true(pc.and_(pc.and_(pc.is_null(names), pc.is_null(doc_ids)), pc.is_null(text_ids)))
    if missing is not None:
        raise StageError(
            f"{path}: row {row + missing + 1}: neither an id ({id_field!r}) nor a text ({text_field!r})"
        )
    reasons = pa.nulls(n, pa.string())
    if "reason" in batch.schema.names:
        reasons = batch.column("reason").cast(pa.string())
    lines = pa.array(range(row + 1, row + n + 1), pa.int64())
    return pa.RecordBatch.from_arrays([lines, names, doc_ids, text_ids, reasons], schema=IDS_SCHEMA)
