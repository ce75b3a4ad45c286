"""WARC ingest honours robots.txt as the crawl captured it, in the same WARC or a separate robots WARC.

The WARC files are written here with warcio (an independent writer) from realistic HTTP responses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from io import BytesIO
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from kiroku.catalog.shards import Document
from kiroku.catalog.stats import catalog_shards
from kiroku.ingest import ingest_files
from kiroku.ingest.warc import WarcReader, read_warc
from kiroku.ledger import Ledger
from kiroku.optout import OptoutPolicy
from tests.conftest import kiroku
from tests.ingest.conftest import SOURCE

AGENTS = OptoutPolicy(agents=("GPTBot", "CCBot", "ClaudeBot"))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CRAWLER = "Mozilla/5.0 (compatible; ExampleBot/2.1; +https://crawler.example.net/bot.html)"

NEWS_ROBOTS = b"""# robots.txt for https://news.example.jp
User-agent: GPTBot
Disallow: /

User-agent: CCBot
Disallow: /articles/

User-agent: ExampleBot
Disallow: /members/

User-agent: *
Disallow: /search
Allow: /

Sitemap: https://news.example.jp/sitemap.xml
"""


@dataclass(frozen=True)
class Response:
    """One captured HTTP response."""

    url: str
    body: bytes
    minutes: int = 0  # fetch time: minutes after T0
    status: str = "200 OK"
    content_type: str = "text/html; charset=utf-8"
    headers: Sequence[tuple[str, str]] = field(default_factory=tuple)


def page(title: str, text: str, head: str = "") -> bytes:
    """A small but complete HTML page."""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
        f"<body><header><nav><a href='/'>Home</a></nav></header><main><article><h1>{title}</h1>"
        f"<p>{text}</p></article></main><footer>© 2026</footer></body></html>\n"
    ).encode()


def robots(url: str, body: bytes, *, minutes: int = 0, status: str = "200 OK") -> Response:
    """A captured robots.txt."""
    return Response(url, body, minutes, status, "text/plain")


def write_warc(path: Path, responses: Sequence[Response], *, user_agent: str | None = CRAWLER) -> Path:
    """A WARC (gzip per record when the name ends in .gz) of ``responses``, after a warcinfo record."""
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=path.suffix == ".gz")
        info = {"software": "Heritrix/3.4.0 http://crawler.archive.org", "format": "WARC File Format 1.1"}
        if user_agent:
            info["http-header-user-agent"] = user_agent
        writer.write_record(writer.create_warcinfo_record(path.name, info))
        for response in responses:
            fetched = T0 + timedelta(minutes=response.minutes)
            headers = [
                ("Date", format_datetime(fetched, usegmt=True)),
                ("Server", "nginx/1.24.0"),
                ("Content-Type", response.content_type),
                ("Content-Length", str(len(response.body))),
                *response.headers,
            ]
            writer.write_record(
                writer.create_warc_record(
                    response.url,
                    "response",
                    payload=BytesIO(response.body),
                    http_headers=StatusAndHeaders(response.status, headers, "HTTP/1.1"),
                    warc_headers_dict={"WARC-Date": fetched.strftime("%Y-%m-%dT%H:%M:%SZ")},
                )
            )
    return path


NEWS_PAGES = [
    Response("https://news.example.jp/articles/2026/03/tea", page("Tea harvest", "The first flush arrived.")),
    Response("https://news.example.jp/about", page("About us", "A regional newspaper since 1921.")),
    Response("https://news.example.jp/search?q=tea", page("Search", "Results for tea.")),
    Response("https://news.example.jp/members/profile", page("Profile", "Your subscription details.")),
    Response("https://open.example.org/guide", page("Guide", "An open guide to brewing.")),
]


def reasons_by_url(docs: Iterator[tuple[int, Document]]) -> dict[str | None, tuple[str, ...]]:
    return {doc.url: doc.optout for _, doc in docs}


def test_pages_disallowed_for_an_agent_carry_its_reason_and_are_dropped(tmp_path: Path) -> None:
    path = write_warc(
        tmp_path / "crawl.warc.gz", [robots("https://news.example.jp/robots.txt", NEWS_ROBOTS), *NEWS_PAGES]
    )
    docs = {doc.url: doc for _, doc in read_warc(path, optout=AGENTS)}
    assert {url: doc.optout for url, doc in docs.items()} == {
        "https://news.example.jp/articles/2026/03/tea": ("robots:CCBot", "robots:GPTBot"),
        "https://news.example.jp/about": ("robots:GPTBot",),
        # an agent with a group of its own is not bound by the '*' group; ClaudeBot has none
        "https://news.example.jp/search?q=tea": ("robots:ClaudeBot", "robots:GPTBot"),
        "https://news.example.jp/members/profile": ("robots:ExampleBot", "robots:GPTBot"),
        "https://open.example.org/guide": (),  # no robots.txt captured for this origin
    }
    assert docs["https://open.example.org/guide"].kept
    assert not any(docs[r.url].kept for r in NEWS_PAGES[:4])
    # robots.txt is the site's instruction to crawlers, read in the first pass: not a training document
    assert "https://news.example.jp/robots.txt" not in docs


def test_the_flag_policy_keeps_them_with_the_same_reasons(tmp_path: Path) -> None:
    path = write_warc(
        tmp_path / "crawl.warc", [robots("https://news.example.jp/robots.txt", NEWS_ROBOTS), *NEWS_PAGES]
    )
    flagged = list(read_warc(path, optout=OptoutPolicy("flag", AGENTS.agents)))
    assert all(doc.kept for _, doc in flagged)
    assert reasons_by_url(iter(flagged)) == reasons_by_url(read_warc(path, optout=AGENTS))


def test_robots_txt_from_a_separate_robots_warc(tmp_path: Path) -> None:
    pages = write_warc(tmp_path / "pages.warc.gz", NEWS_PAGES)
    robots_warc = write_warc(
        tmp_path / "robots.warc.gz",
        [robots("https://news.example.jp/robots.txt", NEWS_ROBOTS)],
        user_agent=None,
    )
    without = reasons_by_url(read_warc(pages, optout=AGENTS))
    assert set(without.values()) == {()}
    with_robots = reasons_by_url(read_warc(pages, optout=AGENTS, robots=[robots_warc]))
    assert with_robots["https://news.example.jp/about"] == ("robots:GPTBot",)
    assert with_robots["https://open.example.org/guide"] == ()


def test_a_robots_txt_answering_5xx_disallows_everything_and_404_allows_everything(tmp_path: Path) -> None:
    path = write_warc(
        tmp_path / "crawl.warc.gz",
        [
            robots(
                "https://down.example.com/robots.txt",
                b"<h1>503 Service Unavailable</h1>",
                status="503 Service Unavailable",
            ),
            robots("https://plain.example.com/robots.txt", b"<h1>Not Found</h1>", status="404 Not Found"),
            Response(
                "https://down.example.com/a", page("A", "Page on a site whose robots.txt was unreachable.")
            ),
            Response("https://plain.example.com/b", page("B", "Page on a site without a robots.txt.")),
        ],
    )
    found = reasons_by_url(read_warc(path, optout=AGENTS))
    assert found["https://down.example.com/a"] == (
        "robots:CCBot",
        "robots:ClaudeBot",
        "robots:ExampleBot",
        "robots:GPTBot",
    )
    assert found["https://plain.example.com/b"] == ()


def test_the_robots_txt_captured_last_before_the_page_applies(tmp_path: Path) -> None:
    allow_all = b"User-agent: *\nAllow: /\n"
    block_gptbot = b"User-agent: GPTBot\nDisallow: /\n"
    path = write_warc(
        tmp_path / "crawl.warc.gz",
        [
            Response(
                "https://e.example.org/early", page("Early", "Fetched before any robots.txt."), minutes=0
            ),
            robots("https://e.example.org/robots.txt", block_gptbot, minutes=60),
            Response("https://e.example.org/middle", page("Middle", "Fetched between the two."), minutes=30),
            robots(
                "https://e.example.org/robots.txt", allow_all, minutes=10
            ),  # captured earlier, written later
            Response("https://e.example.org/late", page("Late", "Fetched after both."), minutes=90),
        ],
    )
    found = reasons_by_url(read_warc(path, optout=AGENTS))
    assert found["https://e.example.org/early"] == ()  # no capture before it: the earliest (allow all)
    assert found["https://e.example.org/middle"] == ()  # the capture at +10 min
    assert found["https://e.example.org/late"] == ("robots:GPTBot",)  # the capture at +60 min


def test_the_crawlers_agent_comes_from_kiroku_toml_else_from_warcinfo(tmp_path: Path) -> None:
    path = write_warc(
        tmp_path / "crawl.warc.gz", [robots("https://news.example.jp/robots.txt", NEWS_ROBOTS), *NEWS_PAGES]
    )
    url = "https://news.example.jp/members/profile"
    from_warcinfo = WarcReader(optout=AGENTS)
    assert reasons_by_url(from_warcinfo(path))[url] == ("robots:ExampleBot", "robots:GPTBot")
    summary = from_warcinfo.summaries[path]
    assert (summary.crawler_agent, summary.agent_from, summary.robots_origins) == (
        "ExampleBot",
        "warcinfo",
        1,
    )
    configured = WarcReader(optout=AGENTS, crawler_agent="OtherBot")
    assert reasons_by_url(configured(path))[url] == ("robots:GPTBot",)
    assert configured.summaries[path].agent_from == "kiroku.toml"
    anonymous = write_warc(
        tmp_path / "anon.warc.gz",
        [robots("https://news.example.jp/robots.txt", NEWS_ROBOTS), *NEWS_PAGES],
        user_agent=None,
    )
    nobody = WarcReader(optout=AGENTS)
    assert reasons_by_url(nobody(anonymous))[url] == ("robots:GPTBot",)
    assert nobody.summaries[anonymous].crawler_agent is None


def test_a_missing_robots_warc_is_an_error_before_anything_is_read(tmp_path: Path) -> None:
    from kiroku.ingest import IngestError

    with pytest.raises(IngestError, match=rf"^{tmp_path / 'robots.warc.gz'}: no such robots WARC file$"):
        WarcReader(robots=[tmp_path / "robots.warc.gz"])


def test_a_resumed_ingest_still_applies_the_robots_txt_captured_before_where_it_resumes(
    ledger: Ledger, tmp_path: Path
) -> None:
    pages = [
        Response(f"https://news.example.jp/articles/{n}", page(f"Story {n}", f"Story number {n} of the day."))
        for n in range(6)
    ]
    path = write_warc(
        tmp_path / "crawl.warc.gz", [robots("https://news.example.jp/robots.txt", NEWS_ROBOTS), *pages]
    )

    def interrupted(file: Path, start: int) -> Iterator[tuple[int, Document]]:
        for count, item in enumerate(read_warc(file, start, optout=AGENTS)):
            if count == 3:
                raise KeyboardInterrupt
            yield item

    with pytest.raises(KeyboardInterrupt):
        ingest_files(ledger, tmp_path / "c", SOURCE, [path], interrupted, max_documents=1)
    assert len(catalog_shards(ledger)) == 3
    [result] = ingest_files(
        ledger, tmp_path / "c", SOURCE, [path], lambda f, s: read_warc(f, s, optout=AGENTS)
    )
    assert result.resumed_from > 1  # past the robots.txt record (record 1)
    rows = [row for s in result.shards for row in pq.read_table(tmp_path / "c" / s.docs_file).to_pylist()]
    assert [row["url"] for row in rows] == [r.url for r in pages[3:]]  # three shards of one page each
    assert all(row["optout"] == ["robots:CCBot", "robots:GPTBot"] and not row["kept"] for row in rows)


def test_cli_ingest_warc_with_a_robots_warc_and_the_crawler_agent_in_kiroku_toml(
    workspace: Path, tmp_path: Path
) -> None:
    config = workspace / "kiroku.toml"
    text = config.read_text()
    assert '# crawler_agent = "ExampleBot"' in text  # the template kiroku init writes
    config.write_text(
        text.replace('# crawler_agent = "ExampleBot"', 'crawler_agent = "ExampleBot"').replace(
            'agents = ["GPTBot",', 'agents = ["GPTBot", "CCBot"]\n# was: agents = ["GPTBot",'
        )
    )
    pages = write_warc(tmp_path / "pages.warc.gz", NEWS_PAGES, user_agent="SomethingElse/1.0")
    robots_warc = write_warc(
        tmp_path / "robots.warc.gz", [robots("https://news.example.jp/robots.txt", NEWS_ROBOTS)]
    )
    assert kiroku("source", "add", SOURCE, "--type", "web_crawl", cwd=workspace).returncode == 0
    result = kiroku(
        "ingest", "warc", str(pages), "--robots", str(robots_warc), "--source", SOURCE, cwd=workspace
    )
    assert result.returncode == 0, result.stderr
    assert f"{pages}: 5 documents in 1 shard(s)" in result.stdout
    assert "robots.txt captured for 1 origin(s)" in result.stdout
    assert "crawler agent ExampleBot (from kiroku.toml)" in result.stdout
    stats = json.loads(kiroku("catalog", "stats", "--json", cwd=workspace).stdout)
    assert (stats["documents"], stats["kept"]) == (5, 1)
    assert stats["optout"] == {"robots:GPTBot": 4, "robots:ExampleBot": 1, "robots:CCBot": 1}


def test_cli_a_missing_robots_warc_fails_cleanly(workspace: Path, tmp_path: Path) -> None:
    pages = write_warc(tmp_path / "pages.warc.gz", NEWS_PAGES)
    kiroku("source", "add", SOURCE, "--type", "web_crawl", cwd=workspace)
    missing = tmp_path / "robots.warc.gz"
    result = kiroku("ingest", "warc", str(pages), "--robots", str(missing), "--source", SOURCE, cwd=workspace)
    assert result.returncode == 2
    assert f"{missing}: no such robots WARC file" in result.stderr
    assert json.loads(kiroku("catalog", "stats", "--json", cwd=workspace).stdout)["documents"] == 0
