"""Model releases: when a version went into which service and when it left; models in use over a period."""

from __future__ import annotations

import json
from datetime import date
from functools import partial
from pathlib import Path

import pytest

from kiroku.catalog import DataType, Source, register_source
from kiroku.catalog.releases import (
    ModelRelease,
    ModelVersion,
    ReleaseAction,
    ReleaseError,
    ServicePeriod,
    list_releases,
    model_versions,
    models_in_service,
    record_release,
    service_periods,
)
from kiroku.catalog.runs import parse_run, record_run
from kiroku.ingest import ingest_files, read_jsonl
from kiroku.ledger import Ledger
from tests.conftest import kiroku

WITHDRAW = ReleaseAction.withdraw
RUN = """
name = "pt"
model = "acme-lm"
version = "{version}"
methods = ["pre-training"]
training_tokens = 1000
start = 2026-01-01
end = 2026-01-31
weight_unit = "epochs"
[architecture]
family = "decoder-only transformer"
parameters = 100
[[data_mix]]
catalog = true
weight = 1
"""


@pytest.fixture
def ledger(store_url: str, tmp_path: Path) -> Ledger:
    """A ledger with one source, one document, and a training run for acme-lm@1.0."""
    ledger = Ledger.create(store_url, "test.kiroku/ledger")
    register_source(ledger, Source(name="web", type=DataType.web_crawl))
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "one document"}\n')
    ingest_files(ledger, tmp_path / "catalog", "web", [data], partial(read_jsonl))
    record_run(ledger, parse_run(RUN.format(version="1.0")))
    return ledger


def d(text: str) -> date:
    return date.fromisoformat(text)


def test_a_release_names_the_training_runs_of_its_version(ledger: Ledger) -> None:
    ((run_index, _),) = [(r.index, r) for r in ledger.records_of_kind("training.run")]
    index, event = record_release(
        ledger, "acme-lm", "1.0", "chat", on=d("2026-02-01"), notes="general availability"
    )
    assert event == ModelRelease(
        model="acme-lm", version="1.0", service="chat", date=d("2026-02-01"), action=ReleaseAction.release,
        runs=[run_index], notes="general availability",
    )  # fmt: skip
    assert ledger.record(index).entry.kind == "model.release"
    assert ModelRelease.model_validate(ledger.record(index).body_json()) == event
    _, other = record_release(ledger, "other-lm", "3", "chat", on=d("2026-02-01"))
    assert other.runs == []


def test_release_and_withdrawal_make_periods_in_each_service(ledger: Ledger) -> None:
    first, _ = record_release(ledger, "acme-lm", "1.0", "chat", on=d("2026-02-01"))
    api, _ = record_release(ledger, "acme-lm", "1.0", "api", on=d("2026-02-10"))
    out, _ = record_release(ledger, "acme-lm", "1.0", "chat", on=d("2026-05-01"), action=WITHDRAW)
    again, _ = record_release(ledger, "acme-lm", "1.0", "chat", on=d("2026-06-01"))
    runs = (next(ledger.records_of_kind("training.run")).index,)
    assert service_periods(ledger) == [
        ServicePeriod("acme-lm", "1.0", "chat", d("2026-02-01"), first, runs, d("2026-05-01"), out),
        ServicePeriod("acme-lm", "1.0", "api", d("2026-02-10"), api, runs),
        ServicePeriod("acme-lm", "1.0", "chat", d("2026-06-01"), again, runs),
    ]
    assert [e.action for _, e in list_releases(ledger)] == ["release", "release", "withdraw", "release"]


def test_withdrawing_a_version_never_released_in_that_service_is_refused(ledger: Ledger) -> None:
    record_release(ledger, "acme-lm", "1.0", "chat", on=d("2026-02-01"))
    size = ledger.size
    with pytest.raises(
        ReleaseError, match=r"^acme-lm@1\.0 was never released in service 'api'; nothing to withdraw$"
    ):
        record_release(ledger, "acme-lm", "1.0", "api", on=d("2026-03-01"), action=WITHDRAW)
    with pytest.raises(ReleaseError, match=r"^acme-lm@2\.0 was never released in service 'chat'"):
        record_release(ledger, "acme-lm", "2.0", "chat", on=d("2026-03-01"), action=WITHDRAW)
    assert ledger.size == size


def test_withdrawing_twice_or_releasing_twice_is_refused(ledger: Ledger) -> None:
    index, _ = record_release(ledger, "acme-lm", "1.0", "chat", on=d("2026-02-01"))
    with pytest.raises(ReleaseError, match=rf"already in service 'chat' since 2026-02-01 \(record {index}\)"):
        record_release(ledger, "acme-lm", "1.0", "chat", on=d("2026-02-05"))
    out, _ = record_release(ledger, "acme-lm", "1.0", "chat", on=d("2026-03-01"), action=WITHDRAW)
    with pytest.raises(
        ReleaseError, match=rf"already withdrawn from service 'chat' on 2026-03-01 \(record {out}\)"
    ):
        record_release(ledger, "acme-lm", "1.0", "chat", on=d("2026-03-02"), action=WITHDRAW)


def test_events_of_a_version_in_a_service_go_forward_in_date(ledger: Ledger) -> None:
    record_release(ledger, "acme-lm", "1.0", "chat", on=d("2026-02-01"))
    with pytest.raises(ReleaseError, match=r"has a later event in service 'chat': release on 2026-02-01"):
        record_release(ledger, "acme-lm", "1.0", "chat", on=d("2026-01-15"), action=WITHDRAW)
    record_release(ledger, "acme-lm", "1.0", "chat", on=d("2026-02-01"), action=WITHDRAW)  # same day is fine
    record_release(ledger, "acme-lm", "1.0", "other", on=d("2025-12-01"))  # another service has its own order


def test_models_in_service_over_a_reporting_period(ledger: Ledger) -> None:
    record_release(ledger, "acme-lm", "1.0", "chat", on=d("2025-06-01"))
    record_release(ledger, "acme-lm", "1.0", "chat", on=d("2026-03-31"), action=WITHDRAW)
    record_release(ledger, "acme-lm", "2.0", "chat", on=d("2026-04-01"))
    record_release(ledger, "old-lm", "0.9", "api", on=d("2024-01-01"))
    record_release(ledger, "old-lm", "0.9", "api", on=d("2025-01-01"), action=WITHDRAW)
    record_release(ledger, "next-lm", "1", "api", on=d("2027-01-01"))

    def in_use(start: str, end: str) -> list[tuple[str, str, date | None]]:
        return [(p.model, p.version, p.withdrawn) for p in models_in_service(ledger, d(start), d(end))]

    assert in_use("2026-01-01", "2026-12-31") == [
        ("acme-lm", "1.0", d("2026-03-31")),  # in use until it was replaced within the period
        ("acme-lm", "2.0", None),
    ]
    assert in_use("2025-01-01", "2025-05-31") == [("old-lm", "0.9", d("2025-01-01"))]  # withdrawn on day one
    assert in_use("2026-03-31", "2026-03-31") == [("acme-lm", "1.0", d("2026-03-31"))]
    assert in_use("2026-04-01", "2026-04-01") == [("acme-lm", "2.0", None)]
    with pytest.raises(ValueError, match="ends"):
        models_in_service(ledger, d("2026-02-01"), d("2026-01-01"))


def test_model_versions_list_runs_and_periods(ledger: Ledger) -> None:
    run = next(ledger.records_of_kind("training.run")).index
    record_release(ledger, "acme-lm", "1.0", "chat", on=d("2026-02-01"))
    record_run(ledger, parse_run(RUN.format(version="2.0")))
    record_release(ledger, "third-party", "x", "api", on=d("2026-03-01"))
    versions = model_versions(ledger)
    assert [(v.model, v.version, len(v.runs), [p.service for p in v.periods]) for v in versions] == [
        ("acme-lm", "1.0", 1, ["chat"]),
        ("acme-lm", "2.0", 1, []),
        ("third-party", "x", 0, ["api"]),
    ]
    in_march = model_versions(ledger, models_in_service(ledger, d("2026-03-01"), d("2026-03-31")))
    assert [(v.model, v.version) for v in in_march] == [("acme-lm", "1.0"), ("third-party", "x")]
    assert isinstance(in_march[0], ModelVersion) and in_march[0].runs == (run,)


def test_names_are_checked(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="service"):
        record_release(ledger, "acme-lm", "1.0", " ", on=d("2026-02-01"))


def test_cli_model_release_withdraw_and_list(workspace: Path) -> None:
    def model(*args: str) -> tuple[int, str, str]:
        result = kiroku("model", *args, cwd=workspace)
        return result.returncode, result.stdout, result.stderr

    code, out, _ = model("release", "acme-lm", "1.0", "--service", "chat", "--date", "2026-02-01")
    assert code == 0 and "Recorded release into service chat of acme-lm@1.0 on 2026-02-01 as record 0" in out
    assert "no training run recorded for acme-lm@1.0" in out
    code, _, err = model(
        "release", "acme-lm", "1.0", "--service", "api", "--withdraw", "--date", "2026-03-01"
    )
    assert code == 2 and err.strip() == (
        "kiroku: error: acme-lm@1.0 was never released in service 'api'; nothing to withdraw"
    )
    code, out, _ = model(
        "release", "acme-lm", "1.0", "--service", "chat", "--withdraw", "--date", "2026-03-01"
    )
    assert code == 0 and "withdrawal from service chat" in out
    assert model("release", "acme-lm", "2.0", "--service", "chat", "--date", "2026-03-01")[0] == 0
    code, _, err = model("release", "acme-lm", "2.0", "--service", "chat", "--date", "March")
    assert code == 2 and "--date 'March' is not a date like 2026-04-01" in err

    listed = json.loads(model("list", "--json")[1])
    assert listed == [
        {"model": "acme-lm", "version": "1.0", "runs": [], "services": [
            {"service": "chat", "released": "2026-02-01", "withdrawn": "2026-03-01", "release_record": 0,
             "withdraw_record": 1}]},
        {"model": "acme-lm", "version": "2.0", "runs": [], "services": [
            {"service": "chat", "released": "2026-03-01", "withdrawn": None, "release_record": 2,
             "withdraw_record": None}]},
    ]  # fmt: skip
    in_february = json.loads(model("list", "--from", "2026-02-01", "--to", "2026-02-28", "--json")[1])
    assert [v["version"] for v in in_february] == ["1.0"]
    table = model("list")[1]
    assert "acme-lm" in table and "2026-03-01" in table
