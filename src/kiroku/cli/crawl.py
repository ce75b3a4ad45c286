"""``kiroku crawl``: crawl politely into WARC files under the workspace, ingest them, record ``crawl.run``."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Literal

import typer

from kiroku.catalog.errors import SourceError
from kiroku.catalog.shards import sha256_file
from kiroku.catalog.sources import DataType, Source, find_source, register_source
from kiroku.cli._common import WorkspaceOption, err, fail, out, progress_bar, user_errors, workspace_from
from kiroku.cli.ingest import _ingest
from kiroku.crawl import (
    Crawler,
    CrawlError,
    CrawlFile,
    CrawlResult,
    CrawlRun,
    CrawlScopeRecord,
    CrawlSettings,
    Scope,
    new_crawl_id,
)
from kiroku.ingest import WarcReader
from kiroku.optout.fetch import parse_resolve
from kiroku.workspace import Workspace

__all__ = ["crawl"]

_PRODUCT_TOKEN = re.compile(r"[A-Za-z_-]+")


def _ensure_source(ws: Workspace, name: str, agent: str) -> None:
    """Register ``name`` as a web-crawl source when it is missing; fail if it names another kind of source."""
    with user_errors(), ws.ledger() as ledger:
        try:
            _, source = find_source(ledger, name)
        except SourceError:
            register_source(
                ledger,
                Source(
                    name=name,
                    type=DataType.web_crawl,
                    origin=f"kiroku crawl, robots.txt agent {agent}",
                    description="Pages fetched by kiroku's own crawler (registered by 'kiroku crawl').",
                ),
            )
            err.print(f"registered source {name!r} (web_crawl)")
            return
    if source.type is not DataType.web_crawl:
        fail(f"source {name!r} is a {source.type.value} source, not web_crawl; pick another --source name")


def _file(ws: Workspace, path: Path) -> CrawlFile:
    return CrawlFile(path=str(path.relative_to(ws.root)), sha256=sha256_file(path), bytes=path.stat().st_size)


def _record(ws: Workspace, settings: CrawlSettings, result: CrawlResult, source: str) -> CrawlRun:
    scope = settings.scope
    share = result.pages_with_fresh_robots / result.pages_with_robots if result.pages_with_robots else None
    return CrawlRun(
        crawl_id=result.crawl_id,
        source=source,
        agent=settings.agent,
        user_agent=settings.user_agent,
        seeds=list(settings.seeds),
        scope=CrawlScopeRecord(
            hosts=sorted(scope.hosts),
            max_depth=scope.max_depth,
            max_pages=settings.max_pages,
            include=[p.pattern for p in scope.include],
            exclude=[p.pattern for p in scope.exclude],
            delay=settings.delay,
            unreadable_tdmrep=settings.unreadable_tdmrep,
            max_redirects=settings.max_redirects,
            max_body=settings.max_body,
        ),
        started=result.started,
        ended=result.ended,
        hosts=result.hosts,
        pages_fetched=result.pages_fetched,
        skips=result.skips,
        robots_fetches=result.robots_fetches,
        fresh_robots_share=share,
        warc_files=[_file(ws, path) for path in result.warc_files],
        decision_log=_file(ws, result.decision_log),
    )


def crawl(
    ctx: typer.Context,
    seeds: Annotated[list[str], typer.Argument(help="Start URLs (http or https).", metavar="SEED...")],
    agent: Annotated[
        str, typer.Option(help="The crawler's robots.txt product token, e.g. KirokuBot (sent in User-Agent).")
    ],
    max_pages: Annotated[int, typer.Option(min=1, help="Stop after this many page fetches.")],
    resolve: Annotated[
        list[str] | None,
        typer.Option(
            "--resolve", metavar="HOST:PORT:ADDR", help="Connect HOST:PORT to ADDR, as curl does; repeatable."
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="Source to ingest into (registered as web_crawl if missing; default crawl-<agent>)."
        ),
    ] = None,
    max_depth: Annotated[int, typer.Option(min=0, help="Links followed from the seeds at most.")] = 3,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host", metavar="HOST", help="Another host to crawl (the seeds' are); repeatable."
        ),
    ] = None,
    include: Annotated[
        list[str] | None,
        typer.Option("--include", metavar="RE", help="Only URLs matching one of these regexes; repeatable."),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", metavar="RE", help="Never URLs matching one of these regexes; repeatable."),
    ] = None,
    delay: Annotated[
        float,
        typer.Option(min=0.0, help="Seconds between requests to a host when robots.txt sets no Crawl-delay."),
    ] = 1.0,
    max_crawl_delay: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="A site whose robots.txt asks for a longer Crawl-delay, in seconds, is skipped (reason "
            "crawl-delay) rather than crawled faster than it asks.",
        ),
    ] = 60.0,
    no_http2: Annotated[bool, typer.Option("--no-http2", help="Speak HTTP/1.1 only.")] = False,
    unreadable_tdmrep: Annotated[
        str | None,
        typer.Option(
            help="A tdmrep.json that cannot be read: 'reserved' (no page of the site is fetched) or 'unset' (the "
            "TDMRep report's reading: ignored). Default: optout.unreadable_tdmrep in kiroku.toml, 'reserved'."
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Crawl politely from SEED URLs (robots.txt, TDMRep and noai honoured, every decision logged), write WARC
    files under <workspace>/crawls/<crawl-id>/, ingest them and record the crawl (kind crawl.run)."""
    if not _PRODUCT_TOKEN.fullmatch(agent):
        fail(f"--agent {agent!r} must be a robots.txt product token: letters, '-' and '_' (e.g. KirokuBot)")
    entries = []
    for text in resolve or []:
        try:
            entries.append(parse_resolve(text))
        except ValueError as exc:
            fail(str(exc))
    ws = workspace_from(ctx, workspace)
    tdm_reading = unreadable_tdmrep or ws.config.optout.unreadable_tdmrep
    if tdm_reading not in ("reserved", "unset"):
        fail(f"--unreadable-tdmrep {tdm_reading!r} must be 'reserved' or 'unset'")
    tdm: Literal["reserved", "unset"] = "reserved" if tdm_reading == "reserved" else "unset"
    try:
        scope = Scope.create(
            seeds,
            allow_hosts=allow_host or [],
            max_depth=max_depth,
            include=include or [],
            exclude=exclude or [],
        )
    except CrawlError as exc:
        fail(str(exc))
    policy = replace(ws.config.optout.to_policy(), unreadable_tdmrep=tdm)  # the ingest reads the files alike
    settings = CrawlSettings(
        agent=agent,
        seeds=tuple(seeds),
        scope=scope,
        max_pages=max_pages,
        delay=delay,
        max_crawl_delay=max_crawl_delay,
        resolve=tuple(entries),
        http2=not no_http2,
        unreadable_tdmrep=tdm,
        policy=policy,
        operator=ws.config.organisation.name,
    )
    source_name = source or f"crawl-{agent.lower()}"
    _ensure_source(ws, source_name, agent)
    crawl_id = new_crawl_id()
    folder = ws.root / "crawls" / crawl_id
    with progress_bar("Crawling") as bar:
        task = bar.add_task("Crawling", total=max_pages)

        def progress(fetched: int, skipped: int) -> None:
            bar.update(task, completed=fetched, description=f"Crawling: {skipped:,} skipped")

        try:
            crawler = Crawler(settings, folder, crawl_id, on_progress=progress)
            result = asyncio.run(crawler.run())
        except CrawlError as exc:
            bar.stop()
            fail(str(exc))
    out.print(f"Crawl {crawl_id}: {result.pages_fetched:,} page(s) fetched from {len(result.hosts)} host(s)")
    for reason, count in result.skips.items():
        out.print(f"  skipped {count:,}: {reason}")
    if result.warc_files:
        # the pages are decided for the agent the crawl obeyed, whatever [optout] crawler_agent says
        reader = WarcReader(optout=policy, crawler_agent=agent)
        _ingest(ws, source_name, result.warc_files, reader, 100_000, unit="record")
    record = _record(ws, settings, result, source_name)
    (folder / "crawl.json").write_text(json.dumps(record.model_dump(mode="json"), indent=2) + "\n")
    with user_errors(), ws.ledger() as ledger:
        index = ledger.append("crawl.run", record)
    out.print(f"Files in {folder}: {len(result.warc_files)} WARC file(s), decisions.jsonl.gz, crawl.json")
    out.print(f"Recorded crawl.run as record {index}")
