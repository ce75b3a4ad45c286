"""Rightsholders' inquiries on the web: the JSON API and the pages (`kiroku.registry.inquiries` works).

JSON API, under ``/api/v1``:

- ``POST /claims`` ``{"domain", "contact"}``: claim a domain; the answer holds the token to serve and the
  claim's secret (shown once);
- ``POST /claims/{id}/verify`` ``{"secret"}``: have the registry fetch the verification file;
- ``POST /inquiries`` ``{"claim", "claim_secret", "firm", "text"}``: ask a firm about the claim's domain (no
  ``text``) or about a text; the answer holds the inquiry's secret (shown once);
- ``GET /inquiries/open`` (firm's bearer token): the firm's open inquiries;
- ``POST /inquiries/{id}/answer`` (firm's bearer token): the answer bundle, exactly as kiroku wrote it;
- ``GET /inquiries/{id}?secret=...``: the inquiry, its answer and the registry's verification.

Pages (each with a ``.json`` twin): ``/inquiries`` (claim a domain), ``/inquiries/claims/{id}/{secret}``
(serve the token, verify, ask), ``/inquiries/{id}/{secret}`` (the answer with its verification badge) and
``/inquiries/stats`` (every firm's response times, public). A page for one claim or inquiry is reached by its
secret link only; the secret sits in the path, so that the language switch keeps it. Forms carry the CSRF
token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from kiroku.registry.api import FirmDep
from kiroku.registry.app import registry_of
from kiroku.registry.db import RowId
from kiroku.registry.errors import Forbidden, NotFound, Refused
from kiroku.registry.firms import list_firms
from kiroku.registry.i18n import choose_language, messages
from kiroku.registry.inquiries import (
    MAX_TEXT,
    Claim,
    answer,
    ask,
    claim_domain,
    find_claim,
    find_inquiry,
    open_inquiries,
    response_times,
    verify_claim,
)
from kiroku.registry.pages import render_page
from kiroku.registry.security import check_csrf, remember_choices

__all__ = ["router"]

api = APIRouter(prefix="/api/v1", tags=["inquiries"])
pages = APIRouter(include_in_schema=False)
router = APIRouter()
_RAW_BUNDLE = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "description": "a kiroku.domain/v1 or kiroku.trace/v1 bundle"}
            }
        },
    }
}


class ClaimRequest(BaseModel):
    """A rightsholder's claim of a domain."""

    domain: str = Field(min_length=1, max_length=300, description="a domain or host, e.g. example.com")
    contact: str = Field(min_length=1, max_length=300, description="where the firm can reach you")


class ClaimSecret(BaseModel):
    """The claim's secret, given when the claim was made."""

    secret: str = Field(min_length=1, max_length=200)


class Question(BaseModel):
    """A question to a firm about a verified claim's domain, or about a piece of text from it."""

    claim: int
    claim_secret: str = Field(min_length=1, max_length=200)
    firm: str = Field(min_length=1, max_length=100, description="the firm's slug")
    text: str | None = Field(
        None, description=f"a text of up to {MAX_TEXT:,} characters; none for the domain"
    )


def _verification_url(request: Request) -> str:
    return registry_of(request).settings.verification_url


def _claim_link(claim: Claim, secret: str) -> str:
    return f"/inquiries/claims/{claim.id}/{secret}"


# -- the JSON API ---------------------------------------------------------------------------------------------


@api.post("/claims", status_code=201)
def create_claim(request: Request, body: ClaimRequest) -> dict[str, Any]:
    """Claim a domain. Serve the token in a file at ``verification_url``, then verify; the secret, shown once,
    lets you verify and ask."""
    claim, secret = claim_domain(registry_of(request).engine, body.domain, body.contact)
    return {
        "claim": claim.public(_verification_url(request)),
        "secret": secret,
        "url": _claim_link(claim, secret),
    }


@api.post("/claims/{claim_id}/verify")
def verify(request: Request, claim_id: RowId, body: ClaimSecret) -> dict[str, Any]:
    """Have the registry fetch the claim's verification file: the claim is verified if it holds the token."""
    registry = registry_of(request)
    claim = verify_claim(registry.engine, claim_id, body.secret, _verification_url(request),
                         allow_private=registry.settings.allow_private_fetch)  # fmt: skip
    return {"claim": claim.public(_verification_url(request))}


@api.post("/inquiries", status_code=201)
def create_inquiry(request: Request, body: Question) -> dict[str, Any]:
    """Ask an approved firm about your verified domain, or about a text from it. The secret, shown once, is the
    key to the inquiry's page and answer."""
    inquiry, secret = ask(registry_of(request).engine, body.claim, body.claim_secret, body.firm, body.text)
    return {"inquiry": inquiry.public(), "secret": secret, "url": f"/inquiries/{inquiry.id}/{secret}"}


@api.get("/inquiries/open")
def open_for_firm(request: Request, firm: FirmDep) -> dict[str, Any]:
    """The firm's open inquiries, oldest first."""
    listed = open_inquiries(registry_of(request).engine, firm)
    return {"firm": firm.slug, "inquiries": [inquiry.question() for inquiry in listed]}


@api.post("/inquiries/{inquiry_id}/answer", openapi_extra=_RAW_BUNDLE)
async def answer_inquiry(request: Request, inquiry_id: RowId, firm: FirmDep) -> dict[str, Any]:
    """Answer one of the firm's inquiries with a domain or trace bundle, exactly as kiroku wrote it."""
    answered = answer(registry_of(request).engine, firm, inquiry_id, await request.body())
    return {"inquiry": answered.public()}


@api.get("/inquiries/{inquiry_id}")
def inquiry_json_api(request: Request, inquiry_id: RowId, secret: str = "") -> dict[str, Any]:
    """An inquiry, its answer bundle and the registry's verification of it (for its asker, by its secret)."""
    return {"inquiry": find_inquiry(registry_of(request).engine, inquiry_id, secret).public(with_bundle=True)}


# -- the pages ------------------------------------------------------------------------------------------------


def _json(request: Request, data: dict[str, Any]) -> Response:
    return remember_choices(request, JSONResponse(data), secure=registry_of(request).settings.secure_cookies)


def _duration(request: Request) -> Callable[[float | None], str]:
    """A function writing seconds as days, hours, minutes and seconds in the page's language."""
    t = messages(choose_language(request))

    def written(seconds: float | None) -> str:
        if seconds is None:
            return t["inq_none"]
        left = round(seconds)
        parts = []
        for size, unit in ((86400, "inq_unit_days"), (3600, "inq_unit_hours"), (60, "inq_unit_minutes")):
            if left >= size:
                parts.append(f"{left // size}{t[unit]}")
                left %= size
        if left or not parts:
            parts.append(f"{left}{t['inq_unit_seconds']}")
        return " ".join(parts[:2])

    return written


def _start(request: Request) -> dict[str, Any]:
    return {"verification_url": _verification_url(request), "max_text": MAX_TEXT}


@pages.get("/inquiries", response_class=HTMLResponse)
def start_page(request: Request) -> Response:
    """How to ask a firm: claim a domain first."""
    return render_page(request, "inquiries.html", values={}, problem=None, **_start(request))


@pages.get("/inquiries.json")
def start_json(request: Request) -> Response:
    """Where a rightsholder starts, as JSON: the verification file's address and the API to use."""
    return _json(
        request,
        {
            **_start(request),
            "claim": "/api/v1/claims",
            "ask": "/api/v1/inquiries",
            "stats": "/inquiries/stats.json",
        },
    )


@pages.post("/inquiries/claims", response_class=HTMLResponse)
def claim_submit(
    request: Request,
    domain: Annotated[str, Form()] = "",
    contact: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Take a claim from the form, then show its page (whose address is the claim's key)."""
    check_csrf(request, csrf)
    try:
        claim, secret = claim_domain(registry_of(request).engine, domain, contact)
    except Refused as exc:
        values = {"domain": domain, "contact": contact}
        return render_page(
            request, "inquiries.html", code=exc.status, values=values, problem=str(exc), **_start(request)
        )
    return RedirectResponse(_claim_link(claim, secret), status_code=303)


def _claim_page(
    request: Request, claim: Claim, secret: str, code: int = 200, problem: str | None = None, **values: Any
) -> Response:
    firms = list_firms(registry_of(request).engine)
    return render_page(request, "inquiry_claim.html", code=code, claim=claim, secret=secret, firms=firms,
                       file_url=claim.public(_verification_url(request))["verification_url"], problem=problem,
                       values=values, max_text=MAX_TEXT)  # fmt: skip


@pages.get("/inquiries/claims/{claim_id:int}/{secret}.json")
def claim_json(request: Request, claim_id: RowId, secret: str) -> Response:
    """A claim, for its claimant."""
    claim = find_claim(registry_of(request).engine, claim_id, secret)
    return _json(request, {"claim": claim.public(_verification_url(request))})


@pages.get("/inquiries/claims/{claim_id:int}/{secret}", response_class=HTMLResponse)
def claim_page(request: Request, claim_id: RowId, secret: str) -> Response:
    """A claim's page: the token to serve, the check, and (once verified) the form to ask a firm."""
    return _claim_page(request, find_claim(registry_of(request).engine, claim_id, secret), secret)


@pages.post("/inquiries/claims/{claim_id:int}/verify", response_class=HTMLResponse)
def claim_verify(
    request: Request, claim_id: RowId, secret: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    """Fetch the claim's verification file; back to the claim's page, saying what went wrong if it did."""
    check_csrf(request, csrf)
    engine = registry_of(request).engine
    try:
        claim = verify_claim(
            engine,
            claim_id,
            secret,
            _verification_url(request),
            allow_private=registry_of(request).settings.allow_private_fetch,
        )
    except Refused as exc:
        return _claim_page(request, find_claim(engine, claim_id, secret), secret, exc.status, str(exc))
    return RedirectResponse(_claim_link(claim, secret), status_code=303)


@pages.post("/inquiries/ask", response_class=HTMLResponse)
def ask_submit(
    request: Request,
    claim: Annotated[int, Form()],
    secret: Annotated[str, Form()] = "",
    firm: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "domain",
    text: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Put the question to the firm, then show the inquiry's page (whose address is the inquiry's key)."""
    check_csrf(request, csrf)
    engine = registry_of(request).engine
    try:
        inquiry, key = ask(engine, claim, secret, firm, text if kind == "text" else None)
    except (Refused, Forbidden, NotFound) as exc:  # a wrong claim secret fails again, as a page of its own
        return _claim_page(request, find_claim(engine, claim, secret), secret, exc.status, str(exc),
                           firm=firm, kind=kind, text=text)  # fmt: skip
    return RedirectResponse(f"/inquiries/{inquiry.id}/{key}", status_code=303)


@pages.get("/inquiries/stats", response_class=HTMLResponse)
def stats_page(request: Request) -> Response:
    """Every registered firm's response times to inquiries."""
    figures = response_times(registry_of(request).engine)
    return render_page(request, "inquiry_stats.html", figures=figures, duration=_duration(request))


@pages.get("/inquiries/stats.json")
def stats_json(request: Request) -> Response:
    """Every registered firm's response times, as JSON (seconds)."""
    return _json(request, {"firms": [f.public() for f in response_times(registry_of(request).engine)]})


@pages.get("/inquiries/{inquiry_id:int}/{secret}.json")
def inquiry_json(request: Request, inquiry_id: RowId, secret: str) -> Response:
    """An inquiry with its answer bundle and verification, for its asker."""
    inquiry = find_inquiry(registry_of(request).engine, inquiry_id, secret)
    return _json(request, {"inquiry": inquiry.public(with_bundle=True)})


@pages.get("/inquiries/{inquiry_id:int}/{secret}/bundle.json")
def inquiry_bundle(request: Request, inquiry_id: RowId, secret: str) -> Response:
    """The answer's bundle exactly as the firm sent it, to keep and check offline."""
    inquiry = find_inquiry(registry_of(request).engine, inquiry_id, secret)
    if inquiry.bundle is None:
        raise NotFound(f"inquiry {inquiry_id} is not answered yet")
    name = f"inquiry-{inquiry.id}-{inquiry.firm}-{inquiry.kind}.json"
    return Response(
        inquiry.bundle,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@pages.get("/inquiries/{inquiry_id:int}/{secret}", response_class=HTMLResponse)
def inquiry_page(request: Request, inquiry_id: RowId, secret: str) -> Response:
    """An inquiry's page: the question, and the answer with its verification badge."""
    inquiry = find_inquiry(registry_of(request).engine, inquiry_id, secret)
    return render_page(request, "inquiry.html", inquiry=inquiry, secret=secret, duration=_duration(request))


router.include_router(api)
router.include_router(pages)
