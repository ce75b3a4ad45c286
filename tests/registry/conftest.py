"""Fixtures of the registry tests: firms' real workspaces with signed filings, and a registry on SQLite or
PostgreSQL served in-process (Starlette's TestClient, over httpx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from kiroku.registry import RegistrySettings, create_app
from kiroku.registry.firms import approve_firm
from tests.disclose.conftest import POLICY, STATEMENT_RUN, ok


@dataclass(frozen=True)
class FirmFiles:
    """A firm's workspace and what its kiroku wrote: two builds of the 2026 statement set, and its key."""

    root: Path
    name: str
    key: str
    first: Path
    second: Path

    def read(self, build: Path, name: str) -> bytes:
        return (build / name).read_bytes()


def _workspace(base: Path, name: str, origin: str, policy: str = POLICY) -> FirmFiles:
    root = base / "ws"
    ok("init", str(root), "--org", name, "--origin", origin, cwd=base)
    pages = [
        {"url": f"https://site{i}.example/a", "text": f"page {i} about tea and trains " * 4} for i in range(8)
    ]
    (root / "crawl.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pages))
    ok("source", "add", "crawl", "--type", "web_crawl", cwd=root)
    ok("ingest", "jsonl", "crawl.jsonl", "--source", "crawl", cwd=root)
    (root / "run.toml").write_text(STATEMENT_RUN)
    ok("run", "record", "run.toml", cwd=root)
    ok("model", "release", "acme-lm", "1.0", "--service", "chat", "--date", "2026-03-01", cwd=root)
    ok("index", "domains", cwd=root)
    ok("index", "build", cwd=root)
    (root / "statement.toml").write_text(policy.replace("Acme AI K.K.", name), encoding="utf-8")
    ok("statement", "build", "--period", "2026", "--out", "first", cwd=root)
    corrected = policy.replace("Acme AI K.K.", name).replace(
        "acme.example/rightsholders", "acme.example/contact"
    )
    (root / "statement.toml").write_text(corrected, encoding="utf-8")  # a corrected contact point
    ok("statement", "build", "--period", "2026", "--out", "second", cwd=root)
    key = ok("log", "key", cwd=root).strip().splitlines()[-1]
    return FirmFiles(root, name, key, root / "first", root / "second")


@pytest.fixture(scope="session")
def acme(tmp_path_factory: pytest.TempPathFactory) -> FirmFiles:
    return _workspace(tmp_path_factory.mktemp("acme"), "Acme AI K.K.", "acme.example/kiroku")


@pytest.fixture(scope="session")
def hoshi(tmp_path_factory: pytest.TempPathFactory) -> FirmFiles:
    explained = POLICY + (
        '\n[explanations.p1-provenance]\nstatus = "explains"\n'
        'en = "Text outputs carry no watermark yet."\nja = "テキスト出力にはまだ電子透かしを付与していない。"\n'
    )
    return _workspace(tmp_path_factory.mktemp("hoshi"), "Hoshi Labs", "hoshi.example/kiroku", explained)


@pytest.fixture
def registry(store_url: str) -> Iterator[TestClient]:
    """A fresh registry on ``store_url`` (SQLite, or a PostgreSQL schema of its own)."""
    app = create_app(RegistrySettings(database_url=store_url, witness_name="registry.test/witness"))
    with TestClient(app) as client:
        yield client


def register(client: TestClient, firm: FirmFiles, *, approve: bool = True) -> tuple[str, str]:
    """Register ``firm`` through the API (and approve it as an administrator would); its slug and token."""
    answer = client.post(
        "/api/v1/firms",
        json={
            "name": firm.name,
            "address": "1-2-3 Marunouchi, Tokyo",
            "contact": "c@x.example",
            "key": firm.key,
        },
    )
    assert answer.status_code == 201, answer.text
    slug, token = answer.json()["firm"]["slug"], answer.json()["token"]
    if approve:
        approve_firm(client.app.state.registry.engine, slug, "test-admin")  # type: ignore[attr-defined]
    return slug, token


def file(client: TestClient, token: str, body: bytes, path: str = "/api/v1/filings") -> Any:
    return client.post(path, content=body, headers={"Authorization": f"Bearer {token}"})


def engine_of(client: TestClient) -> Any:
    return client.app.state.registry.engine  # type: ignore[attr-defined]


@dataclass(frozen=True)
class LiveRegistry:
    """A registry served by uvicorn on a loopback port, in a thread of the test process."""

    url: str
    app: Any

    @property
    def engine(self) -> Any:
        return self.app.state.registry.engine


@contextmanager
def served(app: Any) -> Iterator[LiveRegistry]:
    """``app`` served by uvicorn on a free loopback port, in a thread of the test process."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the registry did not start")
        time.sleep(0.05)
    try:
        yield LiveRegistry(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_registry(tmp_path: Path) -> Iterator[LiveRegistry]:
    with served(
        create_app(RegistrySettings(database_url=f"sqlite:///{tmp_path / 'registry.sqlite'}"))
    ) as live:
        yield live
