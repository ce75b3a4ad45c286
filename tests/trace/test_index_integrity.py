"""``kiroku index verify`` and the checks an answer makes before it trusts an index's files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from tests.conftest import kiroku
from tests.trace.conftest import ok, stdlib_documents
from tests.trace.test_trace_cli import excerpt, trace_json


def copy_of(traced: Path, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(traced, root)
    return root


def test_a_built_index_verifies_and_names_what_it_checked(traced: Path) -> None:
    printed = ok("index", "verify", cwd=traced)
    assert "The trace index of catalog verifies" in printed
    assert "shard(s)" in printed
    assert "verifies" in ok("index", "verify", "--stage", "clean", cwd=traced)


def test_one_flipped_byte_in_a_token_file_fails_verification(traced: Path, tmp_path: Path) -> None:
    root = copy_of(traced, tmp_path)
    tokens = root / "index" / "trace" / "catalog" / "shard-00001" / "tokens.npy"
    data = bytearray(tokens.read_bytes())
    data[-3] ^= 0x01
    tokens.write_bytes(bytes(data))

    result = kiroku("index", "verify", cwd=root)

    assert result.returncode == 1
    assert "does not verify" in result.stderr and "tokens.npy" in result.stderr
    assert "kiroku index build --rebuild" in result.stderr


def test_altered_token_counts_are_refused_before_they_rank_spans(traced: Path, tmp_path: Path) -> None:
    root = copy_of(traced, tmp_path)
    unigrams = root / "index" / "trace" / "catalog" / "unigrams.npy"
    counts = np.load(unigrams)
    counts[1:] = 1
    np.save(unigrams, counts)
    output = excerpt(stdlib_documents()[4]["text"], 0, 30)

    result = kiroku("trace", "--text", output, cwd=root)

    assert result.returncode == 2
    assert "unigrams.npy does not match" in result.stderr
    assert kiroku("index", "verify", cwd=root).returncode == 1


def test_a_sparse_index_refuses_spans_shorter_than_its_step(traced: Path, tmp_path: Path) -> None:
    root = copy_of(traced, tmp_path)
    ok("index", "build", "--rebuild", "--sparse", "4", "--shard-tokens", "4000", cwd=root)
    output = excerpt(stdlib_documents()[9]["text"], 0, 30)

    result = kiroku("trace", "--text", output, "--min-length", "2", cwd=root)

    assert result.returncode == 2
    assert "--sparse 4" in result.stderr and "--min-length 4" in result.stderr
    assert trace_json(root, output, "--min-length", "8")["covered_tokens"] == 30


def test_the_plain_answer_keeps_brackets_and_speaks_japanese(traced: Path) -> None:
    source = next(d for d in stdlib_documents() if "[" in d["text"])
    at = source["text"].index("[")
    output = source["text"][max(0, at - 30) : at + 200]

    english = ok("trace", "--text", output, cwd=traced)
    japanese = ok("trace", "--text", output, "--lang", "ja", cwd=traced)

    assert "[" in english
    assert "そのまま現れます" in japanese and "一致" in japanese
    result = kiroku("trace", "--text", output, "--lang", "fr", cwd=traced)
    assert result.returncode == 2 and "--lang must be en or ja" in result.stderr
