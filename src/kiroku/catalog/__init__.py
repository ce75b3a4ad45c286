"""The catalog: what the training data is and where it came from.

So far: sources (`Source`, record kind ``source``), each registered once in the ledger with its data type, origin,
licence, collection period and what it may hold. Documents, shards and cleaning-stage lineage come next.
"""

from kiroku.catalog.sources import DataType, Source, SourceError, find_source, list_sources, register_source

__all__ = ["DataType", "Source", "SourceError", "find_source", "list_sources", "register_source"]
