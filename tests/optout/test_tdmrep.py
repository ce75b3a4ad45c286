"""TDMRep: /.well-known/tdmrep.json rules, location matching, and precedence between file, header and meta tag.

The rules and URLs in the first tests are the examples of the W3C TDMRep Community Group final report
(https://www.w3.org/community/reports/tdmrep/CG-FINAL-tdmrep-20240510/).
"""

from __future__ import annotations

import json

import pytest

from kiroku.optout.tdmrep import TdmRepError, TdmRepFile, header_value, meta_value, reservation

REPORT_EXAMPLE = json.dumps(
    [
        {"location": "/directory-a/", "tdm-reservation": 1},
        {
            "location": "/directory-b/html/",
            "tdm-reservation": 1,
            "tdm-policy": "https://provider.com/policies/policy.json",
        },
        {"location": "/directory-b/images/*.jpg", "tdm-reservation": 0},
    ]
)


@pytest.mark.parametrize(
    ("url", "value"),
    [
        ("https://provider.com/directory-a/report.pdf", 1),
        ("https://provider.com/directory-a/", 1),
        ("https://provider.com/directory-b/html/page.html", 1),
        ("https://provider.com/directory-b/images/photo.jpg", 0),
        ("https://provider.com/directory-b/images/2024/photo.jpg?size=large", 0),
        ("https://provider.com/directory-b/images/photo.png", None),
        ("https://provider.com/directory-a", None),  # the location is a prefix of the path, not the reverse
        ("https://provider.com/", None),
    ],
)
def test_the_reports_example_rules(url: str, value: int | None) -> None:
    assert TdmRepFile.parse(REPORT_EXAMPLE).value_for(url) == value


def test_a_rule_keeps_its_policy() -> None:
    rule = TdmRepFile.parse(REPORT_EXAMPLE).rule_for("https://provider.com/directory-b/html/a.html")
    assert rule is not None and rule.policy == "https://provider.com/policies/policy.json"


def test_the_whole_site_reserved() -> None:
    file = TdmRepFile.parse('[{"location": "/", "tdm-reservation": 1}]')
    assert file.value_for("https://example.com/") == file.value_for("https://example.com/any/page?q=1") == 1


def test_the_first_matching_rule_applies_not_the_longest() -> None:
    file = TdmRepFile.parse(
        '[{"location": "/news/", "tdm-reservation": 0}, {"location": "/", "tdm-reservation": 1},'
        ' {"location": "/news/archive/", "tdm-reservation": 1}]'
    )
    assert file.value_for("https://example.org/news/archive/2020.html") == 0
    assert file.value_for("https://example.org/about") == 1


@pytest.mark.parametrize(
    ("location", "url", "matches"),
    [
        ("/exact$", "https://e.org/exact", True),
        ("/exact$", "https://e.org/exact/more", False),
        ("/exact$", "https://e.org/exact?x=1", False),
        ("/*.pdf$", "https://e.org/papers/a.pdf", True),
        ("/*.pdf$", "https://e.org/papers/a.pdf.html", False),
        ("/this/*/then", "https://e.org/this/a/b/then/more", True),
        ("/Docs/", "https://e.org/docs/page", False),  # case-sensitive
        ("/%7Euser/", "https://e.org/~user/page", True),  # escapes of unreserved characters are decoded
        ("/~user/", "https://e.org/%7euser/page", True),
        ("/a%2Fb", "https://e.org/a/b", False),  # ... but not of reserved ones
        ("/caf%C3%A9/", "https://e.org/café/menu", True),  # non-ASCII compares as its UTF-8 escapes
        ("/café/", "https://e.org/caf%c3%a9/menu", True),
        ("/path/foo-%24", "https://provider.com/path/foo-$", True),  # the report's example
        ("/path/foo-$", "https://provider.com/path/foo-", True),  # a final $ anchors
        ("/star%2A", "https://e.org/star*", True),
        ("/", "https://e.org", True),
        ("/page", "https://e.org/page#section", True),
    ],
)
def test_location_matching(location: str, url: str, matches: bool) -> None:
    file = TdmRepFile.parse(json.dumps([{"location": location, "tdm-reservation": 1}]))
    assert (file.value_for(url) == 1) is matches


@pytest.mark.parametrize("value", [2, -1, "1", True, None, 1.5])
def test_a_reservation_other_than_0_or_1_is_unset_and_still_stops_the_search(value: object) -> None:
    file = TdmRepFile.parse(
        json.dumps([{"location": "/a/", "tdm-reservation": value}, {"location": "/", "tdm-reservation": 1}])
    )
    assert file.value_for("https://e.org/a/page") is None
    assert file.value_for("https://e.org/b/page") == 1


def test_a_byte_order_mark_is_allowed() -> None:
    body = "\ufeff" + '[{"location": "/", "tdm-reservation": 1}]'
    assert TdmRepFile.parse(body.encode()).value_for("https://e.org/x") == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<!doctype html><title>Not Found</title>", "not JSON"),
        (b'{"location": "/", "tdm-reservation": 1}', "not a JSON array of rules but a dict"),
        (b'["/"]', "rule 1 is not a JSON object"),
        (
            b'[{"location": "/", "tdm-reservation": 1}, {"tdm-reservation": 1}]',
            "rule 2 has no string 'location'",
        ),
        (b'[{"location": "/"}]', "rule 1 has no 'tdm-reservation'"),
        (b"\xff\xfe[]", "not UTF-8"),
    ],
)
def test_a_malformed_file_says_why(body: bytes, message: str) -> None:
    with pytest.raises(TdmRepError, match=message):
        TdmRepFile.parse(body)


@pytest.mark.parametrize(
    ("headers", "value"),
    [
        ([("tdm-reservation", "1")], 1),
        ([("TDM-Reservation", " 0 ")], 0),
        ([("tdm-reservation", "yes")], None),
        ([("Content-Type", "text/html")], None),
        ([("tdm-reservation", "0"), ("tdm-reservation", "1")], 1),
    ],
)
def test_header_value(headers: list[tuple[str, str]], value: int | None) -> None:
    assert header_value(headers) == value


def test_meta_value() -> None:
    assert meta_value([("tdm-reservation", "1"), ("tdm-policy", "https://p.example/policy")]) == 1
    assert meta_value([("tdm-reservation", "0")]) == 0
    assert meta_value([("robots", "noai")]) is None


@pytest.mark.parametrize(
    ("file", "header", "meta", "result"),
    [
        (None, None, None, None),
        (1, None, None, 1),
        (1, 0, None, 0),  # the header supersedes the file
        (0, 1, None, 1),
        (1, 1, 0, 0),  # the meta tag supersedes both
        (0, 0, 1, 1),
        (None, 1, None, 1),
        (None, None, 1, 1),
    ],
)
def test_processing_priority(
    file: int | None, header: int | None, meta: int | None, result: int | None
) -> None:
    assert reservation(file, header, meta) == result
