"""Provenance signals in media: C2PA manifests and IPTC metadata read from images, and C2PA manifests attached to
the images a firm's models generate.

- `read_provenance`: an image's opt-out reasons (C2PA training-and-data-mining ``notAllowed`` /
  ``constrained``, PLUS ``DataMining`` prohibited), whether it is declared synthetic (IPTC digital source type
  ``trainedAlgorithmicMedia``, in XMP or in a C2PA action), and its C2PA state (validation, claim generator,
  signer), as `ProvenanceSignals`; a broken manifest is a recorded state, never an exception;
- `sign_image`: a C2PA manifest declaring an image AI-generated and not allowed for training, signed with the
  firm's Ed25519 key under a certificate from `firm_certificate`.

Errors are `ProvenanceError` and its subclasses (`kiroku.provenance.errors`).
"""

from kiroku.provenance.certificate import (
    FirmCertificate,
    firm_certificate,
    issue_certificate,
    load_certificate,
)
from kiroku.provenance.errors import CertificateError, NotAnImage, ProvenanceError, SigningError
from kiroku.provenance.iptc import IptcFields
from kiroku.provenance.manifest import C2paSignals, TrainingMiningEntry
from kiroku.provenance.read import ProvenanceSignals, read_provenance
from kiroku.provenance.sign import SignedImage, manifest_definition, sign_image

__all__ = [
    "C2paSignals",
    "CertificateError",
    "FirmCertificate",
    "IptcFields",
    "NotAnImage",
    "ProvenanceError",
    "ProvenanceSignals",
    "SignedImage",
    "SigningError",
    "TrainingMiningEntry",
    "firm_certificate",
    "issue_certificate",
    "load_certificate",
    "manifest_definition",
    "read_provenance",
    "sign_image",
]
