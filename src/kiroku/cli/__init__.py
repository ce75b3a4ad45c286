"""The ``kiroku`` command: one sub-command group per package.

``kiroku init`` creates a workspace, ``kiroku log ...`` works on its ledger, and ``kiroku verify`` checks a proof
bundle anywhere, with nothing but the log's verifier key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kiroku import __version__
from kiroku.catalog.proofs import DOCUMENT_FORMAT, VerifiedDocument, verify_document_bundle
from kiroku.cli import catalog as catalog_commands
from kiroku.cli import doc as doc_commands
from kiroku.cli import index as index_commands
from kiroku.cli import ingest as ingest_commands
from kiroku.cli import log as log_commands
from kiroku.cli import model as model_commands
from kiroku.cli import optout as optout_commands
from kiroku.cli import provenance as provenance_commands
from kiroku.cli import query as query_commands
from kiroku.cli import registry as registry_commands
from kiroku.cli import retention as retention_commands
from kiroku.cli import run as run_commands
from kiroku.cli import source as source_commands
from kiroku.cli import stage as stage_commands
from kiroku.cli import statement as statement_commands
from kiroku.cli._common import EXIT_BAD_INPUT, WorkspaceOption, fail, out, read_input, user_errors
from kiroku.cli.crawl import crawl as crawl_command
from kiroku.cli.trace import trace as trace_command
from kiroku.domains.bundle import DOMAIN_FORMAT, VerifiedDomain, verify_domain_bundle
from kiroku.ledger import MalformedNote, VerifiedInclusion, Verifier, verify_bundle
from kiroku.trace.bundle import TRACE_FORMAT, VerifiedTrace, verify_trace_bundle
from kiroku.workspace import Workspace

__all__ = ["app", "main"]

app = typer.Typer(
    name="kiroku",
    help="kiroku (記録): a verifiable record of what an AI model was trained on.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(log_commands.app, name="log")
app.add_typer(source_commands.app, name="source")
app.add_typer(ingest_commands.app, name="ingest")
app.add_typer(catalog_commands.app, name="catalog")
app.add_typer(stage_commands.app, name="stage")
app.add_typer(run_commands.app, name="run")
app.add_typer(model_commands.app, name="model")
app.add_typer(doc_commands.app, name="doc")
app.add_typer(statement_commands.app, name="statement")
app.add_typer(retention_commands.app, name="retention")
app.add_typer(index_commands.app, name="index")
app.add_typer(query_commands.app, name="query")
app.add_typer(registry_commands.app, name="registry")
app.add_typer(optout_commands.app, name="optout")
app.add_typer(provenance_commands.app, name="provenance")
app.command(name="trace")(trace_command)
app.command(name="crawl")(crawl_command)


def _version(value: bool) -> None:
    if value:
        out.print(f"kiroku {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    workspace: WorkspaceOption = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """kiroku (記録): a verifiable record of what an AI model was trained on."""
    ctx.obj = {"workspace": workspace}


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(help="Folder to create the workspace in.", file_okay=False)
    ] = Path(),
    org: Annotated[
        str, typer.Option("--org", help="Your organisation's name, as it will appear in statements.")
    ] = "",
    origin: Annotated[
        str | None,
        typer.Option(help="The log's origin line in checkpoints (default: kiroku/<org>/ledger-<random>)."),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(help="Store URL (default: SQLite inside the folder; or postgresql+psycopg://...)."),
    ] = None,
) -> None:
    """Create a workspace: kiroku.toml, an Ed25519 signing key and an empty ledger."""
    if not org.strip():
        fail("give your organisation's name with --org NAME")
    with user_errors():
        workspace = Workspace.init(directory, org.strip(), origin=origin, store=store)
    out.print(f"Created kiroku workspace in {workspace.root}")
    out.print(f"  organisation  {workspace.config.organisation.name}")
    out.print(f"  log origin    {workspace.config.log.origin}")
    out.print(f"  store         {workspace.store_url}")
    out.print(f"  verifier key  {workspace.verifier().to_vkey()}")
    out.print("Next: kiroku log append --kind note --file RECORD.json, then kiroku log checkpoint")


@app.command("verify")
def verify(
    bundle: Annotated[
        Path,
        typer.Argument(
            help="A bundle from 'kiroku log prove', 'kiroku log consistency', 'kiroku doc show --proof' or "
            "'kiroku query domain --bundle' or 'kiroku trace --bundle'."
        ),
    ],
    key: Annotated[
        str,
        typer.Option(help="The log's verifier key, as 'kiroku log key' prints it, or a file holding it."),
    ],
) -> None:
    """Check a proof bundle offline, with nothing but the log's verifier key. Exit 0 if and only if it verifies."""
    key_text = key
    if "+" not in key or Path(key).is_file():
        key_text = read_input(Path(key), "key file").decode("utf-8", "replace")
    data = read_input(bundle, "bundle")
    with user_errors():
        try:
            verifier = Verifier.from_vkey(key_text)
        except MalformedNote as exc:
            fail(f"--key is not a verifier key: {exc}", EXIT_BAD_INPUT)
        if _format_of(data) == DOCUMENT_FORMAT:
            _report_document(verify_document_bundle(data, verifier), verifier)
            return
        if _format_of(data) == DOMAIN_FORMAT:
            _report_domain(verify_domain_bundle(data, verifier), verifier)
            return
        if _format_of(data) == TRACE_FORMAT:
            _report_trace(verify_trace_bundle(data, verifier), verifier)
            return
        result = verify_bundle(data, verifier)
    if isinstance(result, VerifiedInclusion):
        body = "with its body" if result.body_included else "by digest only (no body)"
        out.print(
            f"OK: record {result.index} ({result.entry.kind}, {result.entry.time}) is in log {result.origin} "
            f"at tree size {result.tree_size}, {body}; checkpoint signed by {verifier.name}"
        )
    else:
        out.print(
            f"OK: log {result.origin} at size {result.new.size} extends its history at size {result.old.size}; "
            f"both checkpoints signed by {verifier.name}"
        )


def _format_of(data: bytes) -> object:
    """The ``format`` field of a JSON bundle, or None when the bytes are not a JSON object (reported later)."""
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return raw.get("format") if isinstance(raw, dict) else None


def _report_document(result: VerifiedDocument, verifier: Verifier) -> None:
    out.print(
        f"OK: document {result.doc_id}, in log {result.origin} at tree size {result.tree_size}; "
        f"checkpoint signed by {verifier.name}:"
    )
    for claim in result.claims:
        out.print(f"  - {claim.text}")


def _report_trace(result: VerifiedTrace, verifier: Verifier) -> None:
    out.print(
        f"OK: a trace of {result.scope} by the trace index of record {result.record} in log {result.origin} at "
        f"tree size {result.tree_size}; all {result.documents} cited document(s) proved in {result.scope}; "
        f"checkpoint signed by {verifier.name}"
    )
    out.print(
        f"  not proved by the bundle (computed from the output, which it does not carry): coverage "
        f"{result.coverage:.0%}, {result.spans} span(s), the scores and the snippets"
    )


def _report_domain(result: VerifiedDomain, verifier: Verifier) -> None:
    out.print(
        f"OK: {result.table} {result.name}, by the domain index of record {result.record} in log {result.origin} "
        f"at tree size {result.tree_size}; checkpoint signed by {verifier.name}:"
    )
    for claim in result.claims:
        out.print(f"  - {claim.text}")


def main() -> None:
    """Entry point of the ``kiroku`` console script."""
    app()
