"""The registry in Debian's chromium against a running server: the matrix, the language switch (remembered), a
statement with its verified badges, an administrator approving a firm through htmx. Screenshots are saved under
test-artifacts/registry/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiroku.ledger import Signer
from kiroku.registry.firms import add_admin, register_firm
from tests.conftest import kiroku, needs_chromium, needs_japanese_font
from tests.registry.conftest import FirmFiles, LiveRegistry
from tests.registry.test_inquiries import Site
from tests.registry.test_inquiries_cli import inquiry_registry, site

__all__ = ["inquiry_registry", "site"]  # fixtures shared with the inquiry tests

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "registry"
PASSWORD = "correct horse battery staple"


def _filed(live: LiveRegistry, firm: FirmFiles) -> None:
    import httpx

    from kiroku.registry.firms import approve_firm

    answer = httpx.post(
        f"{live.url}/api/v1/firms",
        json={"name": firm.name, "address": "Tokyo", "contact": "c@x.example", "key": firm.key},
    )
    slug, token = answer.json()["firm"]["slug"], answer.json()["token"]
    approve_firm(live.engine, slug, "admin")
    for name in ("notification.json", "statement.json", "eu-summary.json", "ab2013.json"):
        filed = httpx.post(f"{live.url}/api/v1/filings", content=firm.read(firm.first, name),
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert filed.status_code == 201, filed.text


def _shot(page: Any, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / name), full_page=True)


@needs_chromium
@needs_japanese_font
def test_browse_the_matrix_switch_language_and_open_a_verified_statement(
    live_registry: LiveRegistry, acme: FirmFiles, hoshi: FirmFiles, browser: Any
) -> None:
    _filed(live_registry, acme)
    _filed(live_registry, hoshi)
    context = browser.new_context(locale="ja-JP", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_registry.url}/")
    assert page.locator("h1").inner_text().startswith("遵守・説明 — 2026")
    hoshi_row = page.locator("tr", has=page.locator("a", has_text="Hoshi Labs"))
    assert hoshi_row.locator("td.status.explains").inner_text() == "説明"
    assert page.locator("td.status.complies").count() >= 10
    _shot(page, "matrix-ja.png")
    # the font renders Japanese (not empty boxes): chromium reports the fonts it used for the heading
    session = context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    root = session.send("DOM.getDocument")["root"]["nodeId"]
    heading = session.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": heading})["fonts"]
    assert any("CJK" in font["familyName"] or "Noto" in font["familyName"] for font in fonts), fonts
    page.get_by_role("link", name="English").click()
    assert page.locator("h1").inner_text().startswith("Comply or explain — 2026")
    page.goto(f"{live_registry.url}/firms")  # remembered by its cookie, whatever the browser's locale
    assert page.locator("h1").inner_text() == "Registered firms"
    page.goto(f"{live_registry.url}/")
    page.select_option("select[name=status]", "explains")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("tbody tr").count() == 1 and "Hoshi Labs" in page.locator("tbody tr").inner_text()
    _shot(page, "matrix-en-explains.png")
    page.locator("tbody tr a.small").click()  # the statement, v1
    assert page.locator("[data-badge=signature]").inner_text() == "✓ Signature verified"
    assert "Text outputs carry no watermark yet." in page.locator("p.explanation").inner_text()
    _shot(page, "statement-en.png")
    with page.expect_download() as download:
        page.get_by_role("link", name="As filed (JSON)").click()
    assert download.value.suggested_filename == "hoshi-labs-statement-2026-v1.json"
    assert errors == []
    context.close()


@needs_chromium
@needs_japanese_font
def test_an_administrator_approves_a_firm_through_htmx(live_registry: LiveRegistry, browser: Any) -> None:
    add_admin(live_registry.engine, "keeper", PASSWORD)
    register_firm(live_registry.engine, "Sakura AI", "Osaka", "c@sakura.example",
                  Signer.generate("sakura.example/log").verifier().to_vkey())  # fmt: skip
    context = browser.new_context(locale="en-GB", viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.goto(f"{live_registry.url}/admin")
    assert page.url.endswith("/admin/login")
    page.fill("input[name=username]", "keeper")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.locator("h1").inner_text() == "Administration"
    page.locator("#firm-sakura-ai button[data-decision=approve]").click()
    page.locator("#firm-sakura-ai .badge.ok").wait_for()  # htmx swapped the row in place
    assert page.url.endswith("/admin")
    _shot(page, "admin-approved.png")
    page.goto(f"{live_registry.url}/firms")
    assert "Sakura AI" in page.locator("main").inner_text()
    context.close()


@needs_chromium
@needs_japanese_font
def test_a_rightsholder_asks_through_the_pages_and_sees_the_verified_answer(
    inquiry_registry: LiveRegistry, site: Site, acme: FirmFiles, browser: Any
) -> None:
    from kiroku.registry.firms import approve_firm

    registered = kiroku("registry", "register", "--name", acme.name, "--address", "Tokyo", "--contact",
                        "c@acme.example", "--registry", inquiry_registry.url, cwd=acme.root)  # fmt: skip
    token = registered.stdout.strip().splitlines()[-1]
    approve_firm(inquiry_registry.engine, "acme-ai-k-k", "admin")
    context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(f"{inquiry_registry.url}/inquiries")
    page.fill("input[name=domain]", "site2.example")
    page.fill("input[name=contact]", "owner@site2.example")
    page.locator("form[action='/inquiries/claims'] button").click()
    served_token = page.locator("pre.token").inner_text().strip()
    site.serve("site2.example", f"kiroku-verification: {served_token}\n")
    page.locator("form[action$='/verify'] button").click()
    page.select_option("select[name=firm]", "acme-ai-k-k")
    page.locator("input[name=kind][value=domain]").check()
    page.locator("form[action='/inquiries/ask'] button").click()
    assert (
        page.locator("[data-badge=answer]").get_attribute("data-status") is None
    )  # asked, open: no answer yet
    _shot(page, "inquiry-open.png")
    answered = kiroku("registry", "inquiries", "answer", "--registry", inquiry_registry.url, "--token", token,
                      cwd=acme.root)  # fmt: skip
    assert answered.returncode == 0 and "answered, verified" in answered.stdout, answered.stderr
    page.reload()
    assert page.locator("[data-badge=answer]").get_attribute("data-status") == "verified"
    _shot(page, "inquiry-answered.png")
    page.get_by_role("link", name="日本語").click()  # the secret link survives the language switch
    assert page.locator("[data-badge=answer]").get_attribute("data-status") == "verified"
    _shot(page, "inquiry-answered-ja.png")
    context.close()
