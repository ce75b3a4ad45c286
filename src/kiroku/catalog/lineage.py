"""One document's lineage: where it was fetched, what opt-out signals it carried, what each cleaning stage did
with it, and which training runs used it; and the chained proof of all that (`kiroku.catalog.proofs`).

A document is found by its id (64 hex digits, the SHA-256 of its text) or by its URL. The same text can sit in
more than one shard (fetched twice, or in two sources): every occurrence is shown, and proved.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from kiroku.catalog import _duck as duck
from kiroku.catalog.proofs import DocumentBundle, Membership
from kiroku.catalog.runs import list_runs
from kiroku.catalog.shards import ShardRecord, sha256_file
from kiroku.catalog.stages import StageProof, StageRecord, list_stages, prove_in_stage
from kiroku.catalog.stats import CatalogError, RecordedShard, catalog_shards, docs_files
from kiroku.ledger import Ledger, Verifier, merkle

__all__ = [
    "DocumentLineage",
    "Occurrence",
    "RunUse",
    "StageOutcome",
    "document_bundle",
    "document_lineage",
    "find_documents",
]

_HEX_ID = re.compile(r"^[0-9a-fA-F]{64}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Occurrence:
    """The document as one shard holds it."""

    record: int
    shard: ShardRecord
    url: str | None
    host: str | None
    domain: str | None
    external_id: str | None
    fetch_time: datetime | None
    optout: tuple[str, ...]
    kept: bool
    bytes: int
    tokens: int


@dataclass(frozen=True)
class StageOutcome:
    """What one cleaning stage did with the document: ``kept``, ``dropped`` (with reason) or ``not in input``."""

    record: int
    stage: StageRecord
    outcome: str
    reason: str | None = None
    proof: StageProof | None = None


@dataclass(frozen=True)
class RunUse:
    """A training run whose data mix held the document, and through which entries."""

    record: int
    model: str
    version: str
    via: tuple[str, ...]


@dataclass(frozen=True)
class DocumentLineage:
    """Everything the record says about one document."""

    doc_id: bytes
    occurrences: tuple[Occurrence, ...]
    stages: tuple[StageOutcome, ...] = ()
    runs: tuple[RunUse, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready view, for ``kiroku doc show --json``."""
        return {
            "doc_id": self.doc_id.hex(),
            "occurrences": [
                {
                    "record": o.record,
                    "shard": o.shard.shard,
                    "source": o.shard.source,
                    "url": o.url,
                    "host": o.host,
                    "domain": o.domain,
                    "external_id": o.external_id,
                    "fetch_time": o.fetch_time.isoformat() if o.fetch_time else None,
                    "optout": list(o.optout),
                    "kept": o.kept,
                    "bytes": o.bytes,
                    "tokens": o.tokens,
                }
                for o in self.occurrences
            ],
            "stages": [
                {
                    "record": s.record,
                    "stage": s.stage.name,
                    "input": s.stage.input,
                    "outcome": s.outcome,
                    "reason": s.reason,
                }
                for s in self.stages
            ],
            "runs": [
                {"record": r.record, "model": r.model, "version": r.version, "via": list(r.via)}
                for r in self.runs
            ],
            "notes": list(self.notes),
        }


def find_documents(ledger: Ledger, catalog_dir: Path, key: str) -> list[bytes]:
    """Ids of the documents a key names: a 64-hex document id, or every document fetched from a URL."""
    if _HEX_ID.match(key):
        return [bytes.fromhex(key)]
    files = docs_files(catalog_shards(ledger), catalog_dir)
    if not files:
        return []
    con = duck.connect()
    try:
        rows = con.execute(
            "SELECT DISTINCT doc_id FROM read_parquet(?) WHERE url = ? ORDER BY doc_id", [list(files), key]
        ).fetchall()
    except duckdb.Error as exc:
        raise CatalogError(f"cannot read the catalog's shard files: {exc}") from exc
    finally:
        con.close()
    return [bytes(row[0]) for row in rows]


def _occurrences(files: dict[str, RecordedShard], doc_id: bytes) -> list[Occurrence]:
    if not files:
        return []
    con = duck.connect()
    try:
        rows = con.execute(
            "SELECT filename, url, host, domain, external_id, epoch_us(fetch_time), optout, kept, bytes, tokens "
            "FROM read_parquet(?, filename = true) WHERE doc_id = ? ORDER BY filename, input_line",
            [list(files), doc_id],
        ).fetchall()
    except duckdb.Error as exc:
        raise CatalogError(f"cannot read the catalog's shard files: {exc}") from exc
    finally:
        con.close()
    found = []
    for filename, url, host, domain, external_id, fetch_us, optout, kept, size, tokens in rows:
        recorded = files[filename]
        # DuckDB hands timestamps with a time zone to Python through pytz; microseconds need no extra package
        fetch_time = None if fetch_us is None else _EPOCH + timedelta(microseconds=fetch_us)
        found.append(
            Occurrence(
                recorded.index,
                recorded.shard,
                url,
                host,
                domain,
                external_id,
                fetch_time,
                tuple(optout or ()),
                bool(kept),
                int(size),
                int(tokens),
            )
        )
    return found


def _stage_outcomes(ledger: Ledger, catalog_dir: Path, doc_id: bytes) -> list[StageOutcome]:
    outcomes = []
    for index, stage in list_stages(ledger):
        proved = prove_in_stage(catalog_dir, stage, doc_id)
        if proved is None:
            outcomes.append(StageOutcome(index, stage, "not in input"))
        else:
            outcomes.append(
                StageOutcome(index, stage, "kept" if proved.kept else "dropped", proved.reason, proved)
            )
    return outcomes


def _run_uses(ledger: Ledger, occurrences: list[Occurrence], stages: list[StageOutcome]) -> list[RunUse]:
    kept_by = {s.stage.name for s in stages if s.outcome == "kept"}
    kept_sources = {o.shard.source for o in occurrences if o.kept}
    kept_shards = {o.record for o in occurrences if o.kept}
    uses = []
    for index, run in list_runs(ledger):
        via = []
        for entry in run.data_mix:
            if entry.stage is not None and entry.stage in kept_by:
                via.append(f"stage {entry.stage}")
            elif (
                entry.source is not None and entry.source in kept_sources and kept_shards & set(entry.shards)
            ):
                via.append(f"source {entry.source}")
            elif entry.catalog and kept_shards & set(entry.shards):
                via.append("catalog")
        if via:
            uses.append(RunUse(index, run.model, run.version, tuple(via)))
    return uses


def document_lineage(ledger: Ledger, catalog_dir: Path, doc_id: bytes) -> DocumentLineage:
    """The lineage of the document with this id; no occurrences when the catalog does not hold it."""
    files = docs_files(catalog_shards(ledger), catalog_dir)
    occurrences = _occurrences(files, doc_id)
    if not occurrences:
        return DocumentLineage(doc_id, ())
    stages = _stage_outcomes(ledger, catalog_dir, doc_id)
    runs = _run_uses(ledger, occurrences, stages)
    notes = []
    if any(use.via and not any(v.startswith("stage ") for v in use.via) for use in runs):
        notes.append(
            "a run that trained on a whole source or the whole catalog is shown from the catalog; the proof "
            "covers runs through the stages they name"
        )
    return DocumentLineage(doc_id, tuple(occurrences), tuple(stages), tuple(runs), tuple(notes))


def _shard_membership(catalog_dir: Path, occurrence: Occurrence, doc_id: bytes) -> Membership:
    shard = occurrence.shard
    path = catalog_dir / shard.docs_file
    if sha256_file(path) != shard.docs_sha256:
        raise CatalogError(f"{path} is not the file shard {shard.shard} recorded (its SHA-256 differs)")
    ids = sorted(set(pq.read_table(path, columns=["doc_id"])["doc_id"].to_pylist()))
    if merkle.root(ids).hex() != shard.doc_root:
        raise CatalogError(f"{path}: its document ids do not give the root shard {shard.shard} recorded")
    position = bisect.bisect_left(ids, doc_id)
    return Membership(
        record=occurrence.record,
        set="shard",
        position=position,
        size=len(ids),
        proof=merkle.inclusion_proof(ids, position, len(ids)),
    )


def _stage_membership(outcome: StageOutcome) -> Membership:
    proved = outcome.proof
    assert proved is not None
    return Membership(
        record=outcome.record,
        set="stage.kept" if proved.kept else "stage.dropped",
        position=proved.index,
        size=proved.size,
        proof=proved.proof,
    )


def document_bundle(
    ledger: Ledger, catalog_dir: Path, lineage: DocumentLineage, verifier: Verifier, checkpoint: str
) -> DocumentBundle:
    """The chained proof of ``lineage`` against the signed ``checkpoint`` (which must cover every record)."""
    if not lineage.occurrences:
        raise CatalogError(
            f"document {lineage.doc_id.hex()} is not in the catalog; there is nothing to prove"
        )
    memberships = [_shard_membership(catalog_dir, o, lineage.doc_id) for o in lineage.occurrences]
    memberships += [_stage_membership(s) for s in lineage.stages if s.proof is not None]
    runs = [use.record for use in lineage.runs if any(v.startswith("stage ") for v in use.via)]
    indexes = sorted({m.record for m in memberships} | set(runs))
    records = [ledger.prove(i, verifier=verifier, checkpoint=checkpoint) for i in indexes]
    return DocumentBundle(doc_id=lineage.doc_id.hex(), records=records, memberships=memberships, runs=runs)
