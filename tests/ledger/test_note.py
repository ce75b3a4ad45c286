"""Tests for kiroku.ledger.note: C2SP signed notes and tlog checkpoints."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from kiroku.ledger.note import (
    ED25519_ALG,
    Checkpoint,
    InvalidSignature,
    MalformedNote,
    NoteError,
    NoteSignature,
    SignedNote,
    Signer,
    UnknownKey,
    Verifier,
    add_signature,
    key_id,
    open_checkpoint,
    open_note,
    parse_note,
    sign_checkpoint,
    sign_note,
)

# --- interoperability vectors --------------------------------------------------------------------------
#
# Source: Go's golang.org/x/mod/sumdb/note, file sumdb/note/note_test.go (TestNewVerifier, TestNewSigner,
# TestSign, TestOpen) and the package documentation in sumdb/note/note.go. Ed25519 is deterministic, so our
# signature of GO_TEXT with GO_PETER_SKEY must be byte-for-byte Go's.

GO_PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
GO_ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
PETER_KEY64 = GO_PETER_VKEY.split("+", 2)[2]
GO_SIGNED = GO_TEXT + "\n" + GO_PETER_SIG

# Source: the examples in the C2SP specifications, c2sp.org/signed-note (signed-note.md) and
# c2sp.org/tlog-checkpoint (tlog-checkpoint.md). Their public keys are not published, so they are only parsed.
C2SP_NOTE = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "— quasimodo.example/salvatore "
    "NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)
C2SP_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


def test_go_key_id_and_vkey() -> None:
    verifier = Verifier.from_vkey(GO_PETER_VKEY)
    assert verifier.name == "PeterNeumann"
    assert verifier.key_id == bytes.fromhex("c74f20a3")
    assert key_id("PeterNeumann", verifier.public_key) == bytes.fromhex("c74f20a3")
    assert len(verifier.public_key) == 32
    assert verifier.to_vkey() == GO_PETER_VKEY
    assert Verifier.from_vkey(GO_ENOCH_VKEY).key_id == bytes.fromhex("af0cfe78")


def test_go_skey() -> None:
    signer = Signer.from_skey(GO_PETER_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_id == bytes.fromhex("c74f20a3")
    assert signer.to_skey() == GO_PETER_SKEY
    assert signer.verifier().to_vkey() == GO_PETER_VKEY
    assert signer.verifier() == Verifier.from_vkey(GO_PETER_VKEY)
    assert base64.b64decode(GO_PETER_SKEY.split("+", 4)[4])[1:] == signer.private_key_bytes()


def test_go_signature_is_reproduced() -> None:
    assert sign_note(GO_TEXT, Signer.from_skey(GO_PETER_SKEY)) == GO_SIGNED


def test_go_note_opens() -> None:
    note = open_note(GO_SIGNED, Verifier.from_vkey(GO_PETER_VKEY))
    assert note.text == GO_TEXT
    assert len(note.signatures) == 1
    assert note.signatures[0].name == "PeterNeumann"
    assert note.signatures[0].key_id == bytes.fromhex("c74f20a3")
    assert len(note.signatures[0].signature) == 64
    assert note.to_text() == GO_SIGNED
    assert open_note(GO_SIGNED.encode("utf-8"), Verifier.from_vkey(GO_PETER_VKEY)) == note


def test_go_doubly_signed_note_opens_with_either_key() -> None:
    data = GO_TEXT + "\n" + GO_PETER_SIG + GO_ENOCH_SIG
    for vkey in (GO_PETER_VKEY, GO_ENOCH_VKEY):
        note = open_note(data, Verifier.from_vkey(vkey))
        assert [s.name for s in note.signatures] == ["PeterNeumann", "EnochRoot"]
        assert note.to_text() == data


def test_go_invalid_signature() -> None:
    # TestOpen: four base64 characters spliced into the signature.
    bad = GO_TEXT + "\n" + GO_PETER_SIG[:60] + "ABCD" + GO_PETER_SIG[60:]
    with pytest.raises(InvalidSignature, match=r"PeterNeumann\+c74f20a3"):
        open_note(bad, Verifier.from_vkey(GO_PETER_VKEY))


def test_go_duplicated_and_unknown_bad_signatures() -> None:
    # TestOpen: repeated signatures are fine, and a broken signature by a key we were not given is ignored.
    enoch_abcd = GO_ENOCH_SIG[:60] + "ABCD" + GO_ENOCH_SIG[60:]
    data = GO_TEXT + "\n" + GO_PETER_SIG + GO_PETER_SIG + GO_ENOCH_SIG + GO_ENOCH_SIG + enoch_abcd
    note = open_note(data, Verifier.from_vkey(GO_PETER_VKEY))
    assert len(note.signatures) == 5
    with pytest.raises(InvalidSignature, match=r"EnochRoot\+af0cfe78"):
        open_note(data, Verifier.from_vkey(GO_ENOCH_VKEY))


def test_go_unknown_key() -> None:
    with pytest.raises(UnknownKey):
        open_note(GO_TEXT + "\n" + GO_PETER_SIG, Verifier.from_vkey(GO_ENOCH_VKEY))


@pytest.mark.parametrize(
    "data",
    [
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + GO_PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + GO_PETER_SIG,
        b"\xff" + (GO_TEXT + "\n" + GO_PETER_SIG).encode(),
        GO_TEXT + "\n" + "— Bad Name " + GO_PETER_SIG.split(" ")[2],
        GO_TEXT + "\n" + GO_PETER_SIG + "Unexpected line.\n",
        GO_TEXT + "\n" + GO_PETER_SIG * 101,
    ],
)
def test_go_malformed_notes(data: str | bytes) -> None:
    # TestOpen's badMsgs, and its 101 signatures.
    with pytest.raises(MalformedNote):
        open_note(data, Verifier.from_vkey(GO_PETER_VKEY))


def _manglings(key: str) -> list[str]:
    """Every proper substring of `key`, and `key` with each byte incremented (as in Go's tests)."""
    out = [
        key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1) if (i, j) != (0, len(key))
    ]
    out += [key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))]
    return out


def test_go_vkey_manglings_are_rejected() -> None:
    for bad in _manglings(GO_PETER_VKEY):
        with pytest.raises(MalformedNote):
            Verifier.from_vkey(bad)


def test_go_skey_manglings_are_rejected() -> None:
    for bad in _manglings(GO_PETER_SKEY):
        with pytest.raises(MalformedNote):
            Signer.from_skey(bad)


def test_go_bad_keys_with_adjusted_key_ids() -> None:
    # Go rejects this one for its length; we already reject its non-canonical base64 ("EY==" has stray bits).
    with pytest.raises(MalformedNote):
        Verifier.from_vkey("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
    with pytest.raises(MalformedNote, match="unknown key type 0x65"):
        Verifier.from_vkey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


def test_c2sp_note_with_empty_line_in_text_parses() -> None:
    note = parse_note(C2SP_NOTE)
    assert note.text == C2SP_NOTE.split("\n\n— ")[0] + "\n"
    assert "\n\ned è subito sera.\n" in note.text
    assert [s.name for s in note.signatures] == ["quasimodo.example/salvatore"]
    assert note.to_text() == C2SP_NOTE


def test_c2sp_checkpoint_parses() -> None:
    note = parse_note(C2SP_CHECKPOINT)
    cp = Checkpoint.from_text(note.text)
    assert cp.origin == "example.com/behind-the-sofa"
    assert cp.size == 20852163
    assert cp.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.extensions == ()
    assert cp.to_text() == note.text
    with pytest.raises(UnknownKey):
        open_checkpoint(C2SP_CHECKPOINT, Signer.generate("example.com/behind-the-sofa").verifier())


# --- keys ----------------------------------------------------------------------------------------------


def test_exception_tree() -> None:
    assert issubclass(NoteError, ValueError)
    for exc in (MalformedNote, UnknownKey, InvalidSignature):
        assert issubclass(exc, NoteError)
    assert ED25519_ALG == 1


def test_generated_keys_round_trip() -> None:
    signer = Signer.generate("kiroku.test/log")
    assert len(signer.public_key) == 32
    assert len(signer.key_id) == 4
    assert len(signer.private_key_bytes()) == 32
    again = Signer.from_skey(signer.to_skey())
    assert again.public_key == signer.public_key
    assert again.key_id == signer.key_id
    raw = signer.private_key_bytes()
    assert Signer.from_private_bytes("kiroku.test/log", raw).to_skey() == signer.to_skey()
    verifier = Verifier.from_vkey(signer.verifier().to_vkey())
    assert verifier == signer.verifier()
    assert hash(verifier) == hash(signer.verifier())
    assert Verifier(signer.name, signer.public_key) == verifier
    assert signer.key_id == key_id(signer.name, signer.public_key)
    signature = signer.sign(b"hi")
    assert verifier.verify(b"hi", signature)
    assert not verifier.verify(b"ho", signature)
    assert not verifier.verify(b"hi", bytes([signature[0] ^ 1]) + signature[1:])


def test_key_strings_tolerate_surrounding_whitespace() -> None:
    assert Verifier.from_vkey(f"  {GO_PETER_VKEY}\n").to_vkey() == GO_PETER_VKEY
    assert Signer.from_skey(f"\n{GO_PETER_SKEY}\r\n").to_skey() == GO_PETER_SKEY


def test_key_id_depends_on_name() -> None:
    signer = Signer.generate("a.example")
    assert key_id("b.example", signer.public_key) != signer.key_id


def test_verify_never_raises() -> None:
    verifier = Verifier.from_vkey(GO_PETER_VKEY)
    assert not verifier.verify(b"x", b"")
    assert not verifier.verify(b"x", b"\x00" * 65)
    assert not verifier.verify("x", "y")  # type: ignore[arg-type]
    assert not verifier.verify(None, None)  # type: ignore[arg-type]


def test_signer_repr_does_not_leak_the_private_key() -> None:
    signer = Signer.from_skey(GO_PETER_SKEY)
    seed64 = GO_PETER_SKEY.split("+", 4)[4]
    assert seed64 not in repr(signer)
    assert "c74f20a3" in repr(signer)


@pytest.mark.parametrize(
    ("vkey", "message"),
    [
        ("", "not of the form"),
        ("PeterNeumann", "not of the form"),
        ("PeterNeumann+c74f20a3", "not of the form"),
        (f"+c74f20a3+{PETER_KEY64}", "key name '' is not valid: it is empty"),
        (f"Peter Neumann+c74f20a3+{PETER_KEY64}", "space character U\\+0020"),
        (f"Peter\u00a0Neumann+c74f20a3+{PETER_KEY64}", "space character U\\+00A0"),
        (f"Peter\u3000Neumann+c74f20a3+{PETER_KEY64}", "space character U\\+3000"),
        (f"PeterNeumann+c74f20a+{PETER_KEY64}", "not 8 hexadecimal digits"),
        (f"PeterNeumann+c74f20ag+{PETER_KEY64}", "not 8 hexadecimal digits"),
        (f"PeterNeumann+c74f20a4+{PETER_KEY64}", "key ID c74f20a4 does not match"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "not valid base64"),
        ("PeterNeumann+c74f20a3+", "key is empty"),
        ("PeterNeumann+c74f20a3+AhpAAA==", "unknown key type 0x02"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10Q=", "key is 31 bytes, want 32"),
    ],
)
def test_malformed_vkey(vkey: str, message: str) -> None:
    with pytest.raises(MalformedNote, match=message):
        Verifier.from_vkey(vkey)


@pytest.mark.parametrize(
    ("skey", "message"),
    [
        (GO_PETER_SKEY.removeprefix("PRIVATE+KEY+"), "does not start with PRIVATE\\+KEY\\+"),
        (GO_PETER_SKEY.replace("c74f20a3", "c74f20a4"), "key ID c74f20a4 does not match"),
        (GO_PETER_SKEY.replace("PeterNeumann", "PeterNeumanN"), "does not match"),
        (GO_PETER_SKEY.replace("+AYEK", "+AoEK"), "unknown key type 0x02"),
        (GO_PETER_SKEY + "AAAA", "key is 35 bytes, want 32"),
        (GO_PETER_SKEY[:-1], "not valid base64"),
    ],
)
def test_malformed_skey_never_quotes_the_key(skey: str, message: str) -> None:
    with pytest.raises(MalformedNote, match=message) as info:
        Signer.from_skey(skey)
    assert "FALVFGyNhPJEMzD1QIDr" not in str(info.value)


def test_invalid_key_construction() -> None:
    with pytest.raises(MalformedNote, match="32 bytes"):
        Verifier("a.example", b"\x00" * 31)
    with pytest.raises(MalformedNote, match="32 bytes"):
        Signer.from_private_bytes("a.example", b"\x00" * 33)
    with pytest.raises(MalformedNote, match="contains '\\+'"):
        Signer.generate("a+b")
    with pytest.raises(MalformedNote, match="it is empty"):
        Signer("", Ed25519PrivateKey.generate())
    with pytest.raises(MalformedNote, match="control character"):
        Signer.generate("a\x00b")
    with pytest.raises(MalformedNote, match="Ed25519PrivateKey"):
        Signer("a.example", b"\x00" * 32)  # type: ignore[arg-type]
    with pytest.raises(MalformedNote, match="32 bytes"):
        key_id("a.example", b"\x01" * 33)


# --- notes ---------------------------------------------------------------------------------------------

LOG = Signer.generate("kiroku.test/log")
WITNESS = Signer.generate("witness.test/w1")


def test_sign_and_open_round_trip() -> None:
    text = "hello\nworld ✓\n"
    signed = sign_note(text, LOG)
    assert signed.startswith(text + "\n\u2014 kiroku.test/log ")
    assert signed.endswith("\n")
    note = open_note(signed, LOG.verifier())
    assert note == SignedNote(text, (NoteSignature(LOG.name, LOG.key_id, LOG.sign(text.encode())),))
    assert parse_note(signed) == note
    assert note.signatures[0].line() == signed.split("\n\n")[1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "note text is empty"),
        ("no newline", "does not end with a newline"),
        ("a\n\nb\n", "note text line 2 is empty"),
        ("\n", "note text line 1 is empty"),
        ("\na\n", "note text line 1 is empty"),
        ("a\nb\tc\n", "note text line 2: control character U\\+0009"),
        ("a\r\n", "control character U\\+000D"),
        ("a\ud800\n", "not valid UTF-8"),
        (b"a\n", "must be a str"),
    ],
)
def test_sign_note_rejects_bad_text(text: str, message: str) -> None:
    with pytest.raises(MalformedNote, match=message):
        sign_note(text, LOG)


def test_sign_note_rejects_a_note_over_the_size_limit() -> None:
    with pytest.raises(MalformedNote, match="1 MB"):
        sign_note("a" * 999_950 + "\n", LOG)


SIGNED = sign_note("a\nb\n", LOG)
SIG_B64 = SIGNED.split(" ")[2].rstrip("\n")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a\n\n\xe2\x80\x94 x " + SIG_B64.encode() + b"\xff\n", "not valid UTF-8"),
        ("a\n\n— x " + SIG_B64, "does not end with a newline"),
        ("a\nb\n", "no blank line"),
        ("a\nb\n\n", "no signature lines"),
        ("a\n\n- x " + SIG_B64 + "\n", "line 3: signature line does not start with '— '"),
        ("a\n\n—x " + SIG_B64 + "\n", "line 3: signature line does not start"),
        ("a\n\n— x " + SIG_B64 + "\n— y\n", "line 4: no space between key name and signature"),
        ("a\n\n— x+y " + SIG_B64 + "\n", "line 3: key name 'x\\+y' is not valid"),
        ("a\n\n—  " + SIG_B64 + "\n", "line 3: key name '' is not valid"),
        ("a\n\n— x \u00a0" + SIG_B64 + "\n", "line 3: signature .* is not valid base64"),
        ("a\n\n— x " + SIG_B64 + " \n", "line 3: signature .* is not valid base64"),
        ("a\n\n— x " + SIG_B64.rstrip("=") + "\n", "line 3: signature .* is not valid base64"),
        ("a\n\n— x AAAAAB==\n", "line 3: signature .* is not valid base64"),  # not canonical
        ("a\n\n— x AAAAAA==\n", "line 3: signature is 4 bytes, need at least 5"),
        ("a\n\n— x \n", "line 3: signature is 0 bytes"),
        ("a\x7f\x00\n\n— x " + SIG_B64 + "\n", "note line 1: control character U\\+0000"),
        ("a\n\n— x " + SIG_B64 + "\r\n", "note line 3: control character U\\+000D"),
        ("a\n\n" + f"— x {SIG_B64}\n" * 101, "101 signature lines, more than 100"),
        ("x" * 1_000_001, "more than 1 MB"),
        (b"x" * 1_000_001, "more than 1 MB"),
        ("a\ud800\n\n— x " + SIG_B64 + "\n", "not valid UTF-8"),
        (42, "must be str or bytes"),
    ],
)
def test_parse_note_rejects_malformed_notes(data: str | bytes, message: str) -> None:
    with pytest.raises(MalformedNote, match=message):
        parse_note(data)
    with pytest.raises(MalformedNote, match=message):
        open_note(data, LOG.verifier())


def test_parse_note_accepts_many_signatures_and_del() -> None:
    note = parse_note("a\x7f\n\n" + f"— x {SIG_B64}\n" * 100)
    assert len(note.signatures) == 100
    assert note.text == "a\x7f\n"


def test_note_signed_by_another_key_is_unknown_key() -> None:
    other = Signer.generate("other.test/log")
    with pytest.raises(UnknownKey) as info:
        open_note(sign_note("a\n", other), LOG.verifier())
    message = str(info.value)
    assert f"kiroku.test/log+{LOG.key_id.hex()}" in message
    assert f"other.test/log+{other.key_id.hex()}" in message
    assert "check that you were given this log's public key (kiroku log key)" in message


def test_same_name_other_key_is_unknown_key() -> None:
    impostor = Signer.generate(LOG.name)
    with pytest.raises(UnknownKey, match=re.escape(f"{LOG.name}+{impostor.key_id.hex()}")):
        open_note(sign_note("a\n", impostor), LOG.verifier())


def test_same_key_id_other_name_is_unknown_key() -> None:
    # A signature line whose key ID matches but whose name does not is someone else's: ignored.
    sig64 = base64.b64encode(LOG.key_id + LOG.sign(b"a\n")).decode()
    forged = f"a\n\n— other.test/log {sig64}\n"
    with pytest.raises(UnknownKey):
        open_note(forged, LOG.verifier())


def test_one_character_change_in_text_is_invalid_signature() -> None:
    signed = sign_note("size 10\nroot abc\n", LOG)
    for altered in (signed.replace("size 10", "size 11"), signed.replace("abc", "abd")):
        with pytest.raises(InvalidSignature, match="altered after signing or the signature is forged"):
            open_note(altered, LOG.verifier())


def test_one_character_change_in_signature_is_invalid_signature() -> None:
    signed = sign_note("a\n", LOG)
    at = signed.index(" ", signed.index("\u2014 ") + 2) + 1 + 40  # well inside the signature, past the key ID
    replacement = "A" if signed[at] != "A" else "B"
    altered = signed[:at] + replacement + signed[at + 1 :]
    with pytest.raises(InvalidSignature):
        open_note(altered, LOG.verifier())


def test_every_signature_by_the_key_must_verify() -> None:
    signed = sign_note("a\n", LOG)
    sig_line = signed.split("\n\n")[1]
    bad_line = sig_line[:40] + ("A" if sig_line[40] != "A" else "B") + sig_line[41:]
    with pytest.raises(InvalidSignature):
        open_note(signed + bad_line, LOG.verifier())
    assert open_note(signed + sig_line, LOG.verifier()).signatures[0].name == LOG.name


def test_cosignature_is_preserved_and_both_verify() -> None:
    signed = sign_note("a\nb\n", LOG)
    cosigned = add_signature(signed, WITNESS)
    assert cosigned.startswith(signed)
    by_log = open_note(cosigned, LOG.verifier())
    by_witness = open_note(cosigned, WITNESS.verifier())
    assert by_log == by_witness
    assert [s.name for s in by_log.signatures] == [LOG.name, WITNESS.name]
    # Signing again with a key already present replaces its line rather than repeating it.
    log_line, witness_line = cosigned.split("\n\n")[1].splitlines(keepends=True)
    resigned = add_signature(cosigned, LOG)
    assert resigned == "a\nb\n\n" + witness_line + log_line
    assert open_note(resigned, LOG.verifier()).text == "a\nb\n"


def test_add_signature_to_go_note() -> None:
    cosigned = add_signature(GO_SIGNED, WITNESS)
    open_note(cosigned, Verifier.from_vkey(GO_PETER_VKEY))
    open_note(cosigned, WITNESS.verifier())


def test_add_signature_refuses_text_with_empty_line() -> None:
    with pytest.raises(MalformedNote, match="cannot contain an empty line"):
        add_signature(C2SP_NOTE, WITNESS)


def test_open_note_fails_closed() -> None:
    with pytest.raises(NoteError, match="must be a Verifier"):
        open_note(GO_SIGNED, GO_PETER_VKEY)  # type: ignore[arg-type]

    class Hostile(Verifier):
        def verify(self, message: bytes, signature: bytes) -> bool:
            raise RuntimeError("boom")

    hostile = Hostile("PeterNeumann", Verifier.from_vkey(GO_PETER_VKEY).public_key)
    with pytest.raises(NoteError, match="RuntimeError: boom"):
        open_note(GO_SIGNED, hostile)
    with pytest.raises(NoteError, match="RuntimeError: boom"):
        open_checkpoint(GO_SIGNED, hostile)


# --- checkpoints ---------------------------------------------------------------------------------------

ROOT = bytes(range(32))
ROOT64 = base64.b64encode(ROOT).decode()


def test_checkpoint_text_round_trip() -> None:
    cp = Checkpoint("kiroku.test/log", 12, ROOT, ("ext one", "ext two"))
    text = cp.to_text()
    assert text == f"kiroku.test/log\n12\n{ROOT64}\next one\next two\n"
    assert Checkpoint.from_text(text) == cp
    empty = Checkpoint("o", 0, bytes(32))
    assert empty.to_text() == "o\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    assert Checkpoint.from_text(empty.to_text()) == empty
    biggest = Checkpoint("o", 2**64 - 1, ROOT)
    assert Checkpoint.from_text(biggest.to_text()) == biggest


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"o\n012\n{ROOT64}\n", "line 2: tree size '012' has a leading zero"),
        (f"o\n00\n{ROOT64}\n", "line 2: tree size '00' has a leading zero"),
        (f"o\n-1\n{ROOT64}\n", "line 2: tree size '-1' is not a decimal number"),
        (f"o\n+1\n{ROOT64}\n", "line 2: tree size '\\+1' is not a decimal number"),
        (f"o\n12a\n{ROOT64}\n", "line 2: tree size '12a' is not a decimal number"),
        (f"o\n 12\n{ROOT64}\n", "line 2: tree size ' 12' is not a decimal number"),
        (f"o\n1_2\n{ROOT64}\n", "line 2: tree size '1_2' is not a decimal number"),
        (f"o\n\u0663\n{ROOT64}\n", "line 2: tree size .* is not a decimal number"),
        (f"o\n\n{ROOT64}\n", "line 2: tree size '' is not a decimal number"),
        (f"o\n{2**64}\n{ROOT64}\n", "line 2: tree size .* is more than 2\\^64-1"),
        (f"o\n{'9' * 5000}\n{ROOT64}\n", "line 2: tree size .* is more than 2\\^64-1"),
        (f"o\n1\n{base64.b64encode(ROOT[:31]).decode()}\n", "line 3: root hash is 31 bytes, want 32"),
        (f"o\n1\n{base64.b64encode(ROOT + b'x').decode()}\n", "line 3: root hash is 33 bytes, want 32"),
        (f"o\n1\n{ROOT64.rstrip('=')}\n", "line 3: root hash .* is not valid base64"),
        (f"o\n1\n{ROOT64[:-2]}B=\n", "line 3: root hash .* is not valid base64"),  # not canonical
        ("o\n1\n\n", "line 3: root hash is 0 bytes"),
        (f"o\n1\n{ROOT64}", "does not end with a newline"),
        (f"\n1\n{ROOT64}\n", "line 1: checkpoint origin is empty"),
        (f"o\n1\n{ROOT64}\next\n\n", "line 5: checkpoint extension line is empty"),
        ("o\n1\n", "checkpoint has 2 line\\(s\\), need at least 3"),
        (f"o\r\n1\n{ROOT64}\n", "line 1: control character U\\+000D"),
    ],
)
def test_checkpoint_from_text_is_strict(text: str, message: str) -> None:
    with pytest.raises(MalformedNote, match=message):
        Checkpoint.from_text(text)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"origin": ""}, "origin is empty"),
        ({"origin": "a\nb"}, "origin contains the control character U\\+000A"),
        ({"size": -1}, "not between 0 and 2\\^64-1"),
        ({"size": 2**64}, "not between 0 and 2\\^64-1"),
        ({"size": True}, "must be an int"),
        ({"root_hash": ROOT[:31]}, "must be 32 bytes"),
        ({"root_hash": ROOT64}, "must be 32 bytes"),
        ({"extensions": ("",)}, "extension line is empty"),
        ({"extensions": ("a\nb",)}, "extension line contains"),
        ({"extensions": ["a"]}, "must be a tuple"),
    ],
)
def test_checkpoint_constructor_validates(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"origin": "o", "size": 1, "root_hash": ROOT, **kwargs}
    with pytest.raises(MalformedNote, match=message):
        Checkpoint(**fields)  # type: ignore[arg-type]


def test_sign_and_open_checkpoint() -> None:
    cp = Checkpoint(LOG.name, 5, ROOT)
    signed = sign_checkpoint(cp, LOG)
    assert signed.startswith(cp.to_text() + "\n\u2014 ")
    opened, note = open_checkpoint(signed, LOG.verifier(), origin=LOG.name)
    assert opened == cp
    assert note.text == cp.to_text()
    assert open_checkpoint(signed.encode(), LOG.verifier())[0] == cp


def test_open_checkpoint_checks_origin() -> None:
    signed = sign_checkpoint(Checkpoint("other.test/log", 5, ROOT), LOG)
    expected = f"checkpoint origin 'other.test/log' is not this log's origin '{LOG.name}'"
    with pytest.raises(MalformedNote, match=re.escape(expected)):
        open_checkpoint(signed, LOG.verifier(), origin=LOG.name)


def test_open_checkpoint_checks_signature_before_body() -> None:
    with pytest.raises(MalformedNote, match="line 2: tree size"):
        open_checkpoint(sign_note("o\nx\ny\n", LOG), LOG.verifier())
    altered = sign_checkpoint(Checkpoint(LOG.name, 5, ROOT), LOG).replace("\n5\n", "\n6\n")
    with pytest.raises(InvalidSignature):
        open_checkpoint(altered, LOG.verifier())
    with pytest.raises(UnknownKey):
        open_checkpoint(sign_checkpoint(Checkpoint(LOG.name, 5, ROOT), WITNESS), LOG.verifier())


def test_cosigned_checkpoint() -> None:
    signed = add_signature(sign_checkpoint(Checkpoint(LOG.name, 7, ROOT), LOG), WITNESS)
    cp, note = open_checkpoint(signed, LOG.verifier(), origin=LOG.name)
    assert cp.size == 7
    assert len(note.signatures) == 2
    assert open_checkpoint(signed, WITNESS.verifier())[0] == cp


_line_chars = st.characters(exclude_categories=["Cs"], exclude_characters=[chr(c) for c in range(0x20)])
_lines = st.text(_line_chars, min_size=1, max_size=40)


@settings(max_examples=150)
@given(
    origin=_lines,
    size=st.integers(min_value=0, max_value=2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(_lines, max_size=3).map(tuple),
)
def test_any_checkpoint_round_trips(origin: str, size: int, root: bytes, extensions: tuple[str, ...]) -> None:
    cp = Checkpoint(origin, size, root, extensions)
    assert Checkpoint.from_text(cp.to_text()) == cp
    signed = sign_checkpoint(cp, LOG)
    opened, note = open_checkpoint(signed, LOG.verifier(), origin=origin)
    assert opened == cp
    assert note.to_text() == signed


_names = st.text(
    st.characters(exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc"), exclude_characters="+"),
    min_size=1,
    max_size=30,
)


@settings(max_examples=50)
@given(name=_names, seed=st.binary(min_size=32, max_size=32))
def test_any_key_name_round_trips(name: str, seed: bytes) -> None:
    signer = Signer.from_private_bytes(name, seed)
    assert Signer.from_skey(signer.to_skey()).to_skey() == signer.to_skey()
    verifier = Verifier.from_vkey(signer.verifier().to_vkey())
    assert verifier == signer.verifier()
    cp = Checkpoint(name, 1, seed)
    assert open_checkpoint(sign_checkpoint(cp, signer), verifier, origin=name)[0] == cp
