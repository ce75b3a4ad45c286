"""kiroku's own polite crawler: robots.txt (RFC 9309), TDMRep and page opt-outs honoured, every decision logged.

- ``kiroku.crawl.scope``: which URLs a crawl may visit, and URL normalisation (`Scope`, `normalise`);
- ``kiroku.crawl.crawler``: the crawl (`Crawler`, `CrawlSettings`, `CrawlResult`);
- ``kiroku.crawl.warc``: the WARC files (`WarcOutput`);
- ``kiroku.crawl.decisions``: the gzip JSON Lines log of every decision (`DecisionLog`);
- ``kiroku.crawl.record``: the ledger record ``crawl.run`` (`CrawlRun`) and the start file (`CrawlStart`);
- ``kiroku.crawl.pending``: crawls a killed run left unrecorded, found and their records rebuilt;
- ``kiroku.crawl.errors``: `CrawlError`.

See docs/crawl.md.
"""

from kiroku.crawl.crawler import Crawler, CrawlResult, CrawlSettings, new_crawl_id, user_agent_for
from kiroku.crawl.decisions import DecisionLog
from kiroku.crawl.errors import CrawlError
from kiroku.crawl.record import CrawlFile, CrawlRun, CrawlScopeRecord, CrawlStart
from kiroku.crawl.scope import Scope, normalise
from kiroku.crawl.warc import WarcOutput

__all__ = [
    "CrawlError",
    "CrawlFile",
    "CrawlResult",
    "CrawlRun",
    "CrawlScopeRecord",
    "CrawlSettings",
    "CrawlStart",
    "Crawler",
    "DecisionLog",
    "Scope",
    "WarcOutput",
    "new_crawl_id",
    "normalise",
    "user_agent_for",
]
