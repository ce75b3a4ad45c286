"""Which models a statement covers in full: the "high-impact" determination, from the policy's thresholds.

The code applies its full obligations to high-impact models but does not set the thresholds yet, so they are the
firm's policy (`ScopeThresholds`: training compute, parameters, users in Japan). A model version in service during
the period is in scope when it reaches any threshold the policy sets; with no threshold set, every model is in
scope (the cautious reading). Each decision carries the rules that placed the model, or why none did, in words a
statement can print.

The facts come from the record: a version's training compute is the sum over its recorded training runs
(pre-training and fine-tuning alike), its parameters the largest any run records; users in Japan come from the
policy (``[users_in_japan]``, by model or ``model@version``), since the ledger does not count users.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kiroku.catalog.releases import ServicePeriod, models_in_service
from kiroku.catalog.runs import RunRecord, list_runs
from kiroku.disclose.policy import Policy, ScopeThresholds
from kiroku.ledger import Ledger

__all__ = ["ModelFacts", "ScopeDecision", "decide", "decide_scope", "model_facts"]


@dataclass(frozen=True)
class ModelFacts:
    """What the record (and the policy, for users) says of one model version, None where it says nothing."""

    model: str
    version: str
    services: tuple[str, ...]
    runs: tuple[int, ...]
    compute_flops: float | None
    compute_estimated: bool
    parameters: int | None
    users_in_japan: int | None
    released: date | None = None
    """The first day it entered a service (up to the period's end)."""
    withdrawn: date | None = None
    """The last day it left its last service, when it has left every service."""


@dataclass(frozen=True)
class ScopeDecision:
    """Whether a model version is high-impact, and the reasons in plain words."""

    facts: ModelFacts
    in_scope: bool
    reasons: tuple[str, ...]


def decide(facts: ModelFacts, thresholds: ScopeThresholds) -> ScopeDecision:
    """Apply ``thresholds`` to one model version's ``facts``."""
    rules = (
        ("training compute", facts.compute_flops, thresholds.compute_flops, "FLOPs", "scope.compute_flops"),
        ("parameters", facts.parameters, thresholds.parameters, "", "scope.parameters"),
        ("users in Japan", facts.users_in_japan, thresholds.users_in_japan, "", "scope.users_in_japan"),
    )
    if all(threshold is None for _, _, threshold, _, _ in rules):
        return ScopeDecision(facts, True, ("no threshold is set in the policy: every model is in scope",))
    met: list[str] = []
    unmet: list[str] = []
    for what, value, threshold, unit, field in rules:
        if threshold is None:
            continue
        limit = f"{_number(threshold)}{' ' + unit if unit else ''} ({field})"
        if value is None:
            unmet.append(f"{what} not recorded, so not compared with {limit}")
        elif value >= threshold:
            estimated = (
                " (estimated as 6 x parameters x tokens)"
                if what == "training compute" and facts.compute_estimated
                else ""
            )
            met.append(f"{what} {_number(value)}{estimated} reaches {limit}")
        else:
            unmet.append(f"{what} {_number(value)} is below {limit}")
    return ScopeDecision(facts, bool(met), tuple(met) if met else tuple(unmet))


def model_facts(ledger: Ledger, start: date, end: date, policy: Policy) -> list[ModelFacts]:
    """The facts of every model version in service at some time from ``start`` to ``end``, in the order their
    releases were recorded."""
    runs: dict[tuple[str, str], list[tuple[int, RunRecord]]] = {}
    for index, run in list_runs(ledger):
        runs.setdefault((run.model, run.version), []).append((index, run))
    services: dict[tuple[str, str], list[str]] = {}
    periods: dict[tuple[str, str], list[ServicePeriod]] = {}
    for period in models_in_service(ledger, start, end):
        found = services.setdefault((period.model, period.version), [])
        if period.service not in found:
            found.append(period.service)
        periods.setdefault((period.model, period.version), []).append(period)
    facts = []
    for (model, version), names in services.items():
        mine = runs.get((model, version), [])
        users = policy.users_in_japan.get(f"{model}@{version}", policy.users_in_japan.get(model))
        facts.append(
            ModelFacts(
                model=model,
                version=version,
                services=tuple(names),
                runs=tuple(index for index, _ in mine),
                compute_flops=sum(run.compute_flops for _, run in mine) if mine else None,
                compute_estimated=any(run.compute_estimated for _, run in mine),
                parameters=max(run.architecture.parameters for _, run in mine) if mine else None,
                users_in_japan=users,
                released=min(p.released for p in periods[(model, version)]),
                withdrawn=None
                if any(p.withdrawn is None for p in periods[(model, version)])
                else max(p.withdrawn for p in periods[(model, version)] if p.withdrawn is not None),
            )
        )
    return facts


def decide_scope(ledger: Ledger, start: date, end: date, policy: Policy) -> list[ScopeDecision]:
    """The high-impact decision for every model version in service during the period."""
    return [decide(facts, policy.scope) for facts in model_facts(ledger, start, end, policy)]


def _number(value: float) -> str:
    """Counts with thousands separators, large or fractional values in scientific notation (3.2e+25)."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.3g}"
