"""Benchmark of the kiroku ledger against the issue's targets.

Measures, for the ledger on SQLite (and on PostgreSQL with ``--postgres`` or a PostgreSQL ``--store``):

- batched appends of N realistic ``note`` records (small crawl / cleaning events of about 150 bytes), with the
  time to prepare records (pydantic validation + RFC 8785 canonical JSON) kept apart from the database appends;
- root, inclusion proof and consistency proof at N leaves, and proof verification (median and p99 over random
  indexes);
- signing a checkpoint, and the full audit (`Ledger.verify`);
- resident memory at N/10, N/2 and N records while appending and while auditing;
- the same root and inclusion proofs computed the naive way, from the list of all N leaves read back from the
  database (``merkle.root`` / ``merkle.inclusion_proof``), as the peer "naive recompute". It runs last, in a
  separate process, so that its memory (which grows with n) does not pollute the ledger's figures.

Then prints one table with the targets: >= 20,000 appends/s batched on SQLite, inclusion proof <= 2 ms at 1M leaves,
memory flat in n.

    .venv/bin/python bench/ledger.py                     # 1M records on SQLite, a few minutes
    .venv/bin/python bench/ledger.py --records 100000    # well under a minute
    .venv/bin/python bench/ledger.py --postgres          # also PostgreSQL, in a fresh schema dropped afterwards
    .venv/bin/python bench/ledger.py --records 100000 --profile --skip-audit --skip-naive   # where append time goes
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import multiprocessing
import os
import pstats
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from _machine import machine_description
from kiroku.ledger import Ledger, Signer, merkle, prepare, store
from kiroku.ledger.records import Entry, PreparedRecord

ORIGIN = "bench.example.org/kiroku/ledger"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MiB = 1024 * 1024
P = ParamSpec("P")
T = TypeVar("T")

# The targets.
TARGET_APPENDS_PER_S = 20_000
TARGET_INCLUSION_MS = 2.0
TARGET_FLAT_MIB = 16.0
"""Memory counts as flat in n when RSS grows by at most this much between N/10 and N records."""


# -- measuring ------------------------------------------------------------------------------------------------


def _statm_rss() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _getrusage_peak() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # kilobytes on Linux, bytes on macOS


def rss_bytes() -> int:
    """Current resident set size of this process (Linux /proc; elsewhere the peak from getrusage)."""
    current = _statm_rss()
    return _getrusage_peak() if current is None else current


def peak_rss_bytes() -> int:
    """Peak resident set size of this process.

    Linux's VmHWM, which starts afresh in a spawned process (getrusage's ru_maxrss would carry over the peak of
    the parent that forked it); elsewhere ru_maxrss.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                # the kernel updates the high-water mark lazily; it can lag the current RSS a little
                return max(int(line.split()[1]) * 1024, _statm_rss() or 0)
    except (OSError, ValueError, IndexError):
        pass
    return _getrusage_peak()


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of ``samples``."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def fmt_time(seconds: float) -> str:
    """A duration with a unit that keeps three significant digits or so."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds:.2f} s"


def fmt_dist(samples: Sequence[float]) -> str:
    """Median / p99 of durations in seconds."""
    if not samples:
        return "—"
    return f"{fmt_time(statistics.median(samples))} / {fmt_time(percentile(samples, 99))}"


def fmt_rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} rec/s" if seconds > 0 else "—"


def fmt_mib(n: float) -> str:
    return f"{n / MiB:,.1f}"


def fmt_count(n: int) -> str:
    """100000 -> 100k, 1000000 -> 1M (exact forms only; otherwise with separators)."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def memory_marks(n: int) -> list[int]:
    """Record counts at which memory is sampled: N/10, N/2 and N."""
    return sorted({max(1, n // 10), max(1, n // 2), n})


def timed(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> tuple[float, T]:
    """Call ``fn(*args, **kwargs)``; return (seconds, its value)."""
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def make_progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


# -- records --------------------------------------------------------------------------------------------------

_SITES = ("news.example.jp", "blog.example.com", "wiki.example.org", "forum.example.net", "docs.example.dev")
_RULES = ("pii.email", "pii.phone", "lang.not_ja", "quality.short", "toxicity", "boilerplate")
_BASE_TIME = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


def make_body(i: int) -> dict[str, Any]:
    """A small crawl or cleaning event (about 150 bytes of canonical JSON); every one differs."""
    h = (i * 2654435761) & 0xFFFFFFFF  # Knuth's multiplicative hash: cheap, deterministic variety
    site = _SITES[h % len(_SITES)]
    doc = f"doc-{i:09d}"
    body = _event(i, h, site, doc)
    body["run"] = "ja-web-2026-04"
    return body


def _event(i: int, h: int, site: str, doc: str) -> dict[str, Any]:
    match h % 4:
        case 0:
            return {
                "event": "crawl.fetch",
                "url": f"https://{site}/articles/{i}",
                "status": (200, 200, 200, 301, 404)[(h >> 3) % 5],
                "bytes": 2048 + h % 500_000,
                "ms": h % 3000,
                "robots": "allow",
            }
        case 1:
            return {
                "event": "clean.dedup",
                "doc": doc,
                "dup_of": f"doc-{(h >> 4) % (i + 1):09d}",
                "method": "minhash",
                "jaccard": round(0.8 + (h % 200) / 1000, 3),
                "source": site,
            }
        case 2:
            return {
                "event": "clean.filter",
                "doc": doc,
                "rule": _RULES[(h >> 5) % len(_RULES)],
                "action": "redact" if h & 64 else "drop",
                "matches": h % 7,
                "source": site,
            }
        case _:
            return {
                "event": "crawl.robots",
                "site": site,
                "path": f"/section/{h % 100}/{i}",
                "allowed": bool(h & 1),
                "tdm_reservation": bool(h & 2),
                "agent": "kiroku-bench/0.1",
            }


def prepare_batch(start: int, count: int) -> tuple[float, list[PreparedRecord]]:
    """Make ``count`` bodies and times (untimed), then prepare them (timed); return (seconds, records)."""
    items = [(make_body(i), _BASE_TIME + timedelta(milliseconds=37 * i)) for i in range(start, start + count)]
    t0 = time.perf_counter()
    records = [prepare("note", body, when) for body, when in items]
    return time.perf_counter() - t0, records


# -- stores ---------------------------------------------------------------------------------------------------


def with_search_path(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@contextmanager
def fresh_postgres_schema(base_url: str) -> Iterator[str]:
    """Create a fresh schema on the server at ``base_url``, yield a URL using it, drop it afterwards."""
    schema = f"kiroku_bench_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield with_search_path(base_url, schema)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def postgres_version(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar_one()).split()[0]
    finally:
        engine.dispose()


def store_size(ledger: Ledger, url: str) -> int | None:
    """Bytes the store takes on disk (SQLite files, or PostgreSQL relations of the current schema)."""
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        return sum(f.stat().st_size for f in files if f.exists())
    with ledger.engine.connect() as conn:
        value = conn.execute(
            text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            )
        ).scalar_one()
    return None if value is None else int(value)


# -- the ledger -----------------------------------------------------------------------------------------------


@dataclass
class BackendResult:
    label: str
    records: int
    body_bytes: int = 0
    prepare_s: float = 0.0
    append_s: float = 0.0
    rss_before: int = 0
    rss_append: dict[int, int] = field(default_factory=dict)
    rss_audit: dict[int, int] = field(default_factory=dict)
    root_s: list[float] = field(default_factory=list)
    inclusion_s: list[float] = field(default_factory=list)
    consistency_s: list[float] = field(default_factory=list)
    verify_inclusion_s: list[float] = field(default_factory=list)
    verify_consistency_s: list[float] = field(default_factory=list)
    failed_verifications: int = 0
    checkpoint_s: float = 0.0
    audit_s: float | None = None
    disk_bytes: int | None = None
    peak_rss: int = 0
    root_hash: bytes = b""
    naive_proofs: dict[int, list[bytes]] = field(default_factory=dict)

    @property
    def total_s(self) -> float:
        return self.prepare_s + self.append_s


def run_ledger(
    label: str, url: str, args: argparse.Namespace, naive_indexes: Sequence[int], console: Console
) -> BackendResult:
    n, marks = args.records, memory_marks(args.records)
    result = BackendResult(label, n)
    ledger = Ledger.create(url, ORIGIN)
    try:
        _append(ledger, result, args, marks, console)
        signer = Signer.generate(ORIGIN)
        result.checkpoint_s, _ = timed(ledger.checkpoint, signer)
        _proofs(ledger, result, args, console)
        result.root_hash = ledger.root(n)
        result.naive_proofs = {i: ledger.inclusion_proof(i, n) for i in naive_indexes}
        if not args.skip_audit:
            _audit(ledger, result, signer, marks, console)
        result.disk_bytes = store_size(ledger, url)
        result.peak_rss = max(peak_rss_bytes(), *result.rss_append.values(), *result.rss_audit.values())
    finally:
        ledger.close()
    return result


def _append(
    ledger: Ledger, result: BackendResult, args: argparse.Namespace, marks: list[int], console: Console
) -> None:
    n, pending = args.records, list(marks)
    profiler = cProfile.Profile() if args.profile else None
    result.rss_before = rss_bytes()
    with make_progress(console) as progress:
        task = progress.add_task(f"{result.label}: append", total=n)
        done = 0
        while done < n:
            count = min(args.batch, n - done)
            if profiler:
                profiler.enable()
            seconds, records = prepare_batch(done, count)
            result.prepare_s += seconds
            seconds, _ = timed(ledger.append_many, records, batch_size=args.batch)
            if profiler:
                profiler.disable()
            result.append_s += seconds
            result.body_bytes += sum(len(r.body) for r in records)
            del records
            done += count
            progress.advance(task, count)
            while pending and done >= pending[0]:
                result.rss_append[pending.pop(0)] = rss_bytes()
    if profiler:
        print_profile(profiler, console, f"{result.label}: prepare + append of {n:,} records")


def _proofs(ledger: Ledger, result: BackendResult, args: argparse.Namespace, console: Console) -> None:
    n = args.records
    rng = random.Random(args.seed)
    samples = args.samples
    indexes = [rng.randrange(n) for _ in range(samples)]
    old_sizes = [rng.randrange(1, n) for _ in range(samples)] if n > 1 else []
    # warm up SQLAlchemy's statement cache and the database's page cache
    for _ in range(5):
        ledger.root(n)
        ledger.inclusion_proof(rng.randrange(n), n)
        if n > 1:
            ledger.consistency_proof(rng.randrange(1, n), n)

    with make_progress(console) as progress:
        task = progress.add_task(f"{result.label}: proofs", total=3 * samples + 2 * len(old_sizes))
        for _ in range(samples):
            seconds, root = timed(ledger.root, n)
            result.root_s.append(seconds)
            progress.advance(task)
        for index in indexes:
            seconds, proof = timed(ledger.inclusion_proof, index, n)
            result.inclusion_s.append(seconds)
            leaf = ledger.record(index).entry.leaf_hash()  # what a verifier recomputes from the record
            seconds, ok = timed(merkle.verify_inclusion, leaf, index, n, proof, root)
            result.verify_inclusion_s.append(seconds)
            result.failed_verifications += not ok
            progress.advance(task, 2)
        for size1 in old_sizes:
            seconds, proof = timed(ledger.consistency_proof, size1, n)
            result.consistency_s.append(seconds)
            old_root = ledger.root(size1)
            seconds, ok = timed(merkle.verify_consistency, size1, n, old_root, root, proof)
            result.verify_consistency_s.append(seconds)
            result.failed_verifications += not ok
            progress.advance(task, 2)


def _audit(ledger: Ledger, result: BackendResult, signer: Signer, marks: list[int], console: Console) -> None:
    pending, done = list(marks), 0
    with make_progress(console) as progress:
        task = progress.add_task(f"{result.label}: audit", total=result.records)

        def advance(count: int) -> None:
            nonlocal done
            done += count
            progress.advance(task, count)
            while pending and done >= pending[0]:
                result.rss_audit[pending.pop(0)] = rss_bytes()

        result.audit_s, report = timed(ledger.verify, signer.verifier(), progress=advance)
    if report.size != result.records or report.checkpoints != 1:
        raise SystemExit(
            f"{result.label}: the audit checked {report.size} records, expected {result.records}"
        )


def print_profile(profiler: cProfile.Profile, console: Console, title: str) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    console.rule(f"cProfile: {title}")
    console.print(out.getvalue(), markup=False, highlight=False)


# -- the naive peer -------------------------------------------------------------------------------------------


@dataclass
class NaiveResult:
    load_s: float = 0.0
    rss_before: int = 0
    rss_at: dict[int, int] = field(default_factory=dict)
    peak_at: dict[int, int] = field(default_factory=dict)
    root_s: dict[int, float] = field(default_factory=dict)
    inclusion_s: list[float] = field(default_factory=list)
    agrees: bool = True


def naive_worker(
    url: str, n: int, marks: list[int], root: bytes, proofs: dict[int, list[bytes]], pipe: Pipe
) -> None:
    """Read all leaves into a list, recompute roots at each mark and inclusion proofs at n; send a NaiveResult."""
    result = NaiveResult(rss_before=rss_bytes())
    console = Console(stderr=True)
    leaves = store.leaves
    engine = store.connect(url)
    data: list[bytes] = []
    pending = list(marks)
    compute_s = 0.0
    try:
        start = time.perf_counter()
        with make_progress(console) as progress, engine.connect() as conn:
            task = progress.add_task("naive recompute: read leaves", total=n)
            rows = conn.execution_options(yield_per=10_000).execute(
                select(leaves.c.kind, leaves.c.time, leaves.c.body_sha256)
                .where(leaves.c.idx < n)
                .order_by(leaves.c.idx)
            )
            for kind, when, digest in rows:
                data.append(Entry(kind, when, bytes(digest)).leaf_data())
                if len(data) % 10_000 == 0:
                    progress.advance(task, 10_000)
                if pending and len(data) == pending[0]:
                    seconds, mark_root = timed(merkle.root, data)
                    compute_s += seconds
                    mark = pending.pop(0)
                    result.root_s[mark] = seconds
                    result.rss_at[mark] = rss_bytes()
                    result.peak_at[mark] = max(peak_rss_bytes(), result.rss_at[mark])
                    if mark == n:
                        result.agrees &= mark_root == root
        result.load_s = time.perf_counter() - start - compute_s
        for index, expected in proofs.items():
            seconds, proof = timed(merkle.inclusion_proof, data, index, n)
            result.inclusion_s.append(seconds)
            result.agrees &= proof == expected
        result.peak_at[n] = peak_rss_bytes()
    finally:
        engine.dispose()
    pipe.send(result)
    pipe.close()


def run_naive(url: str, n: int, root: bytes, proofs: dict[int, list[bytes]]) -> NaiveResult:
    """Run `naive_worker` in a fresh process, so its memory is its own."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=naive_worker, args=(url, n, memory_marks(n), root, proofs, sender))
    process.start()
    sender.close()
    result: NaiveResult = receiver.recv()
    process.join()
    return result


# -- the report -----------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "[green]PASS[/]" if ok else "[red]MISS[/]"


def rss_series(values: dict[int, int]) -> str:
    return " / ".join(fmt_mib(values[m]) for m in sorted(values)) + " MiB" if values else "—"


def rss_growth(values: dict[int, int]) -> float | None:
    marks = sorted(values)
    if len(marks) < 2:
        return None
    return (values[marks[-1]] - values[marks[0]]) / MiB


def fmt_growth(values: dict[int, int]) -> str:
    growth = rss_growth(values)
    if growth is None:
        return "—"
    span = sorted(values)[-1] - sorted(values)[0]
    per_record = growth * MiB / span if span else 0.0
    return f"{growth:+,.1f} MiB ({per_record:+.1f} B/rec)"


def build_table(
    args: argparse.Namespace, results: list[BackendResult], naive: NaiveResult | None
) -> tuple[Table, list[bool]]:
    n = args.records
    marks = memory_marks(n)
    at_n = fmt_count(n)
    mark_names = " / ".join(fmt_count(m) for m in marks)
    sqlite = results[0]
    table = Table(
        title=f"kiroku ledger · {n:,} note records (mean body {sqlite.body_bytes / n:.0f} B) · batch {args.batch:,}"
        f" · {args.samples:,} proof samples",
        show_lines=True,
    )
    table.add_column("metric", style="bold")
    for r in results:
        table.add_column(f"kiroku ({r.label})", justify="right")
    table.add_column("naive recompute", justify="right")
    table.add_column("target", justify="left")
    table.add_column("result", justify="center")
    verdicts: list[bool] = []

    def row(
        metric: str, values: list[str], peer: str = "—", target: str = "", ok: bool | None = None
    ) -> None:
        if ok is not None:
            verdicts.append(ok)
        table.add_row(metric, *values, peer, target, "" if ok is None else verdict(ok))

    def each(fn: Callable[[BackendResult], str]) -> list[str]:
        return [fn(r) for r in results]

    row("prepare (pydantic + RFC 8785 JSON)", each(lambda r: fmt_rate(n, r.prepare_s)))
    row("append to database (batched)", each(lambda r: fmt_rate(n, r.append_s)))
    total_ok = n / sqlite.total_s >= TARGET_APPENDS_PER_S
    row(
        "appends total (prepare + database)",
        each(lambda r: f"{fmt_rate(n, r.total_s)}\n{r.total_s:.1f} s"),
        target=f"≥ {TARGET_APPENDS_PER_S:,}/s batched on SQLite",
        ok=total_ok,
    )
    naive_root = naive.root_s.get(n) if naive else None
    row(
        f"root at {at_n} (median / p99)",
        each(lambda r: fmt_dist(r.root_s)),
        "—" if naive_root is None else f"{fmt_time(naive_root)} (1 run)",
    )
    incl_ok = all(statistics.median(r.inclusion_s) <= TARGET_INCLUSION_MS / 1e3 for r in results)
    naive_incl = (
        f"{fmt_time(statistics.median(naive.inclusion_s))} / {fmt_time(max(naive.inclusion_s))}"
        f"\n(median / max of {len(naive.inclusion_s)})"
        if naive and naive.inclusion_s
        else "—"
    )
    row(
        f"inclusion proof at {at_n} (median / p99)",
        each(lambda r: fmt_dist(r.inclusion_s)),
        naive_incl,
        target=f"≤ {TARGET_INCLUSION_MS:g} ms (median) at 1M leaves"
        + ("" if n == 1_000_000 else f"; run at {at_n}"),
        ok=incl_ok,
    )
    row(f"consistency proof s1 → {at_n} (median / p99)", each(lambda r: fmt_dist(r.consistency_s)))
    row("verify inclusion proof (median / p99)", each(lambda r: fmt_dist(r.verify_inclusion_s)))
    row("verify consistency proof (median / p99)", each(lambda r: fmt_dist(r.verify_consistency_s)))
    row("failed proof verifications", each(lambda r: f"{r.failed_verifications}"))
    row(f"sign checkpoint at {at_n}", each(lambda r: fmt_time(r.checkpoint_s)))
    if not args.skip_audit:
        row(
            "full audit (Ledger.verify)",
            each(lambda r: "—" if r.audit_s is None else f"{r.audit_s:.1f} s\n{fmt_rate(n, r.audit_s)}"),
        )
    if naive:
        row(
            f"read {at_n} leaves from the database",
            ["—" for _ in results],
            f"{naive.load_s:.1f} s\n{fmt_rate(n, naive.load_s)}",
        )
    row(
        f"RSS while appending at {mark_names}",
        each(lambda r: f"{rss_series(r.rss_append)}\n(before: {fmt_mib(r.rss_before)} MiB)"),
        f"{rss_series(naive.rss_at)}\n(holding the leaves; before: {fmt_mib(naive.rss_before)} MiB)"
        if naive
        else "—",
    )
    growths = [rss_growth(r.rss_append) for r in results]
    mem_ok = all(g is not None and g <= TARGET_FLAT_MIB for g in growths)
    if not args.skip_audit:
        audit_growths = [rss_growth(r.rss_audit) for r in results]
        mem_ok = mem_ok and all(g is not None and g <= TARGET_FLAT_MIB for g in audit_growths)
    first, last = fmt_count(marks[0]), fmt_count(marks[-1])
    row(
        f"RSS growth appending, {first} → {last}",
        each(lambda r: fmt_growth(r.rss_append)),
        fmt_growth(naive.rss_at) if naive else "—",
        target=f"flat in n: ≤ {TARGET_FLAT_MIB:g} MiB growth {first} → {last}\n(appending and auditing)",
        ok=mem_ok,
    )
    if not args.skip_audit:
        row(f"RSS while auditing at {mark_names}", each(lambda r: rss_series(r.rss_audit)))
        row(f"RSS growth auditing, {first} → {last}", each(lambda r: fmt_growth(r.rss_audit)))
    row(
        "peak RSS of the process so far (VmHWM)",
        each(lambda r: f"{fmt_mib(r.peak_rss)} MiB"),
        f"{rss_series(naive.peak_at)}\n(at {mark_names})" if naive else "—",
    )
    row(
        "store size on disk",
        each(
            lambda r: (
                "—" if r.disk_bytes is None else f"{fmt_mib(r.disk_bytes)} MiB\n{r.disk_bytes / n:,.0f} B/rec"
            )
        ),
    )
    if naive:
        row(
            "naive root and proofs equal kiroku's",
            ["—" for _ in results],
            "[green]yes[/]" if naive.agrees else "[red]NO[/]",
        )
    return table, verdicts


# -- main -----------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--records", type=int, default=1_000_000, help="records to append (default 1,000,000)"
    )
    parser.add_argument(
        "--batch", type=int, default=10_000, help="records per append transaction (default 10,000)"
    )
    parser.add_argument(
        "--store",
        default=None,
        help="database URL (default: a SQLite file in a temporary folder). A PostgreSQL URL whose search_path "
        "names an empty schema, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%%3Dbench, "
        "adds a PostgreSQL column beside the default SQLite one.",
    )
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=DEFAULT_POSTGRES,
        default=None,
        metavar="URL",
        help=f"also measure PostgreSQL, in a fresh schema created and dropped on the server at URL "
        f"(default {DEFAULT_POSTGRES})",
    )
    parser.add_argument("--skip-audit", action="store_true", help="skip the full audit (Ledger.verify)")
    parser.add_argument("--skip-naive", action="store_true", help="skip the naive recompute peer")
    parser.add_argument("--samples", type=int, default=1000, help="random proofs to time (default 1000)")
    parser.add_argument(
        "--naive-samples", type=int, default=5, help="inclusion proofs the naive peer computes (default 5)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random proof indexes")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile prepare + append and print where the time goes"
    )
    args = parser.parse_args(argv)
    if args.records < 2 or args.batch < 1 or args.samples < 1:
        parser.error("need --records >= 2, --batch >= 1 and --samples >= 1")
    if args.store and not args.store.startswith(("sqlite", "postgresql")):
        parser.error("--store must be a sqlite:/// or postgresql+psycopg:// URL")
    if args.store and args.store.startswith("postgresql") and args.postgres:
        parser.error("give either a PostgreSQL --store or --postgres, not both")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 150))
    n = args.records
    rng = random.Random(args.seed + 1)
    naive_indexes = sorted(rng.sample(range(n), min(args.naive_samples, n)))
    postgres_url = args.store if args.store and args.store.startswith("postgresql") else None
    sqlite_url = args.store if args.store and args.store.startswith("sqlite") else None
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="kiroku-bench-") as folder:
        sqlite_url = sqlite_url or f"sqlite:///{Path(folder) / 'ledger.sqlite'}"
        pg_version = (
            postgres_version(postgres_url or args.postgres) if (postgres_url or args.postgres) else None
        )
        databases = [
            f"SQLite {sqlite3.sqlite_version}",
            *([f"PostgreSQL {pg_version}"] if pg_version else []),
        ]
        console.print(f"[bold]machine:[/] {machine_description(('SQLAlchemy',), databases)}")
        if args.profile:
            console.print("[yellow]--profile is on: the append figures include cProfile's overhead[/]")

        results = [run_ledger("SQLite", sqlite_url, args, naive_indexes, console)]
        if postgres_url:
            results.append(run_ledger("PostgreSQL", postgres_url, args, naive_indexes, console))
        elif args.postgres:
            with fresh_postgres_schema(args.postgres) as url:
                results.append(run_ledger("PostgreSQL", url, args, naive_indexes, console))

        naive = None
        if not args.skip_naive:
            naive = run_naive(sqlite_url, n, results[0].root_hash, results[0].naive_proofs)

    table, verdicts = build_table(args, results, naive)
    console.print(table)
    console.print(f"benchmark wall time {time.perf_counter() - started:.0f} s")
    return 0 if all(verdicts) and (naive is None or naive.agrees) else 1


if __name__ == "__main__":
    raise SystemExit(main())
