"""Reading the small text files a user writes (run files, policy files, regimes, blocklists) with one-line errors,
and parsing the TOML ones."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["parse_user_toml", "read_user_text"]

_TOML_POSITION = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")


def read_user_text(path: Path, error: type[Exception], prefix: str = "", encoding: str = "utf-8") -> str:
    """The text of ``path``; ``error`` with ``prefix`` and the path when it is missing, not UTF-8 or unreadable."""
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError as exc:
        raise error(f"{prefix}{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{prefix}{path}: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise error(f"{prefix}{path}: cannot read: {exc.strerror}") from exc


def parse_user_toml(text: str, origin: str, error: type[Exception]) -> dict[str, Any]:
    """The TOML ``text`` as a table; ``error`` ``origin: line L, column C: not valid TOML: why`` when it is not."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_POSITION.match(str(exc))
        where = f"line {found['line']}, column {found['col']}: " if found else ""
        raise error(f"{origin}: {where}not valid TOML: {found['msg'] if found else exc}") from exc
