"""Record kinds and their canonical form.

A record is a *kind* (a short name such as ``note``), a *time* and a *body* (a JSON object). What the log commits
to is an `Entry`: the kind, the time and the SHA-256 of the body in RFC 8785 canonical JSON. The leaf of the Merkle
tree is the canonical JSON of the entry itself::

    {"body_sha256":"<64 hex>","kind":"note","time":"2026-04-01T09:30:00.000000Z"}

so anybody can recompute a leaf from a record with a JSON canonicaliser and SHA-256, and the body can be deleted
when its retention period ends without breaking any proof.

Kinds are registered with `register_kind`; each names a pydantic model that validates the body. The ``note`` kind
takes any JSON object, for events kiroku has no type for yet. Later packages (catalog, crawl, disclose) register
their own kinds.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from pydantic import BaseModel, JsonValue, RootModel, ValidationError

from kiroku.ledger.errors import InvalidRecord, UnknownKind
from kiroku.ledger.merkle import leaf_hash

__all__ = [
    "Entry",
    "Note",
    "PreparedRecord",
    "canonical_json",
    "format_time",
    "kinds",
    "parse_json_object",
    "parse_time",
    "prepare",
    "register_kind",
]

_KIND_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_TIME_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_LEAF_TEMPLATE = b'{"body_sha256":"%s","kind":"%s","time":"%s"}'


class Note(RootModel[dict[str, JsonValue]]):
    """Any JSON object: for events kiroku has no typed record for yet."""


_KINDS: dict[str, type[BaseModel]] = {}


def register_kind(name: str, model: type[BaseModel]) -> None:
    """Register a record kind: records of kind ``name`` have bodies validated by ``model``.

    Registering the same model twice under one name is allowed (modules may be imported twice); a different
    model under a taken name is a programming error.
    """
    if not _KIND_NAME.match(name):
        raise ValueError(f"record kind {name!r} must be lower case letters, digits, '_' or '.', at most 64")
    if _KINDS.get(name, model) is not model:
        raise ValueError(f"record kind {name!r} is already registered to {_KINDS[name].__name__}")
    _KINDS[name] = model


def kinds() -> dict[str, type[BaseModel]]:
    """The registered record kinds and their body models."""
    return dict(_KINDS)


register_kind("note", Note)


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of ``value``; `InvalidRecord` for values JSON cannot represent exactly."""
    try:
        return bytes(rfc8785.dumps(value))
    except rfc8785.IntegerDomainError as exc:
        raise InvalidRecord(f"integer out of the range JSON can carry exactly (±2**53): {exc}") from exc
    except rfc8785.FloatDomainError as exc:
        raise InvalidRecord(f"number not representable in JSON (NaN or infinity): {exc}") from exc
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InvalidRecord(f"value cannot be written as canonical JSON: {exc}") from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_object(text: str | bytes, *, source: str = "record") -> dict[str, Any]:
    """Parse a JSON object strictly (no NaN, no duplicate keys); errors name ``source`` and the line."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen[key] = value
        return seen

    try:
        value = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise InvalidRecord(f"{source}: line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRecord(f"{source}: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidRecord(f"{source}: a record body must be a JSON object, not {type(value).__name__}")
    return value


def parse_time(value: datetime | str) -> datetime:
    """A timezone-aware UTC datetime from an aware datetime or an RFC 3339 string."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidRecord(f"time {value!r} is not an RFC 3339 timestamp") from exc
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecord(f"time {value.isoformat()!r} has no timezone; give one, e.g. 'Z' or '+09:00'")
    return value.astimezone(UTC)


def format_time(value: datetime | str) -> str:
    """The one textual form of a time in the log: UTC, microseconds, ``Z``."""
    return parse_time(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Entry:
    """What a leaf commits to: a record's kind, time and the SHA-256 of its canonical body."""

    kind: str
    time: str
    body_sha256: bytes

    def leaf_data(self) -> bytes:
        """The raw leaf input: canonical JSON of the entry."""
        if _KIND_NAME.match(self.kind) and _TIME_FORMAT.match(self.time) and len(self.body_sha256) == 32:
            # strings that need no JSON escaping: the template is already RFC 8785 canonical (keys in order)
            return _LEAF_TEMPLATE % (self.body_sha256.hex().encode(), self.kind.encode(), self.time.encode())
        return canonical_json({"body_sha256": self.body_sha256.hex(), "kind": self.kind, "time": self.time})

    def leaf_hash(self) -> bytes:
        """RFC 9162 leaf hash of `leaf_data`."""
        return leaf_hash(self.leaf_data())

    def to_json(self) -> dict[str, str]:
        """The entry as a JSON object (digest in hex)."""
        return {"kind": self.kind, "time": self.time, "body_sha256": self.body_sha256.hex()}


@dataclass(frozen=True)
class PreparedRecord:
    """A validated record ready to append: its entry and its canonical body bytes."""

    entry: Entry
    body: bytes


def _validation_message(kind: str, exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"record of kind {kind!r}: field {where!r}: {first['msg']}{more}"


def prepare(
    kind: str, body: Mapping[str, Any] | BaseModel, time: datetime | str | None = None
) -> PreparedRecord:
    """Validate ``body`` against the model of ``kind`` and compute its canonical form and entry.

    ``time`` is when the recorded event happened (default: now, UTC).
    """
    model = _KINDS.get(kind)
    if model is None:
        known = ", ".join(sorted(_KINDS))
        raise UnknownKind(
            f"unknown record kind {kind!r}; known kinds: {known} (use 'note' for anything else)"
        )
    try:
        validated = (
            body
            if isinstance(body, model)
            else model.model_validate(body.model_dump(mode="json") if isinstance(body, BaseModel) else body)
        )
    except ValidationError as exc:
        raise InvalidRecord(_validation_message(kind, exc)) from exc
    # a note's validated root is already plain JSON; other kinds go through pydantic's JSON mode
    plain = validated.root if isinstance(validated, Note) else validated.model_dump(mode="json")
    canonical = canonical_json(plain)
    when = format_time(time if time is not None else datetime.now(UTC))
    return PreparedRecord(Entry(kind, when, hashlib.sha256(canonical).digest()), canonical)
