"""Ingest: read datasets and crawls into catalog shards, streaming and resumable.

JSON Lines (plain, .gz, .zst) and Parquet datasets with configurable field names, and WARC / WARC.gz crawls
(HTTP 200 text responses, HTML turned into text by resiliparse). Each finished shard is a ledger record;
re-running an ingest of the same file records nothing twice, and an interrupted one resumes after its last
recorded shard.

Cleaning stages come in from pipelines too: `ingest_openlineage` records a stage for each completed run in
OpenLineage event files (Airflow, Spark), and `kiroku.ingest.datatrove.KirokuStageRecorder` (also reachable as
``kiroku.ingest.KirokuStageRecorder``; it needs the optional datatrove package) records the documents that pass
through a datatrove pipeline.
"""

from typing import Any

from kiroku.ingest._runner import BlocklistStep, IngestError, IngestResult, Step, ingest_files
from kiroku.ingest.jsonl import JsonlFields, read_jsonl
from kiroku.ingest.openlineage import OpenLineageError, OpenLineageResult, ingest_openlineage
from kiroku.ingest.parquet import read_parquet
from kiroku.ingest.warc import WarcReader, WarcSummary, read_warc

__all__ = [
    "BlocklistStep",
    "IngestError",
    "IngestResult",
    "JsonlFields",
    "OpenLineageError",
    "OpenLineageResult",
    "Step",
    "WarcReader",
    "WarcSummary",
    "ingest_files",
    "ingest_openlineage",
    "read_jsonl",
    "read_parquet",
    "read_warc",
]


def __getattr__(name: str) -> Any:
    """``KirokuStageRecorder`` is imported on first use: it needs the optional datatrove package."""
    if name == "KirokuStageRecorder":
        from kiroku.ingest.datatrove import KirokuStageRecorder

        return KirokuStageRecorder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
