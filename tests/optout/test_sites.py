"""Captured robots.txt and tdmrep.json by origin and capture time, and one verdict from all of a page's signals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kiroku.optout import OptoutEvaluator, OptoutPolicy, SiteSignals, crawler_token
from kiroku.optout.sites import origin_of, site_file_of

AGENTS = ("GPTBot", "CCBot")
NEWS_ROBOTS = b"""# robots.txt for news.example.jp
User-agent: GPTBot
Disallow: /

User-agent: CCBot
Disallow: /articles/

User-agent: *
Disallow: /search
Allow: /

Sitemap: https://news.example.jp/sitemap.xml
"""


def at(day: int) -> datetime:
    return datetime(2026, 3, day, 12, tzinfo=UTC)


def test_each_agent_is_decided_by_its_own_group_or_the_star_group() -> None:
    site = SiteSignals()
    site.add_robots("https://news.example.jp/robots.txt", at(1), 200, NEWS_ROBOTS)
    assert site.robots_reasons("https://news.example.jp/articles/1", at(2), AGENTS) == [
        "robots:GPTBot",
        "robots:CCBot",
    ]
    assert site.robots_reasons("https://news.example.jp/about", at(2), AGENTS) == ["robots:GPTBot"]
    assert site.robots_reasons("https://news.example.jp/search?q=tea", at(2), ("ClaudeBot",)) == [
        "robots:ClaudeBot"
    ]
    assert site.robots_reasons("https://news.example.jp/about", at(2), ("ClaudeBot",)) == []


def test_an_origin_without_a_captured_robots_txt_gets_no_reason() -> None:
    site = SiteSignals()
    site.add_robots("https://news.example.jp/robots.txt", at(1), 200, NEWS_ROBOTS)
    assert site.robots_reasons("https://blog.example.jp/articles/1", at(2), AGENTS) == []
    assert site.robots_reasons("http://news.example.jp/articles/1", at(2), AGENTS) == []  # another scheme
    assert site.robots_reasons("https://news.example.jp:8443/articles/1", at(2), AGENTS) == []  # another port
    assert site.robots_reasons("https://NEWS.example.jp:443/articles/1", at(2), AGENTS) != []  # the same


@pytest.mark.parametrize(
    ("status", "reasons"),
    [
        (404, []),  # unavailable: everything allowed (RFC 9309 2.3.1.3)
        (403, []),
        (500, ["robots:GPTBot", "robots:CCBot"]),  # unreachable: everything disallowed (2.3.1.4)
        (503, ["robots:GPTBot", "robots:CCBot"]),
    ],
)
def test_a_robots_txt_that_was_not_fetched_with_2xx(status: int, reasons: list[str]) -> None:
    site = SiteSignals()
    site.add_robots("https://shop.example.com/robots.txt", at(1), status, b"<html>error page</html>")
    assert site.robots_reasons("https://shop.example.com/item/7", at(2), AGENTS) == reasons


def test_the_capture_that_applies_is_the_latest_not_after_the_fetch_else_the_earliest() -> None:
    site = SiteSignals()
    # added out of order: day 10 disallows GPTBot, day 3 allows everything
    site.add_robots("https://e.org/robots.txt", at(10), 200, b"User-agent: GPTBot\nDisallow: /\n")
    site.add_robots("https://e.org/robots.txt", at(3), 200, b"User-agent: *\nAllow: /\n")
    assert site.robots_reasons("https://e.org/p", at(1), AGENTS) == []  # before every capture: the earliest
    assert site.robots_reasons("https://e.org/p", at(3), AGENTS) == []
    assert site.robots_reasons("https://e.org/p", at(9), AGENTS) == []
    assert site.robots_reasons("https://e.org/p", at(10), AGENTS) == ["robots:GPTBot"]
    assert site.robots_reasons("https://e.org/p", at(20), AGENTS) == ["robots:GPTBot"]


def test_a_base_set_pools_its_captures_with_the_files_own() -> None:
    base = SiteSignals()
    base.add_robots("https://e.org/robots.txt", at(3), 200, b"User-agent: GPTBot\nDisallow: /\n")
    site = SiteSignals(base=base)
    site.add_robots("https://e.org/robots.txt", at(5), 200, b"User-agent: *\nAllow: /\n")
    site.add_robots("https://f.org/robots.txt", at(5), 500, b"")
    assert site.robots_reasons("https://e.org/p", at(4), AGENTS) == ["robots:GPTBot"]
    assert site.robots_reasons("https://e.org/p", at(6), AGENTS) == []
    assert (site.robots_origins, base.robots_origins) == (2, 1)


def test_a_redirect_is_followed_to_the_captured_robots_txt() -> None:
    site = SiteSignals()
    site.add_robots("http://e.org/robots.txt", at(1), 301, b"", "https://e.org/robots.txt")
    site.add_robots("https://e.org/robots.txt", at(1), 200, b"User-agent: GPTBot\nDisallow: /private/\n")
    assert site.robots_reasons("http://e.org/private/a", at(2), AGENTS) == ["robots:GPTBot"]
    assert site.robots_reasons("http://e.org/public/a", at(2), AGENTS) == []


def test_a_redirect_to_a_robots_txt_not_captured_disallows_everything() -> None:
    site = SiteSignals()
    site.add_robots("http://e.org/robots.txt", at(1), 302, b"", "/robots-new.txt")
    assert site.robots_reasons("http://e.org/a", at(2), AGENTS) == ["robots:GPTBot", "robots:CCBot"]


def test_more_than_five_redirects_make_the_robots_txt_unavailable() -> None:
    site = SiteSignals()
    site.add_robots("http://a.org/robots.txt", at(1), 301, b"", "http://b.org/robots.txt")
    site.add_robots("http://b.org/robots.txt", at(1), 301, b"", "http://a.org/robots.txt")
    assert site.robots_reasons("http://a.org/page", at(2), AGENTS) == []


def test_tdmrep_json_by_capture_time_and_a_malformed_one_read_as_unset_is_ignored_and_noted() -> None:
    site = SiteSignals(unreadable_tdmrep="unset")
    site.add_tdmrep(
        "https://e.org/.well-known/tdmrep.json", at(1), 200, b'[{"location": "/", "tdm-reservation": 1}]'
    )
    site.add_tdmrep("https://e.org/.well-known/tdmrep.json", at(5), 404, b"Not Found")
    site.add_tdmrep("https://f.org/.well-known/tdmrep.json", at(1), 200, b'{"tdm-reservation": 1}')
    assert site.tdm_reservation("https://e.org/a", at(2)) == 1
    assert site.tdm_reservation("https://e.org/a", at(6)) is None  # removed by then
    assert site.tdm_reservation("https://f.org/a", at(2)) is None
    assert len(site.ignored) == 1
    assert "https://f.org/.well-known/tdmrep.json" in site.ignored[0]
    assert "not a JSON array" in site.ignored[0]


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://e.org/robots.txt", "robots"),
        ("https://e.org/robots.txt?x=1", "robots"),
        ("https://e.org/.well-known/tdmrep.json", "tdmrep"),
        ("https://e.org/a/robots.txt", None),
        ("https://e.org/robots.txt.bak", None),
        ("https://e.org/page?next=/robots.txt", None),
    ],
)
def test_site_file_of(url: str, kind: str | None) -> None:
    assert site_file_of(url) == kind


def test_origin_of() -> None:
    assert origin_of("https://Example.ORG/a") == ("https", "example.org", 443)
    assert origin_of("http://example.org:8080/a") == ("http", "example.org", 8080)
    assert origin_of("ftp://example.org/a") is None
    assert origin_of("https://example.org:99999/") is None


@pytest.mark.parametrize(
    ("user_agent", "token"),
    [
        ("CCBot/2.0 (https://commoncrawl.org/faq/)", "CCBot"),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot"),
        (
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
            "GPTBot",
        ),
        ("Mozilla/5.0 (compatible; +https://example.org/bot)", None),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
            None,
        ),
        ("ExampleBot", "ExampleBot"),
        ("", None),
    ],
)
def test_crawler_token(user_agent: str, token: str | None) -> None:
    assert crawler_token(user_agent) == token


def site_with_tdmrep(value: int) -> SiteSignals:
    site = SiteSignals()
    body = f'[{{"location": "/", "tdm-reservation": {value}}}]'.encode()
    site.add_tdmrep("https://e.org/.well-known/tdmrep.json", at(1), 200, body)
    return site


def test_the_verdict_weighs_file_header_and_meta_as_the_report_orders_them() -> None:
    reserved = OptoutEvaluator(site=site_with_tdmrep(1))
    url = "https://e.org/page"
    assert reserved.reasons(url, at(2), []) == ["tdmrep:reserved"]
    assert reserved.reasons(url, at(2), [("tdm-reservation", "0")]) == []  # header over file
    assert reserved.reasons(url, at(2), [], [("tdm-reservation", "0")]) == []  # meta over file
    open_site = OptoutEvaluator(site=site_with_tdmrep(0))
    assert open_site.reasons(url, at(2), [("tdm-reservation", "1")]) == ["tdmrep:reserved"]
    assert open_site.reasons(url, at(2), [("tdm-reservation", "1")], [("tdm-reservation", "0")]) == []
    assert open_site.reasons(url, at(2), [("tdm-reservation", "0")], [("tdm-reservation", "1")]) == [
        "tdmrep:reserved"
    ]


def test_the_verdict_asks_robots_txt_about_the_crawler_and_the_policys_agents() -> None:
    site = SiteSignals()
    site.add_robots("https://e.org/robots.txt", at(1), 200, b"User-agent: ExampleBot\nDisallow: /private/\n")
    evaluator = OptoutEvaluator(OptoutPolicy(agents=AGENTS), site, crawler_agent="ExampleBot")
    assert evaluator.robots_agents == ("ExampleBot", "GPTBot", "CCBot")
    verdict = evaluator.verdict("https://e.org/private/a", at(2), [("X-Robots-Tag", "noai")])
    assert verdict.reasons == ("robots:ExampleBot", "x-robots-tag:noai")
    assert not verdict.kept
    flagged = OptoutEvaluator(OptoutPolicy("flag", AGENTS), site, "ExampleBot")
    assert flagged.verdict("https://e.org/private/a", at(2), []).kept


def test_an_agent_named_twice_is_asked_once() -> None:
    evaluator = OptoutEvaluator(OptoutPolicy(agents=("GPTBot", "CCBot")), crawler_agent="ccbot")
    assert evaluator.robots_agents == ("ccbot", "GPTBot")


def test_a_malformed_tdmrep_json_reserves_every_page_of_its_origin_by_default() -> None:
    site = SiteSignals()
    site.add_tdmrep("https://f.org/.well-known/tdmrep.json", at(1), 200, b"\x00\xffnot json")
    site.add_tdmrep(
        "https://f.org/.well-known/tdmrep.json", at(5), 200, b'[{"location": "/", "tdm-reservation": 0}]'
    )
    assert site.tdm_reservation("https://f.org/any/page", at(2)) == 1
    assert site.tdm_reservation("https://f.org/any/page", at(6)) == 0  # a readable file replaced it
    assert site.tdm_reservation("https://g.org/page", at(2)) is None
    [noted] = site.ignored
    assert "read as reserving every page" in noted


def test_an_unknown_reading_of_unreadable_files_is_refused() -> None:
    with pytest.raises(ValueError, match="'reserved' or 'unset'"):
        SiteSignals(unreadable_tdmrep="permissive")
