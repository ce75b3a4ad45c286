"""Errors of the domain index, one tree under `DomainError` (itself a `kiroku.catalog.CatalogError`).

- `InvalidName`: what was asked is not a domain, host or URL-path prefix (the message says what to give instead);
- `IndexMissing`: no domain index has been built in this workspace yet;
- `StaleIndex`: the ledger has catalog, stage or run records the index does not cover yet;
- `IndexCorrupt`: an index file is missing, truncated or does not match its manifest;
  - `IndexTampered`: an entry does not lead to the root the ledger record commits to (a file was altered).
"""

from __future__ import annotations

from kiroku.catalog.errors import CatalogError

__all__ = ["DomainError", "IndexCorrupt", "IndexMissing", "IndexTampered", "InvalidName", "StaleIndex"]


class DomainError(CatalogError):
    """Base class of the domain index's errors."""


class InvalidName(DomainError):
    """The text given is not a usable domain, host or path prefix."""


class IndexMissing(DomainError):
    """No domain index has been built yet."""


class StaleIndex(DomainError):
    """The index does not cover records the ledger now holds."""


class IndexCorrupt(DomainError):
    """An index file is missing or does not match the manifest."""


class IndexTampered(IndexCorrupt):
    """An index entry does not check against its committed root: the answer would not be the recorded one."""
