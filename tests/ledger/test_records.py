"""Records: canonical bodies, strict JSON, times, kinds; retention periods."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from kiroku.ledger import (
    Entry,
    InvalidRecord,
    Period,
    RetentionPolicy,
    kinds,
    parse_json_object,
    prepare,
    register_kind,
)
from kiroku.ledger.records import format_time


def test_canonical_body_sorts_keys_and_drops_whitespace() -> None:
    record = prepare("note", {"z": [1, {"b": 2, "a": "日本"}], "a": 1.5}, "2026-01-01T00:00:00Z")
    assert record.body == '{"a":1.5,"z":[1,{"a":"日本","b":2}]}'.encode()


def test_the_same_body_in_any_key_order_has_the_same_digest() -> None:
    one = prepare("note", {"a": 1, "b": 2}, "2026-01-01T00:00:00Z")
    two = prepare("note", {"b": 2, "a": 1}, "2026-01-01T00:00:00Z")
    assert one.entry == two.entry


def test_times_are_normalised_to_utc_microseconds() -> None:
    assert prepare("note", {}, "2026-04-01T09:00:00+09:00").entry.time == "2026-04-01T00:00:00.000000Z"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": NaN}', "NaN is not valid JSON"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ("[1]", "must be a JSON object"),
        ('{"a": 1,\n"b": }', "line 2 column 6"),
    ],
)
def test_strict_json_parsing_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(InvalidRecord, match=message):
        parse_json_object(text, source="r.json")


def test_typed_kinds_validate_their_fields() -> None:
    class Crawl(BaseModel):
        agent: str
        pages: int

    register_kind("test.crawl", Crawl)
    assert "test.crawl" in kinds()
    with pytest.raises(InvalidRecord, match="field 'pages'"):
        prepare("test.crawl", {"agent": "AcmeBot", "pages": "many"})


def test_a_kind_name_cannot_be_taken_twice() -> None:
    class Other(BaseModel):
        x: int

    with pytest.raises(ValueError, match="already registered"):
        register_kind("note", Other)


@pytest.mark.parametrize(
    ("text", "period"),
    [("P10Y", Period(10)), ("P18M", Period(0, 18)), ("P90D", Period(0, 0, 90)), ("p1y2m3d", Period(1, 2, 3))],
)
def test_retention_periods_parse(text: str, period: Period) -> None:
    assert Period.parse(text) == period


@pytest.mark.parametrize("text", ["10 years", "P", "PT1H", "P-1Y", ""])
def test_bad_retention_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not like"):
        Period.parse(text)


def test_retention_ends_on_the_calendar_date_clamped_to_month_end() -> None:
    assert Period(months=1).after(datetime(2026, 1, 31, tzinfo=UTC)) == datetime(2026, 2, 28, tzinfo=UTC)
    assert Period(years=1).after(datetime(2028, 2, 29, tzinfo=UTC)) == datetime(2029, 2, 28, tzinfo=UTC)


def test_retention_policy_per_kind_and_forever() -> None:
    policy = RetentionPolicy.from_mapping({"default": "P10Y", "kinds": {"note": "forever"}})
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert policy.expires_at("note", start) is None
    assert policy.expires_at("crawl", start) == datetime(2036, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="unknown setting"):
        RetentionPolicy.from_mapping({"defualt": "P1Y"})


@given(
    st.from_regex(r"[a-z][a-z0-9_.]{0,20}", fullmatch=True),
    st.datetimes(timezones=st.just(UTC)),
    st.binary(min_size=32, max_size=32),
)
def test_leaf_data_is_the_rfc8785_form_of_the_entry(kind: str, time: datetime, digest: bytes) -> None:
    entry = Entry(kind, format_time(time), digest)
    expected = rfc8785.dumps({"body_sha256": digest.hex(), "kind": kind, "time": entry.time})
    assert entry.leaf_data() == expected
    odd = Entry('we"ird', entry.time, digest)  # a tampered row still gets the exact canonical form
    assert odd.leaf_data() == rfc8785.dumps(
        {"body_sha256": digest.hex(), "kind": 'we"ird', "time": entry.time}
    )
