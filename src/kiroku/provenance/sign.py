"""`sign_image`: attach a C2PA manifest to a generated image declaring it AI-generated and not to be trained on,
signed with the firm's Ed25519 key (c2pa-python's `Builder` and a callback `Signer`).

The manifest holds:

- ``c2pa.actions``: one ``c2pa.created`` action with ``digitalSourceType``
  ``http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia`` (IPTC: "Created using Generative AI");
- ``c2pa.training-mining``: ``c2pa.ai_generative_training``, ``c2pa.ai_training``, ``c2pa.ai_inference`` and
  ``c2pa.data_mining`` all ``notAllowed``;
- claim generator ``kiroku/<version>``.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa

from kiroku import __version__
from kiroku.ledger import Signer
from kiroku.provenance.certificate import FirmCertificate, issue_certificate
from kiroku.provenance.errors import NotAnImage, SigningError
from kiroku.provenance.iptc import DIGITAL_SOURCE_TYPE_PREFIX
from kiroku.provenance.read import read_provenance

__all__ = ["TRAINING_MINING_ENTRIES", "SignedImage", "manifest_definition", "sign_image"]

TRAINING_MINING_ENTRIES = (
    "c2pa.ai_generative_training",
    "c2pa.ai_inference",
    "c2pa.ai_training",
    "c2pa.data_mining",
)
SOURCE_TYPE = DIGITAL_SOURCE_TYPE_PREFIX + "trainedAlgorithmicMedia"


@dataclass(frozen=True)
class SignedImage:
    """What `sign_image` wrote: the image, the manifest it declared and the certificate that signed it."""

    path: Path
    media_type: str
    manifest: dict[str, Any]
    certificate: FirmCertificate


def manifest_definition(title: str) -> dict[str, Any]:
    """The manifest definition kiroku signs: AI-generated, every training and mining use ``notAllowed``."""
    return {
        "claim_generator_info": [{"name": "kiroku", "version": __version__}],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": SOURCE_TYPE}]},
            },
            {
                "label": "c2pa.training-mining",
                "data": {"entries": {entry: {"use": "notAllowed"} for entry in TRAINING_MINING_ENTRIES}},
            },
        ],
    }


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.kiroku-tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SigningError(f"{path}: cannot write the signed image: {exc.strerror}") from exc


def sign_image(
    src: Path,
    dst: Path | None = None,
    *,
    key: Signer,
    certificate: FirmCertificate | None = None,
    organisation: str = "kiroku",
) -> SignedImage:
    """Sign ``src`` with a manifest from `manifest_definition` and write it to ``dst`` (default: ``src``, replaced
    atomically).

    ``key`` is the firm's key (`kiroku.workspace.Workspace.signer`); ``certificate`` a chain for it
    (`kiroku.provenance.certificate.firm_certificate`), else a new self-issued one naming ``organisation``.
    Raises `NotAnImage` for a file that is not an image, `SigningError` when c2pa cannot sign its format.
    """
    dst = dst or src
    try:
        data = src.read_bytes()
    except FileNotFoundError:
        raise NotAnImage(f"{src}: no such file") from None
    except OSError as exc:
        raise NotAnImage(f"{src}: cannot read: {exc.strerror}") from exc
    signals = read_provenance(data, name=str(src))
    if signals.problems and signals.problems[0].startswith("image:"):
        raise NotAnImage(f"{src}: {signals.problems[0]}; sign the image as the generator wrote it")
    certificate = certificate or issue_certificate(key, organisation)
    manifest = manifest_definition(dst.name)
    output = io.BytesIO()
    try:
        signer = c2pa.Signer.from_callback(
            lambda payload: key.sign(bytes(payload)), c2pa.C2paSigningAlg.ED25519, certificate.pem, None
        )
        with signer, c2pa.Builder(manifest) as builder:
            builder.sign(signer, signals.media_type, io.BytesIO(data), output)
    except c2pa.C2paError as exc:
        detail = " ".join(str(exc).split())
        raise SigningError(
            f"{src}: c2pa could not sign this {signals.media_type} image ({detail}); JPEG, PNG, WebP and TIFF "
            "are supported"
        ) from exc
    _write(dst, output.getvalue())
    return SignedImage(dst, signals.media_type, manifest, certificate)
