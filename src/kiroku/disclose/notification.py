"""The notification to the Cabinet Office: the filing form's content, derived from a statement, signed.

It says who files (the firm), for which year and regime, which models are in scope, the status of each requirement,
and which statement it files: the SHA-256 of the statement's signed canonical JSON, so the registry can match the
two. It is public whatever the statement's tier: it carries names, dates and statuses, never evidence figures.
"""

from __future__ import annotations

import hashlib
from typing import Any

from kiroku.disclose.signing import sign_document
from kiroku.ledger import Signer
from kiroku.ledger.records import canonical_json

__all__ = ["FORMAT", "build_notification"]

FORMAT = "kiroku.notification/v1"
_MODEL_FIELDS = ("model", "version", "services", "released", "withdrawn", "high_impact")


def build_notification(statement: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """The signed notification filing ``statement`` (a signed statement document of either tier)."""
    models: list[dict[str, Any]] = []
    for requirement in statement["requirements"]:
        listed = requirement["evidence"].get("models", {}).get("models", [])
        models.extend({key: entry.get(key) for key in _MODEL_FIELDS} for entry in listed)
    document = {
        "format": FORMAT,
        "to": {"en": "Cabinet Office, Government of Japan", "ja": "内閣府"},
        "regime": {key: statement["regime"][key] for key in ("name", "id", "version", "title")},
        "period": statement["period"],
        "firm": statement["firm"],
        "models": models,
        "requirements": [
            {"id": r["id"], "title": r["title"], "status": r["status"]}
            for r in statement["requirements"]
            if r["tier"] == "public"
        ],
        "statement": {
            "format": statement["format"],
            "tier": statement["tier"],
            "sha256": hashlib.sha256(canonical_json(statement)).hexdigest(),
            "signed_by": statement["signature"]["key_name"],
        },
        "ledger": {key: statement["ledger"][key] for key in ("size", "root")},
    }
    return sign_document(document, signer)
