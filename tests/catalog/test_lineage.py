"""A document's lineage after ingest, two cleaning stages and a training run, told by `kiroku doc show`,
and its chained proof checked offline by `kiroku verify` with nothing but the public key."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import kiroku

TEXTS = {
    "https://example.com/keep": "A long article about rivers that survives every stage of cleaning.",
    "https://example.com/dup": "A short note that the dedup stage drops as a duplicate of another page.",
    "https://example.org/fr": "Un article en français que le filtre de langue retire.",
    "https://example.org/other": "Another English page that is kept all the way through training.",
}
RUN_TOML = """\
name = "pretrain-1"
model = "acme-lm"
version = "2.0"
methods = ["pre-training"]
training_tokens = 1000
start = 2026-07-01
end = 2026-07-02
weight_unit = "share"
[architecture]
family = "decoder-only transformer"
parameters = 1000000
[[data_mix]]
stage = "dedup"
weight = 1.0
"""


def _id(url: str) -> str:
    return hashlib.sha256(TEXTS[url].encode()).hexdigest()


def _ok(*args: str, cwd: Path) -> str:
    result = kiroku(*args, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with one ingested dataset, stages ``lang`` and ``dedup``, and a run on ``dedup``.

    Built once for the module (the tests only read it, or write proofs under names of their own); on SQLite,
    since the stores are checked on both backends by the stage, run and ledger tests.
    """
    workspace = tmp_path_factory.mktemp("lineage") / "ws"
    _ok("init", str(workspace), "--org", "Test Org", "--origin", "test.kiroku/ledger", cwd=workspace.parent)
    data = workspace / "pages.jsonl"
    data.write_text("".join(json.dumps({"url": u, "text": t}) + "\n" for u, t in TEXTS.items()))
    _ok("source", "add", "web", "--type", "web_crawl", cwd=workspace)
    _ok("ingest", "jsonl", str(data), "--source", "web", cwd=workspace)
    english = [u for u in TEXTS if u != "https://example.org/fr"]
    (workspace / "lang.txt").write_text("".join(_id(u) + "\n" for u in english))
    _ok("stage", "record", "lang", "--input", "catalog", "--kept", "lang.txt", "--reason", "not English",
        cwd=workspace)  # fmt: skip
    unique = [u for u in english if u != "https://example.com/dup"]
    (workspace / "dedup.txt").write_text("".join(_id(u) + "\n" for u in unique))
    _ok("stage", "record", "dedup", "--input", "lang", "--kept", "dedup.txt", "--reason", "duplicate",
        cwd=workspace)  # fmt: skip
    (workspace / "run.toml").write_text(RUN_TOML)
    _ok("run", "record", "run.toml", cwd=workspace)
    return workspace


def _lineage(ws: Path, url: str) -> dict[str, Any]:
    shown = json.loads(_ok("doc", "show", url, "--json", cwd=ws))
    assert isinstance(shown, dict)
    return shown


def _outcomes(shown: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {s["stage"]: (s["outcome"], s["reason"]) for s in shown["stages"]}


def test_a_kept_document_shows_every_stage_kept_it_and_the_run_that_used_it(trained: Path) -> None:
    shown = _lineage(trained, "https://example.com/keep")
    assert shown["doc_id"] == _id("https://example.com/keep")
    assert _outcomes(shown) == {"lang": ("kept", None), "dedup": ("kept", None)}
    runs = [(r["model"], r["version"], r["via"]) for r in shown["runs"]]
    assert runs == [("acme-lm", "2.0", ["stage dedup"])]


def test_a_document_dropped_by_the_second_stage_shows_why_and_no_run(trained: Path) -> None:
    shown = _lineage(trained, "https://example.com/dup")
    assert _outcomes(shown) == {"lang": ("kept", None), "dedup": ("dropped", "duplicate")}
    assert shown["runs"] == []


def test_a_document_dropped_by_the_first_stage_never_reaches_the_second(trained: Path) -> None:
    shown = _lineage(trained, "https://example.org/fr")
    assert _outcomes(shown) == {"lang": ("dropped", "not English"), "dedup": ("not in input", None)}
    assert shown["runs"] == []


def test_doc_show_by_id_equals_doc_show_by_url(trained: Path) -> None:
    url = "https://example.org/other"
    assert _lineage(trained, _id(url)) == _lineage(trained, url)


def test_an_unknown_document_exits_1_and_says_so(trained: Path) -> None:
    result = kiroku("doc", "show", "https://nowhere.example/", cwd=trained)
    assert result.returncode == 1
    assert "no such document" in result.stderr


def _prove(ws: Path, url: str, name: str) -> tuple[Path, str]:
    proof = ws / name
    _ok("doc", "show", url, "--proof", str(proof), cwd=ws)
    key = _ok("log", "key", cwd=ws).strip()
    return proof, key


def test_the_chained_proof_of_a_kept_document_verifies_offline(trained: Path, tmp_path: Path) -> None:
    proof, key = _prove(trained, "https://example.com/keep", "keep.json")
    outsider = tmp_path / "outsider"
    outsider.mkdir()
    (outsider / "keep.json").write_bytes(proof.read_bytes())
    result = kiroku("verify", "keep.json", "--key", key, cwd=outsider)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is in shard" in result.stdout
    assert "was kept by stage lang" in result.stdout
    assert "was kept by stage dedup" in result.stdout
    assert "was in the training data of acme-lm 2.0" in result.stdout


def test_the_chained_proof_of_a_dropped_document_proves_the_drop(trained: Path) -> None:
    proof, key = _prove(trained, "https://example.com/dup", "dup.json")
    result = kiroku("verify", str(proof), "--key", key, cwd=trained)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "was dropped by stage dedup" in result.stdout
    assert "training data" not in result.stdout


def test_a_proof_moved_to_another_document_fails(trained: Path) -> None:
    proof, key = _prove(trained, "https://example.com/keep", "keep.json")
    bundle = json.loads(proof.read_text())
    bundle["doc_id"] = _id("https://example.org/fr")
    proof.write_text(json.dumps(bundle))
    result = kiroku("verify", str(proof), "--key", key, cwd=trained)
    assert result.returncode == 1
    assert "not proved" in result.stderr


def test_a_claim_that_a_dropped_document_was_kept_fails(trained: Path) -> None:
    proof, key = _prove(trained, "https://example.com/dup", "dup.json")
    bundle = json.loads(proof.read_text())
    for member in bundle["memberships"]:
        if member["set"] == "stage.dropped":
            member["set"] = "stage.kept"
    proof.write_text(json.dumps(bundle))
    result = kiroku("verify", str(proof), "--key", key, cwd=trained)
    assert result.returncode == 1


def test_a_proof_checked_with_another_key_fails(trained: Path, tmp_path: Path) -> None:
    proof, _ = _prove(trained, "https://example.com/keep", "keep.json")
    other = tmp_path / "other"
    _ok("init", str(other), "--org", "Other", "--origin", "test.kiroku/ledger", cwd=tmp_path)
    other_key = _ok("log", "key", cwd=other).strip()
    result = kiroku("verify", str(proof), "--key", other_key, cwd=trained)
    assert result.returncode != 0


def test_catalog_stats_count_each_stage_with_the_bytes_and_tokens_it_kept(trained: Path) -> None:
    stats = json.loads(_ok("catalog", "stats", "--json", cwd=trained))
    lang, dedup = stats["by_stage"]["lang"], stats["by_stage"]["dedup"]
    assert (lang["input"], lang["input_documents"], lang["kept"], lang["dropped"]) == ("catalog", 4, 3, 1)
    assert lang["dropped_by_reason"] == {"not English": 1}
    assert (dedup["input"], dedup["kept"], dedup["dropped_by_reason"]) == ("lang", 2, {"duplicate": 1})
    kept = ["https://example.com/keep", "https://example.org/other"]
    assert dedup["kept_bytes"] == sum(len(TEXTS[u].encode()) for u in kept)
