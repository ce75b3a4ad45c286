"""Signatures of CycloneDX documents in JSON Signature Format (JSF 0.82), as CycloneDX 1.6 defines them.

CycloneDX carries an enveloped signature in its top-level ``signature`` member, a JSF signer object. kiroku
signs with the firm's Ed25519 ledger key:

- ``algorithm`` ``Ed25519`` (JSF names the curve rather than ``EdDSA``);
- ``keyId`` the key's C2SP verifier key (``name+keyid+key``), so that a reader knows which firm's key it is;
- ``publicKey`` the key as a JWK (``kty`` ``OKP``, ``crv`` ``Ed25519``, ``x``);
- ``value`` the signature, base64url without padding, over the RFC 8785 canonical JSON (JSF's canonicalisation)
  of the whole document with the signature object in place but without its ``value``.

`verify_jsf` fails closed with `SignatureError`: no signature, another algorithm or key, a malformed value, or any
changed byte of the signed content.
"""

from __future__ import annotations

import base64
import binascii
import copy
from typing import Any

from kiroku.disclose.signing import SignatureError, signature_member
from kiroku.ledger import Signer, Verifier
from kiroku.ledger.records import canonical_json

__all__ = ["ALGORITHM", "sign_jsf", "verify_jsf"]

ALGORITHM = "Ed25519"
FIELD = "signature"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signer_object(name_key: str, public_key: bytes) -> dict[str, Any]:
    return {
        "algorithm": ALGORITHM,
        "keyId": name_key,
        "publicKey": {"kty": "OKP", "crv": "Ed25519", "x": _b64url(public_key)},
    }


def _signed_bytes(document: dict[str, Any], signature: dict[str, Any]) -> bytes:
    unsigned = {**document, FIELD: {key: value for key, value in signature.items() if key != "value"}}
    return canonical_json(unsigned)


def sign_jsf(document: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """A copy of ``document`` with a JSF ``signature`` by ``signer`` (any earlier signature replaced)."""
    signed = copy.deepcopy({key: value for key, value in document.items() if key != FIELD})
    signature = _signer_object(signer.verifier().to_vkey(), signer.public_key)
    signature["value"] = _b64url(signer.sign(_signed_bytes(signed, signature)))
    signed[FIELD] = signature
    return signed


def verify_jsf(document: dict[str, Any], verifier: Verifier) -> None:
    """Check ``document``'s JSF signature against ``verifier``; `SignatureError` says what failed."""
    signature = signature_member(document, ALGORITHM)
    expected = _signer_object(verifier.to_vkey(), verifier.public_key)
    if signature.get("keyId") != expected["keyId"] or signature.get("publicKey") != expected["publicKey"]:
        raise SignatureError(
            f"the document is signed by key {signature.get('keyId')!r}, not by {verifier.name}: check that you "
            "have the firm's verifier key"
        )
    value = signature.get("value")
    try:
        raw = _unb64url(value) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 64:
        raise SignatureError("the signature value is not a base64url Ed25519 signature: the file was damaged")
    if not verifier.verify(_signed_bytes(document, signature), raw):
        raise SignatureError(
            "the signature does not match the document: it was changed after signing; get the original file"
        )
