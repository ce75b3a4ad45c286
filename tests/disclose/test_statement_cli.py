"""`kiroku statement build` and `verify` on a real statement_workspace: signed, bound to the ledger, tiers kept apart."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from tests.conftest import kiroku
from tests.disclose.conftest import POLICY, STATEMENT_RUN, build, key, ok


def test_a_public_statement_answers_every_public_requirement_and_verifies(statement_workspace: Path) -> None:
    statement = build(statement_workspace, "public", "public")
    assert statement["format"] == "kiroku.statement/v1" and statement["tier"] == "public"
    assert statement["regime"]["name"] == "jp-aiip-2026-04"
    ids = [r["id"] for r in statement["requirements"]]
    assert "records" not in ids  # a regulator-tier requirement
    assert {"models", "data-sources", "crawler", "p1-optouts", "p2-domains", "p3-trace", "inquiries"} <= set(
        ids
    )
    assert all(r["status"] == "complies" for r in statement["requirements"])
    models = statement["requirements"][0]["evidence"]["models"]["models"]
    assert models == [
        {"model": "acme-lm", "version": "1.0", "services": ["chat"], "released": "2026-03-01", "withdrawn": None,
         "high_impact": True}
    ]  # fmt: skip
    assert all("findings" not in r for r in statement["requirements"])
    result = kiroku(
        "statement",
        "verify",
        "public/statement.json",
        "--key",
        key(statement_workspace),
        cwd=statement_workspace,
    )
    assert result.returncode == 0, result.stderr
    assert "OK: public/statement.json is signed by acme.example/kiroku" in result.stdout


def numbers(value: Any) -> set[str]:
    """Every number in a JSON-like value, as JSON writes it."""
    if isinstance(value, bool) or value is None:
        return set()
    if isinstance(value, int | float):
        return {json.dumps(value)}
    if isinstance(value, dict):
        return set().union(*(numbers(v) for v in value.values()))
    if isinstance(value, list | tuple):
        return set().union(*(numbers(v) for v in value))
    return set()


def regulator_only(root: Path) -> set[str]:
    """The figures each evidence derivation gives the regulator and not the public, derived here on their own."""
    from kiroku.disclose import load_policy, load_regime
    from kiroku.disclose.facts import training_data_facts
    from kiroku.disclose.statement import Sources, _evidence
    from kiroku.workspace import Workspace

    ws = Workspace.open(root)
    policy = load_policy(root / "statement.toml", load_regime("jp-aiip-2026-04"))
    with ws.ledger() as ledger:
        _, derived = _evidence(
            Sources(ledger, ws.catalog_dir, ws.index_dir), policy, date(2026, 1, 1), date(2026, 12, 31)
        )
        facts = training_data_facts(ledger, ws.catalog_dir)
    hidden: set[str] = set()
    for item in derived.values():
        hidden |= numbers(item.regulator) - numbers(item.public)
    for source in facts.sources:  # the per-source figures behind the EU summary, AB 2013 and the ML-BOM
        hidden |= numbers([source.documents, source.kept, source.kept_tokens, source.kept_bytes])
    return hidden


def test_the_public_tier_leaks_no_regulator_only_figure(statement_workspace: Path) -> None:
    build(statement_workspace, "public", "pub2")
    regulator = build(statement_workspace, "regulator", "reg")
    assert "records" in [r["id"] for r in regulator["requirements"]]
    hidden = regulator_only(statement_workspace)
    assert {
        "70000000000",
        "5000000000000",
        "30",
    } <= hidden  # parameters, tokens, pages: the regulator's alone
    written = sorted(path.name for path in (statement_workspace / "pub2").iterdir())
    assert written == [
        "ab2013.json", "cyclonedx.json", "eu-summary.json", "notification.json", "statement.html",
        "statement.json", "statement.md",
    ]  # fmt: skip
    forms = set()
    for value in hidden:  # as written, with thousands separators, in scientific notation
        number = json.loads(value)
        forms |= {value, f"{number:.3g}"} | ({f"{int(number):,}"} if float(number).is_integer() else set())
    for name in written:
        text = (statement_workspace / "pub2" / name).read_text(encoding="utf-8")
        if name.endswith(".json"):
            # no regulator-only figure as a JSON number (counts under 100 are left out: a summary counts 0 to 12)
            public_numbers = numbers(json.loads(text))
            assert {n for n in public_numbers & hidden if len(n.lstrip("-")) >= 3} == set(), name
        # ... nor inside a string or the rendered page
        leaked = sorted(form for form in forms if len(form) >= 5 and form in text)
        assert leaked == [], name


def test_any_changed_byte_or_another_key_fails_verification(
    statement_workspace: Path, tmp_path: Path
) -> None:
    build(statement_workspace, "public", "pub3")
    original = (statement_workspace / "pub3" / "statement.json").read_text(encoding="utf-8")
    altered = tmp_path / "altered.json"
    altered.write_text(original.replace('"complies"', '"explains"', 1), encoding="utf-8")
    result = kiroku(
        "statement", "verify", str(altered), "--key", key(statement_workspace), cwd=statement_workspace
    )
    assert result.returncode == 1 and "does not match the document" in result.stderr
    document = json.loads(original)
    document["ledger"]["size"] += 1
    altered.write_text(json.dumps(document), encoding="utf-8")
    result = kiroku(
        "statement", "verify", str(altered), "--key", key(statement_workspace), cwd=statement_workspace
    )
    assert result.returncode == 1


def test_a_stale_index_stops_the_build_until_explained(statement_workspace: Path, tmp_path: Path) -> None:
    root = tmp_path / "ws2"
    ok("init", str(root), "--org", "Acme AI", "--origin", "acme.example/kiroku", cwd=tmp_path)
    (root / "a.jsonl").write_text(
        json.dumps({"url": "https://a.example/", "text": "one page of text"}) + "\n"
    )
    (root / "b.jsonl").write_text(json.dumps({"url": "https://b.example/", "text": "another page"}) + "\n")
    ok("source", "add", "crawl", "--type", "web_crawl", cwd=root)
    ok("ingest", "jsonl", "a.jsonl", "--source", "crawl", cwd=root)
    (root / "run.toml").write_text(STATEMENT_RUN)
    ok("run", "record", "run.toml", cwd=root)
    ok("index", "domains", cwd=root)
    ok("index", "build", cwd=root)
    ok("ingest", "jsonl", "b.jsonl", "--source", "crawl", cwd=root)  # after the indexes were built
    (root / "statement.toml").write_text(POLICY, encoding="utf-8")
    result = kiroku("statement", "build", "--period", "2026", "--out", "out", cwd=root)
    assert result.returncode == 2
    assert "p2-domains" in result.stderr and "[explanations.p2-domains]" in result.stderr
    assert not (root / "out" / "statement.json").exists()
    (root / "statement.toml").write_text(
        POLICY
        + '\n[explanations.p2-domains]\nstatus = "partially"\nen = "Rebuilt weekly."\nja = "毎週再構築する。"\n'
        + '\n[explanations.p3-trace]\nstatus = "partially"\nen = "Rebuilt weekly."\nja = "毎週再構築する。"\n',
        encoding="utf-8",
    )
    ok("statement", "build", "--period", "2026", "--out", "out", cwd=root)
    statement = json.loads((root / "out" / "statement.json").read_text(encoding="utf-8"))
    assert statement["summary"]["partially"] == 2


def test_bad_input_names_the_field(statement_workspace: Path, tmp_path: Path) -> None:
    result = kiroku(
        "statement", "build", "--period", "2019", "--out", str(tmp_path / "o"), cwd=statement_workspace
    )
    assert result.returncode == 2
    assert "--period 2019: no model was in service and no training run was recorded in 2019" in result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(POLICY + '\n[explanations.p4-music]\nen = "x"\nja = "x"\n', encoding="utf-8")
    result = kiroku(
        "statement",
        "build",
        "--period",
        "2026",
        "--policy",
        str(bad),
        "--out",
        str(tmp_path / "o"),
        cwd=statement_workspace,
    )
    assert result.returncode == 2 and "explanations.p4-music" in result.stderr
    result = kiroku("statement", "build", "--period", "2026", "--tier", "secret", cwd=statement_workspace)
    assert result.returncode == 2 and "--tier 'secret'" in result.stderr


def test_the_notification_files_the_statement_and_carries_no_figure(statement_workspace: Path) -> None:
    import hashlib

    from kiroku.disclose.signing import verify_document
    from kiroku.ledger import Verifier
    from kiroku.ledger.records import canonical_json

    regulator = build(statement_workspace, "regulator", "note")
    notification = json.loads(
        (statement_workspace / "note" / "notification.json").read_text(encoding="utf-8")
    )
    assert notification["format"] == "kiroku.notification/v1"
    assert notification["statement"]["sha256"] == hashlib.sha256(canonical_json(regulator)).hexdigest()
    assert notification["models"] == [
        {"model": "acme-lm", "version": "1.0", "services": ["chat"], "released": "2026-03-01", "withdrawn": None,
         "high_impact": True}
    ]  # fmt: skip
    assert "records" not in [r["id"] for r in notification["requirements"]]  # regulator-tier requirement
    assert "70000000000" not in json.dumps(notification)
    verify_document(notification, Verifier.from_vkey(key(statement_workspace)))


def test_statements_follow_the_published_schema(statement_workspace: Path) -> None:
    from kiroku.disclose.schema import Statement, published_schemas

    docs = Path(__file__).resolve().parents[2] / "docs"
    for name, schema in published_schemas().items():
        assert json.loads((docs / name).read_text()) == schema, (
            f"run: python -m kiroku.disclose.schema {name} > docs/{name}"
        )
    published = json.loads((docs / "statement.schema.json").read_text())
    for tier in ("public", "regulator"):
        Statement.model_validate(build(statement_workspace, tier, f"schema-{tier}"))
    defs = published["$defs"]
    tiers = {name: field["tier"] for name, field in defs["RequirementAnswer"]["properties"].items()}
    assert tiers["findings"] == "regulator" and tiers["status"] == "public"
    assert defs["RequirementAnswer"]["properties"]["evidence"]["$ref"] == "#/$defs/EvidenceViews"
    # every field of every evidence view, however deep, says which tier may read it
    from kiroku.disclose.evidence_views import VIEWS, EvidenceViews

    views = {EvidenceViews.__name__} | {m.__name__ for v in VIEWS.values() for m in v.public + v.regulator}
    while True:
        text = json.dumps([defs[name] for name in views])
        found = views | {ref.split('"')[0] for ref in text.split('"$ref": "#/$defs/')[1:]}
        if found == views:
            break
        views = found
    assert {"OptoutsRegulator", "CrawlPeriod", "KindFigures", "SourceFigures", "CrawlSource"} <= views
    for name in views:
        for field, spec in defs[name].get("properties", {}).items():
            assert spec.get("tier") in ("public", "regulator"), f"{name}.{field} has no tier"
    optouts = {name: field["tier"] for name, field in defs["OptoutsRegulator"]["properties"].items()}
    assert optouts["documents_dropped"] == optouts["kept_despite_optout"] == "regulator"
    assert {field["tier"] for field in defs["OptoutsPublic"]["properties"].values()} == {"public"}
    crawler = defs["CrawlerRegulator"]["properties"]
    assert crawler["period"]["tier"] == "public" and crawler["pages"]["tier"] == "regulator"
    assert published["if"] == {"properties": {"tier": {"const": "public"}}, "required": ["tier"]}
