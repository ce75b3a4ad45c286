"""Reading the small text files a user writes (run files, policy files, regimes, blocklists) with one-line errors."""

from __future__ import annotations

from pathlib import Path

__all__ = ["read_user_text"]


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
