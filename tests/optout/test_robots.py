"""Tests for ``kiroku.optout.robots``: Google's reference suite, RFC 9309's examples, and kiroku's own cases.

The first part is a port, as data, of every allow/disallow assertion in google/robotstxt's ``robots_test.cc``
(https://github.com/google/robotstxt/blob/master/robots_test.cc, commit c8ac4b1d93183ddcab30d09415356bf52550c6a5),
Copyright 2019 Google LLC, licensed under the Apache License, Version 2.0
(https://www.apache.org/licenses/LICENSE-2.0). The robots.txt bodies, user agents, URLs and expected answers
are Google's; the test names are the ``TEST(RobotsUnittest, <name>)`` they come from. Kiroku is Apache-2.0 too.

Left out of that port, because they are not allow/disallow decisions:

* ``ID_VerifyValidUserAgentsToObey`` and the first line of ``GoogleOnly_AcceptUserAgentUpToFirstSpace`` test
  ``RobotsMatcher::IsValidUserAgentToObey``, a validator of the caller's product token; ``is_allowed`` answers
  for any user agent instead (see ``_normalise_agent`` in the module under test).
* ``ID_LinesNumbersAreCountedCorrectly``, ``ID_UTF8ByteOrderMarkIsSkipped`` and
  ``ID_NonStandardLineExample_Sitemap`` count parsed directives and read the sitemap through a
  ``RobotsParseHandler``; there is no such callback here. Their robots.txt bodies are kept, though: ``DERIVED_CASES``
  below turns each line-ending and byte-order-mark body into allow/disallow decisions that only come out right when
  the lines are split and the mark skipped as Google's parser does.
* ``TestGetPathParamsQuery`` and ``TestMaybeEscapePattern`` unit-test Google-internal helpers (URL to path, pattern
  escaping); their behaviour is covered through ``is_allowed`` by ``ID_Encoding`` and ``GoogleOnly_SystemTest``.
"""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiroku.optout import RobotsDecision, decide, is_allowed
from kiroku.optout.robots import allowed_for_status

# (robots_txt, user_agent, url, expected, test_name)
Case = tuple[str, str, str, bool, str]

# ---------------------------------------------------------------------------------------------------------------
# Port of google/robotstxt robots_test.cc (Apache-2.0, see the module docstring).
# ---------------------------------------------------------------------------------------------------------------

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

# Number of EXPECT_TRUE/EXPECT_FALSE(IsUserAgentAllowed(...)) in robots_test.cc, per TEST, counted by hand from the
# source. A case dropped or added by mistake changes a number here.
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


# The parse-statistics tests of robots_test.cc (line endings, byte-order marks) turned into decisions. Their bodies
# give "foo" an Allow and "bar" a Disallow; each body below is Google's with "bar"'s Disallow as its last line, so
# "bar" is refused "/" only if every line was split where Google splits it.
_LINE_ENDING_BODIES = {
    "unix": "User-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\nDisallow: /\n",
    "dos": "User-Agent: foo\r\nAllow: /some/path\r\nUser-Agent: bar\r\n\r\n\r\nDisallow: /\r\n",
    "mac": "User-Agent: foo\rAllow: /some/path\rUser-Agent: bar\r\r\rDisallow: /\r",
    "no_final_newline": "User-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\nDisallow: /",
    "mixed": "User-Agent: foo\nAllow: /some/path\r\nUser-Agent: bar\n\r\n\nDisallow: /",
}

# ID_UTF8ByteOrderMarkIsSkipped, with "Allow: /AnyValue" turned into "Disallow: /AnyValue" so that the answer
# shows whether the line was read. The bodies are bytes in Google's test; a str holds them as decoded by a
# caller: a whole mark as U+FEFF, the broken ones as decoded with errors="surrogateescape" (the only lossless way),
# "replace" or latin-1.
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
        cases.append((raw.decode("latin-1"), "foo", url, False, f"{name}:{prefix.hex()}:latin-1"))
    # A broken mark makes the first line garbage; the Disallow then belongs to no group.
    broken = b"\xef\x11\xbf" + _BOM_REST.encode()
    cases.append(
        (broken.decode("utf-8", "surrogateescape"), "foo", url, True, f"{name}:broken:surrogateescape")
    )
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
    robots, agent, url, expected, name = case
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
