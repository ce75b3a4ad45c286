"""Rightsholders' inquiries: a domain claim proved by a file the domain serves, questions to a firm, and the
firm's proof bundles verified against the checkpoints the registry witnessed. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, update
from starlette.testclient import TestClient

from kiroku.ledger.note import Checkpoint, open_checkpoint, sign_checkpoint
from kiroku.registry import RegistrySettings, create_app
from kiroku.registry.db import inquiries
from kiroku.trace.tokenize import tokenize
from kiroku.workspace import Workspace
from tests.conftest import kiroku
from tests.registry.conftest import FirmFiles, engine_of, register

PAGE_3 = "page 3 about tea and trains page 3 about tea and trains"
UNRELATED = "wind 7 under sky for clouds wind 7 under sky for clouds"


# -- a rightsholder's web site, on a loopback port ---------------------------------------------------------


@dataclass
class Site:
    """What the site serves: path -> (status, headers, body)."""

    url: str = ""
    files: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    """The paths requested, in order."""

    @property
    def template(self) -> str:
        """The registry's ``verification_url``: every domain is a folder of this one server."""
        return self.url + "/{domain}/.well-known/kiroku-verification.txt"

    def serve(
        self, domain: str, body: str | bytes, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.files[f"/{domain}/.well-known/kiroku-verification.txt"] = (status, headers or {}, data)


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def do_GET(self) -> None:
        self.server.site.asked.append(self.path)
        status, headers, body = self.server.site.files.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in {"Content-Type": "text/plain", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[Site]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.site = Site(f"http://127.0.0.1:{server.server_address[1]}")  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.site  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def registry(store_url: str, site: Site) -> Iterator[TestClient]:
    """A fresh registry (SQLite or PostgreSQL) that fetches verification files from ``site``."""
    settings = RegistrySettings(
        database_url=store_url,
        witness_name="registry.test/witness",
        verification_url=site.template,
        allow_private_fetch=True,
    )
    with TestClient(create_app(settings)) as client:
        yield client


# -- what a firm's kiroku writes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundles:
    """Answer bundles from acme's workspace, made by its kiroku's commands."""

    site0: bytes
    site1: bytes
    page3: bytes
    other_text: bytes
    unrelated: bytes
    """A text of PAGE_3's length and token count that matches nothing: only its SHA-256 tells it apart."""


@pytest.fixture(scope="module")
def bundles(acme: FirmFiles, tmp_path_factory: pytest.TempPathFactory) -> Bundles:
    out = tmp_path_factory.mktemp("bundles")

    def made(*args: str) -> bytes:
        path = out / f"bundle-{len(list(out.iterdir()))}.json"
        result = kiroku(*args, "--bundle", str(path), cwd=acme.root)
        assert result.returncode == 0, result.stderr
        return path.read_bytes()

    return Bundles(
        site0=made("query", "domain", "site0.example"),
        site1=made("query", "domain", "site1.example"),
        page3=made("trace", "--text", PAGE_3),
        other_text=made("trace", "--text", "page 5 about tea and trains page 5 about tea and trains"),
        unrelated=made("trace", "--text", UNRELATED),
    )


def checkpoint_of(bundle: bytes) -> str:
    data = json.loads(bundle)
    return str((data.get("record") or data.get("index"))["checkpoint"])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def witness(client: TestClient, token: str, note: str) -> None:
    answer = client.post("/api/v1/checkpoints", content=note.encode(), headers=auth(token))
    assert answer.status_code in (200, 201), answer.text


def verified_claim(client: TestClient, site: Site, domain: str = "site0.example") -> tuple[int, str]:
    made = client.post("/api/v1/claims", json={"domain": domain, "contact": "owner@site.example"})
    assert made.status_code == 201, made.text
    claim, secret = made.json()["claim"], made.json()["secret"]
    site.serve(claim["domain"], f"{claim['token']}\n")
    checked = client.post(f"/api/v1/claims/{claim['id']}/verify", json={"secret": secret})
    assert checked.status_code == 200, checked.text
    return claim["id"], secret


def ask(client: TestClient, claim: int, secret: str, firm: str, text: str | None = None) -> tuple[int, str]:
    asked = client.post(
        "/api/v1/inquiries", json={"claim": claim, "claim_secret": secret, "firm": firm, "text": text}
    )
    assert asked.status_code == 201, asked.text
    return asked.json()["inquiry"]["id"], asked.json()["secret"]


def answer(client: TestClient, token: str, inquiry: int, bundle: bytes) -> Any:
    return client.post(f"/api/v1/inquiries/{inquiry}/answer", content=bundle, headers=auth(token))


def shown(client: TestClient, inquiry: int, secret: str) -> dict[str, Any]:
    got = client.get(f"/api/v1/inquiries/{inquiry}", params={"secret": secret})
    assert got.status_code == 200, got.text
    data: dict[str, Any] = got.json()["inquiry"]
    return data


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


# -- claims -----------------------------------------------------------------------------------------------


def test_a_claim_is_verified_once_the_domain_serves_its_token(registry: TestClient, site: Site) -> None:
    made = registry.post("/api/v1/claims", json={"domain": "Site0.Example.", "contact": "owner@site.example"})
    assert made.status_code == 201, made.text
    claim, secret = made.json()["claim"], made.json()["secret"]
    assert claim["domain"] == "site0.example" and not claim["verified"]
    assert claim["verification_url"] == f"{site.url}/site0.example/.well-known/kiroku-verification.txt"
    early = registry.post(f"/api/v1/claims/{claim['id']}/verify", json={"secret": secret})
    assert early.status_code == 422 and "answered 404" in early.json()["error"]["message"]
    site.serve("site0.example", "someone else's token")
    wrong = registry.post(f"/api/v1/claims/{claim['id']}/verify", json={"secret": secret})
    assert wrong.status_code == 422 and "does not hold the token" in wrong.json()["error"]["message"]
    site.serve("site0.example", f"# kiroku\n{claim['token']}\n")
    checked = registry.post(f"/api/v1/claims/{claim['id']}/verify", json={"secret": secret})
    assert checked.status_code == 200 and checked.json()["claim"]["verified"]
    stranger = registry.post(f"/api/v1/claims/{claim['id']}/verify", json={"secret": "guessed"})
    assert stranger.status_code == 404


def test_an_internationalised_domain_is_claimed_in_its_ascii_form(registry: TestClient) -> None:
    made = registry.post("/api/v1/claims", json={"domain": "例え.JP", "contact": "owner@site.example"})
    assert made.status_code == 201 and made.json()["claim"]["domain"] == "xn--r8jz45g.jp"


@pytest.mark.parametrize(
    ("domain", "advice"),
    [
        ("example.com/news/", "without a path"),
        ("https://example.com/", "domain:"),
        ("127.0.0.1", "not an IP address"),
        ("localhost", "not a public domain name"),
    ],
)
def test_a_claim_names_one_public_domain(registry: TestClient, domain: str, advice: str) -> None:
    made = registry.post("/api/v1/claims", json={"domain": domain, "contact": "owner@site.example"})
    assert made.status_code == 422 and advice in made.json()["error"]["message"]


def test_the_verification_file_is_small_and_served_by_the_domain_itself(
    registry: TestClient, site: Site
) -> None:
    made = registry.post("/api/v1/claims", json={"domain": "site0.example", "contact": "owner@site.example"})
    claim, secret = made.json()["claim"], made.json()["secret"]
    path = f"/api/v1/claims/{claim['id']}/verify"
    site.serve("site0.example", claim["token"] + "\n" + "x" * 5000)
    big = registry.post(path, json={"secret": secret})
    assert big.status_code == 422 and "over 4,096 bytes" in big.json()["error"]["message"]
    away = site.url.replace("127.0.0.1", "localhost") + "/elsewhere.txt"
    site.serve("site0.example", "", status=302, headers={"Location": away})
    moved = registry.post(path, json={"secret": secret})
    assert moved.status_code == 422 and "redirects to another host" in moved.json()["error"]["message"]
    site.serve("site0.example", "", status=301, headers={"Location": "/site0.example/token.txt"})
    site.files["/site0.example/token.txt"] = (200, {}, claim["token"].encode())
    followed = registry.post(path, json={"secret": secret})
    assert followed.status_code == 200 and followed.json()["claim"]["verified"]


# -- asking -----------------------------------------------------------------------------------------------


def test_asking_needs_a_verified_claim_and_an_approved_firm(
    registry: TestClient, site: Site, acme: FirmFiles, hoshi: FirmFiles
) -> None:
    slug, token = register(registry, acme)
    pending, _ = register(registry, hoshi, approve=False)
    made = registry.post("/api/v1/claims", json={"domain": "site0.example", "contact": "owner@site.example"})
    unverified = {"claim": made.json()["claim"]["id"], "claim_secret": made.json()["secret"], "firm": slug}
    assert registry.post("/api/v1/inquiries", json=unverified).status_code == 403
    claim, secret = verified_claim(registry, site)
    question = {"claim": claim, "claim_secret": secret}
    assert registry.post("/api/v1/inquiries", json={**question, "firm": pending}).status_code == 404
    assert registry.post("/api/v1/inquiries", json={**question, "firm": "nobody"}).status_code == 404
    too_long = registry.post("/api/v1/inquiries", json={**question, "firm": slug, "text": "tea " * 5001})
    assert too_long.status_code == 422 and "over the limit of 20,000" in too_long.json()["error"]["message"]
    wrong = registry.post("/api/v1/inquiries", json={**question, "claim_secret": "guessed", "firm": slug})
    assert wrong.status_code == 404
    domain_question, _ = ask(registry, claim, secret, slug)
    text_question, _ = ask(registry, claim, secret, slug, PAGE_3)
    listed = registry.get("/api/v1/inquiries/open", headers=auth(token))
    assert listed.status_code == 200
    questions = listed.json()["inquiries"]
    assert [(q["id"], q["kind"], q["domain"]) for q in questions] == [
        (domain_question, "domain", "site0.example"),
        (text_question, "text", "site0.example"),
    ]
    assert questions[0]["table"] == "domain" and questions[1]["text"] == PAGE_3
    assert questions[0]["contact"] == "owner@site.example"
    assert registry.get("/api/v1/inquiries/open").status_code == 401


# -- answers ----------------------------------------------------------------------------------------------


def test_a_domain_answer_on_a_witnessed_checkpoint_is_verified(
    registry: TestClient, site: Site, acme: FirmFiles, bundles: Bundles
) -> None:
    slug, token = register(registry, acme)
    witness(registry, token, checkpoint_of(bundles.site0))
    claim, secret = verified_claim(registry, site)
    inquiry, key = ask(registry, claim, secret, slug)
    answered = answer(registry, token, inquiry, bundles.site0)
    assert answered.status_code == 200, answered.text
    data = shown(registry, inquiry, key)
    assert data["status"] == "answered" and data["verification"]["status"] == "verified"
    assert data["response_seconds"] is not None and data["response_seconds"] >= 0
    catalog = next(c for c in data["verification"]["answer"]["claims"] if c["scope"] == "catalog")
    assert catalog["present"] and catalog["counts"]["fetched"] == 1
    assert data["bundle"] == json.loads(bundles.site0)
    assert registry.get("/api/v1/inquiries/open", headers=auth(token)).json()["inquiries"] == []
    again = answer(registry, token, inquiry, bundles.site0)
    assert again.status_code == 409
    page = registry.get(f"/inquiries/{inquiry}/{key}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and 'data-status="verified"' in page.text
    assert "Verified: the proof checks" in page.text
    kept = registry.get(f"/inquiries/{inquiry}/{key}/bundle.json")
    assert kept.status_code == 200 and kept.content == bundles.site0
    assert registry.get(f"/inquiries/{inquiry}/guessed").status_code == 404
    assert registry.get(f"/api/v1/inquiries/{inquiry}", params={"secret": "guessed"}).status_code == 404


def test_a_text_answer_must_trace_the_text_asked(
    registry: TestClient, site: Site, acme: FirmFiles, bundles: Bundles
) -> None:
    slug, token = register(registry, acme)
    witness(registry, token, checkpoint_of(bundles.page3))
    claim, secret = verified_claim(registry, site, "site3.example")
    inquiry, key = ask(registry, claim, secret, slug, PAGE_3)
    other = answer(registry, token, inquiry, bundles.other_text)
    assert other.status_code == 422
    assert f"does not answer inquiry {inquiry}" in other.json()["error"]["message"]
    # "nothing found" for another text of the same length and tokens: told apart by the text's SHA-256
    assert (len(UNRELATED), len(tokenize(UNRELATED))) == (len(PAGE_3), len(tokenize(PAGE_3)))
    assert json.loads(bundles.unrelated)["answer"]["spans"] == []
    unrelated = answer(registry, token, inquiry, bundles.unrelated)
    assert unrelated.status_code == 422 and "traces another text" in unrelated.json()["error"]["message"]
    domain = answer(registry, token, inquiry, bundles.site0)
    assert domain.status_code == 422 and "not a trace bundle" in domain.json()["error"]["message"]
    answered = answer(registry, token, inquiry, bundles.page3)
    assert answered.status_code == 200, answered.text
    data = shown(registry, inquiry, key)
    assert data["verification"]["status"] == "verified"
    facts = data["verification"]["answer"]
    assert facts["kind"] == "text" and facts["coverage"] == 1.0 and facts["spans"]
    assert "https://site3.example/a" in facts["spans"][0]["documents"]
    page = registry.get(f"/inquiries/{inquiry}/{key}", headers={"Accept-Language": "ja"})
    assert (
        'data-status="verified"' in page.text
        and "検証済み" in page.text
        and "https://site3.example/a" in page.text
    )


def test_a_bundle_about_another_domain_or_tampered_with_is_refused(
    registry: TestClient, site: Site, acme: FirmFiles, bundles: Bundles
) -> None:
    slug, token = register(registry, acme)
    witness(registry, token, checkpoint_of(bundles.site0))
    claim, secret = verified_claim(registry, site)
    inquiry, key = ask(registry, claim, secret, slug)
    elsewhere = answer(registry, token, inquiry, bundles.site1)
    assert elsewhere.status_code == 422
    assert "answers for site1.example" in elsewhere.json()["error"]["message"]
    tampered = json.loads(bundles.site0)
    opened = next(s for s in tampered["scopes"] if s["entry"])
    opened["entry"]["counts"][0] += 1
    refused = answer(registry, token, inquiry, json.dumps(tampered).encode())
    assert refused.status_code == 422
    assert "does not verify against" in refused.json()["error"]["message"]
    assert answer(registry, token, inquiry, b"not json").status_code == 422
    assert shown(registry, inquiry, key)["status"] == "open"


def test_a_firm_answers_only_its_own_inquiries(
    registry: TestClient, site: Site, acme: FirmFiles, hoshi: FirmFiles, bundles: Bundles
) -> None:
    slug, _ = register(registry, acme)
    _, other_token = register(registry, hoshi)
    claim, secret = verified_claim(registry, site)
    inquiry, _ = ask(registry, claim, secret, slug)
    refused = answer(registry, other_token, inquiry, bundles.site0)
    assert refused.status_code == 403 and "another firm" in refused.json()["error"]["message"]
    assert registry.get("/api/v1/inquiries/open", headers=auth(other_token)).json()["inquiries"] == []
    assert answer(registry, other_token, 999, bundles.site0).status_code == 404


def test_an_answer_on_an_unwitnessed_checkpoint_is_verified_once_the_registry_witnesses_it(
    registry: TestClient, site: Site, acme: FirmFiles, bundles: Bundles
) -> None:
    slug, token = register(registry, acme)
    claim, secret = verified_claim(registry, site)
    inquiry, key = ask(registry, claim, secret, slug)
    assert answer(registry, token, inquiry, bundles.site0).status_code == 200
    data = shown(registry, inquiry, key)
    assert data["status"] == "answered" and data["verification"]["status"] == "unwitnessed"
    page = registry.get(f"/inquiries/{inquiry}/{key}", headers={"Accept-Language": "en"})
    assert 'data-status="unwitnessed"' in page.text and "not witnessed by the registry yet" in page.text
    witness(registry, token, checkpoint_of(bundles.site0))
    assert shown(registry, inquiry, key)["verification"]["status"] == "verified"


def test_an_answer_contradicting_the_witnessed_history_is_kept_and_the_firm_flagged(
    registry: TestClient, site: Site, acme: FirmFiles, bundles: Bundles
) -> None:
    slug, token = register(registry, acme)
    signer = Workspace.find(acme.root).signer()
    real, _ = open_checkpoint(checkpoint_of(bundles.site0), signer.verifier())
    other = Checkpoint(real.origin, real.size, bytes(32))  # the same size, another history, signed by acme
    witness(registry, token, sign_checkpoint(other, signer))
    claim, secret = verified_claim(registry, site)
    inquiry, key = ask(registry, claim, secret, slug)
    refused = answer(registry, token, inquiry, bundles.site0)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "inconsistent_checkpoint"
    data = shown(registry, inquiry, key)
    assert data["status"] == "answered" and data["verification"]["status"] == "not_verified"
    assert "two histories" in data["verification"]["reason"]
    firm = registry.get(f"/firms/{slug}.json").json()
    assert firm["firm"]["flagged"] and any(not c["consistent"] for c in firm["checkpoints"])
    page = registry.get(f"/inquiries/{inquiry}/{key}", headers={"Accept-Language": "en"})
    assert 'data-status="not_verified"' in page.text


def test_response_times_are_public(
    registry: TestClient, site: Site, acme: FirmFiles, hoshi: FirmFiles, bundles: Bundles
) -> None:
    slug, token = register(registry, acme)
    other, _ = register(registry, hoshi)
    witness(registry, token, checkpoint_of(bundles.site0))
    claim, secret = verified_claim(registry, site)
    asked = [ask(registry, claim, secret, slug)[0] for _ in range(3)]
    for inquiry in asked[:2]:
        assert answer(registry, token, inquiry, bundles.site0).status_code == 200
    with engine_of(registry).begin() as conn:  # asked one and three hours before they were answered
        for inquiry, hours in zip(asked[:2], (1, 3), strict=True):
            answered_at = conn.execute(
                inquiries.select().where(inquiries.c.id == inquiry)
            ).one().answered_at  # fmt: skip
            earlier = _hours_before(answered_at, hours)
            conn.execute(update(inquiries).where(inquiries.c.id == inquiry).values(created_at=earlier))
    figures = {f["firm"]: f for f in registry.get("/inquiries/stats.json").json()["firms"]}
    assert figures[slug] == {
        "firm": slug, "name": acme.name, "asked": 3, "answered": 2, "open": 1, "median_response_seconds": 7200.0,
    }  # fmt: skip
    assert figures[other]["asked"] == 0 and figures[other]["median_response_seconds"] is None
    page = registry.get("/inquiries/stats", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    row = re.search(rf'<tr data-firm="{slug}">(.*?)</tr>', page.text, re.S)
    assert row is not None and 'data-seconds="7200.0">2 h</td>' in row.group(1)
    japanese = registry.get("/inquiries/stats", headers={"Accept-Language": "ja"})
    assert "2時間" in japanese.text and "回答までの時間（中央値）" in japanese.text


def _hours_before(moment: str, hours: int) -> str:
    from datetime import datetime, timedelta

    parsed = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ") - timedelta(hours=hours)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the pages --------------------------------------------------------------------------------------------


def test_a_rightsholder_claims_verifies_and_asks_through_the_pages(
    registry: TestClient, site: Site, acme: FirmFiles
) -> None:
    slug, _ = register(registry, acme)
    start = registry.get("/inquiries", headers={"Accept-Language": "en"})
    assert start.status_code == 200 and "Ask a firm about your content" in start.text
    assert registry.get("/inquiries.json").json()["verification_url"] == site.template
    form = {"domain": "site0.example", "contact": "owner@site.example"}
    assert registry.post("/inquiries/claims", data=form).status_code == 403  # no CSRF token
    claimed = registry.post(
        "/inquiries/claims", data={**form, "csrf": csrf_of(start.text)}, follow_redirects=False
    )
    assert claimed.status_code == 303
    claim_page = registry.get(claimed.headers["location"], headers={"Accept-Language": "en"})
    assert claim_page.status_code == 200 and "Not verified yet" in claim_page.text
    claim = registry.get(claimed.headers["location"] + ".json").json()["claim"]
    assert claim["token"] in claim_page.text
    verify = {"secret": claimed.headers["location"].rsplit("/", 1)[1], "csrf": csrf_of(claim_page.text)}
    failed = registry.post(
        f"/inquiries/claims/{claim['id']}/verify", data=verify, headers={"Accept-Language": "en"}
    )
    assert failed.status_code == 422 and "answered 404" in failed.text
    site.serve("site0.example", claim["token"])
    checked = registry.post(f"/inquiries/claims/{claim['id']}/verify", data=verify, follow_redirects=False)
    assert checked.status_code == 303
    ready = registry.get(checked.headers["location"], headers={"Accept-Language": "en"})
    assert "Control of the domain verified" in ready.text and f'<option value="{slug}"' in ready.text
    question = {"claim": str(claim["id"]), "secret": verify["secret"], "firm": slug, "kind": "text",
                "text": "", "csrf": csrf_of(ready.text)}  # fmt: skip
    empty = registry.post("/inquiries/ask", data=question, headers={"Accept-Language": "en"})
    assert empty.status_code == 422 and "text: empty" in empty.text
    asked = registry.post("/inquiries/ask", data={**question, "text": PAGE_3}, follow_redirects=False)
    assert asked.status_code == 303
    page = registry.get(asked.headers["location"], headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Waiting for the firm" in page.text and PAGE_3 in page.text
    twin = registry.get(asked.headers["location"] + ".json").json()["inquiry"]
    assert twin["kind"] == "text" and twin["status"] == "open" and twin["bundle"] is None
    japanese = registry.get(asked.headers["location"], headers={"Accept-Language": "ja"})
    assert "事業者の回答待ち" in japanese.text


def test_what_rightsholders_type_is_shown_escaped(registry: TestClient, site: Site, acme: FirmFiles) -> None:
    slug, _ = register(registry, acme)
    made = registry.post(
        "/api/v1/claims", json={"domain": "site0.example", "contact": "<b>owner</b>@x.example"}
    )
    claim, secret = made.json()["claim"], made.json()["secret"]
    site.serve("site0.example", claim["token"])
    assert registry.post(f"/api/v1/claims/{claim['id']}/verify", json={"secret": secret}).status_code == 200
    claim_page = registry.get(made.json()["url"])
    assert "<b>owner</b>" not in claim_page.text and "&lt;b&gt;owner&lt;/b&gt;" in claim_page.text
    inquiry, key = ask(registry, claim["id"], secret, slug, "<script>alert(1)</script> tea and trains")
    page = registry.get(f"/inquiries/{inquiry}/{key}")
    assert (
        "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    )


# -- the schema -------------------------------------------------------------------------------------------


def test_a_registry_database_of_revision_0001_is_upgraded(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    import kiroku.registry.db as db

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    assert "registry_inquiries" not in inspect(engine).get_table_names()
    with TestClient(create_app(RegistrySettings(database_url=url))) as client:
        assert client.get("/inquiries/stats.json").json() == {"firms": []}
    assert {"registry_domain_claims", "registry_inquiries"} <= set(inspect(engine).get_table_names())
    assert db.SCHEMA_REVISION == "0002"


def test_the_registry_does_not_fetch_from_its_own_network(store_url: str, site: Site) -> None:
    from kiroku.registry.errors import Refused
    from kiroku.registry.inquiries import claim_domain, verify_claim

    # the default: a loopback address (here: the test's own site) is refused at connect, before any request
    app = create_app(RegistrySettings(database_url=store_url, verification_url=site.template))
    engine = app.state.registry.engine
    claim, secret = claim_domain(engine, "site3.example", "owner@site3.example")
    site.serve("site3.example", f"kiroku-verification: {claim.token}\n")
    why = "not a public address: the registry fetches only from the internet"
    with pytest.raises(Refused, match=f"^127.0.0.1 is {why}$"):
        verify_claim(engine, claim.id, secret, site.template)
    # a name the system resolves to loopback (localhost, from /etc/hosts) likewise: the connection is refused
    by_name = site.template.replace("127.0.0.1", "localhost")
    with pytest.raises(Refused, match=f"^localhost resolves to (127.0.0.1|::1), {why}$"):
        verify_claim(engine, claim.id, secret, by_name)
    assert site.asked == []
    assert verify_claim(engine, claim.id, secret, site.template, allow_private=True).verified
    assert site.asked == ["/site3.example/.well-known/kiroku-verification.txt"]
