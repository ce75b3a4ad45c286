"""A workspace of real text built through the ``kiroku`` commands, for tracing, and a brute force to check it.

The English documents are the docstrings of Python's standard library (real prose, installed with Python, with
the URL of their page on docs.python.org); the Japanese ones are short articles written for these tests
(tests/trace/data/ja.jsonl). A stage drops every fifth document and a training run uses the stage's kept set, so
the three scopes differ.
"""

from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kiroku.catalog.stats import catalog_shards
from kiroku.trace.tokenize import token_strings
from kiroku.workspace import Workspace
from tests.conftest import kiroku

DATA = Path(__file__).parent / "data"
MODULES = [
    "argparse", "collections", "csv", "difflib", "email.message", "fractions", "heapq", "json", "logging",
    "pathlib", "shutil", "statistics", "string", "tarfile", "textwrap", "threading", "zipfile",
]  # fmt: skip
RUN = """\
name = "pretrain"
model = "kiroku-test"
version = "1"
methods = ["pre-training"]
training_tokens = 1000
start = 2026-06-01
end = 2026-06-02
weight_unit = "share"
[architecture]
family = "decoder-only transformer"
parameters = 1000000
[[data_mix]]
stage = "clean"
weight = 1.0
"""


def stdlib_documents(limit: int | None = None) -> list[dict[str, str]]:
    """Docstrings of at least 300 characters from a fixed list of stdlib modules, each with its docs URL."""
    docs = []
    seen = set()
    for name in MODULES:
        module = importlib.import_module(name)
        members = [("", module), *sorted(inspect.getmembers(module), key=lambda m: m[0])]
        for member, obj in members:
            if member.startswith("_"):
                continue
            doc = (
                inspect.getdoc(obj)
                if (inspect.isclass(obj) or inspect.isfunction(obj) or obj is module)
                else None
            )
            if not doc or len(doc) < 300 or doc in seen:
                continue
            if obj is not module and getattr(obj, "__module__", None) != name:
                continue
            seen.add(doc)
            anchor = f"#{name}.{member}" if member else ""
            docs.append({"url": f"https://docs.python.org/3/library/{name}.html{anchor}", "text": doc})
    return docs[:limit]


def japanese_documents() -> list[dict[str, str]]:
    """The Japanese articles written for these tests."""
    return [json.loads(line) for line in (DATA / "ja.jsonl").read_text(encoding="utf-8").splitlines() if line]


def ok(*args: str, cwd: Path) -> str:
    """Run ``kiroku`` and return its standard output, failing the test with its output if it exits non-zero."""
    result = kiroku(*args, cwd=cwd)
    assert result.returncode == 0, f"kiroku {' '.join(args)}\n{result.stdout}{result.stderr}"
    return result.stdout


def _ids(root: Path) -> list[str]:
    ws = Workspace.open(root)
    ids = []
    with ws.ledger() as ledger:
        for recorded in catalog_shards(ledger):
            table = pq.read_table(ws.catalog_dir / recorded.shard.docs_file, columns=["doc_id", "kept"])
            ids += [row["doc_id"].hex() for row in table.to_pylist() if row["kept"]]
    return ids


def build_workspace(root: Path, store: str | None = None, shard_tokens: int = 4000) -> Path:
    """The workspace of the module docstring, with trace indexes of all three scopes."""
    args = ["init", str(root), "--org", "Test Org", "--origin", "test.kiroku/ledger"]
    ok(*args, *(["--store", store] if store else []), cwd=root.parent)
    english = stdlib_documents()
    (root / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in english))
    (root / "ja.jsonl").write_text((DATA / "ja.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    ok("source", "add", "pydocs", "--type", "public_dataset", cwd=root)
    ok("ingest", "jsonl", "docs.jsonl", "--source", "pydocs", "--shard-documents", "150", cwd=root)
    ok("source", "add", "news-ja", "--type", "web_crawl", cwd=root)
    ok("ingest", "jsonl", "ja.jsonl", "--source", "news-ja", cwd=root)
    ids = _ids(root)
    dropped = ids[::5]
    (root / "clean.kept.txt").write_text("".join(f"{i}\n" for i in ids if i not in dropped))
    (root / "clean.dropped.jsonl").write_text(
        "".join(json.dumps({"id": i, "reason": "quality"}) + "\n" for i in dropped)
    )
    ok("stage", "record", "clean", "--input", "catalog", "--kept", "clean.kept.txt",
       "--dropped", "clean.dropped.jsonl", cwd=root)  # fmt: skip
    (root / "run.toml").write_text(RUN)
    ok("run", "record", "run.toml", cwd=root)
    for scope in ([], ["--stage", "clean"], ["--run", "pretrain"]):
        ok("index", "build", "--shard-tokens", str(shard_tokens), *scope, cwd=root)
    return root


@pytest.fixture(scope="session")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workspace, on SQLite."""
    return build_workspace(tmp_path_factory.mktemp("trace") / "ws")


@dataclass
class Corpus:
    """Each scope's documents as token strings, for brute force."""

    docs: dict[str, list[tuple[str, str | None, list[str]]]]  # scope -> [(doc id, url, tokens)]

    @classmethod
    def read(cls, root: Path) -> Corpus:
        """Read the catalog's documents and the stage's kept set straight from the Parquet files."""
        ws = Workspace.open(root)
        everything: dict[str, tuple[str, str | None, list[str]]] = {}
        with ws.ledger() as ledger:
            for recorded in catalog_shards(ledger):
                docs = pq.read_table(ws.catalog_dir / recorded.shard.docs_file).to_pylist()
                texts = pq.read_table(ws.catalog_dir / recorded.shard.text_file).to_pylist()
                for doc, text in zip(docs, texts, strict=True):
                    if doc["kept"]:
                        everything.setdefault(
                            doc["doc_id"].hex(),
                            (doc["doc_id"].hex(), doc["url"], token_strings(text["text"])),
                        )
        kept = set((root / "clean.kept.txt").read_text().split())
        staged = [d for d in everything.values() if d[0] in kept]
        return cls({"catalog": list(everything.values()), "stage:clean": staged, "run": staged})

    def occurrences(self, scope: str, tokens: list[str]) -> int:
        """How many times ``tokens`` occur contiguously in the scope's documents (overlaps counted)."""
        needle = "\x1f" + "\x1f".join(tokens) + "\x1f"
        count = 0
        for _, _, doc in self.docs[scope]:
            hay = "\x1f" + "\x1f".join(doc) + "\x1f"
            at = hay.find(needle)
            while at >= 0:
                count += 1
                at = hay.find(needle, at + 1)
        return count

    def maximal_spans(self, scope: str, query: list[str], n: int) -> list[tuple[int, int, int]]:
        """Every maximal span (start, end, count) of at least ``n`` tokens, by naive search."""
        spans = []
        best_end = 0
        for start in range(len(query)):
            end = start
            while end < len(query) and self.occurrences(scope, query[start : end + 1]):
                end += 1
            if end - start >= n and end > best_end:
                spans.append((start, end, self.occurrences(scope, query[start:end])))
            best_end = max(best_end, end)
        return spans


@pytest.fixture(scope="session")
def corpus(traced: Path) -> Corpus:
    """The brute-force view of the traced workspace."""
    return Corpus.read(traced)
