"""Shared fixtures of the disclosure tests: a ledger with training runs and model releases."""

from __future__ import annotations

from datetime import date
from functools import partial
from pathlib import Path

import pytest

from kiroku.catalog import DataType, Source, register_source
from kiroku.catalog.releases import ReleaseAction, record_release
from kiroku.catalog.runs import parse_run, record_run
from kiroku.ingest import ingest_files, read_jsonl
from kiroku.ledger import Ledger

RUN = """
name = "{name}"
model = "{model}"
version = "{version}"
methods = ["pre-training"]
training_tokens = {tokens}
start = 2026-01-01
end = 2026-01-31
weight_unit = "epochs"
[architecture]
family = "decoder-only transformer"
parameters = {parameters}
[[data_mix]]
catalog = true
weight = 1
"""


@pytest.fixture
def ledger(store_url: str, tmp_path: Path) -> Ledger:
    """acme-lm 1.0 (two runs, 6e24 + 6e24 FLOPs estimated), small-lm 1.0 (one run), old-lm withdrawn in 2025,
    and no-run-lm released without a recorded run."""
    ledger = Ledger.create(store_url, "test.kiroku/ledger")
    register_source(ledger, Source(name="web", type=DataType.web_crawl))
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "one document"}\n')
    ingest_files(ledger, tmp_path / "catalog", "web", [data], partial(read_jsonl))
    for name, model, parameters, tokens in (
        ("pt", "acme-lm", 10**11, 10**13),
        ("sft", "acme-lm", 10**11, 10**13),
        ("pt", "small-lm", 10**9, 10**12),
        ("pt", "old-lm", 10**12, 10**13),
    ):
        text = RUN.format(name=name, model=model, version="1.0", parameters=parameters, tokens=tokens)
        record_run(ledger, parse_run(text))
    on = date(2026, 2, 1)
    record_release(ledger, "acme-lm", "1.0", "chat", on=on)
    record_release(ledger, "acme-lm", "1.0", "api", on=on)
    record_release(ledger, "small-lm", "1.0", "chat", on=on)
    record_release(ledger, "no-run-lm", "1.0", "chat", on=on)
    record_release(ledger, "old-lm", "1.0", "chat", on=date(2024, 1, 1))
    record_release(ledger, "old-lm", "1.0", "chat", on=date(2025, 6, 1), action=ReleaseAction.withdraw)
    return ledger
