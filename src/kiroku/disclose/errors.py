"""Errors of disclosure, one tree under `DisclosureError`.

- `DisclosureError`: anything that stops a statement from being built or checked.
  - `RegimeError`: a regime's requirements file is missing, not valid TOML, or breaks its schema (the message names
    the file and the line or field).
  - `PolicyError`: the statement policy file is missing, not valid TOML, breaks its schema, or explains a
    requirement the regime does not have (the message names the file and the field).
    - `MissingExplanation`: the record shows a requirement is not complied with and the policy does not explain it.
  - `SignatureError`: a disclosure document's signature is missing, malformed, by another key, or does not match.
"""

from __future__ import annotations

__all__ = ["DisclosureError", "PolicyError", "RegimeError"]


class DisclosureError(Exception):
    """A statement cannot be built or checked; the message says why and what to do."""


class RegimeError(DisclosureError):
    """A regime's requirements file cannot be used as it is."""


class PolicyError(DisclosureError):
    """The statement policy file cannot be used as it is."""
