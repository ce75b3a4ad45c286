"""TDMRep, the W3C TDM Reservation Protocol (Community Group final report, 10 May 2024).

A rightsholder reserves text and data mining rights with ``tdm-reservation: 1`` (``0``: not reserved) in one of
three places, read here:

- the site-wide file ``/.well-known/tdmrep.json`` (`TdmRepFile`): a JSON array of rules
  ``{"location": pattern, "tdm-reservation": 0 | 1, "tdm-policy": url}``;
- the ``tdm-reservation`` HTTP response header (`header_value`);
- ``<meta name="tdm-reservation" content="1">`` in an HTML page (`meta_value`).

`reservation` combines them in the order the report's "Processing priority" section
(https://www.w3.org/community/reports/tdmrep/CG-FINAL-tdmrep-20240510/#sec-processing-priority) sets: a value in
the header supersedes the file's, and a value in the HTML metadata supersedes both. A document whose final value
is ``1`` carries the reason ``tdmrep:reserved``, whichever of the three said so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from kiroku.optout.robots import _path_params_query

__all__ = [
    "RESERVED",
    "TdmRepError",
    "TdmRepFile",
    "TdmRule",
    "header_value",
    "meta_value",
    "reservation",
]

RESERVED = "tdmrep:reserved"

_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class TdmRepError(ValueError):
    """A ``tdmrep.json`` is malformed; a TDM agent ignores such a file (the message says why)."""


def _value(raw: object) -> int | None:
    """A ``tdm-reservation`` value: 0 or 1; anything else is a protocol error, read as unset."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw in (0, 1):
        return raw
    return None


def _normalise(text: str) -> str:
    """``text`` spelt as the report compares URLs: escapes of unreserved characters decoded, the others upper
    case, non-ASCII characters percent-encoded as UTF-8 (section "TDM File on the Origin Server")."""

    def unescape(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else match.group(0).upper()

    if "%" in text:
        text = _ESCAPE.sub(unescape, text)
    if not text.isascii():
        text = "".join(
            c if c.isascii() else "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
            for c in text
        )
    return text


@lru_cache(maxsize=4096)
def _compile(location: str) -> re.Pattern[str]:
    """A location pattern as a regular expression: ``*`` any run of characters, a final ``$`` the end of the
    URL, everything else literal; it matches from the start of the path (robots.txt's matching, which the
    report adopts)."""
    anchored = location.endswith("$")
    body = location[:-1] if anchored else location
    pieces = [re.escape(_normalise(piece).replace("$", "%24")) for piece in body.split("*")]
    return re.compile(".*".join(pieces) + (r"\Z" if anchored else ""), re.DOTALL)


def _path_and_query(url: str) -> str:
    """The path and query of ``url`` as robots.txt matching takes them, with ``*`` and ``$`` escaped: the
    report asks for "%" encoding of characters that are special in patterns."""
    return _normalise(_path_params_query(url)).replace("*", "%2A").replace("$", "%24")


@dataclass(frozen=True, slots=True)
class TdmRule:
    """One rule of a ``tdmrep.json``: a location pattern and its ``tdm-reservation`` (None: unset)."""

    location: str
    reservation: int | None
    policy: str | None = None

    def matches(self, url: str) -> bool:
        """Whether the rule's location covers ``url`` (an absolute URL or a path)."""
        return _compile(self.location).match(_path_and_query(url)) is not None


@dataclass(frozen=True, slots=True)
class TdmRepFile:
    """A parsed ``/.well-known/tdmrep.json``: its rules in order; the first that matches a URL applies."""

    rules: tuple[TdmRule, ...]

    @classmethod
    def parse(cls, data: bytes | str) -> TdmRepFile:
        """Parse a ``tdmrep.json`` body; raise `TdmRepError` saying what is wrong with a malformed one.

        The report makes ``location`` and ``tdm-reservation`` mandatory in every rule; a value of
        ``tdm-reservation`` other than 0 or 1 is a protocol error that leaves the rule's value unset.
        """
        try:
            text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
            rules = json.loads(text)
        except UnicodeDecodeError as exc:
            raise TdmRepError(f"not UTF-8 (byte {exc.start})") from exc
        except json.JSONDecodeError as exc:
            raise TdmRepError(f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc
        if not isinstance(rules, list):
            raise TdmRepError(f"not a JSON array of rules but a {type(rules).__name__}")
        parsed = []
        for number, rule in enumerate(rules, start=1):
            if not isinstance(rule, dict):
                raise TdmRepError(f"rule {number} is not a JSON object")
            location = rule.get("location")
            if not isinstance(location, str):
                raise TdmRepError(f"rule {number} has no string 'location'")
            if "tdm-reservation" not in rule:
                raise TdmRepError(f"rule {number} has no 'tdm-reservation'")
            policy = rule.get("tdm-policy")
            parsed.append(
                TdmRule(
                    location, _value(rule["tdm-reservation"]), policy if isinstance(policy, str) else None
                )
            )
        return cls(tuple(parsed))

    def rule_for(self, url: str) -> TdmRule | None:
        """The rule that applies to ``url``: the first whose location matches ("the most specific match is
        the first in sequence"), or None."""
        return next((rule for rule in self.rules if rule.matches(url)), None)

    def value_for(self, url: str) -> int | None:
        """``tdm-reservation`` for ``url`` by this file: 0, 1, or None (no rule matches, or the value is unset)."""
        rule = self.rule_for(url)
        return rule.reservation if rule else None


def _one_value(values: Iterable[str]) -> int | None:
    """The value several declarations give: 1 if any reserves, else 0 if any does not, else unset."""
    seen = {value.strip() for value in values}
    return 1 if "1" in seen else 0 if "0" in seen else None


def header_value(headers: Iterable[tuple[str, str]]) -> int | None:
    """``tdm-reservation`` from HTTP response headers (name, value pairs; names in any case), or None."""
    return _one_value(
        part
        for name, value in headers
        if name.strip().lower() == "tdm-reservation"
        for part in value.split(",")
    )


def meta_value(metas: Iterable[tuple[str, str]]) -> int | None:
    """``tdm-reservation`` from an HTML page's meta tags, given as (lower-case name, content) pairs (see
    `kiroku.optout.tags.meta_tags`), or None."""
    return _one_value(content for name, content in metas if name == "tdm-reservation")


def reservation(file: int | None, header: int | None, meta: int | None) -> int | None:
    """The value that applies when several techniques declare one: the HTML metadata's, else the header's,
    else the file's (report section "Processing priority")."""
    for value in (meta, header, file):
        if value is not None:
            return value
    return None
