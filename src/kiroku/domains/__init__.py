"""Principle 2: "did my domain appear in the training data?", answered from an index, with proof.

- `build_domain_index` reads the catalog (shards, cleaning stages, training runs) into sorted, memory-mapped
  tables per scope, by registrable domain and by host, and commits to them in a ``domains.index`` record;
- `DomainIndex` opens them and looks names up in O(log n), one at a time or in bulk;
- `answer_domain` turns the lookups into one answer (figures and plain words in English and Japanese);
- `domain_bundle` / `verify_domain_bundle`: the answer's proof, "yes" by inclusion of the name's entry and "no"
  by the two neighbouring entries, checked offline with the log's public key.

Errors form one tree under `DomainError` (see `kiroku.domains.errors`).
"""

from kiroku.domains.build import BuildReport, build_domain_index
from kiroku.domains.errors import (
    DomainError,
    IndexCorrupt,
    IndexMissing,
    IndexTampered,
    InvalidName,
    StaleIndex,
)
from kiroku.domains.index import DomainIndex

__all__ = [
    "BuildReport",
    "DomainError",
    "DomainIndex",
    "IndexCorrupt",
    "IndexMissing",
    "IndexTampered",
    "InvalidName",
    "StaleIndex",
    "build_domain_index",
]
