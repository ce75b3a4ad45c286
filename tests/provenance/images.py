"""Real image files for the provenance tests: drawn with Pillow, XMP written by Pillow, C2PA manifests signed by
c2pa-python's Builder (for manifests kiroku itself never signs, such as ``allowed``)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import c2pa
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from kiroku.ledger import Signer
from kiroku.provenance import issue_certificate

PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"
SOURCE_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def xmp(*, data_mining: str | None = None, source_type: str | None = None, title: str | None = None,
        description: str | None = None, plus_ns: str = "http://ns.useplus.org/ldf/xmp/1.0/") -> str:  # fmt: skip
    """An XMP packet as Photoshop and ExifTool write it: simple properties as attributes, dc:title in an Alt."""
    attributes = ""
    if data_mining:
        attributes += f' plus:DataMining="{data_mining}"'
    if source_type:
        attributes += f' Iptc4xmpExt:DigitalSourceType="{source_type}"'
    body = ""
    if title:
        body += f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>'
    if description:
        body += f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{description}</rdf:li></rdf:Alt></dc:description>'
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:plus="{plus_ns}" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"{attributes}>{body}</rdf:Description>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )


def jpeg(path: Path, packet: str | None = None, colour: tuple[int, int, int] = (200, 40, 40)) -> Path:
    """A 64x48 JPEG, with ``packet`` as its XMP (APP1) if given."""
    image = Image.new("RGB", (64, 48), colour)
    image.save(path, "JPEG", **({"xmp": packet.encode("utf-8")} if packet else {}))
    return path


def png(path: Path, packet: str | None = None, colour: tuple[int, int, int] = (40, 200, 40)) -> Path:
    """A 32x32 PNG, with ``packet`` in an ``XML:com.adobe.xmp`` iTXt chunk if given."""
    info = PngInfo()
    if packet:
        info.add_itxt("XML:com.adobe.xmp", packet)
    Image.new("RGB", (32, 32), colour).save(path, "PNG", pnginfo=info)
    return path


def sign_with_c2pa(src: Path, dst: Path, assertions: list[dict[str, Any]], key: Signer) -> Path:
    """Sign ``src`` into ``dst`` with a manifest of ``assertions``, straight through c2pa-python."""
    chain = issue_certificate(key, "Other Studio").pem
    signer = c2pa.Signer.from_callback(lambda data: key.sign(bytes(data)), c2pa.C2paSigningAlg.ED25519, chain)
    created = {"action": "c2pa.created", "digitalSourceType": SOURCE_TYPES + "digitalCapture"}
    actions = {"label": "c2pa.actions", "data": {"actions": [created]}}
    manifest = {
        "claim_generator_info": [{"name": "other-studio", "version": "2.0"}],
        "assertions": [actions, *assertions],
    }
    media = "image/png" if src.suffix == ".png" else "image/jpeg"
    output = io.BytesIO()
    with signer, c2pa.Builder(manifest) as builder:
        builder.sign(signer, media, io.BytesIO(src.read_bytes()), output)
    dst.write_bytes(output.getvalue())
    return dst


def training_mining(label: str = "c2pa.training-mining", **uses: str) -> dict[str, Any]:
    """A training-and-data-mining assertion: ``ai_training="allowed"`` -> ``c2pa.ai_training: allowed``."""
    family = label.split(".")[0]
    return {"label": label, "data": {"entries": {f"{family}.{k}": {"use": v} for k, v in uses.items()}}}
