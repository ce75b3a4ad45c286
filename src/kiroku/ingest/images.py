"""Images into the catalog, each with the opt-out reasons and the synthetic flag of its provenance signals.

An ingest of images reads them in two steps, so that the runner (`ingest_files`: shards, ledger records,
resumption) is the same as for every other input:

1. `write_inventory` reads every image's signals (`kiroku.provenance.read_provenance`) and writes one JSON Lines
   *inventory* of the set, sorted by path: each image's absolute path, SHA-256, media type, metadata text,
   opt-out reasons, synthetic declarations, C2PA state and problems. It is named by its own hash, so the same
   images with the same signals make the same file, and an ingest of it is recorded once. Its SHA-256 is the
   input hash in each ``catalog.shard`` record: the ledger commits to the inventory, synthetic flags included.
2. `ImageInventoryReader` reads the inventory as the ingest input: one document per image.

A document's text is a first line naming the image by its content, ``[image <media type> sha256:<hex>]``,
followed by the text the image carries in its metadata (title, description, alt text), if any. The catalog's
document id is the SHA-256 of the text, so this line makes the id a content address of the image: two different
images are two documents even when neither has a caption, and the same image ingested twice is one.

Opt-out reasons (``c2pa:training-mining:notAllowed``, ``iptc:data-mining-prohibited``, ...) go into the
catalog's ``optout`` column and the workspace's `kiroku.optout.OptoutPolicy` decides ``kept``, as for web
pages. Synthetic declarations are *not* opt-outs and are not put in that column (statements count every value
there as an opt-out); they are kept in the inventory (``synthetic``), which the ledger commits to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiroku.catalog.shards import Document, replace_durably
from kiroku.ingest._errors import IngestError
from kiroku.optout.tags import DEFAULT_POLICY, OptoutPolicy
from kiroku.provenance import ProvenanceError, read_provenance

__all__ = ["IMAGE_SUFFIXES", "ImageInventoryReader", "InventorySummary", "find_images", "write_inventory"]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".gif"})
"""The suffixes an ingest picks up in a folder (files named one by one are read whatever their suffix)."""


def find_images(paths: Iterable[Path]) -> list[Path]:
    """The image files named by ``paths``: files as given, folders searched recursively for `IMAGE_SUFFIXES`;
    absolute, distinct and sorted. Raises `IngestError` for a path that does not exist or a folder with none."""
    found: set[Path] = set()
    for path in paths:
        if path.is_file():
            found.add(path.resolve())
        elif path.is_dir():
            images = {
                p.resolve() for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
            }
            if not images:
                raise IngestError(f"{path}: no image files (.jpg, .png, .webp, .tif, .gif) in this folder")
            found |= images
        else:
            raise IngestError(f"{path}: no such file or folder")
    return sorted(found)


@dataclass
class InventorySummary:
    """What an inventory holds: images, and how many opted out, are synthetic, carry a C2PA manifest."""

    path: Path
    images: int = 0
    opted_out: int = 0
    synthetic: int = 0
    c2pa: dict[str, int] = field(default_factory=dict)
    """Images by C2PA state (``valid``, ``invalid``, ``unreadable``, ...), those without a manifest left out."""
    problems: int = 0


def _entry(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
        signals = read_provenance(data, name=str(path))
    except OSError as exc:
        raise IngestError(f"{path}: cannot read: {exc.strerror}") from exc
    except ProvenanceError as exc:
        raise IngestError(str(exc)) from exc
    return {
        "path": str(path),
        "sha256": hashlib.sha256(data).hexdigest(),
        "media_type": signals.media_type,
        "text": signals.text,
        "optout": list(signals.optout),
        "synthetic": list(signals.synthetic_why),
        "c2pa": signals.c2pa.to_json(),
        "problems": list(signals.problems),
    }


def write_inventory(images: Sequence[Path], directory: Path) -> InventorySummary:
    """Read the signals of ``images`` and write their inventory in ``directory`` (see the module's docstring).

    Raises `IngestError` naming an image that is missing or not an image.
    """
    lines, summary = [], InventorySummary(path=directory)
    for path in images:
        entry = _entry(path)
        lines.append(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        summary.images += 1
        summary.opted_out += bool(entry["optout"])
        summary.synthetic += bool(entry["synthetic"])
        summary.problems += bool(entry["problems"])
        if entry["c2pa"]["state"] != "absent":
            summary.c2pa[entry["c2pa"]["state"]] = summary.c2pa.get(entry["c2pa"]["state"], 0) + 1
    body = "".join(lines).encode("utf-8")
    path = directory / f"images-{hashlib.sha256(body).hexdigest()[:16]}.jsonl"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(body)
            replace_durably(tmp, path)
    except OSError as exc:
        raise IngestError(f"{path}: cannot write the image inventory: {exc.strerror}") from exc
    summary.path = path
    return summary


def image_text(entry: dict[str, Any]) -> str:
    """A document's text: the content-addressing first line, then the image's metadata text if any."""
    head = f"[image {entry['media_type']} sha256:{entry['sha256']}]"
    return f"{head}\n{entry['text']}" if entry.get("text") else head


@dataclass(frozen=True)
class ImageInventoryReader:
    """Reads an inventory from `write_inventory` as ingest input: one document per image, ``kept`` by the
    opt-out policy (a reader for `kiroku.ingest.ingest_files`)."""

    policy: OptoutPolicy = DEFAULT_POLICY

    def __call__(self, path: Path, start: int = 0) -> Iterator[tuple[int, Document]]:
        """Yield ``(line index, document)`` from line ``start`` on; `IngestError` names a damaged line."""
        try:
            with path.open(encoding="utf-8") as handle:
                for number, line in enumerate(handle):
                    if number < start:
                        continue
                    try:
                        entry = json.loads(line)
                        optout = tuple(str(r) for r in entry["optout"])
                        doc = Document(
                            text=image_text(entry),
                            external_id=str(entry["path"]),
                            optout=optout,
                            kept=self.policy.keeps(optout),
                        )
                    except (json.JSONDecodeError, KeyError, TypeError) as exc:
                        raise IngestError(
                            f"{path}: line {number + 1}: not an image inventory entry ({exc}); inventories are "
                            "written by 'kiroku ingest images'"
                        ) from exc
                    yield number, doc
        except (OSError, UnicodeDecodeError) as exc:
            raise IngestError(f"{path}: cannot read the image inventory: {exc}") from exc
