"""The catalog: what the training data is, where it came from, what cleaning kept and what each model used.

- Sources (`Source`, record kind ``source``): registered once with data type, origin, licence, collection period
  and what they may hold.
- Shards (`kiroku.catalog.shards`, kind ``catalog.shard``): documents in Parquet, each shard committed to by its
  files' SHA-256 and the Merkle root of its document ids; `catalog_stats` reads them with DuckDB.
- Cleaning stages (`StageRecord`, kind ``catalog.stage``): which documents of its input set each stage kept and
  dropped, and why (`kiroku.catalog.stages`).
- Training runs (`TrainingRun` from a TOML file, kind ``training.run``, with the commitment each data mix entry
  resolved to) and model releases (kind ``model.release``: when a model version entered or left a service).
- One document's lineage and its chained proof (`document_lineage`, `document_bundle`, `verify_document_bundle`).
- Retention of the catalog's files (`kiroku.catalog.retention`).

Errors form one tree under `CatalogError` (see `kiroku.catalog.errors`).
"""

from kiroku.catalog.errors import CatalogError, ReleaseError, RunError, SourceError, StageError
from kiroku.catalog.lineage import DocumentLineage, document_bundle, document_lineage, find_documents
from kiroku.catalog.proofs import DocumentBundle, VerifiedDocument, verify_document_bundle
from kiroku.catalog.releases import (
    ModelRelease,
    ReleaseAction,
    ServicePeriod,
    list_releases,
    models_in_service,
    record_release,
)
from kiroku.catalog.runs import ResolvedMix, RunRecord, TrainingRun, list_runs, load_run, record_run
from kiroku.catalog.sources import DataType, Source, find_source, list_sources, register_source
from kiroku.catalog.stages import (
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
from kiroku.catalog.stats import catalog_shards, catalog_stats

__all__ = [
    "CatalogError",
    "DataType",
    "DocumentBundle",
    "DocumentLineage",
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
    "VerifiedDocument",
    "catalog_shards",
    "catalog_stats",
    "document_bundle",
    "document_lineage",
    "find_documents",
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
    "verify_document_bundle",
]
