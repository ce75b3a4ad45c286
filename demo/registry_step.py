"""The demo's last step: the public registry, with Acme's real filings and those of two more demo firms.

Hoshi Labs explains that its text outputs carry no watermark yet; Sakura Models added data after its indexes were
built and explains that it rebuilds them weekly ("partially"). Each firm registers with its workspace's key, an
administrator approves it, it files its notification, statement, EU summary and AB 2013 documentation, and the
registry witnesses its ledger. In a terminal the registry then keeps serving until Ctrl-C; under CI (or without a
terminal) it is stopped once the matrix has been read back.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from _shell import KIROKU, run, step

HERE = Path(__file__).resolve().parent
PORT = 8000

OTHER_FIRMS = {
    "Hoshi Labs": (
        "hoshi.example/kiroku",
        "hoshi-lm",
        '\n[explanations.p1-provenance]\nstatus = "explains"\n'
        'en = "Text outputs carry no watermark yet; a C2PA manifest for text is planned for 2027."\n'
        'ja = "テキスト出力にはまだ電子透かしを付与していない。テキスト用のC2PAマニフェストを2027年に導入予定。"\n',
    ),
    "Sakura Models": (
        "sakura.example/kiroku",
        "sakura-7b",
        "".join(
            f'\n[explanations.{ident}]\nstatus = "partially"\n'
            'en = "Indexes are rebuilt weekly; data added since the last rebuild is answered the week after."\n'
            'ja = "索引は毎週再構築する。前回の再構築以降に追加したデータは翌週から回答できる。"\n'
            for ident in ("p2-domains", "p3-trace")
        ),
    ),
}


def _pages(prefix: str, count: int) -> str:
    topics = ("rivers", "tea", "railways", "ceramics", "festivals", "mountains")
    return "".join(
        json.dumps(
            {"url": f"https://{prefix}{i % 5}.example/p/{i}", "text": f"Notes {i} on {topics[i % 6]}. " * 30}
        )
        + "\n"
        for i in range(count)
    )


def _firm(base: Path, name: str, origin: str, model: str, explanations: str) -> Path:
    """A small firm's workspace, from sources to a built statement set (its explanations in its policy)."""
    root = base / origin.split(".")[0]
    run("init", str(root), "--org", name, "--origin", origin, cwd=base)
    (root / "crawl.jsonl").write_text(_pages(origin.split(".")[0] + "-site", 40), encoding="utf-8")
    run("source", "add", "crawl-2026", "--type", "web_crawl", "--from", "2026-02-01", "--to", "2026-03-31",
        "--personal-data", "--copyrighted", cwd=root)  # fmt: skip
    run("ingest", "jsonl", "crawl.jsonl", "--source", "crawl-2026", cwd=root)
    run_toml = (HERE / "run.toml").read_text(encoding="utf-8")
    run_toml = run_toml.replace('model = "acme-lm"', f'model = "{model}"').replace(
        'version = "2.0"', 'version = "1.0"'
    )
    run_toml = run_toml.replace('stage = "dedup"', "catalog = true")
    (root / "run.toml").write_text(run_toml, encoding="utf-8")
    run("run", "record", "run.toml", cwd=root)
    run("model", "release", model, "1.0", "--service", f"{name} API", "--date", "2026-09-15", cwd=root)
    run("index", "domains", cwd=root)
    run("index", "build", cwd=root)
    if "p2-domains" in explanations:  # more data after the indexes were built: they are behind the catalog
        (root / "more.jsonl").write_text(_pages("late-site", 5), encoding="utf-8")
        run("ingest", "jsonl", "more.jsonl", "--source", "crawl-2026", cwd=root)
    policy = (HERE / "data" / "statement.toml").read_text(encoding="utf-8")
    policy = policy.replace("Acme AI K.K.", name).replace("acme-lm = 250_000", f"{model} = 120_000")
    (root / "statement.toml").write_text(policy + explanations, encoding="utf-8")
    run("statement", "build", "--period", "2026", "--tier", "public", "--out", "statement", cwd=root)
    return root


def _free_port() -> int:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", PORT))
            return PORT
        except OSError:
            pass
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    print(f"(port {PORT} is taken: the registry uses {port})")
    return port


def _start(db: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [*KIROKU, "registry", "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db,
               "--witness-name", "registry.demo.kiroku/witness"]  # fmt: skip
    print("$ kiroku registry serve --port", port, "--db", db, "&")
    server = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"demo: the registry stopped at once; see {log}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/witness", timeout=2).raise_for_status()
            return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.terminate()
    sys.exit(f"demo: the registry did not answer within 60 s; see {log}")


def _file(root: Path, name: str, url: str, db: str) -> None:
    registered = run("registry", "register", "--name", name, "--address", "Tokyo, Japan",
                     "--contact", f"compliance@{root.name}.example", "--registry", url, cwd=root)  # fmt: skip
    token = registered.strip().splitlines()[-1]
    # the administrator, on the registry's server, looks the request up and approves it
    listing = run("registry", "firms", "--pending", "--db", db, cwd=root)
    slug = next(line.split()[0] for line in listing.splitlines() if name in line)
    run("registry", "approve", slug, "--db", db, "--actor", "keeper", cwd=root)
    run("registry", "submit", "statement/notification.json", "statement/statement.json", "statement/eu-summary.json",
        "statement/ab2013.json", "--registry", url, "--token", token, cwd=root)  # fmt: skip
    run(
        "registry",
        "witness",
        "--registry",
        url,
        "--token",
        token,
        "--out",
        "witnessed-checkpoint.txt",
        cwd=root,
    )


def serve_registry(acme: Path) -> None:
    """Step 17: the registry with three firms' real filings; serve it (in a terminal) and print its URL."""
    step(
        "17. The public registry: three firms file; the registry verifies every signature and witnesses each ledger"
    )
    base = acme / "registry"
    if base.exists():
        shutil.rmtree(base)
    base.mkdir()
    firms = [(acme, "Acme AI K.K.")]
    for name, (origin, model, explanations) in OTHER_FIRMS.items():
        firms.append((_firm(base, name, origin, model, explanations), name))
    db = f"sqlite:///{base / 'registry.sqlite'}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start(db, port, base / "server.log")
    try:
        password = secrets.token_urlsafe(12)
        print("$ kiroku registry admin add keeper --password-stdin")
        made = subprocess.run([*KIROKU, "registry", "admin", "add", "keeper", "--db", db, "--password-stdin"],
                              input=password + "\n", capture_output=True, text=True)  # fmt: skip
        print(made.stdout + made.stderr, end="")
        for root, name in firms:
            _file(root, name, url, db)
        matrix = httpx.get(f"{url}/index.json?year=2026").json()
        for row in matrix["firms"]:
            counts = {
                s: list(row["statuses"].values()).count(s) for s in ("complies", "partially", "explains")
            }
            print(f"{row['name']}: {counts['complies']} complies, {counts['partially']} partially, "
                  f"{counts['explains']} explains (statement filing {row['statement']})")  # fmt: skip
        print(
            f"\nThe registry: {url}/ (日本語 / English), the matrix as JSON at {url}/index.json, the API at "
            f"{url}/api/docs.\nAdministrator: keeper / {password} at {url}/admin"
        )
        if os.environ.get("CI") or not sys.stdin.isatty():
            print("(not a terminal: the registry is stopped now; `make demo` in a terminal keeps it running)")
            return
        print("The registry keeps running; Ctrl-C stops it.")
        try:
            server.wait()
        except KeyboardInterrupt:
            print("\nstopped")
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)
