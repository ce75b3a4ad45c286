"""`kiroku registry inquiries` end to end: a rightsholder asks through a registry served by uvicorn, and the
firm's kiroku answers from its workspace with proof bundles the registry verifies."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kiroku.registry import RegistrySettings, create_app
from kiroku.registry.firms import approve_firm
from tests.conftest import kiroku
from tests.registry.conftest import FirmFiles, LiveRegistry, served
from tests.registry.test_inquiries import PAGE_3, Site, site

__all__ = ["site"]  # the loopback web site fixture, shared with test_inquiries


@pytest.fixture
def inquiry_registry(tmp_path: Path, site: Site) -> Iterator[LiveRegistry]:
    """A registry served by uvicorn on a loopback port, fetching verification files from ``site``."""
    settings = RegistrySettings(
        database_url=f"sqlite:///{tmp_path / 'registry.sqlite'}",
        verification_url=site.template,
        allow_private_fetch=True,
    )
    with served(create_app(settings)) as live:
        yield live


def _register(registry: LiveRegistry, firm: FirmFiles) -> tuple[str, str]:
    """Register ``firm`` with `kiroku registry register`, approve it as an administrator would: slug and token."""
    registered = kiroku("registry", "register", "--name", firm.name, "--address", "Tokyo", "--contact",
                        "c@firm.example", "--registry", registry.url, cwd=firm.root)  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    found = re.search(r"\(([a-z0-9-]+)\) sent", registered.stdout)
    assert found is not None, registered.stdout
    approve_firm(registry.engine, found.group(1), "test-admin")
    return found.group(1), registered.stdout.strip().splitlines()[-1]


def test_a_firm_answers_a_rightsholders_inquiries_from_its_record(
    inquiry_registry: LiveRegistry, site: Site, acme: FirmFiles, hoshi: FirmFiles, tmp_path: Path
) -> None:
    url = inquiry_registry.url
    slug, token = _register(inquiry_registry, acme)
    rightsholder = httpx.Client(base_url=url, headers={"Accept-Language": "en"})

    # the rightsholder of site3.example proves control of it, then asks acme about the domain and a text from it
    made = rightsholder.post(
        "/api/v1/claims", json={"domain": "site3.example", "contact": "owner@site3.example"}
    )
    claim, claim_secret = made.json()["claim"], made.json()["secret"]
    site.serve("site3.example", f"kiroku-verification: {claim['token']}\n")
    assert rightsholder.post(f"/api/v1/claims/{claim['id']}/verify", json={"secret": claim_secret}).is_success
    asked = {}
    for kind, text in (("domain", None), ("text", PAGE_3)):
        answer = rightsholder.post(
            "/api/v1/inquiries",
            json={"claim": claim["id"], "claim_secret": claim_secret, "firm": slug, "text": text},
        )
        assert answer.status_code == 201, answer.text
        asked[kind] = (answer.json()["inquiry"]["id"], answer.json()["url"])

    listed = kiroku("registry", "inquiries", "list", "--registry", url, "--token", token, cwd=acme.root)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert lines[0].startswith(f"{asked['domain'][0]}  domain  site3.example  asked ")
    assert (
        lines[1].startswith(f"{asked['text'][0]}  text  site3.example  asked ")
        and '"page 3 about tea' in lines[1]
    )

    answered = kiroku("registry", "inquiries", "answer", "--registry", url, "--token", token, cwd=acme.root)
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.strip().splitlines() == [
        f"inquiry {asked['domain'][0]} (domain site3.example): answered, verified",
        f"inquiry {asked['text'][0]} (text of {len(PAGE_3)} characters, site3.example): answered, verified",
    ]
    again = kiroku("registry", "inquiries", "answer", "--registry", url, "--token", token, cwd=acme.root)
    assert again.returncode == 0 and again.stdout.strip() == "no open inquiry"

    # the rightsholder's pages show both answers, verified against the checkpoint the registry witnessed
    domain_page = rightsholder.get(asked["domain"][1])
    assert 'data-status="verified"' in domain_page.text and 'data-scope="catalog"' in domain_page.text
    text_page = rightsholder.get(asked["text"][1])
    assert 'data-status="verified"' in text_page.text and "https://site3.example/a" in text_page.text
    held = httpx.get(f"{url}/api/v1/firms/{slug}/checkpoint").json()["checkpoint"]
    shown = rightsholder.get(asked["domain"][1] + ".json").json()["inquiry"]
    assert shown["verification"]["checkpoint"]["size"] == held["size"]
    assert shown["verification"]["checkpoint"]["root"] == held["root"]

    # a tampered bundle is refused, and another firm's token cannot answer
    answer = rightsholder.post(
        "/api/v1/inquiries", json={"claim": claim["id"], "claim_secret": claim_secret, "firm": slug}
    )
    third, third_url = answer.json()["inquiry"]["id"], answer.json()["url"]
    bundle_file = tmp_path / "site3.json"
    made_bundle = kiroku("query", "domain", "site3.example", "--bundle", str(bundle_file), cwd=acme.root)
    assert made_bundle.returncode == 0, made_bundle.stderr
    tampered = json.loads(bundle_file.read_text())
    catalog = next(s for s in tampered["scopes"] if s["scope"] == "catalog")
    catalog["entry"]["counts"][0] = 0  # "we never fetched it"
    posted = httpx.post(f"{url}/api/v1/inquiries/{third}/answer", content=json.dumps(tampered),
                        headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert posted.status_code == 422 and "does not verify" in posted.json()["error"]["message"]
    _, other_token = _register(inquiry_registry, hoshi)
    stolen = httpx.post(f"{url}/api/v1/inquiries/{third}/answer", content=bundle_file.read_bytes(),
                        headers={"Authorization": f"Bearer {other_token}"})  # fmt: skip
    assert stolen.status_code == 403
    assert rightsholder.get(third_url + ".json").json()["inquiry"]["status"] == "open"

    # response times are public
    figures = {f["firm"]: f for f in httpx.get(f"{url}/inquiries/stats.json").json()["firms"]}
    assert (figures[slug]["asked"], figures[slug]["answered"], figures[slug]["open"]) == (3, 2, 1)
    assert figures[slug]["median_response_seconds"] is not None
    stats = rightsholder.get("/inquiries/stats")
    row = re.search(rf'<tr data-firm="{slug}">(.*?)</tr>', stats.text, re.S)
    assert row is not None and re.search(
        r'data-seconds="\d+(\.\d+)?">(\d+ (d|h|min|s) ?)+</td>', row.group(1)
    )
    rightsholder.close()


def test_the_answer_command_says_when_it_cannot_answer(acme: FirmFiles) -> None:
    result = kiroku("registry", "inquiries", "answer", "--registry", "http://127.0.0.1:9", "--token", "kiroku_x",
                    cwd=acme.root)  # fmt: skip
    assert result.returncode == 2 and "cannot reach the registry at http://127.0.0.1:9" in result.stderr
    result = kiroku("registry", "inquiries", "list", "--registry", "http://127.0.0.1:9", cwd=acme.root,
                    env={"KIROKU_REGISTRY_TOKEN": ""})  # fmt: skip
    assert result.returncode == 2 and "give the firm's API token" in result.stderr
