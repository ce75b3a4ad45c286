"""Decide whether a site has opted out of having its pages crawled or used for training.

- ``kiroku.optout.robots``: robots.txt, RFC 9309 with Google's reference semantics (`is_allowed`, `decide`);
- ``kiroku.optout.tags``: signals in the page itself, the ``X-Robots-Tag`` header and robots ``<meta>`` tags
  (``noai``, ``noimageai``) and TDMRep's ``tdm-reservation`` header and meta tag (`header_signals`,
  `html_signals`), and the `OptoutPolicy` that decides whether opted-out documents are dropped or flagged.

TDMRep's ``/.well-known/tdmrep.json`` and robots.txt captured in WARC files are to follow.
"""

from kiroku.optout.robots import RobotsDecision, decide, is_allowed
from kiroku.optout.tags import OptoutPolicy, header_signals, html_signals

__all__ = ["OptoutPolicy", "RobotsDecision", "decide", "header_signals", "html_signals", "is_allowed"]
