"""Many names at once: one CSV row per name, from vectorised lookups (`DomainIndex.lookup_many`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from kiroku.catalog.urls import registrable_domain
from kiroku.domains.answer import final_stage, scopes_asked
from kiroku.domains.index import DomainIndex
from kiroku.domains.names import normalise_name
from kiroku.domains.record import CATALOG, Table

__all__ = ["BULK_COLUMNS", "BulkAnswers", "answer_many"]

BULK_COLUMNS: Final = (
    "query",
    "domain",
    "kind",
    "error",
    "appeared",
    "fetched",
    "dropped_at_ingest",
    "kept_at_ingest",
    "kept",
)
"""The CSV's first columns; one column per training run follows (``run:MODEL@VERSION/RUN``)."""
_CHUNK = 10_000


@dataclass(frozen=True)
class BulkAnswers:
    """The rows (every value a string, as CSV holds them) and the names of the per-run columns."""

    rows: list[dict[str, str]]
    run_columns: list[str]


def _error(text: str) -> str:
    if "/" in text.strip().rstrip("/") and "://" not in text:
        return "a path prefix: ask for it with 'kiroku query domain'"
    if "://" in text:
        return "a URL: give its domain, or ask for the page with 'kiroku query url'"
    return "not a valid domain or host name"


def answer_many(
    index: DomainIndex,
    names: Sequence[str],
    *,
    model: str | None = None,
    stage: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> BulkAnswers:
    """Answer for every name, in chunks of ten thousand; invalid names get a row with ``error`` set."""
    scopes = scopes_asked(index, model=model, stage=stage)
    final = final_stage(index)
    kept_scope = f"stage:{stage}" if stage else (final.scope if final else CATALOG)
    runs = [s for s in scopes if s.kind == "run"]
    rows: list[dict[str, str]] = []
    for start in range(0, len(names), _CHUNK):
        chunk = names[start : start + _CHUNK]
        normal = [normalise_name(n) for n in chunk]
        tables: dict[Table, list[int]] = {"domain": [], "host": []}
        for i, name in enumerate(normal):
            if name is not None:
                tables["domain" if registrable_domain(name) == name else "host"].append(i)
        found: dict[int, dict[str, dict[str, int] | None]] = {i: {} for i in range(len(chunk))}
        for table, positions in tables.items():
            if not positions:
                continue
            asked = [normal[i] or "" for i in positions]
            for scope in {CATALOG, kept_scope, *(s.scope for s in runs)}:
                for i, counts in zip(positions, index.lookup_many(scope, table, asked), strict=True):
                    found[i][scope] = counts
        for i, text in enumerate(chunk):
            name = normal[i]
            if name is None:
                rows.append({"query": text, "domain": "", "kind": "", "error": _error(text)})
                continue
            catalog = found[i].get(CATALOG) or {}
            kept = (found[i].get(kept_scope) or {}).get("kept", 0)
            row = {
                "query": text,
                "domain": name,
                "kind": "domain" if registrable_domain(name) == name else "host",
                "error": "",
                "appeared": "true" if catalog.get("fetched", 0) > 0 else "false",
                "fetched": str(catalog.get("fetched", 0)),
                "dropped_at_ingest": str(catalog.get("dropped", 0)),
                "kept_at_ingest": str(catalog.get("kept", 0)),
                "kept": str(kept),
            }
            for run in runs:
                row[run.scope] = str((found[i].get(run.scope) or {}).get("documents", 0))
            rows.append(row)
        if progress is not None:
            progress(len(chunk))
    return BulkAnswers(rows, [run.scope for run in runs])
