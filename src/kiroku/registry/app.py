"""The registry's web application: FastAPI, server-rendered pages with JSON twins, and the JSON API.

`create_app(settings)` opens (and creates or upgrades) the database, loads the registry's keys and mounts:

- the public pages (`kiroku.registry.pages`): every page at ``/path`` has a JSON twin at ``/path.json``;
- the JSON API under ``/api/v1`` (`kiroku.registry.api`), documented by the OpenAPI schema at ``/openapi.json``
  and browsable at ``/api/docs``;
- static files under ``/static``.

Every error answers in one envelope, ``{"error": {"status", "code", "message"}}``, for the API and the JSON
twins, and as a page in the chosen language otherwise. Every response carries security headers; request bodies
over ``settings.max_body`` bytes are refused before they are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.sessions import SessionMiddleware

from kiroku.registry.db import connect, upgrade
from kiroku.registry.errors import RegistryError, TooLarge, TooMany
from kiroku.registry.firms import RegistryState, registry_state_of
from kiroku.registry.i18n import choose_language, messages

__all__ = ["RegistrySettings", "app_from_environment", "create_app"]

_HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@dataclass(frozen=True)
class RegistrySettings:
    """How a registry runs."""

    database_url: str = "sqlite:///registry.db"
    witness_name: str = "registry.kiroku.example/witness"
    """The key name of the registry's witness, in its cosignatures."""
    max_body: int = 4_000_000
    """The largest request body taken, in bytes."""
    secure_cookies: bool = False
    """Mark cookies Secure (behind HTTPS)."""
    rate_limit_storage: str = "memory://"
    """Where rate-limit counters live: ``memory://`` (one process) or ``redis://HOST:PORT`` (several workers)."""
    search_limit: str = "120/minute"
    """Searches of the public matrix per client address."""
    post_limit: str = "20/minute"
    """Registration requests, domain claims and inquiries per client address."""
    sign_in_limit: str = "10/minute"
    """Administrator sign-in attempts per client address."""
    verification_url: str = "https://{domain}/.well-known/kiroku-verification.txt"
    """Where a rightsholder serves the token proving control of a claimed domain (``{domain}`` is replaced)."""
    allow_private_fetch: bool = False
    """Let the registry fetch verification files and opt-out checks from private and loopback addresses (a closed
    network, tests); otherwise every connection goes to a public address checked as the host is resolved for it."""
    page_cache_seconds: float = 5.0
    """How long a public page is served from the cache at most (`kiroku.registry.cache`); 0 turns it off."""


@dataclass(frozen=True)
class Registry:
    """What every request handler reaches through ``request.app.state.registry``."""

    settings: RegistrySettings
    engine: Engine
    state: RegistryState
    templates: Environment


def registry_of(request: Request) -> Registry:
    """The registry serving ``request``."""
    registry: Registry = request.app.state.registry
    return registry


def wants_json(request: Request) -> bool:
    """Whether the answer is JSON: the API, a ``.json`` twin, or a client asking for JSON only."""
    path = request.url.path
    accept = request.headers.get("accept", "")
    return (
        path.startswith("/api/")
        or path.endswith(".json")
        or ("application/json" in accept and "text/html" not in accept)
    )


def error_response(request: Request, status: int, code: str, message: str) -> Response:
    """The one error envelope, as JSON or as a page in the chosen language."""
    if wants_json(request):
        return JSONResponse(
            {"error": {"status": status, "code": code, "message": message}}, status_code=status
        )
    lang = choose_language(request)
    page = (
        registry_of(request)
        .templates.get_template("error.html")
        .render(request=request, lang=lang, t=messages(lang), status=status, code=code, message=message)
    )
    return HTMLResponse(page, status_code=status)


class RateLimits:
    """Moving-window rate limits per client address (the `limits` library): public search, sign-in, and the
    endpoints rightsholders and the public post to."""

    def __init__(self, settings: RegistrySettings) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage))
        self._search = parse(settings.search_limit)
        self._posts = parse(settings.post_limit)
        self._sign_in = parse(settings.sign_in_limit)

    def exceeded(self, request: Request) -> str | None:
        """What limit ``request`` goes over, or None."""
        path, method = request.url.path, request.method
        client = request.client.host if request.client else "unknown"
        if method == "POST" and path == "/admin/login":
            rule, name = self._sign_in, "sign-in attempts"
        elif path.endswith("/answer") and request.headers.get("authorization"):
            return (
                None  # a firm's kiroku answering its inquiries: authenticated by its token, not limited here
            )
        elif method == "POST" and (
            path in ("/register", "/api/v1/firms") or "inquir" in path or "claim" in path
        ):
            rule, name = self._posts, "requests to register or to ask"
        elif (
            method == "GET" and (path in ("/", "/index.json", "/index.csv")) and request.query_params.get("q")
        ):
            rule, name = self._search, "searches"
        elif method == "GET" and path in ("/optout", "/optout.json") and request.query_params.get("url"):
            rule, name = self._search, "opt-out checks"
        else:
            return None
        return (
            None if self._limiter.hit(rule, name, client) else f"too many {name}: at most {rule}; try later"
        )


class _Limits(BaseHTTPMiddleware):
    def __init__(self, app: Any, max_body: int, limiter: RateLimits) -> None:
        super().__init__(app)
        self.max_body = max_body
        self.limiter = limiter

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        length = request.headers.get("content-length")
        exceeded = self.limiter.exceeded(request)
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            error: RegistryError = TooLarge(f"the request body is over {self.max_body:,} bytes")
            response = error_response(request, error.status, error.code, str(error))
        elif exceeded is not None:
            error = TooMany(exceeded)
            response = error_response(request, error.status, error.code, str(error))
            response.headers["Retry-After"] = "60"
        else:
            response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def _templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(["html", "xml"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    """The registry application for ``settings`` (database created or upgraded on the way)."""
    from kiroku.registry import admin, api, cache, feeds, inquiry_routes, optout_routes, pages

    settings = settings or RegistrySettings()
    engine = connect(settings.database_url)
    upgrade(engine)
    app = FastAPI(
        title="kiroku registry",
        summary="The public registry of the AI IP Code: filings, a comply-or-explain matrix, a witness.",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.registry = Registry(
        settings, engine, registry_state_of(engine, settings.witness_name), _templates()
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=app.state.registry.state.session_secret,
        session_cookie="kiroku_session",
        max_age=8 * 3600,
        same_site="strict",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(_Limits, max_body=settings.max_body, limiter=RateLimits(settings))
    cache.install(app, engine, settings.page_cache_seconds)

    @app.exception_handler(RegistryError)
    async def _registry_error(request: Request, exc: RegistryError) -> Response:
        return error_response(request, exc.status, exc.code, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = "not_found" if exc.status_code == 404 else "http_error"
        return error_response(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return error_response(request, 422, "invalid_request", f"{where}: {first.get('msg')}")

    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(admin.router)
    app.include_router(feeds.router)
    app.include_router(inquiry_routes.router)
    app.include_router(optout_routes.router)
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    return app


def app_from_environment() -> FastAPI:
    """The application from $KIROKU_REGISTRY_DB and $KIROKU_REGISTRY_WITNESS (uvicorn's factory, for workers)."""
    import os

    return create_app(
        RegistrySettings(
            database_url=os.environ.get("KIROKU_REGISTRY_DB", RegistrySettings.database_url),
            witness_name=os.environ.get("KIROKU_REGISTRY_WITNESS", RegistrySettings.witness_name),
        )
    )
