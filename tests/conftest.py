"""Shared fixtures: a store URL for each backend, and a workspace made by the real ``kiroku init``.

PostgreSQL tests run when KIROKU_TEST_POSTGRES_URL names a server (``.ci/run`` sets it); each test gets a schema
of its own, dropped afterwards. Without the variable they are skipped, with that reason shown.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import traceback
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


SUBPROCESS = os.environ.get("KIROKU_TEST_SUBPROCESS") == "1"
# Rich reads COLUMNS when kiroku's consoles are created; wide output keeps long paths on one line.
os.environ.setdefault("COLUMNS", "200")


def kiroku(
    *args: str, cwd: Path | None = None, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the ``kiroku`` command and capture its exit code, stdout and stderr.

    By default the command runs in this process through Typer's test runner: the same code the console script
    runs, from argument parsing to exit code, without a second or two of interpreter start-up per call. An
    unexpected exception is reported as Python would report it (its traceback on stderr, exit code 1).
    KIROKU_TEST_SUBPROCESS=1 runs each command as a real ``python -m kiroku`` subprocess instead; tests of the
    entry point itself, of signals and of crashes always use real processes.
    """
    if SUBPROCESS:
        return subprocess.run(
            [sys.executable, "-m", "kiroku", *args],
            cwd=cwd,
            input=input,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=120,
        )
    from typer.testing import CliRunner

    from kiroku.cli import app

    previous = os.getcwd()
    os.chdir(cwd or previous)
    try:
        result = CliRunner().invoke(app, list(args), input=input, env=env)
    finally:
        os.chdir(previous)
    code, stderr = result.exit_code, result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
        code = 1
    return subprocess.CompletedProcess(["kiroku", *args], code, result.stdout, stderr)


@pytest.fixture
def workspace(tmp_path: Path, store_url: str) -> Path:
    """A workspace made by ``kiroku init`` with the store under test."""
    root = tmp_path / "ws"
    result = kiroku(
        "init", str(root), "--org", "Test Org", "--origin", "test.kiroku/ledger", "--store", store_url
    )
    assert result.returncode == 0, result.stderr
    return root


# --- Debian's chromium through playwright, for the pages people read ---

CHROMIUM = Path("/usr/bin/chromium")


def japanese_font_installed() -> bool:
    """Whether fontconfig knows a Japanese font (without one, chromium draws Japanese as empty boxes)."""
    listed = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


needs_chromium = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="Debian's chromium is not installed (apt-get install chromium)"
)
needs_japanese_font = pytest.mark.skipif(
    not (Path("/usr/bin/fc-list").is_file() and japanese_font_installed()),
    reason="no Japanese font is installed (apt-get install fonts-noto-cjk)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium, launched headless through playwright (``playwright install`` is never needed)."""
    playwright_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed"
    )
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield launched
        launched.close()
