"""Tests for ``kiroku.optout.robots``: Google's reference suite, RFC 9309's examples, and kiroku's own cases.

The first part is a port, as data, of every allow/disallow assertion in google/robotstxt's ``robots_test.cc``
(https://github.com/google/robotstxt/blob/master/robots_test.cc, commit
c8ac4b1d93183ddcab30d09415356bf52550c6a5), Copyright 2019 Google LLC, licensed under the Apache License,
Version 2.0 (https://www.apache.org/licenses/LICENSE-2.0). The robots.txt bodies, user agents, URLs and
expected answers are Google's; the test names are the ``TEST(RobotsUnittest, <name>)`` they come from. Kiroku
is Apache-2.0 too.

Left out of that port, because they are not allow/disallow decisions:

* ``ID_VerifyValidUserAgentsToObey`` and the first line of ``GoogleOnly_AcceptUserAgentUpToFirstSpace`` test
  ``RobotsMatcher::IsValidUserAgentToObey``, a validator of the caller's product token; ``is_allowed`` answers
  for any user agent instead (see ``_normalise_agent`` in the module under test).
* ``ID_LinesNumbersAreCountedCorrectly``, ``ID_UTF8ByteOrderMarkIsSkipped`` and
  ``ID_NonStandardLineExample_Sitemap`` count parsed directives and read the sitemap through a
  ``RobotsParseHandler``; there is no such callback here. Their robots.txt bodies are kept, though:
  ``DERIVED_CASES`` below turns each line-ending and byte-order-mark body into allow/disallow decisions that
  only come out right when the lines are split and the mark skipped as Google's parser does.
* ``TestGetPathParamsQuery`` and ``TestMaybeEscapePattern`` unit-test Google-internal helpers (URL to path,
  pattern escaping). They are not decisions, but the layer in ``kiroku.optout.robots`` has its own equivalents
  of both, so their cases are ported below as tests of those (``GOOGLE_PATHS``, ``GOOGLE_ESCAPES``).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kiroku.optout
from kiroku.optout import RobotsDecision, decide, is_allowed
from kiroku.optout.robots import _escape_pattern, _parse, _path_params_query, allowed_for_status

# (robots_txt, user_agent, url, expected, test_name)
Case = tuple[str, str, str, bool, str]

# ------------------------------------------------------------------------------------------------------------
# Port of google/robotstxt robots_test.cc (Apache-2.0, see the module docstring).
# ------------------------------------------------------------------------------------------------------------

_SYSTEM = "user-agent: FooBot\ndisallow: /\n"

_LINE_CORRECT = "user-agent: FooBot\ndisallow: /\n"
_LINE_INCORRECT = "foo: FooBot\nbar: /\n"
_LINE_INCORRECT_ACCEPTED = "user-agent FooBot\ndisallow /\n"

_GROUPS = (
    "allow: /foo/bar/\n"
    "\n"
    "user-agent: FooBot\n"
    "disallow: /\n"
    "allow: /x/\n"
    "user-agent: BarBot\n"
    "disallow: /\n"
    "allow: /y/\n"
    "\n"
    "\n"
    "allow: /w/\n"
    "user-agent: BazBot\n"
    "\n"
    "user-agent: FooBot\n"
    "allow: /z/\n"
    "disallow: /\n"
)

_OTHER_RULES_SITEMAP = "User-agent: BarBot\nSitemap: https://foo.bar/sitemap\nUser-agent: *\nDisallow: /\n"
_OTHER_RULES_UNKNOWN = "User-agent: FooBot\nInvalid-Unknown-Line: unknown\nUser-agent: *\nDisallow: /\n"

_NAMES_UPPER = "USER-AGENT: FooBot\nALLOW: /x/\nDISALLOW: /\n"
_NAMES_LOWER = "user-agent: FooBot\nallow: /x/\ndisallow: /\n"
_NAMES_CAMEL = "uSeR-aGeNt: FooBot\nAlLoW: /x/\ndIsAlLoW: /\n"

_UA_UPPER = "User-Agent: FOO BAR\nAllow: /x/\nDisallow: /\n"
_UA_LOWER = "User-Agent: foo bar\nAllow: /x/\nDisallow: /\n"
_UA_CAMEL = "User-Agent: FoO bAr\nAllow: /x/\nDisallow: /\n"

_UP_TO_SPACE = "User-Agent: *\nDisallow: /\nUser-Agent: Foo Bar\nAllow: /x/\nDisallow: /\n"

_GLOBAL = "user-agent: *\nallow: /\nuser-agent: FooBot\ndisallow: /\n"
_ONLY_SPECIFIC = (
    "user-agent: FooBot\nallow: /\nuser-agent: BarBot\ndisallow: /\nuser-agent: BazBot\ndisallow: /\n"
)

_INDEX_HTML = "User-Agent: *\nAllow: /allowed-slash/index.html\nDisallow: /\n"

# GoogleOnly_LineTooLong builds its robots.txt in code; this mirrors it byte for byte.
_MAX_LINE_LEN = 2083 * 8
_EOL_LEN = len("\n")


def _too_long_disallow() -> tuple[str, str]:
    longline = "/x/"
    max_length = _MAX_LINE_LEN - len(longline) - len("disallow: ") + _EOL_LEN
    longline += "a" * (max_length - len(longline))
    return f"user-agent: FooBot\ndisallow: {longline}/qux\n", longline


def _too_long_allow() -> tuple[str, str, str]:
    longline_a = "/x/"
    longline_b = "/x/"
    max_length = _MAX_LINE_LEN - len(longline_a) - len("allow: ") + _EOL_LEN
    longline_a += "a" * (max_length - len(longline_a))
    longline_b += "b" * (max_length - len(longline_b))
    robotstxt = f"user-agent: FooBot\ndisallow: /\nallow: {longline_a}/qux\nallow: {longline_b}/qux\n"
    return robotstxt, longline_a, longline_b


_LONG_DISALLOW, _LONGLINE = _too_long_disallow()
_LONG_ALLOW, _LONGLINE_A, _LONGLINE_B = _too_long_allow()

_FISH = "user-agent: FooBot\ndisallow: /\nallow: /fish\n"
_FISH_STAR = "user-agent: FooBot\ndisallow: /\nallow: /fish*\n"
_FISH_SLASH = "user-agent: FooBot\ndisallow: /\nallow: /fish/\n"
_PHP = "user-agent: FooBot\ndisallow: /\nallow: /*.php\n"
_PHP_END = "user-agent: FooBot\ndisallow: /\nallow: /*.php$\n"
_FISH_PHP = "user-agent: FooBot\ndisallow: /\nallow: /fish*.php\n"


def _google_cases() -> list[Case]:
    t, f = True, False
    cases: list[Case] = []

    def add(name: str, robotstxt: str, agent: str, url: str, expected: bool) -> None:
        cases.append((robotstxt, agent, url, expected, name))

    n = "GoogleOnly_SystemTest"
    add(n, "", "FooBot", "", t)  # empty robots.txt: everything allowed
    add(n, _SYSTEM, "", "", t)  # empty user-agent to be matched: everything allowed
    add(n, _SYSTEM, "FooBot", "", f)  # empty url: implicitly disallowed ("" means "/")
    add(n, "", "", "", t)  # all params empty: everything allowed

    n = "ID_LineSyntax_Line"
    url = "http://foo.bar/x/y"
    add(n, _LINE_CORRECT, "FooBot", url, f)
    add(n, _LINE_INCORRECT, "FooBot", url, t)
    add(n, _LINE_INCORRECT_ACCEPTED, "FooBot", url, f)

    n = "ID_LineSyntax_Groups"
    url_w, url_x, url_y, url_z = (f"http://foo.bar/{c}/{d}" for c, d in ("wa", "xb", "yc", "zd"))
    url_foo = "http://foo.bar/foo/bar/"
    add(n, _GROUPS, "FooBot", url_x, t)
    add(n, _GROUPS, "FooBot", url_z, t)
    add(n, _GROUPS, "FooBot", url_y, f)
    add(n, _GROUPS, "BarBot", url_y, t)
    add(n, _GROUPS, "BarBot", url_w, t)
    add(n, _GROUPS, "BarBot", url_z, f)
    add(n, _GROUPS, "BazBot", url_z, t)
    # Lines with rules outside groups are ignored.
    add(n, _GROUPS, "FooBot", url_foo, f)
    add(n, _GROUPS, "BarBot", url_foo, f)
    add(n, _GROUPS, "BazBot", url_foo, f)

    n = "ID_LineSyntax_Groups_OtherRules"
    add(n, _OTHER_RULES_SITEMAP, "FooBot", "http://foo.bar/", f)
    add(n, _OTHER_RULES_SITEMAP, "BarBot", "http://foo.bar/", f)
    add(n, _OTHER_RULES_UNKNOWN, "FooBot", "http://foo.bar/", f)
    add(n, _OTHER_RULES_UNKNOWN, "BarBot", "http://foo.bar/", f)

    n = "ID_REPLineNamesCaseInsensitive"
    for body in (_NAMES_UPPER, _NAMES_LOWER, _NAMES_CAMEL):
        add(n, body, "FooBot", "http://foo.bar/x/y", t)
    for body in (_NAMES_UPPER, _NAMES_LOWER, _NAMES_CAMEL):
        add(n, body, "FooBot", "http://foo.bar/a/b", f)

    n = "ID_UserAgentValueCaseInsensitive"
    for agent in ("Foo", "foo"):
        for body in (_UA_UPPER, _UA_LOWER, _UA_CAMEL):
            add(n, body, agent, "http://foo.bar/x/y", t)
        for body in (_UA_UPPER, _UA_LOWER, _UA_CAMEL):
            add(n, body, agent, "http://foo.bar/a/b", f)

    n = "GoogleOnly_AcceptUserAgentUpToFirstSpace"
    add(n, _UP_TO_SPACE, "Foo", "http://foo.bar/x/y", t)
    add(n, _UP_TO_SPACE, "Foo Bar", "http://foo.bar/x/y", f)

    n = "ID_GlobalGroups_Secondary"
    url = "http://foo.bar/x/y"
    add(n, "", "FooBot", url, t)
    add(n, _GLOBAL, "FooBot", url, f)
    add(n, _GLOBAL, "BarBot", url, t)
    add(n, _ONLY_SPECIFIC, "QuxBot", url, t)

    n = "ID_AllowDisallow_Value_CaseSensitive"
    add(n, "user-agent: FooBot\ndisallow: /x/\n", "FooBot", "http://foo.bar/x/y", f)
    add(n, "user-agent: FooBot\ndisallow: /X/\n", "FooBot", "http://foo.bar/x/y", t)

    n = "ID_LongestMatch"
    url = "http://foo.bar/x/page.html"
    add(n, "user-agent: FooBot\ndisallow: /x/page.html\nallow: /x/\n", "FooBot", url, f)
    body = "user-agent: FooBot\nallow: /x/page.html\ndisallow: /x/\n"
    add(n, body, "FooBot", url, t)
    add(n, body, "FooBot", "http://foo.bar/x/", f)
    # Equivalent disallow and allow patterns for the same user-agent: allow is used.
    add(n, "user-agent: FooBot\ndisallow: \nallow: \n", "FooBot", url, t)
    add(n, "user-agent: FooBot\ndisallow: /\nallow: /\n", "FooBot", url, t)
    body = "user-agent: FooBot\ndisallow: /x\nallow: /x/\n"
    add(n, body, "FooBot", "http://foo.bar/x", f)
    add(n, body, "FooBot", "http://foo.bar/x/", t)
    add(n, "user-agent: FooBot\ndisallow: /x/page.html\nallow: /x/page.html\n", "FooBot", url, t)
    # Longest match wins.
    body = "user-agent: FooBot\nallow: /page\ndisallow: /*.html\n"
    add(n, body, "FooBot", "http://foo.bar/page.html", f)
    add(n, body, "FooBot", "http://foo.bar/page", t)
    body = "user-agent: FooBot\nallow: /x/page.\ndisallow: /*.html\n"
    add(n, body, "FooBot", url, t)
    add(n, body, "FooBot", "http://foo.bar/x/y.html", f)
    # Most specific group for FooBot allows implicitly /x/page.
    body = "User-agent: *\nDisallow: /x/\nUser-agent: FooBot\nDisallow: /y/\n"
    add(n, body, "FooBot", "http://foo.bar/x/page", t)
    add(n, body, "FooBot", "http://foo.bar/y/page", f)

    n = "ID_Encoding"
    # /foo/bar?baz=http://foo.bar stays unencoded.
    body = "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar?qux=taz&baz=http://foo.bar?tar&par\n"
    add(n, body, "FooBot", "http://foo.bar/foo/bar?qux=taz&baz=http://foo.bar?tar&par", t)
    # 3 byte character: /foo/bar/ツ -> /foo/bar/%E3%83%84
    body = "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/ツ\n"
    add(n, body, "FooBot", "http://foo.bar/foo/bar/%E3%83%84", t)
    # The parser encodes the 3-byte character, but the URL is not %-encoded.
    add(n, body, "FooBot", "http://foo.bar/foo/bar/ツ", f)
    # Percent encoded 3 byte character: /foo/bar/%E3%83%84 -> /foo/bar/%E3%83%84
    body = "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%E3%83%84\n"
    add(n, body, "FooBot", "http://foo.bar/foo/bar/%E3%83%84", t)
    add(n, body, "FooBot", "http://foo.bar/foo/bar/ツ", f)
    # Percent encoded unreserved US-ASCII: /foo/bar/%62%61%7A -> NULL
    body = "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%62%61%7A\n"
    add(n, body, "FooBot", "http://foo.bar/foo/bar/baz", f)
    add(n, body, "FooBot", "http://foo.bar/foo/bar/%62%61%7A", t)

    n = "ID_SpecialCharacters"
    body = "User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n"
    add(n, body, "FooBot", "http://foo.bar/foo/bar/quz", f)
    add(n, body, "FooBot", "http://foo.bar/foo/quz", t)
    add(n, body, "FooBot", "http://foo.bar/foo//quz", t)
    add(n, body, "FooBot", "http://foo.bar/foo/bax/quz", t)
    body = "User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n"
    add(n, body, "FooBot", "http://foo.bar/foo/bar", f)
    add(n, body, "FooBot", "http://foo.bar/foo/bar/qux", t)
    add(n, body, "FooBot", "http://foo.bar/foo/bar/", t)
    add(n, body, "FooBot", "http://foo.bar/foo/bar/baz", t)
    body = "User-agent: FooBot\n# Disallow: /\nDisallow: /foo/quz#qux\nAllow: /\n"
    add(n, body, "FooBot", "http://foo.bar/foo/bar", t)
    add(n, body, "FooBot", "http://foo.bar/foo/quz", f)

    n = "GoogleOnly_IndexHTMLisDirectory"
    add(n, _INDEX_HTML, "foobot", "http://foo.com/allowed-slash/", t)
    add(n, _INDEX_HTML, "foobot", "http://foo.com/allowed-slash/index.htm", f)
    add(n, _INDEX_HTML, "foobot", "http://foo.com/allowed-slash/index.html", t)
    add(n, _INDEX_HTML, "foobot", "http://foo.com/anyother-url", f)

    n = "GoogleOnly_LineTooLong"
    add(n, _LONG_DISALLOW, "FooBot", "http://foo.bar/fux", t)
    add(n, _LONG_DISALLOW, "FooBot", f"http://foo.bar{_LONGLINE}/fux", f)
    add(n, _LONG_ALLOW, "FooBot", "http://foo.bar/", f)
    add(n, _LONG_ALLOW, "FooBot", f"http://foo.bar{_LONGLINE_A}/qux", t)
    add(n, _LONG_ALLOW, "FooBot", f"http://foo.bar{_LONGLINE_B}/fux", t)

    n = "GoogleOnly_DocumentationChecks"
    for body, bad_case in ((_FISH, "Fish.asp"), (_FISH_STAR, "Fish.bar")):
        add(n, body, "FooBot", "http://foo.bar/bar", f)
        for path in (
            "fish",
            "fish.html",
            "fish/salmon.html",
            "fishheads",
            "fishheads/yummy.html",
            "fish.html?id=anything",
        ):
            add(n, body, "FooBot", f"http://foo.bar/{path}", t)
        for path in (bad_case, "catfish", "?id=fish"):
            add(n, body, "FooBot", f"http://foo.bar/{path}", f)
    # "/fish/" does not equal "/fish"
    add(n, _FISH_SLASH, "FooBot", "http://foo.bar/bar", f)
    for path in ("fish/", "fish/salmon", "fish/?salmon", "fish/salmon.html", "fish/?id=anything"):
        add(n, _FISH_SLASH, "FooBot", f"http://foo.bar/{path}", t)
    for path in ("fish", "fish.html", "Fish/Salmon.html"):
        add(n, _FISH_SLASH, "FooBot", f"http://foo.bar/{path}", f)
    # "/*.php"
    add(n, _PHP, "FooBot", "http://foo.bar/bar", f)
    for path in (
        "filename.php",
        "folder/filename.php",
        "folder/filename.php?parameters",
        "/folder/any.php.file.html",
        "filename.php/",
        "index?f=filename.php/",
    ):
        add(n, _PHP, "FooBot", f"http://foo.bar/{path}", t)
    for path in ("php/", "index?php", "windows.PHP"):
        add(n, _PHP, "FooBot", f"http://foo.bar/{path}", f)
    # "/*.php$"
    add(n, _PHP_END, "FooBot", "http://foo.bar/bar", f)
    for path in ("filename.php", "folder/filename.php"):
        add(n, _PHP_END, "FooBot", f"http://foo.bar/{path}", t)
    for path in (
        "filename.php?parameters",
        "filename.php/",
        "filename.php5",
        "php/",
        "filename?php",
        "aaaphpaaa",
        "/windows.PHP",
    ):
        add(n, _PHP_END, "FooBot", f"http://foo.bar/{path}", f)
    # "/fish*.php"
    add(n, _FISH_PHP, "FooBot", "http://foo.bar/bar", f)
    add(n, _FISH_PHP, "FooBot", "http://foo.bar/fish.php", t)
    add(n, _FISH_PHP, "FooBot", "http://foo.bar/fishheads/catfish.php?parameters", t)
    add(n, _FISH_PHP, "FooBot", "http://foo.bar/Fish.PHP", f)
    # Section "Order of precedence for group-member records".
    add(n, "user-agent: FooBot\nallow: /p\ndisallow: /\n", "FooBot", "http://example.com/page", t)
    add(
        n,
        "user-agent: FooBot\nallow: /folder\ndisallow: /folder\n",
        "FooBot",
        "http://example.com/folder/page",
        t,
    )
    add(n, "user-agent: FooBot\nallow: /page\ndisallow: /*.htm\n", "FooBot", "http://example.com/page.htm", f)
    body = "user-agent: FooBot\nallow: /$\ndisallow: /\n"
    add(n, body, "FooBot", "http://example.com/", t)
    add(n, body, "FooBot", "http://example.com/page.html", f)

    return cases


GOOGLE_CASES = _google_cases()

# Number of EXPECT_TRUE/EXPECT_FALSE(IsUserAgentAllowed(...)) in robots_test.cc, per TEST, counted by hand
# from the source. A case dropped or added by mistake changes a number here.
GOOGLE_COUNTS = {
    "GoogleOnly_SystemTest": 4,
    "ID_LineSyntax_Line": 3,
    "ID_LineSyntax_Groups": 10,
    "ID_LineSyntax_Groups_OtherRules": 4,
    "ID_REPLineNamesCaseInsensitive": 6,
    "ID_UserAgentValueCaseInsensitive": 12,
    "GoogleOnly_AcceptUserAgentUpToFirstSpace": 2,
    "ID_GlobalGroups_Secondary": 4,
    "ID_AllowDisallow_Value_CaseSensitive": 2,
    "ID_LongestMatch": 14,
    "ID_Encoding": 7,
    "ID_SpecialCharacters": 10,
    "GoogleOnly_IndexHTMLisDirectory": 4,
    "GoogleOnly_LineTooLong": 5,
    "GoogleOnly_DocumentationChecks": 58,
}
GOOGLE_TOTAL = 145


# The parse-statistics tests of robots_test.cc (line endings, byte-order marks) turned into decisions. Their
# bodies give "foo" an Allow and "bar" a Disallow; each body below is Google's with "bar"'s Disallow as its
# last line, so "bar" is refused "/" only if every line was split where Google splits it.
_LINE_ENDING_BODIES = {
    "unix": "User-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\nDisallow: /\n",
    "dos": "User-Agent: foo\r\nAllow: /some/path\r\nUser-Agent: bar\r\n\r\n\r\nDisallow: /\r\n",
    "mac": "User-Agent: foo\rAllow: /some/path\rUser-Agent: bar\r\r\rDisallow: /\r",
    "no_final_newline": "User-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\nDisallow: /",
    "mixed": "User-Agent: foo\nAllow: /some/path\r\nUser-Agent: bar\n\r\n\nDisallow: /",
}

# ID_UTF8ByteOrderMarkIsSkipped, with "Allow: /AnyValue" turned into "Disallow: /AnyValue" so that the answer
# shows whether the line was read. The bodies are bytes in Google's test; a str holds them as a caller decoded
# them: with errors="surrogateescape" (the lossless way) or "replace", and the whole mark also as latin-1
# mojibake ("requests" decodes text/plain without a charset as ISO-8859-1). A lone "ï" is left alone: it may
# be a letter.
_BOM_REST = "User-Agent: foo\nDisallow: /AnyValue\n"


def _bom_cases() -> list[Case]:
    name = "derived:ID_UTF8ByteOrderMarkIsSkipped"
    url = "http://foo.bar/AnyValue"
    cases: list[Case] = []
    # A full or partial mark at the start is skipped: the group is read and refuses /AnyValue.
    for prefix in (b"\xef\xbb\xbf", b"\xef\xbb", b"\xef"):
        raw = prefix + _BOM_REST.encode()
        for errors in ("surrogateescape", "replace"):
            cases.append((raw.decode("utf-8", errors), "foo", url, False, f"{name}:{prefix.hex()}:{errors}"))
    whole = b"\xef\xbb\xbf" + _BOM_REST.encode()
    cases.append((whole.decode("latin-1"), "foo", url, False, f"{name}:efbbbf:latin-1"))
    # A broken mark makes the first line garbage; the Disallow then belongs to no group.
    broken = b"\xef\x11\xbf" + _BOM_REST.encode()
    for errors in ("surrogateescape", "replace"):
        cases.append((broken.decode("utf-8", errors), "foo", url, True, f"{name}:broken:{errors}"))
    cases.append((broken.decode("latin-1"), "foo", url, True, f"{name}:broken:latin-1"))
    # A mark in the middle of the file makes that line garbage.
    middle = "User-Agent: foo\n\ufeffDisallow: /AnyValue\n"
    cases.append((middle, "foo", url, True, f"{name}:middle"))
    return cases


def _derived_cases() -> list[Case]:
    cases: list[Case] = []
    for kind, body in _LINE_ENDING_BODIES.items():
        name = f"derived:ID_LinesNumbersAreCountedCorrectly:{kind}"
        cases.append((body, "bar", "http://foo.bar/", False, name))
        cases.append((body, "foo", "http://foo.bar/some/path", True, name))
        cases.append((body, "baz", "http://foo.bar/", True, name))
    cases.extend(_bom_cases())
    # ID_NonStandardLineExample_Sitemap: a Sitemap line anywhere neither ends nor opens a group.
    name = "derived:ID_NonStandardLineExample_Sitemap"
    for body in (
        "User-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\nSitemap: http://foo.bar/sitemap.xml\n",
        "Sitemap: http://foo.bar/sitemap.xml\nUser-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\n",
    ):
        cases.append((body + "Disallow: /\n", "bar", "http://foo.bar/", False, name))
        cases.append((body + "Disallow: /\n", "foo", "http://foo.bar/some/path", True, name))
    return cases


DERIVED_CASES = _derived_cases()


def _case_id(case: Case) -> str:
    _robots, agent, url, expected, name = case
    return f"{name}|{agent}|{url[:60]}|{'allow' if expected else 'disallow'}"


def test_google_suite_is_complete() -> None:
    counts: dict[str, int] = {}
    for *_, name in GOOGLE_CASES:
        counts[name] = counts.get(name, 0) + 1
    assert counts == GOOGLE_COUNTS
    assert len(GOOGLE_CASES) == sum(GOOGLE_COUNTS.values()) == GOOGLE_TOTAL


@pytest.mark.parametrize("case", GOOGLE_CASES, ids=_case_id)
def test_google_robots_test_cc(case: Case) -> None:
    robots_txt, user_agent, url, expected, _name = case
    assert is_allowed(robots_txt, user_agent, url) is expected


@pytest.mark.parametrize("case", DERIVED_CASES, ids=_case_id)
def test_google_parse_tests_as_decisions(case: Case) -> None:
    robots_txt, user_agent, url, expected, _name = case
    assert is_allowed(robots_txt, user_agent, url) is expected


# TestGetPathParamsQuery and TestMaybeEscapePattern of robots_test.cc, against the layer's equivalents.
GOOGLE_PATHS = [
    ("", "/"),
    ("http://www.example.com", "/"),
    ("http://www.example.com/", "/"),
    ("http://www.example.com/a", "/a"),
    ("http://www.example.com/a/", "/a/"),
    ("http://www.example.com/a/b?c=http://d.e/", "/a/b?c=http://d.e/"),
    ("http://www.example.com/a/b?c=d&e=f#fragment", "/a/b?c=d&e=f"),
    ("example.com", "/"),
    ("example.com/", "/"),
    ("example.com/a", "/a"),
    ("example.com/a/", "/a/"),
    ("example.com/a/b?c=d&e=f#fragment", "/a/b?c=d&e=f"),
    ("a", "/"),
    ("a/", "/"),
    ("/a", "/a"),
    ("a/b", "/b"),
    ("example.com?a", "/?a"),
    ("example.com/a;b#c", "/a;b"),
    ("//a/b/c", "/b/c"),
]
GOOGLE_ESCAPES = [
    ("http://www.example.com", "http://www.example.com"),
    ("/a/b/c", "/a/b/c"),
    ("á", "%C3%A1"),
    ("%aa", "%AA"),
]


@pytest.mark.parametrize(("url", "path"), GOOGLE_PATHS)
def test_google_get_path_params_query(url: str, path: str) -> None:
    assert _path_params_query(url) == path


@pytest.mark.parametrize(("pattern", "escaped"), GOOGLE_ESCAPES)
def test_google_maybe_escape_pattern(pattern: str, escaped: str) -> None:
    assert _escape_pattern(pattern) == escaped


# ------------------------------------------------------------------------------------------------------------
# RFC 9309 (https://www.rfc-editor.org/rfc/rfc9309), its examples as (robots_txt, user_agent, url, expected,
# name).
# ------------------------------------------------------------------------------------------------------------

_RFC_SIMPLE = """User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot

EOF
"""
_RFC_LONGEST = "User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n"
_RFC_MERGE = (
    "user-agent: ExampleBot\ndisallow: /foo\ndisallow: /bar\n\nuser-agent: ExampleBot\ndisallow: /baz\n"
)
_RFC_NO_MATCH = "user-agent: *\ndisallow: /foo\ndisallow: /bar\n\nuser-agent: BazBot\ndisallow: /baz\n"
_RFC_SPECIAL = (
    "user-agent: *\n"
    "disallow: /\n"
    "allow: /this/path/exactly$\n"
    "allow: /that/*/exactly # comment in line\n"
    "# comment on its own line\n"
)


def _rfc_cases() -> list[Case]:
    t, f = True, False
    site = "https://www.example.com"
    cases: list[Case] = []

    def add(name: str, robotstxt: str, agent: str, path: str, expected: bool) -> None:
        cases.append((robotstxt, agent, site + path, expected, name))

    n = "5.1 simple example, *"
    for agent in ("somebot", "ExampleBot"):
        add(n, _RFC_SIMPLE, agent, "/", t)
        add(n, _RFC_SIMPLE, agent, "/publications/", t)
        add(n, _RFC_SIMPLE, agent, "/publications/2024/report.html", t)
        add(n, _RFC_SIMPLE, agent, "/example/", f)
        add(n, _RFC_SIMPLE, agent, "/example/page.html", f)
        add(n, _RFC_SIMPLE, agent, "/images/logo.gif", f)
        add(n, _RFC_SIMPLE, agent, "/logo.gif", f)
        add(n, _RFC_SIMPLE, agent, "/images/logo.gif?size=2", t)  # "$": the URL must end in .gif
        add(n, _RFC_SIMPLE, agent, "/images/logo.gifx", t)
    # The most specific match wins: "/publications/" (14 octets) over "*.gif$" (6 octets).
    add(n, _RFC_SIMPLE, "somebot", "/publications/cover.gif", t)
    n = "5.1 simple example, foobot"
    for agent in ("foobot", "FooBot", "FOOBOT"):
        add(n, _RFC_SIMPLE, agent, "/example/page.html", t)
        add(n, _RFC_SIMPLE, agent, "/example/allowed.gif", t)
        add(n, _RFC_SIMPLE, agent, "/example/other.html", f)
        add(n, _RFC_SIMPLE, agent, "/", f)
        add(n, _RFC_SIMPLE, agent, "/publications/", f)  # the '*' group does not apply to foobot
    n = "5.1 simple example, barbot and bazbot"
    for agent in ("barbot", "bazbot"):
        add(n, _RFC_SIMPLE, agent, "/example/page.html", f)
        add(n, _RFC_SIMPLE, agent, "/example/page.html?x=1", f)
        add(n, _RFC_SIMPLE, agent, "/example/other.html", t)
        add(n, _RFC_SIMPLE, agent, "/images/logo.gif", t)
        add(n, _RFC_SIMPLE, agent, "/", t)
    n = "5.1 simple example, quxbot (empty group)"
    for path in ("/", "/example/page.html", "/images/logo.gif", "/example/"):
        add(n, _RFC_SIMPLE, "quxbot", path, t)
    n = "5.2 longest match"
    add(n, _RFC_LONGEST, "foobot", "/example/page/disallowed.gif", f)
    add(n, _RFC_LONGEST, "foobot", "/example/page/", t)
    add(n, _RFC_LONGEST, "foobot", "/example/page/other.gif", t)
    # The RFC's prose names "/example/page/disallow.gif", which the longer rule does not match.
    add(n, _RFC_LONGEST, "foobot", "/example/page/disallow.gif", t)
    n = "2.2.1 groups for the same product token are merged"
    for path, expected in (("/foo", f), ("/bar", f), ("/baz", f), ("/qux", t)):
        add(n, _RFC_MERGE, "ExampleBot", path, expected)
    n = "2.2.1 no matching group: the '*' group applies"
    for path, expected in (("/foo", f), ("/bar", f), ("/baz", t)):
        add(n, _RFC_NO_MATCH, "ExampleBot", path, expected)
    add(n, _RFC_NO_MATCH, "BazBot", "/baz", f)
    add(n, _RFC_NO_MATCH, "BazBot", "/foo", t)
    n = "2.2.1 no group applies and no '*' group: everything allowed"
    add(n, "user-agent: BazBot\ndisallow: /\n", "ExampleBot", "/anything", t)
    add(n, "", "ExampleBot", "/anything", t)
    n = "2.2.2 /robots.txt is implicitly allowed"
    everything_off = "user-agent: *\ndisallow: /\n"
    add(n, everything_off, "ExampleBot", "/robots.txt", t)
    add(n, everything_off, "ExampleBot", "/robots.txt?x=1", t)
    add(n, everything_off, "ExampleBot", "/robots.txt.bak", f)
    add(n, everything_off, "ExampleBot", "/dir/robots.txt", f)
    # 2.2.2, "Examples of matching percent-encoded URI components": rows 1, 3 and 4. Row 5 (/%62%61%7A
    # matching /baz) contradicts Google's ID_Encoding, which the issue makes binding, so GOOGLE_CASES asserts
    # the opposite. Row 2 (a query "https://foo.bar" matching "https%3A%2F%2Ffoo.bar") is not followed either:
    # like Google, the layer compares reserved characters as written.
    n = "2.2.2 percent-encoded URI components"
    for rule, path in (
        ("/foo/bar?baz=quz", "/foo/bar?baz=quz"),
        ("/foo/bar/ツ", "/foo/bar/%E3%83%84"),
        ("/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84"),
    ):
        add(n, f"user-agent: *\ndisallow: {rule}\n", "ExampleBot", path, f)
        add(n, f"user-agent: *\ndisallow: {rule}\n", "ExampleBot", "/foo/other", t)
    n = "2.2.3 special characters"
    add(n, _RFC_SPECIAL, "ExampleBot", "/this/path/exactly", t)
    add(n, _RFC_SPECIAL, "ExampleBot", "/this/path/exactly/not", f)
    add(n, _RFC_SPECIAL, "ExampleBot", "/that/is/exactly", t)
    add(n, _RFC_SPECIAL, "ExampleBot", "/that/is/not/quite/exactly/so", t)
    add(n, _RFC_SPECIAL, "ExampleBot", "/that/exactly", f)
    # "If crawlers match special characters verbatim in the URI, crawlers SHOULD use "%" encoding" (Google
    # does not; the layer does).
    n = "2.2.3 percent-encoded special characters"
    add(
        n,
        "user-agent: *\ndisallow: /path/file-with-a-%2A.html\n",
        "ExampleBot",
        "/path/file-with-a-*.html",
        f,
    )
    add(
        n,
        "user-agent: *\ndisallow: /path/file-with-a-%2A.html\n",
        "ExampleBot",
        "/path/file-with-a-b.html",
        t,
    )
    add(n, "user-agent: *\ndisallow: /path/foo-%24\n", "ExampleBot", "/path/foo-$", f)
    add(n, "user-agent: *\ndisallow: /path/foo-%24\n", "ExampleBot", "/path/foo-", t)
    return cases


RFC_CASES = _rfc_cases()


@pytest.mark.parametrize("case", RFC_CASES, ids=_case_id)
def test_rfc9309_examples(case: Case) -> None:
    robots_txt, user_agent, url, expected, _name = case
    assert is_allowed(robots_txt, user_agent, url) is expected


# ------------------------------------------------------------------------------------------------------------
# Kiroku's own cases.
# ------------------------------------------------------------------------------------------------------------

_GPTBOT_OFF = "User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
_AI_BOTS_OFF = "User-agent: GPTBot\nUser-agent: CCBot\nUser-agent: Google-Extended\nDisallow: /\n"


def _kiroku_cases() -> list[Case]:
    t, f = True, False
    cases: list[Case] = []

    def add(name: str, robotstxt: str, agent: str, url: str, expected: bool) -> None:
        cases.append((robotstxt, agent, url, expected, name))

    n = "empty robots.txt allows everything"
    for body in (
        "",
        "\n",
        "\r\n\r\n",
        "# nothing here\n",
        "\ufeff",
        "Sitemap: https://example.com/sitemap.xml\n",
    ):
        for url in ("https://example.com/", "https://example.com/private/x?y=1", ""):
            add(n, body, "GPTBot", url, t)
    n = "rules before any user-agent line are ignored"
    add(n, "Disallow: /\n", "GPTBot", "https://example.com/x", t)

    n = "GPTBot disallowed, others not"
    for agent in ("GPTBot", "gptbot", "GPTBOT", "GPTBot/1.2", "  GPTBot\t"):
        add(n, _GPTBOT_OFF, agent, "https://example.com/", f)
        add(n, _GPTBOT_OFF, agent, "https://example.com/articles/1?page=2", f)
    for agent in ("Googlebot", "CCBot", "ChatGPT-User", "GPTBot-Image", "GPT", "Bot"):
        add(n, _GPTBOT_OFF, agent, "https://example.com/articles/1", t)
    # Only a product token names a group (Google's semantics): a whole User-Agent header gets the '*' group.
    add(
        n,
        _GPTBOT_OFF,
        "Mozilla/5.0 (compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        "https://example.com/",
        t,
    )
    n = "several AI crawlers in one group"
    for agent in ("GPTBot", "CCBot", "Google-Extended", "google-extended"):
        add(n, _AI_BOTS_OFF, agent, "https://example.com/a", f)
    add(n, _AI_BOTS_OFF, "Googlebot", "https://example.com/a", t)
    n = "an invalid user-agent value names nobody"
    add(n, "User-agent: ロボット\nDisallow: /\n", "robot", "https://example.com/", t)
    add(
        n, "User-agent: 123bot\nDisallow: /\nUser-agent: *\nDisallow: /x\n", "bot", "https://example.com/a", t
    )
    add(
        n, "User-agent: foo\nDisallow: /a\nUser-agent: 123\nDisallow: /b\n", "foo", "https://example.com/b", t
    )
    add(n, "User-agent: foo\nUser-agent: 123\nDisallow: /b\n", "foo", "https://example.com/b", f)

    n = "non-ASCII paths"
    kiji = "User-agent: *\nDisallow: /記事/\n"
    add(n, kiji, "GPTBot", "https://example.jp/%E8%A8%98%E4%BA%8B/1", f)
    add(n, kiji, "GPTBot", "https://example.jp/記事/1", f)  # not percent-encoded: fails closed
    add(n, kiji, "GPTBot", "https://example.jp/%e8%a8%98%e4%ba%8b/1", f)  # lowercase escapes: fails closed
    add(n, kiji, "GPTBot", "https://example.jp/ニュース/1", t)
    add(n, kiji, "GPTBot", "https://example.jp/%E3%83%8B/1", t)
    kiji_encoded = "User-agent: *\nDisallow: /%e8%a8%98%e4%ba%8b/\n"
    add(n, kiji_encoded, "GPTBot", "https://example.jp/記事/1", f)
    add(n, kiji_encoded, "GPTBot", "https://example.jp/%E8%A8%98%E4%BA%8B/1", f)
    # An allow rule for a non-ASCII path only allows the percent-encoded URL (Google's ID_Encoding).
    kiji_only = "User-agent: *\nDisallow: /\nAllow: /記事/\n"
    add(n, kiji_only, "GPTBot", "https://example.jp/%E8%A8%98%E4%BA%8B/1", t)
    add(n, kiji_only, "GPTBot", "https://example.jp/記事/1", f)
    # A robots.txt that is not UTF-8, decoded with errors="surrogateescape": its bytes are matched as bytes.
    latin1 = b"User-agent: *\nDisallow: /caf\xe9\n".decode("utf-8", "surrogateescape")
    add(n, latin1, "GPTBot", "https://example.com/caf%E9", f)
    add(n, latin1, "GPTBot", "https://example.com/caf%C3%A9", t)
    # Non-ASCII in the query string; a fragment never takes part.
    add(
        n,
        "User-agent: *\nDisallow: /search?q=東京\n",
        "GPTBot",
        "https://example.jp/search?q=%E6%9D%B1%E4%BA%AC",
        f,
    )
    add(n, "User-agent: *\nDisallow: /a$\n", "GPTBot", "https://example.jp/a#記事", f)

    n = "characters robotspy would not compare literally"
    add(n, "User-agent: *\nDisallow: //\n", "GPTBot", "https://example.com//x", f)
    add(n, "User-agent: *\nDisallow: //\n", "GPTBot", "https://example.com/x//y", t)
    add(n, "User-agent: *\nDisallow: /private\n", "GPTBot", "https://example.com//private", t)
    add(n, "User-agent: *\nDisallow: /*//\n", "GPTBot", "https://example.com/x//y", f)
    add(n, "User-agent: *\nDisallow: /*?$\n", "GPTBot", "https://example.com/page?", f)
    add(n, "User-agent: *\nDisallow: /*?$\n", "GPTBot", "https://example.com/pagex", t)
    add(n, "User-agent: *\nDisallow: /*[ab]\n", "GPTBot", "https://example.com/x[ab]", f)
    add(n, "User-agent: *\nDisallow: /*[ab]\n", "GPTBot", "https://example.com/xa", t)
    add(n, "User-agent: *\nDisallow: /a$\n", "GPTBot", "https://example.com/a", f)
    add(n, "User-agent: *\nDisallow: /a$\n", "GPTBot", "https://example.com/a$", t)
    add(n, "User-agent: *\nDisallow: /a$b\n", "GPTBot", "https://example.com/a$b", f)
    add(n, "User-agent: *\nDisallow: /my docs/\n", "GPTBot", "https://example.com/my docs/1", f)
    add(n, "User-agent: *\nDisallow: /my docs/\n", "GPTBot", "https://example.com/my/docs", t)
    redirect = "User-agent: *\nDisallow: /go?to=http://\n"
    add(n, redirect, "GPTBot", "https://example.com/go?to=http://evil.example", f)
    add(n, redirect, "GPTBot", "https://example.com/go?to=http:/evil.example", t)
    n = "Google's misspellings of keys"
    add(n, "useragent: *\ndissallow: /\n", "GPTBot", "https://example.com/a", f)
    add(n, "User agent: GPTBot\nDisalow: /\n", "GPTBot", "https://example.com/a", f)
    return cases


KIROKU_CASES = _kiroku_cases()


@pytest.mark.parametrize("case", KIROKU_CASES, ids=_case_id)
def test_kiroku_cases(case: Case) -> None:
    robots_txt, user_agent, url, expected, _name = case
    assert is_allowed(robots_txt, user_agent, url) is expected


def test_decide_names_the_group_and_the_line() -> None:
    decision = decide(_GPTBOT_OFF, "GPTBot/1.2", "https://example.com/articles/1")
    assert decision == RobotsDecision(False, "gptbot", "Disallow: /", decision.reason, 2)
    assert "line 2" in decision.reason
    other = decide(_GPTBOT_OFF, "CCBot", "https://example.com/articles/1")
    assert (other.allowed, other.agent, other.matched_line, other.line_number) == (True, "*", "Allow: /", 5)
    assert "line 5" in other.reason


def test_decide_when_nothing_matches() -> None:
    assert decide("", "GPTBot", "https://example.com/") == RobotsDecision(
        True, "", None, "the robots.txt has no user-agent groups: allowed"
    )
    no_rule = decide("User-agent: GPTBot\nDisallow: /private/\n", "GPTBot", "https://example.com/public")
    assert (no_rule.allowed, no_rule.agent, no_rule.matched_line) == (True, "gptbot", None)
    nobody = decide("User-agent: CCBot\nDisallow: /\n", "GPTBot", "https://example.com/")
    assert (nobody.allowed, nobody.agent, nobody.matched_line) == (True, "", None)
    robots = decide("User-agent: *\nDisallow: /\n", "GPTBot", "https://example.com/robots.txt")
    assert (robots.allowed, robots.matched_line) == (True, None)


def test_decide_reports_index_html_and_comments() -> None:
    decision = decide(_INDEX_HTML, "foobot", "http://foo.com/allowed-slash/")
    assert (decision.allowed, decision.matched_line) == (True, "Allow: /allowed-slash/index.html")
    assert "index.html" in decision.reason
    commented = decide("User-agent: *\nDisallow: /a # keep out\n", "x", "https://example.com/a")
    assert commented.matched_line == "Disallow: /a # keep out"


def test_decide_fails_closed_on_unencoded_urls() -> None:
    decision = decide("User-agent: *\nDisallow: /記事/\n", "GPTBot", "https://example.jp/記事/1")
    assert (decision.allowed, decision.agent, decision.matched_line) == (False, "*", "Disallow: /記事/")
    assert "percent-encoded" in decision.reason


def test_robots_decision_is_frozen() -> None:
    decision = decide("", "GPTBot", "https://example.com/")
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.allowed = False  # type: ignore[misc]


def test_public_names() -> None:
    assert {"RobotsDecision", "decide", "is_allowed"} <= set(kiroku.optout.__all__)
    assert kiroku.optout.is_allowed is is_allowed


# robotspy gives the agents of one group a shared rule list when it merges groups, so that, depending on
# PYTHONHASHSEED, "b" here also got the "/x" of the first "a" group. The layer merges groups itself.
_SHARED_GROUP = "user-agent: a\ndisallow: /x\nuser-agent: a\nuser-agent: b\ndisallow: /y\n"
_SHARED_GROUP_CHECK = (
    "from kiroku.optout import is_allowed as f\n"
    f"t = {_SHARED_GROUP!r}\n"
    "print(f(t, 'b', '/x'), f(t, 'b', '/y'), f(t, 'a', '/x'))\n"
)


def test_group_merging_does_not_depend_on_hash_seed() -> None:
    for seed in ("0", "1", "2", "5"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", _SHARED_GROUP_CHECK], env=env, capture_output=True, text=True, check=True
        ).stdout
        assert out.split() == ["True", "False", "False"], seed


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, None),
        (203, None),
        (299, None),
        (400, True),
        (401, True),
        (403, True),
        (404, True),
        (410, True),
        (429, True),
        (499, True),
        (500, False),
        (502, False),
        (503, False),
        (599, False),
        (0, False),  # no response: DNS failure, refused connection, timeout
        (-1, False),
        (600, False),
        (100, False),
        (301, False),
        (304, False),
    ],
)
def test_allowed_for_status(status: int, expected: bool | None) -> None:
    assert allowed_for_status(status) is expected


def test_parse_cache_is_bounded() -> None:
    for i in range(1100):
        is_allowed(f"User-agent: *\nDisallow: /{i}\n", "GPTBot", f"https://example.com/{i}")
    info = _parse.cache_info()
    assert info.maxsize == 1024
    assert info.currsize <= 1024


# Any text at all: surrogates (as errors="surrogateescape" leaves them), NUL, lone CR, U+FEFF...
# (st.characters() leaves surrogates out whatever it is told to exclude, so they are asked for separately.)
_ANY_TEXT = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=300)
# Text made of the pieces that reach the parser's corners.
_ROBOTS_PIECES = st.sampled_from(
    [
        "User-agent:",
        "user-agent ",
        "useragent:",
        "Allow:",
        "Disallow:",
        "disallow ",
        "Sitemap:",
        " ",
        "\t",
        "\n",
        "\r",
        "\r\n",
        "\x00",
        "\ufeff",
        "\udcef",
        "#",
        "*",
        "$",
        "/",
        "//",
        "?",
        "[",
        "%",
        "%e3",
        "%2F",
        "http://",
        "index.html",
        "ツ",
        "GPTBot",
        "foo bar",
        "a",
    ]
)
_ROBOTS_LIKE = st.lists(_ROBOTS_PIECES, max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    robots_txt=st.one_of(_ANY_TEXT, _ROBOTS_LIKE),
    user_agent=_ANY_TEXT,
    url=st.one_of(_ANY_TEXT, _ROBOTS_LIKE),
)
def test_is_allowed_never_raises(robots_txt: str, user_agent: str, url: str) -> None:
    answer = is_allowed(robots_txt, user_agent, url)
    assert isinstance(answer, bool)
    decision = decide(robots_txt, user_agent, url)
    assert decision.allowed is answer
    assert isinstance(decision.reason, str) and decision.reason
    if "user" not in robots_txt.lower():
        assert answer is True  # no user-agent line, no group, nothing disallowed
