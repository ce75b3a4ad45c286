"""Answers for a URL-path prefix (``example.com/news/``), counted from the catalog's rows of that host.

The index holds hosts and domains, not paths, so a prefix is answered by DuckDB over the shards the index covers,
with the same counts per scope as the index (`kiroku.domains.build`'s queries, filtered by host and path). It
costs a scan of the shards' ``host`` and ``url`` columns, not a lookup, and comes without a bundle: the proof
for a prefix is the proof for its host.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import duckdb

from kiroku.catalog import _duck as duck
from kiroku.catalog.runs import list_runs
from kiroku.catalog.stages import checked_lineage, list_stages
from kiroku.catalog.stats import catalog_shards, docs_files
from kiroku.domains.answer import DomainAnswer, compose, scopes_asked
from kiroku.domains.build import (
    catalog_query,
    run_conditions,
    run_query,
    signal_fields,
    stage_paths,
    stage_query,
)
from kiroku.domains.errors import DomainError
from kiroku.domains.index import DomainIndex
from kiroku.domains.names import Target
from kiroku.ledger import Ledger

__all__ = ["answer_prefix"]

# The path of an absolute URL: after scheme://authority, up to a query or fragment.
_PATH = r"regexp_extract(d.url, '^[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]*([^?#]*)', 1)"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _where(target: Target) -> str:
    # Paths compare decoded, so that %E3%83, %e3%83 and the raw characters all match (RFC 3986 6.2.2).
    prefix = unquote(target.path_prefix or "/")
    path = f"(CASE WHEN {_PATH} = '' THEN '/' ELSE url_decode({_PATH}) END)"
    # a prefix on a registrable domain covers every host under it (www. and the rest), as the domain answer does
    where = "d.domain" if target.name == target.registrable_domain else "d.host"
    return f"{where} = {_literal(target.name)} AND starts_with({path}, {_literal(prefix)})"


def answer_prefix(
    index: DomainIndex,
    ledger: Ledger,
    catalog_dir: Path,
    target: Target,
    *,
    model: str | None = None,
    stage: str | None = None,
) -> DomainAnswer:
    """The answer for every page of ``target``'s host whose path starts with its prefix."""
    covered = set(index.manifest.shards)
    shards = [s for s in catalog_shards(ledger) if s.index in covered]
    files = {recorded.index: path for path, recorded in docs_files(shards, catalog_dir).items()}
    stages = {s.name: s for _, s in list_stages(ledger)}
    runs = {r.ident: r for _, r in list_runs(ledger)}
    where = _where(target)
    column = "domain" if target.name == target.registrable_domain else "host"
    counts: dict[str, dict[str, int] | None] = {}
    con = duck.connect()
    try:
        for scope in scopes_asked(index, model=model, stage=stage):
            if scope.kind == "catalog":
                query = catalog_query(sorted(set(files.values())), column, where, signal_fields(scope.fields))
            elif scope.kind == "stage":
                stage_record = stages[scope.name]
                paths = stage_paths(stage_record, stages, files)
                query = stage_query(paths, checked_lineage(catalog_dir, stage_record), column, where)
            else:
                conditions = run_conditions(catalog_dir, runs[scope.name], stages, files)
                query = run_query(conditions, files, column, where)
            row = con.execute(query).fetchone()
            counts[scope.scope] = (
                None if row is None else dict(zip(scope.fields, (int(v or 0) for v in row[1:]), strict=True))
            )
    except duckdb.Error as exc:
        raise DomainError(f"cannot read the catalog's files to answer for {target.query}: {exc}") from exc
    finally:
        con.close()
    return compose(target, index, counts, model=model, stage=stage)
