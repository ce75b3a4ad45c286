"""A crawl killed at any moment (SIGKILL: no handler, no cleanup) leaves the ledger verifiable and the catalog as
it was before that crawl or with the whole crawl ingested; the next crawl first finishes the killed one (its WARC
files ingested, its crawl.run record appended, marked interrupted if it was killed while crawling), then crawls."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import kiroku
from tests.loopback import LoopbackServer, Reply, html

PAGES = 8


def site(server: LoopbackServer) -> None:
    """alpha.test: a front page linking to PAGES slow pages, so a crawl takes a few seconds."""
    links = [f"/p{i}" for i in range(PAGES)]
    server.routes[("alpha.test", "/")] = html(*links)
    for link in links:
        reply = html(text=f"Page {link} of the slow site, with enough words in it to be kept as a document.")
        server.routes[("alpha.test", link)] = Reply(reply.status, reply.body, delay=0.15)
    server.routes[("alpha.test", "/robots.txt")] = Reply(200, "User-agent: *\nAllow: /\n")


def crawl_command(server: LoopbackServer, workspace: Path) -> list[str]:
    resolve = [arg for entry in server.resolve("alpha.test") for arg in ("--resolve", entry)]
    return [sys.executable, "-m", "kiroku", "-w", str(workspace), "crawl", server.url("alpha.test"),
            "--agent", "KirokuBot", "--max-pages", str(PAGES + 1), "--delay", "0", *resolve]  # fmt: skip


def documents(workspace: Path) -> int:
    stats = kiroku("-w", str(workspace), "catalog", "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    return int(json.loads(stats.stdout)["documents"])


def crawl_records(workspace: Path) -> list[dict[str, Any]]:
    shown = kiroku("-w", str(workspace), "log", "tail", "-n", "1000", "--json")
    assert shown.returncode == 0, shown.stderr
    records = [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]
    return [record["body"] for record in records if record["kind"] == "crawl.run"]


def kill_after(child: subprocess.Popen[bytes], server: LoopbackServer, requests: int, then: float) -> bool:
    """SIGKILL ``child`` ``then`` seconds after the server has seen ``requests`` requests; False if it had
    ended by then."""
    deadline = time.monotonic() + 60
    while len(server.seen) < requests and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(then)
    killed = child.poll() is None
    if killed:
        os.kill(child.pid, signal.SIGKILL)
    child.wait()
    return killed


@pytest.mark.parametrize(
    ("requests", "then"),
    [(1, 0.0), (4, 0.05), (PAGES + 2, 0.0), (PAGES + 2, 0.4)],
    ids=["at-robots", "mid-fetch", "pages-fetched", "while-ingesting"],
)
def test_a_crawl_killed_at_any_moment_leaves_a_verifiable_ledger(
    server: LoopbackServer, tmp_path: Path, requests: int, then: float
) -> None:
    workspace = tmp_path / "ws"
    assert kiroku("init", str(workspace), "--org", "Test Org").returncode == 0
    site(server)
    command = crawl_command(server, workspace)
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert kill_after(child, server, requests, then) or then > 0  # the first three land inside the crawl
    verified = kiroku("-w", str(workspace), "log", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    before = documents(workspace)
    assert before in (0, PAGES + 1)  # nothing of the killed crawl, or all of it
    assert crawl_records(workspace) == []
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert "was not recorded" in finished.stderr
    verified = kiroku("-w", str(workspace), "log", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    killed, new = crawl_records(workspace)
    assert new["pages_fetched"] == PAGES + 1 and new["interrupted"] is False
    assert documents(workspace) == killed["pages_fetched"] + PAGES + 1  # every page fetched is in the catalog
    assert killed["interrupted"] is ("was killed before it ended" in finished.stderr)
    if then == 0.0 and requests == 1:
        assert killed["interrupted"] is True and killed["pages_fetched"] == 0
    again = subprocess.run(command, capture_output=True, text=True, timeout=120)  # nothing left to finish
    assert again.returncode == 0 and "was not recorded" not in again.stderr
    assert len(crawl_records(workspace)) == 3
