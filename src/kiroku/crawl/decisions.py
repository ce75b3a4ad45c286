"""The crawl's decision log: gzip JSON Lines, one line per URL decided, written as the crawl goes.

Each line: ``url``, ``time`` (UTC, ISO 8601), ``outcome`` (``fetched`` or ``skipped``), ``reason``, ``depth``,
``kind`` (``page``, ``robots`` or ``tdmrep``), and, where they apply, ``status``, ``robots_age`` (seconds since the robots.txt the URL was decided under was
fetched), ``detail`` (the robots.txt line, the tdmrep.json rule, the error), ``optout`` (a fetched page's
opt-out reasons), ``links_followed``, ``truncated``, ``location``, ``warc`` (the WARC file). Each line is
flushed whole, so a killed crawl leaves a log readable up to its last complete gzip member.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiroku.crawl.errors import CrawlError

__all__ = ["DecisionLog"]


class DecisionLog:
    """Appends decisions to ``path`` (``decisions.jsonl.gz``) and counts them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._handle = path.open("ab")
        except OSError as exc:
            raise CrawlError(f"cannot write the decision log {path}: {exc.strerror}") from exc
        self.fetched = 0
        self.skips: Counter[str] = Counter()
        self.fresh_robots = 0
        self.robots_fetches = 0
        self.decided_with_robots = 0

    def write(self, url: str, outcome: str, reason: str, **fields: Any) -> None:
        """Record one decision about ``url``; None-valued fields are left out."""
        line: dict[str, Any] = {
            "url": url,
            "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "outcome": outcome,
            "reason": reason,
        }
        line.update({k: v for k, v in fields.items() if v is not None})
        kind = fields.get("kind", "page")
        if outcome == "fetched" and kind == "page":
            self.fetched += 1
        elif outcome == "fetched" and kind == "robots":
            self.robots_fetches += 1
        elif outcome == "skipped":
            self.skips[reason.split(" ", 1)[0]] += 1
        age = fields.get("robots_age")
        if outcome == "fetched" and kind == "page" and isinstance(age, int | float):
            self.decided_with_robots += 1
            self.fresh_robots += age <= 24 * 3600
        data = json.dumps(line, ensure_ascii=False).encode() + b"\n"
        # one gzip member per line: a kill loses at most the line being written
        self._handle.write(gzip.compress(data, mtime=0))
        self._handle.flush()

    def close(self) -> None:
        """Close the file."""
        self._handle.close()
