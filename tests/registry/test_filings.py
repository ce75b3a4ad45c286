"""Filing through the JSON API: verified against the firm's key, immutable, corrected by new versions; on SQLite
and PostgreSQL."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from tests.registry.conftest import FirmFiles, file, register


def test_a_firm_registers_is_approved_and_files_its_statement_set(
    registry: TestClient, acme: FirmFiles
) -> None:
    slug, token = register(registry, acme, approve=False)
    statement = acme.read(acme.first, "statement.json")
    refused = file(registry, token, statement)
    assert refused.status_code == 403 and "must approve it first" in refused.json()["error"]["message"]
    from kiroku.registry.firms import approve_firm

    approve_firm(registry.app.state.registry.engine, slug, "admin")  # type: ignore[attr-defined]
    filed = {}
    for name in ("notification.json", "statement.json", "eu-summary.json", "ab2013.json"):
        answer = file(registry, token, acme.read(acme.first, name))
        assert answer.status_code == 201, answer.text
        filed[name] = answer.json()["filing"]
    assert [f["kind"] for f in filed.values()] == ["notification", "statement", "eu-summary", "ab2013"]
    assert {f["year"] for f in filed.values()} == {2026} and {f["version"] for f in filed.values()} == {1}
    firms = registry.get("/firms.json").json()["firms"]
    assert [(f["slug"], f["name"]) for f in firms] == [(slug, "Acme AI K.K.")]
    matrix = registry.get("/index.json?year=2026").json()
    row = matrix["firms"][0]
    assert row["statement"] == filed["statement.json"]["id"]
    assert set(row["statuses"].values()) == {"complies"}
    assert matrix["totals"]["p1-optouts"]["complies"] == 1
    raw = registry.get(f"/filings/{filed['statement.json']['id']}/raw")
    assert raw.content == statement  # kept byte for byte


def test_a_replay_is_refused_and_a_correction_is_a_new_version(registry: TestClient, acme: FirmFiles) -> None:
    _, token = register(registry, acme)
    first = file(registry, token, acme.read(acme.first, "statement.json"))
    assert first.status_code == 201
    replay = file(registry, token, acme.read(acme.first, "statement.json"))
    assert replay.status_code == 409
    assert (
        replay.json()["error"]["code"] == "conflict" and "filed already" in replay.json()["error"]["message"]
    )
    second = file(registry, token, acme.read(acme.second, "statement.json"))
    assert second.status_code == 201 and second.json()["filing"]["version"] == 2
    page = registry.get(f"/filings/{second.json()['filing']['id']}.json").json()
    assert [v["version"] for v in page["versions"]] == [1, 2]
    matrix = registry.get("/index.json?year=2026").json()
    assert matrix["firms"][0]["version"] == 2  # the matrix reads the latest version
    assert registry.get(f"/filings/{first.json()['filing']['id']}.json").status_code == 200  # history stays


def test_a_token_files_only_for_its_own_firm_and_forgeries_are_refused(
    registry: TestClient, acme: FirmFiles, hoshi: FirmFiles
) -> None:
    _, acme_token = register(registry, acme)
    _, hoshi_token = register(registry, hoshi)
    statement = acme.read(acme.first, "statement.json")
    other = file(registry, hoshi_token, statement)  # Hoshi's token, Acme's statement
    assert other.status_code == 422
    assert "does not verify against hoshi-labs's registered key" in other.json()["error"]["message"]
    forged = statement.replace(b'"complies"', b'"explains"', 1)
    answer = file(registry, acme_token, forged)
    assert answer.status_code == 422 and "does not match the document" in answer.json()["error"]["message"]
    document = json.loads(statement)
    document["tier"] = "regulator"
    answer = file(registry, acme_token, json.dumps(document).encode())
    assert answer.status_code == 422 and "the registry is public" in answer.json()["error"]["message"]
    for body, expected in (
        (b"{not json", "not JSON: line 1"),
        (b'{"format": "x"}', "is not one the registry takes"),
    ):
        answer = file(registry, acme_token, body)
        assert answer.status_code == 422 and expected in answer.json()["error"]["message"]
    assert registry.get("/index.json?year=2026").json()["firms"][0]["statement"] is None


def test_tokens_are_checked(registry: TestClient, acme: FirmFiles) -> None:
    register(registry, acme)
    body = acme.read(acme.first, "statement.json")
    assert registry.post("/api/v1/filings", content=body).status_code == 401
    assert file(registry, "kiroku_" + "x" * 43, body).status_code == 401
    assert file(registry, "not-a-token", body).json()["error"]["code"] == "unauthorized"


def test_two_firms_in_the_matrix_one_explaining(
    registry: TestClient, acme: FirmFiles, hoshi: FirmFiles
) -> None:
    for firm in (acme, hoshi):
        _, token = register(registry, firm)
        assert file(registry, token, firm.read(firm.first, "statement.json")).status_code == 201
    matrix = registry.get("/index.json?year=2026").json()
    statuses = {row["firm"]: row["statuses"]["p1-provenance"] for row in matrix["firms"]}
    assert statuses == {"acme-ai-k-k": "complies", "hoshi-labs": "explains"}
    explaining = registry.get("/index.json?year=2026&requirement=p1-provenance&status=explains").json()
    assert [row["firm"] for row in explaining["firms"]] == ["hoshi-labs"]
    assert [row["firm"] for row in registry.get("/index.json?q=acme").json()["firms"]] == ["acme-ai-k-k"]
    assert set(registry.get("/index.json?year=2025").json()["firms"][0]["statuses"].values()) == {"not_filed"}
