"""Disclosures derived from the ledger: the regimes a statement answers, the firm's policy file, and which models
are in scope, the evidence derived from the catalog in a public and a regulator tier, each requirement's status
(comply or explain), and Ed25519 signatures over canonical JSON.

A regime (today Japan's draft AI IP Code of April 2026) is data, not code: its requirements, their wording in
Japanese and English, the tier each belongs to and the evidence kiroku derives for it live in a versioned TOML file
under ``kiroku/disclose/regimes/``, so the final text of the code, or another regime, is a new file.
"""

from kiroku.disclose.errors import DisclosureError, PolicyError, RegimeError
from kiroku.disclose.evidence import Evidence, blocklist_evidence, data_source_evidence, optout_evidence
from kiroku.disclose.policy import Explanation, Firm, Policy, ScopeThresholds, load_policy, parse_policy
from kiroku.disclose.regime import EVIDENCE, Regime, Requirement, bundled_regimes, load_regime
from kiroku.disclose.scope import ModelFacts, ScopeDecision, decide, decide_scope, model_facts
from kiroku.disclose.signing import SignatureError, sign_document, verify_document
from kiroku.disclose.status import Answer, MissingExplanation, answer_requirement

__all__ = [
    "EVIDENCE",
    "Answer",
    "DisclosureError",
    "Evidence",
    "Explanation",
    "Firm",
    "MissingExplanation",
    "ModelFacts",
    "Policy",
    "PolicyError",
    "Regime",
    "RegimeError",
    "Requirement",
    "ScopeDecision",
    "ScopeThresholds",
    "SignatureError",
    "answer_requirement",
    "blocklist_evidence",
    "bundled_regimes",
    "data_source_evidence",
    "decide",
    "decide_scope",
    "load_policy",
    "load_regime",
    "model_facts",
    "optout_evidence",
    "parse_policy",
    "sign_document",
    "verify_document",
]
