"""A CycloneDX 1.6 ML-BOM of the models in service and the data they were trained on, from the record.

Each model version is a ``machine-learning-model`` component with a ``modelCard`` (architecture family, training
approach, the datasets it was trained on by reference), each source a ``data`` component (its type, origin,
licence, what it may hold, how many documents were kept, as a range), and each model depends on the sources its
recorded training runs used. The BOM is public like the statement's public tier: figures are ranges.

cyclonedx-python-lib writes the BOM. It does not model ``modelCard`` or a component's ``data`` yet, so those
two members are added to its JSON, and the whole document is then checked with the library's strict JSON
validator against the CycloneDX 1.6 schema before it is returned: a BOM that does not validate is never written.

The BOM is signed as CycloneDX signs documents, a JSF signature by the firm's ledger key (`kiroku.disclose.jsf`),
and bound to the ledger like the statement: its metadata properties name the ledger's size, root and signed
checkpoint. `verify_mlbom` checks both offline with the firm's verifier key.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from importlib.metadata import version as package_version
from typing import Any

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.license import DisjunctiveLicense
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion

from kiroku.catalog.runs import list_runs
from kiroku.catalog.sources import DataType
from kiroku.disclose.errors import DisclosureError
from kiroku.disclose.evidence import count_band
from kiroku.disclose.facts import SourceFacts, TrainingDataFacts
from kiroku.disclose.jsf import sign_jsf, verify_jsf
from kiroku.disclose.policy import Policy
from kiroku.disclose.scope import ScopeDecision
from kiroku.disclose.signing import SignatureError
from kiroku.ledger import Ledger, NoteError, Signer, Verifier
from kiroku.ledger.note import open_checkpoint

__all__ = ["build_mlbom", "verify_mlbom"]

_SELF_SUPERVISED = {"pre-training", "continued-pre-training"}


def _data_ref(source: SourceFacts) -> str:
    return f"data:{source.name}"


def _model_ref(decision: ScopeDecision) -> str:
    return f"model:{decision.facts.model}@{decision.facts.version}"


def _data_component(source: SourceFacts) -> Component:
    record = source.source
    return Component(
        type=ComponentType.DATA,
        name=source.name,
        bom_ref=_data_ref(source),
        description=record.description
        or f"{record.type.value.replace('_', ' ')} ({record.origin or 'no origin recorded'})",
        licenses=[DisjunctiveLicense(name=record.licence)] if record.licence else None,
        properties=[
            Property(name="kiroku:data-type", value=record.type.value),
            Property(name="kiroku:kept-documents", value=count_band(source.kept)),
        ],
    )


def _data_member(source: SourceFacts) -> list[dict[str, Any]]:
    record = source.source
    sensitive = []
    if record.personal_data:
        sensitive.append("may include personal data")
    if record.copyrighted_works:
        sensitive.append("may include copyrighted works")
    member: dict[str, Any] = {
        "type": "dataset",
        "name": source.name,
        "classification": record.type.value,
        "description": f"{count_band(source.kept)} kept text documents"
        + (f"; collected {source.collected_from} to {'ongoing' if source.ongoing else source.collected_to}"
           if source.collected_from else ""),
    }  # fmt: skip
    if sensitive:
        member["sensitiveData"] = sensitive
    if record.origin and record.origin.startswith(("http://", "https://")):
        member["contents"] = {"url": record.origin}
    if record.type is DataType.synthetic and record.generator_model:
        member["governance"] = {"owners": [{"organization": {"name": record.generator_model}}]}
    return [member]


def _model_card(decision: ScopeDecision, ledger: Ledger, used: list[SourceFacts]) -> dict[str, Any]:
    runs = [run for index, run in list_runs(ledger) if index in set(decision.facts.runs)]
    methods = sorted({method.value for run in runs for method in run.methods})
    if _SELF_SUPERVISED & set(methods) or not methods:
        approach = "self-supervised"
    elif methods == ["preference-tuning"]:
        approach = "reinforcement-learning"
    else:
        approach = "supervised"
    parameters: dict[str, Any] = {
        "approach": {"type": approach},
        "task": "text-generation",
        "datasets": [{"ref": _data_ref(source)} for source in used],
        "inputs": [{"format": "text"}],
        "outputs": [{"format": "text"}],
    }
    families = sorted({run.architecture.family for run in runs})
    if families:
        parameters["architectureFamily"] = ", ".join(families)
    return {
        "bom-ref": f"{_model_ref(decision)}/model-card",
        "modelParameters": parameters,
        "properties": [{"name": "kiroku:training-methods", "value": ", ".join(methods) or "not recorded"}],
    }


def build_mlbom(
    facts: TrainingDataFacts,
    decisions: list[ScopeDecision],
    ledger: Ledger,
    policy: Policy,
    generated: datetime,
    ledger_state: dict[str, Any],
    signer: Signer,
) -> dict[str, Any]:
    """The CycloneDX 1.6 ML-BOM of the models in ``decisions`` and the sources in ``facts``, signed by ``signer``
    (JSF) and validated."""
    kept = [source for source in facts.sources if source.kept or source.first_used]
    data = {source.name: _data_component(source) for source in kept}
    models = {_model_ref(d): (d, Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=d.facts.model,
        version=d.facts.version,
        bom_ref=_model_ref(d),
        supplier=OrganizationalEntity(name=policy.firm.name),
        description=f"in service from {d.facts.released}" if d.facts.released else None,
    )) for d in decisions}  # fmt: skip
    serial = uuid.uuid5(uuid.NAMESPACE_URL, f"kiroku:{ledger_state['root']}:{generated.isoformat()}")
    bom = Bom(
        serial_number=serial,
        metadata=BomMetaData(
            timestamp=generated,
            supplier=OrganizationalEntity(name=policy.firm.name),
            tools=ToolRepository(
                components=[
                    Component(
                        type=ComponentType.APPLICATION, name="kiroku", version=package_version("kiroku")
                    )
                ]
            ),
            properties=[
                Property(name="kiroku:ledger-size", value=str(ledger_state["size"])),
                Property(name="kiroku:ledger-root", value=str(ledger_state["root"])),
                Property(name="kiroku:ledger-checkpoint", value=str(ledger_state["checkpoint"])),
            ],
        ),
        components=[*data.values(), *(component for _, component in models.values())],
    )
    used_by = facts.sources_of_model
    uses: dict[str, list[SourceFacts]] = {}
    for ref, (decision, component) in models.items():
        names = used_by.get((decision.facts.model, decision.facts.version))
        uses[ref] = [s for s in kept if names is None or s.name in names]
        bom.register_dependency(component, [data[s.name] for s in uses[ref]])
    document: dict[str, Any] = json.loads(JsonV1Dot6(bom).output_as_string())
    for component in document.get("components", []):
        ref = component.get("bom-ref", "")
        if ref in models:
            component["modelCard"] = _model_card(models[ref][0], ledger, uses[ref])
        elif ref.startswith("data:"):
            source = next(s for s in kept if _data_ref(s) == ref)
            component["data"] = _data_member(source)
    # imported here: jsonschema's format checkers take seconds to import (rfc3987-syntax builds a grammar),
    # which every kiroku command would otherwise pay
    from cyclonedx.validation.json import JsonStrictValidator

    signed = sign_jsf(document, signer)
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(signed))
    if error is not None:
        raise DisclosureError(f"the ML-BOM does not validate against CycloneDX 1.6: {error}")
    return signed


def _property(document: dict[str, Any], name: str) -> str | None:
    metadata = document.get("metadata")
    properties = metadata.get("properties") if isinstance(metadata, dict) else None
    for item in properties if isinstance(properties, list) else []:
        if isinstance(item, dict) and item.get("name") == name and isinstance(item.get("value"), str):
            return str(item["value"])
    return None


def verify_mlbom(document: dict[str, Any], verifier: Verifier) -> int:
    """Check an ML-BOM written by kiroku offline: its JSF signature by ``verifier``'s key, and that the ledger
    checkpoint in its properties is signed by the same key and names the size and root the BOM states. The
    ledger size; `SignatureError` says what failed."""
    if document.get("bomFormat") != "CycloneDX":
        raise SignatureError("not a CycloneDX BOM: bomFormat is missing")
    verify_jsf(document, verifier)
    note, size, root = (
        _property(document, f"kiroku:ledger-{name}") for name in ("checkpoint", "size", "root")
    )
    if note is None:
        raise SignatureError("the BOM carries no ledger checkpoint (property kiroku:ledger-checkpoint)")
    try:
        checkpoint, _ = open_checkpoint(note, verifier)
    except NoteError as exc:
        raise SignatureError(f"the BOM's ledger checkpoint does not verify: {exc}") from exc
    if (str(checkpoint.size), checkpoint.root_hash.hex()) != (size, root):
        raise SignatureError("the BOM's ledger size and root are not those of its signed checkpoint")
    return checkpoint.size
