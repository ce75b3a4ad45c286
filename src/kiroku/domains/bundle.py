"""Domain answer bundles: "yes" and "no" about a name, proved against a signed checkpoint, checked offline.

A bundle names one host or domain and, for each scope of the answer, either

- its *entry*, opened: the counts and the salt they are committed with (the leaf is ``SHA-256(name) ||
  SHA-256(salt || counts)``, see `kiroku.domains.tables`) at some position of the scope's sorted table, with its
  RFC 9162 inclusion proof to the root that the ``domains.index`` record commits to; or
- for an absent name, its *neighbours*: the entries just before and after where its key would sit (one at either
  end of the table), each with its inclusion proof. Adjacent positions whose keys bracket the name's key prove no
  entry holds it. All scopes list the same names in the same order, so the neighbours are the same two in every
  scope (the verifier insists). Neighbours come sealed: their key hash and the digest of their salted counts,
  nothing else. A bundle reveals two other names' key hashes at most, never their names nor their counts.

The ``domains.index`` record itself comes with its inclusion proof in the log at a signed checkpoint
(`kiroku.ledger.InclusionBundle`). `verify_domain_bundle` needs nothing but the log's verifier key and fails
closed: `kiroku.ledger.BundleError` (malformed), `kiroku.ledger.NoteError` (checkpoint not signed by the key),
`kiroku.ledger.VerificationError` (a count, a proof or the record does not check).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kiroku.domains.index import DomainIndex
from kiroku.domains.keys import name_key
from kiroku.domains.record import CATALOG, DomainIndexRecord, Table
from kiroku.domains.tables import counts_digest
from kiroku.ledger import (
    BundleError,
    InclusionBundle,
    Ledger,
    VerificationError,
    Verifier,
    merkle,
    verify_bundle,
)
from kiroku.ledger.bundle import HashB64

__all__ = [
    "DOMAIN_FORMAT",
    "DomainBundle",
    "ScopeClaim",
    "VerifiedDomain",
    "domain_bundle",
    "load_domain_bundle",
    "verification_view",
    "verify_domain_bundle",
]

DOMAIN_FORMAT: Final = "kiroku.domain/v1"
_NAME = re.compile(r"^[a-z0-9_.:\[\]-]{1,253}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(_Strict):
    """One entry of a scope's table, at its position, with its inclusion proof.

    *Opened* (the name asked about): its ``counts`` and the ``salt`` they are committed with. *Sealed* (a
    neighbour): only the ``digest`` its leaf holds, so its counts stay unknown.
    """

    position: int = Field(ge=0)
    key: str = Field(pattern=r"^[0-9a-f]{64}$")
    counts: list[Annotated[int, Field(ge=0, lt=2**64)]] | None = None
    salt: str | None = Field(None, pattern=r"^[0-9a-f]{32}$")
    digest: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    proof: list[HashB64]

    @model_validator(mode="after")
    def _opened_or_sealed(self) -> Self:
        if (self.counts is None) != (self.salt is None) or (self.counts is None) == (self.digest is None):
            raise ValueError("an entry carries either counts and salt (opened) or a digest (sealed)")
        return self

    def leaf(self) -> bytes:
        """The leaf input: the key, then the digest of salt and counts."""
        if self.counts is not None and self.salt is not None:
            return bytes.fromhex(self.key) + counts_digest(bytes.fromhex(self.salt), self.counts)
        return bytes.fromhex(self.key) + bytes.fromhex(self.digest or "")


class ScopeProof(_Strict):
    """The name's entry in one scope, or the neighbours proving it has none."""

    scope: str
    entry: Entry | None = None
    neighbours: list[Entry] = Field(default_factory=list, max_length=2)


class DomainBundle(_Strict):
    """What a rightsholder receives: the name, the index record in the log, and one proof per scope."""

    format: Literal["kiroku.domain/v1"] = DOMAIN_FORMAT
    name: str = Field(description="The normalised host or domain (lower case, punycode) the answer is about.")
    table: Table
    record: InclusionBundle
    scopes: list[ScopeProof] = Field(min_length=1)

    def to_json(self) -> str:
        """The bundle as indented JSON text."""
        return json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def _entry(index: DomainIndex, scope: str, table: Table, position: int, *, opened: bool) -> Entry:
    sorted_table = index.table(scope, table)
    if opened:
        return Entry(
            position=position,
            key=sorted_table.key(position).hex(),
            counts=sorted_table.counts(position),
            salt=sorted_table.salt(position).hex(),
            proof=sorted_table.proof(position),
        )
    return Entry(
        position=position,
        key=sorted_table.key(position).hex(),
        digest=sorted_table.digest(position).hex(),
        proof=sorted_table.proof(position),
    )


def domain_bundle(
    index: DomainIndex,
    ledger: Ledger,
    name: str,
    table: Table,
    scopes: list[str],
    verifier: Verifier,
    checkpoint: str,
) -> DomainBundle:
    """The proof of what ``scopes`` hold for ``name``, against a signed ``checkpoint`` covering the index record."""
    proofs = []
    for scope in scopes:
        hit = index.find(scope, table, name)
        size = index.table(scope, table).size
        if hit.found:
            proofs.append(
                ScopeProof(scope=scope, entry=_entry(index, scope, table, hit.position, opened=True))
            )
        else:
            around = [p for p in (hit.position - 1, hit.position) if 0 <= p < size]
            proofs.append(
                ScopeProof(
                    scope=scope, neighbours=[_entry(index, scope, table, p, opened=False) for p in around]
                )
            )
    record = ledger.prove(index.manifest.record, verifier=verifier, checkpoint=checkpoint)
    return DomainBundle(name=name, table=table, record=record, scopes=proofs)


# -- verification --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScopeClaim:
    """What one scope of a verified bundle establishes."""

    scope: str
    present: bool
    """Whether the scope holds any page of the name (fetched, kept by the stage, trained on by the run)."""
    counts: dict[str, int]
    """The entry's counts by field name (possibly all zero); empty when the name is proved absent."""
    text: str


@dataclass(frozen=True)
class VerifiedDomain:
    """A verified bundle: the name, the log and checkpoint size it was proved against, and each scope's claim."""

    name: str
    table: Table
    origin: str
    tree_size: int
    record: int
    claims: tuple[ScopeClaim, ...]


def load_domain_bundle(data: str | bytes) -> DomainBundle:
    """Parse domain bundle text; `BundleError` naming the first problem."""
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"not a JSON document (is the file truncated?): {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != DOMAIN_FORMAT:
        raise BundleError(f"not a domain bundle: its format is not {DOMAIN_FORMAT}")
    try:
        return DomainBundle.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BundleError(f"bundle field {where!r}: {first['msg']}") from exc


def _check_entry(entry: Entry, fields: list[str], size: int, root: bytes, scope: str) -> None:
    if entry.counts is not None and len(entry.counts) != len(fields):
        raise VerificationError(
            f"{scope}: an entry has {len(entry.counts)} counts, the record names {len(fields)}"
        )
    if not entry.position < size or not merkle.verify_inclusion(
        merkle.leaf_hash(entry.leaf()), entry.position, size, entry.proof, root
    ):
        raise VerificationError(
            f"{scope}: the entry at position {entry.position} does not lead to the committed root "
            "(a count, a key or a proof hash was changed)"
        )


def _check_absent(proof: ScopeProof, key: bytes, fields: list[str], size: int, root: bytes) -> None:
    scope, around = proof.scope, proof.neighbours
    if size == 0:
        if around or root != merkle.root([]):
            raise VerificationError(
                f"{scope}: the table is empty, but the bundle does not say so consistently"
            )
        return
    for entry in around:
        if entry.counts is not None:
            raise VerificationError(
                f"{scope}: a neighbour is opened; neighbours come sealed, their counts unshown"
            )
        _check_entry(entry, fields, size, root, scope)
    keys = [bytes.fromhex(e.key) for e in around]
    positions = [e.position for e in around]
    if len(around) == 2:
        ok = positions[1] == positions[0] + 1 and keys[0] < key < keys[1]
    elif len(around) == 1:
        ok = (positions[0] == 0 and key < keys[0]) or (positions[0] == size - 1 and keys[0] < key)
    else:
        ok = False
    if not ok:
        raise VerificationError(
            f"{scope}: the neighbouring entries do not prove absence (they must be adjacent and bracket the "
            "name's key, or be the first or last entry)"
        )


_PRIMARY: Final = {"catalog": "fetched", "stage": "kept", "run": "documents"}
"""The count that says whether a scope holds any page of the name."""


def _claim_text(name: str, scope: str, counts: dict[str, int]) -> str:
    kind, _, label = scope.partition(":")
    if not counts:
        return f"{scope}: no page of {name}; its absence is proved by the two neighbouring entries"
    if kind == "catalog":
        drops = ", ".join(
            f"{k.removeprefix('dropped:')} {v:,}" for k, v in counts.items() if k.startswith("dropped:") and v
        )
        dropped = f" ({drops})" if drops else ""
        return (
            f"catalog: {counts['fetched']:,} page(s) of {name} fetched, {counts['dropped']:,} dropped at ingest"
            f"{dropped}, {counts['kept']:,} kept"
        )
    if kind == "stage":
        return f"stage {label}: kept {counts['kept']:,} page(s) of {name}, dropped {counts['dropped']:,}"
    return f"run {label}: {counts['documents']:,} page(s) of {name} in its training data"


def verify_domain_bundle(data: str | bytes | DomainBundle, verifier: Verifier) -> VerifiedDomain:
    """Check a domain bundle with nothing but the log's verifier key; raise on any failure."""
    bundle = load_domain_bundle(data) if isinstance(data, str | bytes) else data
    if not _NAME.match(bundle.name):
        raise BundleError(f"bundle field 'name': {bundle.name!r} is not a normalised host or domain name")
    verify_bundle(bundle.record, verifier)
    if bundle.record.entry.kind != "domains.index" or bundle.record.body is None:
        raise VerificationError("the bundle's record is not a domains.index record with its body")
    try:
        committed = DomainIndexRecord.model_validate(bundle.record.body)
    except ValidationError as exc:
        raise VerificationError(f"the domains.index record's body is not well formed: {exc}") from exc
    key = name_key(bundle.name)
    if not any(proof.scope == CATALOG for proof in bundle.scopes):
        raise VerificationError(
            "the bundle does not cover the catalog: it cannot say whether the name appeared at all"
        )
    sizes = {scope.table(bundle.table).size for scope in committed.scopes}
    if len(sizes) != 1:
        raise VerificationError(
            "the index record's scopes do not share one list of names (their tables differ in size), so "
            "absence in one scope could hide behind other names than in another"
        )
    placements = {
        (p.entry.position,) if p.entry else tuple((e.position, e.key) for e in p.neighbours)
        for p in bundle.scopes
    }
    if len(placements) != 1:
        raise VerificationError(
            "the scopes place the name differently; every scope of one index lists the same names in the same order"
        )
    claims = []
    for proof in bundle.scopes:
        scope = committed.scope(proof.scope)
        if scope is None:
            raise VerificationError(f"the index record commits to no scope {proof.scope!r}")
        table = scope.table(bundle.table)
        root = bytes.fromhex(table.root)
        if proof.entry is not None:
            if proof.neighbours or bytes.fromhex(proof.entry.key) != key or proof.entry.counts is None:
                raise VerificationError(f"{proof.scope}: the entry is not the opened entry of {bundle.name}")
            _check_entry(proof.entry, scope.fields, table.size, root, proof.scope)
            counts = dict(zip(scope.fields, proof.entry.counts, strict=True))
        else:
            _check_absent(proof, key, scope.fields, table.size, root)
            counts = {}
        present = counts.get(_PRIMARY.get(proof.scope.partition(":")[0], ""), 0) > 0
        claims.append(ScopeClaim(proof.scope, present, counts, _claim_text(bundle.name, proof.scope, counts)))
    return VerifiedDomain(
        bundle.name,
        bundle.table,
        bundle.record.origin,
        bundle.record.tree_size,
        bundle.record.index,
        tuple(claims),
    )


def verification_view(verified: VerifiedDomain, signer: str) -> dict[str, Any]:
    """A verified bundle as the plain object the HTML rendering shows (origin, size, signer, claims)."""
    return {
        "origin": verified.origin,
        "tree_size": verified.tree_size,
        "signer": signer,
        "record": verified.record,
        "claims": [{"scope": c.scope, "present": c.present, "text": c.text} for c in verified.claims],
    }
