"""``kiroku registry inquiries``: rightsholders' inquiries, pulled from the registry, answered from the record.

``list`` prints the firm's open inquiries. ``answer`` answers each of them: a question about a domain with the
workspace's domain answer bundle (what ``kiroku query domain NAME --bundle`` writes), a question about a text
with a trace bundle (what ``kiroku trace --text TEXT --bundle`` writes). It first has the registry witness the
ledger when the registry does not hold its latest checkpoint, so that every bundle rests on a witnessed
checkpoint. The registry verifies each bundle with the firm's key against its witnessed checkpoints and shows
the answer to the rightsholder. The firm's token comes from ``--token`` or $KIROKU_REGISTRY_TOKEN.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from kiroku.catalog import CatalogError
from kiroku.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_NOT_VERIFIED,
    WorkspaceOption,
    checkpoint_covering,
    err,
    fail,
    out,
    workspace_from,
)
from kiroku.cli._registry_client import (
    RegistryOption,
    TokenOption,
    bearer,
    call,
    registry_client,
    witness_ledger,
)
from kiroku.ledger import Ledger, LedgerError, NoteError

if TYPE_CHECKING:
    import httpx

    from kiroku.domains import DomainIndex
    from kiroku.trace.index import TraceIndex
    from kiroku.workspace import Workspace

__all__ = ["app"]

app = typer.Typer(help="Rightsholders' inquiries: answer them from the record.", no_args_is_help=True)

_BADGES = {
    "verified": "verified",
    "unwitnessed": "verified, checkpoint not witnessed by the registry yet",
    "not_verified": "NOT verified: it contradicts the checkpoints the registry witnessed",
}
_RETRIES = 3


def _what(question: dict[str, Any]) -> str:
    if question["kind"] == "domain":
        return f"inquiry {question['id']} (domain {question['domain']})"
    length = len(question.get("text") or "")
    return f"inquiry {question['id']} (text of {length:,} characters, {question['domain']})"


def _open(registry: str, token: str | None) -> tuple[dict[str, str], list[dict[str, Any]]]:

    headers = bearer(token)
    questions: list[dict[str, Any]] = call(registry, "GET", "/api/v1/inquiries/open", headers=headers)[
        "inquiries"
    ]
    return headers, questions


@app.command("list")
def list_(registry: RegistryOption, token: TokenOption = None) -> None:
    """Print the firm's open inquiries, oldest first: id, kind, domain, when asked (and the text's start)."""
    _, questions = _open(registry, token)
    for question in questions:
        line = f"{question['id']}  {question['kind']}  {question['domain']}  asked {question['created_at']}"
        if question["kind"] == "text":
            start = " ".join(str(question["text"]).split())
            line += f'  "{start[:60]}{"…" if len(start) > 60 else ""}"'
        out.print(line, markup=False)
    if not questions:
        out.print("no open inquiry")


@dataclass
class _Indexes:
    """The workspace's indexes, opened and checked against the ledger once, on first need."""

    ws: Workspace
    ledger: Ledger
    domain: DomainIndex | None = None
    trace: TraceIndex | None = None

    def domains(self) -> DomainIndex:
        from kiroku.domains import DomainIndex

        if self.domain is None:
            index = DomainIndex.open(self.ws.index_dir)
            index.check(self.ledger)
            self.domain = index
        return self.domain

    def texts(self) -> TraceIndex:
        from kiroku.trace.corpus import resolve_scope
        from kiroku.trace.index import TraceIndex

        if self.trace is None:
            index = TraceIndex.open(self.ws.index_dir, resolve_scope(self.ledger))
            index.check(self.ledger)
            self.trace = index
        return self.trace


def _domain_bundle(indexes: _Indexes, name: str) -> bytes:
    """What ``kiroku query domain NAME --bundle`` writes, over every scope of the domain index."""
    from kiroku.domains.answer import scopes_asked, table_of
    from kiroku.domains.bundle import domain_bundle, verify_domain_bundle
    from kiroku.domains.names import parse_target

    ws, ledger, index = indexes.ws, indexes.ledger, indexes.domains()
    target = parse_target(name)
    note, _ = checkpoint_covering(ledger, ws.signer(), [index.manifest.record])
    scopes = [scope.scope for scope in scopes_asked(index)]
    proof = domain_bundle(index, ledger, target.name, table_of(target), scopes, ws.verifier(), note)
    verify_domain_bundle(proof, ws.verifier())  # never hand out a bundle that fails
    return proof.to_json().encode()


def _trace_bundle(indexes: _Indexes, text: str) -> bytes:
    """What ``kiroku trace --text TEXT --bundle`` writes, against the catalog's kept set."""
    from kiroku.trace.bundle import trace_bundle, verify_trace_bundle
    from kiroku.trace.query import TraceOptions, trace_output

    ws, ledger, index = indexes.ws, indexes.ledger, indexes.texts()
    answer = trace_output(index, text, ws.catalog_dir, TraceOptions())
    note, _ = checkpoint_covering(ledger, ws.signer(), [index.manifest.record])
    proof = trace_bundle(ledger, ws.catalog_dir, answer, ws.verifier(), note)
    verify_trace_bundle(proof, ws.verifier())  # never hand out a bundle that fails
    return proof.to_json().encode()


def _post(client: httpx.Client, registry: str, question: dict[str, Any], body: bytes) -> httpx.Response:
    """Post one answer, waiting out the registry's rate limit if it answers 429."""
    import httpx

    path = f"/api/v1/inquiries/{question['id']}/answer"
    for attempt in range(_RETRIES + 1):
        try:
            response = client.post(path, content=body, headers={"Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            fail(f"cannot reach the registry at {registry}: {exc}")
        if response.status_code != 429 or attempt == _RETRIES:
            return response
        wait = min(int(response.headers.get("Retry-After", "60") or 60), 120)
        err.print(f"the registry limits how fast answers come: waiting {wait} s", markup=False)
        time.sleep(wait)
    raise AssertionError("unreachable")


def _refusal(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        return f"{response.status_code} {error.get('code')}: {error.get('message')}"
    except ValueError:
        return f"{response.status_code}: {response.text[:200]}"


@app.command()
def answer(
    ctx: typer.Context,
    registry: RegistryOption,
    token: TokenOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Answer every open inquiry from the record: domain questions with domain bundles, text questions with
    trace bundles, after having the registry witness the ledger if needed. Prints one line per inquiry."""
    import httpx

    headers, questions = _open(registry, token)
    if not questions:
        out.print("no open inquiry")
        return
    ws = workspace_from(ctx, workspace)
    witness_ledger(registry, headers, ws, only_if_needed=True)
    unanswered, refused = 0, 0
    with ws.ledger() as ledger, registry_client(registry) as client:
        client.headers.update(headers)
        indexes = _Indexes(ws, ledger)
        for question in questions:
            what = _what(question)
            try:
                if question["kind"] == "domain":
                    body = _domain_bundle(indexes, question["domain"])
                else:
                    body = _trace_bundle(indexes, str(question["text"]))
            except (CatalogError, LedgerError, NoteError) as exc:
                err.print(f"{what}: not answered: {' '.join(str(exc).split())}", markup=False)
                unanswered += 1
                continue
            response = _post(client, registry, question, body)
            if response.is_error:
                err.print(f"{what}: the registry refused the answer ({_refusal(response)})", markup=False)
                refused += response.status_code == httpx.codes.UNPROCESSABLE_ENTITY
                unanswered += 1
                continue
            verification = response.json()["inquiry"]["verification"]
            out.print(f"{what}: answered, {_BADGES.get(verification['status'], verification['status'])}",
                      markup=False)  # fmt: skip
    if unanswered:
        code = EXIT_NOT_VERIFIED if refused else EXIT_BAD_INPUT
        fail(f"{unanswered} of {len(questions)} inquiries not answered (see above)", code)
