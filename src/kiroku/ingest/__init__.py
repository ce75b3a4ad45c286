"""Ingest: read datasets and crawls into catalog shards, streaming and resumable.

JSON Lines (plain, .gz, .zst) and Parquet datasets with configurable field names, and WARC / WARC.gz crawls
(HTTP 200 text responses, HTML turned into text by resiliparse). Each finished shard is a ledger record;
re-running an ingest of the same file records nothing twice, and an interrupted one resumes after its last
recorded shard.
"""

from kiroku.ingest._runner import BlocklistStep, IngestError, IngestResult, ingest_files
from kiroku.ingest.jsonl import JsonlFields, read_jsonl
from kiroku.ingest.parquet import read_parquet
from kiroku.ingest.warc import WarcReader, WarcSummary, read_warc

__all__ = [
    "BlocklistStep",
    "IngestError",
    "IngestResult",
    "JsonlFields",
    "WarcReader",
    "WarcSummary",
    "ingest_files",
    "read_jsonl",
    "read_parquet",
    "read_warc",
]
