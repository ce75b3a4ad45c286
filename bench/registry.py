"""Benchmark of the registry's public pages under a loopback load from a second process, with its page cache on and
off, on SQLite and PostgreSQL, against a minimal Starlette app returning the same bytes from memory, in one run.

Input: a registry loaded through its own Python functions (`register_firm`, `approve_firm`, `witness`,
`file_document`) with ``--firms`` firms, each filing real signed statements for two years. One real statement is
built with kiroku's CLI in a temporary workspace (``kiroku init``, a crawl ingested, a training run, a release,
both indexes, ``kiroku statement build``); for each synthetic firm a copy gets the firm's name, address and
contact, the year's period, statuses drawn at random (about 70% complies, 15% partially, 15% explains, with an
explanation in both languages) and its summary, then the firm's own Ed25519 key (`Signer.generate`) signs a small
`Ledger` of notes at two sizes, the 2025 statement embeds the first checkpoint and the 2026 one the second, and
`sign_document` signs each copy: the registry verifies both signatures as it does any filing. The registry
witnesses the first checkpoint and a consistency bundle to the second; every tenth firm files a 2026 correction
(version 2) and every twelfth has not filed for 2026. On SQLite a fresh file, on PostgreSQL a fresh schema
(``KIROKU_BENCH_POSTGRES_URL``, else ``KIROKU_TEST_POSTGRES_URL``; ``--skip-postgres`` leaves it out).

Measured: the registry served by uvicorn in a separate process (``create_app`` and ``uvicorn.run`` as ``kiroku
registry serve`` does, one worker), with ``page_cache_seconds`` 5 (cache on) and 0 (off); the load from another
process: ``--concurrency`` keep-alive HTTP/1.1 connections on asyncio streams, each sending its next request as
soon as the last answer is read (a closed loop), for ``--warmup`` seconds unrecorded and then ``--seconds``
recorded, on each endpoint in turn: ``/`` (the comply-or-explain matrix, HTML), ``/index.json`` (its JSON twin),
``/firms.json`` and ``/filings/{id}.json`` (every filing in turn). Requests per second, latency p50 / p99 (from
writing the request to reading the last byte of the answer), the share of answers served from the cache
(``X-Cache: HIT`` or ``STALE``), errors (any status but 200 or a body of another length than expected), and the
server's CPU use over the run. The peer is a minimal Starlette app under the same uvicorn returning, for each of the same
paths, the bytes the registry answered, from a dict: the ceiling of this stack and this load generator on this
machine. ``--profile`` also profiles the uncached matrix in this process (cProfile) and prints where its time goes.

Prints one table and the targets: >= 500 requests/s and p99 <= 50 ms for cached public pages (every endpoint with
the cache on, on each database). Exits 1 if a target is missed or an answer was wrong.

    .venv/bin/python bench/registry.py                          # SQLite and PostgreSQL (if set): about 5 min
    .venv/bin/python bench/registry.py --seconds 3 --skip-postgres --firms 50
    .venv/bin/python bench/registry.py --profile --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import cProfile
import http.client
import io
import json
import math
import multiprocessing
import os
import pickle
import pstats
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from _machine import machine_description
from _processes import cpu_seconds, free_port

TARGET_PER_S = 500.0
TARGET_P99_MS = 50.0
WITNESS = "registry.bench.kiroku/witness"
ENDPOINTS = ("/", "/index.json", "/firms.json", "/filings/{id}.json")
YEARS = (2025, 2026)
HERE = Path(__file__).resolve()

# What the one real statement is built from (as the registry tests' firms are).
RUN_TOML = """
name = "pretrain"
model = "bench-lm"
version = "1.0"
methods = ["pre-training"]
training_tokens = 5_000_000_000_000
start = 2026-01-05
end = 2026-02-20
weight_unit = "epochs"
[architecture]
family = "decoder-only transformer"
parameters = 70_000_000_000
[[data_mix]]
catalog = true
weight = 1
"""
POLICY_TOML = """
provenance = ["C2PA manifests on generated images"]
rightsholder_contact = "https://bench.example/rightsholders"

[firm]
name = "Bench AI K.K."
address = "1-2-3 Marunouchi, Chiyoda-ku, Tokyo"
contact = "compliance@bench.example"
services_in_japan = ["chat"]

[scope]
compute_flops = 1e24

[training_data]
languages = ["en", "ja"]
content_types = "web pages about tea, rivers and trains"
purpose = "a chat model that answers questions about travel"
cleaning_purpose = "keep pages a reader would learn from"
aggregate_consumer_information = false
illegal_content = "pages from sites on the piracy blocklist are never trained on"
crawler_purposes = "collecting public web pages to train the firm's models"
"""
NAMES = ("Sakura", "Hoshi", "Kumo", "Nami", "Tsuki", "Yama", "Kaze", "Mori", "Hikari", "Sora", "Umi", "Kawa")
KINDS = ("AI K.K.", "Labs", "Research G.K.", "Intelligence Inc.", "Systems K.K.")
EXPLANATIONS = {
    "partially": (
        "Done for most models; the rest follow this year.",
        "大半のモデルで実施済み。残りは本年中に対応する。",
    ),
    "explains": (
        "Not feasible yet at our scale; we explain what we do instead.",
        "現時点の規模では実施できないため、代わりの取組を説明する。",
    ),
}


# -- the data -------------------------------------------------------------------------------------------------


def build_statement(work: Path, console: Console) -> dict[str, Any]:
    """One real statement, built by kiroku's CLI in a temporary workspace (about half a minute)."""
    root = work / "ws"

    def kiroku(*args: str, cwd: Path) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "kiroku", *args], cwd=cwd, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"kiroku {' '.join(args)} failed:\n{done.stdout}{done.stderr}")

    console.print("building one real statement with kiroku's CLI …")
    kiroku("init", str(root), "--org", "Bench AI K.K.", "--origin", "bench.example/kiroku", cwd=work)
    pages = [
        {
            "url": f"https://site{i}.example/{j}",
            "text": f"page {j} of site {i} about tea, rivers and trains " * 6,
        }
        for i in range(12)
        for j in range(3)
    ]
    (root / "crawl.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pages), encoding="utf-8")
    kiroku("source", "add", "crawl", "--type", "web_crawl", cwd=root)
    kiroku("ingest", "jsonl", "crawl.jsonl", "--source", "crawl", cwd=root)
    (root / "run.toml").write_text(RUN_TOML, encoding="utf-8")
    kiroku("run", "record", "run.toml", cwd=root)
    kiroku("model", "release", "bench-lm", "1.0", "--service", "chat", "--date", "2026-03-01", cwd=root)
    kiroku("index", "domains", cwd=root)
    kiroku("index", "build", cwd=root)
    (root / "statement.toml").write_text(POLICY_TOML, encoding="utf-8")
    kiroku("statement", "build", "--period", "2026", "--tier", "public", "--out", "out", cwd=root)
    statement: dict[str, Any] = json.loads((root / "out" / "statement.json").read_text(encoding="utf-8"))
    return statement


@dataclass(frozen=True)
class Loaded:
    """What a registry database holds after loading."""

    firms: int
    filings: list[int]
    checkpoints: int
    seconds: float


def _statement_for(
    template: dict[str, Any], name: str, number: int, year: int, checkpoint: Any, rng: random.Random
) -> dict[str, Any]:
    from kiroku.disclose.signing import FIELD

    document = copy.deepcopy({key: value for key, value in template.items() if key != FIELD})
    document["firm"] = {
        **document["firm"],
        "name": name,
        "address": f"{number}-1-1 Otemachi, Chiyoda-ku, Tokyo",
        "contact": f"compliance@firm{number:03d}.bench.example",
    }
    document["period"] = {"year": year, "start": f"{year}-01-01", "end": f"{year}-12-31"}
    document["generated"] = f"{year + 1}-01-{10 + number % 18:02d}T09:00:00+00:00"
    counts = {"complies": 0, "partially": 0, "explains": 0}
    for requirement in document["requirements"]:
        status = rng.choices(("complies", "partially", "explains"), (70, 15, 15))[0]
        requirement["status"] = status
        counts[status] += 1
        if status in EXPLANATIONS:
            en, ja = EXPLANATIONS[status]
            requirement["explanation"] = {"en": en, "ja": ja}
            requirement["evidence"] = {} if status == "explains" else requirement["evidence"]
        else:
            requirement["explanation"] = None
    document["summary"] = counts
    document["ledger"] = {
        "size": checkpoint.size,
        "root": checkpoint.root_hash.hex(),
        "checkpoint": checkpoint.note,
    }
    return document


def load_registry(url: str, template: dict[str, Any], firms: int, seed: int) -> Loaded:
    """Register, approve and file ``firms`` firms through the registry's Python functions."""
    from kiroku.disclose.signing import sign_document
    from kiroku.ledger import Ledger, Signer
    from kiroku.registry.db import connect, upgrade
    from kiroku.registry.filings import file_document, list_filings
    from kiroku.registry.firms import approve_firm, register_firm, registry_state_of
    from kiroku.registry.witness import witness

    started = time.perf_counter()
    rng = random.Random(seed)
    engine = connect(url)
    upgrade(engine)
    cosigner = registry_state_of(engine, WITNESS).witness
    checkpoints = 0
    try:
        for number in range(firms):
            name = f"{NAMES[number % len(NAMES)]} {KINDS[number % len(KINDS)]} {number:03d}"
            signer = Signer.generate(f"firm{number:03d}.bench.example/kiroku")
            with Ledger.create("sqlite://", signer.name) as ledger:
                for event in range(5 + number % 7):
                    ledger.append("note", {"event": f"{name}: crawl {event}"})
                first = ledger.checkpoint(signer)
                for event in range(3 + number % 5):
                    ledger.append("note", {"event": f"{name}: training step {event}"})
                second = ledger.checkpoint(signer)
                bundle = ledger.prove_consistency(first.size).model_dump_json().encode()
            firm, _ = register_firm(engine, name, "Tokyo", f"c@firm{number:03d}.bench.example",
                                    signer.verifier().to_vkey())  # fmt: skip
            firm = approve_firm(engine, firm.slug, "bench")
            witness(engine, firm, first.note.encode(), cosigner)
            documents = [_statement_for(template, name, number, 2025, first, rng)]
            witness(engine, firm, bundle, cosigner)
            checkpoints += 2
            if number % 12 != 11:  # every twelfth firm has not filed for 2026
                documents.append(_statement_for(template, name, number, 2026, second, rng))
                if number % 10 == 3:  # a correction: version 2
                    documents.append(_statement_for(template, name, number, 2026, second, rng))
            for document in documents:
                body = json.dumps(sign_document(document, signer), ensure_ascii=False, indent=2).encode()
                file_document(engine, firm, body)
        filed = [filing.id for filing in list_filings(engine, newest_first=False)]
    finally:
        engine.dispose()
    return Loaded(firms, filed, checkpoints, time.perf_counter() - started)


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh PostgreSQL schema on ``base_url``, dropped afterwards; the URL that uses it."""
    from sqlalchemy import create_engine

    if base_url.startswith("postgresql://"):
        base_url = "postgresql+psycopg://" + base_url.removeprefix("postgresql://")
    schema = f"kiroku_bench_{secrets.token_hex(4)}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def postgres_version(base_url: str) -> str:
    from sqlalchemy import create_engine

    engine = create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return "PostgreSQL " + str(conn.exec_driver_sql("SHOW server_version").scalar()).split()[0]
    finally:
        engine.dispose()


# -- the servers ----------------------------------------------------------------------------------------------


def serve_registry(url: str, port: int, cache_seconds: float) -> None:
    """The registry as ``kiroku registry serve`` runs it, with the page cache on or off."""
    import uvicorn

    from kiroku.registry import RegistrySettings, create_app

    settings = RegistrySettings(database_url=url, witness_name=WITNESS, page_cache_seconds=cache_seconds)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")


def serve_peer(bodies_file: str, port: int) -> None:
    """A minimal Starlette app answering each path with the bytes the registry gave, from memory."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    bodies: dict[str, tuple[str, bytes]] = pickle.loads(Path(bodies_file).read_bytes())

    async def answer(request: Request) -> Response:
        media_type, body = bodies[request.url.path]
        return Response(body, media_type=media_type)

    app = Starlette(routes=[Route("/{path:path}", answer)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


@dataclass
class Server:
    """A server process on a loopback port."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def cpu_seconds(self) -> float:
        """User and system CPU time of the server process so far."""
        return cpu_seconds(self.process.pid)

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request("GET", path)
            answer = connection.getresponse()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        finally:
            connection.close()


@contextmanager
def server(role: str, args: Sequence[str], work: Path, ready: str = "/") -> Iterator[Server]:
    """Run ``bench/registry.py ROLE ARGS PORT`` in its own process until it answers ``ready``; stop it after."""
    port = free_port()
    log = work / f"{role}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(HERE), role, *args, str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    running = Server(process, port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(
                    f"the {role} server did not start:\n{log.read_text(errors='replace')[-3000:]}"
                )
            try:
                if running.get(ready)[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the load generator (a process of its own) ----------------------------------------------------------------


@dataclass
class Load:
    """What one load run measured."""

    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    hits: int
    first_error: str = ""

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1e3 if self.latencies else math.nan


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of ``samples``."""
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


async def _connection(
    port: int, requests: list[bytes], lengths: list[int], start: float, end: float, offset: int, load: Load
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    clock = time.perf_counter
    index = offset
    try:
        while True:
            sent = clock()
            if sent >= end:
                return
            which = index % len(requests)
            index += 1
            writer.write(requests[which])
            head = await reader.readuntil(b"\r\n\r\n")
            lower = head.lower()
            at = lower.find(b"\r\ncontent-length:")
            if at < 0:
                raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")
            length = int(lower[at + 17 : lower.find(b"\r\n", at + 2)])
            await reader.readexactly(length)
            done = clock()
            if sent < start:
                continue
            load.requests += 1
            load.latencies.append(done - sent)
            if head[9:12] != b"200" or length != lengths[which]:
                load.errors += 1
                load.first_error = load.first_error or f"{head[:60]!r}, {length} bytes for {lengths[which]}"
            if b"\r\nx-cache: hit" in lower or b"\r\nx-cache: stale" in lower:
                load.hits += 1
    finally:
        writer.close()


def generate_load(
    port: int, paths: list[str], lengths: list[int], concurrency: int, warmup: float, seconds: float
) -> Load:
    """``concurrency`` keep-alive connections cycling through ``paths`` for ``warmup`` + ``seconds``."""
    requests = [
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: kiroku-bench\r\nAccept: */*\r\n\r\n".encode()
        for path in paths
    ]
    load = Load(0, seconds, [], 0, 0)

    async def run() -> None:
        start = time.perf_counter() + warmup
        end = start + seconds
        step = max(1, len(paths) // concurrency)
        await asyncio.gather(
            *(_connection(port, requests, lengths, start, end, i * step, load) for i in range(concurrency))
        )

    asyncio.run(run())
    return load


def _load_worker(args: tuple[Any, ...], pipe: Pipe) -> None:
    try:
        pipe.send(generate_load(*args))
    finally:
        pipe.close()


def in_load_process(*args: Any) -> Load:
    """`generate_load` in a fresh (spawned) process: the load comes from a second process."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_load_worker, args=(args, sender))
    process.start()
    sender.close()
    try:
        load: Load = receiver.recv()
    except EOFError:
        process.join()
        raise SystemExit(f"the load generator failed (exit code {process.exitcode})") from None
    process.join()
    return load


# -- the run --------------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One measured line of the table."""

    stack: str
    db: str
    endpoint: str
    cache: str
    load: Load
    server_cpu: float
    """CPU seconds of the server per wall second over the load (warm-up included)."""


@dataclass
class Run:
    """Every row and the notes."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def endpoint_paths(endpoint: str, filings: list[int]) -> list[str]:
    return [endpoint.format(id=i) for i in filings] if "{id}" in endpoint else [endpoint]


def measure(running: Server, stack: str, db: str, cache: str, paths_of: dict[str, list[str]],
            bodies: dict[str, tuple[str, bytes]], args: argparse.Namespace, console: Console) -> list[Row]:  # fmt: skip
    rows = []
    for endpoint, paths in paths_of.items():
        lengths = [len(bodies[path][1]) for path in paths]
        console.print(f"  {stack} · {db} · cache {cache} · {endpoint} ({len(paths)} paths) …")
        cpu, wall = running.cpu_seconds(), time.perf_counter()
        load = in_load_process(running.port, paths, lengths, args.concurrency, args.warmup, args.seconds)
        used = (running.cpu_seconds() - cpu) / (time.perf_counter() - wall)
        rows.append(Row(stack, db, endpoint, cache, load, used))
    return rows


def bench_database(db: str, url: str, template: dict[str, Any], work: Path, run: Run, args: argparse.Namespace,
                   console: Console) -> tuple[list[int], dict[str, tuple[str, bytes]]]:  # fmt: skip
    """Load a registry on ``url`` and measure it with the cache off and on; the filing ids and every answer."""
    console.print(f"{db}: loading {args.firms} firms …")
    loaded = load_registry(url, template, args.firms, args.seed)
    run.notes.append(
        f"{db}: {loaded.firms} firms, {len(loaded.filings)} statement filings ({YEARS[0]} and {YEARS[1]}, some "
        f"corrected), {loaded.checkpoints} witnessed checkpoints, loaded in {loaded.seconds:.1f} s"
    )
    paths_of = {endpoint: endpoint_paths(endpoint, loaded.filings) for endpoint in ENDPOINTS}
    bodies: dict[str, tuple[str, bytes]] = {}
    for cache, seconds in (("off", 0.0), ("on", 5.0)):
        with server("serve-registry", [url, str(seconds)], work, ready="/api/v1/witness") as running:
            for path in (path for paths in paths_of.values() for path in paths):
                status, headers, body = running.get(path)
                if status != 200:
                    raise SystemExit(f"{db}: {path} answered {status}: {body[:300]!r}")
                if path in bodies and bodies[path][1] != body:  # the cache must give the very same bytes
                    raise SystemExit(f"{db}: {path} answered other bytes with the cache on than off")
                bodies[path] = (headers["content-type"], body)
            run.rows += measure(running, "kiroku registry", db, cache, paths_of, bodies, args, console)
    return loaded.filings, bodies


def profile_matrix(url: str, renders: int, console: Console) -> str:
    """cProfile of ``renders`` uncached renders of the matrix page, in this process; the top of the report."""
    from starlette.testclient import TestClient

    from kiroku.registry import RegistrySettings, create_app

    app = create_app(RegistrySettings(database_url=url, witness_name=WITNESS, page_cache_seconds=0))
    with TestClient(app) as client:
        client.get("/")  # templates compiled, regime loaded once
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(renders):
            assert client.get("/").status_code == 200
        profiler.disable()
        each = (time.perf_counter() - started) / renders
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(28)
    console.print(f"profile of {renders} uncached renders of / in this process: {each * 1e3:.1f} ms each")
    return out.getvalue()


# -- the report -----------------------------------------------------------------------------------------------


def build_table(run: Run, args: argparse.Namespace) -> Table:
    table = Table(
        title=f"registry under loopback load · {args.concurrency} keep-alive connections from a second process · "
        f"{args.seconds:g} s each after {args.warmup:g} s of warm-up",
        show_lines=False,
    )
    for name, justify in (("stack", "left"), ("db", "left"), ("endpoint", "left"), ("cache", "left"),
                          ("req/s", "right"), ("p50 ms", "right"), ("p99 ms", "right"), ("hits", "right"),
                          ("errors", "right"), ("server CPU", "right")):  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in run.rows:
        load = row.load
        table.add_row(
            row.stack, row.db, row.endpoint, row.cache, f"{load.per_s:,.0f}", f"{load.p(50):.1f}",
            f"{load.p(99):.1f}", f"{load.hits / load.requests:.0%}" if row.cache == "on" and load.requests else "",
            str(load.errors) if not load.errors else f"[red]{load.errors}[/]", f"{row.server_cpu:.0%}",
        )  # fmt: skip
    return table


def verdicts(run: Run, console: Console) -> list[bool]:
    results = []
    for db in dict.fromkeys(row.db for row in run.rows if row.cache == "on"):
        cached = [row for row in run.rows if row.db == db and row.cache == "on"]
        slowest = min(cached, key=lambda row: row.load.per_s)
        worst = max(cached, key=lambda row: row.load.p(99))
        rate_ok = slowest.load.per_s >= TARGET_PER_S
        p99_ok = worst.load.p(99) <= TARGET_P99_MS
        for ok, text in (
            (rate_ok, f"≥ {TARGET_PER_S:,.0f} requests/s for cached public pages on {db}: lowest "
                      f"{slowest.load.per_s:,.0f}/s ({slowest.endpoint})"),
            (p99_ok, f"p99 ≤ {TARGET_P99_MS:g} ms for cached public pages on {db}: highest "
                     f"{worst.load.p(99):.1f} ms ({worst.endpoint})"),
        ):  # fmt: skip
            console.print(f"target {text}: " + ("[green]met[/]" if ok else "[red]not met[/]"))
            results.append(ok)
    errors = sum(row.load.errors for row in run.rows)
    if errors:
        first = next(row for row in run.rows if row.load.errors)
        console.print(f"[red]{errors} wrong answers[/] (first: {first.load.first_error})")
    results.append(errors == 0)
    for db in dict.fromkeys(row.db for row in run.rows if row.cache == "off"):
        pairs = {row.endpoint: row.load.per_s for row in run.rows if row.db == db and row.cache == "on"}
        speedups = ", ".join(
            f"{row.endpoint} {pairs[row.endpoint] / row.load.per_s:,.1f}×"
            for row in run.rows
            if row.db == db and row.cache == "off" and row.endpoint in pairs and row.load.per_s
        )
        console.print(f"the cache on {db}, requests/s on over off: {speedups}")
    peer = {row.endpoint: row.load.per_s for row in run.rows if row.stack.startswith("peer")}
    for db in dict.fromkeys(row.db for row in run.rows if row.cache == "on"):
        shares = ", ".join(
            f"{row.endpoint} {row.load.per_s / peer[row.endpoint]:.0%}"
            for row in run.rows
            if row.db == db and row.cache == "on" and peer.get(row.endpoint)
        )
        console.print(f"cached {db} pages as a share of the peer's requests/s: {shares}")
    return results


# -- main -----------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="recorded seconds per measurement (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unrecorded seconds before each (2)")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections of the load (16)")
    parser.add_argument(
        "--firms", type=int, default=60, help="firms in the registry (60; at least 50 is the claim)"
    )
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--profile", action="store_true", help="also profile the uncached matrix (cProfile)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the statuses drawn (0)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.warmup < 0 or args.concurrency < 1 or args.firms < 2:
        parser.error("need --seconds > 0, --warmup >= 0, --concurrency >= 1 and --firms >= 2")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 160))
    started = time.perf_counter()
    postgres = None if args.skip_postgres else (
        os.environ.get("KIROKU_BENCH_POSTGRES_URL") or os.environ.get("KIROKU_TEST_POSTGRES_URL")
    )  # fmt: skip
    extra = [postgres_version(postgres)] if postgres else []
    packages = ("fastapi", "starlette", "uvicorn", "h11", "jinja2", "sqlalchemy", "psycopg")
    console.print(f"[bold]machine:[/] {machine_description(packages, extra)}")
    if not postgres and not args.skip_postgres:
        console.print("PostgreSQL left out: set KIROKU_BENCH_POSTGRES_URL (or KIROKU_TEST_POSTGRES_URL)")
    work = Path(tempfile.mkdtemp(prefix="kiroku-bench-registry-"))
    run = Run()
    profile = ""
    try:
        template = build_statement(work, console)
        sqlite_url = f"sqlite:///{work / 'registry.sqlite'}"
        filings, bodies = bench_database("SQLite", sqlite_url, template, work, run, args, console)
        if args.profile:
            profile = profile_matrix(sqlite_url, 30, console)
        if postgres:
            with postgres_schema(postgres) as url:
                bench_database("PostgreSQL", url, template, work, run, args, console)
        paths_of = {endpoint: endpoint_paths(endpoint, filings) for endpoint in ENDPOINTS}
        bodies_file = work / "bodies.pickle"
        bodies_file.write_bytes(pickle.dumps(bodies))
        with server("serve-peer", [str(bodies_file)], work) as running:
            run.rows += measure(running, "peer: Starlette, bytes from memory", "—", "—", paths_of, bodies, args,
                                console)  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for note in run.notes:
        console.print(note)
    sizes = {endpoint: len(bodies[paths[0]][1]) for endpoint, paths in paths_of.items()}
    console.print(
        "answer sizes (SQLite): "
        + ", ".join(f"{e} {n / 1024:,.1f} KiB" for e, n in sizes.items())
        + f" (filings: the first; {len(filings)} in turn)"
    )
    console.print(build_table(run, args))
    results = verdicts(run, console)
    if profile:
        console.print(profile, markup=False, highlight=False)
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    console.print(f"benchmark wall time {time.perf_counter() - started:.0f} s · load average now {load}")
    return 0 if all(results) else 1


ROLES: dict[str, Callable[..., None]] = {
    "serve-registry": lambda url, seconds, port: serve_registry(url, int(port), float(seconds)),
    "serve-peer": lambda bodies, port: serve_peer(bodies, int(port)),
}

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ROLES:
        ROLES[sys.argv[1]](*sys.argv[2:])
        raise SystemExit(0)
    raise SystemExit(main())
