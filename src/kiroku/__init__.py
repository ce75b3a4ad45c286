"""kiroku (記録, "record"): a verifiable record of what an AI model was trained on.

Packages, each with one job and a small public surface:

- `kiroku.ledger`: the append-only Merkle log (RFC 9162) with signed checkpoints and proofs;
- `kiroku.workspace`: a folder holding the configuration, signing key and ledger of one organisation;
- `kiroku.cli`: the ``kiroku`` command.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
