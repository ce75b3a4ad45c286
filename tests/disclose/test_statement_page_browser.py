"""The rendered statement in Debian's chromium: both languages render (with a Japanese font), every requirement and
its status are on the page, and it prints to A4. Screenshots are saved under test-artifacts/ (a test artefact)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kiroku.disclose.render import statement_html, statement_markdown
from tests.conftest import needs_chromium, needs_japanese_font
from tests.disclose.conftest import build

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_the_markdown_names_every_requirement_in_both_languages(statement_workspace: Path) -> None:
    statement = build(statement_workspace, "public", "md")
    text = (statement_workspace / "md" / "statement.md").read_text(encoding="utf-8")
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
def test_the_page_renders_both_languages_in_chromium(
    statement_workspace: Path, browser: Any, tier: str
) -> None:
    statement = build(statement_workspace, tier, f"page-{tier}")
    page_file = statement_workspace / f"page-{tier}" / "statement.html"
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
