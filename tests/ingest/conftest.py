"""Fixtures for ingest tests: a ledger with one registered web-crawl source."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kiroku.catalog import DataType, Source, register_source
from kiroku.catalog.shards import ShardRecord, doc_id_of
from kiroku.catalog.stats import catalog_shards
from kiroku.ledger import Ledger, merkle

ORIGIN = "test.kiroku/ledger"
SOURCE = "crawl"


@pytest.fixture
def ledger(store_url: str) -> Ledger:
    """An empty ledger (on each store backend) with the source ``crawl`` registered."""
    ledger = Ledger.create(store_url, ORIGIN)
    register_source(ledger, Source(name=SOURCE, type=DataType.web_crawl))
    return ledger


def assert_shards_match_their_files(ledger: Ledger, catalog: Path, shards: list[ShardRecord]) -> None:
    """Each shard's doc_root is the root of its docs file's sorted distinct ids, its text file's ids are the
    hashes of its texts, and the ledger records exactly these shards."""
    for shard in shards:
        ids = pq.read_table(catalog / shard.docs_file).column("doc_id").to_pylist()
        assert merkle.root(sorted(set(ids))).hex() == shard.doc_root
        texts = pq.read_table(catalog / shard.text_file)
        assert [doc_id_of(t) for t in texts.column("text").to_pylist()] == texts.column("doc_id").to_pylist()
    assert [r.shard for r in catalog_shards(ledger)] == shards
