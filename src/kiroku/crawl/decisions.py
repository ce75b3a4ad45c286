"""The crawl's decision log: gzip JSON Lines, one line per URL decided, written as the crawl goes.

Each line: ``url``, ``time`` (UTC, ISO 8601), ``outcome`` (``fetched`` or ``skipped``), ``reason``, ``depth``,
``kind`` (``page``, ``robots`` or ``tdmrep``), and, where they apply, ``status``, ``robots_age`` (seconds since the robots.txt the URL was decided under was
fetched), ``detail`` (the robots.txt line, the tdmrep.json rule, the error), ``optout`` (a fetched page's
opt-out reasons), ``links_followed``, ``truncated``, ``location``, ``warc`` (the WARC file). Each line is
flushed whole, so a killed crawl leaves a log readable up to its last complete gzip member (`read_decisions`).
`Tally` counts decisions the same way whether they are being written or read back.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiroku.crawl.errors import CrawlError

__all__ = ["DecisionLog", "Tally", "read_decisions"]

FRESH_ROBOTS_SECONDS = 24 * 3600
"""A page fetch decided under a robots.txt at most this old counts as decided with a fresh one."""


@dataclass
class Tally:
    """What the decisions add up to: the figures of a ``crawl.run`` record."""

    fetched: int = 0
    """Pages fetched."""
    skips: Counter[str] = field(default_factory=Counter)
    """URLs not fetched, by reason (its first word)."""
    robots_fetches: int = 0
    fresh_robots: int = 0
    """Page fetches decided under a robots.txt at most `FRESH_ROBOTS_SECONDS` old."""
    decided_with_robots: int = 0
    """Page fetches decided under a robots.txt of known age."""

    def add(self, line: dict[str, Any]) -> None:
        """Count one decision line."""
        outcome, reason, kind = line.get("outcome"), str(line.get("reason", "")), line.get("kind", "page")
        if outcome == "fetched" and kind == "page":
            self.fetched += 1
        elif outcome == "fetched" and kind == "robots":
            self.robots_fetches += 1
        elif outcome == "skipped":
            self.skips[reason.split(" ", 1)[0]] += 1
        age = line.get("robots_age")
        if outcome == "fetched" and kind == "page" and isinstance(age, int | float):
            self.decided_with_robots += 1
            self.fresh_robots += age <= FRESH_ROBOTS_SECONDS


def read_decisions(path: Path) -> Iterator[dict[str, Any]]:
    """The decision lines of ``path`` in order, up to the last whole one: a crawl killed while writing a line
    leaves a cut gzip member at the end, which is not an error here."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                if line.endswith("\n"):
                    yield json.loads(line)
    except (EOFError, gzip.BadGzipFile):
        return
    except json.JSONDecodeError as exc:
        raise CrawlError(f"{path}: a decision line is not JSON ({exc.msg}); the log was changed") from exc
    except OSError as exc:
        raise CrawlError(f"cannot read the decision log {path}: {exc.strerror or exc}") from exc


class DecisionLog:
    """Appends decisions to ``path`` (``decisions.jsonl.gz``) and counts them (`tally`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._handle = path.open("ab")
        except OSError as exc:
            raise CrawlError(f"cannot write the decision log {path}: {exc.strerror}") from exc
        self.tally = Tally()

    def write(self, url: str, outcome: str, reason: str, **fields: Any) -> None:
        """Record one decision about ``url``; None-valued fields are left out."""
        line: dict[str, Any] = {
            "url": url,
            "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "outcome": outcome,
            "reason": reason,
        }
        line.update({k: v for k, v in fields.items() if v is not None})
        self.tally.add(line)
        data = json.dumps(line, ensure_ascii=False).encode() + b"\n"
        # one gzip member per line: a kill loses at most the line being written
        self._handle.write(gzip.compress(data, mtime=0))
        self._handle.flush()

    def close(self) -> None:
        """Close the file."""
        self._handle.close()
