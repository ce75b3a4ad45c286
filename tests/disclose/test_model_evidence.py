"""Evidence of models, training, provenance and inquiries: names and methods in public, figures for the regulator."""

from __future__ import annotations

import json
from datetime import date

from kiroku.disclose import ScopeDecision, decide_scope, load_regime, parse_policy
from kiroku.disclose.model_evidence import (
    inquiry_evidence,
    model_evidence,
    provenance_evidence,
    training_evidence,
)
from kiroku.ledger import Ledger

REGIME = load_regime("jp-aiip-2026-04")
FIRM = """
provenance = ["C2PA manifests on generated images"]
rightsholder_contact = "https://acme.example/rightsholders"

[firm]
name = "Acme AI K.K."
address = "Tokyo"
contact = "compliance@acme.example"
services_in_japan = ["chat"]

[scope]
compute_flops = 1e25
"""


def decisions(ledger: Ledger, policy_text: str = FIRM) -> list[ScopeDecision]:
    return decide_scope(ledger, date(2026, 1, 1), date(2026, 12, 31), parse_policy(policy_text, REGIME))


def test_models_in_public_without_figures(ledger: Ledger) -> None:
    evidence = model_evidence(decisions(ledger))
    public = {(m["model"], m["version"]): m for m in evidence.public["models"]}
    assert public[("acme-lm", "1.0")] == {
        "model": "acme-lm", "version": "1.0", "services": ["chat", "api"], "released": "2026-02-01",
        "withdrawn": None, "high_impact": True,
    }  # fmt: skip
    assert public[("small-lm", "1.0")]["high_impact"] is False
    (acme,) = [m for m in evidence.regulator["models"] if m["model"] == "acme-lm"]
    assert (
        acme["compute_flops"] == 1.2e25 and acme["parameters"] == 10**11 and len(acme["training_runs"]) == 2
    )
    assert "1.2e+25" in acme["reasons"][0]
    assert "e+" not in json.dumps(evidence.public)  # no compute figure reaches the public tier


def test_training_runs_behind_the_models_in_service(ledger: Ledger) -> None:
    evidence = training_evidence(ledger, decisions(ledger))
    runs = {(r["model"], r["run"]) for r in evidence.public["runs"]}
    assert runs == {("acme-lm", "pt"), ("acme-lm", "sft"), ("small-lm", "pt")}  # old-lm left service in 2025
    assert all(
        set(r) == {"model", "version", "run", "architecture", "methods"} for r in evidence.public["runs"]
    )
    assert evidence.public["runs"][0]["methods"] == ["pre-training"]
    assert {r["training_tokens"] for r in evidence.regulator["runs"]} == {10**13, 10**12}


def test_provenance_and_contact_come_from_the_policy() -> None:
    policy = parse_policy(FIRM, REGIME)
    assert provenance_evidence(policy).public == {"measures": ["C2PA manifests on generated images"]}
    inquiries = inquiry_evidence(policy)
    assert inquiries.public["contact"] == "https://acme.example/rightsholders" and inquiries.findings == ()
    bare = parse_policy(
        FIRM.replace('rightsholder_contact = "https://acme.example/rightsholders"\n', ""), REGIME
    )
    assert inquiry_evidence(bare).findings == (
        "the policy file names no contact point for rightsholders (rightsholder_contact)",
    )
