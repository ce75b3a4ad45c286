"""Catalog statistics: documents, bytes and tokens by source, data type and cleaning stage; opt-out drops by reason.

The shards are those the ledger records; DuckDB reads their Parquet files in one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from kiroku.catalog import _duck as duck
from kiroku.catalog.errors import CatalogError
from kiroku.catalog.shards import ShardRecord
from kiroku.catalog.sources import list_sources
from kiroku.ledger import Ledger

__all__ = ["CatalogError", "RecordedShard", "catalog_shards", "catalog_stats", "docs_files"]


@dataclass(frozen=True)
class RecordedShard:
    """A shard as the ledger recorded it, with its record index."""

    index: int
    shard: ShardRecord
    time: str = ""
    """When the record was appended (RFC 3339, UTC)."""


def catalog_shards(ledger: Ledger) -> list[RecordedShard]:
    """Every shard recorded in the ledger (expired records excluded)."""
    shards = []
    for record in ledger.records_of_kind("catalog.shard"):
        body = record.body_json()
        if body is not None:
            shards.append(RecordedShard(record.index, ShardRecord.model_validate(body), record.entry.time))
    return shards


def _totals(row: tuple[Any, ...]) -> dict[str, int]:
    documents, kept, size, tokens = row
    return {
        "documents": int(documents or 0),
        "kept": int(kept or 0),
        "bytes": int(size or 0),
        "tokens": int(tokens or 0),
    }


def docs_files(shards: Sequence[RecordedShard], catalog_dir: Path) -> dict[str, RecordedShard]:
    """The docs Parquet file of each shard that holds documents (path -> shard); `CatalogError` if one is missing."""
    files = {}
    for recorded in shards:
        if recorded.shard.documents == 0:
            continue
        path = catalog_dir / recorded.shard.docs_file
        if not path.is_file():
            raise CatalogError(
                f"shard {recorded.shard.shard} (record {recorded.index}) is missing its file {path}"
            )
        files[str(path)] = recorded
    return files


def catalog_stats(ledger: Ledger, catalog_dir: Path) -> dict[str, Any]:
    """Totals, by source, by data type and opt-out reasons, as one JSON-ready object."""
    types = {source.name: source.type.value for _, source in list_sources(ledger)}
    files = list(docs_files(catalog_shards(ledger), catalog_dir))
    stats: dict[str, Any] = {
        "documents": 0, "kept": 0, "bytes": 0, "tokens": 0, "shards": len(files),
        "by_source": {}, "by_type": {}, "by_stage": {}, "optout": {},
    }  # fmt: skip
    if not files:
        return stats
    try:
        _query(stats, files, types)
        stats["by_stage"] = _by_stage(ledger, catalog_dir, files)
    except duckdb.Error as exc:
        raise CatalogError(f"cannot read the catalog's shard files: {exc}") from exc
    return stats


def _by_stage(ledger: Ledger, catalog_dir: Path, files: list[str]) -> dict[str, Any]:
    """Each stage's counts as recorded, with the bytes and tokens of what it kept (distinct documents)."""
    from kiroku.catalog.stages import list_stages  # stages reads shards through this module: import late

    stages: dict[str, Any] = {}
    con = duck.connect()
    try:
        con.execute(
            "CREATE TEMP TABLE docs AS SELECT DISTINCT doc_id, bytes, tokens FROM read_parquet(?)", [files]
        )
        for _, stage in list_stages(ledger):
            size = tokens = 0
            lineage = catalog_dir / stage.lineage_file
            if lineage.is_file():
                row = con.execute(
                    "SELECT sum(d.bytes), sum(d.tokens) FROM read_parquet(?) l JOIN docs d USING (doc_id) "
                    "WHERE l.kept",
                    [str(lineage)],
                ).fetchone()
                size, tokens = (int(v or 0) for v in row) if row else (0, 0)
            stages[stage.name] = {
                "input": stage.input,
                "input_documents": stage.input_documents,
                "kept": stage.kept,
                "dropped": stage.dropped,
                "dropped_by_reason": dict(stage.dropped_by_reason),
                "kept_bytes": size,
                "kept_tokens": tokens,
            }
    finally:
        con.close()
    return stages


def _query(stats: dict[str, Any], files: list[str], types: dict[str, str]) -> None:
    con = duck.connect()
    con.read_parquet(files).create_view("docs")
    measures = "count(*), sum(CASE WHEN kept THEN 1 ELSE 0 END), sum(bytes), sum(tokens)"
    row = con.execute(f"SELECT {measures} FROM docs").fetchone()
    assert row is not None
    stats.update(_totals(row))
    for source, *rest in con.execute(
        f"SELECT source, {measures} FROM docs GROUP BY source ORDER BY source"
    ).fetchall():
        stats["by_source"][source] = {"type": types.get(source), **_totals(tuple(rest))}
    for source, entry in stats["by_source"].items():
        bucket = stats["by_type"].setdefault(
            entry["type"] or "unknown", {"documents": 0, "kept": 0, "bytes": 0, "tokens": 0}
        )
        for key in ("documents", "kept", "bytes", "tokens"):
            bucket[key] += entry[key]
        del source
    for reason, count in con.execute(
        "SELECT reason, count(*) FROM (SELECT unnest(optout) AS reason FROM docs) GROUP BY reason ORDER BY 2 DESC"
    ).fetchall():
        stats["optout"][reason] = int(count)
    con.close()
