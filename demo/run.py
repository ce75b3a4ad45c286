"""`make demo`: the record of one model's training data, from sources to a proved answer about one document.

Runs the real `kiroku` commands one after another and prints each as it goes, so the output reads as a
walkthrough: three sources of different types, a real web crawl (WARC files from the warcio project), a real
text dataset (the Python documentation topics that ship inside CPython's own `pydoc_data` package) and a small
synthetic set, a blocklist, two cleaning stages, a training run, a model release, the catalog's statistics, one
document's lineage with its chained proof checked offline, and the retention plan.
Usage: python demo/run.py [WORKSPACE] (default: ./demo-workspace, recreated each run).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from pydoc_data.topics import topics
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
KIROKU = [sys.executable, "-m", "kiroku"]
MIN_TOKENS = 30


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


def python_docs_dataset(path: Path) -> None:
    """The CPython documentation topics (``pydoc_data.topics``, shipped with every Python) as a Parquet dataset."""
    names = sorted(topics)
    pq.write_table(pa.table({"id": names, "text": [topics[name] for name in names]}), path)


def catalog_documents(workspace: Path) -> list[dict[str, Any]]:
    """Every document row of the catalog with its text (what a cleaning pipeline would read)."""
    rows: dict[bytes, dict[str, Any]] = {}
    for docs_file in sorted((workspace / "catalog").glob("*.docs.parquet")):
        text_file = docs_file.with_name(docs_file.name.replace(".docs.", ".text."))
        texts = dict(zip(*pq.read_table(text_file).to_pydict().values(), strict=True))
        for row in pq.read_table(docs_file).to_pylist():
            if row["kept"]:
                rows[row["doc_id"]] = {**row, "text": texts[row["doc_id"]]}
    return list(rows.values())


def quality_filter(workspace: Path) -> None:
    """Stage 1, a quality filter: keep documents of at least MIN_TOKENS tokens; write kept ids and drop reasons."""
    kept, dropped = [], []
    for row in catalog_documents(workspace):
        tokens = int(row["tokens"])
        if tokens >= MIN_TOKENS:
            kept.append(row["doc_id"].hex())
        else:
            reason = f"too short ({tokens} < {MIN_TOKENS} tokens)"
            dropped.append({"id": row["doc_id"].hex(), "reason": reason})
    (workspace / "quality.kept.txt").write_text("".join(f"{i}\n" for i in kept))
    (workspace / "quality.dropped.jsonl").write_text("".join(json.dumps(d) + "\n" for d in dropped))


def near_dedup(workspace: Path) -> None:
    """Stage 2, near-duplicate removal: texts equal after case and whitespace folding keep their first copy."""
    quality = set((workspace / "quality.kept.txt").read_text().split())
    seen: set[str] = set()
    kept = []
    for row in sorted(catalog_documents(workspace), key=lambda r: str(r["external_id"] or r["url"] or "")):
        doc_id = row["doc_id"].hex()
        if doc_id not in quality:
            continue
        key = re.sub(r"\s+", " ", str(row["text"]).casefold()).strip()
        if key not in seen:
            seen.add(key)
            kept.append(doc_id)
    (workspace / "dedup.kept.txt").write_text("".join(f"{i}\n" for i in kept))


def main() -> None:
    """Run the walkthrough."""
    workspace = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-workspace").resolve()
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)

    step("1. A workspace: configuration, an Ed25519 signing key and an empty ledger (SQLite, in the folder)")
    run("init", ".", "--org", "Acme AI K.K.", "--origin", "demo.kiroku/acme-ai/ledger", cwd=workspace)
    blocklists = workspace / "blocklists"
    blocklists.mkdir()
    shutil.copy(HERE / "data" / "piracy.txt", blocklists / "piracy.txt")
    config = workspace / "kiroku.toml"
    config.write_text(
        config.read_text().replace(
            '# piracy = "blocklists/piracy.txt"', 'piracy = "blocklists/piracy.txt"', 1
        )
    )
    print("kiroku.toml: [optout.blocklists] piracy = blocklists/piracy.txt (domains never trained on)")
    print(
        'kiroku.toml: [retention.kinds] "catalog.text" = "P3Y" (the text goes after 3 years, records after 10)'
    )

    step("2. Register three sources of different types (type, origin, licence, period, what they may hold)")
    run("source", "add", "acme-crawl-2026q2", "--type", "web_crawl", "--origin", "AcmeBot/1.0 crawl of the public web",
        "--from", "2026-04-01", "--to", "2026-06-30", "--personal-data", "--copyrighted",
        "--licence", "various; machine-readable opt-outs honoured", cwd=workspace)  # fmt: skip
    run("source", "add", "python-docs", "--type", "public_dataset", "--origin", "https://docs.python.org/3/",
        "--licence", "PSF-2.0", "--no-personal-data", "--copyrighted", cwd=workspace)  # fmt: skip
    run("source", "add", "acme-synthetic-qa", "--type", "synthetic", "--generator", "acme-lm 1.0",
        "--licence", "own work", "--no-personal-data", "--no-copyrighted", cwd=workspace)  # fmt: skip
    run("source", "list", cwd=workspace)

    step(
        "3. Ingest: a real web crawl (WARC), a real text dataset (Parquet) and the synthetic set (JSON Lines)"
    )
    warcs = sorted(str(p) for p in (REPO / "tests" / "data" / "warc").glob("*.warc*"))
    run("ingest", "warc", *warcs, "--source", "acme-crawl-2026q2", cwd=workspace)
    python_docs_dataset(workspace / "python-docs.parquet")
    run("ingest", "parquet", "python-docs.parquet", "--source", "python-docs", cwd=workspace)
    run(
        "ingest",
        "jsonl",
        str(HERE / "data" / "synthetic-qa.jsonl"),
        "--source",
        "acme-synthetic-qa",
        cwd=workspace,
    )
    print("Ingesting the same files again records nothing twice:")
    run("ingest", "parquet", "python-docs.parquet", "--source", "python-docs", cwd=workspace)

    step("4. Two cleaning stages: a quality filter over the catalog, then near-duplicate removal")
    quality_filter(workspace)
    run("stage", "record", "quality", "--input", "catalog", "--kept", "quality.kept.txt",
        "--dropped", "quality.dropped.jsonl", "--param", f"min_tokens={MIN_TOKENS}", cwd=workspace)  # fmt: skip
    near_dedup(workspace)
    run("stage", "record", "dedup", "--input", "quality", "--kept", "dedup.kept.txt", "--reason",
        "near-duplicate", "--param", "normalise=casefold+whitespace", cwd=workspace)  # fmt: skip

    step("5. A training run on the deduplicated set, and the model's release into a service")
    run("run", "record", str(HERE / "run.toml"), cwd=workspace)
    run("model", "release", "acme-lm", "2.0", "--service", "Acme Chat", "--date", "2026-09-01", cwd=workspace)
    run("model", "list", cwd=workspace)

    step("6. The catalog: documents, bytes and tokens by source, data type and stage; opt-out drops")
    run("catalog", "stats", cwd=workspace)

    step(
        "7. One document's whole lineage, and its chained proof (document in shard and stages, records in log)"
    )
    kept_doc = (workspace / "dedup.kept.txt").read_text().split()[0]
    run("doc", "show", kept_doc, "--proof", "doc-proof.json", cwd=workspace)
    dropped = json.loads((workspace / "quality.dropped.jsonl").read_text().splitlines()[0])
    run("doc", "show", dropped["id"], cwd=workspace)
    run("doc", "show", "http://example.com/", cwd=workspace)
    key = run("log", "key", cwd=workspace).strip()

    step("8. An outsider checks the proof with nothing but the public key: no workspace, no database")
    outsider = workspace / "outsider"
    outsider.mkdir()
    shutil.copy(workspace / "doc-proof.json", outsider / "doc-proof.json")
    run("verify", "doc-proof.json", "--key", key, cwd=outsider)

    step("9. History only grows: a second checkpoint and a consistency proof; then audit the whole ledger")
    run("log", "checkpoint", "--out", "checkpoint-1.txt", cwd=workspace)
    run("log", "append", "--kind", "note", "--file", str(HERE / "records" / "01-note.json"), cwd=workspace)
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
    shutil.copy(workspace / "consistency.json", outsider / "consistency.json")
    run("verify", "consistency.json", "--key", key, cwd=outsider)
    run("log", "verify", cwd=workspace)

    step("10. Retention: when each record's obligation ends")
    run("retention", "plan", cwd=workspace)

    print(
        f"""
== What to look at
- {workspace}/kiroku.toml: organisation, log origin, store, opt-out policy and blocklists, retention.
- {workspace}/catalog/: the catalog's Parquet shards (documents, and their text) and stage lineage files.
- {workspace}/doc-proof.json: one document's chained proof; anyone can check it with
    kiroku verify doc-proof.json --key '{key}'
- Change one hex digit of its doc_id and run that again: it fails.
"""
    )


if __name__ == "__main__":
    main()
