"""Reading the domain index: open it, check it covers the ledger, look names up one at a time or in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kiroku.catalog.runs import list_runs
from kiroku.catalog.stages import list_stages
from kiroku.catalog.stats import catalog_shards
from kiroku.domains.build import domain_dir
from kiroku.domains.errors import DomainError, IndexCorrupt, IndexTampered, StaleIndex
from kiroku.domains.keys import KEY_SIZE, name_key
from kiroku.domains.manifest import IndexManifest, ScopeFiles, read_manifest
from kiroku.domains.record import DomainIndexRecord, Table
from kiroku.domains.tables import Lookup, SortedTable
from kiroku.ledger import Ledger, merkle

__all__ = ["DomainIndex"]

_REBUILD = "run 'kiroku index domains' to bring it up to date"


class DomainIndex:
    """A built domain index, opened read-only; tables are memory-mapped on first use."""

    def __init__(self, directory: Path, manifest: IndexManifest) -> None:
        self.directory = directory
        self.manifest = manifest
        self._tables: dict[tuple[str, Table], SortedTable] = {}

    @classmethod
    def open(cls, index_dir: Path) -> DomainIndex:
        """Open the domain index kept in a workspace's index folder (`IndexMissing` if none was built)."""
        directory = domain_dir(index_dir)
        return cls(directory, read_manifest(directory))

    # -- which scopes ------------------------------------------------------------------------------------------

    @property
    def scopes(self) -> list[ScopeFiles]:
        """Every scope: the catalog first, then stages and runs in the order they were recorded."""
        return list(self.manifest.scopes)

    def scope(self, name: str) -> ScopeFiles:
        """Scope ``name`` (``catalog``, ``stage:NAME``, ``run:MODEL@VERSION/RUN``); `DomainError` if unknown."""
        found = self.manifest.scope(name)
        if found is None:
            known = ", ".join(s.scope for s in self.manifest.scopes)
            raise DomainError(f"the domain index has no scope {name!r} (it has: {known})")
        return found

    def table(self, scope: str, table: Table) -> SortedTable:
        """The sorted table of ``scope`` by ``table`` (``domain`` or ``host``)."""
        if (scope, table) not in self._tables:
            files = self.scope(scope)
            self._tables[scope, table] = SortedTable(
                self.directory, files.stem, table, files.fields, files.table(table)
            )
        return self._tables[scope, table]

    # -- is it current -----------------------------------------------------------------------------------------

    def check(self, ledger: Ledger) -> None:
        """Fail closed unless the index matches its ledger record and covers every shard, stage and run.

        `IndexCorrupt` when the manifest's roots are not the ones the ledger recorded; `StaleIndex` (with the
        advice to run ``kiroku index domains``) when records came after the build.
        """
        manifest = self.manifest
        if manifest.record >= ledger.size:
            raise IndexCorrupt(
                f"the domain index rests on record {manifest.record}, beyond this ledger's size {ledger.size}; "
                "it belongs to another ledger: rebuild it with 'kiroku index domains --rebuild'"
            )
        logged = ledger.record(manifest.record)
        body = logged.body_json()
        if logged.entry.kind != "domains.index" or body is None:
            raise IndexCorrupt(f"record {manifest.record} is not a domains.index record; rebuild the index")
        committed = DomainIndexRecord.model_validate(body)
        for scope in manifest.scopes:
            entry = committed.scope(scope.scope)
            if entry is None or (entry.domain, entry.host, entry.fields) != (
                scope.domain,
                scope.host,
                scope.fields,
            ):
                raise IndexCorrupt(
                    f"the domain index's {scope.scope} tables are not the ones record {manifest.record} commits "
                    "to; rebuild with 'kiroku index domains --rebuild'"
                )
        shards = {s.index for s in catalog_shards(ledger)}
        stages = {i for i, _ in list_stages(ledger)}
        runs = {i for i, _ in list_runs(ledger)}
        news = []
        for what, now, then in (
            ("catalog shard", shards, set(manifest.shards)),
            ("cleaning stage", stages, set(manifest.stages)),
            ("training run", runs, set(manifest.runs)),
        ):
            if then - now:
                raise StaleIndex(
                    f"the domain index counts {len(then - now)} {what}(s) whose records have expired; "
                    "rebuild it with 'kiroku index domains --rebuild'"
                )
            if now - then:
                news.append(f"{len(now - then)} {what}(s)")
        if news:
            raise StaleIndex(
                f"the ledger has {', '.join(news)} recorded after the domain index was built "
                f"(it covers records up to {manifest.ledger_size - 1}); {_REBUILD}"
            )

    # -- lookups ----------------------------------------------------------------------------------------------

    def find(self, scope: str, table: Table, name: str) -> Lookup:
        """Where ``name`` is (or would be) in a table: O(log n)."""
        return self.table(scope, table).search(name_key(name))

    def lookup(self, scope: str, table: Table, name: str) -> dict[str, int] | None:
        """The counts of ``name`` (a normalised host or domain) in ``scope``, or None when it has no entry."""
        sorted_table = self.table(scope, table)
        hit = sorted_table.search(name_key(name))
        if not hit.found:
            return None
        return dict(zip(sorted_table.fields, sorted_table.counts(hit.position), strict=True))

    def lookup_checked(self, scope: str, table: Table, name: str) -> dict[str, int] | None:
        """`lookup`, with the entry (or, for an absent name, its neighbours) checked against the committed root.

        An index file altered on disk raises `IndexTampered` instead of giving a wrong answer: O(log n) hashes.
        """
        sorted_table = self.table(scope, table)
        hit = sorted_table.search(name_key(name))
        size = sorted_table.size
        root = bytes.fromhex(self.scope(scope).table(table).root)
        around = (
            [hit.position] if hit.found else [p for p in (hit.position - 1, hit.position) if 0 <= p < size]
        )
        for position in around:
            leaf = sorted_table.key(position) + sorted_table.digest(position)
            if not merkle.verify_inclusion(
                merkle.leaf_hash(leaf), position, size, sorted_table.proof(position), root
            ):
                raise IndexTampered(
                    f"the domain index's {scope} {table} table does not match the root its ledger record commits "
                    "to (a file was altered); rebuild with 'kiroku index domains --rebuild'"
                )
        if not hit.found:
            return None
        return dict(zip(sorted_table.fields, sorted_table.counts(hit.position), strict=True))

    def lookup_many(self, scope: str, table: Table, names: Sequence[str]) -> list[dict[str, int] | None]:
        """`lookup` for many names at once, vectorised: thousands of names per millisecond of search."""
        sorted_table = self.table(scope, table)
        keys = np.frombuffer(b"".join(name_key(n) for n in names), dtype=np.uint8).reshape(-1, KEY_SIZE)
        found, positions = sorted_table.search_many(keys)
        values = sorted_table.counts_at(positions[found])
        fields = sorted_table.fields
        answers: list[dict[str, int] | None] = [None] * len(names)
        for i, counts in zip(np.flatnonzero(found).tolist(), values, strict=True):
            answers[i] = dict(zip(fields, counts, strict=True))
        return answers
