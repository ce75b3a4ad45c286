"""The catalog's columns: one row per document, and the text kept beside it.

A shard is two Parquet files written together: ``<name>.docs.parquet`` with the columns below (what answers and
statements read) and ``<name>.text.parquet`` with ``doc_id`` and ``text`` (what indexes read), both zstd-compressed.
"""

from __future__ import annotations

import re

import pyarrow as pa

__all__ = ["DOCS_SCHEMA", "TEXT_SCHEMA", "count_tokens"]

DOCS_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.binary(32), nullable=False),  # SHA-256 of the text (UTF-8): the content hash
        pa.field("external_id", pa.string()),  # the dataset's own id, if it has one
        pa.field("url", pa.string()),
        pa.field("host", pa.string()),
        pa.field("domain", pa.string()),  # registrable domain (public suffix list)
        pa.field("source", pa.string(), nullable=False),
        pa.field("fetch_time", pa.timestamp("us", tz="UTC")),
        pa.field("bytes", pa.int64(), nullable=False),  # UTF-8 bytes of the text
        pa.field("tokens", pa.int64(), nullable=False),  # see count_tokens
        pa.field(
            "optout", pa.list_(pa.string())
        ),  # opt-out signals seen, each a reason such as robots:GPTBot
        pa.field("kept", pa.bool_(), nullable=False),  # False when an opt-out or blocklist dropped it
        pa.field("input_line", pa.int64()),  # where it came from in its input file (line, or record number)
    ]
)

TEXT_SCHEMA = pa.schema([pa.field("doc_id", pa.binary(32), nullable=False), pa.field("text", pa.string())])

# Scripts written without spaces between words count one token per character; everything else by words and
# punctuation runs. An estimate for statements and statistics; tracing uses its own tokenizer.
_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]|[^\s\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+"
)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


def count_tokens(text: str) -> int:
    """An estimate of the token count: words and punctuation runs, and one per character of CJK scripts."""
    if _CJK.search(text) is None:
        return len(text.split())  # the same runs: str.split and the pattern's \s agree on whitespace
    return len(_TOKEN.findall(text))
