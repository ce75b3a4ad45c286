"""The typed evidence views: what the derivations produce fits them exactly, a statement of each tier validates, a
regulator view in a public statement fails, and the published schema tags every evidence field with its tier."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from kiroku.disclose import decide_scope, load_regime, parse_policy
from kiroku.disclose.evidence import (
    Evidence,
    blocklist_evidence,
    crawler_evidence,
    data_source_evidence,
    optout_evidence,
    retention_evidence,
)
from kiroku.disclose.evidence_views import VIEWS, EvidenceViews, OptoutsPublic, OptoutsRegulator
from kiroku.disclose.index_evidence import domain_index_evidence, trace_index_evidence
from kiroku.disclose.model_evidence import (
    inquiry_evidence,
    model_evidence,
    provenance_evidence,
    training_evidence,
)
from kiroku.disclose.regime import EVIDENCE
from kiroku.disclose.schema import Statement, statement_json_schema
from kiroku.ledger import Ledger
from kiroku.workspace import Workspace
from tests.disclose.conftest import POLICY, build

PUBLISHED = Path(__file__).resolve().parents[2] / "docs" / "statement.schema.json"
REGIME = load_regime("jp-aiip-2026-04")


def derive(ledger: Ledger, catalog_dir: Path, index_dir: Path) -> list[Evidence]:
    """Every evidence key for 2026, as `kiroku.disclose.statement` derives it."""
    policy = parse_policy(POLICY, REGIME)
    decisions = decide_scope(ledger, date(2026, 1, 1), date(2026, 12, 31), policy)
    return [
        model_evidence(decisions),
        training_evidence(ledger, decisions),
        data_source_evidence(ledger, catalog_dir),
        crawler_evidence(ledger, catalog_dir, ["AcmeBot/1.0"]),
        retention_evidence(ledger, catalog_dir),
        optout_evidence(ledger, catalog_dir),
        provenance_evidence(policy),
        blocklist_evidence(ledger, catalog_dir),
        domain_index_evidence(ledger, index_dir),
        trace_index_evidence(ledger, index_dir),
        inquiry_evidence(policy),
    ]


def fitting(models: tuple[type[BaseModel], ...], value: dict[str, Any]) -> list[type[BaseModel]]:
    """The models among ``models`` that validate ``value`` and give it back unchanged, field for field."""
    fits = []
    for model in models:
        try:
            view = model.model_validate(value)
        except ValidationError:
            continue
        assert view.model_dump(by_alias=True) == value, model.__name__
        fits.append(model)
    return fits


@pytest.fixture(scope="module")
def statements(statement_workspace: Path) -> dict[str, dict[str, Any]]:
    """The workspace's 2026 statement in each tier, as written."""
    return {tier: build(statement_workspace, tier, f"views-{tier}") for tier in ("public", "regulator")}


def test_the_views_cover_every_evidence_key() -> None:
    assert list(VIEWS) == list(EVIDENCE) == list(EvidenceViews.model_fields)


def test_every_view_model_validates_what_the_derivations_produce(
    statement_workspace: Path, store_url: str, tmp_path: Path
) -> None:
    ws = Workspace.open(statement_workspace)
    with ws.ledger() as ledger:  # a crawl with both indexes built
        derived = derive(ledger, ws.catalog_dir, ws.index_dir)
    empty = Ledger.create(store_url, "test.kiroku/ledger")  # no crawl, no index, no model
    derived += derive(empty, tmp_path / "catalog", tmp_path / "index")
    seen: set[type[BaseModel]] = set()
    for item in derived:
        views = VIEWS[item.key]
        public, regulator = fitting(views.public, item.public), fitting(views.regulator, item.regulator)
        assert public and regulator, item.key
        seen.update(public + regulator)
        if item.regulator != item.public:  # what the public statement's check relies on
            assert fitting(views.public, item.regulator) == [], item.key
    assert seen == {model for views in VIEWS.values() for model in views.public + views.regulator}


def test_a_statement_of_each_tier_validates(statements: dict[str, dict[str, Any]]) -> None:
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    for tier, document in statements.items():
        statement = Statement.model_validate(document)
        jsonschema.validate(document, published)
        keys = {key for answer in statement.requirements for key in answer.evidence.model_fields_set}
        assert keys == set(EVIDENCE), tier
    public = Statement.model_validate(statements["public"])
    assert all(answer.evidence.not_public() == [] for answer in public.requirements)
    regulator = Statement.model_validate(statements["regulator"])
    assert isinstance(regulator.requirements[0].evidence, EvidenceViews)
    optouts = {type(a.evidence.optouts) for a in regulator.requirements if a.evidence.optouts is not None}
    assert optouts == {OptoutsRegulator}


def views_by_key(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {key: view for answer in document["requirements"] for key, view in answer["evidence"].items()}


def with_view(document: dict[str, Any], key: str, view: dict[str, Any]) -> dict[str, Any]:
    """``document`` with ``view`` as ``key``'s evidence wherever a requirement names ``key``."""
    changed = copy.deepcopy(document)
    for answer in changed["requirements"]:
        if key in answer["evidence"]:
            answer["evidence"][key] = copy.deepcopy(view)
    return changed


def test_a_regulator_view_in_a_public_statement_fails(statements: dict[str, dict[str, Any]]) -> None:
    public, regulator = statements["public"], statements["regulator"]
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    leaking = [key for key, view in views_by_key(regulator).items() if view != views_by_key(public)[key]]
    assert set(EVIDENCE) - set(leaking) == {"provenance", "inquiries"}  # the same in both tiers
    for key in leaking:
        leaked = with_view(public, key, views_by_key(regulator)[key])
        with pytest.raises(ValidationError, match=f"carries the regulator view of '{key}', in a public"):
            Statement.model_validate(leaked)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(leaked, published)
        # the same view in a regulator statement is what it should be
        Statement.model_validate({**leaked, "tier": "regulator"})
    # the regulator may read what the public reads
    Statement.model_validate(with_view(regulator, "optouts", views_by_key(public)["optouts"]))


def test_a_public_statement_carries_no_findings_and_no_regulator_requirement(
    statements: dict[str, dict[str, Any]],
) -> None:
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    findings = copy.deepcopy(statements["public"])
    findings["requirements"][0]["findings"] = []
    regulator_only = [a for a in statements["regulator"]["requirements"] if a["tier"] == "regulator"]
    assert regulator_only
    requirement = copy.deepcopy(statements["public"])
    shown = {key: value for key, value in regulator_only[0].items() if key != "findings"}
    requirement["requirements"].append({**shown, "evidence": {}})
    for document, message in ((findings, "carries findings"), (requirement, "is of the regulator tier")):
        with pytest.raises(ValidationError, match=message):
            Statement.model_validate(document)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(document, published)


def reachable(schema: dict[str, Any], name: str) -> set[str]:
    """The names of the ``$defs`` that ``$defs/name`` refers to, directly or not, itself included."""
    found: set[str] = set()
    stack = [name]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        text = json.dumps(schema["$defs"][current])
        stack += [part.split('"')[0] for part in text.split('"$ref": "#/$defs/')[1:]]
    return found


def test_every_evidence_field_in_the_published_schema_has_a_tier() -> None:
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    assert published == statement_json_schema()
    defs = published["$defs"]
    views = reachable(published, "EvidenceViews")
    assert {"OptoutsPublic", "OptoutsRegulator", "CrawlPeriod", "KindFigures", "SourceFigures"} <= views
    for name in views:
        for field, spec in defs[name].get("properties", {}).items():
            assert spec.get("tier") in ("public", "regulator"), f"{name}.{field}"
    # everything a public view holds, however deep, is public
    for model in {model for views_ in VIEWS.values() for model in views_.public}:
        for name in reachable(published, model.__name__):
            assert {spec["tier"] for spec in defs[name]["properties"].values()} == {"public"}, name
    tiers = {field: spec["tier"] for field, spec in defs["OptoutsRegulator"]["properties"].items()}
    assert tiers["documents_dropped"] == tiers["kept_despite_optout"] == "regulator"
    assert set(defs["OptoutsPublic"]["properties"]) == set(OptoutsPublic.model_fields)
    crawler = {field: spec["tier"] for field, spec in defs["CrawlerRegulator"]["properties"].items()}
    assert crawler == {"user_agents": "public", "crawled": "public", "period": "public", "pages": "regulator",
                       "hosts": "regulator", "sources": "regulator", "crawls": "regulator"}  # fmt: skip
