"""The high-impact determination: thresholds from the policy applied to the record's runs and releases."""

from __future__ import annotations

from datetime import date

from kiroku.disclose import ModelFacts, ScopeThresholds, decide, decide_scope, load_regime, parse_policy
from kiroku.ledger import Ledger

REGIME = load_regime("jp-aiip-2026-04")
FIRM = """
[firm]
name = "Acme AI K.K."
address = "Tokyo"
contact = "compliance@acme.example"
services_in_japan = ["chat"]
"""


def scope_of(ledger: Ledger, policy_tail: str) -> dict[str, tuple[bool, tuple[str, ...]]]:
    policy = parse_policy(FIRM + policy_tail, REGIME)
    decisions = decide_scope(ledger, date(2026, 1, 1), date(2026, 12, 31), policy)
    return {d.facts.model: (d.in_scope, d.reasons) for d in decisions}


def test_compute_is_summed_over_a_versions_runs_and_only_models_in_service_count(ledger: Ledger) -> None:
    found = scope_of(ledger, "[scope]\ncompute_flops = 1e25\n")
    assert set(found) == {"acme-lm", "small-lm", "no-run-lm"}  # old-lm left service in 2025
    in_scope, reasons = found["acme-lm"]
    assert in_scope  # 6e24 per run, 1.2e25 together
    assert reasons == (
        "training compute 1.2e+25 (estimated as 6 x parameters x tokens) reaches 1e+25 FLOPs (scope.compute_flops)",
    )
    assert found["small-lm"] == (
        False,
        ("training compute 6e+21 is below 1e+25 FLOPs (scope.compute_flops)",),
    )
    assert found["no-run-lm"] == (
        False,
        ("training compute not recorded, so not compared with 1e+25 FLOPs (scope.compute_flops)",),
    )


def test_any_threshold_reached_places_a_model_and_users_come_from_the_policy(ledger: Ledger) -> None:
    found = scope_of(
        ledger,
        "[scope]\ncompute_flops = 1e26\nusers_in_japan = 1_000_000\n"
        '[users_in_japan]\nno-run-lm = 2_000_000\n"small-lm@1.0" = 10\n',
    )
    assert found["no-run-lm"] == (
        True,
        ("users in Japan 2,000,000 reaches 1,000,000 (scope.users_in_japan)",),
    )
    assert found["small-lm"][0] is False
    assert "users in Japan 10 is below 1,000,000 (scope.users_in_japan)" in found["small-lm"][1]
    assert found["acme-lm"][0] is False
    assert (
        "users in Japan not recorded, so not compared with 1,000,000 (scope.users_in_japan)"
        in found["acme-lm"][1]
    )


def test_without_thresholds_every_model_is_in_scope(ledger: Ledger) -> None:
    found = scope_of(ledger, "")
    assert all(in_scope for in_scope, _ in found.values())
    assert found["small-lm"][1] == ("no threshold is set in the policy: every model is in scope",)


def test_the_facts_name_services_and_runs(ledger: Ledger) -> None:
    policy = parse_policy(FIRM, REGIME)
    (acme,) = [
        d
        for d in decide_scope(ledger, date(2026, 1, 1), date(2026, 12, 31), policy)
        if d.facts.model == "acme-lm"
    ]
    assert acme.facts.services == ("chat", "api")
    assert len(acme.facts.runs) == 2 and acme.facts.parameters == 10**11 and acme.facts.compute_estimated


def test_parameters_threshold_on_given_facts() -> None:
    facts = ModelFacts("m", "1", ("chat",), (), None, False, 7 * 10**10, None)
    decision = decide(facts, ScopeThresholds(parameters=10**11, compute_flops=1e25))
    assert not decision.in_scope
    assert decision.reasons == (
        "training compute not recorded, so not compared with 1e+25 FLOPs (scope.compute_flops)",
        "parameters 70,000,000,000 is below 100,000,000,000 (scope.parameters)",
    )
    assert decide(facts, ScopeThresholds(parameters=7 * 10**10)).in_scope
