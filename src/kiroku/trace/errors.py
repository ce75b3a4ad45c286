"""Errors of tracing, one tree under `TraceError`.

- `TraceError`: anything that stops a trace index build or a trace.
  - `InvalidOutput`: the text to trace cannot be traced (empty, binary, too long); the message says why.
  - `IndexMissing`: no trace index has been built for the scope asked; build it with ``kiroku index build``.
  - `StaleIndex`: the index covers another scope or an earlier ledger than the one asked about.
  - `IndexCorrupt`: an index file is missing, truncated or does not match its recorded SHA-256.
  - `TraceBundleError`: a trace answer bundle does not verify (the command exits 1, as for any failed proof).
"""

from __future__ import annotations

from kiroku.catalog.errors import CatalogError

__all__ = ["IndexCorrupt", "IndexMissing", "InvalidOutput", "StaleIndex", "TraceBundleError", "TraceError"]


class TraceError(CatalogError):
    """Tracing cannot go on; the message says why and what to do."""


class InvalidOutput(TraceError):
    """The text given to trace is empty, binary or over the size limit."""


class IndexMissing(TraceError):
    """No trace index exists for the scope asked."""


class StaleIndex(TraceError):
    """The trace index was built for another scope or another ledger size."""


class IndexCorrupt(TraceError):
    """A trace index file is missing, truncated or altered."""


class TraceBundleError(TraceError):
    """A trace bundle does not verify; the message says which part failed."""
