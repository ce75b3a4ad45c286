"""Benchmark of kiroku's domain index against a DuckDB scan of the same Parquet catalog, in one run.

Input: a synthetic catalog written as a real kiroku workspace (`Workspace.init`): ``--docs`` documents over
``--domains`` registrable domains in shards of ``--shard-docs``, each shard a docs Parquet file of the catalog's
schema, an empty text file and a ``catalog.shard`` ledger record with its files' SHA-256 and the Merkle root of
its document ids; then a cleaning stage (``quality``, keeping about 80% of the kept documents, more of some
domains than of others) and a training run over it. Everything is drawn with numpy and pyarrow, vectorised:

- pages per domain follow Zipf's law: the domain of rank r has about C * r^-s pages (s = ``--zipf``, default
  1.1), every domain at least one, C set so the total is exactly ``--docs``; ranks are dealt to domains at
  random and the documents of all domains shuffled, as a crawl interleaves sites;
- domains ``dNNNNNNN.<tld>`` over com, jp, co.jp, net, org, de, co.uk and io; the URL's host is the domain or
  ``www.`` under it, and for a domain of 10 pages or more, often also news., blog., shop., docs. or m.;
- fetch times uniform over 2026-01..2026-06; bytes log-normal (median 5 kB), tokens 3.5 to 5.5 bytes each;
- opt-outs: 3% of domains disallow GPTBot in robots.txt (``robots:GPTBot``), 1% reserve TDM rights
  (``tdmrep:reserved``), and 0.5% of other pages carry ``meta-robots:noai``; those documents are not kept.

Measured, each in a fresh process so that its peak memory (VmHWM) is its own, on that catalog and on one a
tenth of its size (documents and domains):

- kiroku: `build_domain_index` (time, documents/s, peak RSS, index bytes per domain); then in another process
  `DomainIndex.open` and ``--queries`` single names (half drawn from the catalog in proportion to their pages,
  half near misses never in it), each as a `DomainIndex.lookup` in the catalog scope and as the whole answer
  (`parse_target` and `answer_domain`: every scope, the plain words), p50 / p99; then ``--bulk`` names drawn the
  same way, as one `lookup_many` in the catalog scope and as `answer_many` (the rows ``kiroku query domains``
  writes), queries/s; on the large catalog also the incremental update after one more shard (a tenth of the
  catalog or one shard, whichever is smaller; a tenth of its documents on new domains);
- the peer, DuckDB over the same docs Parquet files: a single query is ``SELECT count(*), sum(bytes), ... FROM
  read_parquet(files) WHERE domain = ?`` (the catalog's counts only); the bulk names one query joining them
  with the catalog, grouped by name, and one that also joins the stage's lineage file for what it kept (which
  is also what the run trained on);
- that both give the same documents, bytes, kept documents at ingest, by the stage and in the run for every bulk
  name and the same single names found, and that DuckDB's documents are the pages the generator dealt.

Then prints one table with the targets: p99 <= 5 ms per single query (the whole answer), >= 20,000 bulk
queries/s (`answer_many`), build >= 1M documents/s, memory flat (the build's peak RSS on the large catalog at
most ``--flat-mib`` above the small one's). Exits 1 if a target is missed or an answer differs.

    .venv/bin/python bench/domains.py                                 # 10M documents over 1M domains: ~5 min
    .venv/bin/python bench/domains.py --docs 200000 --domains 20000   # under a minute
    .venv/bin/python bench/domains.py --docs 1000000 --domains 100000 --keep --workdir /tmp/bench
"""

from __future__ import annotations

import argparse
import hashlib
import math
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from _machine import machine_description
from kiroku.catalog import DataType, Source, register_source
from kiroku.catalog.runs import Architecture, MixEntry, TrainingMethod, TrainingRun, WeightUnit, record_run
from kiroku.catalog.schema import DOCS_SCHEMA, TEXT_SCHEMA
from kiroku.catalog.shards import InputRange, ShardRecord, sha256_file
from kiroku.catalog.stages import lineage_path, record_stage
from kiroku.domains import BuildReport, DomainIndex, build_domain_index
from kiroku.domains.answer import answer_domain
from kiroku.domains.bulk import answer_many
from kiroku.domains.names import parse_target
from kiroku.domains.record import CATALOG
from kiroku.ledger import Ledger, merkle
from kiroku.workspace import Workspace

MiB = 1024 * 1024
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# The targets.
TARGET_P99_MS = 5.0
TARGET_BULK_PER_S = 20_000
TARGET_BUILD_DOCS_PER_S = 1_000_000
DEFAULT_FLAT_MIB = 32.0
"""Memory counts as flat when the build's peak RSS on the catalog is at most this much above its peak on a
catalog a tenth of the size."""

SOURCE = "crawl"
STAGE = "quality"
TLDS = {
    "com": 0.52,
    "jp": 0.10,
    "co.jp": 0.08,
    "net": 0.07,
    "org": 0.08,
    "de": 0.06,
    "co.uk": 0.04,
    "io": 0.05,
}
SUBDOMAINS = ("news.", "blog.", "shop.", "docs.", "m.")
"""Hosts a domain of 10 pages or more often has besides its main one (the bare domain or www.)."""
REASONS = ("", "robots:GPTBot", "tdmrep:reserved", "meta-robots:noai")
ROBOTS, TDMREP, META = 1, 2, 3
FETCH_START = datetime(2026, 1, 1, tzinfo=UTC)
FETCH_END = datetime(2026, 7, 1, tzinfo=UTC)


# -- the synthetic web ----------------------------------------------------------------------------------------


def zipf_pages(domains: int, docs: int, s: float) -> Ints:
    """Pages of the domains of rank 1..n by Zipf's law: about C * r^-s, at least 1 each, ``docs`` in all."""
    if docs < domains:
        raise ValueError(f"{docs:,} documents cannot give each of {domains:,} domains a page")
    weights = np.arange(1, domains + 1, dtype=np.float64) ** -s
    low, high = 0.0, float(docs)
    for _ in range(100):  # the largest C whose floors still fit in docs
        middle = (low + high) / 2
        if np.maximum(1, np.floor(weights * middle)).sum() <= docs:
            low = middle
        else:
            high = middle
    pages = np.maximum(1, np.floor(weights * low)).astype(np.int64)
    pages[: docs - int(pages.sum())] += 1  # the few left over go to the largest domains, one each
    return pages


@dataclass(frozen=True)
class Web:
    """The domains a catalog is drawn from (by number), their hosts, sizes, opt-outs and cleaning odds."""

    names: pa.Array
    """Registrable domain of each domain number."""
    pages: Ints
    """Pages of each domain in the first catalog (0 for the domains only the later shard has)."""
    host_start: Ints
    """Hosts of domain i are ``hosts[host_start[i]:host_start[i + 1]]``, its main host first."""
    hosts: pa.Array
    optout: npt.NDArray[np.int8]
    """0, or `ROBOTS` or `TDMREP` for every page of the domain."""
    keep: Floats
    """Chance that the quality stage keeps one of the domain's kept documents (mean 0.8)."""

    @property
    def digits(self) -> int:
        return len(str(3 * len(self.pages)))


def domain_names(numbers: Ints, tlds: Ints, digits: int) -> pa.Array:
    """``d<number, zero-padded>.<tld>`` for each number."""
    padded = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), digits, "0")
    return pc.binary_join_element_wise("d", padded, ".", pa.array(list(TLDS)).take(pa.array(tlds)), "")


def make_web(pages: Ints, extra_pages: Ints, rng: np.random.Generator) -> Web:
    """Names, hosts, opt-outs and cleaning odds for the catalog's domains and those new in the later shard."""
    sizes = np.concatenate([pages, extra_pages])
    count = len(sizes)
    digits = len(str(3 * count))
    names = domain_names(
        np.arange(count, dtype=np.int64),
        rng.choice(len(TLDS), count, p=np.array(list(TLDS.values()))).astype(np.int64),
        digits,
    )
    extra_hosts = rng.binomial(3, np.where(sizes >= 10, 0.5, 0.05))
    host_start = np.concatenate([[0], np.cumsum(1 + extra_hosts)]).astype(np.int64)
    owner = np.repeat(np.arange(count, dtype=np.int64), 1 + extra_hosts)
    slot = np.arange(len(owner), dtype=np.int64) - host_start[owner]
    www = rng.random(count) < 0.5
    rotation = rng.integers(0, len(SUBDOMAINS), count)
    prefix = np.where(
        slot == 0, www[owner].astype(np.int64), 2 + (rotation[owner] + slot - 1) % len(SUBDOMAINS)
    )
    prefixes = pa.array(["", "www.", *SUBDOMAINS]).take(pa.array(prefix))
    hosts = pc.binary_join_element_wise(prefixes, names.take(pa.array(owner)), "")
    draw = rng.random(count)
    optout = np.where(draw < 0.03, ROBOTS, np.where(draw < 0.04, TDMREP, 0)).astype(np.int8)
    all_pages = np.concatenate([pages, np.zeros(len(extra_pages), np.int64)])
    return Web(names, all_pages, host_start, hosts, optout, rng.beta(8.0, 2.0, count))


@dataclass
class Catalog:
    """A generated workspace: where it is, its web, and what was written into it."""

    root: Path
    web: Web
    docs: int
    domains: int
    shards: int = 0
    hosts: int = 0
    parquet_bytes: int = 0
    stage_kept: int = 0
    extra_docs: int = 0
    extra_pages: Ints = field(default_factory=lambda: np.zeros(0, np.int64))
    """Pages of each domain new in the later shard."""
    seconds: float = 0.0

    @property
    def workspace(self) -> Workspace:
        return Workspace.open(self.root)

    def docs_files(self) -> list[str]:
        return sorted(str(path) for path in self.workspace.catalog_dir.glob("*.docs.parquet"))

    def lineage_file(self) -> str:
        return str(self.workspace.catalog_dir / lineage_path(STAGE))


def shard_table(
    web: Web, domain: Ints, first_page: int, rng: np.random.Generator
) -> tuple[pa.Table, pa.Array]:
    """The docs rows of one shard whose documents belong to ``domain`` (domain numbers); and the ids the quality
    stage keeps among them."""
    n = len(domain)
    ids = pa.Array.from_buffers(pa.binary(32), n, [None, pa.py_buffer(rng.bytes(32 * n))])
    extra_hosts = web.host_start[domain + 1] - web.host_start[domain] - 1
    on_extra = (rng.random(n) >= 0.6) & (extra_hosts > 0)
    which = np.where(on_extra, 1 + np.floor(rng.random(n) * extra_hosts).astype(np.int64), 0)
    host = web.hosts.take(pa.array(web.host_start[domain] + which))
    page = pa.array(np.arange(first_page, first_page + n, dtype=np.int64)).cast(pa.string())
    span = int((FETCH_END - FETCH_START).total_seconds() * 1e6)
    start = int(FETCH_START.timestamp() * 1e6)
    fetch = pa.array(start + rng.integers(0, span, n), pa.timestamp("us", tz="UTC"))
    size = np.clip(rng.lognormal(math.log(5000), 0.9, n), 200, 1 << 20).astype(np.int64)
    tokens = np.maximum(1, np.round(size / rng.uniform(3.5, 5.5, n))).astype(np.int64)
    reason = web.optout[domain].astype(np.int64)
    reason = np.where((reason == 0) & (rng.random(n) < 0.005), META, reason)
    flagged = reason > 0
    offsets = pa.array(np.concatenate([[0], np.cumsum(flagged)]).astype(np.int32))
    optout = pa.ListArray.from_arrays(offsets, pa.array(REASONS).take(pa.array(reason[flagged])))
    kept = ~flagged
    table = pa.Table.from_arrays(
        [
            ids,
            pa.nulls(n, pa.string()),
            pc.binary_join_element_wise("https://", host, "/p/", page, ""),
            host,
            web.names.take(pa.array(domain)),
            pa.array([SOURCE]).take(pa.array(np.zeros(n, np.int64))),
            fetch,
            pa.array(size),
            pa.array(tokens),
            optout,
            pa.array(kept),
            pa.array(np.arange(n, dtype=np.int64)),
        ],
        schema=DOCS_SCHEMA,
    )
    stage_kept = pc.filter(ids, pa.array(kept & (rng.random(n) < web.keep[domain])))
    return table, stage_kept


def write_shard(ledger: Ledger, catalog_dir: Path, number: int, seed: int, table: pa.Table) -> ShardRecord:
    """Write one shard's two Parquet files and append its ``catalog.shard`` record."""
    input_sha = hashlib.sha256(f"kiroku-bench/domains/{seed}/{number}".encode()).hexdigest()
    name = f"{SOURCE}-{input_sha[:16]}-{0:012d}"
    docs_file, text_file = f"{name}.docs.parquet", f"{name}.text.parquet"
    pq.write_table(table, catalog_dir / docs_file, compression="zstd")
    pq.write_table(TEXT_SCHEMA.empty_table(), catalog_dir / text_file, compression="zstd")
    ids = table.column("doc_id").combine_chunks()
    leaves = ids.take(pc.sort_indices(ids)).to_pylist()  # random 32-byte ids: already distinct
    record = ShardRecord(
        shard=name,
        source=SOURCE,
        documents=table.num_rows,
        distinct_documents=len(leaves),
        kept=int(pc.sum(table.column("kept").cast(pa.int64())).as_py() or 0),
        bytes=int(pc.sum(table.column("bytes")).as_py() or 0),
        tokens=int(pc.sum(table.column("tokens")).as_py() or 0),
        doc_root=merkle.root(leaves).hex(),
        docs_file=docs_file,
        docs_sha256=sha256_file(catalog_dir / docs_file),
        text_file=text_file,
        text_sha256=sha256_file(catalog_dir / text_file),
        input=InputRange(
            path=f"synthetic/crawl-{number:05d}.warc.gz",
            sha256=input_sha,
            start=0,
            end=table.num_rows,
            complete=True,
        ),
    )
    ledger.append("catalog.shard", record)
    return record


BENCH_RUN = TrainingRun(
    name="pretrain-1",
    model="bench-lm",
    version="1.0",
    description="A training run over the quality stage of the synthetic crawl.",
    architecture=Architecture(family="decoder-only transformer", parameters=1_000_000_000),
    methods=[TrainingMethod.pre_training],
    training_tokens=100_000_000_000,
    compute_flops=6.0e20,
    start=date(2026, 7, 1),
    end=date(2026, 7, 20),
    weight_unit=WeightUnit.epochs,
    data_mix=[MixEntry(stage=STAGE, weight=1.0)],
)


def generate(
    root: Path, docs: int, domains: int, shard_docs: int, s: float, seed: int, extra_docs: int = 0
) -> Catalog:
    """A workspace in ``root`` with the catalog, the quality stage and the training run.

    With ``extra_docs``, the web also has the domains a later shard (`add_shard`) brings: one for every hundred
    of its documents, holding a tenth of them (by Zipf's law too).
    """
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    pages = zipf_pages(domains, docs, s)[rng.permutation(domains)]
    new_domains = max(1, extra_docs // 100) if extra_docs else 0
    extra = zipf_pages(new_domains, max(new_domains, extra_docs // 10), s) if new_domains else pages[:0]
    web = make_web(pages, extra, rng)
    order = np.repeat(np.arange(domains, dtype=np.int64), pages)
    rng.shuffle(order)  # a crawl interleaves sites
    ws = Workspace.init(root, "Bench Co")
    catalog = Catalog(root, web, docs, domains, hosts=int(web.host_start[domains]))
    kept_parts: list[pa.Array] = []
    with ws.ledger() as ledger:
        register_source(ledger, Source(name=SOURCE, type=DataType.web_crawl))
        ws.catalog_dir.mkdir(parents=True, exist_ok=True)
        for number, first in enumerate(range(0, docs, shard_docs)):
            table, kept = shard_table(web, order[first : first + shard_docs], first, rng)
            write_shard(ledger, ws.catalog_dir, number, seed, table)
            kept_parts.append(kept)
            catalog.shards += 1
        del order
        catalog.parquet_bytes = sum(os.path.getsize(path) for path in catalog.docs_files())
        kept_ids = pa.chunked_array(kept_parts, pa.binary(32))
        catalog.stage_kept = len(kept_ids)
        record_stage(
            ledger,
            ws.catalog_dir,
            STAGE,
            "catalog",
            kept_ids,
            default_reason="quality score below 0.5",
            parameters={"classifier": "synthetic", "threshold": 0.5},
            via="api",
        )
        record_run(ledger, BENCH_RUN)
    catalog.extra_docs, catalog.extra_pages = extra_docs, extra
    catalog.seconds = time.perf_counter() - started
    return catalog


def add_shard(catalog: Catalog, seed: int) -> int:
    """Write one more shard of ``catalog.extra_docs`` documents: nine in ten on the catalog's domains (drawn in
    proportion to their pages), the rest on the new domains. Returns its number of documents."""
    rng = np.random.default_rng(seed + 1_000_003)
    web, n, new = catalog.web, catalog.extra_docs, catalog.extra_pages
    old_pages = web.pages[: catalog.domains].astype(np.float64)
    domain = np.concatenate(
        [
            rng.choice(catalog.domains, n - int(new.sum()), p=old_pages / old_pages.sum()),
            catalog.domains + np.repeat(np.arange(len(new), dtype=np.int64), new),
        ]
    ).astype(np.int64)
    rng.shuffle(domain)
    table, _ = shard_table(web, domain, catalog.docs, rng)
    ws = catalog.workspace
    with ws.ledger() as ledger:
        write_shard(ledger, ws.catalog_dir, catalog.shards, seed, table)
    catalog.shards += 1
    return n


# -- query names ----------------------------------------------------------------------------------------------


def query_names(web: Web, domains: int, count: int, rng: np.random.Generator) -> tuple[list[str], list[bool]]:
    """``count`` names in random order: half drawn from the catalog's domains in proportion to their pages,
    half never in it (a catalog domain's number under another TLD: near misses, spread over the sorted range
    so that no min/max statistics rule them out); and whether each is in the catalog."""
    present = count - count // 2
    weights = web.pages[:domains].astype(np.float64)
    numbers = rng.choice(domains, present, p=weights / weights.sum())
    near = rng.integers(0, domains, count - present)
    own = pc.index_in(
        pc.utf8_slice_codeunits(web.names.take(pa.array(near)), web.digits + 2),
        value_set=pa.array(list(TLDS)),
    )
    other = (own.to_numpy(zero_copy_only=False) + rng.integers(1, len(TLDS), len(near))) % len(TLDS)
    absent = domain_names(near.astype(np.int64), other.astype(np.int64), web.digits)
    names = web.names.take(pa.array(numbers)).to_pylist() + absent.to_pylist()
    appeared = [True] * present + [False] * (count - present)
    order = rng.permutation(count)
    return [names[i] for i in order], [appeared[i] for i in order]


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
    """User and system CPU time of this process (all its threads) and of the children it has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def children_peak_rss() -> int:
    """Peak RSS of the largest child this process has waited for (0 if none)."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of ``samples``."""
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


@dataclass
class Answers:
    """Per bulk name: documents fetched, their bytes, the documents kept at ingest, kept by the quality stage,
    and trained on in the run."""

    fetched: list[int] = field(default_factory=list)
    bytes: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    stage_kept: list[int] = field(default_factory=list)
    runs: list[int] = field(default_factory=list)


@dataclass
class Queries:
    """One system's queries on one catalog, measured in one process."""

    open_s: float = 0.0
    single_s: list[float] = field(default_factory=list)
    """Each single query: kiroku's lookup in the catalog scope, or DuckDB's scan."""
    answer_s: list[float] = field(default_factory=list)
    """kiroku: each single name parsed and answered from every scope (`answer_domain`)."""
    bulk_s: float = 0.0
    """kiroku: `lookup_many` in the catalog scope; DuckDB: the join."""
    bulk_answer_s: float = 0.0
    """kiroku: `answer_many` (what ``kiroku query domains`` writes as CSV rows)."""
    single_found: list[bool] = field(default_factory=list)
    appeared: list[bool] = field(default_factory=list)
    """kiroku: ``appeared`` of each `answer_many` row."""
    bulk: Answers = field(default_factory=Answers)
    rss_before: int = 0
    peak_rss: int = 0


@dataclass
class Build:
    """One build (or update) of the domain index, measured in one process."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    documents: int = 0
    rss_before: int = 0
    peak_rss: int = 0
    workers_peak_rss: int = 0
    """The largest of the processes the build forked, if any."""
    index_bytes: int = 0
    index_files: int = 0
    index_by_kind: dict[str, int] = field(default_factory=dict)


WARMUP = 3


_PEER_SINGLE = (
    "SELECT count(*), coalesce(sum(bytes), 0), count(*) FILTER (WHERE kept), count(*) FILTER (WHERE NOT kept),"
    " coalesce(sum(tokens), 0), epoch_us(min(fetch_time)), epoch_us(max(fetch_time)) FROM docs WHERE domain = ?"
)
_PEER_BULK = (
    "WITH found AS (SELECT domain, count(*) AS fetched, sum(bytes) AS bytes, count(*) FILTER (WHERE kept) AS kept,"
    " count(*) FILTER (WHERE NOT kept) AS dropped, sum(tokens) AS tokens, min(fetch_time) AS first,"
    " max(fetch_time) AS last FROM docs WHERE domain IN (SELECT name FROM q) GROUP BY domain) "
    "SELECT q.i, coalesce(f.fetched, 0) AS fetched, coalesce(f.bytes, 0) AS bytes, coalesce(f.kept, 0) AS kept,"
    " coalesce(f.dropped, 0) AS dropped, coalesce(f.tokens, 0) AS tokens, f.first, f.last"
    " FROM q LEFT JOIN found f ON f.domain = q.name ORDER BY q.i"
)
_PEER_BULK_STAGE = (
    "WITH found AS (SELECT d.domain, count(*) AS fetched, count(*) FILTER (WHERE d.kept) AS kept,"
    " count(*) FILTER (WHERE NOT d.kept) AS dropped, count(l.doc_id) AS stage_kept"
    " FROM docs d LEFT JOIN (SELECT doc_id FROM lineage WHERE kept) l ON l.doc_id = d.doc_id"
    " WHERE d.domain IN (SELECT name FROM q) GROUP BY d.domain) "
    "SELECT q.i, coalesce(f.fetched, 0) AS fetched, coalesce(f.kept, 0) AS kept,"
    " coalesce(f.dropped, 0) AS dropped, coalesce(f.stage_kept, 0) AS stage_kept"
    " FROM q LEFT JOIN found f ON f.domain = q.name ORDER BY q.i"
)


def _ints(table: pa.Table, column: str) -> list[int]:
    return [int(v) for v in table.column(column).to_pylist()]


def duckdb_queries(files: list[str], lineage: str, single: list[str], bulk: list[str]) -> Queries:
    """The peer: each single name a scan of the docs Parquet files; the bulk names one join, grouped by name;
    then the bulk names again with the documents the quality stage kept (a join with its lineage file)."""
    result = Queries(rss_before=_statm_rss())
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.read_parquet(files).create_view("docs")
    con.read_parquet(lineage).create_view("lineage")
    result.open_s = time.perf_counter() - start
    for name in single[:WARMUP]:
        con.execute(_PEER_SINGLE, [name]).fetchall()
    for name in single:
        t0 = time.perf_counter()
        rows = con.execute(_PEER_SINGLE, [name]).fetchall()
        result.single_s.append(time.perf_counter() - t0)
        result.single_found.append(bool(rows[0][0]))
    names = pa.table(
        {"i": pa.array(np.arange(len(bulk), dtype=np.int64)), "name": pa.array(bulk, pa.string())}
    )
    t0 = time.perf_counter()
    con.register("q", names)
    table = con.sql(_PEER_BULK).to_arrow_table()
    result.bulk_s = time.perf_counter() - t0
    result.bulk = Answers(_ints(table, "fetched"), _ints(table, "bytes"), _ints(table, "kept"))
    t0 = time.perf_counter()
    table = con.sql(_PEER_BULK_STAGE).to_arrow_table()
    result.bulk_answer_s = time.perf_counter() - t0
    result.bulk.stage_kept = _ints(table, "stage_kept")
    result.bulk.runs = result.bulk.stage_kept  # the run trained on the stage's kept set and nothing else
    con.close()
    result.peak_rss = peak_rss_bytes()
    return result


def kiroku_build(root: Path, check: list[str]) -> tuple[Build, BuildReport, list[dict[str, int] | None]]:
    """Build or update the domain index of the workspace in ``root``; then look up ``check`` in bulk."""
    ws = Workspace.open(root)
    result = Build(rss_before=_statm_rss())
    with ws.ledger() as ledger:
        cpu, start = cpu_seconds(), time.perf_counter()
        report = build_domain_index(ledger, ws.catalog_dir, ws.index_dir)
        result.seconds, result.cpu_seconds = time.perf_counter() - start, cpu_seconds() - cpu
    result.peak_rss = peak_rss_bytes()
    result.workers_peak_rss = children_peak_rss()
    result.documents = report.documents
    files = [path for path in ws.index_dir.rglob("*") if path.is_file()]
    result.index_bytes = sum(path.stat().st_size for path in files)
    result.index_files = len(files)
    for path in files:  # catalog-*, stage-*, run-*, segment-*: what each scope and the segments take
        kind = path.name.split("-")[0].split(".")[0]
        result.index_by_kind[kind] = result.index_by_kind.get(kind, 0) + path.stat().st_size
    answers = DomainIndex.open(ws.index_dir).lookup_many(CATALOG, "domain", check) if check else []
    return result, report, answers


def kiroku_queries(root: Path, single: list[str], bulk: list[str]) -> Queries:
    """kiroku: open the index, look each single name up in the catalog scope, then all bulk names at once."""
    result = Queries(rss_before=_statm_rss())
    start = time.perf_counter()
    index = DomainIndex.open(Workspace.open(root).index_dir)
    index.lookup(CATALOG, "domain", single[0])  # maps the catalog's table
    result.open_s = time.perf_counter() - start
    for name in single[:WARMUP]:
        answer_domain(index, parse_target(name))
    for name in single:
        t0 = time.perf_counter()
        hit = index.lookup(CATALOG, "domain", name)
        result.single_s.append(time.perf_counter() - t0)
        result.single_found.append(hit is not None)
    for name in single:
        t0 = time.perf_counter()
        answer_domain(index, parse_target(name)).to_json()
        result.answer_s.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    answers = index.lookup_many(CATALOG, "domain", bulk)
    result.bulk_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    answered = answer_many(index, bulk)
    result.bulk_answer_s = time.perf_counter() - t0
    result.appeared = [row["appeared"] == "true" for row in answered.rows]
    result.bulk = Answers(
        [a["fetched"] if a else 0 for a in answers],
        [a["fetched_bytes"] if a else 0 for a in answers],
        [a["kept"] if a else 0 for a in answers],
        [int(row["kept"]) for row in answered.rows],
    )
    (run,) = answered.run_columns
    result.bulk.runs = [int(row[run]) for row in answered.rows]
    result.peak_rss = peak_rss_bytes()
    return result


def _send(pipe: Pipe, work: Callable[[], object]) -> None:
    try:
        pipe.send(work())
    finally:
        pipe.close()


def _worker(name: str, args: tuple[Any, ...], pipe: Pipe) -> None:
    _send(pipe, lambda: WORKERS[name](*args))


WORKERS: dict[str, Callable[..., object]] = {
    "duckdb": duckdb_queries,
    "kiroku": kiroku_queries,
    "build": kiroku_build,
}


def in_child(name: str, *args: Any) -> Any:
    """Run ``WORKERS[name](*args)`` in a fresh (spawned) process and return what it returns."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_worker, args=(name, args, sender))
    process.start()
    sender.close()
    try:
        value = receiver.recv()
    except EOFError:
        process.join()
        raise SystemExit(f"the {name} measurement failed (exit code {process.exitcode})") from None
    process.join()
    return value


# -- the run --------------------------------------------------------------------------------------------------


@dataclass
class Measured:
    """Everything measured on one catalog."""

    label: str
    catalog: Catalog
    single: list[str]
    appeared: list[bool]
    bulk: list[str]
    build: Build
    report: BuildReport
    kiroku: Queries
    duckdb: Queries
    truth: list[int]
    """Pages the generator dealt to each bulk name."""


def truth_of(catalog: Catalog, names: list[str]) -> list[int]:
    """The generator's pages for each name (0 for names outside the catalog)."""
    numbers = pc.index_in(pa.array(names, pa.string()), value_set=catalog.web.names[: catalog.domains])
    pages = catalog.web.pages
    return [0 if n is None else int(pages[n]) for n in numbers.to_pylist()]


def measure(label: str, catalog: Catalog, args: argparse.Namespace, console: Console) -> Measured:
    """Build the index of ``catalog``, then run both systems' queries, each in a fresh process."""
    rng = np.random.default_rng(args.seed + 7)
    single, appeared = query_names(catalog.web, catalog.domains, args.queries, rng)
    bulk, _ = query_names(catalog.web, catalog.domains, args.bulk, rng)
    console.print(f"{label}: building the domain index …")
    build, report, _ = in_child("build", catalog.root, [])
    console.print(f"{label}: kiroku queries …")
    kiroku = in_child("kiroku", catalog.root, single, bulk)
    console.print(f"{label}: DuckDB queries …")
    peer = in_child("duckdb", catalog.docs_files(), catalog.lineage_file(), single, bulk)
    return Measured(
        label, catalog, single, appeared, bulk, build, report, kiroku, peer, truth_of(catalog, bulk)
    )


@dataclass
class Update:
    """The incremental step: one more shard, the index updated, and a check of new and old names."""

    documents: int
    build: Build
    report: BuildReport
    agree: bool
    checked: int


def update(catalog: Catalog, args: argparse.Namespace, console: Console) -> Update:
    """Add one shard to ``catalog``, update its index in a fresh process, and check names against DuckDB."""
    documents = add_shard(catalog, args.seed)
    new = catalog.web.names[catalog.domains :].to_pylist()[:1000]
    old, _ = query_names(catalog.web, catalog.domains, 1000, np.random.default_rng(args.seed + 11))
    check = new + old
    console.print(f"updating the index after one more shard of {documents:,} documents …")
    build, report, answers = in_child("build", catalog.root, check)
    peer = duckdb_queries(catalog.docs_files(), catalog.lineage_file(), check[:1], check).bulk
    agree = [a["fetched"] if a else 0 for a in answers] == peer.fetched and [
        a["kept"] if a else 0 for a in answers
    ] == peer.kept
    return Update(documents, build, report, agree, len(check))


# -- the report -----------------------------------------------------------------------------------------------


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_count(n: int) -> str:
    """10000000 -> 10M, 200000 -> 200k (exact forms only; otherwise with separators)."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def verdict(ok: bool) -> str:
    return "[green]met[/]" if ok else "[red]not met[/]"


def agreement(m: Measured) -> tuple[bool, bool]:
    """Whether kiroku's answers equal DuckDB's (bulk counts, which names appeared), and DuckDB's documents the
    generator's pages for the bulk names and which single names it dealt pages to."""
    k, d = m.kiroku.bulk, m.duckdb.bulk
    ours = (k.fetched, k.bytes, k.kept, k.stage_kept, k.runs, m.kiroku.single_found, m.kiroku.appeared)
    theirs = (
        d.fetched,
        d.bytes,
        d.kept,
        d.stage_kept,
        d.runs,
        m.duckdb.single_found,
        [n > 0 for n in d.fetched],
    )
    return ours == theirs, d.fetched == m.truth and m.duckdb.single_found == m.appeared


def build_table(
    small: Measured, large: Measured, step: Update, args: argparse.Namespace
) -> tuple[Table, list[bool]]:
    """One column per system; each cell holds the figure on the catalog above the one on the small catalog."""
    both = f"({large.label} / {small.label})"
    table = Table(
        title=f"domain index · {large.catalog.docs:,} documents over {large.catalog.domains:,} domains "
        f"(and a tenth of both) · shards of {args.shard_docs:,} · {args.queries:,} single and "
        f"{args.bulk:,} bulk names, half absent",
        show_lines=True,
    )
    table.add_column("metric", style="bold")
    table.add_column("kiroku", justify="right")
    table.add_column("peer: DuckDB over the\ndocs Parquet files", justify="right")
    table.add_column("target", justify="left")
    table.add_column("met?", justify="center")
    verdicts: list[bool] = []

    def row(metric: str, ours: str, peer: str, target: str = "", ok: bool | None = None) -> None:
        if ok is not None:
            verdicts.append(ok)
        table.add_row(metric, ours, peer, target, "" if ok is None else verdict(ok))

    def pair(fn: Callable[[Measured], str]) -> str:
        return f"{fn(large)}\n{fn(small)}"

    def rate(m: Measured) -> float:
        return m.build.documents / m.build.seconds

    row(
        f"build the index {both}",
        pair(lambda m: f"{fmt_time(m.build.seconds)}, {rate(m):,.0f} docs/s"),
        "none: every query reads\nthe Parquet files",
        f"≥ {TARGET_BUILD_DOCS_PER_S:,} documents/s",
        rate(large) >= TARGET_BUILD_DOCS_PER_S,
    )
    row(
        f"build CPU time, with any\nforked workers {both}",
        pair(lambda m: f"{m.build.cpu_seconds:.2f} s"),
        "",
    )
    not_rebuilt = not step.report.rebuilt and step.report.new_shards == 1
    row(
        f"update after one more shard\nof {step.documents:,} documents ({large.label})",
        f"{fmt_time(step.build.seconds)}, {step.documents / step.build.seconds:,.0f} new docs/s"
        f"\n{step.build.seconds / large.build.seconds:.0%} of the full build's time"
        f"\n{step.report.new_shards} shard read, "
        + ("no rebuild" if not step.report.rebuilt else "[red]rebuilt[/]"),
        "",
        "incremental: reads the new\nshard only",
        not_rebuilt,
    )
    row(
        f"index on disk {both}",
        pair(
            lambda m: (
                f"{m.build.index_bytes / m.report.domains:,.0f} B/domain "
                f"({m.build.index_bytes / MiB:,.1f} MiB, {m.build.index_files} files)"
            )
        ),
        pair(
            lambda m: (
                f"{m.catalog.parquet_bytes / m.catalog.domains:,.0f} B/domain "
                f"({m.catalog.parquet_bytes / MiB:,.1f} MiB of docs Parquet)"
            )
        ),
        "all scopes (catalog, stage,\nrun) by domain and by host",
    )
    row(
        f"index on disk by file kind ({large.label})",
        ", ".join(
            f"{kind} {size / MiB:,.0f} MiB"
            for kind, size in sorted(large.build.index_by_kind.items(), key=lambda item: -item[1])
            if size >= MiB / 10
        ),
        "",
    )
    row(
        f"open (fresh process) {both}",
        pair(lambda m: fmt_time(m.kiroku.open_s)),
        pair(lambda m: fmt_time(m.duckdb.open_s)),
    )

    def latency(samples: list[float]) -> str:
        return f"{fmt_time(statistics.median(samples))} / {fmt_time(percentile(samples, 99))}"

    peer_single = pair(lambda m: latency(m.duckdb.single_s))
    row(
        f"single query p50 / p99:\nlookup, catalog scope {both}",
        pair(lambda m: latency(m.kiroku.single_s)),
        peer_single,
    )
    row(
        f"single query p50 / p99: the whole\nanswer (parse, every scope, words) {both}",
        pair(lambda m: latency(m.kiroku.answer_s)),
        f"{peer_single}\n(catalog counts only)",
        f"p99 ≤ {TARGET_P99_MS:g} ms",
        percentile(large.kiroku.answer_s, 99) <= TARGET_P99_MS / 1e3,
    )

    def per_s(m: Measured, seconds: float) -> str:
        return f"{len(m.bulk) / seconds:,.0f}/s ({fmt_time(seconds)})"

    row(
        f"bulk queries: lookup_many,\ncatalog scope {both}",
        pair(lambda m: per_s(m, m.kiroku.bulk_s)),
        pair(lambda m: per_s(m, m.duckdb.bulk_s)),
    )
    row(
        f"bulk queries: answer_many, the\nCSV rows of every scope {both}",
        pair(lambda m: per_s(m, m.kiroku.bulk_answer_s)),
        pair(lambda m: per_s(m, m.duckdb.bulk_answer_s)) + "\n(+ join with the stage's lineage)",
        f"≥ {TARGET_BULK_PER_S:,} queries/s",
        len(large.bulk) / large.kiroku.bulk_answer_s >= TARGET_BULK_PER_S,
    )
    growth = (large.build.peak_rss - small.build.peak_rss) / MiB
    row(
        f"peak RSS of the build {both}",
        pair(
            lambda m: (
                f"{m.build.peak_rss / MiB:,.0f} MiB"
                + (f" (workers ≤ {m.build.workers_peak_rss / MiB:,.0f})" if m.build.workers_peak_rss else "")
            )
        )
        + f"\n{growth:+,.1f} MiB on 10× the catalog",
        "",
        f"flat: ≤ {args.flat_mib:g} MiB more on 10×\nthe documents and domains",
        growth <= args.flat_mib,
    )
    row(
        f"peak RSS of the queries {both}",
        pair(lambda m: f"{m.kiroku.peak_rss / MiB:,.0f} MiB"),
        pair(lambda m: f"{m.duckdb.peak_rss / MiB:,.0f} MiB"),
    )
    agree = [agreement(m) for m in (large, small)]
    same = all(a for a, _ in agree) and step.agree
    row(
        "answers agree",
        "documents, bytes, kept at ingest,\nkept by the stage, trained on\nequal DuckDB's for every name: "
        + ("yes" if all(a for a, _ in agree) else "[red]NO[/]")
        + f"; after the update ({step.checked:,} names): "
        + ("yes" if step.agree else "[red]NO[/]"),
        "documents equal the generator's\npages for every bulk name: "
        + ("yes" if all(b for _, b in agree) else "[red]NO[/]"),
        "",
        same and all(b for _, b in agree),
    )
    return table, verdicts


# -- main -----------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--docs", type=int, default=10_000_000, help="documents in the catalog (default 10M)")
    parser.add_argument("--domains", type=int, default=1_000_000, help="registrable domains (default 1M)")
    parser.add_argument(
        "--shard-docs", type=int, default=1_000_000, help="documents per shard (default 1,000,000)"
    )
    parser.add_argument("--queries", type=int, default=200, help="single queries to time (default 200)")
    parser.add_argument("--bulk", type=int, default=100_000, help="names in the bulk query (default 100,000)")
    parser.add_argument(
        "--zipf", type=float, default=1.1, help="Zipf exponent of pages per domain by rank (default 1.1)"
    )
    parser.add_argument(
        "--flat-mib",
        type=float,
        default=DEFAULT_FLAT_MIB,
        help=f"allowed growth of the build's peak RSS on 10× the catalog (default {DEFAULT_FLAT_MIB:g})",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="folder for the workspaces' temporary folder (default: TMPDIR)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the workspaces (the path is printed)")
    parser.add_argument("--seed", type=int, default=0, help="seed of everything random (default 0)")
    args = parser.parse_args(argv)
    if args.domains < 10 or args.docs < args.domains or args.shard_docs < 1:
        parser.error("need --domains >= 10, --docs >= --domains and --shard-docs >= 1")
    if args.queries < 2 or args.bulk < 2 or args.zipf <= 0:
        parser.error("need --queries >= 2, --bulk >= 2 and --zipf > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 160))
    started = time.perf_counter()
    console.print(f"[bold]machine:[/] {machine_description(('duckdb', 'pyarrow', 'numpy'))}")
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kiroku-bench-domains-", dir=args.workdir))
    try:
        catalogs = []
        for label, docs, domains, extra in (
            (fmt_count(args.docs // 10), args.docs // 10, args.domains // 10, 0),
            (fmt_count(args.docs), args.docs, args.domains, min(args.shard_docs, args.docs // 10)),
        ):
            console.print(f"generating the {label} catalog ({docs:,} documents over {domains:,} domains) …")
            seed = args.seed if extra else args.seed + 1
            catalog = generate(work / label, docs, domains, args.shard_docs, args.zipf, seed, extra)
            console.print(
                f"  {catalog.shards} shards, {catalog.hosts:,} hosts, {catalog.parquet_bytes / MiB:,.1f} MiB of "
                f"docs Parquet; stage {STAGE!r} kept {catalog.stage_kept:,}; {catalog.seconds:.1f} s"
            )
            catalogs.append((label, catalog))
        small, large = (measure(label, catalog, args, console) for label, catalog in catalogs)
        step = update(large.catalog, args, console)
    finally:
        if args.keep:
            console.print(f"workspaces kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    table, verdicts = build_table(small, large, step, args)
    console.print(table)
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    console.print(f"benchmark wall time {time.perf_counter() - started:.0f} s · load average now {load}")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
