"""Errors raised by the ledger.

Every error is a `LedgerError`; its message is one line a person can act on. The tree::

    LedgerError
    ├── InvalidRecord        a record cannot be logged: bad kind, body or time (the message names the field)
    │   └── UnknownKind      no record kind of that name is registered
    ├── StoreError           the database cannot be opened, or is not a kiroku ledger of this origin
    ├── NotFound             no record at that index, or no checkpoint of that size
    ├── CheckpointError      a checkpoint cannot be signed or used (inconsistent history, other log, other key)
    ├── BundleError          a proof bundle is malformed: truncated, a field missing or of the wrong type
    └── VerificationError    a proof, signature or stored hash does not check; ``index`` names the first bad leaf

Signed-note parsing and signature errors come from `kiroku.ledger.note` (`NoteError` and its subclasses).
"""

from __future__ import annotations

__all__ = [
    "BundleError",
    "CheckpointError",
    "InvalidRecord",
    "LedgerError",
    "NotFound",
    "StoreError",
    "UnknownKind",
    "VerificationError",
]


class LedgerError(Exception):
    """Base class of every error the ledger raises."""


class InvalidRecord(LedgerError):
    """A record cannot be logged: its kind, body or time is not acceptable."""


class UnknownKind(InvalidRecord):
    """No record kind of that name is registered."""


class StoreError(LedgerError):
    """The ledger's database cannot be opened or does not hold this ledger."""


class NotFound(LedgerError):
    """No record at that index, or no checkpoint of that size."""


class CheckpointError(LedgerError):
    """A checkpoint cannot be signed or used."""


class BundleError(LedgerError):
    """A proof bundle is malformed."""


class VerificationError(LedgerError):
    """A proof, signature or stored hash does not check.

    ``index`` is the first leaf index found bad, when the failure is tied to one leaf; ``size`` the tree size of
    the checkpoint concerned, when it is tied to a checkpoint.
    """

    def __init__(self, message: str, *, index: int | None = None, size: int | None = None) -> None:
        super().__init__(message)
        self.index = index
        self.size = size
