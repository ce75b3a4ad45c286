"""Fixtures for ingest tests: a ledger with one registered web-crawl source."""

from __future__ import annotations

import pytest

from kiroku.catalog import DataType, Source, register_source
from kiroku.ledger import Ledger

ORIGIN = "test.kiroku/ledger"
SOURCE = "crawl"


@pytest.fixture
def ledger(store_url: str) -> Ledger:
    """An empty ledger (on each store backend) with the source ``crawl`` registered."""
    ledger = Ledger.create(store_url, ORIGIN)
    register_source(ledger, Source(name=SOURCE, type=DataType.web_crawl))
    return ledger
