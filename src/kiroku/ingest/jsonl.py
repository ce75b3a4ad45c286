"""JSON Lines datasets: one JSON object per line, plain, gzip (.gz) or Zstandard (.zst) compressed."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import zstandard

from kiroku.catalog.shards import Document
from kiroku.catalog.textfiles import dotted_field, open_text
from kiroku.ingest._errors import IngestError

__all__ = ["JsonlFields", "open_text", "read_jsonl"]


@dataclass(frozen=True)
class JsonlFields:
    """Which fields hold the text, the URL and the dataset's own id (dots reach into nested objects)."""

    text: str = "text"
    url: str | None = "url"
    id: str | None = "id"


def read_jsonl(
    path: Path, start: int = 0, *, fields: JsonlFields = JsonlFields()
) -> Iterator[tuple[int, Document]]:
    """Yield ``(line index, document)`` for each non-blank line from line ``start`` (0-based) on.

    Raises `IngestError` naming the file and line for a line that is not a JSON object or has no text.
    """
    line_no = -1
    try:
        with open_text(path) as handle:
            for line_no, line in enumerate(handle):
                if line_no < start or not line.strip():
                    continue
                where = f"{path}: line {line_no + 1}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise IngestError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from exc
                if not isinstance(obj, dict):
                    raise IngestError(f"{where}: a JSON Lines record must be an object")
                text = dotted_field(obj, fields.text)
                if not isinstance(text, str):
                    found = ", ".join(sorted(obj)) or "none"
                    raise IngestError(
                        f"{where}: no text field {fields.text!r} (fields: {found}); see --text-field"
                    )
                url = dotted_field(obj, fields.url) if fields.url else None
                ident = dotted_field(obj, fields.id) if fields.id else None
                yield (
                    line_no,
                    Document(
                        text=text,
                        url=url if isinstance(url, str) else None,
                        external_id=None if ident is None else str(ident),
                    ),
                )
    except (OSError, EOFError, zlib.error, zstandard.ZstdError, UnicodeDecodeError) as exc:
        where = f"after line {line_no + 1}" if line_no >= 0 else "at the start"
        raise IngestError(f"{path}: cannot read {where}: {exc}") from exc
