"""Crash safety of the ledger, as a specification, on every store backend.

A child process appends through the public API (`Workspace.open(path).ledger()`): single records, batches of
varying size and the occasional signed checkpoint. The test kills it with SIGKILL at random moments. After every
kill the ledger must still pass the real ``kiroku log verify``, its leaves must be exactly ``0..size-1`` with
``log_state.size`` equal to their number, and no record whose append had returned may be lost.

The child writes the log size after each append it saw commit to an acknowledgement file, one line per commit,
with a ``write`` per line: those lines survive the kill (they are in the kernel, not in the process).
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from kiroku.ledger import prepare
from kiroku.workspace import Workspace
from tests.conftest import kiroku

KILLS = 50
VERIFY_RUNS = 20
SEED = 0x6B69726F6B75  # "kiroku": the kill moments and the children's choices are reproducible
READY_TIMEOUT = 60.0

APPENDER = r"""
import random
import sys
from pathlib import Path

from kiroku.ledger import prepare
from kiroku.workspace import Workspace

workspace, acks, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rng = random.Random(seed)
ws = Workspace.open(workspace)
signer = ws.signer()
ledger = ws.ledger()
ack = open(acks, "w", buffering=1)
print("ready", flush=True)
n = 0
while True:
    roll = rng.random()
    if roll < 0.4:
        index = ledger.append("note", {"run": seed, "n": n})
        n += 1
        ack.write(f"{index + 1}\n")
    elif roll < 0.95:
        count = rng.choice((2, 3, 5, 8, 13))
        records = [prepare("note", {"run": seed, "n": n + k}) for k in range(count)]
        n += count
        done = ledger.append_many(records, batch_size=rng.choice((count, max(1, count // 3))))
        ack.write(f"{done.stop}\n")
    else:
        ack.write(f"{ledger.checkpoint(signer).size}\n")
"""

WRITER = r"""
import json
import random
import sys
from pathlib import Path

from kiroku.ledger import prepare
from kiroku.workspace import Workspace

workspace, writer, singles = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rng = random.Random(writer)
ws = Workspace.open(workspace)
signer = ws.signer()
ledger = ws.ledger()
print("ready", flush=True)
sys.stdin.readline()  # start together
transactions = []
n = 0
for i in range(singles):
    transactions.append([ledger.append("note", {"writer": writer, "n": n})])
    n += 1
    if i % 20 == 19:
        count = rng.randint(2, 40)
        done = ledger.append_many([prepare("note", {"writer": writer, "n": n + k}) for k in range(count)])
        transactions.append(list(done))
        n += count
    if i % 50 == 49:
        ledger.checkpoint(signer)
print(json.dumps(transactions), flush=True)
"""


@pytest.fixture
def db(store_url: str) -> Iterator[Engine]:
    """The ledger's database, read with plain SQL (not through kiroku)."""
    engine = create_engine(store_url)
    yield engine
    engine.dispose()


def column(db: Engine, sql: str) -> list[int]:
    with db.connect() as conn:
        return [int(value) for value in conn.execute(text(sql)).scalars()]


def stored_size(db: Engine) -> int:
    return column(db, "SELECT size FROM log_state")[0]


def start(script: Path, *args: str, stderr: Path) -> subprocess.Popen[str]:
    """Start a child Python script and wait until it prints ``ready`` (its imports and opening are done)."""
    with stderr.open("w") as err:
        child = subprocess.Popen(
            [sys.executable, str(script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    assert child.stdout is not None
    readable, _, _ = select.select([child.stdout], [], [], READY_TIMEOUT)
    line = child.stdout.readline() if readable else ""
    if line.strip() != "ready":
        child.kill()
        child.wait()
        pytest.fail(f"the child did not start: {stderr.read_text()}")
    return child


def sigkill(child: subprocess.Popen[str]) -> None:
    """SIGKILL the child: no handler, no cleanup, no flush."""
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            pipe.close()


def acknowledged(acks: Path) -> int:
    """The largest log size the killed child saw committed (complete lines only)."""
    lines = acks.read_text().split("\n")[:-1] if acks.exists() else []
    return max((int(line) for line in lines), default=0)


def verify(workspace: Path) -> subprocess.CompletedProcess[str]:
    return kiroku("-w", str(workspace), "log", "verify")


@pytest.mark.slow
def test_sigkill_at_random_moments_never_breaks_the_log_nor_loses_a_committed_record(
    workspace: Path, db: Engine, tmp_path: Path
) -> None:
    script = tmp_path / "appender.py"
    script.write_text(APPENDER)
    rng = random.Random(SEED)
    previous = 0
    for run in range(KILLS):
        acks, stderr = tmp_path / f"acks-{run}.txt", tmp_path / f"stderr-{run}.txt"
        child = start(script, str(workspace), str(acks), str(SEED + run), stderr=stderr)
        time.sleep(rng.uniform(0.05, 0.6))
        assert child.poll() is None, f"kill {run}: the appender stopped by itself: {stderr.read_text()}"
        sigkill(child)

        result = verify(workspace)
        assert result.returncode == 0, f"kill {run}: {result.stdout}{result.stderr}"
        size = stored_size(db)
        assert column(db, "SELECT idx FROM leaves ORDER BY idx") == list(range(size)), f"kill {run}"
        assert column(db, "SELECT idx FROM bodies ORDER BY idx") == list(range(size)), f"kill {run}"
        assert size >= acknowledged(acks), f"kill {run}: a record whose append returned was lost"
        assert size >= previous, f"kill {run}: the log shrank from {previous} to {size}"
        previous = size
    assert previous > 0
    assert column(db, "SELECT COUNT(*) FROM checkpoints")[0] > 0, "no kill run signed a checkpoint"


@pytest.mark.slow
def test_two_processes_appending_at_once_get_distinct_indexes_and_the_log_verifies(
    workspace: Path, db: Engine, tmp_path: Path
) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    writers = {
        name: start(script, str(workspace), name, "200", stderr=tmp_path / f"stderr-{name}.txt")
        for name in ("a", "b")
    }
    for child in writers.values():
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    transactions: dict[str, list[list[int]]] = {}
    for name, child in writers.items():
        stdout, _ = child.communicate(timeout=300)
        assert child.returncode == 0, (tmp_path / f"stderr-{name}.txt").read_text()
        transactions[name] = json.loads(stdout)

    size = stored_size(db)
    got = {name: [i for t in done for i in t] for name, done in transactions.items()}
    assert sorted(got["a"] + got["b"]) == list(range(size))
    assert column(db, "SELECT idx FROM leaves ORDER BY idx") == list(range(size))
    with db.connect() as conn:
        bodies = {
            int(idx): json.loads(bytes(body))
            for idx, body in conn.execute(text("SELECT idx, body FROM bodies"))
        }
    for name, indexes in got.items():
        assert indexes == sorted(indexes), f"writer {name}'s indexes go backwards"
        assert [bodies[i] for i in indexes] == [{"writer": name, "n": n} for n in range(len(indexes))]
    result = verify(workspace)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_verify_passes_while_another_process_appends(workspace: Path, tmp_path: Path) -> None:
    script = tmp_path / "appender.py"
    script.write_text(APPENDER)
    child = start(
        script, str(workspace), str(tmp_path / "acks.txt"), str(SEED), stderr=tmp_path / "stderr.txt"
    )
    try:
        for run in range(VERIFY_RUNS):
            result = verify(workspace)
            assert result.returncode == 0, f"verify {run} during appends: {result.stdout}{result.stderr}"
    finally:
        sigkill(child)
    assert acknowledged(tmp_path / "acks.txt") > 0


# A trigger that fails the insert of the record logging an expiry: the state it leaves is the state a crash
# leaves between the transaction that deletes the bodies and the one that logs it.
FAIL_LOGGING_THE_EXPIRY = {
    "sqlite": [
        "CREATE TRIGGER simulated_crash BEFORE INSERT ON leaves WHEN NEW.kind = 'retention.expired' "
        "BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION simulated_crash() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RAISE EXCEPTION 'simulated crash'; END $$",
        "CREATE TRIGGER simulated_crash BEFORE INSERT ON leaves FOR EACH ROW "
        "WHEN (NEW.kind = 'retention.expired') EXECUTE FUNCTION simulated_crash()",
    ],
}


def test_an_expiry_interrupted_before_it_is_logged_deletes_no_body(workspace: Path, db: Engine) -> None:
    config = workspace / "kiroku.toml"
    config.write_text(config.read_text().replace('default = "P10Y"', 'default = "P1D"'))
    with Workspace.open(workspace).ledger() as ledger:
        ledger.append_many(prepare("note", {"n": n}) for n in range(10))
    with db.begin() as conn:
        for statement in FAIL_LOGGING_THE_EXPIRY[db.dialect.name]:
            conn.exec_driver_sql(statement)

    result = kiroku("-w", str(workspace), "log", "expire", "--now", "2100-01-01T00:00:00Z")
    assert result.returncode != 0, result.stdout
    deleted = column(db, "SELECT COUNT(*) FROM bodies WHERE body IS NULL")[0]
    logged = column(db, "SELECT COUNT(*) FROM leaves WHERE kind = 'retention.expired'")[0]
    assert deleted == 0 or logged == 1, f"{deleted} bodies were deleted and the log does not say so"
