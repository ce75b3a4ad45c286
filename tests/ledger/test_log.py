"""The ledger as a specification, run against every store backend (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from kiroku.ledger import (
    CheckpointError,
    InvalidRecord,
    Ledger,
    NotFound,
    RetentionPolicy,
    Signer,
    StoreError,
    UnknownKind,
    VerificationError,
    VerifiedInclusion,
    merkle,
    prepare,
    verify_bundle,
)
from kiroku.ledger import store as tables
from kiroku.ledger.records import Entry, canonical_json
from kiroku.ledger.retention import Period

ORIGIN = "test.kiroku/ledger"


@pytest.fixture
def ledger(store_url: str) -> Ledger:
    return Ledger.create(store_url, ORIGIN)


@pytest.fixture
def signer() -> Signer:
    return Signer.generate(ORIGIN)


def leaf_data(ledger: Ledger) -> list[bytes]:
    return [r.entry.leaf_data() for r in ledger.records()]


def event(i: int) -> dict[str, object]:
    return {"event": "fetched", "url": f"https://example.com/{i}", "bytes": 1000 + i}


def test_a_new_ledger_is_empty_with_the_empty_root(ledger: Ledger) -> None:
    assert ledger.size == 0
    assert ledger.root() == merkle.root([])


def test_append_returns_consecutive_indexes(ledger: Ledger) -> None:
    assert [ledger.append("note", event(i)) for i in range(5)] == [0, 1, 2, 3, 4]
    assert ledger.size == 5


def test_root_equals_the_rfc9162_root_of_the_leaves_at_every_size(ledger: Ledger) -> None:
    ledger.append_many((prepare("note", event(i)) for i in range(70)), batch_size=9)
    data = leaf_data(ledger)
    for size in range(71):
        assert ledger.root(size) == merkle.root(data[:size])


def test_inclusion_proofs_equal_the_reference_and_verify(ledger: Ledger) -> None:
    ledger.append_many(prepare("note", event(i)) for i in range(37))
    data = leaf_data(ledger)
    for size in (1, 2, 5, 16, 17, 37):
        for index in range(size):
            proof = ledger.inclusion_proof(index, size)
            assert proof == merkle.inclusion_proof(data, index, size)
            assert merkle.verify_inclusion(
                merkle.leaf_hash(data[index]), index, size, proof, ledger.root(size)
            )


def test_consistency_proofs_equal_the_reference_and_verify(ledger: Ledger) -> None:
    ledger.append_many(prepare("note", event(i)) for i in range(33))
    data = leaf_data(ledger)
    for size1 in range(1, 34, 4):
        for size2 in range(size1, 34, 3):
            proof = ledger.consistency_proof(size1, size2)
            assert proof == merkle.consistency_proof(data, size1, size2)
            assert merkle.verify_consistency(size1, size2, ledger.root(size1), ledger.root(size2), proof)


def test_a_leaf_commits_to_kind_time_and_the_canonical_body_digest(ledger: Ledger) -> None:
    index = ledger.append("note", {"b": 1, "a": "x"}, time="2026-04-01T09:00:00+09:00")
    record = ledger.record(index)
    assert record.entry.time == "2026-04-01T00:00:00.000000Z"
    assert record.body == b'{"a":"x","b":1}'
    assert record.entry.leaf_data() == canonical_json(
        {"body_sha256": record.entry.body_sha256.hex(), "kind": "note", "time": "2026-04-01T00:00:00.000000Z"}
    )
    assert record.leaf_hash == merkle.leaf_hash(record.entry.leaf_data())


def test_batched_appends_are_atomic_per_batch(ledger: Ledger) -> None:
    appended = ledger.append_many((prepare("note", event(i)) for i in range(25)), batch_size=10)
    assert appended == range(0, 25)
    assert [r.body_json() for r in ledger.records()] == [event(i) for i in range(25)]


def test_unknown_kind_is_refused_and_nothing_is_appended(ledger: Ledger) -> None:
    with pytest.raises(UnknownKind, match="unknown record kind 'crawl'"):
        ledger.append("crawl", {"x": 1})
    assert ledger.size == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"n": 2**60}, "integer out of the range"),
        ({"x": float("nan")}, "NaN"),
    ],
)
def test_values_json_cannot_carry_exactly_are_refused(
    ledger: Ledger, body: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidRecord, match=message):
        ledger.append("note", body)
    assert ledger.size == 0


def test_a_time_without_timezone_is_refused(ledger: Ledger) -> None:
    with pytest.raises(InvalidRecord, match="no timezone"):
        ledger.append("note", {"x": 1}, time="2026-04-01T09:00:00")


def test_checkpoint_signs_the_current_size_and_root(ledger: Ledger, signer: Signer) -> None:
    ledger.append_many(prepare("note", event(i)) for i in range(3))
    signed = ledger.checkpoint(signer)
    assert (signed.size, signed.root_hash) == (3, ledger.root())
    assert signed.note.startswith(f"{ORIGIN}\n3\n")
    assert ledger.checkpoints() == [signed]


def test_checkpoint_again_without_new_records_returns_the_same_checkpoint(
    ledger: Ledger, signer: Signer
) -> None:
    ledger.append("note", event(0))
    assert ledger.checkpoint(signer) == ledger.checkpoint(signer)
    assert len(ledger.checkpoints()) == 1


def test_checkpoint_of_an_empty_log_is_refused(ledger: Ledger, signer: Signer) -> None:
    with pytest.raises(CheckpointError, match="empty"):
        ledger.checkpoint(signer)


def test_checkpoint_with_another_logs_key_is_refused(ledger: Ledger) -> None:
    ledger.append("note", event(0))
    with pytest.raises(CheckpointError, match="not this log"):
        ledger.checkpoint(Signer.generate("other.kiroku/ledger"))


def test_checkpoint_refuses_to_sign_a_rewritten_history(ledger: Ledger, signer: Signer) -> None:
    ledger.append_many(prepare("note", event(i)) for i in range(8))
    ledger.checkpoint(signer)
    with ledger.engine.begin() as conn:  # rewrite history: change the top node, the signed root's only input
        order = conn.execute(select(func.max(tables.nodes.c.ord))).scalar_one()
        conn.execute(tables.nodes.update().where(tables.nodes.c.ord == order).values(hash=b"\x00" * 32))
    ledger.append("note", event(8))
    with pytest.raises(CheckpointError, match="refusing to sign"):
        ledger.checkpoint(signer)


def test_inclusion_bundle_verifies_with_only_the_public_key(ledger: Ledger, signer: Signer) -> None:
    ledger.append_many(prepare("note", event(i)) for i in range(11))
    ledger.checkpoint(signer)
    bundle = ledger.prove(6, verifier=signer.verifier())
    result = verify_bundle(bundle.to_json(), signer.verifier())
    assert (result.index, result.tree_size, result.body_included) == (6, 11, True)  # type: ignore[union-attr]


def test_inclusion_bundle_without_body_still_verifies(ledger: Ledger, signer: Signer) -> None:
    ledger.append_many(prepare("note", event(i)) for i in range(4))
    ledger.checkpoint(signer)
    bundle = ledger.prove(2, verifier=signer.verifier(), include_body=False)
    assert json.loads(bundle.to_json())["body"] is None
    assert verify_bundle(bundle.to_json(), signer.verifier()).body_included is False  # type: ignore[union-attr]


def test_prove_against_an_older_checkpoint(ledger: Ledger, signer: Signer) -> None:
    ledger.append_many(prepare("note", event(i)) for i in range(5))
    old = ledger.checkpoint(signer)
    ledger.append_many(prepare("note", event(i)) for i in range(5, 9))
    ledger.checkpoint(signer)
    bundle = ledger.prove(3, verifier=signer.verifier(), checkpoint=old.note)
    assert bundle.tree_size == 5
    verify_bundle(bundle, signer.verifier())


def test_prove_needs_a_checkpoint_covering_the_record(ledger: Ledger, signer: Signer) -> None:
    ledger.append("note", event(0))
    ledger.checkpoint(signer)
    ledger.append("note", event(1))
    with pytest.raises(CheckpointError, match="run 'kiroku log checkpoint' first"):
        ledger.prove(1, verifier=signer.verifier())


def test_prove_refuses_a_checkpoint_signed_by_another_key(ledger: Ledger, signer: Signer) -> None:
    ledger.append("note", event(0))
    forged = Ledger.create("sqlite://", ORIGIN)
    forged.append("note", event(0))
    other = forged.checkpoint(Signer.generate(ORIGIN))
    with pytest.raises(CheckpointError, match="cannot be used with this log"):
        ledger.prove(0, verifier=signer.verifier(), checkpoint=other.note)


def test_prove_of_a_missing_record_is_not_found(ledger: Ledger, signer: Signer) -> None:
    with pytest.raises(NotFound):
        ledger.prove(0, verifier=signer.verifier())


def test_consistency_bundle_between_two_checkpoints_verifies(ledger: Ledger, signer: Signer) -> None:
    ledger.append_many(prepare("note", event(i)) for i in range(6))
    ledger.checkpoint(signer)
    ledger.append_many(prepare("note", event(i)) for i in range(6, 19))
    ledger.checkpoint(signer)
    result = verify_bundle(ledger.prove_consistency(6, 19).to_json(), signer.verifier())
    assert (result.old.size, result.new.size) == (6, 19)  # type: ignore[union-attr]


def test_full_verify_reports_what_it_checked(ledger: Ledger, signer: Signer) -> None:
    ledger.append_many(prepare("note", event(i)) for i in range(21))
    ledger.checkpoint(signer)
    report = ledger.verify(signer.verifier())
    assert (report.size, report.nodes, report.bodies, report.checkpoints) == (21, 21 - 3, 21, 1)
    assert report.root_hash == ledger.root()


def test_reopening_checks_the_origin(store_url: str) -> None:
    Ledger.create(store_url, ORIGIN).close()
    assert Ledger.open(store_url).origin == ORIGIN
    with pytest.raises(StoreError, match="not 'other/log'"):
        Ledger.open(store_url, origin="other/log")


def test_creating_twice_in_one_database_is_refused(store_url: str) -> None:
    Ledger.create(store_url, ORIGIN).close()
    with pytest.raises(StoreError, match="already holds the ledger"):
        Ledger.create(store_url, ORIGIN)


def test_expire_deletes_due_bodies_keeps_proofs_and_logs_the_expiry(store_url: str, signer: Signer) -> None:
    ledger = Ledger.create(store_url, ORIGIN, RetentionPolicy(default=Period(days=30)))
    ledger.append("note", event(0), time="2026-01-01T00:00:00Z")
    ledger.append("note", event(1), time="2026-03-01T00:00:00Z")
    assert ledger.record(0).expires_at == "2026-01-31T00:00:00.000000Z"
    assert ledger.expire(datetime(2026, 2, 15, tzinfo=UTC)) == 1
    assert ledger.record(0).body is None and ledger.record(1).body is not None
    assert ledger.record(2).entry.kind == "retention.expired"
    assert ledger.record(2).body_json() == {
        "count": 1,
        "cutoff": "2026-02-15T00:00:00.000000Z",
        "index_runs": [[0, 0]],
        "policy": {"default": "P30D"},
    }
    ledger.checkpoint(signer)
    verified = verify_bundle(ledger.prove(0, verifier=signer.verifier()), signer.verifier())
    assert isinstance(verified, VerifiedInclusion) and verified.body_included is False
    assert ledger.verify(signer.verifier()).expired_bodies == 1


def test_entry_json_round_trip() -> None:
    entry = Entry("note", "2026-01-01T00:00:00.000000Z", b"\x01" * 32)
    assert entry.to_json()["body_sha256"] == "01" * 32


def test_expire_dry_run_counts_and_deletes_nothing(store_url: str) -> None:
    ledger = Ledger.create(store_url, ORIGIN, RetentionPolicy(default=Period(days=30)))
    ledger.append("note", event(0), time="2026-01-01T00:00:00Z")
    assert ledger.expire(datetime(2026, 6, 1, tzinfo=UTC), dry_run=True) == 1
    assert ledger.record(0).body is not None and ledger.size == 1


def test_expire_keeps_bodies_a_longer_current_policy_still_protects(store_url: str) -> None:
    Ledger.create(store_url, ORIGIN, RetentionPolicy(default=Period(days=30))).append(
        "note", event(0), time="2026-01-01T00:00:00Z"
    )
    ledger = Ledger.open(store_url, retention=RetentionPolicy(default=Period(years=1)))
    assert ledger.expire(datetime(2026, 6, 1, tzinfo=UTC)) == 0
    assert ledger.record(0).body is not None


def test_the_logs_own_expiry_records_are_kept_forever(store_url: str) -> None:
    ledger = Ledger.create(store_url, ORIGIN, RetentionPolicy(default=Period(days=1)))
    ledger.append("note", event(0), time="2026-01-01T00:00:00Z")
    ledger.expire(datetime(2026, 2, 1, tzinfo=UTC))
    assert ledger.record(1).expires_at is None
    assert ledger.expire(datetime(2099, 1, 1, tzinfo=UTC)) == 0


def test_verify_catches_a_body_deleted_outside_a_logged_expiry(store_url: str, signer: Signer) -> None:
    ledger = Ledger.create(store_url, ORIGIN, RetentionPolicy(default=Period(days=1)))
    ledger.append_many(prepare("note", event(i), "2026-01-01T00:00:00Z") for i in range(3))
    ledger.expire(datetime(2026, 2, 1, tzinfo=UTC))
    ledger.append("note", event(3), time="2026-01-01T00:00:00Z")
    with ledger.engine.begin() as conn:  # delete a due body as expire would, but without logging it
        conn.execute(
            tables.bodies.update()
            .where(tables.bodies.c.idx == 4)
            .values(body=None, expired_at="2026-03-01T00:00:00.000000Z")
        )
    with pytest.raises(
        VerificationError, match=r"record 4: its body is gone but no retention\.expired record"
    ):
        ledger.verify(signer.verifier())


def test_verify_catches_a_body_deleted_with_its_retention_end_moved_earlier(
    store_url: str, signer: Signer
) -> None:
    ledger = Ledger.create(store_url, ORIGIN, RetentionPolicy(default=Period(days=1)))
    ledger.append("note", event(0), time="2026-01-30T00:00:00Z")
    ledger.append("note", event(1), time="2026-01-01T00:00:00Z")
    ledger.expire(datetime(2026, 1, 30, 12, tzinfo=UTC))  # deletes record 1's body only
    with ledger.engine.begin() as conn:  # move record 0's end earlier and delete its body
        expiry = tables.bodies.c.idx == 2
        body = json.loads(conn.execute(select(tables.bodies.c.body).where(expiry)).scalar_one())
        assert body["index_runs"] == [[1, 1]]
        conn.execute(
            tables.bodies.update()
            .where(tables.bodies.c.idx == 0)
            .values(
                body=None, expires_at="2026-01-01T00:00:00.000000Z", expired_at="2026-01-30T12:00:00.000000Z"
            )
        )
    with pytest.raises(
        VerificationError, match=r"record 0: its body is gone but no retention\.expired record"
    ):
        ledger.verify(signer.verifier())
