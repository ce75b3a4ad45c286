"""One answer to "did this domain appear in the training data?": figures from every scope, and plain words.

Without ``stage``, ``kept`` is the final kept set: that of the latest-recorded stage that no later stage takes
as its input (what cleaning left in the end), or, with no stages, what the opt-out checks kept at ingest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kiroku.domains.errors import DomainError
from kiroku.domains.index import DomainIndex
from kiroku.domains.manifest import ScopeFiles
from kiroku.domains.names import Target
from kiroku.domains.phrases import summary
from kiroku.domains.record import CATALOG, Table

__all__ = ["DomainAnswer", "answer_domain", "final_stage", "scopes_asked", "table_of"]


@dataclass(frozen=True)
class DomainAnswer:
    """The answer about one name, as the JSON object `to_json` returns."""

    target: Target
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The answer as a JSON-ready object (see docs/domains.md for every field)."""
        return self.data


def table_of(target: Target) -> Table:
    """Which table answers for ``target``: ``domain`` for a registrable domain, else ``host``."""
    return "domain" if target.kind == "domain" else "host"


def final_stage(index: DomainIndex) -> ScopeFiles | None:
    """The latest-recorded stage whose kept set no later stage took as input, or None without stages."""
    stages = [s for s in index.scopes if s.kind == "stage"]
    inputs = {s.input for s in stages}
    leaves = [s for s in stages if s.name not in inputs]
    return max(leaves, key=lambda s: s.record or 0) if leaves else None


def _run_matches(scope: ScopeFiles, model: str) -> bool:
    return model in (scope.model, f"{scope.model}@{scope.version}", scope.name)


def scopes_asked(
    index: DomainIndex, *, model: str | None = None, stage: str | None = None
) -> list[ScopeFiles]:
    """The scopes an answer reads: the catalog, every stage, and the runs (of ``model`` only, if given).

    `DomainError` names what is recorded when ``model`` or ``stage`` matches nothing.
    """
    stages = [s for s in index.scopes if s.kind == "stage"]
    runs = [s for s in index.scopes if s.kind == "run"]
    if stage is not None and not any(s.name == stage for s in stages):
        known = ", ".join(s.name for s in stages) or "none yet"
        raise DomainError(f"no cleaning stage {stage!r} in the domain index (stages: {known})")
    if model is not None:
        runs = [s for s in runs if _run_matches(s, model)]
        if not runs:
            known = ", ".join(s.name for s in index.scopes if s.kind == "run") or "none yet"
            raise DomainError(f"no training run of model {model!r} in the domain index (runs: {known})")
    return [index.scope(CATALOG), *stages, *runs]


def _first_of_chain(index: DomainIndex, name: str) -> str:
    """The stage at the start of ``name``'s chain: the one whose input is the catalog."""
    by_name = {s.name: s for s in index.scopes if s.kind == "stage"}
    seen = {name}
    while (scope := by_name[name]).input not in (None, CATALOG) and scope.input in by_name:
        name = scope.input
        if name in seen:
            break
        seen.add(name)
    return name


def _iso(microseconds: int) -> str | None:
    if microseconds <= 0:
        return None
    return datetime.fromtimestamp(microseconds / 1_000_000, UTC).isoformat().replace("+00:00", "Z")


def compose(
    target: Target,
    index: DomainIndex,
    counts: dict[str, dict[str, int] | None],
    *,
    model: str | None = None,
    stage: str | None = None,
) -> DomainAnswer:
    """Assemble the answer from each scope's counts (None where the name has no entry)."""
    catalog = counts[CATALOG] or {}
    fetched = catalog.get("fetched", 0)
    stages: dict[str, Any] = {}
    runs: dict[str, int] = {}
    models: dict[str, int] = {}
    for scope in scopes_asked(index, model=model, stage=stage):
        found = counts.get(scope.scope) or {}
        if scope.kind == "stage":
            stages[scope.name] = {
                "input": scope.input,
                "kept": found.get("kept", 0),
                "dropped": found.get("dropped", 0),
                "kept_bytes": found.get("kept_bytes", 0),
                "kept_tokens": found.get("kept_tokens", 0),
            }
        elif scope.kind == "run" and found.get("documents", 0) > 0:
            runs[scope.name] = found["documents"]
            version = f"{scope.model}@{scope.version}"
            models[version] = max(models.get(version, 0), found["documents"])
    final = final_stage(index)
    kept_by = stage or (final.name if final else None)
    kept = stages[kept_by]["kept"] if kept_by else catalog.get("kept", 0)
    waiting = 0
    if kept_by:
        first = _first_of_chain(index, kept_by)
        seen = stages[first]["kept"] + stages[first]["dropped"]
        waiting = max(0, catalog.get("kept", 0) - seen)
    data: dict[str, Any] = {
        "query": target.query,
        "domain": target.name,
        "display": target.display,
        "kind": target.kind,
        "registrable_domain": target.registrable_domain,
        "path_prefix": target.path_prefix,
        "appeared": fetched > 0,
        "fetched": fetched,
        "fetched_bytes": catalog.get("fetched_bytes", 0),
        "fetched_tokens": catalog.get("fetched_tokens", 0),
        "first_fetch": _iso(catalog.get("first_fetch_us", 0)),
        "last_fetch": _iso(catalog.get("last_fetch_us", 0)),
        "dropped_at_ingest": catalog.get("dropped", 0),
        "dropped_by_signal": {
            field.removeprefix("dropped:"): value
            for field, value in catalog.items()
            if field.startswith("dropped:") and value > 0
        },
        "flagged_by_signal": {
            field.removeprefix("flagged:"): value
            for field, value in catalog.items()
            if field.startswith("flagged:") and value > 0
        },
        "kept_at_ingest": catalog.get("kept", 0),
        "stages": stages,
        "final_stage": final.name if final else None,
        "kept": kept,
        "kept_scope": f"stage:{kept_by}" if kept_by else CATALOG,
        "not_yet_cleaned": waiting,
        "runs": runs,
        "models": models,
        "index": {
            "record": index.manifest.record,
            "ledger_size": index.manifest.ledger_size,
            "built": index.manifest.built,
        },
    }
    data["summary"] = {"en": summary(data, "en"), "ja": summary(data, "ja")}
    return DomainAnswer(target, data)


def answer_domain(
    index: DomainIndex, target: Target, *, model: str | None = None, stage: str | None = None
) -> DomainAnswer:
    """Answer for a registrable domain or a host from the index: one O(log n) lookup per scope."""
    if target.kind == "prefix":
        raise DomainError("a path prefix is answered from the catalog (kiroku.domains.prefix), not the index")
    table = table_of(target)
    counts = {
        s.scope: index.lookup_checked(s.scope, table, target.name)
        for s in scopes_asked(index, model=model, stage=stage)
    }
    return compose(target, index, counts, model=model, stage=stage)
