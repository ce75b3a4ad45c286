"""Evidence that principles 2 and 3 can be answered: the domain and trace indexes of the catalog, and what they
cover of the record.

An index covers the catalog shards it read; the share of the catalog's shards it covers is public (as a band),
the shard counts, ledger sizes and record numbers are for the regulator. An index missing or behind the ledger is
a finding: a rightsholder's question could not be answered from the whole record.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kiroku.catalog.stats import catalog_shards
from kiroku.disclose.evidence import Evidence, share_band
from kiroku.domains.build import domain_dir
from kiroku.domains.errors import IndexCorrupt as DomainIndexCorrupt
from kiroku.domains.errors import IndexMissing as DomainIndexMissing
from kiroku.domains.manifest import read_manifest as read_domain_manifest
from kiroku.ledger import Ledger
from kiroku.trace.build import trace_dir
from kiroku.trace.corpus import resolve_scope
from kiroku.trace.errors import IndexCorrupt, IndexMissing
from kiroku.trace.record import read_manifest as read_trace_manifest

__all__ = ["domain_index_evidence", "trace_index_evidence"]

_COMMAND = {"domain": "kiroku index domains", "trace": "kiroku index build"}


def _coverage(
    key: str,
    what: str,
    problem: str | None,
    indexed: set[int],
    all_shards: set[int],
    extra: Mapping[str, object],
) -> Evidence:
    built = problem is None
    covered = len(indexed & all_shards)
    findings: tuple[str, ...] = ()
    if problem is not None:
        findings = (problem,)
    elif covered < len(all_shards):
        findings = (
            f"the {what} index covers {covered} of the catalog's {len(all_shards)} shards "
            f"(bring it up to date with `{_COMMAND[what]}`)",
        )
    share = share_band(covered, len(all_shards)) if all_shards else "0%"
    return Evidence(
        key,
        {"available": built, "catalog_shards_covered": share},
        {"available": built, "catalog_shards": len(all_shards), "covered": covered, **extra},
        findings,
    )


def domain_index_evidence(ledger: Ledger, index_dir: Path) -> Evidence:
    """Whether the domain index (principle 2) is built and which of the catalog's shards it covers."""
    all_shards = {recorded.index for recorded in catalog_shards(ledger)}
    try:
        manifest = read_domain_manifest(domain_dir(index_dir))
    except (DomainIndexMissing, DomainIndexCorrupt) as exc:
        return _coverage("domain_index", "domain", str(exc), set(), all_shards, {})
    extra = {"record": manifest.record, "ledger_size": manifest.ledger_size, "documents": manifest.documents}
    return _coverage("domain_index", "domain", None, set(manifest.shards), all_shards, extra)


def trace_index_evidence(ledger: Ledger, index_dir: Path) -> Evidence:
    """Whether the trace index (principle 3) of the catalog is built and which of its shards it covers."""
    all_shards = {recorded.index for recorded in catalog_shards(ledger)}
    try:
        manifest = read_trace_manifest(trace_dir(index_dir, resolve_scope(ledger)))
    except (IndexMissing, IndexCorrupt) as exc:
        return _coverage("trace_index", "trace", str(exc), set(), all_shards, {})
    record = manifest.index
    extra = {
        "record": manifest.record,
        "ledger_size": record.ledger_size,
        "documents": record.documents,
        "tokens": record.tokens,
    }
    return _coverage("trace_index", "trace", None, set(record.catalog_shards), all_shards, extra)
