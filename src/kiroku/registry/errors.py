"""Errors of the registry, one tree under `RegistryError`; each carries the HTTP status the API answers with.

- `RegistryError` (500 unless a subclass says otherwise): the registry cannot do what was asked.
  - `NotFound` (404): no such firm, filing or page.
  - `Unauthorized` (401): no API token, an unknown or revoked token, or a failed administrator sign-in.
  - `Forbidden` (403): a token of another firm, a firm not approved yet, a form without its CSRF token.
  - `Conflict` (409): a filing already received (a replay), a name or key already registered.
  - `Refused` (422): a filing the registry will not take: not a kiroku document, a signature that does not verify
    against the firm's key, a checkpoint without the consistency proof the registry needs.
    - `Inconsistent` (422): a checkpoint that contradicts one the registry witnessed; it is kept as evidence and
      the firm is flagged publicly.
  - `TooLarge` (413), `TooMany` (429): request size and rate limits.

Messages are written for the person at the other end and say what to do.
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "Forbidden",
    "Inconsistent",
    "NotFound",
    "Refused",
    "RegistryError",
    "TooLarge",
    "TooMany",
    "Unauthorized",
]


class RegistryError(Exception):
    """The registry cannot do what was asked; ``status`` is the HTTP status, ``code`` a stable name."""

    status = 500
    code = "registry_error"


class NotFound(RegistryError):
    """No such firm, filing or page."""

    status = 404
    code = "not_found"


class Unauthorized(RegistryError):
    """Missing or unknown credentials."""

    status = 401
    code = "unauthorized"


class Forbidden(RegistryError):
    """Credentials that do not allow this action."""

    status = 403
    code = "forbidden"


class Conflict(RegistryError):
    """Already there: a replayed filing, a registered name or key."""

    status = 409
    code = "conflict"


class Refused(RegistryError):
    """A filing the registry will not take as it is."""

    status = 422
    code = "refused"


class Inconsistent(Refused):
    """A checkpoint contradicting the firm's witnessed history: kept as evidence, the firm flagged."""

    code = "inconsistent_checkpoint"


class TooLarge(RegistryError):
    """A request body over the registry's limit."""

    status = 413
    code = "too_large"


class TooMany(RegistryError):
    """Too many requests from one client in a short time."""

    status = 429
    code = "too_many_requests"
