"""Disclosures derived from the ledger: the regimes a statement answers, the firm's policy file, and which models
are in scope, the evidence derived from the catalog in a public and a regulator tier, each requirement's status
(comply or explain), and Ed25519 signatures over canonical JSON.

A regime (today Japan's draft AI IP Code of April 2026) is data, not code: its requirements, their wording in
Japanese and English, the tier each belongs to and the evidence kiroku derives for it live in a versioned TOML file
under ``kiroku/disclose/regimes/``, so the final text of the code, or another regime, is a new file.
"""

from kiroku.disclose.errors import DisclosureError, PolicyError, RegimeError
from kiroku.disclose.evidence import (
    Evidence,
    blocklist_evidence,
    crawler_evidence,
    data_source_evidence,
    optout_evidence,
    retention_evidence,
)
from kiroku.disclose.index_evidence import domain_index_evidence, trace_index_evidence
from kiroku.disclose.model_evidence import (
    inquiry_evidence,
    model_evidence,
    provenance_evidence,
    training_evidence,
)
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
    "crawler_evidence",
    "data_source_evidence",
    "decide",
    "decide_scope",
    "domain_index_evidence",
    "inquiry_evidence",
    "load_policy",
    "load_regime",
    "model_evidence",
    "model_facts",
    "optout_evidence",
    "parse_policy",
    "provenance_evidence",
    "retention_evidence",
    "sign_document",
    "trace_index_evidence",
    "training_evidence",
    "verify_document",
]
