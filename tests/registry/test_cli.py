"""`kiroku registry` end to end against a registry served by uvicorn on a loopback port."""

from __future__ import annotations

import httpx

from kiroku.ledger.cosignature import CosignatureVerifier
from tests.conftest import kiroku
from tests.registry.conftest import FirmFiles, LiveRegistry


def test_a_firm_registers_files_and_is_witnessed_through_the_cli(
    live_registry: LiveRegistry, acme: FirmFiles
) -> None:
    url = live_registry.url
    db = str(live_registry.engine.url)
    registered = kiroku("registry", "register", "--name", "Acme AI K.K.", "--address", "Tokyo",
                        "--contact", "c@acme.example", "--registry", url, cwd=acme.root)  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    token = registered.stdout.strip().splitlines()[-1]
    assert token.startswith("kiroku_") and "pending" in registered.stdout
    early = kiroku(
        "registry", "submit", "first/statement.json", "--registry", url, "--token", token, cwd=acme.root
    )
    assert early.returncode == 2 and "must approve it first" in early.stderr
    pending = kiroku("registry", "firms", "--pending", "--db", db, cwd=acme.root)
    assert pending.returncode == 0 and "acme-ai-k-k  pending  Acme AI K.K." in pending.stdout
    approved = kiroku("registry", "approve", "acme-ai-k-k", "--db", db, cwd=acme.root)
    assert approved.returncode == 0 and "is approved" in approved.stdout
    names = [f"first/{n}" for n in ("notification.json", "statement.json", "eu-summary.json", "ab2013.json")]
    filed = kiroku("registry", "submit", *names, "--registry", url, "--token", token, cwd=acme.root)
    assert filed.returncode == 0, filed.stderr
    assert "first/statement.json: filed as statement 2026 version 1" in filed.stdout
    again = kiroku(
        "registry", "submit", "first/statement.json", "--registry", url, "--token", token, cwd=acme.root
    )
    assert again.returncode == 2 and "409 conflict" in again.stderr
    witnessed = kiroku("registry", "witness", "--registry", url, "--token", token, "--out", "cosigned.txt",
                       cwd=acme.root)  # fmt: skip
    assert witnessed.returncode == 0, witnessed.stderr
    witness_key = httpx.get(f"{url}/api/v1/witness").json()["key"]
    assert CosignatureVerifier.from_vkey(witness_key).verify((acme.root / "cosigned.txt").read_text()) > 0
    appended = kiroku(
        "log", "append", "--kind", "note", "--file", "-", input='{"text": "later"}', cwd=acme.root
    )
    assert appended.returncode == 0, appended.stderr
    second = kiroku("registry", "witness", "--registry", url, "--token", token, cwd=acme.root)
    assert second.returncode == 0, second.stderr  # a consistency bundle from the size the registry held
    checkpoints = httpx.get(f"{url}/firms/acme-ai-k-k.json").json()["checkpoints"]
    assert len(checkpoints) == 2 and checkpoints[1]["size"] == checkpoints[0]["size"] + 1
    page = httpx.get(f"{url}/", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Acme AI K.K." in page.text and "Complies" in page.text


def test_the_cli_says_when_the_registry_cannot_be_reached(acme: FirmFiles) -> None:
    result = kiroku("registry", "submit", "first/statement.json", "--registry", "http://127.0.0.1:9",
                    "--token", "kiroku_x", cwd=acme.root)  # fmt: skip
    assert result.returncode == 2 and "cannot reach the registry at http://127.0.0.1:9" in result.stderr
    result = kiroku("registry", "submit", "first/statement.json", "--registry", "http://127.0.0.1:9", cwd=acme.root,
                    env={"KIROKU_REGISTRY_TOKEN": ""})  # fmt: skip
    assert result.returncode == 2 and "give the firm's API token" in result.stderr
