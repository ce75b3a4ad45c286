"""Protection of the registry's forms: CSRF tokens (double submit), and the language cookie.

Every form carries a hidden ``csrf`` field equal to the ``kiroku_csrf`` cookie, a random token set with the page
(SameSite=Strict, HttpOnly). A POST whose field is missing or differs from its cookie is refused (`Forbidden`):
another site can make a browser send the cookie, but cannot read it to fill the field.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

from kiroku.registry.errors import Forbidden

__all__ = ["CSRF_COOKIE", "check_csrf", "csrf_token", "remember_choices"]

CSRF_COOKIE = "kiroku_csrf"
_YEAR = 365 * 24 * 3600


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser: its cookie's, or a new one (`remember_choices` sets it)."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) < 32:
        token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    """`Forbidden` unless the form's ``csrf`` field equals the browser's CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted or not secrets.compare_digest(cookie, submitted):
        raise Forbidden("the form's CSRF token is missing or wrong: reload the page and send the form again")


def remember_choices(request: Request, response: Response, *, secure: bool) -> Response:
    """Set the cookies the page needs: a new CSRF token, and the language chosen with ``?lang=``."""
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict", secure=secure, path="/")
    lang = request.query_params.get("lang")
    if lang in ("ja", "en"):
        response.set_cookie("lang", lang, max_age=_YEAR, samesite="lax", secure=secure, path="/")
    return response
