"""The crawler evidence of a statement carries the activity of kiroku's own crawler, summed from the ledger's
``crawl.run`` records: real crawls of a loopback server by ``kiroku crawl``, then ``kiroku statement build``.

The workspace holds two crawls this year (one by KirokuBot over a site that allows it and one whose robots.txt
disallows it, one by OtherBot stopped by ``--max-pages``) and a crawl recorded in 2020, which this year's
statement leaves out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from kiroku.crawl.record import CrawlRun
from kiroku.disclose.evidence import count_band, crawl_activity, crawler_evidence
from kiroku.disclose.evidence_views import CrawlsPublic, CrawlsRegulator
from kiroku.disclose.render import evidence_lines
from kiroku.workspace import Workspace
from tests.conftest import kiroku
from tests.disclose.conftest import POLICY, key, ok
from tests.loopback import LoopbackServer, Reply, html, loopback

YEAR = datetime.now(UTC).year
PUBLISHED = Path(__file__).resolve().parents[2] / "docs" / "statement.schema.json"
RUN = f"""
name = "pretrain"
model = "acme-lm"
version = "1.0"
methods = ["pre-training"]
training_tokens = 5_000_000_000_000
start = {YEAR}-01-01
end = {YEAR}-01-02
weight_unit = "epochs"
[architecture]
family = "decoder-only transformer"
parameters = 70_000_000_000
[[data_mix]]
catalog = true
weight = 1
"""
TEXT = "A page about tea, rivers and trains, long enough to be kept by the ingest. " * 3


def serve(server: LoopbackServer) -> None:
    """alpha.test lets KirokuBot in but not under /private/; beta.test shuts it out; gamma.test allows all."""
    text = "text/plain"
    server.routes[("alpha.test", "/robots.txt")] = Reply(
        200, "User-agent: KirokuBot\nDisallow: /private/\n", content_type=text
    )
    server.routes[("alpha.test", "/")] = html("/a", "/b", "/private/x", "/private/y", text=TEXT)
    server.routes[("alpha.test", "/a")] = html("/b", text=TEXT + " a")
    server.routes[("alpha.test", "/b")] = html(text=TEXT + " b")
    server.routes[("beta.test", "/robots.txt")] = Reply(
        200, "User-agent: KirokuBot\nDisallow: /\n", content_type=text
    )
    server.routes[("beta.test", "/")] = html("/c", text=TEXT)
    server.routes[("gamma.test", "/")] = html("/d", "/e", text=TEXT + " gamma")
    server.routes[("gamma.test", "/d")] = html(text=TEXT + " d")
    server.routes[("gamma.test", "/e")] = html(text=TEXT + " e")


def crawl(
    root: Path, server: LoopbackServer, agent: str, max_pages: int, *hosts: str
) -> tuple[int, dict[str, Any]]:
    """``kiroku crawl`` of ``hosts``: the crawl.run record's ledger index and the crawl.json written."""
    resolve = [arg for entry in server.resolve(*hosts) for arg in ("--resolve", entry)]
    seeds = [server.url(host) for host in hosts]
    stdout = ok(
        "crawl", *seeds, "--agent", agent, "--max-pages", str(max_pages), "--delay", "0", *resolve, cwd=root
    )
    found = re.search(r"Recorded crawl\.run as record (\d+)", stdout)
    crawl_id = re.search(r"Crawl (\S+):", stdout)
    assert found and crawl_id, stdout
    written = json.loads((root / "crawls" / crawl_id.group(1) / "crawl.json").read_text())
    return int(found.group(1)), written


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[int, dict[str, Any]]]]:
    """A workspace with two real crawls this year and one recorded in 2020, a run and a release this year and
    both indexes; with each crawl.run record's body (its crawl.json) by ledger index."""
    base = tmp_path_factory.mktemp("crawler-activity")
    root = base / "ws"
    ok("init", str(root), "--org", "Acme AI", "--origin", "acme.example/kiroku", cwd=base)
    with loopback() as server:
        serve(server)
        runs = dict([crawl(root, server, "KirokuBot", 50, "alpha.test", "beta.test")])
        runs.update([crawl(root, server, "OtherBot", 1, "gamma.test")])
    # a crawl of 2020: the first one's record, moved back in time, appended as any record is
    old = dict(runs[min(runs)], crawl_id="20200601T000000Z-000000")
    old.update(started="2020-06-01T00:00:00+00:00", ended="2020-06-01T01:00:00+00:00", agent="OldBot")
    (root / "old.json").write_text(json.dumps(old))
    ok("log", "append", "--kind", "crawl.run", "--file", "old.json", cwd=root)
    (root / "run.toml").write_text(RUN)
    ok("run", "record", "run.toml", cwd=root)
    ok("model", "release", "acme-lm", "1.0", "--service", "chat", "--date", f"{YEAR}-01-03", cwd=root)
    ok("index", "domains", cwd=root)
    ok("index", "build", cwd=root)
    (root / "statement.toml").write_text(POLICY, encoding="utf-8")
    yield root, runs


def build(root: Path, tier: str) -> tuple[Path, dict[str, Any]]:
    """``kiroku statement build`` for this year in ``tier``: the output folder and the statement."""
    out = f"statement-{tier}"
    ok("statement", "build", "--period", str(YEAR), "--tier", tier, "--out", out, cwd=root)
    return root / out, json.loads((root / out / "statement.json").read_text(encoding="utf-8"))


def crawler_view(statement: dict[str, Any]) -> dict[str, Any]:
    """The ``crawler`` evidence of ``statement`` (the same in every requirement that names it)."""
    views: list[dict[str, Any]] = [
        r["evidence"]["crawler"] for r in statement["requirements"] if "crawler" in r["evidence"]
    ]
    assert views and all(view == views[0] for view in views)
    return views[0]


def expected(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The activity summed by hand from crawl.json files."""
    skipped: dict[str, int] = {}
    for run in runs:
        for reason, count in run["skips"].items():
            skipped[reason] = skipped.get(reason, 0) + count
    fresh = sum(
        round(run["fresh_robots_share"] * run["pages_fetched"]) for run in runs if run["fresh_robots_share"]
    )
    pages = sum(run["pages_fetched"] for run in runs)
    return {
        "count": len(runs),
        "pages": pages,
        "hosts": len({host for run in runs for host in run["hosts"]}),
        "skipped": dict(sorted(skipped.items())),
        "robots_fetches": sum(run["robots_fetches"] for run in runs),
        "pages_with_fresh_robots": fresh,
        "fresh_robots_share": round(fresh / pages, 4),
    }


def test_the_crawls_did_what_the_test_expects(crawled: tuple[Path, dict[int, dict[str, Any]]]) -> None:
    root, runs = crawled
    first, second = (runs[index] for index in sorted(runs))
    assert first["pages_fetched"] == 3 and first["skips"] == {
        "robots:KirokuBot": 3
    }  # /private/x, y and beta.test/
    assert first["hosts"] == ["alpha.test", "beta.test"] and first["fresh_robots_share"] == 1.0
    assert second["pages_fetched"] == 1 and second["skips"] == {"max-pages": 2}
    for index, body in runs.items():  # each crawl.json is the body of its ledger record
        shown = json.loads(kiroku("log", "show", str(index), "--json", cwd=root).stdout)
        assert (shown["kind"], shown["body"]) == ("crawl.run", body)


def test_the_regulator_statement_sums_the_crawl_records(
    crawled: tuple[Path, dict[int, dict[str, Any]]],
) -> None:
    root, runs = crawled
    _, statement = build(root, "regulator")
    crawler = crawler_view(statement)
    crawls = crawler["crawls"]
    CrawlsRegulator.model_validate(crawls)
    bodies = [runs[index] for index in sorted(runs)]
    assert {key: crawls[key] for key in expected(bodies)} == expected(bodies)
    assert crawls["skipped"] == {"max-pages": 2, "robots:KirokuBot": 3}
    assert (crawls["pages"], crawls["hosts"], crawls["fresh_robots_share"]) == (4, 3, 1.0)
    assert crawls["agents"] == ["KirokuBot", "OtherBot"]  # not OldBot: its crawl was in 2020
    assert crawls["user_agents"] == sorted(body["user_agent"] for body in bodies)
    assert all(ua.startswith(("KirokuBot/", "OtherBot/")) for ua in crawls["user_agents"])
    started = min(datetime.fromisoformat(body["started"]) for body in bodies)
    ended = max(datetime.fromisoformat(body["ended"]) for body in bodies)
    assert crawls["period"] == {"from": started.date().isoformat(), "to": ended.date().isoformat()}
    assert [entry["record"] for entry in crawls["by_crawl"]] == sorted(runs)
    for entry in crawls["by_crawl"]:
        body = runs[entry["record"]]
        assert entry == {
            "crawl_id": body["crawl_id"],
            "record": entry["record"],
            "source": body["source"],
            "agent": body["agent"],
            "user_agent": body["user_agent"],
            "started": datetime.fromisoformat(body["started"]).isoformat(),
            "ended": datetime.fromisoformat(body["ended"]).isoformat(),
            "hosts": len(body["hosts"]),
            "pages": body["pages_fetched"],
            "skipped": body["skips"],
            "robots_fetches": body["robots_fetches"],
            "fresh_robots_share": body["fresh_robots_share"],
            "interrupted": body.get("interrupted", False),
        }
    # the catalog's figures stay, and the crawlers' tokens are among the user agents
    assert crawler["crawled"] is True and crawler["pages"] >= 4
    assert {"crawl-kirokubot", "crawl-otherbot"} <= set(crawler["sources"])
    assert {"KirokuBot", "OtherBot"} <= set(crawler["user_agents"]) and "OldBot" not in crawler["user_agents"]
    jsonschema.validate(statement, json.loads(PUBLISHED.read_text(encoding="utf-8")))


def test_the_public_statement_shows_bands_and_no_crawl_record(
    crawled: tuple[Path, dict[int, dict[str, Any]]],
) -> None:
    root, runs = crawled
    folder, statement = build(root, "public")
    crawls = crawler_view(statement)["crawls"]
    CrawlsPublic.model_validate(crawls)
    bodies = [runs[index] for index in sorted(runs)]
    figures = expected(bodies)
    assert crawls == {
        "count": count_band(2),
        "agents": ["KirokuBot", "OtherBot"],
        "user_agents": sorted(body["user_agent"] for body in bodies),
        "period": crawls["period"],
        "pages": count_band(figures["pages"]),
        "hosts": count_band(figures["hosts"]),
        "skipped": {reason: count_band(count) for reason, count in figures["skipped"].items()},
        "fresh_robots_share": "100%",
    }
    assert crawls["skipped"] == {"max-pages": "1–9", "robots:KirokuBot": "1–9"}

    def leaves(value: Any) -> Iterator[Any]:
        if isinstance(value, dict):
            for inner in value.values():
                yield from leaves(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from leaves(inner)
        else:
            yield value

    assert all(isinstance(leaf, str) for leaf in leaves(crawls))  # no exact count
    jsonschema.validate(statement, json.loads(PUBLISHED.read_text(encoding="utf-8")))
    for path in folder.iterdir():  # no crawl id, record time or decision log in anything published
        text = path.read_text(encoding="utf-8")
        for body in bodies:
            assert body["crawl_id"] not in text, path.name
            assert body["started"][:19] not in text and body["ended"][:19] not in text, path.name
            assert body["decision_log"]["sha256"] not in text, path.name
    # a regulator's crawls in a public statement is refused
    _, regulator = build(root, "regulator")
    leaked = json.loads(json.dumps(statement))
    for requirement in leaked["requirements"]:
        if "crawler" in requirement["evidence"]:
            requirement["evidence"]["crawler"]["crawls"] = crawler_view(regulator)["crawls"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(leaked, json.loads(PUBLISHED.read_text(encoding="utf-8")))


def test_the_statement_renders_the_crawls_in_japanese_and_english(
    crawled: tuple[Path, dict[int, dict[str, Any]]],
) -> None:
    root, _ = crawled
    folder, _ = build(root, "public")
    markdown = (folder / "statement.md").read_text(encoding="utf-8")
    page = (folder / "statement.html").read_text(encoding="utf-8")
    for text in (markdown, page):
        assert "自社クローラーの活動" in text and "activity of our own crawler" in text
        assert "クロール回数" in text and "取得しなかった URL（理由別）" in text
        assert "robots.txt による拒否（robots:KirokuBot）" in text and "disallowed by robots.txt" in text
        assert "取得ページ数の上限に到達（max-pages）" in text and "page limit reached (max-pages)" in text
        assert "取得から24時間以内の robots.txt に従ったページ取得の割合" in text
        assert "KirokuBot, OtherBot" in text
    assert (
        "- 取得から24時間以内の robots.txt に従ったページ取得の割合 / share of page fetches under a robots.txt "
        "at most 24 hours old: 100%" in markdown
    )
    _, regulator = build(root, "regulator")
    lines = evidence_lines(crawler_view(regulator))
    assert any(ja == "クロールごとの内訳" and en == "by crawl" for _, ja, en, _ in lines)
    assert any(ja == "台帳の記録番号" and value == str(min(crawled[1])) for _, ja, _, value in lines)


def test_the_eu_summary_names_the_crawlers_and_their_period(
    crawled: tuple[Path, dict[int, dict[str, Any]]],
) -> None:
    root, _ = crawled
    folder, statement = build(root, "public")
    summary = json.loads((folder / "eu-summary.json").read_text(encoding="utf-8"))
    section = summary["data_sources"]["crawled_data"]
    assert section["used"] is True and {"KirokuBot", "OtherBot"} <= set(section["crawlers"])
    period = crawler_view(statement)["crawls"]["period"]
    assert f"from {period['from']} to {period['to']} as KirokuBot, OtherBot" in section["behaviour"]
    assert "100% of page fetches were decided under a robots.txt at most 24 hours old" in section["behaviour"]
    assert "robots:KirokuBot: 1–9" in section["behaviour"]
    result = kiroku("statement", "verify", str(folder / "eu-summary.json"), "--key", key(root), cwd=root)
    assert result.returncode == 0, result.stderr


def test_crawls_outside_the_period_are_left_out(crawled: tuple[Path, dict[int, dict[str, Any]]]) -> None:
    root, runs = crawled
    ws = Workspace.open(root)
    with ws.ledger() as ledger:
        old = crawler_evidence(ledger, ws.catalog_dir, [], period=(date(2020, 1, 1), date(2020, 12, 31)))
        none = crawler_evidence(ledger, ws.catalog_dir, [], period=(date(2010, 1, 1), date(2010, 12, 31)))
        every = crawler_evidence(ledger, ws.catalog_dir, [])
    assert old.regulator["crawls"]["agents"] == ["OldBot"] and old.regulator["crawls"]["count"] == 1
    assert old.public["crawls"]["period"] == {"from": "2020-06-01", "to": "2020-06-01"}
    assert every.regulator["crawls"]["count"] == 3  # no period: every crawl.run record
    # with no crawl in the period, the evidence is the catalog's alone, as before crawl.run records existed
    assert "crawls" not in none.public and "crawls" not in none.regulator
    assert set(none.public) == {"user_agents", "crawled", "period", "pages", "hosts"}
    assert none.regulator["sources"] == every.regulator["sources"]
    assert none.public["user_agents"] == ["KirokuBot", "OtherBot"]  # as their shards were ingested
    assert len(runs) == 2


def test_two_crawls_sum_and_the_share_is_weighted_by_pages(
    crawled: tuple[Path, dict[int, dict[str, Any]]],
) -> None:
    _, runs = crawled
    first, second = (CrawlRun.model_validate(runs[index]) for index in sorted(runs))
    # the same two records with other figures: 30 pages all under a fresh robots.txt, 2 of 8 pages under one
    big = first.model_copy(
        update={"pages_fetched": 30, "fresh_robots_share": 1.0, "skips": {"robots:KirokuBot": 7}}
    )
    small = second.model_copy(
        update={
            "pages_fetched": 8,
            "fresh_robots_share": 0.25,
            "skips": {"robots:OtherBot": 5, "max-pages": 2},
        }
    )
    activity = crawl_activity([(4, big), (9, small)])
    assert activity is not None
    regulator, public = activity.regulator, activity.public
    assert regulator["pages"] == 38 and regulator["pages_with_fresh_robots"] == 32
    # weighted by pages: 32 / 38; a mean of the two shares would be 0.625
    assert regulator["fresh_robots_share"] == round(32 / 38, 4) == 0.8421
    assert public["fresh_robots_share"] == "84%"
    assert regulator["skipped"] == {"max-pages": 2, "robots:KirokuBot": 7, "robots:OtherBot": 5}
    assert public["skipped"] == {"max-pages": "1–9", "robots:KirokuBot": "1–9", "robots:OtherBot": "1–9"}
    assert regulator["robots_fetches"] == first.robots_fetches + second.robots_fetches
    assert regulator["hosts"] == len(set(first.hosts) | set(second.hosts)) == 3
    assert [entry["record"] for entry in regulator["by_crawl"]] == [4, 9]
    assert public["pages"] == "10–99" and public["count"] == "1–9"
    # 199 of 200 fresh is not 100%: the public percent is rounded down
    almost = first.model_copy(update={"pages_fetched": 200, "fresh_robots_share": 199 / 200})
    rounded = crawl_activity([(1, almost)])
    assert rounded is not None and rounded.public["fresh_robots_share"] == "99%"
    # a crawl that fetched no page has no share and does not weigh on it
    blocked = first.model_copy(update={"pages_fetched": 0, "fresh_robots_share": None})
    alone = crawl_activity([(1, blocked)])
    assert alone is not None and alone.public["fresh_robots_share"] is None
    assert alone.regulator["fresh_robots_share"] is None
    both = crawl_activity([(1, blocked), (2, small)])
    assert both is not None and both.regulator["fresh_robots_share"] == 0.25 and both.regulator["pages"] == 8
    assert crawl_activity([]) is None
