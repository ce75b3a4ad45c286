"""``kiroku provenance``: read an image's provenance signals, and sign generated images with a C2PA manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kiroku.cli._common import WorkspaceOption, fail, out, user_errors, workspace_from
from kiroku.provenance import (
    ProvenanceError,
    ProvenanceSignals,
    firm_certificate,
    read_provenance,
    sign_image,
)
from kiroku.workspace import Workspace

__all__ = ["app", "certificate_path"]

app = typer.Typer(
    help="Provenance in media: C2PA manifests and IPTC metadata of images.", no_args_is_help=True
)

CERTIFICATE_FILE = "c2pa-signer.pem"


def certificate_path(ws: Workspace) -> Path:
    """Where the workspace keeps the certificate of its key for C2PA: beside the signing key."""
    key = Path(ws.config.log.signing_key).expanduser()
    return (key if key.is_absolute() else ws.root / key).parent / CERTIFICATE_FILE


@app.command()
def sign(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="A generated image (JPEG, PNG, WebP, TIFF).")],
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the signed image here (default: replace IMAGE).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Attach a C2PA manifest declaring IMAGE AI-generated (trainedAlgorithmicMedia) and not allowed for
    training or data mining, signed with the workspace's key."""
    ws = workspace_from(ctx, workspace)
    with user_errors():
        key = ws.signer()
    organisation = ws.config.organisation.name
    try:
        certificate = firm_certificate(key, organisation, certificate_path(ws))
        signed = sign_image(image, output, key=key, certificate=certificate, organisation=organisation)
    except ProvenanceError as exc:
        fail(str(exc))
    entries = signed.manifest["assertions"][1]["data"]["entries"]
    out.print(f"Signed {signed.path} ({signed.media_type}) with a C2PA manifest:")
    out.print(
        "  c2pa.actions          c2pa.created, digitalSourceType trainedAlgorithmicMedia (AI-generated)"
    )
    out.print(f"  c2pa.training-mining  {', '.join(entries)}: notAllowed")
    out.print(f"  claim generator       {signed.manifest['claim_generator_info'][0]['name']}/"
              f"{signed.manifest['claim_generator_info'][0]['version']}")  # fmt: skip
    out.print(f"  signed by             {key.name} (Ed25519)")
    out.print(f"  certificate           {signed.certificate.subject}, {signed.certificate.path}")
    out.print(f"  sha256 fingerprint    {signed.certificate.fingerprint}")
    out.print(
        "Verifiers see the signer as untrusted until they add this certificate to their C2PA trust list."
    )


def _print(path: Path, signals: ProvenanceSignals) -> None:
    out.print(f"[bold]{path}[/bold] ({signals.media_type})", markup=True)
    out.print(f"  opt-out    {', '.join(signals.optout) or 'none'}")
    out.print(f"  synthetic  {'yes: ' + ', '.join(signals.synthetic_why) if signals.synthetic else 'no'}")
    c2pa = signals.c2pa
    if not c2pa.present:
        out.print("  c2pa       no manifest")
    else:
        out.print(f"  c2pa       {c2pa.state}" + (f" ({', '.join(c2pa.failures)})" if c2pa.failures else ""))
        details: tuple[tuple[str, str | None], ...] = (
            ("generator", c2pa.claim_generator),
            ("signer", c2pa.signer),
            ("error", c2pa.error),
        )
        for label, value in details:
            if value:
                out.print(f"    {label:<9}{value}")
        for entry in c2pa.training_mining:
            out.print(f"    {entry.entry}: {entry.use}")
    for name, found in signals.iptc.to_json().items():
        shown = ", ".join(found) if isinstance(found, list) else str(found)
        out.print(f"  iptc       {name}: {shown}")
    for problem in signals.problems:
        out.print(f"  problem    {problem}")


@app.command()
def read(
    image: Annotated[Path, typer.Argument(help="An image file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the signals as JSON.")] = False,
) -> None:
    """Show IMAGE's provenance signals: opt-outs, whether it is synthetic, its C2PA manifest and IPTC fields."""
    try:
        signals = read_provenance(image)
    except ProvenanceError as exc:
        fail(str(exc))
    if as_json:
        out.print_json(json.dumps({"path": str(image), **signals.to_json()}))
    else:
        _print(image, signals)
