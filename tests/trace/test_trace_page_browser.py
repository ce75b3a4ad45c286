"""The trace page in a real browser (Debian's chromium through Playwright): spans shaded, a click reaches the span's
documents, Japanese rendered with a Japanese font."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import needs_chromium, needs_japanese_font
from tests.trace.conftest import japanese_documents, ok, stdlib_documents
from tests.trace.test_trace_cli import NOVEL, excerpt

pytestmark = [needs_chromium, needs_japanese_font]


def test_spans_are_shaded_and_a_click_reaches_the_documents(
    traced: Path, tmp_path: Path, browser: Any
) -> None:
    english = excerpt(stdlib_documents()[12]["text"], 0, 40)
    japanese = excerpt(japanese_documents()[0]["text"], 10, 40)
    (traced / "page-output.txt").write_text(f"{NOVEL} {english} {japanese}", encoding="utf-8")
    page_file = tmp_path / "trace.html"
    ok("trace", "--file", "page-output.txt", "--html", str(page_file), cwd=traced)

    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(page_file.as_uri())
    shaded = page.locator("a.hl")
    assert shaded.count() >= 2
    colour = shaded.first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    assert japanese[:6] in page.locator(".output").inner_text()

    target = shaded.nth(1).get_attribute("href")
    shaded.nth(1).click()
    assert page.evaluate("location.hash") == target
    card = page.locator(str(target))
    assert card.is_visible()
    assert card.evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }"
    )
    assert "docs.python.org" in card.inner_text() or "example" in card.inner_text()

    # Japanese glyphs come from a CJK font, not as boxes: ask the renderer which fonts drew the heading
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    heading = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": heading})["fonts"]
    assert any("CJK" in font["familyName"] for font in fonts), fonts
    page.screenshot(path=str(tmp_path / "trace.png"), full_page=True)
    page.close()
