"""Disclosures derived from the ledger: the regimes whose requirements a statement answers.

A regime (today Japan's draft AI IP Code of April 2026) is data, not code: its requirements, their wording in
Japanese and English, the tier each belongs to and the evidence kiroku derives for it live in a versioned TOML file
under ``kiroku/disclose/regimes/``, so the final text of the code, or another regime, is a new file.
"""

from kiroku.disclose.errors import DisclosureError, RegimeError
from kiroku.disclose.regime import EVIDENCE, Regime, Requirement, bundled_regimes, load_regime

__all__ = [
    "EVIDENCE",
    "DisclosureError",
    "Regime",
    "RegimeError",
    "Requirement",
    "bundled_regimes",
    "load_regime",
]
