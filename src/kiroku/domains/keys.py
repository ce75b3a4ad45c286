"""The key a name is committed under: SHA-256 of its normalised ASCII form.

A bundle reveals, besides the name asked about, the keys of at most two neighbouring entries: hashes, never names.
"""

from __future__ import annotations

import hashlib

__all__ = ["KEY_SIZE", "name_key"]

KEY_SIZE = 32


def name_key(name: str) -> bytes:
    """SHA-256 of a normalised host or domain name (lower case, punycode, no trailing dot)."""
    return hashlib.sha256(name.encode("ascii")).digest()
