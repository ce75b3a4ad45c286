"""The catalog: what the training data is and where it came from.

So far: sources (`Source`, record kind ``source``), each registered once in the ledger with its data type, origin,
licence, collection period and what it may hold. Cleaning stages (`StageRecord`, record kind ``catalog.stage``):
which documents of its input set each stage kept and dropped, and why (`kiroku.catalog.stages`). Training runs
(`TrainingRun` read from a TOML file, recorded as kind ``training.run`` with the commitment each data mix entry
resolved to; `kiroku.catalog.runs`) and model releases (kind ``model.release``: when a model version entered or
left a service; `kiroku.catalog.releases`).
"""

from kiroku.catalog.releases import (
    ModelRelease,
    ReleaseAction,
    ReleaseError,
    ServicePeriod,
    list_releases,
    models_in_service,
    record_release,
)
from kiroku.catalog.runs import ResolvedMix, RunError, RunRecord, TrainingRun, list_runs, load_run, record_run
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
    "ModelRelease",
    "ReleaseAction",
    "ReleaseError",
    "ResolvedMix",
    "RunError",
    "RunRecord",
    "ServicePeriod",
    "Source",
    "SourceError",
    "StageError",
    "StageProof",
    "StageRecord",
    "TrainingRun",
    "find_source",
    "find_stage",
    "input_ids",
    "list_releases",
    "list_runs",
    "list_sources",
    "list_stages",
    "load_run",
    "models_in_service",
    "prove_in_stage",
    "read_id_file",
    "read_lineage",
    "record_release",
    "record_run",
    "record_stage",
    "register_source",
]
