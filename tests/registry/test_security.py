"""Security of the registry: administrator sign-in and sessions, CSRF on every form, escaping, headers, limits."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

from kiroku.ledger import Signer
from kiroku.registry import RegistrySettings, create_app
from kiroku.registry.firms import add_admin, register_firm
from tests.registry.conftest import engine_of

PASSWORD = "correct horse battery staple"


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def _pending(client: TestClient, name: str = "Pending K.K.") -> str:
    firm, _ = register_firm(
        engine_of(client), name, "Tokyo", "c@p.example", Signer.generate("p.example/log").verifier().to_vkey()
    )
    return firm.slug


def _sign_in(client: TestClient) -> None:
    add_admin(engine_of(client), "keeper", PASSWORD)
    answer = client.post(
        "/admin/login",
        data={"username": "keeper", "password": PASSWORD, "csrf": _csrf(client, "/admin/login")},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/admin"


def test_an_administrator_signs_in_and_approves_a_request_with_htmx(registry: TestClient) -> None:
    slug = _pending(registry)
    assert registry.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"
    _sign_in(registry)
    dashboard = registry.get("/admin")
    assert dashboard.status_code == 200 and "Pending K.K." in dashboard.text
    assert 'hx-post="/admin/firms/pending-k-k/approve"' in dashboard.text
    row = registry.post(
        f"/admin/firms/{slug}/approve",
        data={"csrf": _csrf(registry, "/admin")},
        headers={"HX-Request": "true"},
    )
    assert (
        row.status_code == 200
        and row.text.startswith('<tr id="firm-pending-k-k">')
        and "approved" in row.text
    )
    assert [f["slug"] for f in registry.get("/firms.json").json()["firms"]] == [slug]
    audit = registry.get("/admin").text
    assert "approve_firm" in audit and "sign_in" in audit and "keeper" in audit
    token = registry.post(f"/admin/firms/{slug}/token", data={"csrf": _csrf(registry, "/admin")})
    assert re.search(r"kiroku_[A-Za-z0-9_-]{43}", token.text)


def test_a_wrong_password_is_refused_and_audited(registry: TestClient) -> None:
    add_admin(engine_of(registry), "keeper", PASSWORD)
    answer = registry.post(
        "/admin/login",
        data={"username": "keeper", "password": "guess", "csrf": _csrf(registry, "/admin/login")},
    )
    assert answer.status_code == 401 and "wrong username or password" in answer.text
    unknown = registry.post(
        "/admin/login",
        data={"username": "nobody", "password": PASSWORD, "csrf": _csrf(registry, "/admin/login")},
    )
    assert unknown.status_code == 401 and "wrong username or password" in unknown.text  # the same answer
    slug = _pending(registry)
    refused = registry.post(f"/admin/firms/{slug}/approve", data={"csrf": _csrf(registry, "/admin/login")})
    assert refused.status_code == 401  # no session
    _sign_in_as = registry.post(
        "/admin/login", data={"username": "keeper", "password": PASSWORD, "csrf": _csrf(registry, "/admin/login")},
        follow_redirects=False,
    )  # fmt: skip
    assert _sign_in_as.status_code == 303
    log = registry.get("/admin").text
    assert log.count("sign_in_failed") == 2


def test_every_form_needs_its_csrf_token(registry: TestClient) -> None:
    key = Signer.generate("x.example/log").verifier().to_vkey()
    form = {"name": "X K.K.", "address": "Tokyo", "contact": "c@x.example", "key": key}
    assert registry.post("/register", data=form).status_code == 403
    assert registry.post("/register", data={**form, "csrf": "forged" * 8}).status_code == 403
    made = registry.post("/register", data={**form, "csrf": _csrf(registry, "/register")})
    assert made.status_code == 201 and "kiroku_" in made.text
    assert registry.post("/admin/login", data={"username": "a", "password": "b"}).status_code == 403
    _sign_in(registry)
    assert registry.post("/admin/firms/x-k-k/approve", data={}).status_code == 403  # signed in, no token


def test_script_in_any_text_field_is_shown_escaped(registry: TestClient) -> None:
    evil = '<script>alert("x")</script>'
    key = Signer.generate("evil.example/log").verifier().to_vkey()
    form = {"name": evil, "address": evil, "contact": evil, "key": key, "csrf": _csrf(registry, "/register")}
    page = registry.post("/register", data=form)
    assert page.status_code == 201 and evil not in page.text and "&lt;script&gt;" in page.text
    _sign_in(registry)
    slug = registry.get("/admin").text
    assert evil not in slug and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in slug
    bad = registry.get("/firms/%3Cscript%3E")
    assert bad.status_code == 404 and "<script>" not in bad.text
    problem = registry.post("/register", data={**form, "key": evil, "csrf": _csrf(registry, "/register")})
    assert problem.status_code == 422 and evil not in problem.text


def test_security_headers_body_limit_and_rate_limits(tmp_path: Path) -> None:
    settings = RegistrySettings(
        database_url=f"sqlite:///{tmp_path / 'r.sqlite'}",
        max_body=1000,
        search_limit="3/minute",
        post_limit="2/minute",
    )
    with TestClient(create_app(settings)) as client:
        for path in ("/", "/index.json", "/api/v1/firms"):
            headers = client.get(path).headers
            assert "default-src 'self'" in headers["content-security-policy"]
            assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
        big = client.post(
            "/api/v1/filings", content=b"x" * 2000, headers={"Authorization": "Bearer kiroku_x"}
        )
        assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
        answers = [client.get("/index.json?q=acme").status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        assert client.get("/index.json").status_code == 200  # browsing without a search is not limited
        posts = [client.post("/api/v1/firms", json={}).status_code for _ in range(3)]
        assert posts == [422, 422, 429]
