"""Decide whether a site has opted out of having its pages crawled or used for training.

- ``kiroku.optout.robots``: robots.txt, RFC 9309 with Google's reference semantics (`is_allowed`, `decide`,
  `allowed_for_status`);
- ``kiroku.optout.tags``: signals in the page itself, the ``X-Robots-Tag`` header and robots ``<meta>`` tags
  (``noai``, ``noimageai``) and TDMRep's ``tdm-reservation`` header and meta tag (`header_signals`,
  `html_signals`);
- ``kiroku.optout.tdmrep``: TDMRep's ``/.well-known/tdmrep.json`` (`TdmRepFile`) and the order of precedence
  between the file, the header and the meta tag;
- ``kiroku.optout.sites``: robots.txt and tdmrep.json as a crawl captured them, per origin and capture time
  (`SiteSignals`);
- ``kiroku.optout.policy``: one verdict from all of a page's signals (`OptoutEvaluator`) and the `OptoutPolicy`
  (``drop`` or ``flag``) that decides whether opted-out documents enter the kept set;
- ``kiroku.optout.blocklist``: lists of domains never trained on (`Blocklists`), reason ``blocklist:<name>``.
"""

from kiroku.optout.blocklist import Blocklist, BlocklistError, Blocklists
from kiroku.optout.policy import OptoutEvaluator, OptoutPolicy, Verdict, crawler_token
from kiroku.optout.robots import RobotsDecision, allowed_for_status, decide, is_allowed
from kiroku.optout.sites import SiteSignals
from kiroku.optout.tags import header_signals, html_signals
from kiroku.optout.tdmrep import TdmRepError, TdmRepFile

__all__ = [
    "Blocklist",
    "BlocklistError",
    "Blocklists",
    "OptoutEvaluator",
    "OptoutPolicy",
    "RobotsDecision",
    "SiteSignals",
    "TdmRepError",
    "TdmRepFile",
    "Verdict",
    "allowed_for_status",
    "crawler_token",
    "decide",
    "header_signals",
    "html_signals",
    "is_allowed",
]
