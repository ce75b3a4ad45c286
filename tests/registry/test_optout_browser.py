"""The opt-out check in Debian's chromium: a site owner types a URL and reads the per-agent table in Japanese.
The screenshot is saved under test-artifacts/registry/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiroku.registry import RegistrySettings, create_app
from tests.conftest import needs_chromium, needs_japanese_font
from tests.optout.sites import loopback_sites
from tests.registry.conftest import served

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "registry"


@needs_chromium
@needs_japanese_font
def test_site_owner_checks_a_url_in_japanese(tmp_path: Path, browser: Any) -> None:
    settings = RegistrySettings(
        database_url=f"sqlite:///{tmp_path / 'registry.sqlite'}", allow_private_fetch=True
    )
    with loopback_sites() as sites, served(create_app(settings)) as live:
        context = browser.new_context(locale="ja-JP", viewport={"width": 1400, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live.url}/")
        page.get_by_role("link", name="オプトアウト確認").click()
        assert page.locator("h1").inner_text() == "サイトのオプトアウト確認"
        page.fill("input[name=url]", f"http://127.0.0.1:{sites.port}/a")
        page.get_by_role("button", name="確認する").click()
        gpt = page.locator("tr[data-agent=GPTBot]")
        assert "不許可: 3 行目（gptbot グループ）: Disallow: /" in gpt.inner_text()
        assert gpt.locator(".badge").inner_text() == "取得不可"
        assert page.locator("tr[data-agent=CCBot] .badge").inner_text() == "取得も学習も可能"
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "optout-ja.png"), full_page=False)
        gpt.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTEFACTS / "optout-ja-gptbot.png"), full_page=False)
        assert errors == []
        context.close()
