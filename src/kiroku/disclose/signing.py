"""Signing a disclosure document: Ed25519 over its RFC 8785 canonical JSON, the signature carried inside it.

`sign_document` adds a ``signature`` member (algorithm, the key's name and C2SP key id, the signature in base64)
over the canonical JSON of the document without that member; `verify_document` recomputes it and checks it
against a verifier key, failing closed: a missing or malformed signature, another key, or any changed byte of the
signed content raises `SignatureError` with plain advice.
"""

from __future__ import annotations

import base64
import binascii
import copy
from typing import Any

from kiroku.disclose.errors import DisclosureError
from kiroku.ledger import Signer, Verifier
from kiroku.ledger.records import canonical_json

__all__ = [
    "ALGORITHM",
    "SignatureError",
    "sign_document",
    "signature_member",
    "signed_bytes",
    "verify_document",
]

ALGORITHM = "ed25519"
FIELD = "signature"


class SignatureError(DisclosureError):
    """A disclosure document's signature is missing, malformed, by another key, or does not match its content."""


def signed_bytes(document: dict[str, Any]) -> bytes:
    """The bytes a signature covers: the canonical JSON of ``document`` without its ``signature`` member."""
    unsigned = {key: value for key, value in document.items() if key != FIELD}
    return canonical_json(unsigned)


def sign_document(document: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """A copy of ``document`` with a ``signature`` member by ``signer`` (any earlier signature replaced)."""
    signed = copy.deepcopy({key: value for key, value in document.items() if key != FIELD})
    signed[FIELD] = {
        "algorithm": ALGORITHM,
        "key_name": signer.name,
        "key_id": signer.key_id.hex(),
        "value": base64.b64encode(signer.sign(signed_bytes(signed))).decode("ascii"),
    }
    return signed


def signature_member(document: dict[str, Any], algorithm: str) -> dict[str, Any]:
    """``document``'s ``signature`` object if it names ``algorithm``; `SignatureError` if it has none or
    another (shared by kiroku's own envelope and CycloneDX's JSF one)."""
    signature = document.get(FIELD)
    if not isinstance(signature, dict):
        raise SignatureError(
            "the document carries no signature: it was never signed, or the signature was removed"
        )
    if signature.get("algorithm") != algorithm:
        raise SignatureError(
            f"the signature's algorithm is {signature.get('algorithm')!r}, not {algorithm!r}"
        )
    return signature


def verify_document(document: dict[str, Any], verifier: Verifier) -> None:
    """Check ``document``'s signature against ``verifier``; `SignatureError` says what failed."""
    signature = signature_member(document, ALGORITHM)
    if signature.get("key_name") != verifier.name or signature.get("key_id") != verifier.key_id.hex():
        raise SignatureError(
            f"the document is signed by key {signature.get('key_name')!r} ({signature.get('key_id')}), not by "
            f"{verifier.name!r} ({verifier.key_id.hex()}): check that you have the firm's public key"
        )
    try:
        raw = base64.b64decode(str(signature.get("value", "")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("the signature value is not base64") from exc
    if not verifier.verify(signed_bytes(document), raw):
        raise SignatureError(
            "the signature does not match the document: it was changed after signing, or signed by another key"
        )
