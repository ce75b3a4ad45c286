"""``kiroku statement``: the annual comply-or-explain statement, built from the record and signed; and its check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kiroku.cli._common import WorkspaceOption, fail, out, read_input, user_errors, workspace_from
from kiroku.disclose import DisclosureError, load_policy, load_regime
from kiroku.disclose.mlbom import verify_mlbom
from kiroku.disclose.notification import build_notification
from kiroku.disclose.render import statement_html, statement_markdown
from kiroku.disclose.signing import SignatureError
from kiroku.disclose.statement import Sources, Tier, build_disclosures, verify_statement
from kiroku.ledger import MalformedNote, Verifier

__all__ = ["app"]

app = typer.Typer(help="Build and check the annual comply-or-explain statement.", no_args_is_help=True)

POLICY_FILE = "statement.toml"


@app.command()
def build(
    ctx: typer.Context,
    period: Annotated[int, typer.Option(help="The reporting year, e.g. 2026.")],
    tier: Annotated[
        str, typer.Option(help="public (bands and names only) or regulator (every figure, and the findings).")
    ] = "public",
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the statement into.")] = Path(
        "statement"
    ),
    policy: Annotated[
        Path | None,
        typer.Option(help=f"The statement policy file (default: {POLICY_FILE} in the workspace folder)."),
    ] = None,
    regime: Annotated[
        str, typer.Option(help="The regime answered: a bundled name or a regime TOML file.")
    ] = "jp-aiip-2026-04",
    workspace: WorkspaceOption = None,
) -> None:
    """Build the statement for one reporting year from the ledger, the catalog and the indexes, sign it with the
    workspace key, and write OUT/statement.json with its renderings OUT/statement.html and OUT/statement.md, and
    the notification to the Cabinet Office, OUT/notification.json (public: names, dates, statuses, the statement's
    SHA-256). From the same record it writes the EU AI Act's public summary of training content
    (OUT/eu-summary.json) and California AB 2013's items (OUT/ab2013.json), both signed, and a CycloneDX 1.6
    ML-BOM (OUT/cyclonedx.json).

    Every requirement's evidence is computed from the record; where it shows non-compliance (an opt-out not
    honoured, an index behind the catalog) the build stops until the policy file explains it.
    """
    if tier not in ("public", "regulator"):
        fail(f"--tier {tier!r}: choose public or regulator")
    chosen: Tier = "public" if tier == "public" else "regulator"
    ws = workspace_from(ctx, workspace)
    policy_path = policy or ws.root / POLICY_FILE
    with user_errors():
        try:
            answered = load_regime(regime)
            firm_policy = load_policy(policy_path, answered)
            agents = tuple(a for a in (ws.config.optout.crawler_agent,) if a)
            with ws.ledger() as ledger:
                built = build_disclosures(
                    Sources(ledger, ws.catalog_dir, ws.index_dir, agents),
                    answered,
                    firm_policy,
                    period,
                    chosen,
                    ws.signer(),
                    policy_origin=str(policy_path),
                )
            notification = build_notification(built.statement, ws.signer())
        except DisclosureError as exc:
            fail(str(exc))
    document = built.statement
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "statement.json"
    _write_json(target, document)
    (out_dir / "statement.html").write_text(statement_html(document), encoding="utf-8")
    (out_dir / "statement.md").write_text(statement_markdown(document), encoding="utf-8")
    _write_json(out_dir / "notification.json", notification)
    _write_json(out_dir / "eu-summary.json", built.eu_summary)
    _write_json(out_dir / "ab2013.json", built.ab2013)
    _write_json(out_dir / "cyclonedx.json", built.mlbom)
    counts = document["summary"]
    out.print(
        f"Statement for {period} ({chosen} tier, {answered.name}): {counts['complies']} complies, "
        f"{counts['partially']} partially, {counts['explains']} explains; signed, bound to ledger size "
        f"{document['ledger']['size']}.\nWritten to {out_dir}/: statement.json, statement.html (print-ready, "
        "Japanese and English), statement.md; notification.json (to the Cabinet Office); eu-summary.json (EU AI "
        "Act public summary of training content); ab2013.json (California AB 2013); cyclonedx.json (CycloneDX "
        "1.6 ML-BOM)"
    )


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@app.command()
def verify(
    statement: Annotated[
        Path,
        typer.Argument(
            help="A statement.json (or eu-summary.json, ab2013.json, cyclonedx.json) written by 'kiroku "
            "statement build'."
        ),
    ],
    key: Annotated[str, typer.Option(help="The firm's verifier key, or a file holding it.")],
) -> None:
    """Check a statement offline: its signature and its ledger checkpoint, with the firm's public key alone.
    The EU summary, the AB 2013 documentation and the ML-BOM (its CycloneDX JSF signature) are checked the same
    way. Exit 0 if and only if it verifies."""
    key_text = key
    if "+" not in key or Path(key).is_file():
        key_text = read_input(Path(key), "key file").decode("utf-8", "replace")
    data = read_input(statement, "statement")
    try:
        verifier = Verifier.from_vkey(key_text.strip())
    except MalformedNote as exc:
        fail(f"--key is not a verifier key: {exc}")
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{statement}: not JSON ({exc})", 1)
    if not isinstance(document, dict):
        fail(f"{statement}: not a statement (a JSON object is expected)", 1)
    try:
        if "bomFormat" in document:
            size = verify_mlbom(document, verifier)
        else:
            verify_statement(document, verifier)
            size = document["ledger"]["size"]
    except SignatureError as exc:
        fail(f"{statement}: does not verify: {exc}", 1)
    out.print(f"OK: {statement} is signed by {verifier.name} and bound to its ledger at size {size}")
