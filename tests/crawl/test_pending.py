"""Crawls a killed run left unrecorded: the record rebuilt from the decision log holds the figures the crawl
itself counted; a cut log is read up to its last whole line; a crawl still running is never taken for a killed
one; ``kiroku crawl --finish`` finishes them without crawling."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from kiroku.crawl import CrawlRun
from kiroku.crawl.pending import (
    DECISION_LOG,
    RECORD_FILE,
    RECORDED_FILE,
    START_FILE,
    CrawlLock,
    interrupted_record,
    pending,
)
from tests.conftest import kiroku
from tests.loopback import LoopbackServer, Reply, html


def site(server: LoopbackServer) -> None:
    """alpha.test with a page robots.txt disallows, a noai page, a link to another host and a missing page."""
    server.routes[("alpha.test", "/")] = html("/a", "/b", "/private/x", "/noai", "/gone", "http://beta.test/")
    server.routes[("alpha.test", "/a")] = html("/")
    server.routes[("alpha.test", "/b")] = html("/a")
    server.routes[("alpha.test", "/noai")] = html(head='<meta name="robots" content="noai">')
    server.routes[("alpha.test", "/robots.txt")] = Reply(200, "User-agent: *\nDisallow: /private/\n")


def crawl_args(server: LoopbackServer, workspace: Path, *more: str) -> list[str]:
    resolve = [arg for entry in server.resolve("alpha.test", "beta.test") for arg in ("--resolve", entry)]
    return ["-w", str(workspace), "crawl", server.url("alpha.test"), "--agent", "KirokuBot", "--max-pages", "20",
            "--delay", "0", *resolve, *more]  # fmt: skip


def new_workspace(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    assert kiroku("init", str(workspace), "--org", "Test Org").returncode == 0
    return workspace


def only_folder(workspace: Path) -> Path:
    (folder,) = (workspace / "crawls").iterdir()
    return folder


def test_the_rebuilt_record_holds_the_figures_the_crawl_counted(
    server: LoopbackServer, tmp_path: Path
) -> None:
    site(server)
    workspace = new_workspace(tmp_path)
    crawled = kiroku(*crawl_args(server, workspace))
    assert crawled.returncode == 0, crawled.stderr
    folder = only_folder(workspace)
    recorded = CrawlRun.model_validate_json((folder / RECORD_FILE).read_text())
    assert recorded.pages_fetched >= 4 and {"robots:KirokuBot", "out-of-scope:host"} <= set(recorded.skips)
    rebuilt = interrupted_record(workspace, folder)
    same = {"interrupted", "ended", "decision_log", "warc_files"}
    assert rebuilt.model_dump(exclude=same) == recorded.model_dump(exclude=same)
    assert rebuilt.warc_files == recorded.warc_files and rebuilt.decision_log == recorded.decision_log
    assert rebuilt.interrupted and recorded.started <= rebuilt.ended <= recorded.ended


def test_a_log_cut_by_a_kill_is_read_up_to_its_last_whole_line(
    server: LoopbackServer, tmp_path: Path
) -> None:
    site(server)
    workspace = new_workspace(tmp_path)
    assert kiroku(*crawl_args(server, workspace)).returncode == 0
    folder = only_folder(workspace)
    log = folder / DECISION_LOG
    lines = gzip.decompress(log.read_bytes()).decode().splitlines()
    last = json.loads(lines[-1])
    whole = interrupted_record(workspace, folder)
    member = gzip.compress(b'{"url": "http://alpha.test/cut", "outcome": "fetched"}\n', mtime=0)
    with log.open("ab") as handle:
        handle.write(member[: len(member) // 2])  # the line a kill cut while it was written
    cut = interrupted_record(workspace, folder)
    assert cut.pages_fetched == whole.pages_fetched and cut.skips == whole.skips
    assert cut.ended.isoformat().replace("+00:00", "Z") == last["time"]
    assert cut.decision_log.bytes == log.stat().st_size  # the record names the file as it is


def test_a_crawl_running_now_is_not_pending(server: LoopbackServer, tmp_path: Path) -> None:
    site(server)
    workspace = new_workspace(tmp_path)
    assert kiroku(*crawl_args(server, workspace)).returncode == 0
    folder = only_folder(workspace)
    (folder / RECORDED_FILE).unlink()
    assert pending(workspace / "crawls", [folder.name]) == ([], [])  # its record is in the ledger
    found, _ = pending(workspace / "crawls", [])
    assert [crawl.crawl_id for crawl in found] == [folder.name] and found[0].finished
    with CrawlLock(folder):  # as the process crawling in it holds it
        assert pending(workspace / "crawls", []) == ([], [])
    (folder / RECORD_FILE).unlink()
    (folder / START_FILE).unlink()
    assert pending(workspace / "crawls", []) == ([], [folder])  # an older kiroku's folder


def test_finish_records_a_killed_crawl_without_crawling(server: LoopbackServer, tmp_path: Path) -> None:
    site(server)
    workspace = new_workspace(tmp_path)
    assert kiroku(*crawl_args(server, workspace)).returncode == 0
    folder = only_folder(workspace)
    # a crawl killed after its first page, as it left its folder: the start file and one decision line
    killed = folder.parent / "20260101T000000Z-abcdef"
    killed.mkdir()
    start = json.loads((folder / RECORD_FILE).read_text())
    start = {
        key: start[key] for key in ("crawl_id", "source", "agent", "user_agent", "seeds", "scope", "started")
    }
    start["crawl_id"], start["started"] = killed.name, "2026-01-01T00:00:00Z"
    (killed / START_FILE).write_text(json.dumps(start))
    with gzip.open(killed / DECISION_LOG, "wt") as log:
        log.write(json.dumps({"url": "http://alpha.test/", "time": "2026-01-01T00:00:05Z", "outcome": "fetched",
                              "reason": "http:200", "kind": "page", "robots_age": 1.0}) + "\n")  # fmt: skip
    requests = len(server.seen)

    assert "give at least one SEED" in kiroku("-w", str(workspace), "crawl").stderr
    assert "leave out the SEED" in kiroku(*crawl_args(server, workspace, "--finish")).stderr
    finished = kiroku("-w", str(workspace), "crawl", "--finish")
    assert finished.returncode == 0, finished.stderr
    assert f"Recorded crawl.run of {killed.name}" in finished.stdout and "interrupted" in finished.stdout
    assert len(server.seen) == requests  # nothing crawled
    shown = kiroku("-w", str(workspace), "log", "tail", "-n", "1", "--json")
    body = json.loads(shown.stdout)["body"]
    assert (body["crawl_id"], body["interrupted"], body["pages_fetched"]) == (killed.name, True, 1)
    assert body["ended"].startswith("2026-01-01T00:00:05") and body["fresh_robots_share"] == 1.0
    assert (killed / RECORDED_FILE).read_text().strip() == str(json.loads(shown.stdout)["index"])
    again = kiroku("-w", str(workspace), "crawl", "--finish")
    assert again.returncode == 0 and again.stdout == "" and again.stderr == ""
    assert kiroku("-w", str(workspace), "log", "verify").returncode == 0
