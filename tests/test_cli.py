"""The ``kiroku`` command: the console entry point in a real process, workspaces, the log commands, bad input."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import kiroku


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A SQLite workspace: the CLI is the same on every store, which tests/ledger checks on each backend."""
    root = tmp_path / "ws"
    result = kiroku("init", str(root), "--org", "Test Org", "--origin", "test.kiroku/ledger")
    assert result.returncode == 0, result.stderr
    return root


def test_the_entry_point_runs_in_a_real_process_with_the_exit_codes_of_the_docs(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kiroku", *args], capture_output=True, text=True, cwd=tmp_path, timeout=120,
            env={**os.environ, "KIROKU_WORKSPACE": str(tmp_path / "ws")},
        )  # fmt: skip

    assert run("init", "ws", "--org", "Test Org").returncode == 0
    assert run("log", "verify").returncode == 0
    missing = run("log", "show", "7")
    assert missing.returncode == 2
    assert missing.stderr.startswith("kiroku: error:") and missing.stderr.count("\n") == 1


def size_of(workspace: Path) -> int:
    result = kiroku("log", "show", "--json", cwd=workspace)
    assert result.returncode == 0, result.stderr
    return int(json.loads(result.stdout)["size"])


def append(workspace: Path, body: dict[str, object], kind: str = "note") -> None:
    record = workspace / "record.json"
    record.write_text(json.dumps(body))
    result = kiroku("log", "append", "--kind", kind, "--file", str(record), cwd=workspace)
    assert result.returncode == 0, result.stderr


def one_error_line(result: object) -> str:
    stderr = str(result.stderr).strip()  # type: ignore[attr-defined]
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("kiroku: error: ")
    return stderr


# -- init and finding the workspace ------------------------------------------------------------------------------


def test_init_creates_config_keys_and_an_empty_ledger(tmp_path: Path) -> None:
    result = kiroku("init", str(tmp_path / "ws"), "--org", "Acme AI")
    assert result.returncode == 0, result.stderr
    root = tmp_path / "ws"
    config = tomllib.loads((root / "kiroku.toml").read_text())
    assert config["organisation"]["name"] == "Acme AI"
    assert config["log"]["origin"].startswith("kiroku/acme-ai/ledger-")
    assert config["log"]["store"] == "sqlite:///ledger.sqlite"
    assert config["retention"]["default"] == "P10Y"
    assert stat.S_IMODE((root / "keys" / "ledger.key").stat().st_mode) == 0o600
    assert (root / "keys" / "ledger.pub").read_text().startswith(config["log"]["origin"] + "+")
    assert (root / "ledger.sqlite").is_file()
    assert size_of(root) == 0


def test_init_refuses_an_existing_workspace(workspace: Path) -> None:
    result = kiroku("init", str(workspace), "--org", "Again")
    assert result.returncode == 2
    assert "already exists" in one_error_line(result)


def test_init_needs_an_organisation(tmp_path: Path) -> None:
    result = kiroku("init", str(tmp_path / "ws"))
    assert result.returncode == 2
    assert "--org" in one_error_line(result)
    assert not (tmp_path / "ws").exists()


def test_commands_find_the_workspace_from_option_env_or_current_folder(
    workspace: Path, tmp_path: Path
) -> None:
    append(workspace, {"n": 1})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (workspace / "sub" / "dir").mkdir(parents=True)
    for args, cwd, env in [
        (["--workspace", str(workspace), "log", "show", "--json"], elsewhere, {}),
        (["log", "show", "--json", "--workspace", str(workspace)], elsewhere, {}),
        (["log", "show", "--json"], elsewhere, {"KIROKU_WORKSPACE": str(workspace)}),
        (["log", "show", "--json"], workspace / "sub" / "dir", {}),
    ]:
        result = kiroku(*args, cwd=cwd, env=env)
        assert result.returncode == 0, (args, result.stderr)
        assert json.loads(result.stdout)["size"] == 1


def test_no_workspace_is_a_clear_error(tmp_path: Path) -> None:
    result = kiroku("log", "show", cwd=tmp_path, env={"KIROKU_WORKSPACE": ""})
    assert result.returncode == 2
    assert "kiroku init" in one_error_line(result)


# -- appending, reading --------------------------------------------------------------------------------------------


def test_append_show_and_tail(workspace: Path) -> None:
    append(workspace, {"event": "crawl started", "agent": "AcmeBot"})
    shown = json.loads(kiroku("log", "show", "0", "--json", cwd=workspace).stdout)
    assert shown["body"] == {"event": "crawl started", "agent": "AcmeBot"}
    assert shown["kind"] == "note" and shown["index"] == 0
    tail = kiroku("log", "tail", "--json", cwd=workspace)
    assert [json.loads(line)["index"] for line in tail.stdout.splitlines()] == [0]


def test_append_json_lines_appends_every_line(workspace: Path) -> None:
    (workspace / "many.jsonl").write_text("".join(json.dumps({"n": i}) + "\n" for i in range(50)))
    result = kiroku("log", "append", "--kind", "note", "--file", "many.jsonl", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert "Appended 50 records" in result.stdout
    assert size_of(workspace) == 50


def test_append_from_stdin(workspace: Path) -> None:
    result = kiroku(
        "log", "append", "--kind", "note", "--file", "-", cwd=workspace, input='{"from": "stdin"}'
    )
    assert result.returncode == 0, result.stderr
    assert size_of(workspace) == 1


# -- bad input: one clear line, exit 2, nothing in the ledger changes ----------------------------------------------


def test_a_malformed_record_file_names_the_file_and_line(workspace: Path) -> None:
    append(workspace, {"n": 0})
    (workspace / "bad.json").write_text('{"event": "x",\n  "broken": }\n')
    result = kiroku("log", "append", "--kind", "note", "--file", "bad.json", cwd=workspace)
    assert result.returncode == 2
    assert "bad.json: line 2" in one_error_line(result)
    assert size_of(workspace) == 1


def test_a_bad_line_in_json_lines_appends_nothing(workspace: Path) -> None:
    lines = [json.dumps({"n": i}) for i in range(5)]
    lines[3] = "[1, 2]"
    (workspace / "many.jsonl").write_text("\n".join(lines) + "\n")
    result = kiroku("log", "append", "--kind", "note", "--file", "many.jsonl", cwd=workspace)
    assert result.returncode == 2
    assert "many.jsonl: line 4" in one_error_line(result)
    assert size_of(workspace) == 0


def test_an_unknown_kind_is_refused(workspace: Path) -> None:
    (workspace / "r.json").write_text("{}")
    result = kiroku("log", "append", "--kind", "crawl_event", "--file", "r.json", cwd=workspace)
    assert result.returncode == 2
    assert "unknown record kind 'crawl_event'" in one_error_line(result)
    assert size_of(workspace) == 0


def test_a_missing_record_file_is_named(workspace: Path) -> None:
    result = kiroku("log", "append", "--kind", "note", "--file", "nope.json", cwd=workspace)
    assert result.returncode == 2
    assert "nope.json does not exist" in one_error_line(result)


def test_a_checkpoint_signed_by_another_key_is_refused(workspace: Path, tmp_path: Path) -> None:
    append(workspace, {"n": 0})
    other = tmp_path / "other"
    assert kiroku("init", str(other), "--org", "Other", "--origin", "test.kiroku/ledger").returncode == 0
    append(other, {"n": 0})
    assert kiroku("log", "checkpoint", "--out", str(tmp_path / "foreign.txt"), cwd=other).returncode == 0
    before = kiroku("log", "show", "--json", cwd=workspace).stdout
    result = kiroku("log", "prove", "0", "--checkpoint", str(tmp_path / "foreign.txt"), cwd=workspace)
    assert result.returncode == 2
    assert "no signature by" in one_error_line(result)
    assert kiroku("log", "show", "--json", cwd=workspace).stdout == before


# -- proofs, offline verification ----------------------------------------------------------------------------------


@pytest.fixture
def proved(workspace: Path) -> tuple[Path, str]:
    """A workspace with 5 records and a checkpoint; returns the bundle of record 2 and the verifier key."""
    for i in range(5):
        append(workspace, {"n": i})
    assert kiroku("log", "checkpoint", cwd=workspace).returncode == 0
    assert kiroku("log", "prove", "2", "--out", "proof.json", cwd=workspace).returncode == 0
    key = kiroku("log", "key", cwd=workspace).stdout.strip()
    return workspace / "proof.json", key


def test_log_key_prints_a_c2sp_verifier_key(proved: tuple[Path, str]) -> None:
    _, key = proved
    name, key_id, material = key.split("+", 2)
    assert name == "test.kiroku/ledger" and len(key_id) == 8 and material.startswith("A")


def test_verify_accepts_the_bundle_with_the_key_or_a_key_file(
    proved: tuple[Path, str], tmp_path: Path
) -> None:
    bundle, key = proved
    result = kiroku("verify", str(bundle), "--key", key, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: record 2 (note,")
    (tmp_path / "log.pub").write_text(key + "\n")
    assert kiroku("verify", str(bundle), "--key", str(tmp_path / "log.pub"), cwd=tmp_path).returncode == 0


def test_verify_rejects_an_edited_body_with_exit_1(proved: tuple[Path, str]) -> None:
    bundle, key = proved
    data = json.loads(bundle.read_text())
    data["body"]["n"] = 3
    bundle.write_text(json.dumps(data))
    result = kiroku("verify", str(bundle), "--key", key)
    assert result.returncode == 1
    assert "does not match the digest" in one_error_line(result)


def test_verify_of_a_truncated_bundle_is_bad_input(proved: tuple[Path, str]) -> None:
    bundle, key = proved
    bundle.write_text(bundle.read_text()[:200])
    result = kiroku("verify", str(bundle), "--key", key)
    assert result.returncode == 2
    assert "truncated" in one_error_line(result)


def test_verify_with_another_logs_key_is_bad_input(proved: tuple[Path, str], tmp_path: Path) -> None:
    bundle, _ = proved
    kiroku("init", str(tmp_path / "other"), "--org", "Other", "--origin", "test.kiroku/ledger")
    other_key = kiroku("log", "key", cwd=tmp_path / "other").stdout.strip()
    result = kiroku("verify", str(bundle), "--key", other_key)
    assert result.returncode == 2
    assert "no signature by" in one_error_line(result)


def test_verify_with_a_malformed_key_is_bad_input(proved: tuple[Path, str]) -> None:
    bundle, _ = proved
    result = kiroku("verify", str(bundle), "--key", "name+zz+notbase64")
    assert result.returncode == 2
    assert "--key" in one_error_line(result)


def test_consistency_bundle_between_checkpoint_files(workspace: Path) -> None:
    append(workspace, {"n": 0})
    kiroku("log", "checkpoint", "--out", "cp1.txt", cwd=workspace)
    append(workspace, {"n": 1})
    append(workspace, {"n": 2})
    kiroku("log", "checkpoint", "--out", "cp2.txt", cwd=workspace)
    made = kiroku("log", "consistency", "cp1.txt", "cp2.txt", "--out", "c.json", cwd=workspace)
    assert made.returncode == 0, made.stderr
    key = kiroku("log", "key", cwd=workspace).stdout.strip()
    result = kiroku("verify", str(workspace / "c.json"), "--key", key)
    assert result.returncode == 0, result.stderr
    assert "at size 3 extends its history at size 1" in result.stdout


def test_log_verify_passes_on_an_untouched_ledger(proved: tuple[Path, str]) -> None:
    bundle, _ = proved
    result = kiroku("log", "verify", cwd=bundle.parent)
    assert result.returncode == 0, result.stderr
    assert "OK: ledger test.kiroku/ledger verified: 5 records" in result.stdout


def test_a_bad_setting_in_kiroku_toml_names_the_file_and_setting(workspace: Path) -> None:
    config = workspace / "kiroku.toml"
    config.write_text(config.read_text().replace('default = "P10Y"', 'default = "ten years"'))
    result = kiroku("log", "show", cwd=workspace)
    assert result.returncode == 2
    line = one_error_line(result)
    assert "kiroku.toml" in line and "'retention'" in line and "ten years" in line


def test_init_with_an_unreachable_store_leaves_nothing_behind(tmp_path: Path) -> None:
    result = kiroku(
        "init", str(tmp_path / "ws"), "--org", "X", "--store", "postgresql://nobody@127.0.0.1:9/x"
    )
    assert result.returncode == 2
    assert "cannot open the ledger database" in one_error_line(result)
    assert not (tmp_path / "ws").exists()


def test_init_with_an_unsupported_store_names_the_supported_ones(tmp_path: Path) -> None:
    result = kiroku("init", str(tmp_path / "ws"), "--org", "X", "--store", "mysql://db/x")
    assert result.returncode == 2
    assert "SQLite (sqlite:///PATH) or PostgreSQL" in one_error_line(result)
