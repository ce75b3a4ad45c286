"""The crawler's link extraction: the cached resolution gives the links resolving against the page gives."""

from __future__ import annotations

from urllib.parse import urljoin

from resiliparse.parse.html import HTMLTree

from kiroku.crawl.crawler import _links
from kiroku.crawl.scope import normalise

HREFS = [
    "/", "/x", "/x/../y", "/./a/./b", "//other.test/z", "//other.test", "//Other.Test:8080/p", "http://o.test/p?q#f",
    "https://o.test", "http:///x", "https:///x/./y", "/?q=1", "/;p", "http://o.test/a/../b", "/a b", "http://o:bad/",
    "https://[::1]/x", "/%41", "rel.html", "../up.html", "./here?x", "?only=query", "#frag", "", "mailto:a@b.test",
    "javascript:void(0)", "HTTP://Upper.Test/P", "ftp://f.test/", "http:rel", "https:rel", "/p#frag",
]  # fmt: skip
BASES = [
    "http://a.test:8080/dir/page.html?x=1",
    "https://b.test/",
    "https://c.test/deep/er/",
    "http://d.test/a;p?q",
]


def expected(base: str, hrefs: list[str]) -> list[str]:
    found = []
    for href in hrefs:
        href = href.strip()
        if not href or href.startswith("#"):
            continue
        try:
            found.append(normalise(urljoin(base, href)))
        except ValueError:
            continue
    return found


def page(hrefs: list[str], base_href: str | None = None) -> HTMLTree:
    head = f'<base href="{base_href}">' if base_href is not None else ""
    anchors = "".join(f'<a href="{h}">x</a><area href="{h}">' for h in hrefs)
    return HTMLTree.parse(f"<html><head>{head}</head><body>{anchors}<a>no href</a></body></html>")


def test_links_resolve_as_against_the_page_itself() -> None:
    for _ in range(2):  # the second time from the cache
        for url in BASES:
            doubled = [h for h in HREFS for _ in range(2)]  # <a> and <area>
            assert _links(url, page(HREFS)) == expected(url, doubled), url


def test_links_honour_base_href() -> None:
    for url in BASES:
        for base_href in ("/other/dir/", "https://elsewhere.test/x/", "../up/", ""):
            base = urljoin(url, base_href)
            doubled = [h for h in HREFS for _ in range(2)]
            assert _links(url, page(HREFS, base_href)) == expected(base, doubled), (url, base_href)


def test_a_malformed_base_href_is_ignored() -> None:
    url = BASES[0]
    assert _links(url, page(["/x", "rel.html", "http://[bad/"], "http://[bad/")) == expected(
        url, ["/x", "/x", "rel.html", "rel.html"]
    )
