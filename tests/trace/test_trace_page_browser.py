"""The trace page in a real browser (Debian's chromium through Playwright): spans shaded, a click reaches the span's
documents, Japanese rendered with a Japanese font."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.trace.conftest import japanese_documents, ok, stdlib_documents
from tests.trace.test_trace_cli import NOVEL, excerpt

CHROMIUM = Path("/usr/bin/chromium")


def _japanese_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True, check=False).stdout
    return bool(listed.strip())


pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.is_file(), reason="Debian's chromium is not installed (apt-get install chromium)"
    ),
    pytest.mark.skipif(
        not _japanese_font(), reason="no Japanese font is installed (apt-get install fonts-noto-cjk)"
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed"
    )
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield launched
        launched.close()


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
