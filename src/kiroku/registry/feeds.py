"""Registry-wide figures with a chart, an Atom feed of new filings, and CSV exports.

- ``/figures`` (``/figures.json``): per year with filed statements, how many firms comply with each requirement,
  partially comply, explain or have not filed, with the number of firms and statements; the page draws the
  chosen year (``?year=``, the latest by default) as an inline SVG chart that needs no script and no style;
- ``/feed.atom``: the newest filings of every kind as an Atom 1.0 feed (RFC 4287);
- ``/index.csv``: the comply-or-explain matrix with the filters of ``/``; ``/filings.csv``: every filing.

CSV cells that a spreadsheet would run as a formula are neutralised with a leading apostrophe: firm names and
requirement ids come from firms, not from the registry.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import Engine, func, select

from kiroku.registry.app import registry_of
from kiroku.registry.db import filings, firms
from kiroku.registry.errors import NotFound
from kiroku.registry.filings import list_filings
from kiroku.registry.firms import list_firms, now
from kiroku.registry.i18n import Lang, choose_language, messages
from kiroku.registry.matrix import STATUSES, Matrix, Requirement, Status, build_matrix, filed_years
from kiroku.registry.pages import render_page
from kiroku.registry.security import remember_choices

__all__ = [
    "Bar",
    "Chart",
    "Segment",
    "YearFigures",
    "atom_feed",
    "build_figures",
    "chart_of",
    "csv_cell",
    "router",
]

router = APIRouter(include_in_schema=False)

FEED_SIZE = 50
"""How many filings the Atom feed lists."""
COLOURS: dict[Status, tuple[str, str]] = {
    "complies": ("#1a7f37", "#e6f4ea"),
    "partially": ("#9a6700", "#fff4d6"),
    "explains": ("#b42318", "#fdecea"),
    "not_filed": ("#6e7781", "#f3f4f6"),
}
"""Ink and fill of each status, as registry.css's ``.status.*`` draws them."""
CHART_WIDTH, BAR_WIDTH, ROW_HEIGHT, LEGEND_HEIGHT = 800, 420, 54, 36
_ATOM = "http://www.w3.org/2005/Atom"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# characters XML 1.0 cannot carry at all: a firm's name holding one would make the feed unparseable
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- figures ---


@dataclass(frozen=True)
class YearFigures:
    """One year's figures: firms (approved, as the matrix lists them), firms that filed a statement, statement
    filings (corrections included), and the count of each status per requirement."""

    year: int
    firms: int
    filed: int
    statements: int
    requirements: list[Requirement]
    totals: dict[str, dict[Status, int]]

    def public(self) -> dict[str, Any]:
        """As the JSON twin shows it."""
        return {
            "year": self.year,
            "firms": self.firms,
            "filed": self.filed,
            "statements": self.statements,
            "requirements": [{"id": r.id, "title": r.title} for r in self.requirements],
            "totals": self.totals,
        }


def _statements_per_year(engine: Engine) -> dict[int, int]:
    query = (
        select(filings.c.year, func.count())
        .select_from(filings.join(firms, firms.c.id == filings.c.firm_id))
        .where(firms.c.status == "approved", filings.c.kind == "statement")
        .group_by(filings.c.year)
    )
    with engine.connect() as conn:
        return {int(year): int(count) for year, count in conn.execute(query)}


def _figures_of(matrix: Matrix, statements: int) -> YearFigures:
    filed = sum(row.statement is not None for row in matrix.rows)
    return YearFigures(matrix.year, len(matrix.rows), filed, statements, matrix.requirements, matrix.totals)


def build_figures(engine: Engine) -> list[YearFigures]:
    """The figures of every year with a filed statement, newest first."""
    counted = _statements_per_year(engine)
    return [_figures_of(build_matrix(engine, year), counted[year]) for year in sorted(counted, reverse=True)]


@dataclass(frozen=True)
class Segment:
    """One status's part of a bar: its count, where it starts and how wide it is (SVG user units)."""

    status: Status
    count: int
    x: float
    width: float
    ink: str
    fill: str


@dataclass(frozen=True)
class Bar:
    """One requirement's stacked bar, ``y`` being the top of its row."""

    requirement: Requirement
    y: int
    counts: dict[Status, int]
    segments: list[Segment]


@dataclass(frozen=True)
class Chart:
    """The stacked bars of one year, laid out for an SVG ``width`` by ``height``."""

    width: int
    height: int
    bar_width: int
    row_height: int
    legend: list[tuple[Status, str, str]]
    bars: list[Bar]


def chart_of(figures: YearFigures) -> Chart:
    """The chart of ``figures``: per requirement, one bar split by status in proportion to the firms."""
    bars = []
    for row, requirement in enumerate(figures.requirements):
        counts = figures.totals[requirement.id]
        total = sum(counts.values())
        segments, x = [], 0.0
        for status in STATUSES:
            if counts[status]:
                width = round(BAR_WIDTH * counts[status] / total, 2)
                segments.append(Segment(status, counts[status], round(x, 2), width, *COLOURS[status]))
                x += width
        bars.append(Bar(requirement, LEGEND_HEIGHT + row * ROW_HEIGHT, dict(counts), segments))
    legend = [(status, *COLOURS[status]) for status in STATUSES]
    height = LEGEND_HEIGHT + len(bars) * ROW_HEIGHT
    return Chart(CHART_WIDTH, height, BAR_WIDTH, ROW_HEIGHT, legend, bars)


# --- pages ---


def _chosen(figures: list[YearFigures], year: int | None) -> YearFigures | None:
    if year is None:
        return figures[0] if figures else None
    for entry in figures:
        if entry.year == year:
            return entry
    filed = ", ".join(str(entry.year) for entry in figures) or "none yet"
    raise NotFound(f"no statement was filed for {year} (years with statements: {filed})")


@router.get("/figures", response_class=HTMLResponse)
def figures_page(request: Request, year: int | None = None) -> Response:
    """The registry's figures, with the chosen year's chart."""
    figures = build_figures(registry_of(request).engine)
    chosen = _chosen(figures, year)
    chart = None if chosen is None else chart_of(chosen)
    return render_page(
        request, "figures.html", figures=figures, chosen=chosen, chart=chart, statuses=STATUSES
    )


@router.get("/figures.json")
def figures_json(request: Request, year: int | None = None) -> Response:
    """The registry's figures as JSON; ``year`` is the year the page charts."""
    figures = build_figures(registry_of(request).engine)
    chosen = _chosen(figures, year)
    data = {"year": None if chosen is None else chosen.year, "years": [entry.public() for entry in figures]}
    return remember_choices(request, JSONResponse(data), secure=registry_of(request).settings.secure_cookies)


# --- the Atom feed ---


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {name: _text(value) for name, value in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def atom_feed(engine: Engine, base_url: str, lang: Lang, limit: int = FEED_SIZE) -> bytes:
    """The Atom 1.0 document of the ``limit`` newest filings, with absolute links under ``base_url``."""
    t = messages(lang)
    base = base_url.rstrip("/")
    names = {firm.slug: firm.name for firm in list_firms(engine)}
    newest = list_filings(engine, limit=limit)
    feed = ET.Element("feed", {"xmlns": _ATOM, _XML_LANG: lang})
    _add(feed, "id", f"{base}/feed.atom")
    _add(feed, "title", f"{t['feed_title']} — {t['site_title']}")
    _add(feed, "subtitle", t["site_subtitle"])
    _add(feed, "updated", newest[0].received_at if newest else now())
    _add(feed, "link", rel="self", type="application/atom+xml", href=f"{base}/feed.atom")
    _add(feed, "link", rel="alternate", type="text/html", href=f"{base}/")
    _add(feed, "generator", "kiroku registry")
    for filing in newest:
        name = names.get(filing.firm, filing.firm)
        url = f"{base}/filings/{filing.id}"
        entry = _add(feed, "entry")
        _add(entry, "id", url)
        _add(entry, "title", f"{name} — {filing.kind} {filing.year} v{filing.version}")
        _add(entry, "updated", filing.received_at)
        _add(entry, "published", filing.received_at)
        _add(entry, "link", rel="alternate", type="text/html", href=url)
        author = _add(entry, "author")
        _add(author, "name", name)
        _add(author, "uri", f"{base}/firms/{filing.firm}")
        _add(entry, "category", term=filing.kind)
        _add(
            entry,
            "summary",
            f"{filing.kind} {filing.year} v{filing.version} · SHA-256 {filing.sha256} · "
            f"{t['ledger']} {t['size']} {filing.ledger_size}",
        )
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document


@router.get("/feed.atom")
def feed(request: Request) -> Response:
    """The newest filings as an Atom feed."""
    body = atom_feed(registry_of(request).engine, str(request.base_url), choose_language(request))
    return Response(body, media_type="application/atom+xml; charset=utf-8")


# --- CSV ---


def csv_cell(value: object) -> str | int:
    """A value as a CSV cell; text a spreadsheet would take for a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv(rows: Iterable[Sequence[object]], filename: str) -> Response:
    out = io.StringIO()
    csv.writer(out).writerows([csv_cell(value) for value in row] for row in rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/index.csv")
def matrix_csv(
    request: Request, year: int | None = None, q: str | None = None, requirement: str | None = None,
    status: str | None = None,
) -> Response:  # fmt: skip
    """The comply-or-explain matrix as CSV, with the filters of ``/``: one row per firm."""
    engine = registry_of(request).engine
    if year is None:
        years = filed_years(engine)
        year = years[0] if years else datetime.now(UTC).year
    matrix = build_matrix(engine, year, search=q or None, requirement=requirement or None,
                          status=status if status in STATUSES else None)  # fmt: skip
    ids = [r.id for r in matrix.requirements]
    rows: list[list[object]] = [["firm", "name", "flagged", "statement", "version", *ids]]
    for row in matrix.rows:
        statement, version = (
            (None, None) if row.statement is None else (row.statement.id, row.statement.version)
        )
        rows.append(
            [
                row.firm.slug,
                row.firm.name,
                row.firm.flagged,
                statement,
                version,
                *(row.statuses[i] for i in ids),
            ]
        )
    return _csv(rows, f"registry-{matrix.year}.csv")


@router.get("/filings.csv")
def filings_csv(request: Request) -> Response:
    """Every filing of the approved firms as CSV, oldest first (documents are at ``/filings/{id}/raw``)."""
    columns = (
        filings.c.id, firms.c.slug, filings.c.kind, filings.c.year, filings.c.version, filings.c.sha256,
        filings.c.ledger_size, filings.c.ledger_root, filings.c.received_at,
    )  # fmt: skip
    query = (
        select(*columns)
        .select_from(filings.join(firms, firms.c.id == filings.c.firm_id))
        .where(firms.c.status == "approved")
        .order_by(filings.c.id)
    )
    with registry_of(request).engine.connect() as conn:
        found = [tuple(row) for row in conn.execute(query)]
    header = ("id", "firm", "kind", "year", "version", "sha256", "ledger_size", "ledger_root", "received_at")
    return _csv([header, *found], "registry-filings.csv")
