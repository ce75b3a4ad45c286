"""Benchmark of kiroku's trace index (principle 3) against infini-gram and datasketch, on real text, in one run.

Input: real, distinct text installed on this machine, extracted once and cached (``--cache``, default
``~/.cache/kiroku-bench/trace``): Debian builds of documentation published on the web (docs.python.org,
www.kernel.org/doc, docs.djangoproject.com, pandas.pydata.org, doc.rust-lang.org, docs.oracle.com's Java 17 API,
nodejs.org's API), HTML turned into text by resiliparse (main content only); manual pages in every installed
language (roff markup stripped) and GNU info manuals; the text files of the Python and Perl installations, of
Debian's Python packages, of npm's modules and of the benchmark's virtual environment (``.py``, ``.rst``, ``.md``,
``.txt``, ``.pm``, ``.pod``, ``.js``); ``/usr/share/doc``'s READMEs, change logs and licences; the C and C++
headers in ``/usr/include``; and the Java sources of the Temurin 25 JDK (its ``src.zip``). Files over 1 MiB and documents under 16 tokens are left out; every document
is kept once (by the SHA-256 of its text) whatever the sources hold. The sources are interleaved in proportion to
their sizes, so every prefix has the same mix; a corpus of N tokens is the shortest prefix holding N tokens
(kiroku's tokenizer). A corpus is scaled only by taking more distinct documents, never by repeating one; when the
machine holds fewer distinct tokens than a size asks for, that size is cut to what exists and the table says so.
The PostgreSQL 15 documentation (www.postgresql.org/docs/15) is held out: it is never indexed and gives the
"new" outputs.

Each corpus becomes a real kiroku workspace (`Workspace.init`; per source a registered ``source`` and catalog
shards written by the catalog's own `ShardWriter`, each with its ``catalog.shard`` record), cached beside the
corpus. Measured on each corpus, each in a fresh process pinned to one core (``--cpu``), so that its peak memory
(VmHWM) is its own and "per core" means one core. Others share the machine, so each time is taken twice: CPU
seconds of the process on its core (what the verdicts use: the code's cost on one core) and wall seconds (shown
beside them; on a busy machine they are longer):

- kiroku's build: `build_trace_index` over the catalog scope (shards of ``--shard-tokens``; suffix array, MinHash
  passages and BM25 per shard; ledger record): wall and CPU time, MB of text per CPU second and per wall second,
  index bytes per token (the suffix index: token file and suffix array, dense; and all files), peak RSS, and the
  split of the time (tokenizing, vocabulary, suffix array and within it libdivsufsort, MinHash LSH and within it
  rensa's signing, BM25, the rest: reading the catalog, documents, hashes), timed by wrapping those functions;
- the suffix index at ``sparse`` 2 and 4 (every k-th suffix) written for every shard, its bytes per token, and the
  span finder's latency on it;
- ``--outputs`` outputs of about 500 tokens, half copied from the smallest corpus (so present in every corpus) with
  about one word in 25 replaced, half new text from the held-out source: each traced whole (`trace_output`:
  tokenizing, spans with their documents and snippets read from the catalog, near-duplicate passages, BM25
  similar documents), p50 / p99, after one warm-up; the span finder alone (`find_spans` over all shards, the part
  infini-gram's ``attribute`` does); the MinHash LSH lookup of one shard (band keys searched in the memory-mapped
  files, candidates counted: `PassageIndex._candidates`), and the same with the candidates scored
  (`PassageIndex.query`: estimated and exact Jaccard from the token file); the RSS at the end (anonymous memory and
  mapped files apart);
- the peer, infini-gram (PyPI ``infini-gram``): its offline indexing entry point (``python -m
  infini_gram.indexing``, byte-level: ``--token_dtype u8``, no tokenizer, ``--cpus 1``) on the same documents as
  JSON lines (written beforehand, untimed): wall and CPU time including its children, MB/s, index bytes, peak RSS;
  then in a fresh process its engine's ``attribute`` (OLMoTrace's span finder: maximal spans of at least
  ``--peer-min-bytes`` bytes, 8 of kiroku's tokens on this corpus, occurring at most 1,000 times) on the same
  outputs as UTF-8 bytes, p50 / p99. Its build runs at about 0.6 MB/s per core, so it is built only on corpora up
  to ``--peer-max-tokens`` (30M by default, about 7 minutes);
- MinHash signing of the same passages (64-token windows every 32 tokens, 5-token shingles, 96 permutations):
  rensa as kiroku calls it, and the peer datasketch (``MinHash.bulk`` over each passage's shingles as 8-byte
  strings, its documented batch route) on a sample of ``--minhash-sample`` passages.

Then prints one table with the issue's targets: build >= 4 MB/s per core; suffix index <= 6 bytes a token dense
(all its files over the corpus's tokens) and a sparse option near 3 (taken as <= 4); the whole trace of a
500-token output <= 250 ms per 100M tokens on one core (p99 on the largest corpus, scaled to 100M tokens when the
corpus is larger); MinHash >= 50,000 passages/s (the build's whole MinHash LSH step); LSH lookup <= 1 ms a shard
(p99, the lookup proper: scoring is shown beside it); memory flat (anonymous RSS of the queries, and the build's peak, at most
``--flat-mib`` more on the largest corpus than on the smallest). Exits 1 if a target is missed or an answer is
implausible (copied outputs must be found, by kiroku and by infini-gram).

The peers are bench-only: install them into the virtual environment first (without them the script names the
command and exits 2), and the documentation packages with apt (missing ones are left out and the table says what
the corpus held)::

    .venv/bin/pip install infini-gram datasketch
    apt-get install python3.11-doc postgresql-doc-15 linux-doc-6.1 python-django-doc python-pandas-doc \
        rust-doc openjdk-17-doc
    .venv/bin/python bench/trace.py --quick                      # 0.25M and 1M tokens: about a minute
    .venv/bin/python bench/trace.py                              # 10M, 30M and 100M tokens: 20-30 minutes
    .venv/bin/python bench/trace.py --sizes 10M,30M --peer-max-tokens 30M --outputs 40

The first run extracts the corpus (a few minutes on two cores) and writes the workspaces; later runs reuse them.
"""

from __future__ import annotations

import argparse
import copy
import functools
import gzip
import hashlib
import json
import math
import multiprocessing
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import wraps
from importlib.metadata import PackageNotFoundError, version
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from _machine import machine_description
from kiroku.catalog import DataType, Source, register_source
from kiroku.catalog.shards import Document, ShardWriter
from kiroku.trace.tokenize import token_strings, tokenize
from kiroku.workspace import Workspace

MB = 1_000_000
MiB = 1 << 20
PEER_INSTALL = ".venv/bin/pip install infini-gram datasketch"

# The targets.
TARGET_BUILD_MB_PER_S = 4.0
TARGET_DENSE_BYTES = 6.0
TARGET_SPARSE_BYTES = 4.0
""""A sparse option near 3 bytes a token": met when one of the sparse indexes takes at most this much."""
TARGET_TRACE_MS_PER_100M = 250.0
TARGET_MINHASH_PER_S = 50_000
TARGET_LSH_MS = 1.0
DEFAULT_FLAT_MIB = 64.0

CORPUS_FORMAT = 1
"""Bump when the extraction changes: cached corpora and workspaces of another format are rebuilt."""
MAX_FILE = 1 << 20
MIN_TOKENS = 16
OUTPUT_TOKENS = 500
EDIT_EVERY = 25
"""A copied output has about one word in this many replaced by a word of the held-out text."""


# -- the corpus -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextSource:
    """One kind of installed text: where its files are, how to read them, and their public URL if any."""

    name: str
    kind: str
    """``html`` (resiliparse, main content), ``man`` (roff, gzip), ``text`` (plain, gzip allowed)."""
    roots: tuple[str, ...]
    url: str | None = None
    """The public URL of the root: a page's URL is this plus its path under the root."""
    suffixes: tuple[str, ...] = (".html",)
    names: tuple[str, ...] = ()
    """Plain files also taken by the start of their name (README, changelog, ...)."""
    skip: tuple[str, ...] = ("_sources", "_static", "_images", "_downloads", "_panels_static")
    data_type: DataType = DataType.web_crawl


SITE_PACKAGES = (
    Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
)
STDLIB = Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
DOC_PACKAGES = (
    "python3.11",
    "postgresql-doc-15",
    "linux-doc-6.1",
    "python-django-doc",
    "python-pandas-doc",
    "rust-doc",
    "openjdk-17-doc",
    "nodejs",
)
SOURCES = (
    TextSource("python-docs", "html", ("/usr/share/doc/python3.11/html",), "https://docs.python.org/3.11/"),
    TextSource(
        "linux-docs", "html", ("/usr/share/doc/linux-doc-6.1/html",), "https://www.kernel.org/doc/html/v6.1/"
    ),
    TextSource(
        "django-docs",
        "html",
        ("/usr/share/doc/python-django-doc/html",),
        "https://docs.djangoproject.com/en/3.2/",
    ),
    TextSource(
        "pandas-docs",
        "html",
        ("/usr/share/doc/python-pandas-doc/html",),
        "https://pandas.pydata.org/pandas-docs/version/1.5.3/",
    ),
    TextSource("rust-docs", "html", ("/usr/share/doc/rust-doc/html",), "https://doc.rust-lang.org/1.63.0/"),
    TextSource(
        "java-docs",
        "html",
        ("/usr/share/doc/openjdk-17-doc/api",),
        "https://docs.oracle.com/en/java/javase/17/docs/api/",
    ),
    TextSource(
        "nodejs-docs",
        "text",
        ("/usr/share/doc/nodejs/api",),
        "https://nodejs.org/docs/latest-v20.x/api/",
        suffixes=(".md",),
    ),
    TextSource("man-pages", "man", ("/usr/share/man",), suffixes=(".gz",), data_type=DataType.public_dataset),
    TextSource(
        "python-files",
        "text",
        (str(STDLIB), str(SITE_PACKAGES)),
        suffixes=(".py", ".rst", ".md", ".txt"),
        skip=("__pycache__", ".dist-info"),
        data_type=DataType.public_dataset,
    ),
    TextSource(
        "perl-files",
        "text",
        ("/usr/share/perl", "/usr/share/perl5"),
        suffixes=(".pm", ".pod"),
        data_type=DataType.public_dataset,
    ),
    TextSource(
        "debian-docs",
        "text",
        ("/usr/share/doc", "/usr/share/common-licenses"),
        suffixes=(".md", ".txt", ".rst", ".md.gz", ".txt.gz"),
        names=("README", "NEWS", "changelog", "copyright", "AUTHORS", "CHANGES", "HISTORY", "THANKS", "TODO"),
        skip=("html", "api", "examples"),
        data_type=DataType.public_dataset,
    ),
    TextSource(
        "info-manuals", "text", ("/usr/share/info",), suffixes=(".gz",), data_type=DataType.public_dataset
    ),
    TextSource(
        "debian-python-files",
        "text",
        ("/usr/lib/python3/dist-packages",),
        suffixes=(".py", ".rst", ".md", ".txt"),
        skip=("__pycache__", ".dist-info"),
        data_type=DataType.public_dataset,
    ),
    TextSource(
        "node-files",
        "text",
        ("/usr/lib/node_modules",),
        suffixes=(".js", ".md"),
        data_type=DataType.public_dataset,
    ),
    TextSource(
        "c-headers",
        "text",
        ("/usr/include",),
        suffixes=(".h", ".hpp", ".hh", ".ipp"),
        data_type=DataType.public_dataset,
    ),
    TextSource(
        "java-sources",
        "text",
        ("/usr/lib/jvm/temurin-25-jdk-amd64/lib/src.zip",),
        suffixes=(".java",),
        data_type=DataType.public_dataset,
    ),
)
HELD_OUT = TextSource(
    "postgresql-docs",
    "html",
    ("/usr/share/doc/postgresql-doc-15/html",),
    "https://www.postgresql.org/docs/15/",
)


def source_files(source: TextSource) -> list[tuple[str, str | None]]:
    """The source's files of at most 1 MiB in path order, each with its public URL (or None)."""
    found: list[tuple[str, str | None]] = []
    for root_name in source.roots:
        root = Path(root_name)
        if root.suffix == ".zip" and root.is_file():
            with zipfile.ZipFile(root) as archive:
                members = sorted(
                    i.filename
                    for i in archive.infolist()
                    if i.filename.endswith(source.suffixes) and i.file_size <= MAX_FILE
                )
            found += [(f"zip:{root}!{member}", None) for member in members]
            continue
        if not root.is_dir():
            continue
        # the site-packages of this venv lie inside neither root but the stdlib's; never walk into it twice
        own = [Path(r) for r in source.roots if Path(r) != root and Path(r).is_relative_to(root)]
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if set(source.skip).intersection(relative.parts[:-1]) or any(path.is_relative_to(o) for o in own):
                continue
            name = path.name
            if not (name.endswith(source.suffixes) or (source.names and name.startswith(source.names))):
                continue
            if source.kind == "text" and source.name == "debian-docs" and _other_doc_package(relative):
                continue
            try:
                if not path.is_file() or path.stat().st_size > MAX_FILE:
                    continue
            except OSError:
                continue
            url = None
            if source.url is not None:
                page = relative.as_posix()
                url = source.url + (page[: -len(".md")] + ".html" if page.endswith(".md") else page)
            found.append((str(path), url))
    return found


def _other_doc_package(relative: Path) -> bool:
    """Files of /usr/share/doc that belong to a documentation source of their own."""
    return bool(relative.parts) and relative.parts[0] in DOC_PACKAGES


_ROFF_REQUEST = re.compile(r"^[.'][ \t]*([A-Za-z]{1,3})?\b[ \t]*(.*)$")
# macros whose arguments are text (man and mdoc)
_ROFF_TEXT_MACROS = (
    "SH SS B I BR BI IB RB RI IR SM SB TP IP HP PP LP P TH Nm Nd Op Ar Fl Cm Dl It Pa Sh Ss Xr Em Sy Va Ev"
)
_ROFF_KEEP = frozenset(_ROFF_TEXT_MACROS.split())
_ROFF_ESCAPE = re.compile(
    r"\\(?:f(?:\[[^\]]*\]|\(..|.)|\(..|\*(?:\(..|\[[^\]]*\]|.)|s[-+]?\d+|[&|^c%:),/]|\[[^\]]*\])"
)


def roff_text(source: str) -> str:
    """Plain text of a manual page: requests dropped but for the text of a few macros, escapes removed."""
    lines = []
    for line in source.splitlines():
        if line.startswith(('.\\"', "'\\\"", '.\\\\"')):
            continue
        match = _ROFF_REQUEST.match(line)
        if match is not None:
            if match.group(1) not in _ROFF_KEEP:
                continue
            line = match.group(2).replace('"', "")
        line = _ROFF_ESCAPE.sub("", line).replace("\\-", "-").replace("\\e", "\\").replace("\\ ", " ")
        lines.append(line)
    return "\n".join(lines)


@functools.cache
def _archive(path: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(path)


def read_text(path: str, kind: str) -> str:
    """The text of one file of a source ("" when it cannot be read or holds none)."""
    try:
        if path.startswith("zip:"):
            archive, member = path[len("zip:") :].split("!", 1)
            data = _archive(archive).read(member)
        else:
            data = Path(path).read_bytes()
        if path.endswith(".gz"):
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile, KeyError, zipfile.BadZipFile):
        return ""
    if len(data) > MAX_FILE or b"\x00" in data[:4096]:
        return ""
    if kind == "html":
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.encoding import bytes_to_str, detect_encoding
        from resiliparse.parse.html import HTMLTree

        tree = HTMLTree.parse(bytes_to_str(data, detect_encoding(data) or "utf-8"))
        return str(extract_plain_text(tree, main_content=True))
    text = data.decode("utf-8", "replace")
    return roff_text(text) if kind == "man" else text


def _extract_one(job: tuple[str, str | None, str]) -> tuple[str, str | None, str, int]:
    path, url, kind = job
    text = read_text(path, kind)
    return path, url, text, len(token_strings(text)) if text else 0


CORPUS_SCHEMA = pa.schema(
    [
        pa.field("path", pa.string()),
        pa.field("url", pa.string()),
        pa.field("text", pa.string()),
        pa.field("sha256", pa.binary(32)),
        pa.field("tokens", pa.int64()),
    ]
)


def corpus_dir(cache: Path) -> Path:
    return cache / f"corpus-v{CORPUS_FORMAT}"


def extract_source(source: TextSource, cache: Path, processes: int, console: Console) -> Path:
    """The source's documents as a Parquet file in the cache (path, url, text, sha256, tokens), made once."""
    key = hashlib.sha256(repr(source).encode()).hexdigest()[:10]  # a changed definition is extracted anew
    target = corpus_dir(cache) / f"{source.name}-{key}.parquet"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    files = source_files(source)
    started = time.perf_counter()
    console.print(f"  extracting {source.name}: {len(files):,} files …")
    rows: dict[str, list[Any]] = {name: [] for name in CORPUS_SCHEMA.names}
    seen: set[bytes] = set()
    jobs = [(path, url, source.kind) for path, url in files]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        for path, url, text, tokens in pool.imap(_extract_one, jobs, chunksize=16):
            if tokens < MIN_TOKENS:
                continue
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
            if digest in seen:
                continue
            seen.add(digest)
            for name, value in zip(CORPUS_SCHEMA.names, (path, url, text, digest, tokens), strict=True):
                rows[name].append(value)
    tmp = target.with_name(target.name + ".tmp")
    pq.write_table(pa.Table.from_pydict(rows, schema=CORPUS_SCHEMA), tmp, compression="zstd")
    tmp.replace(target)
    console.print(
        f"    {len(rows['text']):,} documents, {sum(rows['tokens']) / 1e6:,.1f}M tokens, "
        f"{time.perf_counter() - started:.0f} s"
    )
    return target


@dataclass
class Corpus:
    """The interleaved documents of all sources (held-out aside): where each is and its size."""

    sources: list[TextSource]
    files: list[Path]
    source: np.ndarray
    """Source number of each document, in corpus order."""
    row: np.ndarray
    """Row of each document in its source's Parquet file."""
    tokens: np.ndarray
    bytes: np.ndarray
    held_out: Path

    @property
    def total_tokens(self) -> int:
        return int(self.tokens.sum())

    def prefix(self, tokens: int) -> int:
        """Documents in the shortest prefix holding at least ``tokens`` tokens (all when there are fewer)."""
        return min(len(self.tokens), int(np.searchsorted(np.cumsum(self.tokens), tokens)) + 1)

    def texts(self, count: int) -> Iterator[tuple[int, int, str, str | None]]:
        """(source number, row, text, url) of the first ``count`` documents, in corpus order."""
        tables = [pq.read_table(f, columns=["text", "url"]) for f in self.files]
        for s, r in zip(self.source[:count].tolist(), self.row[:count].tolist(), strict=True):
            yield s, r, tables[s].column("text")[r].as_py(), tables[s].column("url")[r].as_py()


def interleave(files: Sequence[Path]) -> np.ndarray:
    """(source, row, tokens, bytes) of every document in corpus order: those an earlier source already holds
    dropped, the sources interleaved in proportion to their sizes."""
    seen: set[bytes] = set()
    order: list[tuple[float, int, int, int, int]] = []
    for number, path in enumerate(files):
        table = pq.read_table(path, columns=["sha256", "tokens", "text"])
        digests = table.column("sha256").to_pylist()
        tokens = table.column("tokens").to_pylist()
        sizes = pc.binary_length(table.column("text").cast(pa.binary())).to_pylist()
        kept = [i for i, d in enumerate(digests) if d not in seen]
        seen.update(digests)
        order += [((rank + 0.5) / len(kept), number, i, tokens[i], sizes[i]) for rank, i in enumerate(kept)]
    order.sort()
    return np.array([entry[1:] for entry in order], dtype=np.int64).T


def load_corpus(cache: Path, processes: int, console: Console) -> Corpus:
    """Extract what is not cached yet, drop documents an earlier source already holds, interleave by size."""
    sources = [s for s in SOURCES if any(Path(r).exists() for r in s.roots)]
    if not any(Path(r).is_dir() for r in HELD_OUT.roots):
        console.print(
            "[red]the held-out source is missing:[/] apt-get install postgresql-doc-15 (its pages are the new outputs)"
        )
        raise SystemExit(2)
    files = [extract_source(s, cache, processes, console) for s in sources]
    held_out = extract_source(HELD_OUT, cache, processes, console)
    key = hashlib.sha256("\n".join(f.name for f in files).encode()).hexdigest()[:16]
    cached = corpus_dir(cache) / f"order-{key}.npy"
    if not cached.is_file():
        np.save(cached, interleave(files))
    source, row, tokens, sizes = np.load(cached)
    return Corpus(sources, files, source, row, tokens, sizes, held_out)


# -- the workspaces and the peer's input ------------------------------------------------------------------------


def fmt_count(n: int) -> str:
    """10000000 -> 10M, 250000 -> 250k; otherwise with one decimal (12.3M)."""
    if n >= 1_000_000:
        return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n / 1e6:.1f}M"
    if n >= 1_000:
        return f"{n // 1_000}k" if n % 1_000 == 0 else f"{n / 1e3:.1f}k"
    return str(n)


def parse_count(text: str) -> int:
    """'10M' -> 10_000_000, '250k' -> 250_000, '1e6' -> 1_000_000."""
    text = text.strip().lower().replace("_", "").replace(",", "")
    scale = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000, "b": 1_000_000_000}.get(text[-1:], 1)
    number = float(text[:-1] if scale > 1 else text)
    return int(number * scale)


@dataclass
class Prepared:
    """One corpus written as a workspace: where, what it asked for and what it holds."""

    label: str
    asked: int
    root: Path
    documents: int
    tokens: int
    """Tokens by kiroku's tokenizer (the index's count)."""
    bytes: int
    by_source: dict[str, int]
    """Documents per source."""

    @property
    def truncated(self) -> bool:
        return self.tokens < self.asked


def input_sha(source: str) -> str:
    return hashlib.sha256(f"kiroku-bench/trace/corpus-v{CORPUS_FORMAT}/{source}".encode()).hexdigest()


def prepare_workspace(corpus: Corpus, asked: int, cache: Path, console: Console) -> Prepared:
    """The workspace holding the corpus of ``asked`` tokens, written once into the cache and reused."""
    count = corpus.prefix(asked)
    label = fmt_count(asked)
    root = cache / f"workspaces-v{CORPUS_FORMAT}" / label
    marker = root / "bench-corpus.json"
    if marker.is_file():
        info = json.loads(marker.read_text())
        if info.get("documents") == count:
            return Prepared(label, asked, root, count, info["tokens"], info["bytes"], info["by_source"])
    console.print(f"writing the {label}-token workspace ({count:,} documents) …")
    started = time.perf_counter()
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    ws = Workspace.init(root, "Bench Co")
    positions = [0] * len(corpus.sources)
    with ws.ledger() as ledger:
        writers: dict[int, ShardWriter] = {}
        for source in corpus.sources:
            origin = source.url or ", ".join(source.roots)
            register_source(ledger, Source(name=source.name, type=source.data_type, origin=origin))
        for number, _, text, url in corpus.texts(count):
            writer = writers.get(number)
            if writer is None:
                name = corpus.sources[number].name
                writer = writers[number] = ShardWriter(
                    ledger,
                    ws.catalog_dir,
                    source=name,
                    input_path=f"bench/trace/{name}",
                    input_sha256=input_sha(name),
                    max_documents=20_000,
                    max_bytes=64 << 20,
                )
            writer.add(Document(text=text, url=url), positions[number])
            positions[number] += 1
        for number, writer in writers.items():
            writer.flush(end=positions[number], complete=True)
    tokens = int(corpus.tokens[:count].sum())
    size = int(corpus.bytes[:count].sum())
    by_source = {s.name: positions[i] for i, s in enumerate(corpus.sources) if positions[i]}
    info = {"documents": count, "tokens": tokens, "bytes": size, "by_source": by_source}
    marker.write_text(json.dumps(info, indent=2) + "\n")
    console.print(
        f"  {tokens / 1e6:,.1f}M tokens, {size / MB:,.1f} MB of text, {time.perf_counter() - started:.0f} s"
    )
    return Prepared(label, asked, root, count, tokens, size, by_source)


def prepare_peer_input(corpus: Corpus, prepared: Prepared, cache: Path) -> Path:
    """The same documents as JSON lines (``{"text": ...}``), infini-gram's input; written once into the cache."""
    folder = cache / f"infini-gram-input-v{CORPUS_FORMAT}" / prepared.label
    path = folder / "corpus.jsonl"
    marker = folder / "documents"
    if marker.is_file() and marker.read_text().strip() == str(prepared.documents):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for _, _, text, _ in corpus.texts(prepared.documents):
            handle.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    marker.write_text(f"{prepared.documents}\n")
    return folder


# -- the outputs ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    kind: str
    """``copied`` (from the corpus, some words replaced) or ``new`` (held-out text)."""
    text: str
    origin: str


def _window(text: str, rng: np.random.Generator, length: int) -> tuple[str, list[tuple[int, int]]]:
    """A random run of ``length`` tokens of ``text``: its characters, and each token's offsets within them."""
    tokens = tokenize(text)
    start = int(rng.integers(0, len(tokens) - length + 1))
    chosen = tokens[start : start + length]
    base = chosen[0].start
    return text[base : chosen[-1].end], [(t.start - base, t.end - base) for t in chosen]


def make_outputs(corpus: Corpus, documents: int, count: int, seed: int) -> tuple[list[Output], Output]:
    """``count`` outputs of about 500 tokens, half copied from the first ``documents`` documents of the corpus
    with about one word in `EDIT_EVERY` replaced by a held-out word, half from the held-out source; and one more
    new output for warming up."""
    rng = np.random.default_rng(seed)
    held = pq.read_table(corpus.held_out, columns=["text", "tokens", "url"])
    held_texts = held.column("text").to_pylist()
    held_long = [i for i, n in enumerate(held.column("tokens").to_pylist()) if n >= OUTPUT_TOKENS + 50]
    words = [
        w
        for w in token_strings(" ".join(held_texts[i] for i in held_long[:50]))
        if len(w) > 2 and w.isalpha()
    ]
    copied_count = count - count // 2
    long_docs = np.flatnonzero(corpus.tokens[:documents] >= OUTPUT_TOKENS + 50)
    if not len(long_docs) or len(held_long) < 2:
        raise SystemExit("the corpus holds no document long enough for a 500-token output")
    picks = rng.choice(long_docs, size=copied_count, replace=len(long_docs) < copied_count)
    tables: dict[int, pa.Table] = {}
    outputs = []
    for doc in sorted(picks.tolist()):
        number, row = int(corpus.source[doc]), int(corpus.row[doc])
        if number not in tables:
            tables[number] = pq.read_table(corpus.files[number], columns=["text"])
        text, offsets = _window(tables[number].column("text")[row].as_py(), rng, OUTPUT_TOKENS)
        edited, last = [], 0
        for start, end in offsets:
            if rng.random() < 1 / EDIT_EVERY:
                edited.append(text[last:start] + str(rng.choice(words)))
                last = end
        edited.append(text[last:])
        outputs.append(Output("copied", "".join(edited), f"{corpus.sources[number].name} #{row}"))
    picks = rng.choice(held_long, size=count // 2 + 1, replace=len(held_long) < count // 2 + 1)
    for i in picks.tolist():
        text, _ = _window(held_texts[i], rng, OUTPUT_TOKENS)
        outputs.append(Output("new", text, f"{HELD_OUT.name} #{i}"))
    warmup = outputs.pop()
    order = rng.permutation(len(outputs))
    return [outputs[i] for i in order], warmup


# -- measuring ------------------------------------------------------------------------------------------------


def _statm_rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def status_bytes(field_name: str) -> int:
    """A ``kB`` field of /proc/self/status (VmHWM, RssAnon, RssFile), in bytes; 0 when unknown."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def peak_rss_bytes() -> int:
    """Peak RSS of this process: Linux's VmHWM, which starts afresh in a spawned process; else ru_maxrss."""
    peak = status_bytes("VmHWM")
    if peak:
        return max(peak, _statm_rss())
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(usage if sys.platform == "darwin" else usage * 1024)


def cpu_seconds() -> float:
    """User and system CPU time of this process (all its threads) and of the children it has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def children_peak_rss() -> int:
    """Peak RSS of the largest child this process has waited for (0 if none)."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


class Clock:
    """Wall and CPU time (this process, all its threads) of one measured step."""

    def __enter__(self) -> Clock:
        self.started, self.cpu_started = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.started
        self.cpu = time.process_time() - self.cpu_started


def pin(cpu: int) -> None:
    """Run this process (and what it starts) on one core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of ``samples``."""
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def dir_bytes(path: Path, names: Sequence[str] | None = None) -> int:
    """Bytes of the files under ``path`` (only those called one of ``names``, when given)."""
    return sum(
        p.stat().st_size for p in path.rglob("*") if p.is_file() and (names is None or p.name in names)
    )


@dataclass
class Timer:
    seconds: float = 0.0
    cpu: float = 0.0
    calls: int = 0
    items: int = 0


def _timed(
    timers: dict[str, Timer], name: str, function: Callable[..., Any], items: Callable[..., int] | None = None
) -> Callable[..., Any]:
    timer = timers.setdefault(name, Timer())

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            timer.seconds += time.perf_counter() - started
            timer.cpu += time.process_time() - cpu_started
            timer.calls += 1
            if items is not None:
                timer.items += items(*args, **kwargs)

    return wrapper


def _timed_iterator(
    timers: dict[str, Timer], name: str, function: Callable[..., Iterator[Any]]
) -> Callable[..., Iterator[Any]]:
    timer = timers.setdefault(name, Timer())

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        iterator = function(*args, **kwargs)
        while True:
            started, cpu_started = time.perf_counter(), time.process_time()
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                timer.seconds += time.perf_counter() - started
                timer.cpu += time.process_time() - cpu_started
            timer.calls += 1
            yield item

    return wrapper


def install_timers() -> dict[str, Timer]:
    """Wrap the build's parts with timers (in this process only): the split of a build's time."""
    import pydivsufsort  # type: ignore[import-untyped]

    import kiroku.trace.build as build
    import kiroku.trace.neardup as neardup
    import kiroku.trace.shard as shard
    from kiroku.trace.corpus import scope_batches
    from kiroku.trace.vocab import VocabularyBuilder

    timers: dict[str, Timer] = {}
    # the names as the build's modules look them up at call time
    for module, name, timer in (
        (build, "token_strings", "tokenize"),
        (shard, "write_suffix_files", "suffix"),
        (pydivsufsort, "divsufsort", "divsufsort"),
        (shard, "write_passage_files", "minhash"),
        (shard, "write_lexical_files", "bm25"),
    ):
        setattr(module, name, _timed(timers, timer, getattr(module, name)))
    setattr(build, "scope_batches", _timed_iterator(timers, "read", scope_batches))  # noqa: B010
    setattr(VocabularyBuilder, "ids", _timed(timers, "vocabulary", VocabularyBuilder.ids))  # noqa: B010
    setattr(  # noqa: B010
        neardup,
        "_sign",
        _timed(timers, "signing", neardup._sign, items=lambda flat, offsets, config: len(offsets) - 1),
    )
    return timers


SUFFIX_FILES = ("tokens.npy", "suffixes.npy", "doc_starts.npy")
PASSAGE_FILES = ("passages.npy", "signatures.npy", "lsh.keys.npy", "lsh.passages.npy", "minhash.json")


def index_by_kind(directory: Path) -> dict[str, int]:
    """Bytes of a trace index by part: suffix index, MinHash passages, BM25, documents, vocabulary and the rest."""
    kinds: dict[str, int] = {}
    for path in directory.rglob("*"):
        if not path.is_file():
            continue
        parts = path.relative_to(directory).parts
        if path.name in SUFFIX_FILES or path.name == "suffix.json":
            kind = "suffix"
        elif path.name in PASSAGE_FILES:
            kind = "passages"
        elif "bm25" in parts or path.name == "bm25.json":
            kind = "bm25"
        elif path.name == "docs.parquet":
            kind = "documents"
        elif "vocab" in parts or path.name == "unigrams.npy":
            kind = "vocabulary"
        else:
            kind = "other"
        kinds[kind] = kinds.get(kind, 0) + path.stat().st_size
    return kinds


@dataclass
class Build:
    """One kiroku build, measured in its own process."""

    seconds: float
    cpu_seconds: float
    documents: int
    tokens: int
    text_bytes: int
    shards: int
    index_bytes: int
    suffix_bytes: int
    passages: int
    peak_rss: int
    timers: dict[str, Timer]
    token_width: int
    pointer_width: int
    by_kind: dict[str, int] = field(default_factory=dict)
    sparse_bytes: dict[int, int] = field(default_factory=dict)
    sparse_seconds: dict[int, float] = field(default_factory=dict)
    sparse_dirs: dict[int, list[str]] = field(default_factory=dict)


def kiroku_build(root: str, index_dir: str, shard_tokens: int, cpu: int, sparse: list[int]) -> Build:
    """`build_trace_index` over the workspace's catalog into ``index_dir``, then the sparse suffix files."""
    from kiroku.trace.build import BuildOptions, build_trace_index
    from kiroku.trace.corpus import resolve_scope
    from kiroku.trace.suffix import SuffixShard, write_suffix_files

    pin(cpu)
    timers = install_timers()
    ws = Workspace.open(Path(root))
    directory = Path(index_dir)
    with ws.ledger() as ledger:
        scope = resolve_scope(ledger)
        started, cpu_started = time.perf_counter(), cpu_seconds()
        report = build_trace_index(
            ledger,
            ws.catalog_dir,
            directory,
            scope,
            options=BuildOptions(shard_tokens=shard_tokens),
            rebuild=True,
        )
        seconds, cpu_used = time.perf_counter() - started, cpu_seconds() - cpu_started
    peak = peak_rss_bytes()
    shard_dirs = sorted(p.parent for p in directory.rglob("shard-*/suffix.json"))
    first = json.loads((shard_dirs[0] / "suffix.json").read_text())
    passages = sum(json.loads((d / "minhash.json").read_text())["counts"]["passages"] for d in shard_dirs)
    result = Build(
        seconds=seconds,
        cpu_seconds=cpu_used,
        documents=report.documents,
        tokens=report.tokens,
        text_bytes=report.text_bytes,
        shards=report.shards,
        index_bytes=report.index_bytes,
        suffix_bytes=sum(dir_bytes(d, SUFFIX_FILES) for d in shard_dirs),
        passages=passages,
        peak_rss=peak,
        timers=timers,
        token_width=max(json.loads((d / "suffix.json").read_text())["token_width"] for d in shard_dirs),
        pointer_width=int(first["pointer_width"]),
        by_kind=index_by_kind(directory),
    )
    result.timers = copy.deepcopy(timers)  # the sparse files below call the same functions
    for k in sparse:
        started = time.perf_counter()
        for shard_dir in shard_dirs:
            suffix = SuffixShard.open(shard_dir)
            stream = suffix.tokens(0, suffix.n_tokens)
            starts = np.asarray(suffix.doc_starts)
            docs = [stream[a : b - 1] for a, b in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True)]
            target = directory.parent / f"{directory.name}-sparse{k}" / shard_dir.name
            write_suffix_files(target, docs, vocab_size=suffix.vocab_size, sparse=k)
            result.sparse_bytes[k] = result.sparse_bytes.get(k, 0) + dir_bytes(target, SUFFIX_FILES)
            result.sparse_dirs.setdefault(k, []).append(str(target))
        result.sparse_seconds[k] = time.perf_counter() - started
    return result


@dataclass
class Queries:
    """kiroku's answers to the outputs, measured in one process."""

    open_s: float = 0.0
    trace_s: list[float] = field(default_factory=list)
    """The whole answer (`trace_output`) of each output, wall time."""
    trace_cpu: list[float] = field(default_factory=list)
    spans_s: list[float] = field(default_factory=list)
    """`find_spans` over all shards (token ids looked up beforehand), wall time."""
    spans_cpu: list[float] = field(default_factory=list)
    cut_s: list[float] = field(default_factory=list)
    """Cutting the output into windows and signing them (once per trace, shared by its shards)."""
    lsh_s: list[float] = field(default_factory=list)
    """`PassageIndex.query` of one shard (windows already signed), for every output and shard, wall time."""
    lsh_cpu: list[float] = field(default_factory=list)
    lookup_cpu: list[float] = field(default_factory=list)
    """The LSH lookup proper of one shard: band keys searched in the mapped files, candidate passages counted
    (`PassageIndex._candidates`), before any scoring; CPU time."""
    timers: dict[str, Timer] = field(default_factory=dict)
    """The parts of the whole traces."""
    sparse_spans_cpu: dict[int, list[float]] = field(default_factory=dict)
    """`find_spans` over the sparse suffix files, CPU time."""
    coverage: list[float] = field(default_factory=list)
    span_count: list[int] = field(default_factory=list)
    passages: list[int] = field(default_factory=list)
    sparse_agree: dict[int, bool] = field(default_factory=dict)
    peak_rss: int = 0
    rss_anon: int = 0
    rss_file: int = 0


def kiroku_queries(
    root: str, index_dir: str, outputs: list[str], warmup: str, cpu: int, sparse_dirs: dict[int, list[str]]
) -> Queries:
    """Open the index, then trace every output whole, and time its span finder and LSH lookups alone."""
    import kiroku.trace.query as query
    from kiroku.trace import neardup
    from kiroku.trace.corpus import resolve_scope
    from kiroku.trace.index import TraceIndex
    from kiroku.trace.lexical import LexicalIndex
    from kiroku.trace.query import TraceOptions, trace_output
    from kiroku.trace.spans import find_spans
    from kiroku.trace.suffix import SuffixShard

    pin(cpu)
    result = Queries()
    timers: dict[str, Timer] = {}
    for owner, name, timer in (
        (query, "longest_matches", "matching"),
        (neardup.PassageIndex, "query", "lsh"),
        (LexicalIndex, "rank", "bm25"),
        (query, "_spans", "spans"),
        (query, "_passages", "passages"),
        (query, "_similar", "similar"),
        (query, "_snippet", "snippet"),
        (getattr(query, "_Snippets", None), "snippet", "snippet"),
    ):
        if hasattr(owner, name):  # what this kiroku has: the trace's parts move as it is optimised
            setattr(owner, name, _timed(timers, timer, getattr(owner, name)))
    # one core: the shards one after another, whatever the default number of threads
    options = TraceOptions(**({"workers": 1} if "workers" in TraceOptions.__dataclass_fields__ else {}))
    ws = Workspace.open(Path(root))
    with ws.ledger() as ledger:
        started = time.perf_counter()
        index = TraceIndex.open(Path(index_dir), resolve_scope(ledger))
        index.check(ledger)
        result.open_s = time.perf_counter() - started
        trace_output(index, warmup, ws.catalog_dir, options)
        for text in outputs:
            with Clock() as clock:
                answer = trace_output(index, text, ws.catalog_dir, options)
            result.trace_s.append(clock.wall)
            result.trace_cpu.append(clock.cpu)
            result.coverage.append(float(answer["coverage"]))
            result.span_count.append(int(answer["span_count"]))
            result.passages.append(len(answer["passages"]))
    result.timers = copy.deepcopy(timers)  # the lookups below call some of the same functions
    shards = [s.suffix for s in index.shards]
    queries = [index.vocabulary.lookup(token_strings(text)) for text in outputs]
    dense_spans = []
    for ids in queries:
        with Clock() as clock:
            found = find_spans(shards, ids, 8)
        result.spans_s.append(clock.wall)
        result.spans_cpu.append(clock.cpu)
        dense_spans.append([(s.start, s.end, s.count) for s in found])
        neardup._cut.cache_clear()  # kiroku signs an output's windows once per trace, for all shards
        started = time.perf_counter()
        windows = neardup._cut_query(ids, index.shards[0].passages.config, None)
        result.cut_s.append(time.perf_counter() - started)
        for shard in index.shards:
            with Clock() as clock:
                shard.passages.query(ids, shard.suffix.tokens, threshold=0.5, limit=10)
            result.lsh_s.append(clock.wall)
            result.lsh_cpu.append(clock.cpu)
            if windows is not None and hasattr(shard.passages, "_candidates"):
                with Clock() as clock:
                    shard.passages._candidates(windows)
                result.lookup_cpu.append(clock.cpu)
    for k, dirs in sparse_dirs.items():
        sparse = [SuffixShard.open(Path(d)) for d in dirs]
        times, same = [], True
        for ids, dense in zip(queries, dense_spans, strict=True):
            with Clock() as clock:
                found = find_spans(sparse, ids, 8)
            times.append(clock.cpu)
            same = same and [(s.start, s.end, s.count) for s in found] == dense
        result.sparse_spans_cpu[k] = times
        result.sparse_agree[k] = same
    result.peak_rss = peak_rss_bytes()
    result.rss_anon = status_bytes("RssAnon")
    result.rss_file = status_bytes("RssFile")
    return result


# -- the peers ------------------------------------------------------------------------------------------------


@dataclass
class PeerBuild:
    """infini-gram's offline indexing of one corpus, measured around its command."""

    seconds: float
    cpu_seconds: float
    text_bytes: int
    index_bytes: int
    peak_rss: int
    steps: dict[str, float]
    """Its own step timings (tokenize; build_sa), from its log."""


_STEP = re.compile(r"Step (\d(?:\.\d)?) \(([\w-]+)\): Done\. Took ([\d.]+) seconds")


def infinigram_build(data_dir: str, save_dir: str, cpu: int, mem_gib: int) -> PeerBuild:
    """``python -m infini_gram.indexing`` on one core, byte-level (u8, no tokenizer), into ``save_dir``."""
    pin(cpu)
    shutil.rmtree(save_dir, ignore_errors=True)
    command = [
        sys.executable, "-m", "infini_gram.indexing",
        "--data_dir", data_dir, "--save_dir", save_dir,
        "--token_dtype", "u8", "--version", "4", "--cpus", "1", "--mem", str(mem_gib),
        "--ulimit", str(resource.getrlimit(resource.RLIMIT_NOFILE)[1]),  # it raises the limit to this
    ]  # fmt: skip
    started, cpu_started = time.perf_counter(), cpu_seconds()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds, cpu_used = time.perf_counter() - started, cpu_seconds() - cpu_started
    if done.returncode != 0:
        raise RuntimeError(
            f"infini-gram indexing failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    steps = {m.group(2): float(m.group(3)) for m in _STEP.finditer(done.stdout)}
    # it logs no end for its first step (tokenizing): the rest of its time
    steps["tokenize"] = seconds - steps.get("build_sa", 0.0)
    data = sum(
        len(json.loads(line)["text"].encode("utf-8"))
        for line in (Path(data_dir) / "corpus.jsonl").open(encoding="utf-8")
    )
    return PeerBuild(seconds, cpu_used, data, dir_bytes(Path(save_dir)), children_peak_rss(), steps)


@dataclass
class PeerQueries:
    """infini-gram's ``attribute`` on the outputs, measured in one process."""

    open_s: float = 0.0
    attribute_s: list[float] = field(default_factory=list)
    attribute_cpu: list[float] = field(default_factory=list)
    coverage: list[float] = field(default_factory=list)
    span_count: list[int] = field(default_factory=list)
    peak_rss: int = 0
    rss_anon: int = 0
    rss_file: int = 0


def infinigram_queries(
    save_dir: str, outputs: list[str], warmup: str, cpu: int, min_bytes: int, max_count: int
) -> PeerQueries:
    """Open infini-gram's engine on the byte-level index and run ``attribute`` on every output's UTF-8 bytes."""
    from infini_gram.engine import InfiniGramEngine

    pin(cpu)
    result = PeerQueries()
    started = time.perf_counter()
    # the u8 engine keeps its vocabulary size in one byte (so 255, not 256); attribute never uses eos
    engine = InfiniGramEngine(index_dir=save_dir, eos_token_id=0, vocab_size=255, version=4, token_dtype="u8")
    result.open_s = time.perf_counter() - started

    def attribute(text: str) -> tuple[Clock, int, float]:
        ids = list(text.encode("utf-8"))
        with Clock() as clock:
            answer: Any = engine.attribute(
                input_ids=ids, delim_ids=[], min_len=min_bytes, max_cnt=max_count, enforce_bow=False
            )
        if "error" in answer:
            raise RuntimeError(f"infini-gram attribute failed: {answer['error']}")
        covered = np.zeros(len(ids), dtype=bool)
        for span in answer["spans"]:
            covered[span["l"] : span["r"]] = True
        return clock, len(answer["spans"]), float(covered.mean()) if len(ids) else 0.0

    attribute(warmup)
    for text in outputs:
        clock, spans, coverage = attribute(text)
        result.attribute_s.append(clock.wall)
        result.attribute_cpu.append(clock.cpu)
        result.span_count.append(spans)
        result.coverage.append(coverage)
    result.peak_rss = peak_rss_bytes()
    result.rss_anon = status_bytes("RssAnon")
    result.rss_file = status_bytes("RssFile")
    return result


@dataclass
class MinHashRates:
    """Passages signed per second, on the passages of one shard (datasketch on a sample of them)."""

    passages: int
    rensa_call: float
    """rensa's ``digest_matrix_from_flat_token_hashes`` alone."""
    kiroku_sign: float
    """kiroku's signing step (rensa, then its digests into numpy)."""
    sample: int
    datasketch: float
    """datasketch ``MinHash.bulk`` over the shingles as 8-byte strings."""
    datasketch_update: float
    """datasketch, one ``MinHash`` per passage with ``update_batch``."""
    agree: float
    """Mean absolute difference of the two libraries' Jaccard estimates on neighbouring passages of the sample."""


def minhash_rates(shard_dir: str, sample: int, cpu: int) -> MinHashRates:
    """Sign the passages of one shard with rensa (as kiroku does) and a sample of them with datasketch."""
    import rensa  # type: ignore[import-untyped]
    from datasketch import MinHash

    from kiroku.trace import neardup
    from kiroku.trace.suffix import SuffixShard

    pin(cpu)
    config = neardup.PassageConfig()
    suffix = SuffixShard.open(Path(shard_dir))
    tokens = suffix.tokens(0, suffix.n_tokens)
    # kiroku's own passage cutting and shingle hashing, so that both libraries sign exactly the build's passages
    bounds = neardup._passage_bounds(np.asarray(suffix.doc_starts), config)
    base = int(bounds[0, 0])
    hashes = neardup._shingle_hashes(tokens[base : int(bounds[-1, 1])], config.shingle)
    index, offsets = neardup._flat_rows(bounds, base, config.shingle)
    flat = hashes[index]
    started = time.process_time()
    rensa.RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, config.num_perm, config.seed)
    call = time.process_time() - started
    started = time.process_time()
    parts = []
    for i in range(0, len(bounds), neardup.BATCH):
        j = min(i + neardup.BATCH, len(bounds))
        lo, hi = int(offsets[i]), int(offsets[j])
        parts.append(neardup._sign(flat[lo:hi], offsets[i : j + 1] - offsets[i], config))
    signed = np.concatenate(parts)
    sign = time.process_time() - started
    rng = np.random.default_rng(5)
    first = int(rng.integers(0, max(1, len(bounds) - sample)))
    rows = range(first, min(len(bounds), first + sample))
    shingles = [[h.tobytes() for h in flat[int(offsets[i]) : int(offsets[i + 1])]] for i in rows]
    started = time.process_time()
    bulk = MinHash.bulk(shingles, num_perm=config.num_perm, seed=1)
    datasketch = time.process_time() - started
    started = time.process_time()
    for values in shingles:
        one = MinHash(num_perm=config.num_perm, seed=1)
        one.update_batch(values)
    update = time.process_time() - started
    # neighbouring passages share half their window: both libraries should estimate about the same Jaccard
    differences = []
    for j in range(len(bulk) - 1):
        theirs = bulk[j].jaccard(bulk[j + 1])
        ours = float(np.mean(signed[first + j] == signed[first + j + 1]))
        differences.append(abs(theirs - ours))
    n = len(bounds)
    return MinHashRates(
        passages=n,
        rensa_call=n / call,
        kiroku_sign=n / sign,
        sample=len(shingles),
        datasketch=len(shingles) / datasketch,
        datasketch_update=len(shingles) / update,
        agree=float(np.mean(differences)) if differences else 0.0,
    )


# -- child processes ------------------------------------------------------------------------------------------


def _worker(name: str, args: tuple[Any, ...], pipe: Pipe) -> None:
    try:
        pipe.send(WORKERS[name](*args))
    finally:
        pipe.close()


WORKERS: dict[str, Callable[..., object]] = {
    "build": kiroku_build,
    "queries": kiroku_queries,
    "peer-build": infinigram_build,
    "peer-queries": infinigram_queries,
    "minhash": minhash_rates,
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
    """Everything measured on one corpus."""

    prepared: Prepared
    build: Build
    queries: Queries
    peer_build: PeerBuild | None = None
    peer: PeerQueries | None = None

    @property
    def pbuild(self) -> PeerBuild:
        """The peer's build (only asked for where it was built)."""
        assert self.peer_build is not None
        return self.peer_build

    @property
    def panswers(self) -> PeerQueries:
        """The peer's answers (only asked for where it was built)."""
        assert self.peer is not None
        return self.peer


def measure(
    corpus: Corpus,
    prepared: Prepared,
    outputs: list[Output],
    warmup: Output,
    work: Path,
    args: argparse.Namespace,
    console: Console,
) -> Measured:
    """Build and query kiroku's index of one corpus, then the peer's, each step in a fresh process."""
    label = prepared.label
    index_dir = work / f"index-{label}"
    console.print(f"{label}: building kiroku's trace index …")
    build: Build = in_child(
        "build", str(prepared.root), str(index_dir), args.shard_tokens, args.cpu, args.sparse
    )
    console.print(f"  {build.seconds:.1f} s, {build.shards} shards; tracing {len(outputs)} outputs …")
    texts = [o.text for o in outputs]
    queries: Queries = in_child(
        "queries", str(prepared.root), str(index_dir), texts, warmup.text, args.cpu, build.sparse_dirs
    )
    for k in args.sparse:
        shutil.rmtree(work / f"index-{label}-sparse{k}", ignore_errors=True)
    measured = Measured(prepared, build, queries)
    if prepared.asked <= args.peer_max_tokens:
        data = prepare_peer_input(corpus, prepared, args.cache)
        save = work / f"infini-gram-{label}"
        console.print(f"{label}: building infini-gram's index (byte-level, one core) …")
        measured.peer_build = in_child(
            "peer-build", str(data.resolve()), str(save.resolve()), args.cpu, args.peer_mem_gib
        )
        console.print(f"  {measured.peer_build.seconds:.1f} s; attribute on {len(outputs)} outputs …")
        measured.peer = in_child(
            "peer-queries",
            str(save.resolve()),
            texts,
            warmup.text,
            args.cpu,
            args.peer_min_bytes,
            args.peer_max_count,
        )
        shutil.rmtree(save, ignore_errors=True)
    return measured


# -- the report -----------------------------------------------------------------------------------------------


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.1f} s"


def fmt_mib(size: int) -> str:
    return f"{size / MiB:,.0f} MiB"


def verdict(ok: bool) -> str:
    return "[green]met[/]" if ok else "[red]not met[/]"


def p50_p99(samples: Sequence[float]) -> str:
    return f"{fmt_time(statistics.median(samples))} / {fmt_time(percentile(samples, 99))}"


def mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else 0.0


def by_kind(outputs: list[Output], values: Sequence[float], kind: str) -> list[float]:
    return [v for o, v in zip(outputs, values, strict=True) if o.kind == kind]


TIMER_NAMES = (
    ("read", "read the catalog (DuckDB, Parquet)"),
    ("tokenize", "tokenize"),
    ("vocabulary", "vocabulary ids"),
    ("suffix", "suffix array"),
    ("divsufsort", "  of which libdivsufsort"),
    ("minhash", "MinHash LSH"),
    ("signing", "  of which signing (rensa)"),
    ("bm25", "BM25 (bm25s)"),
)


def build_table(
    runs: list[Measured], outputs: list[Output], minhash: MinHashRates, args: argparse.Namespace
) -> tuple[Table, list[bool]]:
    """One column per system; each cell holds one line per corpus size."""
    small, large = runs[0], runs[-1]
    table = Table(
        title=f"trace index · corpora of {', '.join(fmt_count(m.build.tokens) for m in runs)} tokens of real text · "
        f"{len(outputs)} outputs of {OUTPUT_TOKENS} tokens (half copied with edits, half new) · one core",
        show_lines=True,
    )
    table.add_column("metric", style="bold")
    table.add_column("kiroku", justify="left")
    table.add_column("peer", justify="left")
    table.add_column("target", justify="left")
    table.add_column("met?", justify="center")
    verdicts: list[bool] = []

    def row(metric: str, ours: str, peer: str, target: str = "", ok: bool | None = None) -> None:
        if ok is not None:
            verdicts.append(ok)
        table.add_row(metric, ours, peer, target, "" if ok is None else verdict(ok))

    def lines(fn: Callable[[Measured], str]) -> str:
        return "\n".join(f"{fmt_count(m.build.tokens)}: {fn(m)}" for m in runs)

    def peer_lines(fn: Callable[[Measured], str]) -> str:
        return "\n".join(
            f"{fmt_count(m.build.tokens)}: "
            + (fn(m) if m.peer_build is not None else "not built (over --peer-max-tokens)")
            for m in runs
        )

    row(
        "corpus (each a kiroku workspace)",
        lines(
            lambda m: (
                f"{m.prepared.documents:,} documents, {m.build.text_bytes / MB:,.0f} MB of text"
                + (" [yellow](all the distinct text there is)[/]" if m.prepared.truncated else "")
            )
        ),
        "infini-gram: the same documents\nas JSON lines, byte-level (u8)",
    )

    def per_cpu(m: Measured) -> float:
        return m.build.text_bytes / MB / m.build.cpu_seconds

    def peer_per_cpu(m: Measured) -> float:
        return m.pbuild.text_bytes / MB / m.pbuild.cpu_seconds

    row(
        "build the index\n(time: wall / CPU)",
        lines(
            lambda m: (
                f"{fmt_time(m.build.seconds)} / {fmt_time(m.build.cpu_seconds)}, {m.build.shards} shards"
            )
        ),
        peer_lines(lambda m: f"{fmt_time(m.pbuild.seconds)} / {fmt_time(m.pbuild.cpu_seconds)}"),
    )
    row(
        "build MB/s of text per core\n(per CPU second; wall)",
        lines(lambda m: f"{per_cpu(m):.2f} ({m.build.text_bytes / MB / m.build.seconds:.2f} wall)"),
        peer_lines(
            lambda m: f"{peer_per_cpu(m):.2f} ({m.pbuild.text_bytes / MB / m.pbuild.seconds:.2f} wall)"
        ),
        f"≥ {TARGET_BUILD_MB_PER_S:g} MB/s per core",
        per_cpu(large) >= TARGET_BUILD_MB_PER_S,
    )
    timers = large.build.timers
    total = large.build.cpu_seconds
    accounted = sum(
        timers[name].cpu for name in ("read", "tokenize", "vocabulary", "suffix", "minhash", "bm25")
    )
    split = [
        f"{title}: {fmt_time(timers[name].cpu)} ({timers[name].cpu / total:.0%})"
        for name, title in TIMER_NAMES
        if name in timers
    ]
    split.append(
        f"other (documents, hashes, files): {fmt_time(total - accounted)} ({(total - accounted) / total:.0%})"
    )
    peer_split = ""
    biggest_peer = next((m for m in reversed(runs) if m.peer_build is not None), None)
    if biggest_peer is not None and biggest_peer.peer_build is not None:
        steps, whole = biggest_peer.pbuild.steps, biggest_peer.pbuild.seconds
        peer_split = f"{fmt_count(biggest_peer.build.tokens)}:\n" + "\n".join(
            f"{title}: {fmt_time(steps[name])} ({steps[name] / whole:.0%})"
            for name, title in (
                ("tokenize", "JSON lines to bytes"),
                ("build_sa", "suffix array"),
                ("make-part", "  make-part"),
                ("merge", "  merge"),
                ("concat", "  concat"),
            )
            if name in steps
        )
    row(
        f"build split ({fmt_count(large.build.tokens)}):\nkiroku CPU time; infini-gram wall\n(its own log)",
        "\n".join(split),
        peer_split,
    )

    def dense(m: Measured) -> float:
        return m.build.suffix_bytes / m.build.tokens

    row(
        "suffix index (token file and\nsuffix array), dense",
        lines(
            lambda m: (
                f"{dense(m):.2f} B/token ({m.build.token_width}-byte tokens, "
                f"{m.build.pointer_width}-byte pointers; {fmt_mib(m.build.suffix_bytes)})"
            )
        ),
        peer_lines(
            lambda m: (
                f"{m.pbuild.index_bytes / m.pbuild.text_bytes:.2f} B/byte = "
                f"{m.pbuild.index_bytes / m.build.tokens:.1f} B/token ({fmt_mib(m.pbuild.index_bytes)})"
            )
        ),
        f"≤ {TARGET_DENSE_BYTES:g} bytes per token",
        dense(large) <= TARGET_DENSE_BYTES,
    )
    if args.sparse:

        def sparse_cell(m: Measured) -> str:
            return "; ".join(
                f"k={k}: {m.build.sparse_bytes[k] / m.build.tokens:.2f} B/token, spans {p50_p99(m.queries.sparse_spans_cpu[k])}"
                for k in args.sparse
            )

        best = min(large.build.sparse_bytes[k] / large.build.tokens for k in args.sparse)
        row(
            "sparse suffix index (every k-th\nsuffix), span finder CPU p50 / p99",
            lines(sparse_cell),
            "",
            f"an option near 3 bytes a token\n(≤ {TARGET_SPARSE_BYTES:g})",
            best <= TARGET_SPARSE_BYTES,
        )
    row(
        "whole index on disk\n(all tiers)",
        lines(
            lambda m: (
                f"{m.build.index_bytes / m.build.tokens:.1f} B/token: "
                + ", ".join(
                    f"{kind} {size / m.build.tokens:.1f}"
                    for kind, size in sorted(m.build.by_kind.items(), key=lambda item: -item[1])
                    if size / m.build.tokens >= 0.05
                )
            )
        ),
        "",
    )
    scale = max(1.0, large.build.tokens / 100e6)
    trace_limit = TARGET_TRACE_MS_PER_100M * scale / 1e3
    row(
        "trace a 500-token output, whole\n(trace_output) p50 / p99:\nCPU; wall",
        lines(
            lambda m: (
                f"{p50_p99(m.queries.trace_cpu)}; {p50_p99(m.queries.trace_s)} (open {fmt_time(m.queries.open_s)})"
            )
        ),
        "none: infini-gram finds spans only",
        f"p99 ≤ {TARGET_TRACE_MS_PER_100M:g} ms per 100M tokens,\none core (CPU)",
        percentile(large.queries.trace_cpu, 99) <= trace_limit,
    )
    count = len(outputs) + 1  # the warm-up too

    def trace_split(m: Measured) -> str:
        t, whole = m.queries.timers, sum(m.queries.trace_cpu)

        def part(name: str) -> float:
            return t[name].cpu / count if name in t else 0.0

        searched = [("matching statistics", "matching"), ("LSH", "lsh"), ("BM25", "bm25")]
        listed = [("spans", "spans"), ("passages", "passages"), ("similar", "similar")]
        rest = whole / len(outputs) - sum(part(name) for _, name in searched + listed)
        snippets = t["snippet"] if "snippet" in t else Timer()
        return (
            "search "
            + ", ".join(f"{title} {fmt_time(part(name))}" for title, name in searched)
            + "; list "
            + ", ".join(f"{title} {fmt_time(part(name))}" for title, name in listed)
            + f"; the rest {fmt_time(max(0.0, rest))}; snippets {fmt_time(snippets.cpu / count)} "
            f"({snippets.calls / count:.0f} a trace)"
        )

    row(
        "trace split, mean CPU per output:\nthe shards' searches; listing spans\n(merge, documents), passages, similar;\n"
        "the rest (tokenizing the output);\nsnippets (catalog text read and\ntokenized) within the lists",
        lines(trace_split),
        "",
    )

    def kinds(samples: Sequence[float]) -> str:
        copied, new = (statistics.median(by_kind(outputs, samples, kind)) for kind in ("copied", "new"))
        return f"copied {fmt_time(copied)}, new {fmt_time(new)}"

    row(
        "span finder p50 / p99: CPU; wall;\nCPU p50 by kind of output\n(kiroku find_spans over its shards;\n"
        "infini-gram attribute)",
        lines(
            lambda m: (
                f"{p50_p99(m.queries.spans_cpu)}; {p50_p99(m.queries.spans_s)}; {kinds(m.queries.spans_cpu)}"
            )
        ),
        peer_lines(
            lambda m: (
                f"{p50_p99(m.panswers.attribute_cpu)}; {p50_p99(m.panswers.attribute_s)}; "
                f"{kinds(m.panswers.attribute_cpu)}"
            )
        ),
    )

    def per_100m(samples: Sequence[float], tokens: int) -> str:
        return fmt_time(statistics.median(samples) * 100e6 / tokens)

    row(
        "span finder CPU p50, scaled\nlinearly to 100M tokens",
        lines(lambda m: per_100m(m.queries.spans_cpu, m.build.tokens)),
        peer_lines(lambda m: per_100m(m.panswers.attribute_cpu, m.build.tokens)),
    )
    row(
        "MinHash LSH lookup: one shard's band\nkeys searched in the mapped files,\ncandidates counted "
        "(PassageIndex.\n_candidates), CPU p50 / p99",
        lines(lambda m: p50_p99(m.queries.lookup_cpu) if m.queries.lookup_cpu else "not measured"),
        "",
        f"p99 ≤ {TARGET_LSH_MS:g} ms (CPU)",
        bool(large.queries.lookup_cpu) and percentile(large.queries.lookup_cpu, 99) <= TARGET_LSH_MS / 1e3,
    )
    row(
        "... with the candidates scored: the\noutput's windows cut and signed once,\np50; one shard's "
        "PassageIndex.query\n(lookup, estimated and exact Jaccard)\np50 / p99: CPU; wall",
        lines(
            lambda m: (
                f"{fmt_time(statistics.median(m.queries.cut_s))}; {p50_p99(m.queries.lsh_cpu)}; "
                f"{p50_p99(m.queries.lsh_s)}"
            )
        ),
        "",
    )
    step = large.build.timers["minhash"]
    signing = large.build.timers["signing"]
    build_rate = large.build.passages / step.cpu
    row(
        "MinHash passages per CPU second\n(64-token windows, 96 permutations)",
        f"build's MinHash LSH step ({fmt_count(large.build.tokens)}): {build_rate:,.0f}/s"
        f"\n  of which signing: {signing.items / signing.cpu:,.0f}/s"
        f"\nrensa call alone ({minhash.passages:,} passages): {minhash.rensa_call:,.0f}/s"
        f"\nkiroku's signing step: {minhash.kiroku_sign:,.0f}/s",
        f"datasketch MinHash.bulk: {minhash.datasketch:,.0f}/s"
        f"\ndatasketch update_batch: {minhash.datasketch_update:,.0f}/s"
        f"\n({minhash.sample:,} of the same passages; Jaccard\nestimates differ by {minhash.agree:.3f} on average)",
        f"≥ {TARGET_MINHASH_PER_S:,} passages/s",
        build_rate >= TARGET_MINHASH_PER_S,
    )
    build_growth = (large.build.peak_rss - small.build.peak_rss) / MiB
    row(
        "peak RSS of the build",
        lines(lambda m: fmt_mib(m.build.peak_rss)) + f"\n{build_growth:+,.0f} MiB on the largest corpus",
        peer_lines(lambda m: fmt_mib(m.pbuild.peak_rss)),
        f"flat: ≤ {args.flat_mib:g} MiB more",
        build_growth <= args.flat_mib,
    )
    anon_growth = (large.queries.rss_anon - small.queries.rss_anon) / MiB
    row(
        "memory of the queries: peak RSS;\nat the end anonymous + mapped files",
        lines(
            lambda m: (
                f"{fmt_mib(m.queries.peak_rss)}; {fmt_mib(m.queries.rss_anon)} + {fmt_mib(m.queries.rss_file)}"
            )
        )
        + f"\nanonymous {anon_growth:+,.0f} MiB on the largest corpus",
        peer_lines(
            lambda m: (
                f"{fmt_mib(m.panswers.peak_rss)}; {fmt_mib(m.panswers.rss_anon)} + {fmt_mib(m.panswers.rss_file)}"
            )
        ),
        f"flat beyond the mapped files:\n≤ {args.flat_mib:g} MiB more",
        anon_growth <= args.flat_mib,
    )

    def coverage(values: Sequence[float], kind: str) -> float:
        return mean(by_kind(outputs, values, kind))

    def found(m: Measured) -> float:
        return mean([1.0 if n else 0.0 for n in by_kind(outputs, m.queries.passages, "copied")])

    sane = all(
        coverage(m.queries.coverage, "copied") >= 0.5
        and coverage(m.queries.coverage, "new") < coverage(m.queries.coverage, "copied")
        and all(m.queries.sparse_agree.values())
        and (m.peer is None or coverage(m.panswers.coverage, "copied") >= 0.5)
        for m in runs
    )
    row(
        "answers: mean coverage of copied /\nnew outputs; copied outputs with a\nnear-duplicate passage; sparse spans\nequal to dense",
        lines(
            lambda m: (
                f"{coverage(m.queries.coverage, 'copied'):.0%} / {coverage(m.queries.coverage, 'new'):.0%}; "
                f"{found(m):.0%}; " + ("yes" if all(m.queries.sparse_agree.values()) else "[red]NO[/]")
            )
        ),
        peer_lines(
            lambda m: (
                f"{coverage(m.panswers.coverage, 'copied'):.0%} / {coverage(m.panswers.coverage, 'new'):.0%} of bytes"
            )
        ),
        "copied outputs found (≥ 50%),\nnew ones less",
        sane,
    )
    return table, verdicts


# -- main -----------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        default="10M,30M,100M",
        help="corpus sizes in kiroku tokens, comma-separated (default 10M,30M,100M)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="0.25M and 1M tokens, 10 outputs: about a minute once cached",
    )
    parser.add_argument(
        "--outputs", type=int, default=100, help="outputs to trace, half copied (default 100)"
    )
    parser.add_argument(
        "--shard-tokens", type=int, default=8_000_000, help="tokens per index shard (default 8M)"
    )
    parser.add_argument(
        "--sparse", default="2,4", help="sparse suffix indexes to write and time (default 2,4)"
    )
    parser.add_argument(
        "--peer-max-tokens", default="30M", help="build infini-gram only on corpora up to this (default 30M)"
    )
    parser.add_argument(
        "--peer-min-bytes",
        type=int,
        default=None,
        help="infini-gram's min_len in bytes (default: 8 tokens' worth of the smallest corpus's bytes per token)",
    )
    parser.add_argument(
        "--peer-max-count",
        type=int,
        default=1000,
        help="infini-gram's max_cnt (default 1,000, kiroku's common count)",
    )
    parser.add_argument("--peer-mem-gib", type=int, default=8, help="infini-gram's --mem (default 8 GiB)")
    parser.add_argument(
        "--minhash-sample", type=int, default=5000, help="passages signed by datasketch (default 5,000)"
    )
    parser.add_argument(
        "--flat-mib",
        type=float,
        default=DEFAULT_FLAT_MIB,
        help=f"allowed memory growth from the smallest corpus to the largest (default {DEFAULT_FLAT_MIB:g})",
    )
    parser.add_argument(
        "--cpu", type=int, default=(os.cpu_count() or 1) - 1, help="the core every measurement is pinned to"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="processes extracting the corpus (first run only)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "kiroku-bench" / "trace",
        help="where the extracted corpus, the workspaces and infini-gram's input are kept",
    )
    parser.add_argument("--workdir", type=Path, default=None, help="folder for the indexes (default: TMPDIR)")
    parser.add_argument("--keep", action="store_true", help="keep the indexes (the path is printed)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the outputs (default 0)")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.outputs, args.minhash_sample = "250k,1M", 10, 1000
        args.peer_max_tokens = "1M"
    try:
        args.sizes = sorted({parse_count(s) for s in args.sizes.split(",") if s.strip()})
        args.sparse = sorted({int(s) for s in args.sparse.split(",") if s.strip()})
        args.peer_max_tokens = parse_count(args.peer_max_tokens)
    except ValueError as exc:
        parser.error(f"cannot read a size: {exc}")
    if len(args.sizes) < 2 or args.sizes[0] < 10_000:
        parser.error("give at least two --sizes of 10k tokens or more")
    if args.outputs < 4 or args.shard_tokens < 1000 or any(k < 2 or k > 8 for k in args.sparse):
        parser.error("need --outputs >= 4, --shard-tokens >= 1000 and --sparse values in 2..8")
    if args.cpu not in os.sched_getaffinity(0):
        parser.error(f"--cpu {args.cpu} is not a core this process may use")
    return args


def check_peers(console: Console) -> None:
    """Exit 2 naming the pip command when a peer is not installed."""
    missing = []
    for name in ("infini-gram", "datasketch"):
        try:
            version(name)
        except PackageNotFoundError:
            missing.append(name)
    if missing:
        console.print(
            f"[red]the peers {', '.join(missing)} are not installed[/]: they are bench-only; run\n    {PEER_INSTALL}"
        )
        raise SystemExit(2)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 170))
    check_peers(console)
    started = time.perf_counter()
    console.print(
        f"[bold]machine:[/] {machine_description(('infini-gram', 'datasketch', 'rensa', 'pydivsufsort', 'bm25s'))}"
    )
    console.print(f"corpus in {args.cache} …")
    corpus = load_corpus(args.cache, args.processes, console)
    console.print(
        f"  {len(corpus.tokens):,} distinct documents, {corpus.total_tokens / 1e6:,.1f}M tokens, "
        f"{corpus.bytes.sum() / MB:,.0f} MB of text from {len(corpus.sources)} sources: "
        + ", ".join(
            f"{source.name} {corpus.tokens[corpus.source == number].sum() / 1e6:.1f}M"
            for number, source in enumerate(corpus.sources)
        )
    )
    sizes = [s for s in args.sizes if s <= corpus.total_tokens]
    if len(sizes) < len(args.sizes):
        sizes.append(args.sizes[len(sizes)])  # the first size over what exists: cut to all there is
        console.print(
            f"[yellow]the machine holds {corpus.total_tokens / 1e6:,.1f}M distinct tokens: the {fmt_count(sizes[-1])} "
            "corpus is all of them[/]"
        )
    prepared = [prepare_workspace(corpus, size, args.cache, console) for size in sizes]
    if args.peer_min_bytes is None:
        args.peer_min_bytes = max(8, round(8 * prepared[0].bytes / prepared[0].tokens))
    outputs, warmup = make_outputs(corpus, prepared[0].documents, args.outputs, args.seed)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kiroku-bench-trace-", dir=args.workdir))
    try:
        runs = []
        for number, corpus_size in enumerate(prepared):
            runs.append(measure(corpus, corpus_size, outputs, warmup, work, args, console))
            index_dir = work / f"index-{corpus_size.label}"
            if number == 0:
                console.print("MinHash signing: rensa and datasketch on the passages of one shard …")
                first_shard = sorted(index_dir.rglob("shard-*/suffix.json"))[0].parent
                minhash: MinHashRates = in_child("minhash", str(first_shard), args.minhash_sample, args.cpu)
            if not args.keep:
                shutil.rmtree(index_dir, ignore_errors=True)
    finally:
        if args.keep:
            console.print(f"indexes kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    table, verdicts = build_table(runs, outputs, minhash, args)
    console.print(table)
    console.print(
        f"infini-gram attribute: min_len {args.peer_min_bytes} bytes (8 tokens of this corpus), "
        f"max_cnt {args.peer_max_count:,}, no delimiters, every byte a start (enforce_bow off)"
    )
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    console.print(f"benchmark wall time {time.perf_counter() - started:.0f} s · load average now {load}")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
