"""Reading the text files datasets come in: plain, gzip (.gz) or Zstandard (.zst), and dotted field names."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import IO, Any

import zstandard

__all__ = ["dotted_field", "open_text"]


def open_text(path: Path) -> IO[str]:
    """Open a possibly compressed UTF-8 text file, by its suffix (.gz, .zst, or neither)."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    if path.suffix == ".zst":
        stream = zstandard.ZstdDecompressor().stream_reader(path.open("rb"), closefd=True)
        return io.TextIOWrapper(stream, encoding="utf-8")
    return path.open("r", encoding="utf-8")


def dotted_field(obj: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted path (``meta.url``) in nested JSON objects, or None where the path ends early."""
    value: Any = obj
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value
