"""Shared fixtures of the disclosure tests: a ledger with training runs and model releases."""

from __future__ import annotations

import json
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kiroku.catalog import DataType, Source, register_source
from kiroku.catalog.releases import ReleaseAction, record_release
from kiroku.catalog.runs import parse_run, record_run
from kiroku.ingest import ingest_files, read_jsonl
from kiroku.ledger import Ledger
from tests.conftest import kiroku

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


# --- a workspace with a run, a release and both indexes, for `kiroku statement` ---

STATEMENT_RUN = """
name = "pretrain"
model = "acme-lm"
version = "1.0"
methods = ["pre-training"]
training_tokens = 5_000_000_000_000
start = 2026-01-05
end = 2026-02-20
weight_unit = "epochs"
[architecture]
family = "decoder-only transformer"
parameters = 70_000_000_000
[[data_mix]]
catalog = true
weight = 1
"""
POLICY = """
provenance = ["C2PA manifests on generated images"]
rightsholder_contact = "https://acme.example/rightsholders"

[firm]
name = "Acme AI K.K."
address = "1-2-3 Marunouchi, Chiyoda-ku, Tokyo"
contact = "compliance@acme.example"
services_in_japan = ["chat"]

[scope]
compute_flops = 1e24

[training_data]
languages = ["en"]
content_types = "web pages about tea, rivers and trains"
purpose = "a chat model that answers questions about travel"
cleaning_purpose = "keep pages a reader would learn from"
aggregate_consumer_information = false
illegal_content = "pages from sites on the piracy blocklist are never trained on"
crawler_purposes = "collecting public web pages to train Acme's models"
"""


def ok(*args: str, cwd: Path) -> str:
    result = kiroku(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def statement_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("statement")
    root = base / "ws"
    ok("init", str(root), "--org", "Acme AI", "--origin", "acme.example/kiroku", cwd=base)
    pages = [
        {"url": f"https://site{i}.example/a", "text": f"page {i} on tea, rivers and trains " * 4}
        for i in range(30)
    ]
    (root / "crawl.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pages))
    ok("source", "add", "crawl", "--type", "web_crawl", cwd=root)
    ok("ingest", "jsonl", "crawl.jsonl", "--source", "crawl", cwd=root)
    (root / "run.toml").write_text(STATEMENT_RUN)
    ok("run", "record", "run.toml", cwd=root)
    ok("model", "release", "acme-lm", "1.0", "--service", "chat", "--date", "2026-03-01", cwd=root)
    ok("index", "domains", cwd=root)
    ok("index", "build", cwd=root)
    (root / "statement.toml").write_text(POLICY, encoding="utf-8")
    return root


def build(root: Path, tier: str, out: str) -> dict[str, Any]:
    ok("statement", "build", "--period", "2026", "--tier", tier, "--out", out, cwd=root)
    data: dict[str, Any] = json.loads((root / out / "statement.json").read_text(encoding="utf-8"))
    return data


def key(root: Path) -> str:
    return ok("log", "key", cwd=root).strip().splitlines()[-1]
