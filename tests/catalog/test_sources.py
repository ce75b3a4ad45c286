"""Sources of training data: registered once in the ledger, listed, and refused when inconsistent."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from kiroku.catalog import DataType, Source, SourceError, find_source, list_sources, register_source
from kiroku.ledger import Ledger
from tests.conftest import kiroku


@pytest.fixture
def ledger(store_url: str) -> Ledger:
    return Ledger.create(store_url, "test.kiroku/ledger")


def test_a_registered_source_is_a_ledger_record(ledger: Ledger) -> None:
    source = Source(name="aozora", type=DataType.public_dataset, origin="https://www.aozora.gr.jp/")
    index = register_source(ledger, source)
    record = ledger.record(index)
    assert record.entry.kind == "source"
    assert Source.model_validate(record.body_json()) == source
    assert find_source(ledger, "aozora") == (index, source)


def test_sources_are_listed_in_registration_order_among_other_records(ledger: Ledger) -> None:
    register_source(ledger, Source(name="b", type=DataType.web_crawl))
    ledger.append("note", {"event": "unrelated"})
    register_source(ledger, Source(name="a", type=DataType.other))
    assert [(i, s.name) for i, s in list_sources(ledger)] == [(0, "b"), (2, "a")]


def test_a_name_is_registered_only_once(ledger: Ledger) -> None:
    register_source(ledger, Source(name="web", type=DataType.web_crawl))
    with pytest.raises(SourceError, match="already registered"):
        register_source(ledger, Source(name="web", type=DataType.other))
    assert ledger.size == 1


def test_an_unknown_source_names_the_known_ones(ledger: Ledger) -> None:
    register_source(ledger, Source(name="web", type=DataType.web_crawl))
    with pytest.raises(SourceError, match=r"no source named 'wbe' \(registered: web\)"):
        find_source(ledger, "wbe")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "synthetic"}, "needs the generating model"),
        ({"type": "web_crawl", "generator_model": "m"}, "only recorded for synthetic"),
        ({"type": "other", "period_start": date(2026, 5, 1), "period_end": date(2026, 4, 1)}, "ends"),
        ({"type": "podcasts"}, "Input should be"),
    ],
)
def test_inconsistent_sources_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Source.model_validate({"name": "x", **fields})


def test_cli_source_add_list_show(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert kiroku("init", str(ws), "--org", "Test").returncode == 0
    added = kiroku(
        "source", "add", "acme-web", "--type", "web_crawl", "--origin", "AcmeBot/1.0",
        "--from", "2026-04-01", "--to", "2026-06-30", "--personal-data", "--copyrighted", cwd=ws,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "Registered source acme-web (web_crawl) as record 0" in added.stdout
    shown = json.loads(kiroku("source", "show", "acme-web", "--json", cwd=ws).stdout)
    assert shown["period_start"] == "2026-04-01" and shown["personal_data"] is True
    listed = json.loads(kiroku("source", "list", "--json", cwd=ws).stdout)
    assert [s["name"] for s in listed] == ["acme-web"]


def test_cli_source_add_refuses_bad_input_with_one_line(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    kiroku("init", str(ws), "--org", "Test")
    for args, message in [
        (["synth", "--type", "synthetic"], "needs the generating model (--generator)"),
        (["x", "--type", "other", "--from", "April"], "--from 'April' is not a date"),
        (["bad name", "--type", "other"], "a source name is"),
    ]:
        result = kiroku("source", "add", *args, cwd=ws)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            f"kiroku: error: {result.stderr.strip().split(': ', 2)[2]}"
        ]
        assert message in result.stderr
    assert json.loads(kiroku("log", "show", "--json", cwd=ws).stdout)["size"] == 0
