"""Where and how a trace index is built: Ray gives the local build's files, and a cut-short build resumes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from kiroku.workspace import Workspace
from tests.conftest import kiroku
from tests.trace.conftest import ok, stdlib_documents
from tests.trace.test_trace_cli import excerpt, trace_json


def shard_files(root: Path) -> dict[str, Any]:
    """Each catalog-index shard's ``shard.json`` file hashes and cursors, by shard name."""
    directory = root / "index" / "trace" / "catalog"
    return {
        p.name: {k: v for k, v in json.loads((p / "shard.json").read_text()).items() if k != "text_bytes"}
        for p in sorted(directory.glob("shard-*"))
    }


def same_answer(root: Path, text: str) -> dict[str, Any]:
    """The trace answer without what differs between two builds of the same index (time, record number)."""
    answer = trace_json(root, text)
    for key in ("seconds", "index", "summary"):
        answer.pop(key)
    return answer


def test_ray_tasks_build_the_same_shards_as_a_local_build(traced: Path, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(traced, root)
    output = excerpt(stdlib_documents()[7]["text"], 0, 50)
    local, local_answer = shard_files(root), same_answer(root, output)
    assert len(local) >= 3

    printed = ok("index", "build", "--shard-tokens", "4000", "--engine", "ray", "--rebuild", cwd=root)

    assert "Indexed catalog" in printed
    assert shard_files(root) == local
    assert same_answer(root, output) == local_answer


def test_an_interrupted_build_resumes_after_its_last_finished_shard(traced: Path, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(traced, root)
    directory = root / "index" / "trace" / "catalog"
    finished = shard_files(root)
    # a build killed while writing its last two shards: no shard.json, half-written files, no manifest
    names = sorted(finished)
    for name in names[-2:]:
        (directory / name / "shard.json").unlink()
        (directory / name / "tokens.npy").write_bytes(b"cut short")
    (directory / "manifest.json").unlink()
    assert kiroku("trace", "--text", "anything at all", cwd=root).returncode == 2
    with Workspace.open(root).ledger() as ledger:
        size = ledger.size

    printed = ok("index", "build", "--shard-tokens", "4000", cwd=root)

    assert "2 new" in printed
    got = shard_files(root)
    for name in finished:
        for key in finished[name]:
            assert got[name][key] == finished[name][key], (name, key)
    assert got == finished
    with Workspace.open(root).ledger() as ledger:
        assert ledger.size == size + 1
    output = excerpt(stdlib_documents()[-1]["text"], 0, 40)
    assert trace_json(root, output)["covered_tokens"] == 40


def test_an_unknown_engine_or_a_ray_address_without_ray_is_refused(traced: Path) -> None:
    result = kiroku("index", "build", "--engine", "spark", cwd=traced)
    assert result.returncode == 2 and "--engine must be local or ray" in result.stderr
    result = kiroku("index", "build", "--rebuild", "--ray-address", "auto", cwd=traced)
    assert result.returncode == 2 and "--ray-address is for --engine ray" in result.stderr
