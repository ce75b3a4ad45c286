"""``kiroku registry``: run the public registry, administer it, and file into it from a firm's workspace.

For the registry's operator: ``serve``, ``admin add``, ``firms``, ``approve``. For a firm: ``register`` (asks to
register with the workspace's verifier key and prints the API token), ``submit`` (files notifications,
statements, EU summaries, AB 2013 documentation, checkpoints and consistency bundles) and ``witness`` (has the
registry witness the ledger: sends a consistency bundle from the last checkpoint it holds, and keeps the
cosigned checkpoint). The firm's token comes from ``--token`` or $KIROKU_REGISTRY_TOKEN.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kiroku.cli import registry_inquiries
from kiroku.cli._common import WorkspaceOption, fail, out, read_input, workspace_from
from kiroku.cli._registry_client import RegistryOption, TokenOption, bearer, call, witness_ledger

if TYPE_CHECKING:
    from sqlalchemy import Engine


__all__ = ["app"]

app = typer.Typer(help="The public registry: serve it, administer it, file into it.", no_args_is_help=True)
app.add_typer(registry_inquiries.app, name="inquiries")

DEFAULT_DB = "sqlite:///registry.sqlite"
DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="KIROKU_REGISTRY_DB",
        help="The registry database: sqlite:///PATH or postgresql+psycopg://...",
    ),
]


def _engine(db: str) -> Engine:
    from kiroku.registry.db import connect, upgrade
    from kiroku.registry.errors import RegistryError

    try:
        engine = connect(db)
        upgrade(engine)
    except RegistryError as exc:
        fail(str(exc))
    return engine


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: DbOption = DEFAULT_DB,
    witness_name: Annotated[
        str, typer.Option(help="The witness's key name in its cosignatures (used when the database is new).")
    ] = "registry.kiroku.example/witness",
    secure_cookies: Annotated[bool, typer.Option(help="Mark cookies Secure (serve behind HTTPS).")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Run the registry: the public pages (Japanese and English), their JSON twins and the JSON API."""
    import uvicorn

    from kiroku.registry import RegistrySettings, create_app
    from kiroku.registry.errors import RegistryError

    settings = RegistrySettings(database_url=db, witness_name=witness_name, secure_cookies=secure_cookies)
    try:
        application = create_app(settings)
    except RegistryError as exc:
        fail(str(exc))
    out.print(f"kiroku registry on http://{host}:{port}/ (database {db}); Ctrl-C stops it")
    if workers == 1:
        uvicorn.run(application, host=host, port=port, log_level="warning")
        return
    os.environ["KIROKU_REGISTRY_DB"] = db
    os.environ["KIROKU_REGISTRY_WITNESS"] = witness_name
    uvicorn.run("kiroku.registry.app:app_from_environment", factory=True, host=host, port=port, workers=workers,
                log_level="warning")  # fmt: skip


admin_app = typer.Typer(help="Registry administrators.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")


@admin_app.command("add")
def admin_add(
    username: Annotated[str, typer.Argument(help="The administrator's user name.")],
    db: DbOption = DEFAULT_DB,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
) -> None:
    """Create an administrator, who signs in at /admin to approve firms. The password (12 characters or more) is
    kept as an argon2id hash."""
    from kiroku.registry.errors import RegistryError
    from kiroku.registry.firms import add_admin

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            fail("the two passwords differ")
    try:
        add_admin(_engine(db), username, password)
    except RegistryError as exc:
        fail(str(exc))
    out.print(f"Administrator {username} created")


@app.command()
def firms(
    db: DbOption = DEFAULT_DB,
    pending: Annotated[bool, typer.Option(help="Only the requests waiting for approval.")] = False,
) -> None:
    """List the firms in the registry database, with their status."""
    from kiroku.registry.firms import list_firms

    listed = list_firms(_engine(db), status="pending" if pending else None)
    for firm in listed:
        flag = " (flagged)" if firm.flagged else ""
        out.print(f"{firm.slug}  {firm.status}{flag}  {firm.name}  {firm.key}")
    if not listed:
        out.print("no firm" + (" waiting" if pending else ""))


@app.command()
def approve(
    slug: Annotated[str, typer.Argument(help="The firm's slug (`kiroku registry firms --pending`).")],
    db: DbOption = DEFAULT_DB,
    reject: Annotated[bool, typer.Option(help="Reject the request instead.")] = False,
    actor: Annotated[str, typer.Option(help="Who decides, for the audit log.")] = "cli",
) -> None:
    """Approve (or reject) a firm's registration request; recorded in the audit log."""
    from kiroku.registry.errors import RegistryError
    from kiroku.registry.firms import approve_firm

    try:
        firm = approve_firm(_engine(db), slug, actor, approve=not reject)
    except RegistryError as exc:
        fail(str(exc))
    out.print(f"{firm.name} ({firm.slug}) is {firm.status}")


# --- a firm's side ---------------------------------------------------------------------------------------


@app.command()
def register(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="The firm's name as the registry shows it.")],
    address: Annotated[str, typer.Option(help="The firm's address.")],
    contact: Annotated[str, typer.Option(help="Where the Cabinet Office and the public reach the firm.")],
    registry: RegistryOption,
    workspace: WorkspaceOption = None,
) -> None:
    """Ask the registry to register the firm with this workspace's verifier key; prints the API token once."""
    ws = workspace_from(ctx, workspace)
    key = ws.signer().verifier().to_vkey()
    data = call(
        registry,
        "POST",
        "/api/v1/firms",
        json={"name": name, "address": address, "contact": contact, "key": key},
    )
    firm = data["firm"]
    out.print(
        f"Registration of {firm['name']} ({firm['slug']}) sent: {data['status']}. Your API token, shown once "
        f"(keep it; it files nothing until an administrator approves the firm):\n{data['token']}"
    )


def _is_checkpoint(body: bytes) -> bool:
    text = body.lstrip()
    if not text.startswith(b"{"):
        return True  # a signed note
    try:
        return bool(json.loads(body).get("format") == "kiroku.consistency/v1")
    except (ValueError, AttributeError):
        return False


@app.command()
def submit(
    files: Annotated[list[Path], typer.Argument(help="Files written by kiroku: statement.json, notification.json, "
                                                     "eu-summary.json, ab2013.json, a checkpoint or a consistency bundle.")],
    registry: RegistryOption,
    token: TokenOption = None,
) -> None:  # fmt: skip
    """File documents into the registry, each exactly as kiroku wrote it; the registry verifies each against the
    firm's key and refuses anything else."""
    headers = bearer(token)
    for path in files:
        body = read_input(path, "filing")
        if _is_checkpoint(body):
            data = call(registry, "POST", "/api/v1/checkpoints", content=body, headers=headers)
            held = data["checkpoint"]
            out.print(f"{path}: witnessed; the registry holds size {held['size']}, cosigned")
        else:
            data = call(registry, "POST", "/api/v1/filings", content=body, headers=headers)
            filing = data["filing"]
            out.print(
                f"{path}: filed as {filing['kind']} {filing['year']} version {filing['version']}: "
                f"{registry.rstrip('/')}{data['url']}"
            )


@app.command()
def witness(
    ctx: typer.Context,
    registry: RegistryOption,
    token: TokenOption = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Where to write the cosigned checkpoint (default: print it).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Have the registry witness the ledger as it is now: sign a checkpoint, send it with a consistency proof
    from the last checkpoint the registry holds, and keep the checkpoint it cosigns."""
    headers = bearer(token)
    held = witness_ledger(registry, headers, workspace_from(ctx, workspace))
    cosigned = held["cosigned"]
    if out_file is not None:
        out_file.write_text(cosigned, encoding="utf-8")
    out.print(f"Witnessed at size {held['size']}; the checkpoint cosigned by the registry:")
    if out_file is None:
        out.print(cosigned, end="")
    else:
        out.print(str(out_file))
