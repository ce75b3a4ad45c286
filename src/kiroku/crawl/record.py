"""Ledger record kind ``crawl.run``: what a crawl did, appended once its WARC files are ingested."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kiroku.ledger import register_kind

__all__ = ["CrawlFile", "CrawlRun", "CrawlScopeRecord", "CrawlStart"]


class CrawlFile(BaseModel):
    """A file the crawl wrote, by name (relative to the workspace) and content."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class CrawlScopeRecord(BaseModel):
    """The limits the crawl ran under."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hosts: list[str]
    max_depth: int
    max_pages: int
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    delay: float
    unreadable_tdmrep: str
    max_redirects: int
    max_body: int


class CrawlStart(BaseModel):
    """What is known of a crawl before its first request: written to ``crawl.start.json`` in its folder, so that
    a crawl killed before it ended can still be recorded (`kiroku.crawl.pending`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    crawl_id: str
    source: str
    agent: str = Field(description="The robots.txt product token the crawl obeyed.")
    user_agent: str = Field(description="The User-Agent header sent.")
    seeds: list[str]
    scope: CrawlScopeRecord
    started: datetime


class CrawlRun(CrawlStart):
    """Record kind ``crawl.run``: one crawl by kiroku's own crawler."""

    ended: datetime
    hosts: list[str]
    pages_fetched: int = Field(ge=0)
    skips: dict[str, int] = Field(description="URLs not fetched, by reason.")
    robots_fetches: int = Field(ge=0)
    fresh_robots_share: float | None = Field(
        None, ge=0, le=1, description="Share of page fetches decided with a robots.txt at most 24 h old."
    )
    warc_files: list[CrawlFile]
    decision_log: CrawlFile
    interrupted: bool = Field(
        False,
        description="The crawl was killed before it ended: the figures are those of its decision log up to its "
        "last whole line, and ended is the time of that line.",
    )


register_kind("crawl.run", CrawlRun)
