"""Benchmark of kiroku's WARC ingest against a bare FastWARC read loop, in the same run.

Input: real web pages. Debian builds of pages published at docs.python.org, www.postgresql.org/docs and (when
installed) www.kernel.org/doc and docs.djangoproject.com, each page a WARC response record (HTTP/1.1 200 with its
headers) at its public URL, gzip per record, written with warcio into 8 parts of equal size under a cache folder
(default ~/.cache/kiroku-bench) and reused from there. Pages of the packages are interleaved, so that any prefix of
the parts has the same mix; no page is repeated; pages over 1 MiB are left out, as Common Crawl truncates there.

Measured on S MB of pages (``--size-mb``; the WARC is a little larger with its headers) and on its first quarter,
each measurement in a fresh process so that its peak memory (VmHWM) is its own:

- FastWARC, bare: ``ArchiveIterator`` over the response records, reading every block and nothing else (the peer);
- kiroku ``read_warc``: HTTP parsing, HTML to text (resiliparse), opt-out signals, and per document the SHA-256
  id and the token count (what a shard computes);
- kiroku ``ingest_files``: all of that written into a fresh workspace's catalog (Parquet shards) and ledger.

Then prints one table with the targets: >= 20 MB/s of WARC per core including text extraction and hashing (each
measurement runs in one process, on one core), and memory flat in input size (peak RSS on the whole input no more
than ``--flat-mib`` above the peak on its first quarter).

    apt-get install python3.11-doc postgresql-doc-15     # the pages (62 MB of HTML)
    apt-get install linux-doc-6.1 python-django-doc      # more pages, for --size-mb up to 200
    .venv/bin/python bench/ingest.py                     # 60 MB and 15 MB, about a minute
    .venv/bin/python bench/ingest.py --size-mb 200 --repeat 2 --cache /tmp/kiroku-bench
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import math
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from functools import partial
from itertools import zip_longest
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecordType
from rich.console import Console
from rich.table import Table
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from _machine import machine_description
from kiroku.catalog import DataType, Source, register_source
from kiroku.catalog.schema import count_tokens
from kiroku.catalog.shards import doc_id_of
from kiroku.ingest import ingest_files, read_warc
from kiroku.workspace import Workspace

MB = 1_000_000
MiB = 1024 * 1024
FORMAT = 1
"""Bumped when the way parts are written changes, so that cached parts are rebuilt."""

# The targets.
TARGET_MB_PER_S = 20.0
"""MB of WARC per second per core, including text extraction and hashing."""
DEFAULT_FLAT_MIB = 16.0
"""Memory counts as flat when the peak RSS on S MB is at most this much above the peak on S/4 MB."""


@dataclass(frozen=True)
class DocPackage:
    """A Debian package of HTML documentation and the public URL its pages are published at."""

    package: str
    html: Path
    url: str
    required: bool


PACKAGES = (
    DocPackage(
        "python3.11-doc", Path("/usr/share/doc/python3.11/html"), "https://docs.python.org/3.11/", True
    ),
    DocPackage(
        "postgresql-doc-15",
        Path("/usr/share/doc/postgresql-doc-15/html"),
        "https://www.postgresql.org/docs/15/",
        True,
    ),
    DocPackage(
        "linux-doc-6.1",
        Path("/usr/share/doc/linux-doc-6.1/html"),
        "https://www.kernel.org/doc/html/v6.1/",
        False,
    ),
    DocPackage(
        "python-django-doc",
        Path("/usr/share/doc/python-django-doc/html"),
        "https://docs.djangoproject.com/en/3.2/",
        False,
    ),
)
_NOT_PAGES = frozenset({"_sources", "_static", "_images", "_downloads"})
MAX_PAGE = 1 << 20
"""Pages above 1 MiB are left out, as Common Crawl truncates a record's payload at 1 MiB."""


# -- the input ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    url: str
    path: Path
    size: int
    mtime: float


def pages_of(package: DocPackage) -> list[Page]:
    """The package's HTML pages of up to 1 MiB in path order (not the Sphinx sources, scripts or images)."""
    pages = []
    for path in sorted(package.html.rglob("*.html")):
        relative = path.relative_to(package.html)
        if _NOT_PAGES.intersection(relative.parts) or not path.is_file():
            continue
        stat = path.stat()
        if stat.st_size > MAX_PAGE:
            continue
        pages.append(Page(package.url + relative.as_posix(), path, stat.st_size, stat.st_mtime))
    return pages


def interleave(lists: Sequence[list[Page]]) -> list[Page]:
    """One page of each package in turn, so that any prefix has every package's kind of page."""
    return [page for group in zip_longest(*lists) for page in group if page is not None]


@dataclass(frozen=True)
class Part:
    name: str
    records: int
    compressed: int
    uncompressed: int


def response(writer: WARCWriter, page: Page, body: bytes) -> None:
    try:
        body.decode("utf-8")
        content_type = "text/html; charset=utf-8"
    except UnicodeDecodeError:
        content_type = "text/html"
    date = datetime.fromtimestamp(page.mtime, UTC)
    http = StatusAndHeaders(
        "200 OK",
        [
            ("Date", date.strftime("%a, %d %b %Y %H:%M:%S GMT")),
            ("Server", "nginx"),
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Last-Modified", date.strftime("%a, %d %b %Y %H:%M:%S GMT")),
        ],
        protocol="HTTP/1.1",
    )
    record = writer.create_warc_record(
        page.url,
        "response",
        payload=io.BytesIO(body),
        http_headers=http,
        warc_headers_dict={"WARC-Date": date.strftime("%Y-%m-%dT%H:%M:%SZ")},
    )
    writer.write_record(record)


def uncompressed_size(path: Path) -> int:
    size = 0
    with gzip.open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            size += len(chunk)
    return size


def build_parts(folder: Path, pages: list[Page], part_bytes: int, count: int, console: Console) -> list[Part]:
    """Write ``count`` parts of about ``part_bytes`` of HTML each from ``pages``, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    parts: list[Part] = []
    remaining = iter(pages)
    for number in range(count):
        name = f"debian-docs-{number:05d}.warc.gz"
        tmp = folder / (name + ".tmp")
        records = html = 0
        with tmp.open("wb") as handle:
            writer = WARCWriter(handle, gzip=True)
            for page in remaining:
                response(writer, page, page.path.read_bytes())
                records += 1
                html += page.size
                if html >= part_bytes:
                    break
        tmp.replace(folder / name)
        part = Part(name, records, (folder / name).stat().st_size, uncompressed_size(folder / name))
        parts.append(part)
        console.print(
            f"  built {name}: {records:,} pages, {part.compressed / MB:.1f} MB "
            f"({part.uncompressed / MB:.1f} MB uncompressed)"
        )
    return parts


def cached_parts(
    cache: Path, packages: Sequence[DocPackage], size_mb: float, console: Console
) -> tuple[Path, list[Part]]:
    """The 8 WARC.gz parts for ``size_mb`` of pages, built once per package set and size, then reused."""
    pages = interleave([pages_of(p) for p in packages])
    part_bytes = math.ceil(size_mb * MB / 8)
    key = hashlib.sha256(
        json.dumps(
            [FORMAT, part_bytes, [(p.url, p.size, p.mtime) for p in pages]], separators=(",", ":")
        ).encode()
    ).hexdigest()[:16]
    folder = cache / f"debian-docs-{key}"
    manifest = folder / "manifest.json"
    if manifest.is_file():
        parts = [Part(**p) for p in json.loads(manifest.read_text())["parts"]]
        if all(
            (folder / p.name).is_file() and (folder / p.name).stat().st_size == p.compressed for p in parts
        ):
            console.print(f"input: reusing {len(parts)} parts in {folder}")
            return folder, parts
    console.print(f"input: building 8 parts of {part_bytes / MB:.1f} MB of HTML each in {folder}")
    parts = build_parts(folder, pages, part_bytes, 8, console)
    sources = {p.package: p.url for p in packages}
    manifest.write_text(json.dumps({"sources": sources, "parts": [asdict(p) for p in parts]}, indent=1))
    return folder, parts


def check_input(size_mb: float, console: Console) -> list[DocPackage]:
    """The installed packages when they hold enough pages for ``size_mb``; otherwise say what to install."""
    installed = [p for p in PACKAGES if p.html.is_dir()]
    missing = [p for p in PACKAGES if not p.html.is_dir()]
    required = [p for p in missing if p.required]
    if required:
        names = " ".join(p.package for p in required)
        console.print(
            f"[red]the pages come from Debian documentation packages; install them:[/] apt-get install {names}"
        )
        raise SystemExit(2)
    available = sum(page.size for p in installed for page in pages_of(p)) / MB
    if available < size_mb * 1.02:
        more = " ".join(p.package for p in missing)
        hint = f"apt-get install {more}, or " if more else ""
        console.print(
            f"[red]the installed packages hold {available:.0f} MB of HTML, less than --size-mb {size_mb:g};[/] "
            f"{hint}use --size-mb {math.floor(available / 1.02):.0f} or less"
        )
        raise SystemExit(2)
    return installed


# -- measuring ------------------------------------------------------------------------------------------------


def _statm_rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """Peak RSS of this process: Linux's VmHWM, which starts afresh in a spawned process; else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return max(int(line.split()[1]) * 1024, _statm_rss())
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def cpu_seconds() -> float:
    """User and system CPU time of this process so far (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Measurement:
    seconds: float
    cpu_seconds: float
    documents: int
    rss_before: int
    peak_rss: int
    shards: int = 0
    text_bytes: int = 0


Counts = tuple[int, int, int]
"""(documents, shards, bytes of text in the shards) of one run."""
Run = Callable[[], Counts]


def bare_fastwarc(paths: Sequence[Path], folder: Path, shard_documents: int) -> Run:
    """The peer: read every response record's block with FastWARC and nothing else."""

    def run() -> Counts:
        records = 0
        for path in paths:
            with path.open("rb") as handle:
                for record in ArchiveIterator(handle, record_types=WarcRecordType.response, parse_http=False):
                    record.reader.read()
                    records += 1
        return records, 0, 0

    return run


def kiroku_read(paths: Sequence[Path], folder: Path, shard_documents: int) -> Run:
    """kiroku's reader, and per document what a shard computes: the SHA-256 id and the token count."""

    def run() -> Counts:
        documents = 0
        for path in paths:
            for _, doc in read_warc(path):
                doc_id_of(doc.text)
                count_tokens(doc.text)
                documents += 1
        return documents, 0, 0

    return run


def kiroku_ingest(paths: Sequence[Path], folder: Path, shard_documents: int) -> Run:
    """A full ingest into a fresh workspace (made before the clock starts): Parquet shards and ledger records."""
    ws = Workspace.init(folder / "ws", "Bench")
    with ws.ledger() as ledger:
        register_source(ledger, Source(name="docs", type=DataType.web_crawl))
    reader = partial(read_warc, optout=ws.config.optout.to_policy())

    def run() -> Counts:
        with ws.ledger() as ledger:
            results = ingest_files(
                ledger, ws.catalog_dir, "docs", paths, reader, max_documents=shard_documents
            )
        shards = [shard for result in results for shard in result.shards]
        return sum(r.documents for r in results), len(shards), sum(shard.bytes for shard in shards)

    return run


SYSTEMS: dict[str, Callable[[Sequence[Path], Path, int], Run]] = {
    "fastwarc": bare_fastwarc,
    "read": kiroku_read,
    "ingest": kiroku_ingest,
}


def worker(system: str, paths: list[Path], shard_documents: int, pipe: Pipe) -> None:
    """Run one measurement in this (fresh) process and send back a Measurement."""
    with tempfile.TemporaryDirectory(prefix="kiroku-bench-") as folder:
        run = SYSTEMS[system](paths, Path(folder), shard_documents)
        rss_before = _statm_rss()
        cpu_start, start = cpu_seconds(), time.perf_counter()
        documents, shards, text_bytes = run()
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
        peak = peak_rss_bytes()
    pipe.send(Measurement(seconds, cpu, documents, rss_before, peak, shards, text_bytes))
    pipe.close()


def measure_once(system: str, paths: list[Path], shard_documents: int) -> Measurement:
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=worker, args=(system, paths, shard_documents, sender))
    process.start()
    sender.close()
    try:
        result: Measurement = receiver.recv()
    except EOFError:
        process.join()
        raise SystemExit(f"the {system} measurement failed (exit code {process.exitcode})") from None
    process.join()
    return result


def measure(system: str, paths: list[Path], shard_documents: int, repeat: int) -> Measurement:
    """The fastest of ``repeat`` runs, each in a fresh process, with the highest peak memory of them."""
    runs = [measure_once(system, paths, shard_documents) for _ in range(repeat)]
    best = min(runs, key=lambda m: m.seconds)
    return replace(best, peak_rss=max(m.peak_rss for m in runs))


# -- the report -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    label: str
    paths: list[Path]
    parts: list[Part]

    @property
    def compressed(self) -> int:
        return sum(p.compressed for p in self.parts)

    @property
    def uncompressed(self) -> int:
        return sum(p.uncompressed for p in self.parts)

    @property
    def records(self) -> int:
        return sum(p.records for p in self.parts)


def verdict(ok: bool) -> str:
    return "[green]met[/]" if ok else "[red]not met[/]"


KIROKU = ("read", "ingest")
NAMES = {
    "fastwarc": "FastWARC bare loop\n(read each response block)",
    "read": "kiroku read_warc\n(+ text, SHA-256, tokens)",
    "ingest": "kiroku ingest_files\n(+ Parquet shards, ledger)",
}


def build_table(
    inputs: list[Input], results: dict[tuple[str, str], Measurement], args: argparse.Namespace
) -> tuple[Table, list[bool]]:
    """One column per system; each cell holds the figure on the small input above the one on the large."""
    small, large = inputs
    both = f"({small.label} / {large.label})"
    table = Table(
        title=f"WARC ingest of real web pages · {small.label} and {large.label} of WARC"
        f" · shards of {args.shard_documents:,} documents · best of {args.repeat}",
        show_lines=True,
    )
    table.add_column("metric", style="bold")
    for system in SYSTEMS:
        table.add_column(NAMES[system], justify="right")
    table.add_column("target", justify="left")
    table.add_column("result", justify="center")
    verdicts: list[bool] = []

    def row(
        metric: str, fn: Callable[[Measurement, Input], str], target: str = "", ok: bool | None = None
    ) -> None:
        cells = ["\n".join(fn(results[system, i.label], i) for i in inputs) for system in SYSTEMS]
        if ok is not None:
            verdicts.append(ok)
        table.add_row(metric, *cells, target, "" if ok is None else verdict(ok))

    def rate_ok(size: Callable[[Input], int]) -> bool:
        return all(
            size(i) / results[s, i.label].seconds / MB >= TARGET_MB_PER_S for s in KIROKU for i in inputs
        )

    row(f"wall time {both}", lambda m, i: f"{m.seconds:.2f} s")
    row(f"CPU time, user + system {both}", lambda m, i: f"{m.cpu_seconds:.2f} s")
    row(
        f"documents {both}",
        lambda m, i: f"{m.documents:,}" + (f" in {m.shards} shards" if m.shards else ""),
    )
    row(f"documents/s {both}", lambda m, i: f"{m.documents / m.seconds:,.0f}")
    row(f"text kept (UTF-8) {both}", lambda m, i: f"{m.text_bytes / MB:,.1f} MB" if m.text_bytes else "")
    row(
        f"MB/s of WARC, uncompressed {both}",
        lambda m, i: f"{i.uncompressed / m.seconds / MB:,.1f}",
        target=f"≥ {TARGET_MB_PER_S:g} MB/s per core\n(kiroku columns)",
        ok=rate_ok(lambda i: i.uncompressed),
    )
    row(
        f"MB/s of WARC, .warc.gz as stored {both}",
        lambda m, i: f"{i.compressed / m.seconds / MB:,.1f}",
        target=f"≥ {TARGET_MB_PER_S:g} MB/s per core\n(kiroku columns)",
        ok=rate_ok(lambda i: i.compressed),
    )
    row(
        f"MB/s of WARC, uncompressed, per CPU second {both}",
        lambda m, i: f"{i.uncompressed / m.cpu_seconds / MB:,.1f}" if m.cpu_seconds else "—",
    )
    row(f"RSS after imports {both}", lambda m, i: f"{m.rss_before / MiB:,.0f} MiB")
    row(f"peak RSS, VmHWM {both}", lambda m, i: f"{m.peak_rss / MiB:,.0f} MiB")
    growth = {s: (results[s, large.label].peak_rss - results[s, small.label].peak_rss) / MiB for s in SYSTEMS}
    flat = all(growth[s] <= args.flat_mib for s in KIROKU)
    extra_text = results["ingest", large.label].text_bytes - results["ingest", small.label].text_bytes
    verdicts.append(flat)
    table.add_row(
        f"peak RSS growth, {small.label} → {large.label}",
        *[f"{growth[s]:+,.1f} MiB" for s in SYSTEMS],
        f"flat: ≤ {args.flat_mib:g} MiB more on\n{large.uncompressed / small.uncompressed:.1f}× the input (kiroku);"
        f"\nits text is {extra_text / MB:,.1f} MB more",
        verdict(flat),
    )
    agree = all(
        results["read", i.label].documents == results["ingest", i.label].documents
        and results["fastwarc", i.label].documents == i.records
        for i in inputs
    )
    verdicts.append(agree)
    table.add_row(
        "responses read / documents kept agree",
        "\n".join(f"{i.records:,} written" for i in inputs),
        "yes" if agree else "[red]NO[/]",
        "",
        "",
        "",
    )
    return table, verdicts


# -- main -----------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--size-mb", type=float, default=60.0, help="input size in MB of web pages (default 60)"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "kiroku-bench",
        help="folder for the WARC.gz parts, reused when present (default ~/.cache/kiroku-bench)",
    )
    parser.add_argument(
        "--shard-documents",
        type=int,
        default=100,
        help="documents per catalog shard in the full ingest (default 100)",
    )
    parser.add_argument(
        "--flat-mib",
        type=float,
        default=DEFAULT_FLAT_MIB,
        help=f"allowed peak RSS growth (default {DEFAULT_FLAT_MIB:g})",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each measurement; the fastest counts (default 1)"
    )
    args = parser.parse_args(argv)
    if args.size_mb <= 0 or args.shard_documents < 1 or args.repeat < 1:
        parser.error("need --size-mb > 0, --shard-documents >= 1 and --repeat >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 160))
    started = time.perf_counter()
    console.print(f"[bold]machine:[/] {machine_description(('fastwarc', 'resiliparse', 'pyarrow'))}")
    packages = check_input(args.size_mb, console)
    console.print(
        "[bold]pages:[/] Debian builds of pages published at "
        + ", ".join(f"{p.url} ({p.package})" for p in packages)
    )
    folder, parts = cached_parts(args.cache.expanduser(), packages, args.size_mb, console)
    small, large = parts[:2], parts
    inputs = [
        Input(f"{sum(p.uncompressed for p in chosen) / MB:.0f} MB", [folder / p.name for p in chosen], chosen)
        for chosen in (small, large)
    ]
    for i in inputs:
        console.print(
            f"input {i.label}: {len(i.parts)} of 8 parts, {i.records:,} response records, "
            f"{i.uncompressed / MB:.1f} MB of WARC ({i.compressed / MB:.1f} MB .warc.gz)"
        )
    results: dict[tuple[str, str], Measurement] = {}
    for item in inputs:
        for system in SYSTEMS:
            console.print(f"measuring {system} on {item.label} …")
            results[system, item.label] = measure(system, item.paths, args.shard_documents, args.repeat)
    table, verdicts = build_table(inputs, results, args)
    console.print(table)
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    console.print(f"benchmark wall time {time.perf_counter() - started:.0f} s · load average now {load}")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
