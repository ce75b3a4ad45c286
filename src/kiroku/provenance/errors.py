"""The errors of ``kiroku.provenance``; each message names the file and says what to do.

::

    ProvenanceError            anything this package cannot do with a file
    ├── NotAnImage             the file is missing, unreadable, or not an image Pillow recognises
    └── SigningError           a C2PA manifest could not be attached (the image format, the c2pa library)
        └── CertificateError   the firm's signing certificate is unreadable or is not for the firm's key

A broken or unverifiable C2PA manifest in an image being *read* is not an error: `read_provenance` records its
state (``unreadable``, ``invalid``) and goes on, so that one damaged file never stops an ingest.
"""

from __future__ import annotations

__all__ = ["CertificateError", "NotAnImage", "ProvenanceError", "SigningError"]


class ProvenanceError(Exception):
    """A file cannot be read or signed; the message names it and says what to do."""


class NotAnImage(ProvenanceError):
    """The file is missing, cannot be read, or is not an image format Pillow recognises."""


class SigningError(ProvenanceError):
    """A C2PA manifest could not be attached to an image."""


class CertificateError(SigningError):
    """The firm's C2PA signing certificate is unreadable or certifies another key than the firm's."""
