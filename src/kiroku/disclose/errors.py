"""Errors of disclosure, one tree under `DisclosureError`.

- `DisclosureError`: anything that stops a statement from being built or checked.
  - `RegimeError`: a regime's requirements file is missing, not valid TOML, or breaks its schema (the message names
    the file and the line or field).
"""

from __future__ import annotations

__all__ = ["DisclosureError", "RegimeError"]


class DisclosureError(Exception):
    """A statement cannot be built or checked; the message says why and what to do."""


class RegimeError(DisclosureError):
    """A regime's requirements file cannot be used as it is."""
