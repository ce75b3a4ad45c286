"""The public pages, each with a JSON twin at the same path with ``.json`` (datasette's habit).

- ``/`` (``/index.json``): the comply-or-explain matrix for a year, with search and filters;
- ``/firms`` (``/firms.json``): the registered firms;
- ``/firms/{slug}`` (``.json``): a firm, its filings with their history, and its witnessed checkpoints;
- ``/filings/{id}`` (``.json``): a filing with its signature and checkpoint badges and downloads;
  ``/filings/{id}/raw`` is the document as filed, ``/filings/{id}/statement.html`` a statement rendered;
- ``/register``: a firm's registration request (a form with its CSRF token).

Pages are rendered with Jinja2 (autoescaped) in the language `kiroku.registry.i18n.choose_language` picks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from kiroku.disclose.render import statement_html
from kiroku.disclose.signing import SignatureError, verify_document
from kiroku.disclose.statement import verify_statement
from kiroku.registry.app import registry_of
from kiroku.registry.db import RowId
from kiroku.registry.errors import Conflict, NotFound, Refused
from kiroku.registry.filings import Filing, find_filing, list_filings
from kiroku.registry.firms import find_firm, list_firms, register_firm
from kiroku.registry.i18n import LANGUAGES, choose_language, messages
from kiroku.registry.matrix import STATUSES, build_matrix, filed_years
from kiroku.registry.security import check_csrf, csrf_token, remember_choices
from kiroku.registry.witness import witnessed

__all__ = ["render_page", "router"]

router = APIRouter(include_in_schema=False)


def render_page(request: Request, template: str, code: int = 200, **context: Any) -> Response:
    """Render ``template`` in the chosen language, with the CSRF token and the session's administrator, and set
    the cookies the page needs."""
    registry = registry_of(request)
    lang = choose_language(request)
    html = registry.templates.get_template(template).render(
        request=request,
        lang=lang,
        other_lang=next(other for other in LANGUAGES if other != lang),
        t=messages(lang),
        path=request.url.path,
        csrf=csrf_token(request),
        signed_in=request.session.get("admin") if "session" in request.scope else None,
        **context,
    )
    return remember_choices(
        request, HTMLResponse(html, status_code=code), secure=registry.settings.secure_cookies
    )


def _json(request: Request, data: dict[str, Any]) -> Response:
    return remember_choices(request, JSONResponse(data), secure=registry_of(request).settings.secure_cookies)


def _year(request: Request, year: int | None) -> int:
    if year is not None:
        return year
    years = filed_years(registry_of(request).engine)
    return years[0] if years else datetime.now(UTC).year


def _matrix(
    request: Request, year: int | None, q: str | None, requirement: str | None, status: str | None
) -> Any:
    chosen = _year(request, year)
    status = status if status in STATUSES else None
    return build_matrix(registry_of(request).engine, chosen, search=q or None, requirement=requirement or None,
                        status=status)  # fmt: skip


@router.get("/", response_class=HTMLResponse)
def matrix_page(
    request: Request, year: int | None = None, q: str | None = None, requirement: str | None = None,
    status: str | None = None,
) -> Response:  # fmt: skip
    """The comply-or-explain matrix."""
    matrix = _matrix(request, year, q, requirement, status)
    years = sorted(set(filed_years(registry_of(request).engine)) | {matrix.year}, reverse=True)
    return render_page(request, "matrix.html", matrix=matrix, years=years, q=q or "", requirement=requirement or "",
                 status=status or "", statuses=STATUSES)  # fmt: skip


@router.get("/index.json")
def matrix_json(
    request: Request, year: int | None = None, q: str | None = None, requirement: str | None = None,
    status: str | None = None,
) -> Response:  # fmt: skip
    """The matrix as JSON."""
    return _json(request, _matrix(request, year, q, requirement, status).public())


@router.get("/firms", response_class=HTMLResponse)
def firms_page(request: Request) -> Response:
    """The registered firms."""
    return render_page(request, "firms.html", firms=list_firms(registry_of(request).engine))


@router.get("/firms.json")
def firms_json(request: Request) -> Response:
    """The registered firms as JSON."""
    return _json(request, {"firms": [firm.public() for firm in list_firms(registry_of(request).engine)]})


def _firm_context(request: Request, slug: str) -> dict[str, Any]:
    engine = registry_of(request).engine
    firm = find_firm(engine, slug)
    filed = list_filings(engine, firm=firm)
    latest: dict[tuple[str, int], int] = {}
    for filing in filed:
        latest.setdefault((filing.kind, filing.year), filing.version)
    return {"firm": firm, "filings": filed, "latest": latest, "checkpoints": witnessed(engine, firm)}


@router.get("/firms/{slug}.json")
def firm_json(request: Request, slug: str) -> Response:
    """A firm, its filings and its witnessed checkpoints, as JSON."""
    context = _firm_context(request, slug)
    return _json(
        request,
        {
            "firm": context["firm"].public(),
            "filings": [filing.public() for filing in context["filings"]],
            "checkpoints": [checkpoint.public() for checkpoint in context["checkpoints"]],
        },
    )


@router.get("/firms/{slug}", response_class=HTMLResponse)
def firm_page(request: Request, slug: str) -> Response:
    """A firm's page."""
    return render_page(request, "firm.html", **_firm_context(request, slug))


def _badges(request: Request, filing: Filing) -> dict[str, bool]:
    engine = registry_of(request).engine
    firm = find_firm(engine, filing.firm)
    try:
        if filing.kind == "notification":
            verify_document(filing.document, firm.verifier)
        else:
            verify_statement(filing.document, firm.verifier)
        signature = True
    except SignatureError:
        signature = False
    roots = {(c.size, c.root) for c in witnessed(engine, firm) if c.consistent}
    return {"signature": signature, "witnessed": (filing.ledger_size, filing.ledger_root) in roots}


def _filing(request: Request, filing_id: RowId) -> tuple[Filing, dict[str, Any]]:
    engine = registry_of(request).engine
    filing = find_filing(engine, filing_id)
    firm = find_firm(engine, filing.firm)  # NotFound for a firm no longer approved
    versions = list_filings(engine, firm=firm, year=filing.year, kind=filing.kind, newest_first=False)
    siblings = [f for f in list_filings(engine, firm=firm, year=filing.year) if f.kind != filing.kind]
    return filing, {
        "firm": firm,
        "versions": versions,
        "siblings": siblings,
        "badges": _badges(request, filing),
    }


@router.get("/filings/{filing_id}.json")
def filing_json(request: Request, filing_id: RowId) -> Response:
    """A filing with its badges, versions and the document as filed."""
    filing, context = _filing(request, filing_id)
    return _json(
        request,
        {
            "filing": filing.public(with_document=True),
            "badges": context["badges"],
            "versions": [f.public() for f in context["versions"]],
            "same_year": [f.public() for f in context["siblings"]],
        },
    )


@router.get("/filings/{filing_id}", response_class=HTMLResponse)
def filing_page(request: Request, filing_id: RowId) -> Response:
    """A filing's page."""
    filing, context = _filing(request, filing_id)
    return render_page(request, "filing.html", filing=filing, **context)


@router.get("/filings/{filing_id}/raw")
def filing_raw(request: Request, filing_id: RowId) -> Response:
    """The document exactly as filed."""
    filing = find_filing(registry_of(request).engine, filing_id)
    name = f"{filing.firm}-{filing.kind}-{filing.year}-v{filing.version}.json"
    return Response(
        filing.body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/filings/{filing_id}/statement.html", response_class=HTMLResponse)
def filing_rendered(request: Request, filing_id: RowId) -> Response:
    """A filed statement, rendered as kiroku renders it (print-ready, Japanese and English)."""
    filing = find_filing(registry_of(request).engine, filing_id)
    if filing.kind != "statement":
        raise NotFound(f"filing {filing_id} is a {filing.kind}, not a statement")
    page = HTMLResponse(statement_html(filing.document))
    # the rendered statement carries its own print styles inline; it runs no script
    page.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'"
    )
    return page


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request) -> Response:
    """The registration form."""
    return render_page(request, "register.html", values={}, problem=None)


@router.post("/register", response_class=HTMLResponse)
def register_submit(
    request: Request,
    name: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    contact: Annotated[str, Form()] = "",
    key: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Take a registration request from the form; show the token once."""
    check_csrf(request, csrf)
    try:
        firm, token = register_firm(registry_of(request).engine, name, address, contact, key)
    except (Refused, Conflict) as exc:
        values = {"name": name, "address": address, "contact": contact, "key": key}
        return render_page(request, "register.html", code=exc.status, values=values, problem=str(exc))
    return render_page(request, "registered.html", code=201, firm=firm, token=token)
