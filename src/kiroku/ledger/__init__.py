"""kiroku's ledger: an append-only Merkle log (RFC 9162) of typed records with signed checkpoints (C2SP).

The public surface:

- `Ledger`: create or open a log in SQLite or PostgreSQL; append records (one or in batches); read them back;
  sign checkpoints; make inclusion and consistency bundles; audit the whole store (`Ledger.verify`);
  delete bodies whose retention period has ended (`Ledger.expire`).
- `verify_bundle`: check a proof bundle offline with nothing but the log's `Verifier` key.
- `Signer` / `Verifier`: Ed25519 keys in the C2SP signed-note formats.
- `prepare`, `register_kind`: validate records and add record kinds.
- `RetentionPolicy`: how long bodies are kept.
- `merkle`: the RFC 9162 hashing and proof functions over plain lists of leaves.

Errors are `LedgerError` (see `kiroku.ledger.errors`) and `NoteError` (see `kiroku.ledger.note`).
"""

from kiroku.ledger import merkle
from kiroku.ledger.bundle import (
    ConsistencyBundle,
    InclusionBundle,
    VerifiedConsistency,
    VerifiedInclusion,
    load_bundle,
    verify_bundle,
)
from kiroku.ledger.errors import (
    BundleError,
    CheckpointError,
    InvalidRecord,
    LedgerError,
    NotFound,
    StoreError,
    UnknownKind,
    VerificationError,
)
from kiroku.ledger.log import Ledger, LoggedRecord, SignedCheckpoint, VerifyReport
from kiroku.ledger.note import (
    Checkpoint,
    InvalidSignature,
    MalformedNote,
    NoteError,
    Signer,
    UnknownKey,
    Verifier,
)
from kiroku.ledger.records import Entry, PreparedRecord, kinds, parse_json_object, prepare, register_kind
from kiroku.ledger.retention import Period, RetentionPolicy

__all__ = [
    "BundleError",
    "Checkpoint",
    "CheckpointError",
    "ConsistencyBundle",
    "Entry",
    "InclusionBundle",
    "InvalidRecord",
    "InvalidSignature",
    "Ledger",
    "LedgerError",
    "LoggedRecord",
    "MalformedNote",
    "NotFound",
    "NoteError",
    "Period",
    "PreparedRecord",
    "RetentionPolicy",
    "SignedCheckpoint",
    "Signer",
    "StoreError",
    "UnknownKey",
    "UnknownKind",
    "VerificationError",
    "VerifiedConsistency",
    "VerifiedInclusion",
    "Verifier",
    "VerifyReport",
    "kinds",
    "load_bundle",
    "merkle",
    "parse_json_object",
    "prepare",
    "register_kind",
    "verify_bundle",
]
