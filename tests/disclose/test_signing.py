"""Signed disclosure documents: Ed25519 over canonical JSON; any changed byte, another key or no signature fails."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kiroku.disclose.signing import SignatureError, sign_document, signed_bytes, verify_document
from kiroku.ledger import Signer

SIGNER = Signer.generate("acme.example/kiroku")
DOCUMENT: dict[str, Any] = {
    "format": "kiroku.statement/v1",
    "firm": {"name": "Acme AI K.K.", "address": "東京都千代田区丸の内1-2-3"},
    "requirements": [{"id": "p1-optouts", "status": "partially", "score": 0.5}],
}


def test_a_signed_document_verifies_whatever_its_key_order() -> None:
    signed = sign_document(DOCUMENT, SIGNER)
    assert signed["signature"]["algorithm"] == "ed25519" and signed["signature"]["key_name"] == SIGNER.name
    verify_document(signed, SIGNER.verifier())
    reordered = json.loads(
        json.dumps(signed, sort_keys=True)
    )  # canonical JSON: order and spacing do not matter
    verify_document(reordered, SIGNER.verifier())
    assert "signature" not in DOCUMENT  # the input is left alone


def test_every_changed_byte_of_the_content_fails() -> None:
    signed = sign_document(DOCUMENT, SIGNER)
    text = json.dumps({k: v for k, v in signed.items() if k != "signature"}, ensure_ascii=False)
    failures = 0
    for at, char in enumerate(text):
        if not char.isalnum():
            continue
        changed = text[:at] + ("X" if char != "X" else "Y") + text[at + 1 :]
        try:
            document = json.loads(changed)
        except json.JSONDecodeError:
            continue
        document["signature"] = signed["signature"]
        with pytest.raises(SignatureError, match="does not match the document"):
            verify_document(document, SIGNER.verifier())
        failures += 1
    assert failures > 50


def test_another_key_a_missing_or_garbled_signature_fail() -> None:
    signed = sign_document(DOCUMENT, SIGNER)
    other = Signer.generate("acme.example/kiroku")
    with pytest.raises(
        SignatureError, match=r"not by 'acme\.example/kiroku'.*check that you have the firm's public key"
    ):
        verify_document(signed, other.verifier())
    with pytest.raises(SignatureError, match="carries no signature"):
        verify_document(DOCUMENT, SIGNER.verifier())
    garbled = copy.deepcopy(signed)
    garbled["signature"]["value"] = "not base64!"
    with pytest.raises(SignatureError, match="not base64"):
        verify_document(garbled, SIGNER.verifier())
    forged = copy.deepcopy(signed)
    forged["signature"]["value"] = sign_document({"format": "other"}, SIGNER)["signature"]["value"]
    with pytest.raises(SignatureError, match="does not match"):
        verify_document(forged, SIGNER.verifier())


def test_the_signature_covers_canonical_json_without_itself() -> None:
    signed = sign_document(DOCUMENT, SIGNER)
    assert signed_bytes(signed) == signed_bytes(DOCUMENT)
    assert signed_bytes(DOCUMENT).startswith(b'{"firm":{"address":"')  # RFC 8785: sorted keys, no spaces
