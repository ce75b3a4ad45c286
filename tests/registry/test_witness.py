"""The registry witnesses each firm's ledger: consistent checkpoints are cosigned, contradictions flagged."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kiroku.ledger import Ledger, Signer
from kiroku.ledger.cosignature import CosignatureVerifier
from kiroku.registry.firms import approve_firm, register_firm
from tests.registry.conftest import engine_of, file

ORIGIN = "firm.example/kiroku"


@pytest.fixture
def firm_ledger(tmp_path: Path) -> tuple[Ledger, Signer]:
    signer = Signer.generate(ORIGIN)
    ledger = Ledger.create(f"sqlite:///{tmp_path / 'ledger.sqlite'}", ORIGIN)
    for n in range(5):
        ledger.append("note", {"text": f"record {n}"})
    return ledger, signer


def _approved(registry: TestClient, signer: Signer, name: str = "Firm K.K.") -> str:
    firm, token = register_firm(
        engine_of(registry), name, "Tokyo", "c@firm.example", signer.verifier().to_vkey()
    )
    approve_firm(engine_of(registry), firm.slug, "admin")
    return token


def _submit(registry: TestClient, token: str, body: str) -> object:
    return file(registry, token, body.encode(), "/api/v1/checkpoints")


def test_checkpoints_are_cosigned_when_each_extends_the_last(
    registry: TestClient, firm_ledger: tuple[Ledger, Signer]
) -> None:
    ledger, signer = firm_ledger
    token = _approved(registry, signer)
    witness = CosignatureVerifier.from_vkey(registry.get("/api/v1/witness").json()["key"])
    first = ledger.checkpoint(signer)
    answer = _submit(registry, token, first.note)
    assert answer.status_code == 201  # type: ignore[attr-defined]
    held = answer.json()["checkpoint"]  # type: ignore[attr-defined]
    assert held["size"] == 5 and held["consistent"]
    assert witness.verify(held["cosigned"]) > 0  # the registry's cosignature on the firm's checkpoint
    again = _submit(registry, token, first.note)
    assert again.status_code == 200  # type: ignore[attr-defined]
    for n in range(3):
        ledger.append("note", {"text": f"later {n}"})
    second = ledger.checkpoint(signer)
    bare = _submit(registry, token, second.note)
    assert bare.status_code == 422  # type: ignore[attr-defined]
    assert "send a consistency bundle from it" in bare.json()["error"]["message"]  # type: ignore[attr-defined]
    bundle = ledger.prove_consistency(5, 8).to_json()
    answer = _submit(registry, token, bundle)
    assert answer.status_code == 201, answer.text  # type: ignore[attr-defined]
    assert answer.json()["checkpoint"]["size"] == 8  # type: ignore[attr-defined]
    slug = registry.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["firm"]["slug"]
    page = registry.get(f"/firms/{slug}.json").json()
    assert [(c["size"], c["consistent"]) for c in page["checkpoints"]] == [(5, True), (8, True)]
    assert not page["firm"]["flagged"]


def test_a_rewritten_history_is_kept_as_evidence_and_the_firm_flagged(
    registry: TestClient, firm_ledger: tuple[Ledger, Signer], tmp_path: Path
) -> None:
    ledger, signer = firm_ledger
    token = _approved(registry, signer)
    witnessed = ledger.checkpoint(signer)
    assert _submit(registry, token, witnessed.note).status_code == 201  # type: ignore[attr-defined]
    # the firm rebuilds its log with other records under the same key, and claims it extends the witnessed one
    rewritten = Ledger.create(f"sqlite:///{tmp_path / 'rewritten.sqlite'}", ORIGIN)
    for n in range(7):
        rewritten.append("note", {"text": f"other record {n}"})
        if n == 4:
            rewritten.checkpoint(signer)
    rewritten.checkpoint(signer)
    forged = rewritten.prove_consistency(5, 7)  # a proof within the rewritten log, from its own size 5
    bundle = forged.model_copy(update={"old_checkpoint": witnessed.note})
    answer = _submit(registry, token, bundle.to_json())
    assert answer.status_code == 422  # type: ignore[attr-defined]
    error = answer.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "inconsistent_checkpoint" and "history rewritten" in error["message"]
    slug = registry.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["firm"]["slug"]
    page = registry.get(f"/firms/{slug}.json").json()
    assert page["firm"]["flagged"] and "history rewritten" in page["firm"]["flag_reason"]
    kept = [c for c in page["checkpoints"] if not c["consistent"]]
    assert len(kept) == 1 and kept[0]["size"] == 7 and kept[0]["evidence"]["bundle"]["proof"]
    # a second history for a witnessed size is refused the same way
    two = Ledger.create(f"sqlite:///{tmp_path / 'two.sqlite'}", ORIGIN)
    for n in range(5):
        two.append("note", {"text": f"another {n}"})
    answer = _submit(registry, token, two.checkpoint(signer).note)
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert "two histories" in answer.json()["error"]["message"]  # type: ignore[attr-defined]
    assert (
        "flagged" in registry.get(f"/firms/{slug}").text.lower()
        or "警告" in registry.get(f"/firms/{slug}").text
    )


def test_a_checkpoint_signed_by_another_key_is_refused(
    registry: TestClient, firm_ledger: tuple[Ledger, Signer]
) -> None:
    ledger, signer = firm_ledger
    token = _approved(registry, signer)
    stranger = Signer.generate(ORIGIN)
    answer = _submit(registry, token, ledger.checkpoint(stranger).note)
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert "not signed by firm-k-k's registered key" in answer.json()["error"]["message"]  # type: ignore[attr-defined]
    assert registry.get("/firms/firm-k-k.json").json()["checkpoints"] == []


def test_a_statement_bound_to_a_contradicted_root_is_refused_and_flags_the_firm(
    registry: TestClient, acme: object
) -> None:
    from kiroku.workspace import Workspace
    from tests.registry.conftest import FirmFiles, register

    assert isinstance(acme, FirmFiles)
    slug, token = register(registry, acme)
    import json

    ws = Workspace.open(acme.root)
    size = json.loads(acme.read(acme.first, "statement.json"))["ledger"]["size"]
    # a checkpoint of the statement's size, but of another log under the firm's key, witnessed first
    other = Ledger.create(
        f"sqlite:///{acme.root.parent / f'other-{slug}-{id(registry)}.sqlite'}", ws.config.log.origin
    )
    for n in range(size):
        other.append("note", {"text": f"n{n}"})
    assert _submit(registry, token, other.checkpoint(ws.signer()).note).status_code == 201  # type: ignore[attr-defined]
    answer = file(registry, token, acme.read(acme.first, "statement.json"))
    assert answer.status_code == 422 and "two histories" in answer.json()["error"]["message"]
    assert registry.get(f"/firms/{slug}.json").json()["firm"]["flagged"]
