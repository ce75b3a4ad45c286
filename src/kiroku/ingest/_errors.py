"""The ingest error: one line naming the file and where in it the problem is."""

from __future__ import annotations

__all__ = ["IngestError"]


class IngestError(Exception):
    """An input cannot be read; the message names the file and the line or offset."""
