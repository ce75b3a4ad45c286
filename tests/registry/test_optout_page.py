"""The registry's opt-out check page and its JSON twin, in-process, against sites served on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kiroku.optout.agents import bundled_agents
from kiroku.registry import RegistrySettings, create_app
from tests.optout.sites import LoopbackSites, loopback_sites


@pytest.fixture(scope="module")
def sites() -> Iterator[LoopbackSites]:
    with loopback_sites() as running:
        yield running


def _registry(tmp_path: Path, *, allow_private: bool) -> TestClient:
    settings = RegistrySettings(
        database_url=f"sqlite:///{tmp_path / 'registry.sqlite'}", allow_private_fetch=allow_private
    )
    return TestClient(create_app(settings))


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[TestClient]:
    with _registry(tmp_path, allow_private=True) as client:
        yield client


@pytest.fixture
def public_registry(tmp_path: Path) -> Iterator[TestClient]:
    with _registry(tmp_path, allow_private=False) as client:
        yield client


def test_form_is_linked_from_the_navigation_in_both_languages(registry: TestClient) -> None:
    english = registry.get("/optout?lang=en")
    assert english.status_code == 200
    assert '<a href="/optout">Opt-out check</a>' in english.text and 'name="url"' in english.text
    assert "ai.robots.txt" in english.text
    japanese = registry.get("/?lang=ja")
    assert '<a href="/optout">オプトアウト確認</a>' in japanese.text


def test_report_for_every_bundled_agent_in_english(registry: TestClient, sites: LoopbackSites) -> None:
    page = registry.get("/optout", params={"url": f"http://127.0.0.1:{sites.port}/a", "lang": "en"})
    assert page.status_code == 200, page.text
    assert page.text.count("<tr data-agent=") == len(bundled_agents())
    assert 'data-agent="GPTBot" data-verdict="may_not_fetch"' in page.text
    assert 'data-agent="CCBot" data-verdict="may_train"' in page.text
    assert "disallowed: line 3 (gptbot group): Disallow: /" in page.text
    assert "allowed: line 6 (* group): Allow: /" in page.text


def test_report_in_japanese_names_the_line(registry: TestClient, sites: LoopbackSites) -> None:
    page = registry.get("/optout", params={"url": f"http://127.0.0.1:{sites.port}/a", "lang": "ja"})
    assert page.status_code == 200
    assert '<th scope="col">判定</th>' in page.text
    assert "不許可: 3 行目（gptbot グループ）: Disallow: /" in page.text and "取得不可" in page.text
    assert "取得も学習も可能" in page.text


def test_json_twin(registry: TestClient, sites: LoopbackSites) -> None:
    answer = registry.get("/optout.json", params={"url": f"http://127.0.0.1:{sites.port}/a"})
    assert answer.status_code == 200
    data = answer.json()
    assert data["robots"]["status"] == 200 and data["page"]["status"] == 200
    gpt = next(agent for agent in data["agents"] if agent["name"] == "GPTBot")
    assert gpt["robots"] == {
        "allowed": False,
        "basis": "rule",
        "group": "gptbot",
        "line_number": 3,
        "line": "Disallow: /",
        "reason": gpt["robots"]["reason"],
    }
    assert gpt["verdict"] == "may_not_fetch"
    assert (gpt["operator"], gpt["operator_url"]) == ("OpenAI", "https://openai.com")
    assert len(data["agents"]) == len(bundled_agents())
    assert data["agents"][0].keys() >= {"name", "operator", "robots", "tdm_reserved", "tags", "verdict"}
    assert "ai-robots-txt/ai.robots.txt" in data["agent_list"]["description"]


def test_json_twin_errors_in_the_envelope(registry: TestClient) -> None:
    missing = registry.get("/optout.json")
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "refused"
    bad = registry.get("/optout.json", params={"url": "ftp://example.com/"})
    assert bad.status_code == 422 and "not an http(s) URL" in bad.json()["error"]["message"]


def test_private_addresses_are_refused(public_registry: TestClient, sites: LoopbackSites) -> None:
    answer = public_registry.get("/optout.json", params={"url": f"http://127.0.0.1:{sites.port}/a"})
    assert answer.status_code == 422
    assert "not a public address" in answer.json()["error"]["message"]
    page = public_registry.get("/optout", params={"url": "http://169.254.169.254/latest/", "lang": "en"})
    assert page.status_code == 422 and 'role="alert"' in page.text and "not a public address" in page.text
    # a name resolving to loopback: refused when the registry connects, with the address it resolved to
    named = public_registry.get("/optout.json", params={"url": f"http://localhost:{sites.port}/a"})
    assert named.status_code == 422
    message = named.json()["error"]["message"]
    assert message.startswith("localhost resolves to ") and message.endswith(
        ", not a public address: the registry fetches only from the internet"
    )


def test_script_in_the_url_is_shown_escaped(registry: TestClient, sites: LoopbackSites) -> None:
    url = f"http://127.0.0.1:{sites.port}/a?q=<script>alert(1)</script>"
    page = registry.get("/optout", params={"url": url, "lang": "en"})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_checks_are_rate_limited(tmp_path: Path, sites: LoopbackSites) -> None:
    settings = RegistrySettings(
        database_url=f"sqlite:///{tmp_path / 'r.sqlite'}", allow_private_fetch=True, search_limit="2/minute"
    )
    with TestClient(create_app(settings)) as client:
        url = {"url": f"http://127.0.0.1:{sites.port}/a"}
        assert [client.get("/optout.json", params=url).status_code for _ in range(3)] == [200, 200, 429]
        assert client.get("/optout").status_code == 200  # the form itself is not a check
