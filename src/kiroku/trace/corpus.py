"""The text a trace index covers: the documents of one scope, read from the catalog in a fixed order.

A scope is the whole catalog's kept set (the default), one cleaning stage's kept set, or one training run's data
mix. Each document appears once however many catalog shards hold it (a document is its content hash), at its first
occurrence in ledger order, so the order is stable and a build can be resumed from a cursor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from kiroku.catalog import _duck as duck
from kiroku.catalog import find_stage, list_runs, list_stages
from kiroku.catalog.stages import checked_lineage
from kiroku.catalog.stats import RecordedShard, catalog_shards
from kiroku.domains.build import run_conditions, stage_paths
from kiroku.ledger import Ledger
from kiroku.trace.errors import TraceError

__all__ = ["CorpusFile", "Cursor", "Scope", "resolve_scope", "scope_batches", "scope_files"]

ScopeKind = Literal["catalog", "stage", "run"]
BATCH_ROWS = 2048


@dataclass(frozen=True)
class Scope:
    """What a trace index covers: ``catalog``, ``stage:NAME`` or ``run:MODEL@VERSION/RUN``."""

    kind: ScopeKind
    name: str
    record: int | None

    @property
    def label(self) -> str:
        """The scope as answers name it."""
        return "catalog" if self.kind == "catalog" else f"{self.kind}:{self.name}"

    @property
    def slug(self) -> str:
        """A directory name for the scope's index."""
        if self.kind == "catalog":
            return "catalog"
        return f"{self.kind}-" + re.sub(r"[^A-Za-z0-9._-]+", "_", self.name)


def resolve_scope(ledger: Ledger, *, stage: str | None = None, run: str | None = None) -> Scope:
    """The scope asked for: a stage's kept set, a run's data mix, or (neither given) the catalog's kept set."""
    if stage is not None and run is not None:
        raise TraceError("give --stage or --run, not both: an index covers one scope")
    if stage is not None:
        index, _ = find_stage(ledger, stage)
        return Scope("stage", stage, index)
    if run is not None:
        runs = list_runs(ledger)
        matches = [(i, r) for i, r in runs if run in (r.ident, r.name, f"{r.model}@{r.version}")]
        if not matches:
            known = ", ".join(r.ident for _, r in runs) or "none recorded"
            raise TraceError(f"no training run {run!r} in the ledger (runs: {known})")
        if len(matches) > 1:
            raise TraceError(
                f"{run!r} names {len(matches)} runs; give one of: {', '.join(r.ident for _, r in matches)}"
            )
        index, found = matches[-1]
        return Scope("run", found.ident, index)
    return Scope("catalog", "catalog", None)


@dataclass(frozen=True)
class CorpusFile:
    """One catalog shard's files, in ledger order."""

    record: int
    docs_file: str
    text_file: str


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in a scope's document order: (catalog shard record, row in its docs file)."""

    record: int
    row: int


def scope_files(ledger: Ledger, catalog_dir: Path, ledger_size: int) -> list[CorpusFile]:
    """The catalog shards with documents recorded before ``ledger_size``, in ledger order."""
    files = []
    for recorded in catalog_shards(ledger):
        if recorded.index >= ledger_size or recorded.shard.documents == 0:
            continue
        files.append(_corpus_file(catalog_dir, recorded))
    return files


def _corpus_file(catalog_dir: Path, recorded: RecordedShard) -> CorpusFile:
    docs = catalog_dir / recorded.shard.docs_file
    text = catalog_dir / recorded.shard.text_file
    for path in (docs, text):
        if not path.is_file():
            raise TraceError(
                f"catalog shard {recorded.shard.shard} (record {recorded.index}) is missing {path}; "
                "its text may have expired under the retention policy"
            )
    return CorpusFile(recorded.index, str(docs), str(text))


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in_scope(ledger: Ledger, catalog_dir: Path, scope: Scope, files: Sequence[CorpusFile]) -> str:
    """SQL condition on a docs row ``d`` (read with ``filename``) for documents of the scope."""
    if scope.kind == "catalog":
        return "d.kept"
    by_record = {f.record: f.docs_file for f in files}
    stages = {s.name: s for _, s in list_stages(ledger)}
    if scope.kind == "stage":
        stage = stages[scope.name]
        paths = stage_paths(stage, stages, by_record)
        if not paths:
            return "false"
        lineage = _literal(str(checked_lineage(catalog_dir, stage)))
        return (
            f"d.kept AND d.filename IN ({', '.join(_literal(p) for p in paths)}) AND d.doc_id IN "
            f"(SELECT doc_id FROM read_parquet({lineage}) WHERE kept)"
        )
    run = next(r for i, r in list_runs(ledger) if i == scope.record)
    conditions = run_conditions(catalog_dir, run, stages, by_record)
    return f"d.kept AND ({' OR '.join(conditions)})" if conditions else "false"


# A document's place in the scope: (file's 1-based position in the list, row), as one orderable integer.
_ROWS = 1 << 40
_POSITION = f"list_position($1, d.filename)::BIGINT * {_ROWS} + d.file_row_number"


def _with_texts(wanted: pa.Table, text_file: Path) -> Iterator[pa.RecordBatch]:
    """``wanted`` (rows of one catalog shard, ascending ``row``) with each row's text, in batches of at most
    `BATCH_ROWS`, reading only the text file's row groups that hold wanted rows."""
    parquet = pq.ParquetFile(text_file)
    sizes = [parquet.metadata.row_group(g).num_rows for g in range(parquet.metadata.num_row_groups)]
    group_starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
    rows = wanted.column("row").to_numpy()
    if rows[-1] >= group_starts[-1]:
        raise TraceError(f"{text_file} holds {group_starts[-1]} texts, fewer than its docs file's rows")
    groups = np.searchsorted(group_starts, rows, side="right") - 1
    done = 0
    for group in np.unique(groups).tolist():
        upto = done + int(np.count_nonzero(groups == group))
        texts = parquet.read_row_group(group, columns=["text"]).column(0)
        picked = texts.take(pa.array(rows[done:upto] - group_starts[group]))
        part = wanted.slice(done, upto - done).append_column("text", picked)
        yield from part.to_batches(max_chunksize=BATCH_ROWS)
        done = upto
        del texts, picked, part
        pa.default_memory_pool().release_unused()  # mimalloc keeps freed pages otherwise: megabytes per group


def scope_batches(
    ledger: Ledger,
    catalog_dir: Path,
    scope: Scope,
    files: Sequence[CorpusFile],
    *,
    after: Cursor | None = None,
) -> Iterator[tuple[CorpusFile, pa.RecordBatch]]:
    """The scope's documents after ``after``, in order, as batches of ``doc_id, url, domain, source, row, text``.

    ``row`` is the document's row in its shard's docs and text files (written together, so the same row). Texts
    are read one row group of the text file at a time, so memory holds a few megabytes of text whatever the size
    of the catalog's files (a join of the two files in DuckDB held several times a file's text).
    """
    if not files:
        return
    condition = _in_scope(ledger, catalog_dir, scope, files)
    sources = ", ".join(_literal(f.docs_file) for f in files)
    con = duck.connect({"preserve_insertion_order": True})
    try:
        # Each document at its first occurrence only: ids alone, so DuckDB spills to disk rather than to memory.
        con.execute(
            f"CREATE TEMP TABLE firsts AS SELECT doc_id, min({_POSITION}) AS pos FROM read_parquet([{sources}], "
            f"filename = true, file_row_number = true) d WHERE {condition} GROUP BY doc_id",
            [[f.docs_file for f in files]],
        ).fetchall()
        for number, file in enumerate(files, start=1):
            if after is not None and file.record < after.record:
                continue
            start = after.row if after is not None and file.record == after.record else -1
            # which rows: the docs file alone (no text), so the query holds ids and URLs, never texts
            wanted = con.sql(
                "SELECT d.doc_id, d.url, d.domain, d.source, d.file_row_number AS row "
                f"FROM read_parquet({_literal(file.docs_file)}, file_row_number = true) d "
                "SEMI JOIN firsts f ON f.doc_id = d.doc_id AND f.pos = "
                f"{number} * {_ROWS} + d.file_row_number "
                f"WHERE d.file_row_number > {start} ORDER BY d.file_row_number"
            ).to_arrow_table()
            if wanted.num_rows:
                yield from ((file, batch) for batch in _with_texts(wanted, Path(file.text_file)))
    except duckdb.Error as exc:
        raise TraceError(f"cannot read the catalog's files for scope {scope.label}: {exc}") from exc
    finally:
        con.close()
