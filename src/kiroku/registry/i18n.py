"""Japanese and English for every page: the message catalogues in ``locales/`` and the choice of language.

The language is, in order: the ``lang`` query parameter (which the language switch sets, and which is then
remembered in a cookie), the ``lang`` cookie, the request's Accept-Language, and Japanese.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from starlette.requests import Request

__all__ = ["LANGUAGES", "Lang", "choose_language", "messages"]

Lang = Literal["ja", "en"]
LANGUAGES: tuple[Lang, ...] = ("ja", "en")
_LOCALES = Path(__file__).with_name("locales")
_BY_NAME: dict[str, Lang] = {"ja": "ja", "en": "en"}


@cache
def messages(lang: Lang) -> dict[str, str]:
    """The message catalogue of ``lang``: message id -> text."""
    with (_LOCALES / f"{lang}.toml").open("rb") as handle:
        return {str(key): str(value) for key, value in tomllib.load(handle).items()}


def _from_accept_language(header: str) -> Lang | None:
    ranked: list[tuple[float, int, Lang]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = _BY_NAME.get(tag.strip().lower().split("-")[0])
        if primary is not None and quality > 0:
            ranked.append((-quality, position, primary))
    return sorted(ranked)[0][2] if ranked else None


def choose_language(request: Request) -> Lang:
    """The language to answer ``request`` in (see the module docstring)."""
    for candidate in (request.query_params.get("lang"), request.cookies.get("lang")):
        if candidate in _BY_NAME:
            return _BY_NAME[candidate]
    return _from_accept_language(request.headers.get("accept-language", "")) or "ja"
