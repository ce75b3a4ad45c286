"""The crawler's errors.

`CrawlError`: the crawl cannot start or its output cannot be written: a bad seed URL, a bad ``--include`` or
``--exclude`` pattern, an output folder that cannot be written. The message names the URL, pattern or file and
says what to do. Failures of single fetches are never errors: they are decisions, recorded in the crawl's log.
"""

from __future__ import annotations

__all__ = ["CrawlError"]


class CrawlError(Exception):
    """The crawl cannot start or its files cannot be written; the message names the URL, pattern or file."""
