"""The cache of public pages: rendered once and served again without the database, fresh after every write in the
process and within its seconds after writes elsewhere, never mixing languages, never sharing a CSRF token, never
holding an administrator's page or a secret one; ETags and 304. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import anyio
import httpx
from sqlalchemy import event, update
from starlette.testclient import TestClient

from kiroku.ledger import Signer
from kiroku.registry import RegistrySettings, create_app
from kiroku.registry.cache import PageCache
from kiroku.registry.db import connect, domain_claims
from kiroku.registry.firms import add_admin, approve_firm, now, register_firm
from kiroku.registry.security import CSRF_COOKIE
from tests.registry.conftest import FirmFiles, engine_of, file, register

PASSWORD = "correct horse battery staple"


def cache_of(client: TestClient) -> PageCache:
    cache: PageCache = client.app.state.page_cache  # type: ignore[attr-defined]
    return cache


def visitor(client: TestClient) -> TestClient:
    """Another browser on the same registry: its own cookies."""
    return TestClient(client.app)


def statuses(client: TestClient) -> dict[str, Any]:
    rows = client.get("/index.json?year=2026").json()["firms"]
    return {row["firm"]: row["statement"] for row in rows}


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_a_public_page_is_rendered_once_then_served_from_the_cache(
    registry: TestClient, acme: FirmFiles
) -> None:
    slug, token = register(registry, acme)
    filing = file(registry, token, acme.read(acme.first, "statement.json")).json()["filing"]["id"]
    paths = ["/", "/index.json", "/firms.json", f"/firms/{slug}", f"/filings/{filing}.json", "/feed.atom",
             "/index.csv", "/figures.json", f"/filings/{filing}/raw", "/api/v1/firms"]  # fmt: skip
    for path in paths:
        first, second = registry.get(path), registry.get(path)
        assert first.status_code == 200 and (first.headers["x-cache"], second.headers["x-cache"]) == (
            "MISS",
            "HIT",
        )
        assert second.content == first.content and second.headers["etag"] == first.headers["etag"]
        assert second.headers["content-type"] == first.headers["content-type"]
        assert second.headers["cache-control"] == "public, max-age=5"
        assert "set-cookie" not in first.headers and "set-cookie" not in second.headers
        assert (
            "default-src 'self'" in second.headers["content-security-policy"]
        )  # security headers on hits too
    assert (cache_of(registry).stores, cache_of(registry).hits) == (len(paths), len(paths))
    executed: list[str] = []
    event.listen(engine_of(registry), "before_cursor_execute", lambda *args: executed.append(args[2]))
    assert registry.get("/").headers["x-cache"] == "HIT" and executed == []  # a hit asks the database nothing
    assert registry.get("/?year=2026").headers["x-cache"] == "MISS"  # the query string is part of the key
    for _ in range(2):  # a search is not cached: the rate limiter counts every one
        assert "x-cache" not in registry.get("/index.json?q=acme").headers


def test_every_write_in_the_process_shows_at_once(
    registry: TestClient, acme: FirmFiles, hoshi: FirmFiles
) -> None:
    slug, token = register(registry, acme)
    assert statuses(registry) == {slug: None}
    assert registry.get("/index.json?year=2026").headers["x-cache"] == "HIT"
    statement = acme.read(acme.first, "statement.json")
    filed = file(registry, token, statement)  # a filing through the API
    assert statuses(registry) == {slug: filed.json()["filing"]["id"]}

    def checkpoints() -> list[Any]:
        found: list[Any] = registry.get(f"/firms/{slug}.json").json()["checkpoints"]
        return found

    assert checkpoints() == [] and registry.get(f"/firms/{slug}.json").headers["x-cache"] == "HIT"
    note = json.loads(statement)["ledger"]["checkpoint"]
    witnessed = registry.post(
        "/api/v1/checkpoints", content=note, headers={"Authorization": f"Bearer {token}"}
    )
    assert witnessed.status_code == 201 and len(checkpoints()) == 1  # a checkpoint
    other, _ = register(registry, hoshi, approve=False)
    assert [f["slug"] for f in registry.get("/firms.json").json()["firms"]] == [slug]
    assert registry.get("/firms.json").headers["x-cache"] == "HIT"
    approve_firm(engine_of(registry), other, "keeper")  # kiroku's Python function, not a request
    answer = registry.get("/firms.json")
    assert answer.headers["x-cache"] == "MISS" and len(answer.json()["firms"]) == 2


def test_writes_of_other_processes_show_within_the_cache_seconds(
    registry: TestClient, store_url: str
) -> None:
    cache = cache_of(registry)
    clock = [1000.0]
    cache.clock = lambda: clock[0]
    assert registry.get("/firms.json").json()["firms"] == []
    elsewhere = connect(store_url)  # another worker or server on the same database: its writes are not seen
    try:
        firm, _ = register_firm(elsewhere, "Far K.K.", "Osaka", "c@far.example",
                                Signer.generate("far.example/log").verifier().to_vkey())  # fmt: skip
        approve_firm(elsewhere, firm.slug, "keeper")
    finally:
        elsewhere.dispose()
    assert registry.get("/firms").headers["x-cache"] == "MISS"
    clock[0] += 3.9
    stale = registry.get("/firms.json")
    assert stale.headers["x-cache"] == "HIT" and stale.json()["firms"] == [] and cache.refreshes == 0
    clock[0] += 1.0  # in the last fifth of the entry's life: answered from it, then rendered again
    due = registry.get("/firms.json")
    assert due.headers["x-cache"] == "HIT" and due.json()["firms"] == [] and cache.refreshes == 1
    refreshed = registry.get("/firms.json")
    assert refreshed.headers["x-cache"] == "HIT" and [f["slug"] for f in refreshed.json()["firms"]] == [
        firm.slug
    ]
    assert refreshed.headers["etag"] != due.headers["etag"]
    clock[0] += 0.1  # a page nobody asked for in its last fifth expires: rendered on the next request
    fresh = registry.get("/firms")
    assert fresh.headers["x-cache"] == "MISS" and "Far K.K." in fresh.text
    assert cache.refreshes == 1


def test_visitors_asking_for_a_page_at_once_cost_one_render(registry: TestClient, acme: FirmFiles) -> None:
    slug, token = register(registry, acme)
    file(registry, token, acme.read(acme.first, "statement.json"))
    cache = cache_of(registry)
    stores, queries = cache.stores, []
    engine = engine_of(registry)

    def counted(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        queries.append(statement)

    async def eight_at_once() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=registry.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await asyncio.gather(*(client.get(f"/firms/{slug}") for _ in range(8)))

    event.listen(engine, "after_cursor_execute", counted)
    try:
        answers = anyio.run(eight_at_once)
    finally:
        event.remove(engine, "after_cursor_execute", counted)
    assert sorted(answer.headers["x-cache"] for answer in answers) == ["HIT"] * 7 + ["MISS"]
    assert {answer.content for answer in answers} == {answers[0].content} and acme.name in answers[0].text
    assert cache.stores == stores + 1 and cache.joined == 7
    alone = len(queries)
    cache.invalidate()
    assert registry.get(f"/firms/{slug}").headers["x-cache"] == "MISS"
    assert alone > 0 and len(queries) == alone  # the seven waited: their queries were not run


def test_at_most_max_refreshes_pages_are_rendered_ahead_at_once() -> None:
    cache = PageCache(5.0)
    clock = [100.0]
    cache.clock = lambda: clock[0]
    keys = [("http", "testserver", f"/firms/{n}", b"", "en") for n in range(cache.max_refreshes + 1)]
    entries = [cache.put(key, cache.generation, [], b"page") for key in keys]
    assert all(entry is not None for entry in entries)
    clock[0] += 4.5  # every entry is in the last fifth of its life
    claimed = [cache.claim_refresh(key, entry) for key, entry in zip(keys, entries, strict=True)]  # type: ignore[arg-type]
    assert claimed == [True] * cache.max_refreshes + [False]
    cache.refreshed(keys[0])
    assert cache.claim_refresh(keys[-1], entries[-1])  # type: ignore[arg-type]
    clock[0] += 1.0  # expired: the pages being refreshed are still served, the others are not
    assert cache.get(keys[-1]) is entries[-1] and cache.get(keys[0]) is None


def test_languages_do_not_mix(registry: TestClient) -> None:
    english, japanese = visitor(registry), visitor(registry)
    for _ in range(2):
        en = english.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
        ja = japanese.get("/", headers={"Accept-Language": "ja"})
        assert '<html lang="en">' in en.text and '<html lang="ja">' in ja.text
    assert en.headers["x-cache"] == ja.headers["x-cache"] == "HIT"
    assert en.headers["vary"] == "Accept-Language, Cookie"
    switched = english.get(
        "/?lang=ja", headers={"Accept-Language": "en"}
    )  # the language switch sets a cookie
    assert '<html lang="ja">' in switched.text and "lang=ja" in switched.headers["set-cookie"]
    assert "x-cache" not in switched.headers  # an answer setting a cookie is not stored
    assert "x-cache" not in english.get("/?lang=ja").headers
    remembered = english.get("/", headers={"Accept-Language": "en"})  # the cookie wins over the header
    assert '<html lang="ja">' in remembered.text and remembered.headers["x-cache"] == "HIT"
    assert remembered.content == ja.content


def test_the_feed_follows_the_host_it_is_asked_on(registry: TestClient) -> None:
    here = registry.get("/feed.atom")
    there = registry.get("/feed.atom", headers={"Host": "registry.example"})
    assert there.headers["x-cache"] == "MISS" and "http://registry.example/feed.atom" in there.text
    assert "registry.example" not in here.text


def test_a_csrf_token_is_never_served_to_another_visitor(registry: TestClient) -> None:
    alice, bob = visitor(registry), visitor(registry)
    form = alice.get("/register")
    token = alice.cookies[CSRF_COOKIE]
    assert csrf_of(form.text) == token and "x-cache" not in form.headers  # a page with a form is never stored
    assert "x-cache" not in alice.get("/register").headers
    page = alice.get("/")  # rendered for a visitor holding a token: stored without it
    assert page.headers["x-cache"] == "MISS" and token not in page.text
    for path in ("/", "/firms"):
        for answer in (bob.get(path), bob.get(path)):
            assert "set-cookie" not in answer.headers and token not in answer.text
    assert bob.get("/").headers["x-cache"] == "HIT" and CSRF_COOKIE not in bob.cookies
    own = bob.get("/register")
    assert csrf_of(own.text) == bob.cookies[CSRF_COOKIE] != token
    key = Signer.generate("b.example/log").verifier().to_vkey()
    made = bob.post("/register", data={"name": "B K.K.", "address": "Tokyo", "contact": "c@b.example", "key": key,
                                       "csrf": csrf_of(own.text)})  # fmt: skip
    assert made.status_code == 201  # the token from the form page is the one that works


def _sign_in(client: TestClient) -> None:
    add_admin(engine_of(client), "keeper", PASSWORD)
    csrf = csrf_of(client.get("/admin/login").text)
    signed = client.post("/admin/login", data={"username": "keeper", "password": PASSWORD, "csrf": csrf},
                         follow_redirects=False)  # fmt: skip
    assert signed.status_code == 303


def test_administrators_pages_and_token_requests_are_never_cached(
    registry: TestClient, acme: FirmFiles
) -> None:
    _, token = register(registry, acme)
    assert registry.get("/").headers["x-cache"] == "MISS"
    admin = visitor(registry)
    _sign_in(admin)
    for path in ("/admin", "/admin", "/", "/", "/firms.json"):
        answer = admin.get(path)
        assert answer.status_code == 200 and "x-cache" not in answer.headers
    assert "(keeper)" in admin.get("/").text
    for state in ("MISS", "HIT"):  # signing in wrote to the audit log: rendered again, for everyone
        public = registry.get("/")
        assert public.headers["x-cache"] == state and "keeper" not in public.text
    bearer = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/me", "/api/v1/me", "/api/v1/inquiries/open", "/firms.json", "/firms.json"):
        answer = registry.get(path, headers=bearer)
        assert answer.status_code == 200 and "x-cache" not in answer.headers


def test_secret_pages_of_claims_and_inquiries_are_never_cached(registry: TestClient, acme: FirmFiles) -> None:
    slug, _ = register(registry, acme)
    made = registry.post("/api/v1/claims", json={"domain": "site0.example", "contact": "owner@site.example"})
    claim, secret = made.json()["claim"]["id"], made.json()["secret"]
    with engine_of(registry).begin() as conn:  # as if its verification file had been fetched
        conn.execute(update(domain_claims).where(domain_claims.c.id == claim).values(verified_at=now()))
    assert registry.get("/inquiries/stats.json").headers["x-cache"] == "MISS"
    assert registry.get("/inquiries/stats.json").headers["x-cache"] == "HIT"
    asked = registry.post("/api/v1/inquiries", json={"claim": claim, "claim_secret": secret, "firm": slug})
    assert asked.status_code == 201, asked.text
    inquiry, key = asked.json()["inquiry"]["id"], asked.json()["secret"]
    stats = registry.get("/inquiries/stats.json")  # an inquiry asked shows at once
    assert stats.headers["x-cache"] == "MISS" and stats.json() != {}
    stores = cache_of(registry).stores
    for path in (f"/inquiries/claims/{claim}/{secret}", f"/inquiries/claims/{claim}/{secret}.json",
                 f"/inquiries/{inquiry}/{key}", f"/inquiries/{inquiry}/{key}.json",
                 f"/api/v1/inquiries/{inquiry}?secret={key}", "/inquiries"):  # fmt: skip
        for _ in range(2):
            answer = registry.get(path)
            assert (
                answer.status_code == 200 and "x-cache" not in answer.headers and "etag" not in answer.headers
            )
    assert cache_of(registry).stores == stores


def test_if_none_match_is_answered_304_until_the_page_changes(registry: TestClient, acme: FirmFiles) -> None:
    _, token = register(registry, acme)
    first = registry.get("/index.json?year=2026")
    tag = first.headers["etag"]
    same = registry.get("/index.json?year=2026", headers={"If-None-Match": f'"other", {tag}'})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == tag
    assert same.headers["x-cache"] == "HIT" and same.headers["cache-control"] == "public, max-age=5"
    cache_of(registry).invalidate()  # rendered again, the same bytes: still not modified
    again = registry.get("/index.json?year=2026", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.headers["x-cache"] == "MISS"
    assert file(registry, token, acme.read(acme.first, "statement.json")).status_code == 201
    changed = registry.get("/index.json?year=2026", headers={"If-None-Match": tag})
    assert (
        changed.status_code == 200
        and changed.headers["etag"] != tag
        and changed.json()["firms"][0]["statement"]
    )


def test_the_cache_can_be_turned_off(tmp_path: Path) -> None:
    settings = RegistrySettings(database_url=f"sqlite:///{tmp_path / 'r.sqlite'}", page_cache_seconds=0)
    with TestClient(create_app(settings)) as client:
        assert client.app.state.page_cache is None  # type: ignore[attr-defined]
        for _ in range(2):
            answer = client.get("/index.json")
            assert (
                answer.status_code == 200 and "x-cache" not in answer.headers and "etag" not in answer.headers
            )
