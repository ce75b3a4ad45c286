"""What `kiroku registry` and `kiroku registry inquiries` share as clients of a registry: the --registry and
--token options, requests whose refusals become one line and an exit code, and having the registry witness a
workspace's ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kiroku.cli._common import EXIT_NOT_VERIFIED, fail

if TYPE_CHECKING:
    import httpx

    from kiroku.workspace import Workspace

__all__ = [
    "RegistryOption",
    "TokenOption",
    "answer_of",
    "bearer",
    "call",
    "registry_client",
    "witness_ledger",
]

RegistryOption = Annotated[
    str,
    typer.Option(
        "--registry", envvar="KIROKU_REGISTRY_URL", help="The registry's URL, e.g. http://127.0.0.1:8000."
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="KIROKU_REGISTRY_TOKEN", help="The firm's API token (kiroku_...)."),
]


def registry_client(registry: str) -> httpx.Client:
    """An HTTP client of the registry at ``registry``."""
    import httpx

    return httpx.Client(base_url=registry.rstrip("/"), timeout=60, follow_redirects=False)


def answer_of(response: httpx.Response) -> dict[str, Any]:
    """The JSON of a registry's answer; the error envelope of a refusal becomes one line and an exit code (1 for
    a 422, a refusal on the evidence; 2 otherwise)."""
    try:
        data: dict[str, Any] = response.json()
    except ValueError:
        fail(f"the registry answered {response.status_code} without JSON: {response.text[:200]}")
    if response.is_error:
        error = data.get("error", {})
        code = EXIT_NOT_VERIFIED if response.status_code == 422 else 2
        fail(
            f"the registry refused it ({response.status_code} {error.get('code')}): {error.get('message')}",
            code,
        )
    return data


def call(registry: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """One request to the registry, its JSON answer; exits with one line when it cannot be reached."""
    import httpx

    try:
        with registry_client(registry) as http:
            return answer_of(http.request(method, path, **kwargs))
    except httpx.HTTPError as exc:
        fail(f"cannot reach the registry at {registry}: {exc}")


def bearer(token: str | None) -> dict[str, str]:
    """The Authorization header of a firm's token; exits with advice when there is none."""
    if not token:
        fail("give the firm's API token: --token kiroku_... or KIROKU_REGISTRY_TOKEN")
    return {"Authorization": f"Bearer {token}"}


def witness_ledger(
    registry: str, headers: dict[str, str], ws: Workspace, *, only_if_needed: bool = False
) -> dict[str, Any]:
    """Have the registry witness ``ws``'s ledger as it is now (signing a checkpoint of it if needed): the
    first checkpoint as a signed note, later ones with a consistency proof from the last one it holds.

    Returns the checkpoint the registry holds afterwards; with ``only_if_needed``, sends nothing when the
    registry holds the ledger's current checkpoint already.
    """
    slug = call(registry, "GET", "/api/v1/me", headers=headers)["firm"]["slug"]
    held = call(registry, "GET", f"/api/v1/firms/{slug}/checkpoint")["checkpoint"]
    with ws.ledger() as ledger:
        signer = ws.signer()
        latest = ledger.latest_checkpoint()
        current = latest if latest is not None and latest.size == ledger.size else ledger.checkpoint(signer)
        if (
            only_if_needed
            and held is not None
            and (held["size"], held["root"]) == (current.size, current.root_hash.hex())
        ):
            return dict(held)
        if held is None:
            body = current.note.encode()
        else:
            if held["size"] > current.size:
                fail(f"the registry holds size {held['size']}, larger than this ledger ({current.size}): another "
                     "ledger was witnessed under this key")  # fmt: skip
            body = ledger.prove_consistency(held["size"], current.size).to_json().encode()
    checkpoint: dict[str, Any] = call(registry, "POST", "/api/v1/checkpoints", content=body, headers=headers)[
        "checkpoint"
    ]
    return checkpoint
