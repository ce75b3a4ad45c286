"""Building a stage in DuckDB: the input set, ids resolved against it, the lineage file and its Merkle roots.

Everything set-like happens in one in-memory DuckDB database that spills to disk, over the catalog's Parquet
files and Arrow tables of ids: the input set is never a Python set of bytes. The lineage file is streamed out
of DuckDB in sorted batches while the Merkle roots of the kept and the dropped ids are folded up, so Python
holds one batch and two tree frontiers (log2(n) hashes each) at a time.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kiroku.catalog import _duck as duck
from kiroku.catalog._stage_ids import IdList, Progress, StageError
from kiroku.catalog.shards import replace_durably, sha256_file
from kiroku.catalog.stats import catalog_shards
from kiroku.ledger import Ledger, merkle
from kiroku.ledger.tree import Frontier

__all__ = ["LINEAGE_SCHEMA", "MEMORY_LIMIT", "CatalogInput", "LineageSummary", "StageBuild", "sha256_file"]

LINEAGE_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.binary(32), nullable=False),
        pa.field("kept", pa.bool_(), nullable=False),
        pa.field("reason", pa.string()),  # why it was dropped; null when kept
    ]
)

_BATCH = 65_536
MEMORY_LIMIT = "512MB"
"""DuckDB's memory for one stage (``KIROKU_STAGE_MEMORY`` overrides it); beyond it, DuckDB spills to disk."""
_HEX = "regexp_full_match(i.name, '[0-9a-fA-F]{64}')"


@dataclass(frozen=True)
class CatalogInput:
    """What an input set was made of: the shard records, or the earlier stage's record."""

    input_record: int | None
    input_shards: list[int]
    documents: int


@dataclass
class LineageSummary:
    """What writing the lineage file found: counts, reasons, the two roots and the file's SHA-256."""

    kept: int = 0
    dropped: int = 0
    dropped_by_reason: dict[str, int] = field(default_factory=dict)
    kept_root: str = ""
    dropped_root: str = ""
    sha256: str = ""


class StageBuild:
    """One stage's working database; use as a context manager."""

    def __init__(self, ledger: Ledger, catalog_dir: Path, *, progress: Progress | None = None) -> None:
        self.ledger = ledger
        self.catalog_dir = catalog_dir
        self.progress = progress
        self._spill = tempfile.TemporaryDirectory(prefix="kiroku-stage-")
        config: dict[str, str | bool | int | float | list[str]] = {
            "temp_directory": self._spill.name,
            "preserve_insertion_order": False,
            "memory_limit": os.environ.get("KIROKU_STAGE_MEMORY", MEMORY_LIMIT),
        }
        self.con = duck.connect(config)
        self._parts: list[IdList] = []
        self._docs_ready = False

    def __enter__(self) -> StageBuild:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database and remove its spill files."""
        self.con.close()
        self._spill.cleanup()

    # -- the input set -------------------------------------------------------------------------------------

    def _docs_files(self) -> tuple[list[str], list[int]]:
        files, indexes = [], []
        for recorded in catalog_shards(self.ledger):
            indexes.append(recorded.index)
            shard = recorded.shard
            if shard.documents == 0:
                continue
            path = self.catalog_dir / shard.docs_file
            if not path.is_file():
                raise StageError(f"shard {shard.shard} (record {recorded.index}) is missing its file {path}")
            if sha256_file(path) != shard.docs_sha256:
                raise StageError(
                    f"shard {shard.shard} (record {recorded.index}): {path} does not match its recorded SHA-256"
                )
            files.append(str(path))
        return files, indexes

    def _load_docs(self) -> list[int]:
        files, indexes = self._docs_files()
        if files:
            self.con.read_parquet(files).project("doc_id, external_id, url, kept").create_view("docs")
        else:
            self.con.execute(
                "CREATE TEMP TABLE docs (doc_id BLOB, external_id VARCHAR, url VARCHAR, kept BOOLEAN)"
            )
        self._docs_ready = True
        return indexes

    def load_catalog(self) -> CatalogInput:
        """The input set ``catalog``: every kept document of every recorded shard."""
        indexes = self._load_docs()
        self.con.execute("CREATE TEMP TABLE input_set AS SELECT DISTINCT doc_id FROM docs WHERE kept")
        return CatalogInput(None, indexes, self.count("input_set"))

    def load_stage(self, index: int, lineage: Path, sha256: str) -> CatalogInput:
        """The input set of an earlier stage: the documents it kept, from its lineage file."""
        if not lineage.is_file():
            raise StageError(f"the lineage file {lineage} of the input stage (record {index}) is missing")
        if sha256_file(lineage) != sha256:
            raise StageError(
                f"the lineage file {lineage} does not match the SHA-256 recorded in record {index}"
            )
        self.con.read_parquet(str(lineage)).filter("kept").project("doc_id").create("input_set")
        return CatalogInput(index, [], self.count("input_set"))

    def count(self, table: str) -> int:
        """Rows in a table of this database."""
        return int(self._first(f"SELECT count(*) FROM {table}")[0])

    def _first_or_none(self, query: str) -> tuple[Any, ...] | None:
        rows = self.con.execute(query).fetchall()  # fetchall: DuckDB 2 refuses new work on a half-read result
        return rows[0] if rows else None

    def _first(self, query: str) -> tuple[Any, ...]:
        row = self._first_or_none(query)
        assert row is not None
        return row

    def input_ids(self) -> pa.Array:
        """The input set's ids, sorted."""
        table = self.con.sql("SELECT doc_id FROM input_set ORDER BY doc_id").to_arrow_table()
        return table.column("doc_id").combine_chunks().cast(pa.binary(32))

    # -- resolving ids -------------------------------------------------------------------------------------

    def resolve(self, ids: IdList, into: str) -> None:
        """Resolve ``ids`` against the input set into table ``into`` (``kept`` or ``dropped``).

        Each entry is tried, in order, as a document id (32 bytes or 64 hex), as an external id or URL of a
        document in the input set (which must name exactly one), and as the SHA-256 of its text. `StageError`
        names the first entry that is unknown or ambiguous.
        """
        part = len(self._parts)
        self._parts.append(ids)
        con = self.con
        con.read_parquet(str(ids.path)).create_view("ids", replace=True)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE hits AS SELECT i.line, s.doc_id, 1 AS tier FROM ids i JOIN input_set s "
            f"ON s.doc_id = coalesce(i.doc_id, CASE WHEN {_HEX} THEN unhex(i.name) END)"
        )
        # the rest: by name (external id or URL), then by the text's hash; the catalog is read only if needed
        con.execute(
            "CREATE OR REPLACE TEMP TABLE pending AS SELECT line, coalesce(name, lower(hex(doc_id))) AS name, "
            "text_id FROM ids WHERE line NOT IN (SELECT line FROM hits)"
        )
        if self._first("SELECT count(name) FROM pending")[0]:
            if not self._docs_ready:
                self._load_docs()
            con.execute(
                "INSERT INTO hits SELECT DISTINCT p.line, d.doc_id, 2 FROM pending p JOIN ("
                " SELECT external_id AS name, doc_id FROM docs WHERE external_id IN (SELECT name FROM pending)"
                " UNION ALL SELECT url, doc_id FROM docs WHERE url IN (SELECT name FROM pending)"
                ") d ON d.name = p.name WHERE d.doc_id IN (SELECT doc_id FROM input_set)"
            )
        con.execute(
            "INSERT INTO hits SELECT p.line, s.doc_id, 3 FROM pending p JOIN input_set s ON s.doc_id = p.text_id "
            "WHERE p.line NOT IN (SELECT line FROM hits)"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE resolved AS SELECT line, min(doc_id) AS doc_id, max(doc_id) AS other, "
            "count(DISTINCT doc_id) AS n FROM hits GROUP BY line"
        )
        self._check_resolved(ids)
        if self.progress:
            self.progress(f"Resolving ids in {Path(ids.label).name}", len(ids), len(ids))
        con.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {into} (doc_id BLOB, part INTEGER, line BIGINT, reason VARCHAR)"
        )
        con.execute(
            f"INSERT INTO {into} SELECT r.doc_id, {part}, r.line, i.reason "
            "FROM resolved r JOIN ids i ON i.line = r.line"
        )
        con.execute("DROP TABLE hits; DROP TABLE pending; DROP TABLE resolved; DROP VIEW ids")

    def _check_resolved(self, ids: IdList) -> None:
        ambiguous = self._first_or_none(
            "SELECT r.line, r.n, r.doc_id, r.other, i.name FROM resolved r JOIN ids i ON i.line = r.line "
            "WHERE r.n > 1 ORDER BY r.line LIMIT 1"
        )
        if ambiguous:
            line, n, first, other, name = ambiguous
            raise StageError(
                f"{ids.where(line)}: {name!r} names {n} documents of the input set as external id or URL "
                f"({bytes(first).hex()[:16]}…, {bytes(other).hex()[:16]}…); give the 64-hex document id instead"
            )
        unknown = self._first_or_none(
            "SELECT i.line, i.name, i.doc_id, i.text_id, count(*) OVER () FROM ids i "
            "WHERE i.line NOT IN (SELECT line FROM resolved) ORDER BY i.line LIMIT 1"
        )
        if unknown:
            line, name, doc_id, text_id, total = unknown
            what = (
                repr(name) if name is not None
                else f"document id {bytes(doc_id).hex()}" if doc_id is not None
                else f"the text (SHA-256 {bytes(text_id).hex()})"
            )  # fmt: skip
            more = f" ({total - 1} more entries are not in it either)" if total > 1 else ""
            raise StageError(
                f"{ids.where(line)}: {what} is not in the input set (no document id, external id or URL of it "
                f"matches){more}"
            )

    def check_kept_and_dropped(self) -> None:
        """Refuse a document listed both as kept and as dropped, or dropped with two different reasons."""
        con = self.con
        con.execute(
            "CREATE TEMP TABLE IF NOT EXISTS kept (doc_id BLOB, part INTEGER, line BIGINT, reason VARCHAR)"
        )
        con.execute(
            "CREATE TEMP TABLE IF NOT EXISTS dropped (doc_id BLOB, part INTEGER, line BIGINT, reason VARCHAR)"
        )
        both = self._first_or_none(
            "SELECT d.part, d.line, k.part, k.line, d.doc_id FROM dropped d JOIN kept k ON k.doc_id = d.doc_id "
            "ORDER BY d.part, d.line LIMIT 1"
        )
        if both:
            dpart, dline, kpart, kline, doc_id = both
            raise StageError(
                f"{self._parts[dpart].where(dline)}: document {bytes(doc_id).hex()} is dropped here but kept "
                f"in {self._parts[kpart].where(kline)}"
            )
        conflict = self._first_or_none(
            "SELECT doc_id, arg_min(part, line), min(line), arg_max(part, line), max(line) FROM dropped "
            "WHERE reason IS NOT NULL GROUP BY doc_id HAVING count(DISTINCT reason) > 1 ORDER BY 3 LIMIT 1"
        )
        if conflict:
            doc_id, first_part, first_line, last_part, last_line = conflict
            raise StageError(
                f"{self._parts[last_part].where(last_line)}: document {bytes(doc_id).hex()} is given another "
                f"reason than in {self._parts[first_part].where(first_line)}"
            )

    # -- the lineage file ----------------------------------------------------------------------------------

    def write_lineage(self, path: Path, default_reason: str, total: int) -> LineageSummary:
        """Write every input document with kept/reason, sorted by id, atomically; return counts and roots."""
        self.check_kept_and_dropped()
        relation = self.con.sql(
            "SELECT s.doc_id, k.doc_id IS NOT NULL AS kept, "
            "CASE WHEN k.doc_id IS NULL THEN coalesce(d.reason, $default) END AS reason "
            "FROM input_set s "
            "LEFT JOIN (SELECT DISTINCT doc_id FROM kept) k ON k.doc_id = s.doc_id "
            "LEFT JOIN (SELECT doc_id, min(reason) AS reason FROM dropped GROUP BY doc_id) d ON d.doc_id = s.doc_id "
            "ORDER BY s.doc_id",
            params={"default": default_reason},
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        summary, reasons = LineageSummary(), Counter[str]()
        kept_tree, dropped_tree = Frontier(), Frontier()
        with pq.ParquetWriter(tmp, LINEAGE_SCHEMA, compression="zstd") as writer:
            for raw in duck.arrow_reader(relation, _BATCH):
                batch = pa.RecordBatch.from_arrays(
                    [raw.column(0).cast(pa.binary(32)), raw.column(1), raw.column(2).cast(pa.string())],
                    schema=LINEAGE_SCHEMA,
                )
                writer.write_batch(batch)
                kept_mask = batch.column(1)
                for doc_id in pc.filter(batch.column(0), kept_mask).to_pylist():
                    kept_tree.append(merkle.leaf_hash(doc_id))
                dropped_rows = pc.filter(batch, pc.invert(kept_mask))
                for doc_id in dropped_rows.column(0).to_pylist():
                    dropped_tree.append(merkle.leaf_hash(doc_id))
                for item in pc.value_counts(dropped_rows.column(2)).to_pylist():
                    reasons[item["values"]] += item["counts"]
                if self.progress:
                    self.progress("Writing lineage", batch.num_rows, total)
        replace_durably(tmp, path)
        summary.kept, summary.dropped = kept_tree.size, dropped_tree.size
        summary.dropped_by_reason = dict(sorted(reasons.items()))
        summary.kept_root, summary.dropped_root = kept_tree.root().hex(), dropped_tree.root().hex()
        summary.sha256 = sha256_file(path)
        return summary
