"""Shared fixtures: a store URL for each backend, and a workspace made by the real ``kiroku init``.

PostgreSQL tests run when KIROKU_TEST_POSTGRES_URL names a server (``.ci/run`` sets it); each test gets a schema
of its own, dropped afterwards. Without the variable they are skipped, with that reason shown.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get("KIROKU_TEST_POSTGRES_URL")
NO_POSTGRES = "set KIROKU_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run"


def _postgres_schema_url() -> Iterator[str]:
    """A URL whose connections use a fresh schema; the schema is dropped afterwards."""
    import sqlalchemy

    assert POSTGRES_URL is not None
    schema = f"kiroku_test_{secrets.token_hex(6)}"
    admin = sqlalchemy.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite in a temporary folder, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite'}"
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    yield from _postgres_schema_url()


def kiroku(
    *args: str, cwd: Path | None = None, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real ``kiroku`` command (this interpreter's), capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "kiroku", *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=120,
    )


@pytest.fixture
def workspace(tmp_path: Path, store_url: str) -> Path:
    """A workspace made by ``kiroku init`` with the store under test."""
    root = tmp_path / "ws"
    result = kiroku(
        "init", str(root), "--org", "Test Org", "--origin", "test.kiroku/ledger", "--store", store_url
    )
    assert result.returncode == 0, result.stderr
    return root
