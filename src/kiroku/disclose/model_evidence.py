"""Evidence from the ledger's runs and releases, and from the policy file: models, training, provenance, inquiries.

Like `kiroku.disclose.evidence`, each derivation returns an `Evidence` with a public and a regulator tier. The
public tier names models, versions, services, dates, architecture families and training methods, and the
high-impact decision with its reasons worded without figures; the regulator tier adds parameters, tokens, compute
and the reasons with their figures.
"""

from __future__ import annotations

from kiroku.catalog.runs import list_runs
from kiroku.disclose.evidence import Evidence
from kiroku.disclose.policy import Policy
from kiroku.disclose.scope import ScopeDecision
from kiroku.ledger import Ledger

__all__ = ["inquiry_evidence", "model_evidence", "provenance_evidence", "training_evidence"]


def model_evidence(decisions: list[ScopeDecision]) -> Evidence:
    """The models in service in the period: public names, versions, services and whether high-impact; the
    regulator tier adds the facts and the reasons with their figures."""
    public = []
    regulator = []
    for decision in decisions:
        facts = decision.facts
        entry = {
            "model": facts.model,
            "version": facts.version,
            "services": list(facts.services),
            "released": facts.released.isoformat() if facts.released else None,
            "withdrawn": facts.withdrawn.isoformat() if facts.withdrawn else None,
            "high_impact": decision.in_scope,
        }
        public.append(entry)
        regulator.append(
            {
                **entry,
                "reasons": list(decision.reasons),
                "training_runs": list(facts.runs),
                "compute_flops": facts.compute_flops,
                "compute_estimated": facts.compute_estimated,
                "parameters": facts.parameters,
                "users_in_japan": facts.users_in_japan,
            }
        )
    return Evidence("models", {"models": public}, {"models": regulator})


def training_evidence(ledger: Ledger, decisions: list[ScopeDecision]) -> Evidence:
    """Architecture and training method of the runs behind the models in service: family and methods in public,
    parameters, layers, context length, tokens, compute and dates for the regulator."""
    wanted = {index for decision in decisions for index in decision.facts.runs}
    public = []
    regulator = []
    for index, run in list_runs(ledger):
        if index not in wanted:
            continue
        entry = {
            "model": run.model,
            "version": run.version,
            "run": run.name,
            "architecture": run.architecture.family,
            "methods": [method.value for method in run.methods],
        }
        public.append(entry)
        regulator.append(
            {
                **entry,
                "record": index,
                "parameters": run.architecture.parameters,
                "layers": run.architecture.layers,
                "context_length": run.architecture.context_length,
                "training_tokens": run.training_tokens,
                "compute_flops": run.compute_flops,
                "compute_estimated": run.compute_estimated,
                "start": run.start.isoformat(),
                "end": run.end.isoformat(),
            }
        )
    return Evidence("training", {"runs": public}, {"runs": regulator})


def provenance_evidence(policy: Policy) -> Evidence:
    """The provenance and watermarking measures the policy file names (the same in both tiers)."""
    measures = list(policy.provenance)
    return Evidence("provenance", {"measures": measures}, {"measures": measures})


def inquiry_evidence(policy: Policy) -> Evidence:
    """The rightsholders' contact point. Inquiries are not recorded in the ledger yet, so no counts are given;
    a missing contact point is a finding."""
    contact = policy.rightsholder_contact
    findings = (
        ()
        if contact
        else ("the policy file names no contact point for rightsholders (rightsholder_contact)",)
    )
    entry = {"contact": contact, "inquiries_recorded": False}
    return Evidence("inquiries", dict(entry), dict(entry), findings)
