"""Building the domain index from the catalog, incrementally, and committing to it in the ledger.

What is immutable is counted once. A shard's documents never change, so each build reads only the shards
recorded since the last one and writes their per (domain, host) counts as a new *segment*; the catalog's counts
are then re-summed from the segments (a pass over distinct domains and hosts, not over documents). A stage or a
run is recorded once and never changes either: its per-name counts are computed the first time the index sees
it and kept as Parquet. Each build then lays every scope's counts over the catalog's names in key order and
hashes the tables (all cores for large ones), appends a ``domains.index`` record (`kiroku.domains.record`) with
every scope's roots, and replaces the manifest; a crash before that leaves the previous index in force.

DuckDB does the grouping straight from the shards' Parquet files; numpy lays out the sorted leaves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from kiroku.catalog import _duck as duck
from kiroku.catalog.runs import RunRecord, list_runs
from kiroku.catalog.stages import StageRecord, checked_lineage, list_stages
from kiroku.catalog.stats import RecordedShard, catalog_shards, docs_files
from kiroku.domains.errors import DomainError, IndexCorrupt, IndexMissing
from kiroku.domains.keys import KEY_SIZE
from kiroku.domains.manifest import IndexManifest, ScopeFiles, Segment, read_manifest, write_manifest
from kiroku.domains.record import CATALOG, TABLES, DomainIndexRecord, ScopeCommitment, Table, TableCommitment
from kiroku.domains.tables import table_files, write_table
from kiroku.ledger import Ledger

__all__ = [
    "CATALOG_FIELDS",
    "RUN_FIELDS",
    "STAGE_FIELDS",
    "BuildReport",
    "build_domain_index",
    "catalog_query",
    "domain_dir",
    "run_conditions",
    "run_query",
    "signal_fields",
    "stage_paths",
    "stage_query",
]

CATALOG_FIELDS: Final = (
    "fetched",
    "fetched_bytes",
    "fetched_tokens",
    "kept",
    "kept_bytes",
    "kept_tokens",
    "dropped",
    "first_fetch_us",
    "last_fetch_us",
)
"""Counts of the catalog scope, followed by ``dropped:<reason>`` (pages dropped at ingest that carried the
signal) and ``flagged:<reason>`` (pages kept although they carried it, under the ``flag`` policy) for every
opt-out reason seen in the catalog."""
STAGE_FIELDS: Final = ("kept", "kept_bytes", "kept_tokens", "dropped")
RUN_FIELDS: Final = ("documents", "bytes", "tokens")

_EXTREMES = {"first_fetch_us": "min", "last_fetch_us": "max"}
_NOTHING = "SELECT NULL::VARCHAR AS name, {columns} WHERE false"
_HAS_URL = "d.domain IS NOT NULL AND d.host IS NOT NULL"
_EMPTY = TableCommitment(size=0, root="0" * 64)  # replaced as soon as the scope's tables are written

Progress = Callable[[str, int, int], None]
"""Called as ``progress(what, done, total)`` while the index is built."""


@dataclass(frozen=True)
class BuildReport:
    """What one build did."""

    record: int
    documents: int
    new_shards: int
    scopes_built: list[str]
    scopes_reused: list[str]
    domains: int
    hosts: int
    rebuilt: bool
    seconds: float


def domain_dir(index_dir: Path) -> Path:
    """The domain index's folder inside the workspace's index folder."""
    return index_dir / "domains"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _files_sql(paths: Sequence[str | Path]) -> str:
    return "read_parquet([" + ", ".join(_literal(str(p)) for p in paths) + "])"


def _columns(expressions: Sequence[str]) -> str:
    return ", ".join(f"{expr} AS f{i}" for i, expr in enumerate(expressions))


# -- reading grouped counts into sorted arrays ------------------------------------------------------------------


def counts_file(directory: Path, stem: str, table: Table) -> Path:
    """Where a scope's per-name counts by ``table`` are kept: ``<stem>.<table>.counts.parquet``."""
    return directory / f"{stem}.{table}.counts.parquet"


def _write_counts(directory: Path, stem: str, by_table: Callable[[str], str], width: int) -> None:
    """Write a scope's counts (``name, f0 .. f{width-1}``) for both tables, each file replaced atomically."""
    columns = ", ".join(f"coalesce(f{i}, 0)::UBIGINT AS f{i}" for i in range(width))
    with duck.connect() as con:
        for table in TABLES:
            path = counts_file(directory, stem, table)
            tmp = path.with_name(path.name + ".tmp")
            query = f"SELECT name, {columns} FROM ({by_table(table)})"
            con.execute(
                f"COPY ({query}) TO {_literal(str(tmp))} (FORMAT parquet, COMPRESSION zstd)"
            ).fetchall()
            tmp.replace(path)


def _aligned(
    directory: Path, scopes: Sequence[ScopeFiles], table: Table
) -> tuple[npt.NDArray[np.uint8], list[npt.NDArray[np.uint64]]]:
    """Every scope's counts over the catalog's names, sorted by SHA-256(name): one key list for all scopes.

    A name a scope does not hold gets zero counts there, so that in every scope an absent name has the same two
    neighbours: a bundle reveals at most two other names' hashes however many scopes it covers.
    """
    catalog = _files_sql([counts_file(directory, scopes[0].counts, table)])
    # A host that is itself a registrable domain is answered from the domain table: the host table holds the
    # hosts under a domain only (www.example.com, news.example.com), not example.com a second time.
    own = f"WHERE name NOT IN (SELECT name FROM {_files_sql([counts_file(directory, scopes[0].counts, 'domain')])})"
    out = []
    with duck.connect() as con:
        con.execute(
            "CREATE TEMP TABLE names AS SELECT name, unhex(sha256(name)) AS key "
            f"FROM {catalog} {own if table == 'host' else ''} ORDER BY key"
        ).fetchall()
        keys_table = con.sql("SELECT key FROM names ORDER BY key").to_arrow_table()
        for scope in scopes:
            source = _files_sql([counts_file(directory, scope.counts, table)])
            (strays,) = con.execute(
                f"SELECT count(*) FROM {source} s ANTI JOIN {catalog} c USING (name)"
            ).fetchall()[0]
            if strays:
                raise DomainError(
                    f"{scope.scope} counts {strays} {table}(s) that are not in the catalog; "
                    "rebuild with 'kiroku index domains --rebuild'"
                )
            width = len(scope.fields)
            columns = ", ".join(f"coalesce(s.f{i}, 0)::UBIGINT AS f{i}" for i in range(width))
            counts = con.sql(
                f"SELECT {columns} FROM names n LEFT JOIN {source} s USING (name) ORDER BY n.key"
            ).to_arrow_table()
            if counts.num_rows == 0:
                out.append(np.zeros((0, width), np.uint64))
            else:
                out.append(
                    np.column_stack([counts.column(i).to_numpy().astype(np.uint64) for i in range(width)])
                )
    n = keys_table.num_rows
    if n == 0:
        return np.zeros((0, KEY_SIZE), np.uint8), out
    key_column = keys_table.column("key").combine_chunks().cast(pa.binary(KEY_SIZE))
    keys = np.frombuffer(key_column.buffers()[1], dtype=np.uint8)[: n * KEY_SIZE].reshape(n, KEY_SIZE)
    return keys, out


def _write_tables(directory: Path, scopes: list[ScopeFiles]) -> list[ScopeFiles]:
    """Align every scope on the catalog's names, then write and hash each scope's two tables."""
    commitments: list[dict[str, TableCommitment]] = [{} for _ in scopes]
    for table in TABLES:
        keys, counts = _aligned(directory, scopes, table)
        for i, scope in enumerate(scopes):
            commitments[i][table] = write_table(directory, scope.stem, table, keys, counts[i])
    return [scope.model_copy(update=c) for scope, c in zip(scopes, commitments, strict=True)]


# -- the catalog scope, from segments ---------------------------------------------------------------------------


def _write_segment(directory: Path, files: dict[str, RecordedShard], number: int) -> Segment:
    """Per (domain, host) counts and opt-out drops of the given shards, as one segment's two Parquet files.

    ``number`` is the ledger size of the build, so that no build overwrites a segment an earlier manifest names.
    """
    source = _files_sql(list(files))
    name = f"segment-{number:09d}"
    counts = f"""
        SELECT domain, host, count(*) AS fetched, sum(bytes) AS fetched_bytes, sum(tokens) AS fetched_tokens,
               count(*) FILTER (WHERE kept) AS kept,
               coalesce(sum(bytes) FILTER (WHERE kept), 0) AS kept_bytes,
               coalesce(sum(tokens) FILTER (WHERE kept), 0) AS kept_tokens,
               count(*) FILTER (WHERE NOT kept) AS dropped,
               min(epoch_us(fetch_time)) AS first_fetch_us, max(epoch_us(fetch_time)) AS last_fetch_us
        FROM {source} d WHERE {_HAS_URL} GROUP BY domain, host"""
    reasons = f"""
        SELECT domain, host, reason, kept, count(*) AS pages
        FROM (SELECT domain, host, kept, unnest(optout) AS reason FROM {source} d WHERE {_HAS_URL})
        GROUP BY ALL"""
    with duck.connect() as con:
        for suffix, query in ((".parquet", counts), (".reasons.parquet", reasons)):
            tmp = directory / f"{name}{suffix}.tmp"
            con.execute(f"COPY ({query}) TO {_literal(str(tmp))} (FORMAT parquet, COMPRESSION zstd)")
            tmp.replace(directory / f"{name}{suffix}")
        row = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE NOT ({_HAS_URL})) FROM {source} d"
        ).fetchone()
    assert row is not None
    return Segment(
        file=f"{name}.parquet",
        reasons_file=f"{name}.reasons.parquet",
        shards=sorted(recorded.index for recorded in files.values()),
        documents=int(row[0]) - int(row[1]),
        without_url=int(row[1]),
    )


def signal_fields(fields: Sequence[str]) -> list[tuple[bool, str]]:
    """``(kept, reason)`` of each ``dropped:<reason>`` / ``flagged:<reason>`` field, in order."""
    return [
        (f.startswith("flagged:"), f.partition(":")[2])
        for f in fields
        if f.startswith(("dropped:", "flagged:"))
    ]


def _signal_field(kept: bool, reason: str) -> str:
    return f"{'flagged' if kept else 'dropped'}:{reason}"


def catalog_query(paths: Sequence[str], column: str, where: str, signals: Sequence[tuple[bool, str]]) -> str:
    """SQL of the catalog's counts (`CATALOG_FIELDS`, then pages per ``(kept, reason)`` signal) from docs rows."""
    base = [
        "count(*)", "sum(d.bytes)", "sum(d.tokens)", "count(*) FILTER (WHERE d.kept)",
        "sum(d.bytes) FILTER (WHERE d.kept)", "sum(d.tokens) FILTER (WHERE d.kept)",
        "count(*) FILTER (WHERE NOT d.kept)", "min(epoch_us(d.fetch_time))", "max(epoch_us(d.fetch_time))",
    ]  # fmt: skip
    drops = [
        f"count(*) FILTER (WHERE d.kept = {kept} AND list_contains(d.optout, {_literal(r)}))"
        for kept, r in signals
    ]
    if not paths:
        return _NOTHING.format(columns=_columns(["0"] * (len(base) + len(drops))))
    return (
        f"SELECT d.{column} AS name, {_columns(base + drops)} FROM {_files_sql(paths)} d "
        f"WHERE {_HAS_URL} AND ({where}) GROUP BY 1"
    )


def _catalog_scope(directory: Path, segments: list[Segment], stem: str) -> ScopeFiles:
    counts = _files_sql([directory / s.file for s in segments])
    reasons_src = _files_sql([directory / s.reasons_file for s in segments])
    signals: list[tuple[bool, str]] = []
    if segments:
        with duck.connect() as con:
            found = con.execute(f"SELECT DISTINCT kept, reason FROM {reasons_src} ORDER BY 1, 2").fetchall()
        signals = [(bool(kept), str(reason)) for kept, reason in found]
    aggregates = [f"{_EXTREMES.get(f, 'sum')}({f})" for f in CATALOG_FIELDS]
    base = len(CATALOG_FIELDS)

    def by_table(column: str) -> str:
        if not segments:
            return _NOTHING.format(columns=_columns(["0"] * base))
        query = f"SELECT {column} AS name, {_columns(aggregates)} FROM {counts} GROUP BY 1"
        if not signals:
            return query
        pivot = ", ".join(
            f"sum(pages) FILTER (WHERE kept = {kept} AND reason = {_literal(r)}) AS f{base + i}"
            for i, (kept, r) in enumerate(signals)
        )
        return (
            f"SELECT * FROM ({query}) LEFT JOIN "
            f"(SELECT {column} AS name, {pivot} FROM {reasons_src} GROUP BY 1) USING (name)"
        )

    scope = ScopeFiles(
        scope=CATALOG, kind="catalog", record=None, name=CATALOG, stem=stem, counts=stem,
        fields=[*CATALOG_FIELDS, *(_signal_field(kept, r) for kept, r in signals)], domain=_EMPTY, host=_EMPTY,
    )  # fmt: skip
    _write_counts(directory, stem, by_table, len(scope.fields))
    return scope


# -- stages and runs --------------------------------------------------------------------------------------------


def _covered_shards(stage: StageRecord, stages: dict[str, StageRecord]) -> list[int]:
    """The shards a stage's input came from: its own for a catalog stage, else its input stage's."""
    seen = set()
    while stage.input != CATALOG:
        if stage.name in seen or stage.input not in stages:
            raise DomainError(f"stage {stage.name!r}: its input stage {stage.input!r} is not in the ledger")
        seen.add(stage.name)
        stage = stages[stage.input]
    return stage.input_shards


def _paths(shards: Sequence[int], files: dict[int, str]) -> list[str]:
    return [files[i] for i in shards if i in files]


_STAGE_AGGREGATES = _columns(
    [
        "count(*) FILTER (WHERE l.kept)",
        "sum(d.bytes) FILTER (WHERE l.kept)",
        "sum(d.tokens) FILTER (WHERE l.kept)",
        "count(*) FILTER (WHERE NOT l.kept)",
    ]
)


def stage_query(paths: Sequence[str], lineage: Path, column: str, where: str = "true") -> str:
    """SQL of a stage's counts grouped by ``column`` (``domain`` or ``host``) over the rows matching ``where``."""
    if not paths:
        return _NOTHING.format(columns=_columns(["0"] * len(STAGE_FIELDS)))
    return (
        f"SELECT d.{column} AS name, {_STAGE_AGGREGATES} FROM {_files_sql(paths)} d JOIN {_files_sql([lineage])} l "
        f"USING (doc_id) WHERE d.kept AND {_HAS_URL} AND ({where}) GROUP BY 1"
    )


def stage_paths(stage: StageRecord, stages: dict[str, StageRecord], files: dict[int, str]) -> list[str]:
    """The docs files of the shards the stage's input came from."""
    return _paths(_covered_shards(stage, stages), files)


def _stage_scope(
    directory: Path,
    catalog_dir: Path,
    record: int,
    stage: StageRecord,
    stages: dict[str, StageRecord],
    files: dict[int, str],
) -> ScopeFiles:
    paths = stage_paths(stage, stages, files)
    lineage = checked_lineage(catalog_dir, stage)
    scope = ScopeFiles(
        scope=f"stage:{stage.name}", kind="stage", record=record, name=stage.name, input=stage.input,
        stem=f"stage-{record}", counts=f"stage-{record}", fields=list(STAGE_FIELDS), domain=_EMPTY, host=_EMPTY,
    )  # fmt: skip
    _write_counts(
        directory, scope.counts, lambda column: stage_query(paths, lineage, column), len(scope.fields)
    )
    return scope


def run_conditions(
    catalog_dir: Path, run: RunRecord, stages: dict[str, StageRecord], files: dict[int, str]
) -> list[str]:
    """SQL conditions on a docs row ``d`` (read with ``filename``), one per way into the run's data mix."""
    whole: set[int] = set()
    conditions = []
    for entry in run.data_mix:
        if entry.stage is None:
            whole.update(entry.shards)
            continue
        if entry.stage not in stages:
            raise DomainError(f"run {run.ident}: its stage {entry.stage!r} is not in the ledger")
        stage = stages[entry.stage]
        paths = stage_paths(stage, stages, files)
        if paths:
            lineage = _files_sql([checked_lineage(catalog_dir, stage)])
            conditions.append(
                f"(d.filename IN ({', '.join(_literal(p) for p in paths)}) AND d.doc_id IN "
                f"(SELECT doc_id FROM {lineage} WHERE kept))"
            )
    if _paths(sorted(whole), files):
        conditions.append(f"d.filename IN ({', '.join(_literal(p) for p in _paths(sorted(whole), files))})")
    return conditions


def run_query(conditions: Sequence[str], files: dict[int, str], column: str, where: str = "true") -> str:
    """SQL of a run's counts grouped by ``column`` over the rows matching ``where``."""
    everything = sorted(set(files.values()))
    if not conditions or not everything:
        return _NOTHING.format(columns=_columns(["0"] * len(RUN_FIELDS)))
    return (
        f"SELECT d.{column} AS name, {_columns(['count(*)', 'sum(d.bytes)', 'sum(d.tokens)'])} "
        f"FROM read_parquet([{', '.join(_literal(p) for p in everything)}], filename = true) d "
        f"WHERE d.kept AND {_HAS_URL} AND ({where}) AND ({' OR '.join(conditions)}) GROUP BY 1"
    )


def _run_scope(
    directory: Path,
    catalog_dir: Path,
    record: int,
    run: RunRecord,
    stages: dict[str, StageRecord],
    files: dict[int, str],
) -> ScopeFiles:
    """A run's documents: the union of its data mix (a stage's kept set, or a source's or the catalog's shards)."""
    conditions = run_conditions(catalog_dir, run, stages, files)
    scope = ScopeFiles(
        scope=f"run:{run.ident}", kind="run", record=record, name=run.ident, model=run.model, version=run.version,
        stem=f"run-{record}", counts=f"run-{record}", fields=list(RUN_FIELDS), domain=_EMPTY, host=_EMPTY,
    )  # fmt: skip
    _write_counts(
        directory, scope.counts, lambda column: run_query(conditions, files, column), len(scope.fields)
    )
    return scope


# -- the build --------------------------------------------------------------------------------------------------


def _previous(directory: Path, shards: list[RecordedShard], rebuild: bool) -> IndexManifest | None:
    """The manifest to build on, or None for a full build (none yet, asked for, or a covered shard expired)."""
    if rebuild:
        return None
    try:
        manifest = read_manifest(directory)
    except (IndexMissing, IndexCorrupt):
        return None
    if not set(manifest.shards) <= {recorded.index for recorded in shards}:
        return None  # a shard it counted has expired: its counts cannot be taken out of a segment
    for scope in manifest.scopes:
        if not all(counts_file(directory, scope.counts, t).is_file() for t in TABLES):
            return None
    return manifest


def _remove_unlisted(directory: Path, manifest: IndexManifest) -> None:
    keep = {"manifest.json"}
    for segment in manifest.segments:
        keep |= {segment.file, segment.reasons_file}
    for scope in manifest.scopes:
        keep |= {f.name for t in TABLES for f in table_files(directory, scope.stem, t).values()}
        keep |= {counts_file(directory, scope.counts, t).name for t in TABLES}
    for path in directory.iterdir():
        if path.name not in keep and path.is_file():
            path.unlink()


def build_domain_index(
    ledger: Ledger,
    catalog_dir: Path,
    index_dir: Path,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> BuildReport:
    """Build or update the domain index under ``index_dir`` and append its ``domains.index`` record.

    Only shards, stages and runs the previous build did not cover are read; ``rebuild`` starts from nothing.
    """
    started = time.perf_counter()
    directory = domain_dir(index_dir)
    directory.mkdir(parents=True, exist_ok=True)
    ledger_size = ledger.size
    shards = [s for s in catalog_shards(ledger) if s.index < ledger_size]
    stage_list = [(i, s) for i, s in list_stages(ledger) if i < ledger_size]
    run_list = [(i, r) for i, r in list_runs(ledger) if i < ledger_size]
    previous = _previous(directory, shards, rebuild)
    files = {recorded.index: path for path, recorded in docs_files(shards, catalog_dir).items()}
    done_shards = set(previous.shards) if previous else set()
    new = {path: s for path, s in docs_files(shards, catalog_dir).items() if s.index not in done_shards}
    covered = sorted(done_shards | {s.index for s in shards})  # shards without documents count as covered too
    old_scopes = {s.scope: s for s in previous.scopes} if previous else {}
    todo_stages = [(i, s) for i, s in stage_list if f"stage:{s.name}" not in old_scopes]
    todo_runs = [(i, r) for i, r in run_list if f"run:{r.ident}" not in old_scopes]
    total = (1 if new else 0) + 2 + len(todo_stages) + len(todo_runs)
    step = 0

    def advance(what: str) -> None:
        nonlocal step
        if progress is not None:
            progress(what, step, total)
        step += 1

    try:
        segments = list(previous.segments) if previous else []
        if new:
            advance(f"reading {len(new)} new shard(s)")
            segments.append(_write_segment(directory, new, ledger_size))
        advance("summing the catalog")
        scopes = [_catalog_scope(directory, segments, f"catalog-{ledger_size}")]
        by_name = {s.name: s for _, s in stage_list}
        for index, stage in stage_list:
            if f"stage:{stage.name}" in old_scopes:
                scopes.append(old_scopes[f"stage:{stage.name}"])
                continue
            advance(f"stage {stage.name}")
            scopes.append(_stage_scope(directory, catalog_dir, index, stage, by_name, files))
        for index, run in run_list:
            if f"run:{run.ident}" in old_scopes:
                scopes.append(old_scopes[f"run:{run.ident}"])
                continue
            advance(f"run {run.ident}")
            scopes.append(_run_scope(directory, catalog_dir, index, run, by_name, files))
        advance("hashing the tables")
        scopes = [
            s.model_copy(update={"stem": f"{s.counts}-b{ledger_size}"}) if s.kind != "catalog" else s
            for s in scopes
        ]
        scopes = _write_tables(directory, scopes)
    except duckdb.Error as exc:
        raise DomainError(f"cannot read the catalog's files to build the domain index: {exc}") from exc
    documents = sum(s.documents for s in segments)
    without_url = sum(s.without_url for s in segments)
    record = DomainIndexRecord(
        ledger_size=ledger_size,
        shards=covered,
        documents=documents,
        without_url=without_url,
        scopes=[
            ScopeCommitment(scope=s.scope, record=s.record, fields=s.fields, domain=s.domain, host=s.host)
            for s in scopes
        ],
    )
    index = ledger.append("domains.index", record)
    manifest = IndexManifest(
        record=index,
        ledger_size=ledger_size,
        shards=covered,
        stages=[i for i, _ in stage_list],
        runs=[i for i, _ in run_list],
        documents=documents,
        without_url=without_url,
        built=datetime.now(UTC).isoformat(timespec="seconds"),
        segments=segments,
        scopes=scopes,
    )
    write_manifest(directory, manifest)
    _remove_unlisted(directory, manifest)
    if progress is not None:
        progress("done", total, total)
    return BuildReport(
        record=index,
        documents=documents,
        new_shards=len(new),
        scopes_built=[s.scope for s in scopes if s.scope not in old_scopes or s.kind == "catalog"],
        scopes_reused=[s.scope for s in scopes if s.scope in old_scopes and s.kind != "catalog"],
        domains=scopes[0].domain.size,
        hosts=scopes[0].host.size,
        rebuilt=previous is None,
        seconds=time.perf_counter() - started,
    )
