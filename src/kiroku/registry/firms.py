"""Firms, their API tokens, registry administrators and the audit log.

A firm asks to register with its name, address, contact and the Ed25519 verifier key its kiroku signs with
(`kiroku log key`). The request gets an API token at once, shown once and stored only as its SHA-256; the token
files nothing until an administrator approves the firm. Every administrative action is written to the audit log.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kiroku.ledger import MalformedNote, Verifier
from kiroku.ledger.cosignature import Cosigner
from kiroku.registry.db import admins, audit_log, firm_tokens, firms, registry_state
from kiroku.registry.errors import Conflict, Forbidden, NotFound, Refused, Unauthorized

__all__ = [
    "Firm",
    "RegistryState",
    "add_admin",
    "approve_firm",
    "audit",
    "check_admin",
    "find_firm",
    "firm_for_token",
    "flag_firm",
    "issue_token",
    "list_firms",
    "now",
    "register_firm",
    "registry_state_of",
]

Status = Literal["pending", "approved", "rejected"]
_HASHER = PasswordHasher()
_TOKEN_PREFIX = "kiroku_"


def now() -> str:
    """The current time as the registry writes it: RFC 3339, UTC, seconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Firm:
    """A firm as the registry holds it."""

    id: int
    slug: str
    name: str
    address: str
    contact: str
    key: str
    status: Status
    flagged: bool
    flag_reason: str | None
    registered_at: str

    @property
    def verifier(self) -> Verifier:
        """The firm's verifier key."""
        return Verifier.from_vkey(self.key)

    def public(self) -> dict[str, Any]:
        """The firm as the public JSON API shows it."""
        return {
            "slug": self.slug,
            "name": self.name,
            "address": self.address,
            "contact": self.contact,
            "key": self.key,
            "status": self.status,
            "flagged": self.flagged,
            "flag_reason": self.flag_reason,
            "registered_at": self.registered_at,
        }


@dataclass(frozen=True)
class RegistryState:
    """The registry's own keys: the witness that cosigns checkpoints and the session cookies' secret."""

    witness: Cosigner
    session_secret: str


def registry_state_of(engine: Engine, witness_name: str) -> RegistryState:
    """The registry's keys, made on first use (a new witness key named ``witness_name``)."""
    with engine.begin() as conn:
        row = conn.execute(select(registry_state)).first()
        if row is None:
            witness = Cosigner.generate(witness_name)
            conn.execute(
                insert(registry_state).values(
                    id=1,
                    witness_key=witness.to_skey(),
                    session_secret=secrets.token_hex(32),
                    created_at=now(),
                )
            )
            row = conn.execute(select(registry_state)).one()
    return RegistryState(Cosigner.from_skey(row.witness_key), row.session_secret)


def _firm(row: Any) -> Firm:
    return Firm(
        row.id, row.slug, row.name, row.address, row.contact, row.key, row.status, bool(row.flagged),
        row.flag_reason, row.registered_at,
    )  # fmt: skip


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60]
    return slug or "firm-" + hashlib.sha256(name.encode()).hexdigest()[:8]


def _token_hash(token: str) -> str:
    # tokens are 256 random bits: a plain SHA-256 is enough to keep them unusable from a copy of the database
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(conn: Connection, firm_id: int) -> str:
    token = _TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        insert(firm_tokens).values(firm_id=firm_id, token_sha256=_token_hash(token), created_at=now())
    )
    return token


def register_firm(engine: Engine, name: str, address: str, contact: str, key: str) -> tuple[Firm, str]:
    """Record a registration request (status ``pending``) and return the firm and its first API token.

    `Refused` when a field is empty or the key is not a verifier key; `Conflict` when the name or key is
    registered already.
    """
    fields = {"name": name.strip(), "address": address.strip(), "contact": contact.strip()}
    for field, value in fields.items():
        if not value:
            raise Refused(f"{field}: required")
        if len(value) > 300:
            raise Refused(f"{field}: at most 300 characters")
    try:
        verifier = Verifier.from_vkey(key.strip())
    except MalformedNote as exc:
        raise Refused(f"key: not a kiroku verifier key (`kiroku log key` prints it): {exc}") from exc
    with engine.begin() as conn:
        base = _slug(fields["name"])
        taken = set(conn.execute(select(firms.c.slug).where(firms.c.slug.like(f"{base}%"))).scalars())
        slug = (
            base
            if base not in taken
            else next(f"{base}-{n}" for n in range(2, 10_000) if f"{base}-{n}" not in taken)
        )
        if conn.execute(select(firms.c.id).where(firms.c.name == fields["name"])).first() is not None:
            raise Conflict(f"name: a firm named {fields['name']!r} is registered already")
        try:
            firm_id = conn.execute(
                insert(firms).values(
                    slug=slug,
                    key=verifier.to_vkey(),
                    status="pending",
                    flagged=False,
                    registered_at=now(),
                    **fields,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        except IntegrityError as exc:
            raise Conflict("key: this verifier key belongs to a registered firm already") from exc
        token = _new_token(conn, firm_id)
        row = conn.execute(select(firms).where(firms.c.id == firm_id)).one()
    return _firm(row), token


def list_firms(engine: Engine, *, status: Status | None = "approved") -> list[Firm]:
    """Firms by name; only approved ones unless ``status`` says otherwise (None: all)."""
    query = select(firms).order_by(func.lower(firms.c.name))
    if status is not None:
        query = query.where(firms.c.status == status)
    with engine.connect() as conn:
        return [_firm(row) for row in conn.execute(query)]


def find_firm(engine: Engine, slug: str, *, approved_only: bool = True) -> Firm:
    """The firm with this slug; `NotFound` otherwise (and for a firm not approved, unless asked)."""
    with engine.connect() as conn:
        row = conn.execute(select(firms).where(firms.c.slug == slug)).first()
    if row is None or (approved_only and row.status != "approved"):
        raise NotFound(f"no firm {slug!r} in the registry")
    return _firm(row)


def firm_for_token(engine: Engine, token: str) -> Firm:
    """The approved firm whose live token this is; `Unauthorized` or `Forbidden` otherwise."""
    if not token.startswith(_TOKEN_PREFIX):
        raise Unauthorized("not a registry API token (they start with 'kiroku_')")
    with engine.connect() as conn:
        row = conn.execute(
            select(firms)
            .join(firm_tokens, firm_tokens.c.firm_id == firms.c.id)
            .where(firm_tokens.c.token_sha256 == _token_hash(token), firm_tokens.c.revoked_at.is_(None))
        ).first()
    if row is None:
        raise Unauthorized("unknown or revoked API token")
    firm = _firm(row)
    if firm.status != "approved":
        raise Forbidden(
            f"firm {firm.slug!r} is {firm.status}: a registry administrator must approve it first"
        )
    return firm


def approve_firm(engine: Engine, slug: str, actor: str, *, approve: bool = True) -> Firm:
    """Approve (or reject) a registration request, and write it to the audit log."""
    status: Status = "approved" if approve else "rejected"
    with engine.begin() as conn:
        changed = conn.execute(
            update(firms).where(firms.c.slug == slug).values(status=status, decided_at=now())
        ).rowcount
        if not changed:
            raise NotFound(f"no firm {slug!r} in the registry")
        _audit(conn, actor, "approve_firm" if approve else "reject_firm", slug)
        row = conn.execute(select(firms).where(firms.c.slug == slug)).one()
    return _firm(row)


def issue_token(engine: Engine, slug: str, actor: str) -> str:
    """A new API token for a firm (shown once), audited."""
    firm = find_firm(engine, slug, approved_only=False)
    with engine.begin() as conn:
        token = _new_token(conn, firm.id)
        _audit(conn, actor, "issue_token", slug)
    return token


def flag_firm(conn: Connection, firm_id: int, reason: str) -> None:
    """Flag a firm publicly (the registry's own action, in the caller's transaction)."""
    conn.execute(update(firms).where(firms.c.id == firm_id).values(flagged=True, flag_reason=reason))
    _audit(conn, "registry", "flag_firm", str(firm_id), reason)


def _audit(conn: Connection, actor: str, action: str, target: str, detail: str | None = None) -> None:
    conn.execute(insert(audit_log).values(at=now(), actor=actor, action=action, target=target, detail=detail))


def audit(engine: Engine, actor: str, action: str, target: str, detail: str | None = None) -> None:
    """Write one administrative action to the audit log."""
    with engine.begin() as conn:
        _audit(conn, actor, action, target, detail)


def add_admin(engine: Engine, username: str, password: str) -> None:
    """Create a registry administrator; the password is kept as an argon2id hash. `Refused` for a short one."""
    if len(password) < 12:
        raise Refused("password: at least 12 characters")
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", username):
        raise Refused("username: letters, digits, '.', '_' or '-'")
    with engine.begin() as conn:
        try:
            conn.execute(
                insert(admins).values(
                    username=username, password_hash=_HASHER.hash(password), created_at=now()
                )
            )
        except IntegrityError as exc:
            raise Conflict(f"administrator {username!r} exists already") from exc
        _audit(conn, "cli", "add_admin", username)


def check_admin(engine: Engine, username: str, password: str) -> str:
    """The username when the password is right; `Unauthorized` otherwise (the same message either way)."""
    with engine.connect() as conn:
        row = conn.execute(select(admins).where(admins.c.username == username)).first()
    try:
        if row is None:
            _HASHER.hash(password)  # as slow as a real check, so timing does not tell which names exist
            raise VerificationError("no such user")
        _HASHER.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("wrong username or password") from None
    return str(row.username)
