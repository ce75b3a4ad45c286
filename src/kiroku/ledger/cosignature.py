"""C2SP tlog cosignatures (https://c2sp.org/tlog-cosignature, ``cosignature/v1`` with Ed25519).

A cosignature is a witness's statement that, as of a time, the checkpoint is the largest consistent tree head it
has seen for that log. It is one more signature line on the checkpoint note::

    — <witness name> base64(4-byte key ID || 8-byte big-endian timestamp || 64-byte Ed25519 signature)

over the message ``cosignature/v1\\ntime <timestamp>\\n`` followed by the note's whole text. The key ID is
SHA-256(name || 0x0A || 0x04 || public key)[:4], and a witness's verifier key is written
``<name>+<hex key ID>+<base64(0x04 || public key)>``.

`Cosigner` cosigns (kiroku's registry is one); `CosignatureVerifier.verify` checks a cosigned note and returns
the time of the cosignature. Errors are the `kiroku.ledger.note` ones: `MalformedNote`, `UnknownKey` (no
cosignature by that witness) and `InvalidSignature`.
"""

from __future__ import annotations

import hashlib
import time as _time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from kiroku.ledger.note import (
    _HEX8,
    _SKEY_PREFIX,
    InvalidSignature,
    MalformedNote,
    NoteSignature,
    SignedNote,
    UnknownKey,
    _b64decode,
    _b64encode,
    _check_name,
    _check_signable_text,
    _finish,
    parse_note,
)

__all__ = ["COSIGNATURE_ALG", "CosignatureVerifier", "Cosigner", "cosignature_key_id"]

COSIGNATURE_ALG = 0x04
"""The signature type byte of Ed25519 ``cosignature/v1`` in key IDs and key strings."""

_KEY_LEN = 32
_SIG_LEN = 64
_MAX_TIMESTAMP = 2**63 - 1


def cosignature_key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key ID of a witness key: SHA-256(name || 0x0A || 0x04 || public key)[:4]."""
    _check_name(name)
    if len(public_key) != _KEY_LEN:
        raise MalformedNote(f"an Ed25519 public key is {_KEY_LEN} bytes")
    return hashlib.sha256(name.encode() + b"\n" + bytes([COSIGNATURE_ALG]) + public_key).digest()[:4]


def _message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode("utf-8")


def _parse_key(text: str, kind: str) -> tuple[str, bytes, bytes]:
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise MalformedNote(f"{kind} is not of the form <name>+<key ID>+<key>")
    name, hex_id, key64 = parts
    _check_name(name)
    if _HEX8.fullmatch(hex_id) is None:
        raise MalformedNote(f"{kind}: key ID {hex_id!r} is not 8 hexadecimal digits")
    raw = _b64decode(key64)
    if raw is None or len(raw) != 1 + _KEY_LEN or raw[0] != COSIGNATURE_ALG:
        raise MalformedNote(f"{kind}: not an Ed25519 cosignature/v1 key (type 0x04 and 32 bytes)")
    return name, bytes.fromhex(hex_id), raw[1:]


class CosignatureVerifier:
    """A witness's public key, checking its cosignatures."""

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        self.name = _check_name(name)
        self.public_key = bytes(public_key)
        self.key_id = cosignature_key_id(name, self.public_key)
        self._key = Ed25519PublicKey.from_public_bytes(self.public_key)

    @classmethod
    def from_vkey(cls, text: str) -> CosignatureVerifier:
        """Parse ``<name>+<hex key ID>+<base64(0x04 || key)>``; `MalformedNote` if it is not one."""
        name, kid, key = _parse_key(text, "witness key")
        verifier = cls(name, key)
        if verifier.key_id != kid:
            raise MalformedNote(f"witness key: key ID {kid.hex()} does not match the key")
        return verifier

    def to_vkey(self) -> str:
        """The verifier key string, ``<name>+<hex key ID>+<base64(0x04 || key)>``."""
        return f"{self.name}+{self.key_id.hex()}+{_b64encode(bytes([COSIGNATURE_ALG]) + self.public_key)}"

    def verify(self, note: str | bytes) -> int:
        """Check this witness's cosignature on a checkpoint note and return its timestamp (POSIX seconds).

        `UnknownKey` when the note carries no cosignature by this witness, `InvalidSignature` when it does not
        verify (the note's text was changed after cosigning, or the line is forged), `MalformedNote` otherwise.
        """
        parsed = parse_note(note)
        mine = [s for s in parsed.signatures if (s.name, s.key_id) == (self.name, self.key_id)]
        if not mine:
            raise UnknownKey(f"the note carries no cosignature by witness {self.name}+{self.key_id.hex()}")
        timestamps = []
        for signature in mine:
            if len(signature.signature) != 8 + _SIG_LEN:
                raise InvalidSignature(f"the cosignature by {self.name} is not 72 bytes")
            timestamp = int.from_bytes(signature.signature[:8], "big")
            try:
                self._key.verify(signature.signature[8:], _message(parsed.text, timestamp))
            except Exception:
                raise InvalidSignature(
                    f"the cosignature by {self.name} does not verify: the checkpoint was changed after it was "
                    "cosigned, or the cosignature is forged"
                ) from None
            timestamps.append(timestamp)
        return max(timestamps)


class Cosigner:
    """A witness's private key, cosigning checkpoints. Its secret string form is
    ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x04 || seed)>``."""

    __slots__ = ("_key", "verifier")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = CosignatureVerifier(name, public)

    @classmethod
    def generate(cls, name: str) -> Cosigner:
        """A cosigner with a new random key."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_skey(cls, text: str) -> Cosigner:
        """Parse the secret key string; `MalformedNote` (never quoting the key) if it is not one."""
        text = text.strip()
        if not text.startswith(_SKEY_PREFIX):
            raise MalformedNote("witness signer key does not start with PRIVATE+KEY+")
        name, kid, seed = _parse_key(text[len(_SKEY_PREFIX) :], "witness signer key")
        cosigner = cls(name, Ed25519PrivateKey.from_private_bytes(seed))
        if cosigner.verifier.key_id != kid:
            raise MalformedNote("witness signer key: key ID does not match the key")
        return cosigner

    def to_skey(self) -> str:
        """The secret key string; keep it secret."""
        seed = self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        kid = self.verifier.key_id.hex()
        return f"{_SKEY_PREFIX}{self.verifier.name}+{kid}+{_b64encode(bytes([COSIGNATURE_ALG]) + seed)}"

    def cosign(self, note: str, timestamp: int | None = None) -> str:
        """Add this witness's cosignature to a checkpoint note (replacing an earlier one by the same key).

        The caller has checked the checkpoint: a cosignature states that it is consistent with every checkpoint
        of that log the witness has seen. ``timestamp`` defaults to now.
        """
        when = int(_time.time()) if timestamp is None else timestamp
        if not 0 <= when <= _MAX_TIMESTAMP:
            raise MalformedNote(f"cosignature timestamp {when} is out of range")
        parsed = parse_note(note)
        _check_signable_text(parsed.text)
        signature = self._key.sign(_message(parsed.text, when))
        line = NoteSignature(self.verifier.name, self.verifier.key_id, when.to_bytes(8, "big") + signature)
        kept = tuple(s for s in parsed.signatures if (s.name, s.key_id) != (line.name, line.key_id))
        return _finish(SignedNote(parsed.text, (*kept, line)))
