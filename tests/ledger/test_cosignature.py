"""C2SP cosignature/v1: the signed message, key IDs and key strings checked against the spec by hand."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiroku.ledger import Signer
from kiroku.ledger.cosignature import CosignatureVerifier, Cosigner, cosignature_key_id
from kiroku.ledger.note import (
    Checkpoint,
    InvalidSignature,
    MalformedNote,
    UnknownKey,
    parse_note,
    sign_checkpoint,
)

# The example of https://c2sp.org/tlog-cosignature: its witness line carries key ID 8d66cf3f and time 1679315147.
SPEC_WITNESS_LINE = (
    "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
)


@pytest.fixture
def checkpoint() -> str:
    log = Signer.generate("example.com/behind-the-sofa")
    return sign_checkpoint(Checkpoint("example.com/behind-the-sofa", 20852163, bytes(range(32))), log)


def test_the_spec_examples_layout_key_id_timestamp_and_signature() -> None:
    raw = base64.b64decode(SPEC_WITNESS_LINE)
    assert len(raw) == 4 + 8 + 64
    assert raw[:4].hex() == "8d66cf3f" and int.from_bytes(raw[4:12], "big") == 1679315147


def test_a_cosignature_is_ed25519_over_the_specified_message(checkpoint: str) -> None:
    witness = Cosigner.generate("witness.example.com/w1")
    cosigned = witness.cosign(checkpoint, timestamp=1679315147)
    note = parse_note(cosigned)
    assert [s.name for s in note.signatures] == ["example.com/behind-the-sofa", "witness.example.com/w1"]
    line = note.signatures[1]
    public = witness.verifier.public_key
    # key ID and message built here from the spec's words, not with kiroku's helpers
    assert line.key_id == hashlib.sha256(b"witness.example.com/w1\n\x04" + public).digest()[:4]
    assert int.from_bytes(line.signature[:8], "big") == 1679315147
    message = b"cosignature/v1\ntime 1679315147\n" + note.text.encode()
    assert (
        note.text == f"example.com/behind-the-sofa\n20852163\n{base64.b64encode(bytes(range(32))).decode()}\n"
    )
    Ed25519PublicKey.from_public_bytes(public).verify(line.signature[8:], message)  # raises if wrong
    assert witness.verifier.verify(cosigned) == 1679315147


def test_keys_round_trip_and_are_of_type_0x04() -> None:
    witness = Cosigner.generate("registry.example/witness")
    vkey = witness.verifier.to_vkey()
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04
    assert CosignatureVerifier.from_vkey(vkey).key_id == cosignature_key_id(
        "registry.example/witness", witness.verifier.public_key
    )
    again = Cosigner.from_skey(witness.to_skey())
    assert again.verifier.to_vkey() == vkey
    log_key = Signer.generate("registry.example/witness").verifier().to_vkey()  # an 0x01 note key
    with pytest.raises(MalformedNote, match="not an Ed25519 cosignature/v1 key"):
        CosignatureVerifier.from_vkey(log_key)


def test_a_changed_checkpoint_or_another_witness_fails(checkpoint: str) -> None:
    witness = Cosigner.generate("witness.example.com/w1")
    cosigned = witness.cosign(checkpoint)
    altered = cosigned.replace("20852163", "20852164", 1)
    with pytest.raises(InvalidSignature, match="changed after it was cosigned"):
        witness.verifier.verify(altered)
    with pytest.raises(UnknownKey):
        Cosigner.generate("witness.example.com/w2").verifier.verify(cosigned)
    # cosigning again replaces the witness's earlier line
    assert parse_note(witness.cosign(cosigned, timestamp=5)).signatures[-1].signature[:8] == (5).to_bytes(
        8, "big"
    )
    assert len(parse_note(witness.cosign(cosigned)).signatures) == 2
