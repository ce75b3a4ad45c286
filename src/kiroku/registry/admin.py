"""Registry administrators' pages: sign-in, the registration requests to approve or reject, new firm tokens, and
the audit log.

An administrator signs in with a user name and password (argon2id, `kiroku registry admin add`); the session is a
signed cookie (SameSite=Strict, HttpOnly) holding the user name. Every form carries the CSRF token; the approve
and reject buttons post through htmx and swap their table row, and work as plain forms without JavaScript. Every
decision is written to the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from kiroku.registry.app import registry_of
from kiroku.registry.db import audit_log
from kiroku.registry.errors import NotFound, Unauthorized
from kiroku.registry.firms import approve_firm, audit, check_admin, issue_token, list_firms
from kiroku.registry.pages import render_page
from kiroku.registry.security import check_csrf

__all__ = ["router"]

router = APIRouter(prefix="/admin", include_in_schema=False)


def _admin(request: Request) -> str | None:
    name = request.session.get("admin")
    return name if isinstance(name, str) else None


def _required(request: Request) -> str:
    name = _admin(request)
    if name is None:
        raise Unauthorized("sign in as a registry administrator first (/admin/login)")
    return name


def _recent_audit(request: Request, limit: int = 50) -> list[Any]:
    with registry_of(request).engine.connect() as conn:
        return list(conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)))


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """The sign-in form."""
    return render_page(request, "admin_login.html", problem=None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Check the password; on success start a session and go to the administration page."""
    check_csrf(request, csrf)
    registry = registry_of(request)
    try:
        name = check_admin(registry.engine, username, password)
    except Unauthorized as exc:
        audit(registry.engine, username[:100] or "-", "sign_in_failed", "admin")
        return render_page(request, "admin_login.html", code=401, problem=str(exc))
    request.session.clear()
    request.session["admin"] = name
    audit(registry.engine, name, "sign_in", "admin")
    return RedirectResponse("/admin", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    """End the session."""
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request) -> Response:
    """Requests waiting for approval, every firm, and the latest entries of the audit log."""
    if _admin(request) is None:
        return RedirectResponse("/admin/login", status_code=303)
    engine = registry_of(request).engine
    return render_page(
        request,
        "admin.html",
        admin=_admin(request),
        pending=list_firms(engine, status="pending"),
        firms=list_firms(engine, status=None),
        entries=_recent_audit(request),
        token=None,
    )


# declared before "/firms/{slug}/{decision}", which would otherwise take "token" as a decision
@router.post("/firms/{slug}/token", response_class=HTMLResponse)
def new_token(request: Request, slug: str, csrf: Annotated[str, Form()] = "") -> Response:
    """Issue a new API token for a firm and show it once."""
    check_csrf(request, csrf)
    actor = _required(request)
    engine = registry_of(request).engine
    token = issue_token(engine, slug, actor)
    return render_page(
        request,
        "admin.html",
        admin=actor,
        pending=list_firms(engine, status="pending"),
        firms=list_firms(engine, status=None),
        entries=_recent_audit(request),
        token=(slug, token),
    )


@router.post("/firms/{slug}/{decision}", response_class=HTMLResponse)
def decide(request: Request, slug: str, decision: str, csrf: Annotated[str, Form()] = "") -> Response:
    """Approve or reject a firm's request; htmx swaps the row, a plain form comes back to the page."""
    check_csrf(request, csrf)
    actor = _required(request)
    if decision not in ("approve", "reject"):
        raise NotFound(f"no such action {decision!r}")
    firm = approve_firm(registry_of(request).engine, slug, actor, approve=decision == "approve")
    if request.headers.get("hx-request") == "true":
        return render_page(request, "admin_row.html", firm=firm)
    return RedirectResponse("/admin", status_code=303)
