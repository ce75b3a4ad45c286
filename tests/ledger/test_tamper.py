"""Tamper evidence, as a specification, on every store backend.

A ledger of 40 records with checkpoints signed at sizes 13, 27 and 40 is altered with plain SQL (never through
kiroku): one byte of one value, or one row deleted or added. The real ``kiroku log verify`` must then exit 1 and
name what was altered: the record's index, the records under an interior node, or the checkpoint's size. Proof
bundles edited by one byte must fail ``kiroku verify``; bodies deleted by the retention policy must not break
anything, and bodies deleted any other way must be caught.

Hashes are recomputed here from RFC 9162 and RFC 8785 with hashlib and json, independently of kiroku.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from kiroku.ledger import prepare
from kiroku.workspace import Workspace
from tests.conftest import kiroku

RECORDS = 40
CHECKPOINTS = (13, 27, 40)
TARGET = 17  # the record altered, signed by the checkpoints at 27 and 40


def body_of(i: int) -> dict[str, Any]:
    return {"n": i, "text": f"record {i}"}


def build(workspace: Path) -> None:
    """Append RECORDS records through the public API, signing a checkpoint at each size in CHECKPOINTS."""
    ws = Workspace.open(workspace)
    signer = ws.signer()
    with ws.ledger() as ledger:
        done = 0
        for size in CHECKPOINTS:
            ledger.append_many(prepare("note", body_of(i)) for i in range(done, size))
            ledger.checkpoint(signer)
            done = size


@pytest.fixture
def ledger_ws(workspace: Path) -> Path:
    build(workspace)
    return workspace


@pytest.fixture
def short_retention_ws(workspace: Path) -> Path:
    """The same ledger, appended after kiroku.toml's retention was set to one day."""
    config = workspace / "kiroku.toml"
    before = config.read_text()
    assert 'default = "P10Y"' in before
    config.write_text(before.replace('default = "P10Y"', 'default = "P1D"'))
    build(workspace)
    return workspace


class Database:
    """The ledger's database, read and altered with plain SQL."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def value(self, sql: str, **params: Any) -> Any:
        rows = self.rows(sql, **params)
        assert len(rows) == 1, f"{sql}: {len(rows)} rows"
        value = rows[0][0]
        return bytes(value) if isinstance(value, bytes | memoryview) else value

    def change(self, sql: str, **params: Any) -> None:
        """Run one statement that must touch exactly one row."""
        with self.engine.begin() as conn:
            assert conn.execute(text(sql), params).rowcount == 1, sql


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = Database(store_url)
    yield database
    database.engine.dispose()


# -- one-byte changes and independent hashing ----------------------------------------------------------------------


def flip(data: bytes, at: int) -> bytes:
    """``data`` with the lowest bit of byte ``at`` flipped."""
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def other_char(c: str) -> str:
    """A different character of the same kind (digit, hex digit, base64), so the text still parses."""
    if c.isdigit():
        return str((int(c) + 1) % 10)
    if c in "abcdef":
        return "abcdef"[("abcdef".index(c) + 1) % 6]
    return "B" if c == "A" else "A"


def change_char(text_: str, at: int) -> str:
    changed = text_[:at] + other_char(text_[at]) + text_[at + 1 :]
    assert len(changed.encode()) == len(text_.encode())
    assert sum(a != b for a, b in zip(changed.encode(), text_.encode(), strict=True)) == 1
    return changed


def change_within(text_: str, part: str, offset: int) -> str:
    """``text_`` with one character changed, ``offset`` characters into its only occurrence of ``part``."""
    assert text_.count(part) == 1, part
    return change_char(text_, text_.index(part) + offset)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def canonical(value: dict[str, Any]) -> bytes:
    """RFC 8785 canonical JSON, for the plain ASCII objects used here."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def mth(leaf_hashes: list[bytes]) -> bytes:
    """RFC 9162 Merkle tree hash of leaf hashes."""
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = 1 << ((len(leaf_hashes) - 1).bit_length() - 1)
    return node_hash(mth(leaf_hashes[:k]), mth(leaf_hashes[k:]))


def stored_position(level: int, index: int) -> int:
    """Where kiroku stores the subtree ``(level, index)``: the order an append-only log completes subtrees in."""
    m = ((index + 1) << level) - 1
    return 2 * m - m.bit_count() + level


def leaf_hashes(db: Database) -> list[bytes]:
    return [bytes(h) for (h,) in db.rows("SELECT leaf_hash FROM leaves ORDER BY idx")]


def node_over(db: Database, first: int, last: int) -> bytes:
    """The stored hash of the interior node over records ``first..last``, found by its recomputed value."""
    expected = mth(leaf_hashes(db)[first : last + 1])
    assert db.value("SELECT COUNT(*) FROM nodes WHERE hash = :h", h=expected) == 1
    return expected


def checkpoint_note(db: Database, size: int) -> str:
    return str(db.value("SELECT note FROM checkpoints WHERE size = :s", s=size))


# -- running the real command --------------------------------------------------------------------------------------


def verify(workspace: Path) -> subprocess.CompletedProcess[str]:
    return kiroku("-w", str(workspace), "log", "verify")


def assert_caught(result: subprocess.CompletedProcess[str], *names: str) -> None:
    """``kiroku log verify`` exited 1 (does not verify) and its error names each of ``names``."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "OK" not in result.stdout
    for name in names:
        assert name in result.stderr, f"{name!r} not named in: {result.stderr}"


def test_the_untouched_ledger_verifies(ledger_ws: Path) -> None:
    result = verify(ledger_ws)
    assert result.returncode == 0, result.stderr
    assert f"{RECORDS} records" in result.stdout
    assert f"{len(CHECKPOINTS)} checkpoints" in result.stdout


# -- records -------------------------------------------------------------------------------------------------------


def test_one_byte_of_a_stored_body_changed_names_the_record(ledger_ws: Path, db: Database) -> None:
    body = db.value("SELECT body FROM bodies WHERE idx = :i", i=TARGET)
    db.change("UPDATE bodies SET body = :b WHERE idx = :i", b=flip(body, len(body) // 2), i=TARGET)
    assert_caught(verify(ledger_ws), f"record {TARGET}")


def test_one_byte_of_a_leaf_hash_changed_names_the_record(ledger_ws: Path, db: Database) -> None:
    leaf = db.value("SELECT leaf_hash FROM leaves WHERE idx = :i", i=TARGET)
    db.change("UPDATE leaves SET leaf_hash = :h WHERE idx = :i", h=flip(leaf, 7), i=TARGET)
    assert_caught(verify(ledger_ws), f"record {TARGET}")


@pytest.mark.parametrize("column", ["kind", "time"])
def test_one_byte_of_a_leaf_entry_text_changed_names_the_record(
    ledger_ws: Path, db: Database, column: str
) -> None:
    value = str(db.value(f"SELECT {column} FROM leaves WHERE idx = :i", i=TARGET))
    changed = change_char(value, len(value) - 2)
    db.change(f"UPDATE leaves SET {column} = :v WHERE idx = :i", v=changed, i=TARGET)
    assert_caught(verify(ledger_ws), f"record {TARGET}")


def test_one_byte_of_a_leaf_body_digest_changed_names_the_record(ledger_ws: Path, db: Database) -> None:
    digest = db.value("SELECT body_sha256 FROM leaves WHERE idx = :i", i=TARGET)
    db.change("UPDATE leaves SET body_sha256 = :d WHERE idx = :i", d=flip(digest, 0), i=TARGET)
    assert_caught(verify(ledger_ws), f"record {TARGET}")


def test_a_deleted_leaf_names_the_record(ledger_ws: Path, db: Database) -> None:
    db.change("DELETE FROM leaves WHERE idx = :i", i=TARGET)
    assert_caught(verify(ledger_ws), f"record {TARGET}")


def test_a_body_cleared_without_being_expired_names_the_record(ledger_ws: Path, db: Database) -> None:
    db.change("UPDATE bodies SET body = NULL WHERE idx = :i", i=TARGET)
    assert_caught(verify(ledger_ws), f"record {TARGET}")


def test_a_deleted_body_row_names_the_record(ledger_ws: Path, db: Database) -> None:
    db.change("DELETE FROM bodies WHERE idx = :i", i=TARGET)
    assert_caught(verify(ledger_ws), f"record {TARGET}")


def test_a_record_rewritten_with_every_hash_recomputed_is_caught_by_the_checkpoint_that_signed_it(
    ledger_ws: Path, db: Database
) -> None:
    record = 5  # under the first checkpoint, at size 13
    forged = canonical({"n": record, "text": "something else"})
    entry_time = db.value("SELECT time FROM leaves WHERE idx = :i", i=record)
    digest = sha256(forged)
    leaf = sha256(b"\x00" + canonical({"body_sha256": digest.hex(), "kind": "note", "time": entry_time}))
    db.change("UPDATE bodies SET body = :b WHERE idx = :i", b=forged, i=record)
    db.change("UPDATE leaves SET body_sha256 = :d, leaf_hash = :h WHERE idx = :i", d=digest, h=leaf, i=record)
    leaves = leaf_hashes(db)
    for level in range(1, RECORDS.bit_length()):
        for index in range(RECORDS >> level):
            subtree = leaves[index << level : (index + 1) << level]
            db.change(
                "UPDATE nodes SET hash = :h WHERE ord = :o", h=mth(subtree), o=stored_position(level, index)
            )
    assert_caught(verify(ledger_ws), "size 13")


def test_an_extra_body_beyond_the_log_is_caught(ledger_ws: Path, db: Database) -> None:
    db.change(
        "INSERT INTO bodies (idx, body, expires_at, expired_at) VALUES (:i, :b, NULL, NULL)",
        i=RECORDS,
        b=canonical(body_of(RECORDS)),
    )
    assert_caught(verify(ledger_ws), str(RECORDS))


def test_truncating_the_log_below_a_signed_checkpoint_is_caught(ledger_ws: Path, db: Database) -> None:
    keep = 30
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM leaves WHERE idx >= :k"), {"k": keep})
        conn.execute(text("DELETE FROM bodies WHERE idx >= :k"), {"k": keep})
        conn.execute(text("DELETE FROM nodes WHERE ord >= :o"), {"o": stored_position(0, keep)})
        conn.execute(text("UPDATE log_state SET size = :k"), {"k": keep})
    assert_caught(verify(ledger_ws), "size 40")


# -- interior nodes ------------------------------------------------------------------------------------------------


def test_one_byte_of_an_interior_node_changed_names_the_records_below_it(
    ledger_ws: Path, db: Database
) -> None:
    node = node_over(db, 16, 19)
    db.change("UPDATE nodes SET hash = :new WHERE hash = :old", new=flip(node, 31), old=node)
    assert_caught(verify(ledger_ws), "records 16..19")


def test_a_deleted_interior_node_names_the_records_below_it(ledger_ws: Path, db: Database) -> None:
    db.change("DELETE FROM nodes WHERE hash = :h", h=node_over(db, 16, 19))
    assert_caught(verify(ledger_ws), "records 16..19")


def test_an_extra_node_beyond_the_log_names_the_log_size(ledger_ws: Path, db: Database) -> None:
    db.change("INSERT INTO nodes (ord, hash) VALUES (:o, :h)", o=stored_position(3, 5), h=sha256(b"extra"))
    assert_caught(verify(ledger_ws), f"size {RECORDS}")


def test_an_extra_node_among_the_records_is_caught(ledger_ws: Path, db: Database) -> None:
    # every position below the log's end is taken by a stored node or a leaf: this is record 17's slot
    db.change(
        "INSERT INTO nodes (ord, hash) VALUES (:o, :h)", o=stored_position(0, TARGET), h=sha256(b"extra")
    )
    assert_caught(verify(ledger_ws))


def test_an_extra_node_among_the_records_names_the_record_whose_slot_it_takes(
    ledger_ws: Path, db: Database
) -> None:
    db.change(
        "INSERT INTO nodes (ord, hash) VALUES (:o, :h)", o=stored_position(0, TARGET), h=sha256(b"extra")
    )
    assert_caught(verify(ledger_ws), f"record {TARGET}")


def test_checkpoint_signs_new_records_when_nothing_was_altered(ledger_ws: Path, tmp_path: Path) -> None:
    append_lines(ledger_ws, tmp_path, 5)
    result = kiroku("-w", str(ledger_ws), "log", "checkpoint")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == str(RECORDS + 5)


def test_checkpoint_refuses_to_sign_new_records_after_an_interior_node_was_altered(
    ledger_ws: Path, db: Database, tmp_path: Path
) -> None:
    node = node_over(db, 32, 39)  # on the right edge: new records are appended beside it
    db.change("UPDATE nodes SET hash = :new WHERE hash = :old", new=flip(node, 0), old=node)
    append_lines(ledger_ws, tmp_path, 5)
    result = kiroku("-w", str(ledger_ws), "log", "checkpoint")
    assert result.returncode != 0, result.stdout
    assert "refusing to sign" in result.stderr
    assert db.value("SELECT MAX(size) FROM checkpoints") == RECORDS


def append_lines(workspace: Path, tmp_path: Path, count: int) -> None:
    records = tmp_path / "more.jsonl"
    records.write_text("".join(json.dumps(body_of(RECORDS + i)) + "\n" for i in range(count)))
    result = kiroku(
        "-w", str(workspace), "log", "append", "--kind", "note", "--file", str(records), "--lines"
    )
    assert result.returncode == 0, result.stderr


# -- checkpoints ---------------------------------------------------------------------------------------------------


def test_one_byte_of_a_checkpoint_signature_changed_names_its_size(ledger_ws: Path, db: Database) -> None:
    note = checkpoint_note(db, 27)
    signature = note.splitlines()[-1].split(" ")[-1]
    db.change(
        "UPDATE checkpoints SET note = :n WHERE size = 27",
        n=change_within(note, signature, len(signature) // 2),
    )
    assert_caught(verify(ledger_ws), "size 27")


def test_one_byte_of_a_checkpoint_root_line_changed_names_its_size(ledger_ws: Path, db: Database) -> None:
    note = checkpoint_note(db, 27)
    root_line = note.splitlines()[2]
    db.change("UPDATE checkpoints SET note = :n WHERE size = 27", n=change_within(note, root_line, 10))
    assert_caught(verify(ledger_ws), "size 27")


def test_one_byte_of_a_checkpoint_root_hash_column_changed_names_its_size(
    ledger_ws: Path, db: Database
) -> None:
    root = db.value("SELECT root_hash FROM checkpoints WHERE size = 27")
    db.change("UPDATE checkpoints SET root_hash = :r WHERE size = 27", r=flip(root, 3))
    assert_caught(verify(ledger_ws), "size 27")


# -- proof bundles -------------------------------------------------------------------------------------------------


def prove(workspace: Path, index: int, out: Path) -> dict[str, Any]:
    result = kiroku("-w", str(workspace), "log", "prove", str(index), "--out", str(out))
    assert result.returncode == 0, result.stderr
    bundle: dict[str, Any] = json.loads(out.read_text())
    return bundle


def verify_bundle_file(workspace: Path, bundle: Path) -> subprocess.CompletedProcess[str]:
    key = kiroku("-w", str(workspace), "log", "key")
    assert key.returncode == 0, key.stderr
    return kiroku("verify", str(bundle), "--key", key.stdout.strip())


def test_an_untouched_inclusion_bundle_verifies(ledger_ws: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    prove(ledger_ws, TARGET, bundle)
    result = verify_bundle_file(ledger_ws, bundle)
    assert result.returncode == 0, result.stderr
    assert f"record {TARGET}" in result.stdout


def _body(bundle: dict[str, Any]) -> tuple[str, int]:
    part = f'"text": "record {TARGET}"'
    return part, len(part) - 2


def _index(bundle: dict[str, Any]) -> tuple[str, int]:
    return f'"index": {TARGET}', len(f'"index": {TARGET}') - 1


def _digest(bundle: dict[str, Any]) -> tuple[str, int]:
    return bundle["entry"]["body_sha256"], 20


def _proof(bundle: dict[str, Any]) -> tuple[str, int]:
    return bundle["proof"][1], 10


def _checkpoint_root(bundle: dict[str, Any]) -> tuple[str, int]:
    return bundle["checkpoint"].split("\n")[2], 10


def _checkpoint_signature(bundle: dict[str, Any]) -> tuple[str, int]:
    signature = bundle["checkpoint"].split("\n")[-2].split(" ")[-1]
    return signature, len(signature) // 2


@pytest.mark.parametrize(
    "where",
    [_body, _index, _digest, _proof, _checkpoint_root, _checkpoint_signature],
    ids=lambda f: f.__name__[1:],
)
def test_an_inclusion_bundle_changed_by_one_byte_does_not_verify(
    ledger_ws: Path, tmp_path: Path, where: Any
) -> None:
    bundle = tmp_path / "bundle.json"
    part, offset = where(prove(ledger_ws, TARGET, bundle))
    bundle.write_text(change_within(bundle.read_text(), part, offset))
    result = verify_bundle_file(ledger_ws, bundle)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "OK" not in result.stdout


# -- retention -----------------------------------------------------------------------------------------------------

FAR_FUTURE = "2100-01-01T00:00:00Z"


def expire(workspace: Path) -> subprocess.CompletedProcess[str]:
    return kiroku("-w", str(workspace), "log", "expire", "--now", FAR_FUTURE)


def test_expiring_bodies_by_the_retention_policy_deletes_them(short_retention_ws: Path, db: Database) -> None:
    result = expire(short_retention_ws)
    assert result.returncode == 0, result.stderr
    assert f"Expired {RECORDS} record bodies" in result.stdout
    assert db.value("SELECT COUNT(*) FROM bodies WHERE idx < :n AND body IS NULL", n=RECORDS) == RECORDS


def test_the_ledger_still_verifies_after_bodies_expired(short_retention_ws: Path) -> None:
    assert expire(short_retention_ws).returncode == 0
    result = verify(short_retention_ws)
    assert result.returncode == 0, result.stderr
    assert f"({RECORDS} expired by retention)" in result.stdout


def test_a_proof_of_an_expired_record_still_verifies(short_retention_ws: Path, tmp_path: Path) -> None:
    assert expire(short_retention_ws).returncode == 0
    bundle = tmp_path / "bundle.json"
    assert prove(short_retention_ws, TARGET, bundle)["body"] is None
    result = verify_bundle_file(short_retention_ws, bundle)
    assert result.returncode == 0, result.stderr
    assert "digest only" in result.stdout


def test_a_body_cleared_before_its_retention_ended_names_the_record(
    short_retention_ws: Path, db: Database
) -> None:
    expires_at = db.value("SELECT expires_at FROM bodies WHERE idx = :i", i=TARGET)
    made_at = db.value("SELECT time FROM leaves WHERE idx = :i", i=TARGET)
    assert made_at < expires_at
    db.change("UPDATE bodies SET body = NULL, expired_at = :t WHERE idx = :i", t=made_at, i=TARGET)
    assert_caught(verify(short_retention_ws), f"record {TARGET}")
