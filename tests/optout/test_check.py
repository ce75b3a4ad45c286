"""`kiroku.optout.check` against real sites served on loopback (named hosts reached through --resolve)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiroku.optout.agents import AGENT_LIST_SOURCE, bundled_agents, find_agents
from kiroku.optout.check import BadUrl, SiteReport, check_url_sync, validate_url
from tests.optout.sites import LoopbackSites, loopback_sites

AGENTS = find_agents(["GPTBot", "CCBot", "ClaudeBot"])


@pytest.fixture(scope="module")
def sites() -> Iterator[LoopbackSites]:
    with loopback_sites() as running:
        yield running


def check(sites: LoopbackSites, host: str, path: str = "/a") -> SiteReport:
    return check_url_sync(sites.url(host, path), AGENTS, resolve=sites.resolve(), timeout=5)


def agent(report: SiteReport, name: str) -> dict:  # type: ignore[type-arg]
    return next(a for a in report.model_dump(mode="json")["agents"] if a["name"] == name)


def test_robots_disallowing_gptbot_names_the_line_and_allows_the_others(sites: LoopbackSites) -> None:
    report = check(sites, "gpt.test")
    gpt = agent(report, "GPTBot")
    assert gpt["robots"] == {
        "allowed": False,
        "basis": "rule",
        "group": "gptbot",
        "line_number": 3,
        "line": "Disallow: /",
        "reason": gpt["robots"]["reason"],
    }
    assert gpt["verdict"] == "may_not_fetch" and gpt["summary"] == "may not fetch"
    ccbot = agent(report, "CCBot")
    assert (ccbot["robots"]["allowed"], ccbot["robots"]["group"], ccbot["robots"]["line_number"]) == (
        True,
        "*",
        6,
    )
    assert ccbot["robots"]["line"] == "Allow: /"
    assert ccbot["verdict"] == "may_train" and ccbot["summary"] == "may fetch and train"
    assert report.robots.status == 200 and report.robots.allows_all is None


def test_robots_404_allows_every_agent(sites: LoopbackSites) -> None:
    report = check(sites, "gone.test")
    assert report.robots.status == 404 and report.robots.allows_all is True
    for entry in report.agents:
        assert (entry.robots.allowed, entry.robots.basis, entry.verdict) == (True, "status_4xx", "may_train")
        assert "404" in entry.robots.reason


def test_robots_500_disallows_every_agent(sites: LoopbackSites) -> None:
    report = check(sites, "down.test")
    assert report.robots.allows_all is False
    assert {(a.robots.allowed, a.robots.basis, a.verdict) for a in report.agents} == {
        (False, "unreachable", "may_not_fetch")
    }
    assert "500" in report.agents[0].robots.reason


def test_unreachable_site_disallows_and_reports_the_error(sites: LoopbackSites) -> None:
    report = check_url_sync(
        "http://nowhere.test:9/a", AGENTS, resolve=[("nowhere.test", 9, "127.0.0.1")], timeout=2
    )
    assert report.robots.status is None and report.robots.error
    assert report.page.status is None and report.page.error
    assert all(a.verdict == "may_not_fetch" for a in report.agents)


def test_tdmrep_rule_reserves_a_path_and_says_which_rule(sites: LoopbackSites) -> None:
    reserved = check(sites, "tdm.test", "/reserved/1")
    assert reserved.tdmrep.reservation == 1 and reserved.tdmrep.source == "file"
    assert reserved.tdmrep.rule is not None and reserved.tdmrep.rule.location == "/reserved/*"
    assert reserved.tdmrep.rule.policy == "https://tdm.test/policy.json"
    gpt = agent(reserved, "GPTBot")
    assert gpt["tdm_reserved"] is True and gpt["verdict"] == "opted_out"
    assert gpt["summary"] == "may fetch, opted out of AI training by tdmrep:reserved"
    open_page = check(sites, "tdm.test", "/open/1")
    assert (open_page.tdmrep.reservation, open_page.tdmrep.rule.location) == (0, "/*")  # type: ignore[union-attr]
    assert {a.verdict for a in open_page.agents} == {"may_train"}


def test_unparsable_tdmrep_counts_as_reserved_and_says_so(sites: LoopbackSites) -> None:
    report = check(sites, "badtdm.test")
    assert report.tdmrep.parse_error is not None and report.tdmrep.parse_error.startswith("not JSON")
    assert (report.tdmrep.reservation, report.tdmrep.source) == (1, "unparsable_file")
    assert report.tdmrep.note is not None and "counts it as reserving" in report.tdmrep.note
    assert {a.verdict for a in report.agents} == {"opted_out"}


def test_x_robots_tag_noai_for_everyone(sites: LoopbackSites) -> None:
    report = check(sites, "xrobots.test")
    for entry in report.agents:
        assert entry.tags == ["x-robots-tag:noai"] and entry.tags_naming_agent == []
        assert entry.summary == "may fetch, opted out of AI training by x-robots-tag:noai"


def test_x_robots_tag_naming_one_agent(sites: LoopbackSites) -> None:
    report = check(sites, "named.test")
    assert agent(report, "GPTBot")["tags_naming_agent"] == ["x-robots-tag:noai"]
    assert agent(report, "GPTBot")["verdict"] == "opted_out"
    assert agent(report, "CCBot")["tags"] == [] and agent(report, "CCBot")["verdict"] == "may_train"


def test_meta_robots_noai_and_a_meta_tag_naming_gptbot(sites: LoopbackSites) -> None:
    report = check(sites, "meta.test")
    assert agent(report, "GPTBot")["tags"] == ["meta-robots:noai", "meta-robots:noimageai"]
    assert agent(report, "GPTBot")["tags_naming_agent"] == ["meta-robots:noimageai"]
    assert agent(report, "CCBot")["tags"] == ["meta-robots:noai"]


def test_page_redirects_are_followed_and_noted(sites: LoopbackSites) -> None:
    report = check(sites, "moved.test", "/old")
    assert report.page.status == 200 and report.page.redirects == [sites.url("moved.test", "/new")]
    assert report.page.final_url == sites.url("moved.test", "/new")
    assert {tuple(a.tags) for a in report.agents} == {("x-robots-tag:noimageai",)}


def test_json_form_has_stable_keys(sites: LoopbackSites) -> None:
    data = check(sites, "gpt.test").model_dump(mode="json")
    assert {"url", "fetched_at", "robots", "tdmrep", "page", "agents", "agent_list"} <= set(data)
    assert {"status", "url", "error"} <= set(data["robots"]) and {"status", "final_url"} <= set(data["page"])
    assert {"name", "operator", "robots", "tdm_reserved", "tags", "verdict"} <= set(data["agents"][0])
    assert {"allowed", "line_number", "line", "group"} <= set(data["agents"][0]["robots"])
    assert data["agent_list"]["commit"] == AGENT_LIST_SOURCE.commit


@pytest.mark.parametrize("bad", ["", "example.com/a", "ftp://example.com/", "https://", "http://a b/"])
def test_bad_urls_are_refused(bad: str) -> None:
    with pytest.raises(BadUrl):
        validate_url(bad)


def test_bundled_agent_list() -> None:
    agents = bundled_agents()
    names = {a.name for a in agents}
    assert {"GPTBot", "ClaudeBot", "CCBot", "Google-Extended"} <= names and len(agents) > 100
    gpt = next(a for a in agents if a.name == "GPTBot")
    assert "OpenAI" in gpt.operator and gpt.respect == "Yes"
    assert (gpt.operator_name, gpt.operator_url) == ("OpenAI", "https://openai.com")  # from [OpenAI](...)
    assert next(a for a in agents if a.name == "HenkBot").operator_name == ""  # "Unclear at this time."
    assert next(a for a in agents if a.name == "Brightbot 1.0").token == "Brightbot"
    assert AGENT_LIST_SOURCE.licence == "MIT" and len(AGENT_LIST_SOURCE.commit) == 40
