"""The registry's JSON API, under ``/api/v1``: registration, filings and checkpoints from firms' kiroku.

A firm's kiroku authenticates with its API token as a bearer token. A token files only for its own firm: the
filing's signature must verify against that firm's registered key, so a token of one firm cannot file another's
documents, and a document signed by another key is refused.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from kiroku.registry.app import registry_of
from kiroku.registry.errors import Unauthorized
from kiroku.registry.filings import file_document
from kiroku.registry.firms import Firm, find_firm, firm_for_token, list_firms, register_firm
from kiroku.registry.witness import last_witnessed, witness

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["api"])
_bearer = HTTPBearer(auto_error=False, description="The firm's API token, `kiroku_...`")
_RAW_JSON = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
}
_RAW_CHECKPOINT = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string", "description": "a signed checkpoint note"}},
            "application/json": {
                "schema": {"type": "object", "description": "a kiroku.consistency/v1 bundle"}
            },
        },
    }
}


class Registration(BaseModel):
    """A firm's request to register."""

    name: str = Field(min_length=1, max_length=300)
    address: str = Field(min_length=1, max_length=2000)
    contact: str = Field(min_length=1, max_length=300)
    key: str = Field(min_length=1, max_length=400, description="the verifier key of the firm's ledger")


def current_firm(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Firm:
    """The approved firm whose bearer token the request carries."""
    if credentials is None:
        raise Unauthorized("send the firm's API token: Authorization: Bearer kiroku_...")
    return firm_for_token(registry_of(request).engine, credentials.credentials)


FirmDep = Annotated[Firm, Depends(current_firm)]


@router.post("/firms", status_code=201)
def register(request: Request, registration: Registration) -> dict[str, Any]:
    """Ask to register a firm. The token in the answer is shown once; it files nothing until an administrator
    approves the firm."""
    firm, token = register_firm(
        registry_of(request).engine,
        registration.name,
        registration.address,
        registration.contact,
        registration.key,
    )
    return {"firm": firm.public(), "token": token, "status": firm.status}


@router.get("/firms")
def firms(request: Request) -> dict[str, Any]:
    """The approved firms."""
    return {"firms": [firm.public() for firm in list_firms(registry_of(request).engine)]}


@router.get("/me")
def me(firm: FirmDep) -> dict[str, Any]:
    """The firm the token belongs to."""
    return {"firm": firm.public()}


@router.get("/witness")
def witness_key(request: Request) -> dict[str, str]:
    """The registry's witness: its name and the verifier key of its cosignatures (type 0x04)."""
    verifier = registry_of(request).state.witness.verifier
    return {"name": verifier.name, "key": verifier.to_vkey()}


@router.get("/firms/{slug}/checkpoint")
def latest_checkpoint(request: Request, slug: str) -> dict[str, Any]:
    """The last checkpoint of the firm's ledger that the registry witnessed (null before the first)."""
    registry = registry_of(request)
    held = last_witnessed(registry.engine, find_firm(registry.engine, slug))
    return {"firm": slug, "checkpoint": None if held is None else held.public()}


@router.post("/filings", status_code=201, openapi_extra=_RAW_JSON)
async def file(request: Request, firm: FirmDep) -> dict[str, Any]:
    """File a notification, statement, EU summary or AB 2013 documentation, exactly as kiroku wrote it."""
    filing = file_document(registry_of(request).engine, firm, await request.body())
    return {"filing": filing.public(), "url": f"/filings/{filing.id}"}


@router.post("/checkpoints", openapi_extra=_RAW_CHECKPOINT)
async def checkpoint(request: Request, firm: FirmDep) -> JSONResponse:
    """Submit a checkpoint: the first as a signed note, later ones as a consistency bundle from the last one
    the registry holds. The answer carries the checkpoint cosigned by the registry's witness."""
    registry = registry_of(request)
    before = last_witnessed(registry.engine, firm)
    held = witness(registry.engine, firm, await request.body(), registry.state.witness)
    status = 200 if before is not None and (before.size, before.root) == (held.size, held.root) else 201
    return JSONResponse({"firm": firm.slug, "checkpoint": held.public()}, status_code=status)
