"""C2SP signed notes with Ed25519 keys, and C2SP tlog checkpoints as their text.

A *signed note* (https://c2sp.org/signed-note) is a UTF-8 text ending in a newline, a blank line, and one or
more signature lines ``— <key name> <base64(4-byte key ID || signature)>``. A *checkpoint*
(https://c2sp.org/tlog-checkpoint) is a note whose text is a log's origin, tree size and root hash (this
example, from the spec, has its signature cut short)::

    example.com/behind-the-sofa
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

    — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGz…

The formats are those of Go's ``golang.org/x/mod/sumdb/note``, so notes, verifier keys
(``<name>+<8 hex key ID>+<base64(0x01 || public key)>``) and signer keys
(``PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || seed)>``) are interchangeable with Go tools.

Convention: a kiroku log's key name equals its checkpoint origin (the spec says the two SHOULD match). This
module does not enforce it, because other logs (Go's checksum database, for one) use different names.

Errors. Every error is a `NoteError`, which is a `ValueError`; its message says what is wrong. The tree::

    NoteError               base class; also raised, failing closed, for any unexpected error in opening
    ├── MalformedNote       not a well-formed note, checkpoint or key string (the message names the line and
    │                       the problem, e.g. "line 2: tree size '12a' is not a decimal number"), or a
    │                       checkpoint of another origin than the one expected
    ├── UnknownKey          the note has no signature by the given verifier key (name and key ID)
    └── InvalidSignature    a signature by the right key name and ID does not verify: the note was altered
                            after signing or the signature is forged

Limits and strictness:

- a note may be at most 1 MB (1,000,000 bytes of UTF-8) and carry at most 100 signature lines;
- base64 must be canonical standard base64 with padding (what every encoder produces);
- as the spec allows, a parsed note's text may contain empty lines (the text ends at the *last* blank line),
  but `sign_note` and `add_signature` refuse to sign such a text, so that what kiroku signs cannot be
  misread by a parser that splits at the first blank line;
- `open_note` verifies *every* signature line by the verifier's key, and rejects the note if any fails.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

__all__ = [
    "ED25519_ALG",
    "Checkpoint",
    "InvalidSignature",
    "MalformedNote",
    "NoteError",
    "NoteSignature",
    "SignedNote",
    "Signer",
    "UnknownKey",
    "Verifier",
    "add_signature",
    "key_id",
    "open_checkpoint",
    "open_note",
    "parse_note",
    "sign_checkpoint",
    "sign_note",
]

ED25519_ALG = 0x01
"""The signature type byte of Ed25519 in key IDs and key strings."""

_MAX_NOTE_BYTES = 1_000_000
_MAX_SIGNATURES = 100
_MAX_TREE_SIZE = 2**64 - 1
_KEY_ID_LEN = 4
_ED25519_KEY_LEN = 32
_ED25519_SIG_LEN = 64
_ROOT_HASH_LEN = 32
_SIG_PREFIX = "\u2014 "  # em dash, space
_SKEY_PREFIX = "PRIVATE+KEY+"
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")  # control characters but newline
_ANY_CONTROL = re.compile("[\x00-\x1f]")
_HEX8 = re.compile("[0-9a-fA-F]{8}")
_DECIMAL = re.compile("0|[1-9][0-9]*")
_DIGITS = re.compile("[0-9]+")


class NoteError(ValueError):
    """Base class of every error raised by this module."""


class MalformedNote(NoteError):
    """The text is not a well-formed signed note, checkpoint or key string; the message says why."""


class UnknownKey(NoteError):
    """The note carries no signature by the verifier's key (same key name and key ID)."""


class InvalidSignature(NoteError):
    """A signature line by the verifier's key name and key ID does not verify."""


# --- helpers ----------------------------------------------------------------------------------------------


def _name_problem(name: object) -> str | None:
    """Say why `name` is not a valid key name, or return None if it is valid."""
    if not isinstance(name, str):
        return "it is not a string"
    if not name:
        return "it is empty"
    if "+" in name:
        return "it contains '+'"
    for ch in name:
        if ch.isspace():
            return f"it contains the space character U+{ord(ch):04X}"
        if ord(ch) < 0x20:
            return f"it contains the control character U+{ord(ch):04X}"
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return "it is not valid Unicode (it contains a lone surrogate)"
    return None


def _check_name(name: object) -> str:
    """Return `name` if it is a valid key name, else raise MalformedNote."""
    problem = _name_problem(name)
    if problem is not None:
        raise MalformedNote(f"key name {name!r} is not valid: {problem}")
    assert isinstance(name, str)
    return name


def _b64decode(text: str) -> bytes | None:
    """Decode canonical standard base64 (with padding); None if `text` is anything else."""
    if not text.isascii():
        return None
    try:
        raw = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    if base64.b64encode(raw).decode("ascii") != text:
        return None
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _line_of(text: str, index: int) -> int:
    """The 1-based line number of the character at `index`."""
    return text.count("\n", 0, index) + 1


def _check_control(text: str, what: str = "") -> None:
    """Raise MalformedNote if `text` has an ASCII control character other than newline."""
    match = _CONTROL.search(text)
    if match is not None:
        line = _line_of(text, match.start())
        raise MalformedNote(
            f"{what}line {line}: control character U+{ord(match.group()):04X} is not allowed "
            "(only newline is)"
        )


def _check_utf8(text: str, what: str) -> bytes:
    """Encode `text` as UTF-8, raising MalformedNote if it holds lone surrogates."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = _line_of(text, exc.start)
        raise MalformedNote(f"{what} line {line}: not valid UTF-8 (a lone surrogate)") from None


def _check_signable_text(text: object) -> bytes:
    """Check that kiroku may sign `text` as a note text; return its UTF-8 bytes."""
    if not isinstance(text, str):
        raise MalformedNote(f"note text must be a str, not {type(text).__name__}")
    if not text:
        raise MalformedNote("note text is empty")
    data = _check_utf8(text, "note text")
    _check_control(text, "note text ")
    if not text.endswith("\n"):
        raise MalformedNote("note text does not end with a newline")
    for number, line in enumerate(text[:-1].split("\n"), start=1):
        if not line:
            raise MalformedNote(
                f"note text line {number} is empty: a signed note's text cannot contain an empty line"
            )
    return data


def _key_string(name: str, kid: bytes, key: bytes) -> str:
    return f"{name}+{kid.hex()}+{_b64encode(bytes([ED25519_ALG]) + key)}"


def _parse_key_string(text: object, kind: str) -> tuple[str, bytes, bytes]:
    """Parse ``<name>+<hex key ID>+<base64(0x01 || 32 bytes)>`` into name, key ID and the 32 bytes.

    Messages never quote the key bytes, since for a signer key they are secret.
    """
    if not isinstance(text, str):
        raise MalformedNote(f"{kind} must be a str, not {type(text).__name__}")
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise MalformedNote(f"{kind} is not of the form <name>+<key ID>+<key>")
    name, hex_id, key64 = parts
    problem = _name_problem(name)
    if problem is not None:
        raise MalformedNote(f"{kind}: key name {name!r} is not valid: {problem}")
    if _HEX8.fullmatch(hex_id) is None:
        raise MalformedNote(f"{kind}: key ID {hex_id!r} is not 8 hexadecimal digits")
    raw = _b64decode(key64)
    if raw is None:
        raise MalformedNote(f"{kind}: key is not valid base64")
    if not raw:
        raise MalformedNote(f"{kind}: key is empty")
    if raw[0] != ED25519_ALG:
        raise MalformedNote(f"{kind}: unknown key type 0x{raw[0]:02x} (only Ed25519, 0x01, is supported)")
    if len(raw) != 1 + _ED25519_KEY_LEN:
        raise MalformedNote(f"{kind}: Ed25519 key is {len(raw) - 1} bytes, want {_ED25519_KEY_LEN}")
    return name, bytes.fromhex(hex_id), raw[1:]


def _key_label(name: str, kid: bytes) -> str:
    return f"{name}+{kid.hex()}"


# --- keys -------------------------------------------------------------------------------------------------


def key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || public key)[:4].

    Raises MalformedNote if the name is not a valid key name or the key is not 32 bytes.
    """
    _check_name(name)
    if not isinstance(public_key, bytes | bytearray) or len(public_key) != _ED25519_KEY_LEN:
        raise MalformedNote(f"an Ed25519 public key is {_ED25519_KEY_LEN} bytes")
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519_ALG]) + bytes(public_key)).digest()
    return digest[:_KEY_ID_LEN]


class Verifier:
    """A named Ed25519 public key that checks note signatures.

    Its string form (`to_vkey`, `from_vkey`) is Go's verifier key,
    ``<name>+<hex key ID>+<base64(0x01 || key)>``.
    """

    __slots__ = ("_key", "_key_id", "_name", "_public_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        self._name = _check_name(name)
        self._key_id = key_id(name, public_key)
        self._public_key = bytes(public_key)
        try:
            self._key = Ed25519PublicKey.from_public_bytes(self._public_key)
        except Exception as exc:
            raise MalformedNote(f"not a valid Ed25519 public key for {name!r}: {exc}") from exc

    @classmethod
    def from_vkey(cls, text: str) -> Verifier:
        """Parse a verifier key ``<name>+<8 hex key ID>+<base64(0x01 || 32-byte key)>``.

        Surrounding whitespace is ignored. Raises MalformedNote if the name is not valid, the key is not an
        Ed25519 key of 32 bytes, or the key ID is not the one computed from the name and key.
        """
        if not isinstance(text, str):
            raise MalformedNote(f"verifier key must be a str, not {type(text).__name__}")
        name, kid, public_key = _parse_key_string(text.strip(), "verifier key")
        verifier = cls(name, public_key)
        if verifier.key_id != kid:
            raise MalformedNote(
                f"verifier key: key ID {kid.hex()} does not match the key "
                f"(which has key ID {verifier.key_id.hex()})"
            )
        return verifier

    def to_vkey(self) -> str:
        """Return the verifier key string, ``<name>+<hex key ID>+<base64(0x01 || key)>``."""
        return _key_string(self._name, self._key_id, self._public_key)

    @property
    def name(self) -> str:
        """The key name (for a kiroku log, its checkpoint origin)."""
        return self._name

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID."""
        return self._key_id

    @property
    def public_key(self) -> bytes:
        """The 32-byte raw Ed25519 public key."""
        return self._public_key

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Report whether `signature` (64 bytes, without key ID) is this key's signature of `message`.

        Never raises: anything that is not a valid signature gives False.
        """
        try:
            self._key.verify(bytes(signature), bytes(message))
        except Exception:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verifier):
            return NotImplemented
        return (self._name, self._public_key) == (other._name, other._public_key)

    def __hash__(self) -> int:
        return hash((self._name, self._public_key))

    def __repr__(self) -> str:
        return f"Verifier({self.to_vkey()!r})"


class Signer:
    """A named Ed25519 private key that signs notes.

    Its string form (`to_skey`, `from_skey`) is Go's signer key,
    ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>``; keep it secret.
    """

    __slots__ = ("_key", "_key_id", "_name", "_public_key")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self._name = _check_name(name)
        if not isinstance(private_key, Ed25519PrivateKey):
            raise MalformedNote(f"private key must be an Ed25519PrivateKey, not {type(private_key).__name__}")
        self._key = private_key
        public: bytes = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._public_key = public
        self._key_id = key_id(name, public)

    @classmethod
    def generate(cls, name: str) -> Signer:
        """Return a signer with a new random Ed25519 key."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, name: str, raw: bytes) -> Signer:
        """Return the signer of the 32-byte raw Ed25519 private key (seed) `raw`."""
        if not isinstance(raw, bytes | bytearray) or len(raw) != _ED25519_KEY_LEN:
            raise MalformedNote(f"an Ed25519 private key is {_ED25519_KEY_LEN} bytes")
        return cls(name, Ed25519PrivateKey.from_private_bytes(bytes(raw)))

    @classmethod
    def from_skey(cls, text: str) -> Signer:
        """Parse a signer key ``PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || 32-byte seed)>``.

        Surrounding whitespace is ignored. Raises MalformedNote (whose message never quotes the key) if the
        string is not of that form or the key ID is not that of the key's public half.
        """
        if not isinstance(text, str):
            raise MalformedNote(f"signer key must be a str, not {type(text).__name__}")
        text = text.strip()
        if not text.startswith(_SKEY_PREFIX):
            raise MalformedNote("signer key does not start with PRIVATE+KEY+")
        name, kid, seed = _parse_key_string(text[len(_SKEY_PREFIX) :], "signer key")
        signer = cls.from_private_bytes(name, seed)
        if signer.key_id != kid:
            raise MalformedNote(
                f"signer key: key ID {kid.hex()} does not match the key "
                f"(which has key ID {signer.key_id.hex()})"
            )
        return signer

    def to_skey(self) -> str:
        """Return the secret signer key string, ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01||seed)>``."""
        return _SKEY_PREFIX + _key_string(self._name, self._key_id, self.private_key_bytes())

    @property
    def name(self) -> str:
        """The key name (for a kiroku log, its checkpoint origin)."""
        return self._name

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID."""
        return self._key_id

    @property
    def public_key(self) -> bytes:
        """The 32-byte raw Ed25519 public key."""
        return self._public_key

    def private_key_bytes(self) -> bytes:
        """Return the 32-byte raw Ed25519 private key (seed); keep it secret."""
        raw: bytes = self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return raw

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of `message` (deterministic, RFC 8032)."""
        signature: bytes = self._key.sign(bytes(message))
        return signature

    def verifier(self) -> Verifier:
        """Return the verifier of this signer's public key."""
        return Verifier(self._name, self._public_key)

    def __repr__(self) -> str:
        return f"Signer(name={self._name!r}, key_id={self._key_id.hex()!r})"


# --- notes ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note: key name, 4-byte key ID and the signature bytes after the key ID."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """Return the signature line, ``— <name> <base64(key ID || signature)>\\n``."""
        return f"{_SIG_PREFIX}{self.name} {_b64encode(self.key_id + self.signature)}\n"


@dataclass(frozen=True)
class SignedNote:
    """A note's text (ending in a newline) and its signature lines, in order.

    A `SignedNote` from `parse_note` has signatures that are not checked; one from `open_note` has at least
    one good signature by the verifier's key (the others are not checked).
    """

    text: str
    signatures: tuple[NoteSignature, ...]

    def to_text(self) -> str:
        """Return the note in its text form: text, blank line, signature lines."""
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)


def _to_note_str(data: object) -> str:
    """Decode and check the size, encoding and characters of a signed note."""
    if isinstance(data, str):
        if len(data) > _MAX_NOTE_BYTES:
            raise MalformedNote(f"note is more than 1 MB ({_MAX_NOTE_BYTES} bytes)")
        raw = _check_utf8(data, "note")
        text = data
    elif isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise MalformedNote(f"note line {line}: not valid UTF-8 (byte offset {exc.start})") from None
    else:
        raise MalformedNote(f"note must be str or bytes, not {type(data).__name__}")
    if len(raw) > _MAX_NOTE_BYTES:
        raise MalformedNote(f"note is more than 1 MB ({_MAX_NOTE_BYTES} bytes): {len(raw)} bytes")
    _check_control(text, "note ")
    return text


def parse_note(data: str | bytes) -> SignedNote:
    """Parse a signed note without checking any signature.

    The note must be valid UTF-8 of at most 1 MB, have no ASCII control character but newline, end with a
    newline, and consist of a text, a blank line (the last one in the note) and 1 to 100 signature lines
    ``— <key name> <base64>`` whose base64 decodes to at least 5 bytes (a 4-byte key ID and a signature).
    Raises MalformedNote, naming the line and the problem, otherwise.
    """
    text = _to_note_str(data)
    if not text.endswith("\n"):
        raise MalformedNote("note does not end with a newline")
    split = text.rfind("\n\n")
    if split < 0:
        raise MalformedNote("note has no blank line separating its text from its signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block:
        raise MalformedNote("note has no signature lines after its blank line")
    lines = block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise MalformedNote(f"note has {len(lines)} signature lines, more than {_MAX_SIGNATURES}")
    first = body.count("\n") + 2
    signatures = []
    for number, line in enumerate(lines, start=first):
        if not line.startswith(_SIG_PREFIX):
            raise MalformedNote(
                f"note line {number}: signature line does not start with '{_SIG_PREFIX}' (em dash, space)"
            )
        name, space, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        problem = _name_problem(name)
        if problem is not None:
            raise MalformedNote(f"note line {number}: key name {name!r} is not valid: {problem}")
        if not space:
            raise MalformedNote(f"note line {number}: no space between key name and signature")
        raw = _b64decode(b64)
        if raw is None:
            raise MalformedNote(f"note line {number}: signature {b64!r} is not valid base64")
        if len(raw) < _KEY_ID_LEN + 1:
            raise MalformedNote(
                f"note line {number}: signature is {len(raw)} bytes, need at least 5 (key ID and signature)"
            )
        signatures.append(NoteSignature(name, raw[:_KEY_ID_LEN], raw[_KEY_ID_LEN:]))
    return SignedNote(body, tuple(signatures))


def _finish(note: SignedNote) -> str:
    """Serialize a note we signed, making sure it is within the size and signature limits."""
    out = note.to_text()
    if len(out.encode("utf-8")) > _MAX_NOTE_BYTES:
        raise MalformedNote(f"signed note would be more than 1 MB ({_MAX_NOTE_BYTES} bytes)")
    if len(note.signatures) > _MAX_SIGNATURES:
        raise MalformedNote(f"signed note would have more than {_MAX_SIGNATURES} signatures")
    return out


def _sign_line(data: bytes, signer: Signer) -> NoteSignature:
    if not isinstance(signer, Signer):
        raise MalformedNote(f"signer must be a Signer, not {type(signer).__name__}")
    return NoteSignature(signer.name, signer.key_id, signer.sign(data))


def sign_note(text: str, signer: Signer) -> str:
    """Sign `text` and return the signed note: text, blank line, ``— <name> <base64(key ID || sig)>``.

    The text must be non-empty valid Unicode with no ASCII control character but newline, end with a newline
    and contain no empty line; MalformedNote otherwise. The signature is over the text's UTF-8 bytes.
    """
    data = _check_signable_text(text)
    return _finish(SignedNote(text, (_sign_line(data, signer),)))


def add_signature(signed_note: str, signer: Signer) -> str:
    """Add `signer`'s signature of the note's text (e.g. a witness cosignature) and return the note.

    The existing signatures are kept, unchecked and in order, and the new line goes last; an existing
    signature by the same key name and key ID is replaced. The text must be one `sign_note` would sign.
    """
    note = parse_note(signed_note)
    data = _check_signable_text(note.text)
    new = _sign_line(data, signer)
    kept = tuple(s for s in note.signatures if (s.name, s.key_id) != (new.name, new.key_id))
    return _finish(SignedNote(note.text, (*kept, new)))


def _open_note(data: str | bytes, verifier: Verifier) -> SignedNote:
    if not isinstance(verifier, Verifier):
        raise NoteError(f"verifier must be a Verifier, not {type(verifier).__name__}")
    note = parse_note(data)
    mine = [s for s in note.signatures if s.name == verifier.name and s.key_id == verifier.key_id]
    wanted = _key_label(verifier.name, verifier.key_id)
    if not mine:
        carried = ", ".join(dict.fromkeys(_key_label(s.name, s.key_id) for s in note.signatures))
        raise UnknownKey(
            f"the note has no signature by key {wanted}; it is signed by {carried}; "
            "check that you were given this log's public key (kiroku log key)"
        )
    message = note.text.encode("utf-8")
    for sig in mine:
        if not verifier.verify(message, sig.signature):
            raise InvalidSignature(
                f"the signature by key {wanted} does not verify: "
                "the note was altered after signing or the signature is forged"
            )
    return note


def open_note(data: str | bytes, verifier: Verifier) -> SignedNote:
    """Parse a signed note and check its signature by `verifier`; return the note.

    Raises MalformedNote if the note is not well-formed, UnknownKey if no signature line has the verifier's
    key name and key ID, and InvalidSignature if such a line does not verify. Signatures by other keys are
    ignored, as the spec requires. Fails closed: any other error is raised as a NoteError.
    """
    try:
        return _open_note(data, verifier)
    except NoteError:
        raise
    except Exception as exc:
        raise NoteError(f"cannot open the note: {type(exc).__name__}: {exc}") from exc


# --- checkpoints ------------------------------------------------------------------------------------------


def _line_problem(line: object, what: str) -> str | None:
    if not isinstance(line, str):
        return f"{what} must be a str, not {type(line).__name__}"
    if not line:
        return f"{what} is empty"
    match = _ANY_CONTROL.search(line)
    if match is not None:
        return f"{what} contains the control character U+{ord(match.group()):04X}"
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in line):
        return f"{what} is not valid Unicode (it contains a lone surrogate)"
    return None


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint: the origin, tree size and RFC 6962 root hash of a log, and optional extension lines.

    Its text (`to_text`) is ``<origin>\\n<size>\\n<base64 root hash>\\n`` and then each extension line and a
    newline. Constructing one with a value that cannot be written that way (an empty origin, a negative
    size or one of 2^64 or more, a root hash that is not 32 bytes, an empty extension line, a newline or
    control character in a line) raises MalformedNote.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problem = _line_problem(self.origin, "checkpoint origin")
        if problem is not None:
            raise MalformedNote(problem)
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise MalformedNote(f"checkpoint tree size must be an int, not {type(self.size).__name__}")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise MalformedNote(f"checkpoint tree size {self.size} is not between 0 and 2^64-1")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != _ROOT_HASH_LEN:
            raise MalformedNote(f"checkpoint root hash must be {_ROOT_HASH_LEN} bytes")
        if not isinstance(self.extensions, tuple):
            raise MalformedNote("checkpoint extensions must be a tuple of str")
        for extension in self.extensions:
            problem = _line_problem(extension, "checkpoint extension line")
            if problem is not None:
                raise MalformedNote(problem)

    def to_text(self) -> str:
        """Return the checkpoint's note text (ending in a newline)."""
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a checkpoint's note text, strictly.

        Line 1 is a non-empty origin; line 2 the tree size in decimal, without sign or leading zero (unless
        it is 0), at most 2^64-1; line 3 the base64 of a 32-byte root hash; any further lines are non-empty
        extension lines; the text ends with a newline. Raises MalformedNote, naming the line, otherwise.
        """
        if not isinstance(text, str):
            raise MalformedNote(f"checkpoint text must be a str, not {type(text).__name__}")
        _check_control(text, "checkpoint ")
        if not text.endswith("\n"):
            raise MalformedNote("checkpoint text does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedNote(
                f"checkpoint has {len(lines)} line(s), need at least 3 (origin, tree size, root hash)"
            )
        origin, size_text, root_text, *extensions = lines
        if not origin:
            raise MalformedNote("line 1: checkpoint origin is empty")
        if _DECIMAL.fullmatch(size_text) is None:
            if _DIGITS.fullmatch(size_text) is not None:
                raise MalformedNote(f"line 2: tree size {size_text!r} has a leading zero")
            raise MalformedNote(f"line 2: tree size {size_text!r} is not a decimal number")
        if len(size_text) > len(str(_MAX_TREE_SIZE)) or int(size_text) > _MAX_TREE_SIZE:
            raise MalformedNote(f"line 2: tree size {size_text!r} is more than 2^64-1")
        root = _b64decode(root_text)
        if root is None:
            raise MalformedNote(f"line 3: root hash {root_text!r} is not valid base64")
        if len(root) != _ROOT_HASH_LEN:
            raise MalformedNote(f"line 3: root hash is {len(root)} bytes, want {_ROOT_HASH_LEN}")
        for number, extension in enumerate(extensions, start=4):
            if not extension:
                raise MalformedNote(f"line {number}: checkpoint extension line is empty")
        return cls(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(cp: Checkpoint, signer: Signer) -> str:
    """Sign a checkpoint and return the signed note.

    By kiroku's convention the signer's key name is the checkpoint's origin; this is not checked here.
    """
    if not isinstance(cp, Checkpoint):
        raise MalformedNote(f"checkpoint must be a Checkpoint, not {type(cp).__name__}")
    return sign_note(cp.to_text(), signer)


def open_checkpoint(
    data: str | bytes, verifier: Verifier, origin: str | None = None
) -> tuple[Checkpoint, SignedNote]:
    """Check a signed checkpoint's signature by `verifier` (see `open_note`), then parse its text.

    If `origin` is given, the checkpoint's origin must equal it (MalformedNote otherwise). Returns the
    checkpoint and the note (with all its signature lines, e.g. witness cosignatures, unchecked but one).
    Fails closed: any unexpected error is raised as a NoteError.
    """
    try:
        note = open_note(data, verifier)
        cp = Checkpoint.from_text(note.text)
        if origin is not None and cp.origin != origin:
            raise MalformedNote(f"checkpoint origin {cp.origin!r} is not this log's origin {origin!r}")
        return cp, note
    except NoteError:
        raise
    except Exception as exc:
        raise NoteError(f"cannot open the checkpoint: {type(exc).__name__}: {exc}") from exc
