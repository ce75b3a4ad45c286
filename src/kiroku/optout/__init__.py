"""Decide whether a site has opted out of having its pages crawled or used for training.

Only robots.txt is read so far (``kiroku.optout.robots``, RFC 9309 with Google's reference semantics). TDMRep
(the W3C TDM Reservation Protocol), the ``X-Robots-Tag`` header and robots ``<meta>`` tags are to follow, each
in a module of its own.
"""

from kiroku.optout.robots import RobotsDecision, decide, is_allowed

__all__ = ["RobotsDecision", "decide", "is_allowed"]
