"""`read_provenance`: every provenance signal of one image, C2PA and IPTC, as one `ProvenanceSignals`.

Opt-out reasons (each a string kept with the document in the catalog, as web pages keep ``robots:GPTBot``):

- ``c2pa:training-mining:notAllowed`` / ``c2pa:training-mining:constrained`` (and ``cawg:...``): a C2PA
  training-and-data-mining assertion (`kiroku.provenance.manifest`);
- ``iptc:data-mining-prohibited[-variant]``: a PLUS ``DataMining`` value (`kiroku.provenance.iptc`);
- ``c2pa:unreadable``: a C2PA manifest store the library cannot parse. It may hold an opt-out, and an unreadable
  opt-out is never taken as permission.

Synthetic media (made by a generative model) is a separate signal, not an opt-out: ``synthetic_why`` names where
it was declared, ``iptc:trainedAlgorithmicMedia`` (the XMP digital source type) or
``c2pa:trainedAlgorithmicMedia`` (the ``digitalSourceType`` of a ``c2pa.actions`` action); likewise
``compositeWithTrainedAlgorithmicMedia``.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from kiroku.provenance.errors import NotAnImage
from kiroku.provenance.iptc import (
    SYNTHETIC_SOURCE_TYPES,
    IptcFields,
    data_mining_reason,
    iptc_fields,
    source_type_name,
)
from kiroku.provenance.manifest import C2paSignals, read_manifest

__all__ = ["UNREADABLE_MANIFEST", "ProvenanceSignals", "media_type_of", "read_provenance"]

UNREADABLE_MANIFEST = "c2pa:unreadable"
"""The opt-out reason of an image whose C2PA manifest store cannot be parsed (fail closed)."""


@dataclass(frozen=True)
class ProvenanceSignals:
    """The provenance signals of one image."""

    media_type: str
    optout: tuple[str, ...]
    """Opt-out reasons, sorted and distinct."""
    synthetic_why: tuple[str, ...]
    """Where the image is declared AI-generated (``iptc:trainedAlgorithmicMedia``, ...); empty if nowhere."""
    c2pa: C2paSignals = field(default_factory=C2paSignals)
    iptc: IptcFields = field(default_factory=IptcFields)
    problems: tuple[str, ...] = ()
    """What could not be read (a truncated image, an XMP packet that is not XML); the rest was read."""

    @property
    def synthetic(self) -> bool:
        """Whether any signal declares the image made by a generative model."""
        return bool(self.synthetic_why)

    @property
    def text(self) -> str:
        """The text the image carries in its metadata: title, description and alt text, each once."""
        parts = (self.iptc.title, self.iptc.description, self.iptc.alt_text)
        return "\n".join(dict.fromkeys(p.strip() for p in parts if p and p.strip()))

    def to_json(self) -> dict[str, Any]:
        """The signals as a JSON object."""
        return {
            "media_type": self.media_type,
            "optout": list(self.optout),
            "synthetic": self.synthetic,
            "synthetic_why": list(self.synthetic_why),
            "c2pa": self.c2pa.to_json(),
            "iptc": self.iptc.to_json(),
            "problems": list(self.problems),
        }


def media_type_of(image: Image.Image) -> str:
    """The MIME type of an opened image (``image/jpeg``)."""
    return Image.MIME.get(image.format or "", f"image/{(image.format or 'unknown').lower()}")


def _load(source: Path | bytes, what: str) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return source.read_bytes()
    except FileNotFoundError:
        raise NotAnImage(f"{what}: no such file") from None
    except IsADirectoryError:
        raise NotAnImage(f"{what}: is a folder, not an image") from None
    except OSError as exc:
        raise NotAnImage(f"{what}: cannot read: {exc.strerror}") from exc


# The leading bytes of the formats kiroku reads, to tell a damaged image from a file that is no image at all.
_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF8", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


def _sniff(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((media for magic, media in _MAGIC if data.startswith(magic)), None)


def _open(data: bytes, what: str) -> tuple[Image.Image | None, tuple[str, ...]]:
    """The image Pillow opened (None if it could not open a damaged one), and what was wrong with it."""
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if _sniff(data) is None:
            raise NotAnImage(
                f"{what}: not an image Pillow can read ({type(exc).__name__}); give a JPEG, PNG, WebP or TIFF "
                "file"
            ) from exc
        return None, (f"image: truncated or damaged ({' '.join(str(exc).split())})",)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        return image, (f"image: pixels not readable ({' '.join(str(exc).split())})",)
    return image, ()


def read_provenance(
    source: Path | bytes, media_type: str | None = None, *, name: str | None = None
) -> ProvenanceSignals:
    """Every provenance signal of an image file or its bytes.

    ``media_type`` (``image/jpeg``) is found from the bytes when not given; ``name`` is how errors name bytes.
    Raises `NotAnImage` (naming the file) for a missing file or bytes Pillow does not recognise as an image.
    Never raises for a broken C2PA manifest, a bad XMP packet or truncated pixels: they are recorded in
    ``c2pa.state`` and ``problems``.
    """
    what = name or (str(source) if isinstance(source, Path) else "image")
    data = _load(source, what)
    image, problems = _open(data, what)
    iptc = IptcFields()
    if image is not None:
        with image:
            media_type = media_type or media_type_of(image)
            iptc = iptc_fields(image)
    media_type = media_type or _sniff(data) or "application/octet-stream"
    manifest = read_manifest(data, media_type)
    optout = {*manifest.optout, *(r for r in map(data_mining_reason, iptc.data_mining) if r)}
    if manifest.state == "unreadable":
        optout.add(UNREADABLE_MANIFEST)
    synthetic = {
        *(
            f"iptc:{n}"
            for n in map(source_type_name, iptc.digital_source_type)
            if n in SYNTHETIC_SOURCE_TYPES
        ),
        *(f"c2pa:{n}" for n in manifest.synthetic),
    }
    return ProvenanceSignals(
        media_type=media_type,
        optout=tuple(sorted(optout)),
        synthetic_why=tuple(sorted(synthetic)),
        c2pa=manifest,
        iptc=iptc,
        problems=(*problems, *iptc.problems),
    )
