"""robots.txt (RFC 9309), Crawl-delay, 429/5xx backoff: checked on the server side."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from tests.crawl.conftest import crawl
from tests.loopback import LoopbackServer, Reply, html


def site(server: LoopbackServer, host: str = "alpha.test") -> None:
    server.routes[(host, "/")] = html("/a", "/private/b", "/c")
    server.routes[(host, "/a")] = html("/private/d")
    server.routes[(host, "/c")] = html()
    server.routes[(host, "/private/b")] = html()
    server.routes[(host, "/private/d")] = html()


def test_robots_disallow_is_honoured(server: LoopbackServer, tmp_path: Path) -> None:
    site(server)
    server.routes[("alpha.test", "/robots.txt")] = Reply(
        200,
        "User-agent: *\nAllow: /\n\nUser-agent: KirokuBot\nDisallow: /private/\n",
        content_type="text/plain",
    )
    got = crawl(server, tmp_path, server.url("alpha.test"))
    assert not any(p.startswith("/private") for p in server.paths())
    assert server.paths().count("/robots.txt") == 1
    assert {"/", "/a", "/c"} <= set(server.paths())
    skipped = got.decision(server.url("alpha.test", "/private/b"))
    assert skipped["outcome"] == "skipped" and skipped["reason"] == "robots:KirokuBot"
    assert skipped["robots_line"] == "Disallow: /private/" and skipped["robots_line_number"] == 5
    assert "line 5" in skipped["detail"]
    fetched = got.decision(server.url("alpha.test", "/a"))
    assert fetched["outcome"] == "fetched" and 0 <= fetched["robots_age"] < 60
    assert got.result.pages_fetched == 3 and got.result.skips == {"robots:KirokuBot": 2}
    assert got.result.pages_with_fresh_robots == got.result.pages_with_robots == 3
    assert all(s.user_agent.startswith("KirokuBot/") for s in server.seen)


def test_robots_404_allows_everything(server: LoopbackServer, tmp_path: Path) -> None:
    site(server)
    got = crawl(server, tmp_path, server.url("alpha.test"))
    assert got.result.pages_fetched == 5 and not got.result.skips


def test_robots_500_fetches_nothing_but_robots(server: LoopbackServer, tmp_path: Path) -> None:
    site(server)
    server.routes[("alpha.test", "/robots.txt")] = Reply(500)
    got = crawl(server, tmp_path, server.url("alpha.test"))
    assert server.paths() == ["/robots.txt"]
    assert got.decision(server.url("alpha.test"))["reason"] == "robots-unavailable:KirokuBot"


def test_robots_unreachable_fetches_nothing(server: LoopbackServer, tmp_path: Path) -> None:
    site(server)
    server.routes[("alpha.test", "/robots.txt")] = Reply(close=True)
    got = crawl(server, tmp_path, server.url("alpha.test"))
    assert server.paths() == ["/robots.txt"]
    assert got.result.pages_fetched == 0
    page = got.decision(server.url("alpha.test"))
    assert page["reason"] == "robots-unavailable:KirokuBot" and "unreachable" in page["detail"]
    robots = got.decision(server.url("alpha.test", "/robots.txt"))
    assert robots["outcome"] == "skipped" and robots["reason"].startswith("network:")


def test_robots_redirects_three_followed_six_unavailable(server: LoopbackServer, tmp_path: Path) -> None:
    disallow = Reply(200, "User-agent: *\nDisallow: /\n", content_type="text/plain")
    for host, hops in (("alpha.test", 3), ("beta.test", 6)):
        site(server, host)
        for i in range(hops):
            server.routes[(host, f"/r{i}" if i else "/robots.txt")] = Reply(
                301, headers={"Location": f"/r{i + 1}"}
            )
        server.routes[(host, f"/r{hops}")] = disallow
    got = crawl(server, tmp_path, server.url("alpha.test"), server.url("beta.test"))
    # three redirects: the robots.txt at the end disallows everything
    assert server.paths("alpha.test") == ["/robots.txt", "/r1", "/r2", "/r3"]
    # six: unavailable (RFC 9309 2.3.1.2), read as 4xx: everything allowed
    assert "/r6" not in server.paths("beta.test") and "/r5" in server.paths("beta.test")
    assert {"/", "/a", "/private/b"} <= set(server.paths("beta.test"))
    robots = got.decision(server.url("beta.test", "/robots.txt"))
    assert robots["detail"] == "more than 5 redirects"


def test_crawl_delay_is_respected(server: LoopbackServer, tmp_path: Path) -> None:
    site(server)
    server.routes[("alpha.test", "/robots.txt")] = Reply(
        200, "User-agent: KirokuBot\nCrawl-delay: 0.3\nDisallow:\n", content_type="text/plain"
    )
    site(server, "beta.test")  # another host, no delay: crawled alongside
    crawl(server, tmp_path, server.url("alpha.test"), server.url("beta.test"), delay=0.0)
    times = server.times("alpha.test", lambda p: p != "/robots.txt")
    assert len(times) == 6  # tdmrep.json and 5 pages
    assert all(b - a >= 0.29 for a, b in pairwise(times))


def test_a_crawl_delay_over_the_maximum_skips_the_site_rather_than_crawling_it_faster(
    server: LoopbackServer, tmp_path: Path
) -> None:
    site(server)
    server.routes[("alpha.test", "/robots.txt")] = Reply(
        200, "User-agent: *\nCrawl-delay: 86400\nAllow: /\n", content_type="text/plain"
    )
    site(server, "beta.test")
    got = crawl(server, tmp_path, server.url("alpha.test"), server.url("beta.test"), max_crawl_delay=30.0)
    assert server.paths("alpha.test") == ["/robots.txt"]  # nothing else asked of the slow site
    page = got.decision(server.url("alpha.test"))
    assert page["reason"] == "crawl-delay" and "86400 s" in page["detail"] and "30 s" in page["detail"]
    assert got.result.skips == {"crawl-delay": 1} and got.result.pages_fetched == 5  # beta.test's five


def test_default_delay_applies_between_requests(server: LoopbackServer, tmp_path: Path) -> None:
    site(server)
    crawl(server, tmp_path, server.url("alpha.test"), delay=0.1, max_pages=3)
    times = server.times("alpha.test")
    assert len(times) == 5  # robots.txt, tdmrep.json, then 3 pages
    assert all(b - a >= 0.095 for a, b in pairwise(times))


def test_429_retry_after_then_200(server: LoopbackServer, tmp_path: Path) -> None:
    server.routes[("alpha.test", "/")] = [Reply(429, headers={"Retry-After": "1"}), html()]
    got = crawl(server, tmp_path, server.url("alpha.test"))
    times = server.times("alpha.test", lambda p: p == "/")
    assert len(times) == 2 and times[1] - times[0] >= 0.99
    page = got.decision(server.url("alpha.test"))
    assert page["outcome"] == "fetched" and page["status"] == 200


def test_5xx_is_retried_then_recorded(server: LoopbackServer, tmp_path: Path) -> None:
    server.routes[("alpha.test", "/")] = Reply(503)
    got = crawl(server, tmp_path, server.url("alpha.test"), retries=2, retry_base=0.1)
    times = server.times("alpha.test", lambda p: p == "/")
    assert len(times) == 3
    assert times[1] - times[0] >= 0.095 and times[2] - times[1] >= 0.195  # exponential
    page = got.decision(server.url("alpha.test"))
    assert (page["outcome"], page["reason"]) == ("skipped", "http:503")


def test_huge_and_garbage_robots(server: LoopbackServer, tmp_path: Path) -> None:
    site(server)
    site(server, "beta.test")
    rules = b"User-agent: *\nDisallow: /private/\n"
    server.routes[("alpha.test", "/robots.txt")] = Reply(
        200, rules + b"#" * (10 * 1024 * 1024) + b"\nDisallow: /a\n", content_type="text/plain"
    )
    server.routes[("beta.test", "/robots.txt")] = Reply(
        200, bytes(range(256)) * 200, content_type="text/plain"
    )
    got = crawl(server, tmp_path, server.url("alpha.test"), server.url("beta.test"))
    assert "/a" in server.paths("alpha.test")  # the rule after 500 KiB is not read
    assert not any(p.startswith("/private") for p in server.paths("alpha.test"))
    assert got.decision(server.url("alpha.test", "/robots.txt"))["truncated"] is True
    assert "/private/b" in server.paths("beta.test")  # garbage: no rules, everything allowed
