"""Filings: notifications, statements, EU summaries and AB 2013 documentation, verified and kept for good.

`file_document` takes a document exactly as the firm's kiroku wrote it and refuses it unless:

- it is a kiroku disclosure (``kiroku.statement/v1``, ``kiroku.notification/v1``, ``kiroku.eu-summary/v1`` or
  ``kiroku.ab2013/v1``) of the public tier (the registry is public);
- its Ed25519 signature verifies against the firm's registered key, and so does the ledger checkpoint it embeds;
- it was not filed before (the same bytes filed again are a replay);
- its ledger checkpoint does not contradict one the registry witnessed (that is evidence: the firm is flagged).

Filings are never changed. Filing the same kind for the same year again is a correction: a new version, with the
earlier ones kept and shown.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Engine, func, insert, select

from kiroku.disclose.signing import SignatureError, verify_document
from kiroku.disclose.statement import verify_statement
from kiroku.ledger import NoteError
from kiroku.ledger.note import open_checkpoint
from kiroku.registry.db import filings, firms
from kiroku.registry.errors import Conflict, Inconsistent, NotFound, Refused
from kiroku.registry.firms import Firm, now
from kiroku.registry.witness import check_against_history

__all__ = ["KINDS", "Filing", "file_document", "find_filing", "list_filings"]

KINDS = {
    "kiroku.statement/v1": "statement",
    "kiroku.notification/v1": "notification",
    "kiroku.eu-summary/v1": "eu-summary",
    "kiroku.ab2013/v1": "ab2013",
}
"""The formats the registry takes, and the kind each is filed as."""


@dataclass(frozen=True)
class Filing:
    """One filing as received."""

    id: int
    firm: str
    kind: str
    year: int
    version: int
    sha256: str
    ledger_size: int
    ledger_root: str
    received_at: str
    body: str

    @cached_property
    def document(self) -> dict[str, Any]:
        """The filed document, parsed."""
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    def public(self, *, with_document: bool = False) -> dict[str, Any]:
        """As the JSON API shows it."""
        entry: dict[str, Any] = {
            "id": self.id,
            "firm": self.firm,
            "kind": self.kind,
            "year": self.year,
            "version": self.version,
            "sha256": self.sha256,
            "ledger": {"size": self.ledger_size, "root": self.ledger_root},
            "received_at": self.received_at,
        }
        if with_document:
            entry["document"] = self.document
        return entry


def _filing(row: Any) -> Filing:
    return Filing(
        row.id, row.slug, row.kind, row.year, row.version, row.sha256, row.ledger_size, row.ledger_root,
        row.received_at, row.body,
    )  # fmt: skip


def _parse(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except UnicodeDecodeError as exc:
        raise Refused("a filing is UTF-8 JSON") from exc
    except json.JSONDecodeError as exc:
        raise Refused(f"not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    if not isinstance(document, dict):
        raise Refused("a filing is a JSON object")
    return document


def _verified(document: dict[str, Any], firm: Firm) -> tuple[str, int, int, str]:
    """The kind, year, ledger size and root of a document whose signatures verify against ``firm``'s key."""
    kind = KINDS.get(str(document.get("format")))
    if kind is None:
        raise Refused(
            f"format {document.get('format')!r} is not one the registry takes: {', '.join(KINDS)} (a checkpoint "
            "goes to /api/v1/checkpoints)"
        )
    if document.get("tier", "public") != "public":
        raise Refused("the registry is public: file the statement's public tier (--tier public)")
    try:
        if kind == "notification":
            verify_document(document, firm.verifier)
        else:
            verify_statement(document, firm.verifier)
    except SignatureError as exc:
        raise Refused(f"the {kind} does not verify against {firm.slug}'s registered key: {exc}") from exc
    try:
        year = int(document["period"]["year"])
        size, root = int(document["ledger"]["size"]), str(document["ledger"]["root"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Refused(f"the {kind} lacks its period or ledger ({exc})") from exc
    return kind, year, size, root


def file_document(engine: Engine, firm: Firm, body: bytes) -> Filing:
    """Verify and keep one filing for ``firm``; see the module docstring for what is refused."""
    document = _parse(body)
    kind, year, size, root = _verified(document, firm)
    digest = hashlib.sha256(body).hexdigest()
    refused: Inconsistent | None = None
    with engine.begin() as conn:
        earlier = conn.execute(select(filings).where(filings.c.sha256 == digest)).first()
        if earlier is not None:
            raise Conflict(
                f"filed already: this {kind} is filing {earlier.id} ({earlier.kind} {earlier.year}, version "
                f"{earlier.version}); to correct a filing, file the corrected document"
            )
        note = document.get("ledger", {}).get("checkpoint")
        try:
            if isinstance(note, str):
                checkpoint, _ = open_checkpoint(note, firm.verifier)
                check_against_history(conn, firm, checkpoint, note)
        except NoteError as exc:
            raise Refused(f"the {kind}'s ledger checkpoint does not verify: {exc}") from exc
        except Inconsistent as exc:
            refused = exc
        if refused is None:
            version = (
                conn.execute(
                    select(func.max(filings.c.version)).where(
                        filings.c.firm_id == firm.id, filings.c.kind == kind, filings.c.year == year
                    )
                ).scalar()
                or 0
            ) + 1
            row = {
                "firm_id": firm.id, "kind": kind, "year": year, "version": version, "sha256": digest,
                "body": body.decode("utf-8"), "ledger_size": size, "ledger_root": root, "received_at": now(),
            }  # fmt: skip
            filing_id = conn.execute(insert(filings).values(**row)).inserted_primary_key[0]  # type: ignore[index]
    if refused is not None:
        raise refused
    return find_filing(engine, filing_id)


def _query() -> Any:
    return select(filings, firms.c.slug).join(firms, firms.c.id == filings.c.firm_id)


def find_filing(engine: Engine, filing_id: int) -> Filing:
    """One filing by its number; `NotFound` otherwise."""
    with engine.connect() as conn:
        row = conn.execute(_query().where(filings.c.id == filing_id)).first()
    if row is None:
        raise NotFound(f"no filing {filing_id}")
    return _filing(row)


def list_filings(
    engine: Engine,
    *,
    firm: Firm | None = None,
    year: int | None = None,
    kind: str | None = None,
    newest_first: bool = True,
    limit: int | None = None,
) -> list[Filing]:
    """Filings, filtered; newest first unless asked otherwise."""
    query = _query().where(firms.c.status == "approved")
    if firm is not None:
        query = query.where(filings.c.firm_id == firm.id)
    if year is not None:
        query = query.where(filings.c.year == year)
    if kind is not None:
        query = query.where(filings.c.kind == kind)
    query = query.order_by(filings.c.id.desc() if newest_first else filings.c.id)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        return [_filing(row) for row in conn.execute(query)]
