"""IPTC photo metadata in an image: the XMP packet (PLUS data mining, IPTC digital source type, captions) and the
legacy IIM block (title, caption).

Pillow finds the packets (``Image.info`` holds the XMP of JPEG, PNG, WebP and TIFF files;
``IptcImagePlugin.getiptcinfo`` the IIM datasets) and defusedxml parses the XMP, keeping the namespaces that
Pillow's own ``getxmp()`` drops: a ``DataMining`` property only counts in the PLUS namespace.

Names, from the IPTC Photo Metadata Standard 2023.1 and the PLUS License Data Format:

- ``plus:DataMining`` (``http://ns.useplus.org/ldf/xmp/1.0/``), a URI of the PLUS vocabulary
  ``http://ns.useplus.org/ldf/vocab/DMI-...``: ``DMI-PROHIBITED`` and its ``-AIMLTRAINING``, ``-GENAIMLTRAINING``,
  ``-EXCEPTSEARCHENGINEINDEXING``, ``-SEECONSTRAINT``, ``-SEEEMBEDDEDRIGHTSEXPR``, ``-SEELINKEDRIGHTSEXPR``
  variants prohibit mining (each becomes the opt-out reason ``iptc:data-mining-prohibited[-variant]``);
  ``DMI-ALLOWED`` and ``DMI-UNSPECIFIED`` do not;
- ``Iptc4xmpExt:DigitalSourceType`` (``http://iptc.org/std/Iptc4xmpExt/2008-02-29/``), a URI of the IPTC
  vocabulary ``http://cv.iptc.org/newscodes/digitalsourcetype/``;
- ``dc:title``, ``dc:description``, ``Iptc4xmpCore:AltTextAccessibility``; IIM 2:05 (object name) and 2:120
  (caption/abstract).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from PIL import Image, ImageFile, IptcImagePlugin

__all__ = [
    "DIGITAL_SOURCE_TYPE_PREFIX",
    "PLUS_VOCAB",
    "SYNTHETIC_SOURCE_TYPES",
    "IptcFields",
    "data_mining_reason",
    "iptc_fields",
    "parse_xmp",
    "source_type_name",
]

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PLUS = "http://ns.useplus.org/ldf/xmp/1.0/"
PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"
IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
IPTC_CORE = "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"
DC = "http://purl.org/dc/elements/1.1/"
DIGITAL_SOURCE_TYPE_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"
SYNTHETIC_SOURCE_TYPES = frozenset({"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"})
"""Digital source types that mark media made by a generative model (IPTC's "Created using Generative AI" and
"Composite including generative AI elements")."""


@dataclass(frozen=True)
class IptcFields:
    """The IPTC and PLUS fields found in an image (empty when absent), and what could not be read."""

    data_mining: tuple[str, ...] = ()
    """``plus:DataMining`` values as found (PLUS vocabulary URIs)."""
    digital_source_type: tuple[str, ...] = ()
    """``Iptc4xmpExt:DigitalSourceType`` values as found (IPTC vocabulary URIs)."""
    title: str | None = None
    description: str | None = None
    alt_text: str | None = None
    problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The fields as a JSON object, leaving out the empty ones."""
        body: dict[str, object] = {
            "data_mining": list(self.data_mining),
            "digital_source_type": list(self.digital_source_type),
            "title": self.title,
            "description": self.description,
            "alt_text": self.alt_text,
        }
        return {key: value for key, value in body.items() if value}


def data_mining_reason(value: str) -> str | None:
    """The opt-out reason of a ``plus:DataMining`` value, or None when it does not prohibit mining.

    ``http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-GENAIMLTRAINING`` ->
    ``iptc:data-mining-prohibited-genaimltraining``; ``DMI-ALLOWED`` and ``DMI-UNSPECIFIED`` -> None.
    """
    code = value.strip()
    code = code.removeprefix(PLUS_VOCAB).removeprefix(PLUS_VOCAB.replace("http:", "https:")).upper()
    if code == "DMI-PROHIBITED" or code.startswith("DMI-PROHIBITED-"):
        return "iptc:data-mining-prohibited" + code.removeprefix("DMI-PROHIBITED").lower()
    return None


def source_type_name(value: str) -> str:
    """The term of an IPTC digital source type URI (``.../digitalsourcetype/trainedAlgorithmicMedia`` ->
    ``trainedAlgorithmicMedia``); any other value as it is."""
    value = value.strip()
    for prefix in (DIGITAL_SOURCE_TYPE_PREFIX, DIGITAL_SOURCE_TYPE_PREFIX.replace("http:", "https:")):
        if value.startswith(prefix):
            return value.removeprefix(prefix)
    return value


def _values(root: Element, name: str) -> Iterator[str]:
    """Every value of the XMP property ``name`` (``{namespace}local``): as an attribute of a description, as an
    element's text or ``rdf:resource``, or as the ``rdf:li`` items of an ``rdf:Alt``/``Bag``/``Seq``."""
    for element in root.iter():
        if name in element.attrib:
            yield element.attrib[name]
        if element.tag != name:
            continue
        if f"{{{RDF}}}resource" in element.attrib:
            yield element.attrib[f"{{{RDF}}}resource"]
        items = list(element.iter(f"{{{RDF}}}li"))
        for item in items:
            if item.text and item.text.strip():
                yield item.text.strip()
        if not items and element.text and element.text.strip():
            yield element.text.strip()


def _first(root: Element, name: str) -> str | None:
    return next(_values(root, name), None)


def parse_xmp(packet: bytes | str) -> IptcFields:
    """The IPTC and PLUS fields of one XMP packet; a packet that is not well-formed XML is a problem, not an
    error."""
    try:
        root = ElementTree.fromstring(packet.strip(b"\x00 \t\r\n") if isinstance(packet, bytes) else packet)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        return IptcFields(problems=(f"xmp: not readable XML ({exc})",))
    return IptcFields(
        data_mining=tuple(dict.fromkeys(_values(root, f"{{{PLUS}}}DataMining"))),
        digital_source_type=tuple(dict.fromkeys(_values(root, f"{{{IPTC_EXT}}}DigitalSourceType"))),
        title=_first(root, f"{{{DC}}}title"),
        description=_first(root, f"{{{DC}}}description"),
        alt_text=_first(root, f"{{{IPTC_CORE}}}AltTextAccessibility"),
    )


def _xmp_packet(image: Image.Image) -> bytes | str | None:
    """The XMP packet Pillow found while opening the image (JPEG APP1, PNG iTXt, WebP chunk, TIFF tag 700)."""
    info = image.info
    packet = info.get("xmp") or info.get("XML:com.adobe.xmp")
    if packet is None and hasattr(image, "tag_v2"):
        packet = image.tag_v2.get(700)  # TIFF XMP tag
    return packet if isinstance(packet, bytes | str) and packet else None


def _iim_text(datasets: Mapping[tuple[int, int], object], key: tuple[int, int]) -> str | None:
    value = datasets.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, bytes):
        text = value.decode("utf-8", "replace").strip()
        return text or None
    return None


def iptc_fields(image: Image.Image) -> IptcFields:
    """The IPTC fields of an opened image: its XMP packet first, the IIM title and caption where XMP has none."""
    packet = _xmp_packet(image)
    fields = parse_xmp(packet) if packet is not None else IptcFields()
    try:
        datasets = (
            IptcImagePlugin.getiptcinfo(image) if isinstance(image, ImageFile.ImageFile) else None
        ) or {}
    except (OSError, SyntaxError, ValueError, IndexError) as exc:
        return replace(fields, problems=(*fields.problems, f"iptc iim: not readable ({exc})"))
    return replace(
        fields,
        title=fields.title or _iim_text(datasets, (2, 5)),
        description=fields.description or _iim_text(datasets, (2, 120)),
    )
