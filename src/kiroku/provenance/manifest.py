"""What a C2PA manifest store says about an image: its validation, its signer, the training-and-data-mining
assertion and the digital source type of its actions; read with c2pa-python's `Reader`.

The training-and-data-mining assertion (C2PA 1.x ``c2pa.training-mining``; CAWG 1.x ``cawg.training-mining``)
holds ``entries``: ``c2pa.ai_generative_training``, ``c2pa.ai_training``, ``c2pa.ai_inference``,
``c2pa.data_mining`` (``cawg.*`` in the CAWG form), each with ``use`` ``allowed``, ``notAllowed`` or
``constrained``. A ``notAllowed`` or ``constrained`` use for training or data mining becomes the opt-out reason
``<c2pa|cawg>:training-mining:<use>``; inference is recorded but is no opt-out from *training*. ``constrained``
counts as an opt-out (conservative: the constraint is prose kiroku cannot check), so the workspace's
``[optout] policy`` decides: ``drop`` leaves the image out, ``flag`` keeps it with the reason.

Every manifest in the store is read, not only the active one, and whatever the validation says: an opt-out in a
manifest whose signature does not verify is still honoured (fail closed); the validation state is recorded
beside it.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import c2pa

from kiroku.provenance.iptc import SYNTHETIC_SOURCE_TYPES, source_type_name

__all__ = ["C2paSignals", "TrainingMiningEntry", "read_manifest"]

_TRAINING_MINING = re.compile(r"^(c2pa|cawg)\.training-mining(\.v\d+)?(__\d+)?$")
_ACTIONS = re.compile(r"^c2pa\.actions(\.v\d+)?(__\d+)?$")
_OPTED_OUT_USES = ("notAllowed", "constrained")
_TRAINING_ENTRIES = frozenset({"ai_generative_training", "ai_training", "data_mining"})


@dataclass(frozen=True)
class TrainingMiningEntry:
    """One entry of a training-and-data-mining assertion, e.g. ``c2pa.ai_training`` -> ``notAllowed``."""

    label: str
    entry: str
    use: str
    constraint_info: str | None = None

    @property
    def reason(self) -> str | None:
        """The opt-out reason this entry gives (``c2pa:training-mining:notAllowed``), or None."""
        family, _, name = self.entry.partition(".")
        if name not in _TRAINING_ENTRIES or self.use not in _OPTED_OUT_USES:
            return None
        return f"{family}:training-mining:{self.use}"


@dataclass(frozen=True)
class C2paSignals:
    """The C2PA state of an image.

    ``state`` is ``absent`` (no manifest), ``unreadable`` (a manifest the library could not parse; ``error``
    says why), or the library's validation state in lower case: ``invalid``, ``valid`` or ``trusted``
    (``valid``: the signature and hashes verify but the signer is not on a trust list, as for a firm's own
    certificate).
    """

    state: str = "absent"
    failures: tuple[str, ...] = ()
    """Validation failure codes of the active manifest (``signingCredential.untrusted``, ...)."""
    claim_generator: str | None = None
    signer: str | None = None
    """Who signed the active manifest: the certificate's common name and issuer."""
    training_mining: tuple[TrainingMiningEntry, ...] = ()
    source_types: tuple[str, ...] = ()
    """``digitalSourceType`` values of the actions in the store's manifests."""
    error: str | None = None

    @property
    def present(self) -> bool:
        """Whether the image carries a C2PA manifest store at all (readable or not)."""
        return self.state != "absent"

    @property
    def optout(self) -> tuple[str, ...]:
        """The opt-out reasons of the training-and-data-mining entries, sorted and distinct."""
        return tuple(sorted({e.reason for e in self.training_mining if e.reason}))

    @property
    def synthetic(self) -> tuple[str, ...]:
        """The synthetic source types named by the manifests' actions (``trainedAlgorithmicMedia``, ...)."""
        names = (source_type_name(value) for value in self.source_types)
        return tuple(sorted({name for name in names if name in SYNTHETIC_SOURCE_TYPES}))

    def to_json(self) -> dict[str, Any]:
        """The signals as a JSON object."""
        body: dict[str, Any] = {"state": self.state}
        if self.failures:
            body["failures"] = list(self.failures)
        if self.claim_generator:
            body["claim_generator"] = self.claim_generator
        if self.signer:
            body["signer"] = self.signer
        if self.training_mining:
            body["training_mining"] = {e.entry: e.use for e in self.training_mining}
        if self.source_types:
            body["digital_source_types"] = list(self.source_types)
        if self.error:
            body["error"] = self.error
        return body


def _manifests(store: dict[str, Any]) -> Iterator[dict[str, Any]]:
    manifests = store.get("manifests")
    if isinstance(manifests, dict):
        yield from (m for m in manifests.values() if isinstance(m, dict))


def _assertions(manifest: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for assertion in manifest.get("assertions") or ():
        if isinstance(assertion, dict) and isinstance(assertion.get("data"), dict):
            yield str(assertion.get("label", "")), assertion["data"]


def _training_mining(store: dict[str, Any]) -> tuple[TrainingMiningEntry, ...]:
    found: dict[tuple[str, str, str], TrainingMiningEntry] = {}
    for manifest in _manifests(store):
        for label, data in _assertions(manifest):
            if not _TRAINING_MINING.match(label):
                continue
            entries = data.get("entries")
            for name, value in (entries if isinstance(entries, dict) else {}).items():
                if isinstance(value, dict) and isinstance(value.get("use"), str):
                    info = value.get("constraint_info")
                    entry = TrainingMiningEntry(label, str(name), value["use"], str(info) if info else None)
                    found.setdefault((label, entry.entry, entry.use), entry)
    return tuple(found.values())


def _source_types(store: dict[str, Any]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for manifest in _manifests(store):
        for label, data in _assertions(manifest):
            if _ACTIONS.match(label):
                for action in data.get("actions") or ():
                    if isinstance(action, dict) and isinstance(action.get("digitalSourceType"), str):
                        found.setdefault(action["digitalSourceType"])
    return tuple(found)


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    infos = manifest.get("claim_generator_info")
    if isinstance(infos, list) and infos and isinstance(infos[0], dict) and infos[0].get("name"):
        version = infos[0].get("version")
        return f"{infos[0]['name']}/{version}" if version else str(infos[0]["name"])
    generator = manifest.get("claim_generator")
    return str(generator) if generator else None


def _signer(manifest: dict[str, Any]) -> str | None:
    info = manifest.get("signature_info")
    if not isinstance(info, dict):
        return None
    parts = [str(info[key]) for key in ("common_name", "issuer") if info.get(key)]
    return " / ".join(parts) or None


def _failures(store: dict[str, Any]) -> tuple[str, ...]:
    results = store.get("validation_results")
    active = results.get("activeManifest") if isinstance(results, dict) else None
    failures = active.get("failure") if isinstance(active, dict) else None
    if isinstance(failures, list):
        return tuple(str(f.get("code")) for f in failures if isinstance(f, dict))
    statuses = store.get("validation_status") or ()
    return tuple(str(s.get("code")) for s in statuses if isinstance(s, dict))


def signals_of_store(store: dict[str, Any]) -> C2paSignals:
    """The signals of a manifest store as c2pa's ``Reader.json()`` gives it."""
    active_label = store.get("active_manifest")
    manifests = store.get("manifests") if isinstance(store.get("manifests"), dict) else {}
    active = manifests.get(active_label) if isinstance(manifests, dict) else None
    active = active if isinstance(active, dict) else {}
    state = str(store.get("validation_state") or ("invalid" if _failures(store) else "valid")).lower()
    return C2paSignals(
        state=state,
        failures=_failures(store),
        claim_generator=_claim_generator(active),
        signer=_signer(active),
        training_mining=_training_mining(store),
        source_types=_source_types(store),
    )


def read_manifest(data: bytes, media_type: str) -> C2paSignals:
    """The C2PA signals of an image's bytes; never raises: a store the library cannot read is ``unreadable``."""
    try:
        reader = c2pa.Reader.try_create(media_type, io.BytesIO(data))
        if reader is None:
            return C2paSignals()
        with reader:
            store = json.loads(reader.json())
    except (c2pa.C2paError, ValueError, OSError) as exc:
        return C2paSignals(state="unreadable", error=" ".join(str(exc).split()) or type(exc).__name__)
    if not isinstance(store, dict):
        return C2paSignals(state="unreadable", error="the manifest store is not a JSON object")
    return signals_of_store(store)
