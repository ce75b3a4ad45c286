"""The rendered statement in Debian's chromium: both languages render (with a Japanese font), every requirement and
its status are on the page, and it prints to A4. The screenshot is kept beside the test's files."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiroku.disclose.render import statement_html, statement_markdown
from tests.disclose.conftest import build

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _japanese_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True, check=False).stdout
    return bool(listed.strip())


needs_chromium = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="Debian's chromium is not installed (apt-get install chromium)"
)
needs_japanese_font = pytest.mark.skipif(
    not _japanese_font(), reason="no Japanese font is installed (apt-get install fonts-noto-cjk)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed"
    )
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


def test_the_markdown_names_every_requirement_in_both_languages(workspace: Path) -> None:
    statement = build(workspace, "public", "md")
    text = (workspace / "md" / "statement.md").read_text(encoding="utf-8")
    assert text == statement_markdown(statement)
    assert text.startswith(
        "# 生成AIと知的財産に関するコード案（2026年4月版） 遵守状況報告書（2026年）\n# Compliance"
    )
    for requirement in statement["requirements"]:
        assert f"## {requirement['title']['ja']} / {requirement['title']['en']}" in text
    assert "遵守 / complies" in text and "高影響モデル / high-impact: はい / yes" in text


@needs_chromium
@needs_japanese_font
@pytest.mark.parametrize("tier", ["public", "regulator"])
def test_the_page_renders_both_languages_in_chromium(workspace: Path, browser: Any, tier: str) -> None:
    statement = build(workspace, tier, f"page-{tier}")
    page_file = workspace / f"page-{tier}" / "statement.html"
    assert page_file.read_text(encoding="utf-8") == statement_html(statement)
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    page.goto(page_file.as_uri())
    assert page.locator("section.req").count() == len(statement["requirements"])
    heading = page.locator("h1").inner_text()
    assert "遵守状況報告書" in heading and "Compliance statement 2026" in heading
    for requirement in statement["requirements"]:
        section = page.locator(f"section#{requirement['id']}")
        assert requirement["title"]["ja"] in section.inner_text()
        assert requirement["title"]["en"] in section.inner_text()
    assert page.locator(".summary .complies strong").inner_text() == str(statement["summary"]["complies"])
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    title = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "section.req h2"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": title})["fonts"]
    assert any("CJK" in font["familyName"] for font in fonts), fonts  # Japanese drawn with a Japanese font
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"statement-{tier}.png"), full_page=True)
    page.close()
    json.dumps(statement)  # the statement stays plain JSON
