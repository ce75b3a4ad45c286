"""Crawls that a killed run left without their ``crawl.run`` record: found, and their record rebuilt.

``kiroku crawl`` works in this order, in the crawl's folder ``<workspace>/crawls/<crawl-id>/``: it takes the
folder's lock (`CrawlLock`, held until the process ends), writes ``crawl.start.json`` (`CrawlStart`: what is known
before the first request), crawls (WARC files and the decision log, each record and line written whole), writes
``crawl.json`` (the finished `CrawlRun`), ingests the WARC files and appends the record. A kill at any step leaves
the ledger verifiable but may leave a crawl unrecorded: pages fetched, maybe some of them ingested, and no
``crawl.run`` to say so.

`pending` lists such folders: a start or record file, no ``crawl.run`` record of that crawl id in the ledger
(nor the ``crawl.recorded`` file written after the append), and no live process holding the lock (a crawl still running is never taken for a killed one; the operating system
releases the lock of a killed process). `interrupted_record` rebuilds the record of a crawl killed before it
ended from its start file, its decision log up to the last whole line and the WARC files it wrote, marked
``interrupted``. Finishing (ingesting the WARC files, which resumes where a killed ingest stopped, and appending
the record) is the command's work: `kiroku.cli.crawl`.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from kiroku.catalog.shards import sha256_file
from kiroku.crawl.decisions import Tally, read_decisions
from kiroku.crawl.errors import CrawlError
from kiroku.crawl.record import CrawlFile, CrawlRun, CrawlStart
from kiroku.crawl.scope import host_of

__all__ = [
    "DECISION_LOG",
    "LOCK_FILE",
    "RECORDED_FILE",
    "RECORD_FILE",
    "START_FILE",
    "CrawlLock",
    "PendingCrawl",
    "crawl_file",
    "interrupted_record",
    "pending",
    "read_record",
    "warc_files",
    "write_json",
]

START_FILE = "crawl.start.json"
RECORD_FILE = "crawl.json"
DECISION_LOG = "decisions.jsonl.gz"
LOCK_FILE = ".lock"
RECORDED_FILE = "crawl.recorded"
"""Written once the record is appended (it holds the record's ledger index): a folder holding it is done even
when retention has since deleted the record's body, and with it the crawl id the ledger could be searched for."""


class CrawlLock:
    """An exclusive lock on a crawl folder, held while a crawl runs in it and released when the process ends,
    however it ends."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILE
        self._handle: IO[bytes] | None = None

    def acquire(self) -> bool:
        """Take the lock; False if another process holds it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("ab")
        except OSError as exc:
            raise CrawlError(f"cannot create the crawl folder {self.path.parent}: {exc.strerror}") from exc
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        """Let the lock go (closing the file releases it)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> CrawlLock:
        if not self.acquire():
            raise CrawlError(f"{self.path.parent} is in use by another kiroku process")
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@dataclass(frozen=True)
class PendingCrawl:
    """A crawl folder with no ``crawl.run`` record."""

    folder: Path
    crawl_id: str
    finished: bool
    """The crawl ended (``crawl.json`` was written): it was killed while ingesting or recording."""


def crawl_file(root: Path, path: Path) -> CrawlFile:
    """``path`` as a record names it: relative to the workspace ``root``, with its SHA-256 and size."""
    return CrawlFile(path=str(path.relative_to(root)), sha256=sha256_file(path), bytes=path.stat().st_size)


def warc_files(folder: Path, crawl_id: str) -> list[Path]:
    """The WARC files a crawl wrote, in order."""
    return sorted(folder.glob(f"{crawl_id}-*.warc.gz"))


def _read_model(path: Path, model: type[CrawlStart]) -> CrawlStart:
    try:
        return model.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise CrawlError(f"cannot read {path}: {exc.strerror}") from exc
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"]) or "the file"
        raise CrawlError(f"{path}: {where}: {exc.errors()[0]['msg']}; the file was changed") from exc


def read_record(folder: Path) -> CrawlRun:
    """The finished crawl's record as ``crawl.json`` holds it."""
    record = _read_model(folder / RECORD_FILE, CrawlRun)
    assert isinstance(record, CrawlRun)
    return record


def pending(crawls: Path, recorded: Iterable[str]) -> tuple[list[PendingCrawl], list[Path]]:
    """The crawl folders under ``crawls`` with no record among the ``recorded`` crawl ids and no live crawl
    holding them, oldest first; and the folders that cannot be finished (neither start nor record file: written
    by a kiroku before these files existed)."""
    done = set(recorded)
    found: list[PendingCrawl] = []
    unknown: list[Path] = []
    if not crawls.is_dir():
        return found, unknown
    for folder in sorted(path for path in crawls.iterdir() if path.is_dir()):
        if folder.name in done or (folder / RECORDED_FILE).is_file():
            continue
        finished = (folder / RECORD_FILE).is_file()
        if not finished and not (folder / START_FILE).is_file():
            unknown.append(folder)
            continue
        lock = CrawlLock(folder)
        if not lock.acquire():  # a crawl running now
            continue
        lock.release()
        found.append(PendingCrawl(folder, folder.name, finished))
    return found, unknown


def interrupted_record(root: Path, folder: Path) -> CrawlRun:
    """The ``crawl.run`` record of a crawl killed before it ended, from what it left in ``folder``."""
    start = _read_model(folder / START_FILE, CrawlStart)
    log = folder / DECISION_LOG
    tally = Tally()
    hosts: set[str] = set()
    ended: datetime = start.started
    if log.is_file():
        for line in read_decisions(log):
            tally.add(line)
            if not str(line.get("reason", "")).startswith("out-of-scope:"):
                hosts.add(host_of(str(line["url"])))
            ended = max(ended, datetime.fromisoformat(str(line["time"]).replace("Z", "+00:00")))
    else:  # killed before its first decision: an empty log stands for it
        log.touch()
    share = tally.fresh_robots / tally.decided_with_robots if tally.decided_with_robots else None
    return CrawlRun(
        **start.model_dump(),
        ended=ended,
        hosts=sorted(hosts),
        pages_fetched=tally.fetched,
        skips=dict(sorted(tally.skips.items())),
        robots_fetches=tally.robots_fetches,
        fresh_robots_share=share,
        warc_files=[crawl_file(root, path) for path in warc_files(folder, start.crawl_id)],
        decision_log=crawl_file(root, log),
        interrupted=True,
    )


def write_json(path: Path, model: CrawlStart) -> None:
    """Write ``model`` to ``path`` whole or not at all (a temporary file renamed over it)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(model.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
