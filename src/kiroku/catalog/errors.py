"""The catalog's exceptions, one tree, so that a caller can catch `CatalogError` for all of them.

- `CatalogError`: the catalog's files do not match what the ledger recorded, or cannot be read.
  - `SourceError`: a source cannot be registered or is not known.
  - `StageError`: a cleaning stage cannot be recorded or read (the message names the file and line, or the stage).
  - `RunError`: a training run is invalid, names data the ledger does not hold, or is already recorded.
  - `ReleaseError`: a release or withdrawal contradicts the events already recorded.
  - `RetentionError`: retention cannot be planned or applied (kiroku.catalog.retention).
  - `TextEnded`: a shard's text was deleted when its retention period ended (kiroku.catalog.retention).

Every message is one line a user can act on.
"""

from __future__ import annotations

__all__ = ["CatalogError", "ReleaseError", "RunError", "SourceError", "StageError"]


class CatalogError(Exception):
    """The catalog's files do not match what the ledger recorded, or cannot be read; the base of this tree."""


class SourceError(CatalogError):
    """A source cannot be registered or is not known; the message says why."""


class StageError(CatalogError):
    """A cleaning stage cannot be recorded or read; the message names the file and line, or the stage."""


class RunError(CatalogError):
    """A training run is invalid, names data the ledger does not hold, or is already recorded."""


class ReleaseError(CatalogError):
    """A release or withdrawal contradicts the events already recorded; the message says which."""
