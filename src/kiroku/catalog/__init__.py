"""The catalog: what the training data is and where it came from.

So far: sources (`Source`, record kind ``source``), each registered once in the ledger with its data type, origin,
licence, collection period and what it may hold. Cleaning stages (`StageRecord`, record kind ``catalog.stage``):
which documents of its input set each stage kept and dropped, and why (`kiroku.catalog.stages`).
"""

from kiroku.catalog.sources import DataType, Source, SourceError, find_source, list_sources, register_source
from kiroku.catalog.stages import (
    StageError,
    StageProof,
    StageRecord,
    find_stage,
    input_ids,
    list_stages,
    prove_in_stage,
    read_id_file,
    read_lineage,
    record_stage,
)

__all__ = [
    "DataType",
    "Source",
    "SourceError",
    "StageError",
    "StageProof",
    "StageRecord",
    "find_source",
    "find_stage",
    "input_ids",
    "list_sources",
    "list_stages",
    "prove_in_stage",
    "read_id_file",
    "read_lineage",
    "record_stage",
    "register_source",
]
