"""``kiroku crawl``: crawl politely into WARC files under the workspace, ingest them, record ``crawl.run``."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from kiroku.catalog.errors import SourceError
from kiroku.catalog.sources import DataType, Source, find_source, register_source
from kiroku.cli._common import (
    EXIT_BAD_INPUT,
    WorkspaceOption,
    err,
    fail,
    out,
    progress_bar,
    user_errors,
    workspace_from,
)
from kiroku.cli.ingest import _ingest
from kiroku.crawl import (
    Crawler,
    CrawlError,
    CrawlResult,
    CrawlRun,
    CrawlScopeRecord,
    CrawlSettings,
    CrawlStart,
    Scope,
    new_crawl_id,
)
from kiroku.crawl.pending import (
    RECORD_FILE,
    RECORDED_FILE,
    START_FILE,
    CrawlLock,
    PendingCrawl,
    crawl_file,
    interrupted_record,
    pending,
    read_record,
    write_json,
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


def _start(settings: CrawlSettings, crawl_id: str, source: str) -> CrawlStart:
    scope = settings.scope
    return CrawlStart(
        crawl_id=crawl_id,
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
        started=datetime.now(UTC),
    )


def _record(ws: Workspace, start: CrawlStart, result: CrawlResult) -> CrawlRun:
    share = result.pages_with_fresh_robots / result.pages_with_robots if result.pages_with_robots else None
    return CrawlRun(
        **start.model_dump(),
        ended=result.ended,
        hosts=result.hosts,
        pages_fetched=result.pages_fetched,
        skips=result.skips,
        robots_fetches=result.robots_fetches,
        fresh_robots_share=share,
        warc_files=[crawl_file(ws.root, path) for path in result.warc_files],
        decision_log=crawl_file(ws.root, result.decision_log),
    )


def _ingest_and_record(ws: Workspace, folder: Path, record: CrawlRun) -> int:
    """Ingest the crawl's WARC files (resuming a killed ingest; files done are skipped) and append its record."""
    if record.warc_files:
        # the pages are decided for the agent the crawl obeyed, whatever [optout] crawler_agent says
        reading: Literal["reserved", "unset"] = (
            "unset" if record.scope.unreadable_tdmrep == "unset" else "reserved"
        )
        policy = replace(ws.config.optout.to_policy(), unreadable_tdmrep=reading)
        reader = WarcReader(optout=policy, crawler_agent=record.agent)
        files = [ws.root / file.path for file in record.warc_files]
        _ingest(ws, record.source, files, reader, 100_000, unit="record")
    with user_errors(), ws.ledger() as ledger:
        index = ledger.append("crawl.run", record)
    (folder / RECORDED_FILE).write_text(f"{index}\n")
    return index


def _recorded_crawls(ws: Workspace) -> list[str]:
    with user_errors(), ws.ledger() as ledger:
        return [
            str(body["crawl_id"])
            for record in ledger.records_of_kind("crawl.run")
            if (body := record.body_json()) is not None
        ]


def _finish(ws: Workspace, crawl: PendingCrawl) -> bool:
    """Ingest and record one crawl a killed run left unrecorded; False (said on stderr) if it cannot be."""
    lock = CrawlLock(crawl.folder)
    if not lock.acquire():  # another kiroku took it since it was found: that one finishes it
        return True
    try:
        try:
            record = (
                read_record(crawl.folder) if crawl.finished else interrupted_record(ws.root, crawl.folder)
            )
        except CrawlError as exc:
            err.print(
                f"kiroku: warning: crawl {crawl.crawl_id} was left unrecorded and cannot be recorded: {exc}"
            )
            return False
        how = "ended" if crawl.finished else "was killed before it ended"
        err.print(
            f"crawl {crawl.crawl_id} {how} and was not recorded ({record.pages_fetched:,} page(s) fetched): "
            "ingesting what is not in the catalog yet, then recording it"
        )
        try:
            index = _ingest_and_record(ws, crawl.folder, record)
        except typer.Exit:  # the error is printed; the crawl stays pending for the next run
            err.print(f"kiroku: warning: crawl {crawl.crawl_id} is still unrecorded (see above)")
            return False
    finally:
        lock.release()
    marked = "" if crawl.finished else ", marked interrupted"
    out.print(f"Recorded crawl.run of {crawl.crawl_id} as record {index}{marked}")
    return True


def finish_pending(ws: Workspace) -> bool:
    """Finish every crawl a killed ``kiroku crawl`` left unrecorded in ``ws``; False if one could not be."""
    crawls, unknown = pending(ws.root / "crawls", _recorded_crawls(ws))
    for folder in unknown:
        err.print(
            f"kiroku: warning: {folder.relative_to(ws.root)} has neither {START_FILE} nor {RECORD_FILE} "
            "(written by an older kiroku): it is left as it is"
        )
    return all([_finish(ws, crawl) for crawl in crawls]) and not unknown


def crawl(
    ctx: typer.Context,
    seeds: Annotated[
        list[str] | None,
        typer.Argument(help="Start URLs (http or https).", metavar="SEED...", show_default=False),
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option(
            help="The crawler's robots.txt product token, e.g. KirokuBot (sent in User-Agent). Required."
        ),
    ] = None,
    max_pages: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many page fetches. Required.")
    ] = None,
    finish: Annotated[
        bool,
        typer.Option(
            "--finish",
            help="Only finish the crawls a killed run left unrecorded (every crawl does that first): ingest their "
            "WARC files and append their crawl.run records; crawl nothing.",
        ),
    ] = False,
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
    files under <workspace>/crawls/<crawl-id>/, ingest them and record the crawl (kind crawl.run).

    A crawl killed before its record was appended is finished by the next run: its WARC files are ingested and
    its record appended (marked interrupted if it was killed while crawling)."""
    if finish:
        if seeds:
            fail("--finish crawls nothing: leave out the SEED URLs")
        ws = workspace_from(ctx, workspace)
        if not finish_pending(ws):
            raise typer.Exit(EXIT_BAD_INPUT)
        return
    if not seeds:
        fail("give at least one SEED URL to crawl from (or --finish)")
    if agent is None:
        fail("--agent is required: the crawler's robots.txt product token, e.g. --agent KirokuBot")
    if max_pages is None:
        fail("--max-pages is required: how many pages to fetch at most, e.g. --max-pages 1000")
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
    finish_pending(ws)  # a crawl that cannot be finished is said on stderr and does not stop this one
    _ensure_source(ws, source_name, agent)
    crawl_id = new_crawl_id()
    folder = ws.root / "crawls" / crawl_id
    lock = CrawlLock(folder)
    try:
        lock.acquire()
        start = _start(settings, crawl_id, source_name)
        write_json(folder / START_FILE, start)
    except (CrawlError, OSError) as exc:
        fail(f"cannot start the crawl in {folder}: {exc}")
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
    record = _record(ws, start, result)
    write_json(folder / RECORD_FILE, record)
    index = _ingest_and_record(ws, folder, record)
    lock.release()
    out.print(f"Files in {folder}: {len(result.warc_files)} WARC file(s), decisions.jsonl.gz, {RECORD_FILE}")
    out.print(f"Recorded crawl.run as record {index}")
