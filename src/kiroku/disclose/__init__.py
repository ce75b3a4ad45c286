"""Disclosures derived from the ledger: the regimes a statement answers, the firm's policy file, and which models
are in scope.

A regime (today Japan's draft AI IP Code of April 2026) is data, not code: its requirements, their wording in
Japanese and English, the tier each belongs to and the evidence kiroku derives for it live in a versioned TOML file
under ``kiroku/disclose/regimes/``, so the final text of the code, or another regime, is a new file.
"""

from kiroku.disclose.errors import DisclosureError, PolicyError, RegimeError
from kiroku.disclose.policy import Explanation, Firm, Policy, ScopeThresholds, load_policy, parse_policy
from kiroku.disclose.regime import EVIDENCE, Regime, Requirement, bundled_regimes, load_regime
from kiroku.disclose.scope import ModelFacts, ScopeDecision, decide, decide_scope, model_facts

__all__ = [
    "EVIDENCE",
    "DisclosureError",
    "Explanation",
    "Firm",
    "ModelFacts",
    "Policy",
    "PolicyError",
    "Regime",
    "RegimeError",
    "Requirement",
    "ScopeDecision",
    "ScopeThresholds",
    "bundled_regimes",
    "decide",
    "decide_scope",
    "load_policy",
    "load_regime",
    "model_facts",
    "parse_policy",
]
