"""Rightsholders' inquiries: a domain claim proved by a token the domain serves, questions put to a firm
about that domain or a piece of its text, and the firm's answers: proof bundles verified against its witnessed
log.

1. `claim_domain`: a rightsholder claims a domain and receives a random token to serve at the registry's
   ``verification_url`` (``https://DOMAIN/.well-known/kiroku-verification.txt``) and the claim's secret (shown
   once, kept as its SHA-256), which lets them verify the claim and ask.
2. `verify_claim`: the registry fetches that file (10 s, 4 KB at most, redirects within the host only, only
   from public addresses: each connection goes to the address checked when its host was resolved, through
   ``kiroku.optout.fetch.client(public_only=True)``) and marks the claim verified when the file holds the
   token.
3. `ask`: a question to an approved firm about the verified domain, or about a piece of text (up to 20,000
   characters) from it. The asker receives the inquiry's own secret (shown once), the key to its page.
4. `open_inquiries` and `answer`: the firm's kiroku pulls the open inquiries and answers each with a proof
   bundle: a domain bundle (``kiroku query domain NAME --bundle``) for a domain, a trace bundle (``kiroku
   trace --bundle``) for a text. The bundle must verify with the firm's registered key alone, be about what
   was asked, and rest on a checkpoint the registry can place in the firm's witnessed history.

An answer's verification, shown to the rightsholder as a badge:

- ``verified``: the bundle verifies and its checkpoint is one the registry witnessed (same size, same root);
- ``unwitnessed``: the bundle verifies and its checkpoint is larger than the last one witnessed; it is checked
  again whenever the answer is shown (`refreshed`), and becomes ``verified`` once the registry witnesses it;
- ``not_verified``: the checkpoint, signed by the firm, gives a witnessed size another root. The answer is
  kept as evidence, the firm flagged (`kiroku.registry.witness.check_against_history`) and told
  (`Inconsistent`).

A bundle that does not verify, answers another question, or rests on a checkpoint the registry never witnessed
and cannot place (smaller than the last witnessed) is refused (`Refused`); the inquiry stays open.

`response_times` gives, per approved firm, the inquiries asked and answered and the median time to answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import secrets
import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

import anyio
import httpx
from pydantic import ValidationError
from sqlalchemy import Connection, Engine, insert, select, update

from kiroku.domains.answer import table_of
from kiroku.domains.bundle import load_domain_bundle, verify_domain_bundle
from kiroku.domains.errors import InvalidName
from kiroku.domains.names import parse_target
from kiroku.ledger import BundleError, Checkpoint, NoteError, VerificationError, Verifier
from kiroku.ledger.note import open_checkpoint
from kiroku.optout.fetch import client
from kiroku.registry.addresses import refused
from kiroku.registry.db import domain_claims, firms, inquiries
from kiroku.registry.errors import Conflict, Forbidden, Inconsistent, NotFound, Refused
from kiroku.registry.firms import Firm, find_firm, list_firms, now
from kiroku.registry.witness import check_against_history, last_witnessed, witnessed
from kiroku.trace.bundle import TraceBundle, verify_trace_bundle
from kiroku.trace.errors import TraceError
from kiroku.trace.query import output_sha256
from kiroku.trace.tokenize import TOKENIZER, tokenize

__all__ = [
    "MAX_TEXT",
    "Claim",
    "Inquiry",
    "ResponseTimes",
    "answer",
    "ask",
    "claim_domain",
    "find_claim",
    "find_inquiry",
    "find_inquiry_by_id",
    "normalise_domain",
    "open_inquiries",
    "refreshed",
    "response_times",
    "verify_claim",
]

MAX_TEXT: Final = 20_000
"""The longest text an inquiry takes, in characters."""
MAX_FILE: Final = 4096
"""The largest verification file the registry reads, in bytes."""
FETCH_TIMEOUT: Final = 10.0
_REDIRECTS: Final = 3
_USER_AGENT: Final = "kiroku-registry"
_TIME = "%Y-%m-%dT%H:%M:%SZ"

Kind = Literal["domain", "text"]
Badge = Literal["verified", "unwitnessed", "not_verified"]


def _hash(secret: str) -> str:
    # secrets are 256 random bits: a plain SHA-256 keeps them unusable from a copy of the database
    return hashlib.sha256(secret.encode()).hexdigest()


# -- claims ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A rightsholder's claim of a domain."""

    id: int
    domain: str
    token: str
    contact: str
    created_at: str
    verified_at: str | None

    @property
    def verified(self) -> bool:
        """Whether the domain served the claim's token."""
        return self.verified_at is not None

    def public(self, verification_url: str) -> dict[str, Any]:
        """The claim as its claimant sees it, with where to serve the token."""
        return {
            "id": self.id,
            "domain": self.domain,
            "token": self.token,
            "verification_url": verification_url.replace("{domain}", self.domain),
            "contact": self.contact,
            "verified": self.verified,
            "created_at": self.created_at,
            "verified_at": self.verified_at,
        }


def _claim(row: Any) -> Claim:
    return Claim(row.id, row.domain, row.token, row.contact, row.created_at, row.verified_at)


def normalise_domain(text: str) -> str:
    """The claimed name as the catalog stores hosts (lower case, punycode); `Refused` for anything else."""
    try:
        target = parse_target(text)
    except InvalidName as exc:
        raise Refused(f"domain: {exc}") from exc
    if target.kind == "prefix":
        raise Refused(f"domain: claim the whole name, {target.name}, without a path")
    try:
        ipaddress.ip_address(target.name)
    except ValueError:
        pass
    else:
        raise Refused("domain: claim a domain name (example.com), not an IP address")
    if "." not in target.name:
        raise Refused(f"domain: {target.name!r} is not a public domain name: give one like example.com")
    return target.name


def _contact(contact: str) -> str:
    value = contact.strip()
    if not value:
        raise Refused("contact: required, so that the firm can reach you (an e-mail address)")
    if len(value) > 300:
        raise Refused("contact: at most 300 characters")
    return value


def claim_domain(engine: Engine, domain: str, contact: str) -> tuple[Claim, str]:
    """Record a claim of ``domain`` by ``contact``; return it and its secret (shown once)."""
    name, who = normalise_domain(domain), _contact(contact)
    secret = secrets.token_urlsafe(32)
    token = "kiroku-claim-" + secrets.token_urlsafe(24)
    with engine.begin() as conn:
        claim_id = conn.execute(
            insert(domain_claims).values(
                domain=name, token=token, secret_sha256=_hash(secret), contact=who, created_at=now()
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        row = conn.execute(select(domain_claims).where(domain_claims.c.id == claim_id)).one()
    return _claim(row), secret


def _claim_row(conn: Connection, claim_id: int, secret: str) -> Any:
    row = conn.execute(
        select(domain_claims).where(
            domain_claims.c.id == claim_id, domain_claims.c.secret_sha256 == _hash(secret)
        )
    ).first()
    if row is None:
        raise NotFound(f"no claim {claim_id} with this secret: use the link or secret given when you claimed")
    return row


def find_claim(engine: Engine, claim_id: int, secret: str) -> Claim:
    """The claim, for its claimant (who holds its secret); `NotFound` otherwise."""
    with engine.connect() as conn:
        return _claim(_claim_row(conn, claim_id, secret))


async def _read(response: httpx.Response, url: str) -> str:
    if response.status_code != 200:
        raise Refused(f"{url} answered {response.status_code}: serve the file there and verify again")
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > MAX_FILE:
            raise Refused(f"{url} is over {MAX_FILE:,} bytes: serve the token alone")
    return data.decode("utf-8", "replace")


async def _get(url: str, *, allow_private: bool) -> str:
    target = httpx.URL(url)
    async with client(
        user_agent=_USER_AGENT, timeout=FETCH_TIMEOUT, public_only=not allow_private, max_connections=1
    ) as http:
        for _ in range(_REDIRECTS + 1):
            response = await http.send(http.build_request("GET", target), stream=True)
            try:
                if not response.is_redirect:
                    return await _read(response, url)
                moved = response.url.join(response.headers.get("location", ""))
            finally:
                await response.aclose()
            if moved.host != target.host:
                raise Refused(
                    f"{url} redirects to another host ({moved.host}): serve the file on {target.host}"
                )
            target = moved
    raise Refused(f"{url} redirects more than {_REDIRECTS} times: serve the file at that address")


def _fetch(url: str, *, allow_private: bool = False) -> str:
    """The text at ``url``: `MAX_FILE` bytes at most, in `FETCH_TIMEOUT`; redirects followed within its host.

    Unless ``allow_private``, every connection goes to an address checked to be public when the host was
    resolved for it (``kiroku.optout.fetch.client(public_only=True)``): a host resolving to a private, loopback
    or link-local address is refused, even if it resolved to a public one a moment before. Runs its own event
    loop: call it from a thread without one (FastAPI runs the sync routes that call `verify_claim` in worker
    threads)."""

    async def run() -> str:
        try:
            with anyio.fail_after(FETCH_TIMEOUT):
                return await _get(url, allow_private=allow_private)
        except TimeoutError as exc:
            raise Refused(
                f"{url} took over {FETCH_TIMEOUT:.0f} s to send: serve the file from a faster host"
            ) from exc
        except httpx.HTTPError as exc:
            not_public = refused(exc)
            if not_public is not None:
                raise not_public from exc
            raise Refused(
                f"cannot fetch {url}: {str(exc) or type(exc).__name__}; check that it is served"
            ) from exc

    return asyncio.run(run())


def verify_claim(
    engine: Engine, claim_id: int, secret: str, verification_url: str, *, allow_private: bool = False
) -> Claim:
    """Fetch the claim's verification file; the claim is verified if it holds the token, `Refused` otherwise.

    ``verification_url`` is the registry's template (``{domain}`` replaced by the claimed domain);
    ``allow_private`` lets it fetch from private addresses (a registry on a closed network, or tests).
    """
    claim = find_claim(engine, claim_id, secret)
    if claim.verified:
        return claim
    url = verification_url.replace("{domain}", claim.domain)
    if claim.token not in _fetch(url, allow_private=allow_private):
        raise Refused(
            f"{url} does not hold the token {claim.token}: serve a file holding it, then verify again"
        )
    with engine.begin() as conn:
        conn.execute(update(domain_claims).where(domain_claims.c.id == claim.id).values(verified_at=now()))
        return _claim(_claim_row(conn, claim_id, secret))


# -- inquiries ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inquiry:
    """A question put to a firm, and its answer once given."""

    id: int
    firm: str
    firm_name: str
    contact: str
    kind: Kind
    domain: str
    text: str | None
    status: Literal["open", "answered"]
    created_at: str
    answered_at: str | None
    bundle: str | None
    verification: dict[str, Any] | None

    @property
    def response_seconds(self) -> int | None:
        """How long the firm took to answer, in seconds."""
        if self.answered_at is None:
            return None
        return _seconds_between(self.created_at, self.answered_at)

    @property
    def badge(self) -> Badge | None:
        """The answer's verification: ``verified``, ``unwitnessed`` or ``not_verified``; None while open."""
        return None if self.verification is None else self.verification["status"]

    def question(self) -> dict[str, Any]:
        """The inquiry as the firm's kiroku receives it."""
        table = table_of(parse_target(self.domain)) if self.kind == "domain" else None
        return {
            "id": self.id,
            "kind": self.kind,
            "domain": self.domain,
            "table": table,
            "text": self.text,
            "contact": self.contact,
            "created_at": self.created_at,
        }

    def public(self, *, with_bundle: bool = False) -> dict[str, Any]:
        """The inquiry as its asker sees it (the bundle parsed, when asked for)."""
        data: dict[str, Any] = {
            "id": self.id,
            "firm": {"slug": self.firm, "name": self.firm_name},
            "kind": self.kind,
            "domain": self.domain,
            "text": self.text,
            "status": self.status,
            "created_at": self.created_at,
            "answered_at": self.answered_at,
            "response_seconds": self.response_seconds,
            "verification": self.verification,
        }
        if with_bundle:
            data["bundle"] = None if self.bundle is None else json.loads(self.bundle)
        return data


def _seconds_between(start: str, end: str) -> int:
    return int((datetime.strptime(end, _TIME) - datetime.strptime(start, _TIME)).total_seconds())


_COLUMNS = (inquiries, firms.c.slug.label("firm_slug"), firms.c.name.label("firm_name"))


def _inquiry(row: Any) -> Inquiry:
    verification = json.loads(row.verification) if row.verification else None
    return Inquiry(
        row.id, row.firm_slug, row.firm_name, row.contact, row.kind, row.domain, row.text, row.status,
        row.created_at, row.answered_at, row.bundle, verification,
    )  # fmt: skip


def _select() -> Any:
    return select(*_COLUMNS).join(firms, firms.c.id == inquiries.c.firm_id)


def _text(text: str) -> str:
    if not text.strip():
        raise Refused("text: empty; paste the passage of your content to ask about")
    if len(text) > MAX_TEXT:
        raise Refused(
            f"text: {len(text):,} characters, over the limit of {MAX_TEXT:,}; ask about a shorter part"
        )
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\n\r\f\v")
    if controls > 0.05 * len(text):
        raise Refused("text: mostly control characters; paste text, not a binary file")
    return text


def ask(
    engine: Engine, claim_id: int, claim_secret: str, firm_slug: str, text: str | None = None
) -> tuple[Inquiry, str]:
    """Ask an approved firm about a verified claim's domain (``text`` None) or about a piece of text from it.

    Returns the inquiry and its secret (shown once). `NotFound` for an unknown claim or firm, `Forbidden` for
    a claim not verified yet, `Refused` for an empty or over-long text.
    """
    firm = find_firm(engine, firm_slug)
    asked = None if text is None else _text(text)
    secret = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        claim = _claim(_claim_row(conn, claim_id, claim_secret))
        if not claim.verified:
            raise Forbidden(
                f"claim {claim.id} of {claim.domain} is not verified yet: serve its token and verify it first"
            )
        kind: Kind = "domain" if asked is None else "text"
        values = {"firm_id": firm.id, "claim_id": claim.id, "contact": claim.contact, "kind": kind}
        values |= {"domain": claim.domain, "text": asked, "secret_sha256": _hash(secret), "status": "open"}
        made = conn.execute(insert(inquiries).values(**values, created_at=now()))
        inquiry_id = made.inserted_primary_key[0]  # type: ignore[index]
        row = conn.execute(_select().where(inquiries.c.id == inquiry_id)).one()
    return _inquiry(row), secret


def find_inquiry(engine: Engine, inquiry_id: int, secret: str) -> Inquiry:
    """The inquiry, for its asker (who holds its secret); its answer re-checked if not witnessed yet."""
    with engine.connect() as conn:
        row = conn.execute(
            _select().where(inquiries.c.id == inquiry_id, inquiries.c.secret_sha256 == _hash(secret))
        ).first()
    if row is None:
        raise NotFound(f"no inquiry {inquiry_id} with this secret: use the link given when you asked")
    return refreshed(engine, _inquiry(row))


def open_inquiries(engine: Engine, firm: Firm) -> list[Inquiry]:
    """The firm's open inquiries, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            _select()
            .where(inquiries.c.firm_id == firm.id, inquiries.c.status == "open")
            .order_by(inquiries.c.id)
        )
        return [_inquiry(row) for row in rows]


# -- answers --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    """A bundle that verified and is about the question: its checkpoint, and what to show."""

    note: str
    checkpoint: Checkpoint
    facts: dict[str, Any]


def _not_verified(firm: Firm, what: str, exc: Exception) -> Refused:
    return Refused(
        f"the {what} bundle does not verify against {firm.slug}'s registered key: {exc}; send the bundle "
        "kiroku wrote, unchanged"
    )


def _check_domain(inquiry: Inquiry, body: bytes, firm: Firm) -> _Checked:
    try:
        bundle = load_domain_bundle(body)
        verified = verify_domain_bundle(bundle, firm.verifier)
    except (BundleError, NoteError, VerificationError) as exc:
        raise _not_verified(firm, "domain", exc) from exc
    table = table_of(parse_target(inquiry.domain))
    if (bundle.name, bundle.table) != (inquiry.domain, table):
        raise Refused(
            f"the bundle answers for {bundle.name} ({bundle.table} table); inquiry {inquiry.id} asks about "
            f"{inquiry.domain} ({table} table): answer with `kiroku query domain {inquiry.domain} --bundle`"
        )
    claims = [
        {"scope": c.scope, "present": c.present, "counts": c.counts, "text": c.text} for c in verified.claims
    ]
    facts = {"kind": "domain", "name": verified.name, "table": verified.table, "claims": claims}
    return _Checked(bundle.record.checkpoint, _checkpoint(bundle.record.checkpoint, firm.verifier), facts)


def _cited(entry: dict[str, Any]) -> str:
    return str(entry.get("url") or entry.get("id", ""))


def _same_text(answer: dict[str, Any], text: str) -> str | None:
    """Why the trace answer is not about ``text``, or None. The answer records the output's SHA-256, length and
    token count, and each span's and passage's text at its place in the output, not the output itself."""
    output: dict[str, Any] = answer["output"] if isinstance(answer.get("output"), dict) else {}
    if "sha256" not in output:
        return "it does not say which text it traces (no output.sha256: trace it again with this kiroku)"
    if output["sha256"] != output_sha256(text):
        return "it traces another text (its output.sha256 is not the SHA-256 of the inquiry's text)"
    if output.get("characters") != len(text):
        return (
            f"it traces a text of {output.get('characters')} characters; the inquiry's text has {len(text):,}"
        )
    if answer["index"].get("tokenizer") == TOKENIZER and output.get("tokens") != len(tokenize(text)):
        tokens = len(tokenize(text))
        return f"it traces a text of {output.get('tokens')} tokens; the inquiry's text has {tokens:,}"
    for n, span in enumerate(answer.get("spans", [])):
        start, end = span.get("char_start"), span.get("char_end")
        placed = isinstance(start, int) and isinstance(end, int) and 0 <= start <= end
        if not placed or text[start:end] != span.get("text"):
            return f"its span {n} is not the inquiry's text at characters {start}-{end}"
    for n, passage in enumerate(answer.get("passages", [])):
        if str(passage.get("output_text", "")) not in text:
            return f"its passage {n} quotes text that is not in the inquiry's text"
    return None


def _check_text(inquiry: Inquiry, body: bytes, firm: Firm) -> _Checked:
    assert inquiry.text is not None
    try:
        verified = verify_trace_bundle(body, firm.verifier)
        bundle = TraceBundle.model_validate_json(body)
    except (BundleError, NoteError, VerificationError, TraceError, ValidationError) as exc:
        raise _not_verified(firm, "trace", exc) from exc
    answer = bundle.answer
    problem = _same_text(answer, inquiry.text)
    if problem is not None:
        raise Refused(
            f"the trace bundle does not answer inquiry {inquiry.id}: {problem}; trace the inquiry's text "
            "exactly as asked (`kiroku registry inquiries answer` does)"
        )
    facts = {
        "kind": "text",
        "scope": verified.scope,
        "coverage": verified.coverage,
        "documents": verified.documents,
        "summary": answer.get("summary"),
        "spans": [
            {
                "text": s.get("text"),
                "count": s.get("count"),
                "documents": [_cited(d) for d in s["documents"][:5]],
            }
            for s in answer.get("spans", [])[:20]
        ],
        "passages": [
            {"document": _cited(p), "jaccard": p.get("jaccard"), "containment": p.get("containment")}
            for p in answer.get("passages", [])[:10]
        ],
        "similar": [{"document": _cited(d), "score": d.get("score")} for d in answer.get("similar", [])[:5]],
    }
    return _Checked(bundle.index.checkpoint, _checkpoint(bundle.index.checkpoint, firm.verifier), facts)


def _checkpoint(note: str, verifier: Verifier) -> Checkpoint:
    checkpoint, _ = open_checkpoint(note, verifier)  # verified already, with the bundle
    return checkpoint


def _placed(engine: Engine, firm: Firm, checkpoint: Checkpoint) -> tuple[Badge, str]:
    """Where the checkpoint stands in the firm's witnessed history (a contradiction is left to
    `check_against_history`); `Refused` when the registry cannot place it."""
    size, root = checkpoint.size, checkpoint.root_hash.hex()
    held = {c.size: c.root for c in witnessed(engine, firm) if c.consistent}
    if held.get(size) == root:
        return "verified", f"the bundle verifies, and the registry witnessed its checkpoint (size {size:,})"
    last = last_witnessed(engine, firm)
    if size in held:
        return "not_verified", f"the checkpoint of size {size:,} contradicts the one the registry witnessed"
    if last is None or size > last.size:
        return "unwitnessed", (
            f"the bundle verifies; its checkpoint (size {size:,}) is not witnessed by the registry yet"
        )
    raise Refused(
        f"the bundle rests on a checkpoint of size {size:,}, which the registry did not witness, older than "
        f"the last one it witnessed ({last.size:,}): make the bundle against the latest checkpoint after having "
        "it witnessed (`kiroku registry inquiries answer` does both)"
    )


def _verification(checked: _Checked, badge: Badge, reason: str) -> dict[str, Any]:
    checkpoint = checked.checkpoint
    return {
        "status": badge,
        "reason": reason,
        "checkpoint": {
            "origin": checkpoint.origin,
            "size": checkpoint.size,
            "root": checkpoint.root_hash.hex(),
            "note": checked.note,
        },
        "checked_at": now(),
        "answer": checked.facts,
    }


def _owned_open(engine: Engine, firm: Firm, inquiry_id: int) -> Inquiry:
    with engine.connect() as conn:
        row = conn.execute(_select().where(inquiries.c.id == inquiry_id)).first()
    if row is None:
        raise NotFound(f"no inquiry {inquiry_id}")
    inquiry = _inquiry(row)
    if inquiry.firm != firm.slug:
        raise Forbidden(f"inquiry {inquiry_id} is put to another firm: {firm.slug} answers only its own")
    if inquiry.status != "open":
        raise Conflict(f"inquiry {inquiry_id} is answered already (at {inquiry.answered_at})")
    return inquiry


def _record(conn: Connection, inquiry: Inquiry, body: bytes, verification: dict[str, Any]) -> None:
    changed = conn.execute(
        update(inquiries)
        .where(inquiries.c.id == inquiry.id, inquiries.c.status == "open")
        .values(
            status="answered",
            answered_at=now(),
            bundle=body.decode("utf-8"),
            verification=json.dumps(verification, ensure_ascii=False),
        )
    ).rowcount
    if not changed:
        raise Conflict(f"inquiry {inquiry.id} was answered meanwhile")


def answer(engine: Engine, firm: Firm, inquiry_id: int, body: bytes) -> Inquiry:
    """Take ``firm``'s answer bundle to one of its open inquiries, verified (see the module docstring).

    `NotFound`, `Forbidden` (another firm's inquiry), `Conflict` (answered already), `Refused` (the bundle does
    not verify, answers something else, or cannot be placed), `Inconsistent` (its checkpoint contradicts the
    witnessed history: the answer is kept as evidence and the firm flagged).
    """
    inquiry = _owned_open(engine, firm, inquiry_id)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused("a bundle is JSON in UTF-8, as kiroku writes it: send the file unchanged") from exc
    checked = (
        _check_domain(inquiry, body, firm) if inquiry.kind == "domain" else _check_text(inquiry, body, firm)
    )
    badge, reason = _placed(engine, firm, checked.checkpoint)
    refused: Inconsistent | None = None
    with engine.begin() as conn:
        try:
            check_against_history(conn, firm, checked.checkpoint, checked.note)
        except Inconsistent as exc:
            refused, badge, reason = exc, "not_verified", str(exc)
        _record(conn, inquiry, body, _verification(checked, badge, reason))
    if refused is not None:
        raise refused  # the evidence, the flag and the answer are committed; the firm is told
    return find_inquiry_by_id(engine, inquiry_id)


def find_inquiry_by_id(engine: Engine, inquiry_id: int) -> Inquiry:
    """The inquiry with this id (for the registry itself: it shows the question and the answer)."""
    with engine.connect() as conn:
        row = conn.execute(_select().where(inquiries.c.id == inquiry_id)).first()
    if row is None:
        raise NotFound(f"no inquiry {inquiry_id}")
    return _inquiry(row)


def refreshed(engine: Engine, inquiry: Inquiry) -> Inquiry:
    """The inquiry, its answer checked again if its checkpoint was not witnessed yet (and the result kept)."""
    if inquiry.verification is None or inquiry.badge != "unwitnessed":
        return inquiry
    firm = find_firm(engine, inquiry.firm, approved_only=False)
    note = inquiry.verification["checkpoint"]["note"]
    checkpoint = _checkpoint(note, firm.verifier)
    try:
        badge, reason = _placed(engine, firm, checkpoint)
    except Refused:
        return inquiry  # the registry witnessed a later size only: it cannot place this one either way
    if badge == "unwitnessed":
        return inquiry
    with engine.begin() as conn:
        try:
            check_against_history(conn, firm, checkpoint, note)
        except Inconsistent as exc:
            badge, reason = "not_verified", str(exc)
        verification = {**inquiry.verification, "status": badge, "reason": reason, "checked_at": now()}
        conn.execute(
            update(inquiries)
            .where(inquiries.c.id == inquiry.id)
            .values(verification=json.dumps(verification, ensure_ascii=False))
        )
    return find_inquiry_by_id(engine, inquiry.id)


# -- response times -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseTimes:
    """A firm's record of answering: inquiries asked, answered and open, and the median time to answer."""

    firm: str
    name: str
    asked: int
    answered: int
    median_seconds: float | None

    @property
    def open(self) -> int:
        """Inquiries not answered yet."""
        return self.asked - self.answered

    def public(self) -> dict[str, Any]:
        """As the public JSON shows it."""
        return {
            "firm": self.firm,
            "name": self.name,
            "asked": self.asked,
            "answered": self.answered,
            "open": self.open,
            "median_response_seconds": self.median_seconds,
        }


def response_times(engine: Engine) -> list[ResponseTimes]:
    """Every approved firm's response times, by name."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(inquiries.c.firm_id, inquiries.c.created_at, inquiries.c.answered_at)
        ).all()
    by_firm: dict[int, list[int | None]] = {}
    for row in rows:
        took = None if row.answered_at is None else _seconds_between(row.created_at, row.answered_at)
        by_firm.setdefault(row.firm_id, []).append(took)
    figures = []
    for firm in list_firms(engine):
        times = by_firm.get(firm.id, [])
        answered = [t for t in times if t is not None]
        median = float(statistics.median(answered)) if answered else None
        figures.append(ResponseTimes(firm.slug, firm.name, len(times), len(answered), median))
    return figures
