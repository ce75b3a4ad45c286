"""``kiroku optout check`` against sites served on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from kiroku.optout.agents import bundled_agents
from tests.conftest import kiroku
from tests.optout.sites import LoopbackSites, loopback_sites


@pytest.fixture(scope="module")
def sites() -> Iterator[LoopbackSites]:
    with loopback_sites() as running:
        yield running


def test_table_names_the_deciding_line_and_the_agent_list(sites: LoopbackSites) -> None:
    result = kiroku(
        "optout",
        "check",
        sites.url("gpt.test"),
        "--agent",
        "GPTBot",
        "--agent",
        "CCBot",
        *sites.resolve_options(),
    )
    assert result.returncode == 0, result.stderr
    gpt = next(line for line in result.stdout.splitlines() if "GPTBot" in line)
    assert "disallowed: line 3 (gptbot group): Disallow: /" in gpt and "may not fetch" in gpt
    ccbot = next(line for line in result.stdout.splitlines() if "CCBot" in line)
    assert "allowed: line 6 (* group): Allow: /" in ccbot and "may fetch and train" in ccbot
    assert "1 may train, 0 opted out of training, 1 may not fetch" in result.stdout
    assert "ai-robots-txt/ai.robots.txt" in result.stdout and "MIT licence" in result.stdout


def test_table_in_japanese(sites: LoopbackSites) -> None:
    result = kiroku(
        "optout",
        "check",
        sites.url("xrobots.test"),
        "--agent",
        "GPTBot",
        "--lang",
        "ja",
        *sites.resolve_options(),
    )
    assert result.returncode == 0, result.stderr
    assert "判定" in result.stdout and "取得は可能、AI 学習は拒否済み（x-robots-tag:noai）" in result.stdout


def test_json_report_for_every_bundled_agent_by_default(sites: LoopbackSites) -> None:
    result = kiroku("optout", "check", sites.url("badtdm.test"), "--json", *sites.resolve_options())
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [a["name"] for a in data["agents"]] == [a.name for a in bundled_agents()]
    assert (
        data["tdmrep"]["source"] == "unparsable_file" and "counts it as reserving" in data["tdmrep"]["note"]
    )
    assert {a["verdict"] for a in data["agents"]} == {"opted_out"}
    assert data["agent_list"]["licence"] == "MIT"


def test_named_agent_plus_all_agents(sites: LoopbackSites) -> None:
    result = kiroku(
        "optout",
        "check",
        sites.url("gone.test"),
        "--agent",
        "MyBot",
        "--all-agents",
        "--json",
        *sites.resolve_options(),
    )
    names = [a["name"] for a in json.loads(result.stdout)["agents"]]
    assert names[0] == "MyBot" and len(names) == len(bundled_agents()) + 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not a url"], "percent-encode"),
        (["ftp://example.com/"], "not an http(s) URL"),
        (["https://example.com/", "--resolve", "example.com:80"], "HOST:PORT:ADDR"),
        (["https://example.com/", "--lang", "fr"], "must be en or ja"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = kiroku("optout", "check", *args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
