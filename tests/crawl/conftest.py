"""A loopback server for alpha.test, beta.test... and a helper that crawls it with kiroku's crawler."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kiroku.crawl import Crawler, CrawlResult, CrawlSettings, Scope, new_crawl_id
from kiroku.optout.fetch import parse_resolve
from tests.loopback import LoopbackServer, loopback

HOSTS = ("alpha.test", "beta.test", "gamma.test")


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with loopback() as srv:
        yield srv


def read_decisions(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt") as handle:
        return [json.loads(line) for line in handle]


@dataclass
class Crawled:
    result: CrawlResult
    decisions: list[dict[str, Any]] = field(default_factory=list)

    def decision(self, url: str) -> dict[str, Any]:
        found = [d for d in self.decisions if d["url"] == url]
        assert found, f"no decision for {url}: {[d['url'] for d in self.decisions]}"
        return found[-1]

    def pages(self) -> list[dict[str, Any]]:
        return [d for d in self.decisions if d.get("kind", "page") == "page"]


def crawl(
    server: LoopbackServer,
    tmp_path: Path,
    *seeds: str,
    max_pages: int = 50,
    max_depth: int = 3,
    allow_hosts: tuple[str, ...] = (),
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    **settings: Any,
) -> Crawled:
    urls = list(seeds)
    scope = Scope.create(urls, allow_hosts=allow_hosts, max_depth=max_depth, include=include, exclude=exclude)
    settings.setdefault("delay", 0.0)
    settings.setdefault("retry_base", 0.05)
    config = CrawlSettings(
        agent="KirokuBot",
        seeds=tuple(urls),
        scope=scope,
        max_pages=max_pages,
        resolve=tuple(parse_resolve(r) for r in server.resolve(*HOSTS)),
        **settings,
    )
    crawl_id = new_crawl_id()
    result = asyncio.run(Crawler(config, tmp_path / "crawls" / crawl_id, crawl_id).run())
    return Crawled(result, read_decisions(result.decision_log))
