"""`make demo`: a ledger from scratch, a signed checkpoint, and a proof checked offline.

Runs the real `kiroku` commands one after another and prints each as it goes, so the output reads as a
walkthrough. Usage: python demo/run.py [WORKSPACE] (default: ./demo-workspace, recreated each run).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
KIROKU = [sys.executable, "-m", "kiroku"]


def step(title: str) -> None:
    """Print a section title."""
    print(f"\n== {title}")


def run(*args: str, cwd: Path) -> str:
    """Run one kiroku command in ``cwd``, echo it and its output, stop the demo if it fails."""
    print("$ kiroku " + shlex.join(args), flush=True)
    result = subprocess.run(
        [*KIROKU, *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"}
    )
    sys.stdout.write(result.stdout)
    sys.stdout.write(result.stderr)
    if result.returncode != 0:
        sys.exit(f"demo: 'kiroku {' '.join(args)}' failed with exit code {result.returncode}")
    return result.stdout


def main() -> None:
    """Run the walkthrough."""
    workspace = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-workspace").resolve()
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)

    step("1. A workspace: configuration, an Ed25519 signing key and an empty ledger (SQLite, in the folder)")
    run("init", ".", "--org", "Acme AI K.K.", "--origin", "demo.kiroku/acme-ai/ledger", cwd=workspace)

    step("2. Register the sources of training data (type, origin, licence, period, what they may hold)")
    run("source", "add", "acme-web-2026q2", "--type", "web_crawl", "--origin", "AcmeBot/1.0 crawl of the public web",
        "--from", "2026-04-01", "--to", "2026-06-30", "--personal-data", "--copyrighted",
        "--licence", "various; machine-readable opt-outs honoured", cwd=workspace)  # fmt: skip
    run("source", "add", "aozora-bunko", "--type", "public_dataset", "--origin", "https://www.aozora.gr.jp/",
        "--licence", "public domain (Japan)", "--no-personal-data", "--no-copyrighted", cwd=workspace)  # fmt: skip
    run("source", "list", cwd=workspace)

    step("3. Record what happened: a crawl, a cleaning stage, a training run")
    times = ["2026-06-30T18:00:00+09:00", "2026-07-03T12:00:00+09:00", "2026-07-10T08:30:00+09:00"]
    for record, time in zip(sorted((HERE / "records").glob("*.json")), times, strict=True):
        run("log", "append", "--kind", "note", "--file", str(record), "--time", time, cwd=workspace)

    step("4. Sign a checkpoint (C2SP signed note): the log's size and root, signed by the workspace key")
    run("log", "checkpoint", "--out", "checkpoint-1.txt", cwd=workspace)
    print((workspace / "checkpoint-1.txt").read_text())

    step("5. More records, a second checkpoint, and a proof that history was only appended to")
    run(
        "log", "append", "--kind", "note", "--file", str(HERE / "records" / "02-cleaning.json"), cwd=workspace
    )
    run("log", "checkpoint", "--out", "checkpoint-2.txt", cwd=workspace)
    run(
        "log",
        "consistency",
        "checkpoint-1.txt",
        "checkpoint-2.txt",
        "--out",
        "consistency.json",
        cwd=workspace,
    )

    step("6. Prove one record (the training run) to an outsider")
    run("log", "prove", "4", "--out", "proof-4.json", cwd=workspace)
    key = run("log", "key", cwd=workspace).strip()

    step("7. The outsider checks both bundles with nothing but the public key: no workspace, no database")
    outsider = workspace / "outsider"
    outsider.mkdir()
    for name in ("proof-4.json", "consistency.json"):
        shutil.copy(workspace / name, outsider / name)
    run("verify", "proof-4.json", "--key", key, cwd=outsider)
    run("verify", "consistency.json", "--key", key, cwd=outsider)

    step("8. Audit the whole ledger: recompute every hash and check every checkpoint")
    run("log", "verify", cwd=workspace)
    run("log", "tail", "-n", "3", cwd=workspace)

    print(
        f"""
== What to look at
- {workspace}/kiroku.toml: organisation, log origin, store, retention policy.
- {workspace}/checkpoint-2.txt: a signed checkpoint, the thing you publish or file with the registry.
- {workspace}/proof-4.json: a self-contained inclusion proof; anyone can check it with
    kiroku verify proof-4.json --key '{key}'
- Change one byte of proof-4.json's body and run that again: it fails.
"""
    )


if __name__ == "__main__":
    main()
