"""The EU summary, AB 2013 items and ML-BOM that `kiroku statement build` writes beside the statement.

The workspace is built through the CLI from real inputs: a WARC crawl written with warcio (its warcinfo names the
crawler; robots.txt captured in the file), two public datasets of different sizes, a synthetic set, a cleaning
stage, a training run over that stage and a release.
"""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from pydantic import BaseModel

from kiroku.disclose.ab2013 import ITEMS, AB2013Documentation
from kiroku.disclose.eu_summary import EUSummary, text_size_band
from kiroku.disclose.facts import top_domain_count
from kiroku.disclose.schema import Statement
from kiroku.ledger import Signer
from tests.conftest import kiroku
from tests.disclose.conftest import POLICY, key, ok
from tests.ingest.test_warc_robots import Response, page, robots, write_warc

WARCINFO_AGENT = "Mozilla/5.0 (compatible; TsuruBot/1.2; +https://acme.example/bot)"
ROBOTS = b"User-agent: TsuruBot\nDisallow: /private/\n\nUser-agent: *\nAllow: /\n"
STAGE_RUN = """
name = "pretrain"
model = "acme-lm"
version = "2.0"
methods = ["pre-training", "sft"]
training_tokens = 9_000_000
start = 2026-07-01
end = 2026-07-20
weight_unit = "epochs"
[architecture]
family = "decoder-only transformer"
parameters = 1_000_000
[[data_mix]]
stage = "quality"
weight = 1
"""


def crawl(path: Path) -> Path:
    """Twelve sites, one page each (the first site's page twice as large), one disallowed for TsuruBot."""
    pages = [
        Response(
            f"https://site{i:02d}.example/a",
            page(f"Site {i}", f"Notes on rivers number {i}. " * (40 if i else 80)),
        )
        for i in range(12)
    ]
    pages.append(Response("https://site00.example/private/x", page("Private", "Members only text. " * 20)))
    return write_warc(
        path, [robots("https://site00.example/robots.txt", ROBOTS), *pages], user_agent=WARCINFO_AGENT
    )


def jsonl(path: Path, prefix: str, count: int, repeat: int) -> str:
    path.write_text(
        "".join(
            json.dumps({"text": f"{prefix} record {i}: " + "words of text " * repeat}) + "\n"
            for i in range(count)
        )
    )
    return path.name


@pytest.fixture(scope="module")
def full_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("disclosures")
    root = base / "ws"
    ok("init", str(root), "--org", "Acme AI", "--origin", "acme.example/kiroku", cwd=base)
    crawl(root / "crawl.warc.gz")
    ok("source", "add", "crawl", "--type", "web_crawl", "--origin", "TsuruBot crawl", "--from", "2026-03-01",
       "--personal-data", "--copyrighted", "--licence", "various", cwd=root)  # fmt: skip
    ok("source", "add", "big-docs", "--type", "public_dataset", "--origin", "https://docs.example.org/",
       "--from", "2026-02-01", "--to", "2026-02-01", "--no-personal-data", "--copyrighted", cwd=root)  # fmt: skip
    ok("source", "add", "tiny-docs", "--type", "public_dataset", "--origin", "https://tiny.example.org/",
       "--no-personal-data", "--no-copyrighted", cwd=root)  # fmt: skip
    ok("source", "add", "qa", "--type", "synthetic", "--generator", "acme-lm 1.0", "--no-personal-data",
       "--no-copyrighted", cwd=root)  # fmt: skip
    ok("ingest", "warc", "crawl.warc.gz", "--source", "crawl", cwd=root)
    ok("ingest", "jsonl", jsonl(root / "big.jsonl", "big", 40, 200), "--source", "big-docs", cwd=root)
    ok("ingest", "jsonl", jsonl(root / "tiny.jsonl", "tiny", 1, 5), "--source", "tiny-docs", cwd=root)
    ok("ingest", "jsonl", jsonl(root / "qa.jsonl", "qa", 5, 20), "--source", "qa", cwd=root)
    stats = json.loads(ok("catalog", "stats", "--json", cwd=root))
    assert stats["by_source"]["crawl"]["kept"] == 12  # the disallowed page was dropped at ingest
    docs = pq.read_table(sorted((root / "catalog").glob("*.docs.parquet"))).to_pylist()
    kept = [row["doc_id"].hex() for row in docs if row["kept"] and row["tokens"] > 20]  # drops tiny-docs' one
    (root / "kept.txt").write_text("".join(f"{doc_id}\n" for doc_id in kept))
    ok(
        "stage",
        "record",
        "quality",
        "--input",
        "catalog",
        "--kept",
        "kept.txt",
        "--reason",
        "too short",
        cwd=root,
    )
    (root / "run.toml").write_text(STAGE_RUN)
    ok("run", "record", "run.toml", cwd=root)
    ok("model", "release", "acme-lm", "2.0", "--service", "chat", "--date", "2026-08-01", cwd=root)
    ok("index", "domains", cwd=root)
    ok("index", "build", cwd=root)
    (root / "statement.toml").write_text(POLICY, encoding="utf-8")
    ok("statement", "build", "--period", "2026", "--out", "out", cwd=root)
    return root


def read(root: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "out" / name).read_text(encoding="utf-8"))
    return data


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) in (
        list,
        tuple,
        typing.Union,
    ):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def empty_required(model: type[BaseModel], value: Any, path: str = "") -> list[str]:
    """The paths of required fields of ``model`` that ``value`` lacks, or leaves empty (None, "", [] or {}) where
    null is not one of the field's values."""
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in empty_required(model, item, f"{path}[{i}]")]
    missing = []
    for name, field in model.model_fields.items():
        key_ = field.alias or name
        here = f"{path}.{key_}" if path else key_
        present = key_ in value
        nullable = type(None) in typing.get_args(field.annotation)  # required, but null is an answer
        if field.is_required() and (not present or (not nullable and value[key_] in (None, "", [], {}))):
            missing.append(here)
        if present and value[key_] is not None:
            for nested in _models_in(field.annotation):
                missing += empty_required(nested, value[key_], here)
    return missing


def test_every_required_field_of_each_disclosure_is_present_and_not_empty(full_workspace: Path) -> None:
    assert empty_required(Statement, read(full_workspace, "statement.json")) == []
    assert empty_required(EUSummary, read(full_workspace, "eu-summary.json")) == []
    assert empty_required(AB2013Documentation, read(full_workspace, "ab2013.json")) == []
    # the checker does find a gap
    eu = read(full_workspace, "eu-summary.json")
    eu["data_processing"]["illegal_content_removal"] = ""
    del eu["general_information"]["provider"]["contact"]
    assert empty_required(EUSummary, eu) == [
        "general_information.provider.contact",
        "data_processing.illegal_content_removal",
    ]


def test_the_eu_summary_follows_the_commission_template(full_workspace: Path) -> None:
    eu = read(full_workspace, "eu-summary.json")
    general = eu["general_information"]
    assert general["provider"]["name"] == "Acme AI K.K."
    assert general["models"] == [
        {"section": "1.2", "name": "acme-lm", "version": "2.0", "placed_on_market": "2026-08-01",
         "dependencies": "none recorded: trained by the provider from the data below"}
    ]  # fmt: skip
    assert general["modalities"]["text"]["used"] and general["modalities"]["text"]["size_band"] == (
        "less than 1 billion tokens"
    )
    assert not general["modalities"]["image"]["used"]
    assert general["modalities"]["continuous_acquisition"]  # the crawl has a start and no end
    sources = eu["data_sources"]
    # big-docs holds nearly all the public data, tiny-docs well under 3%: only the large one is named
    assert sources["public_datasets"]["listed"] == [{"name": "big-docs", "link": "https://docs.example.org/"}]
    assert "1 smaller dataset(s)" in sources["public_datasets"]["description"]
    crawled = sources["crawled_data"]
    assert crawled["used"] and crawled["crawlers"] == ["TsuruBot"]  # from the WARC's warcinfo
    assert crawled["period"].endswith("(collection ongoing)")
    # 12 kept domains: the top 10% is 2 (rounded up), and site00 gave twice the content of any other
    assert crawled["top_domains"][0] == "site00.example" and len(crawled["top_domains"]) == 2
    assert crawled["top_domains_rule"] == "the top 2 of 12 domains by kept content size: 10% of the domains"
    assert sources["synthetic_data"]["used"] and "acme-lm 1.0" in sources["synthetic_data"]["description"]
    assert not sources["user_data"]["used"] and not sources["licensed_data"]["used"]
    assert "robots.txt (RFC 9309)" in eu["data_processing"]["opt_out_respect"]
    assert eu["data_processing"]["illegal_content_removal"].startswith(
        "pages from sites on the piracy blocklist"
    )


def test_the_ab2013_documentation_answers_the_twelve_items(full_workspace: Path) -> None:
    ab = read(full_workspace, "ab2013.json")
    assert [item["number"] for item in ab["items"]] == list(range(1, 13))
    assert [item["asks"] for item in ab["items"]] == list(ITEMS)
    answers = {item["number"]: item["answer"] for item in ab["items"]}
    assert answers[2] == "a chat model that answers questions about travel"
    assert answers[7].startswith("Yes: crawl may include personal information")
    assert answers[8] == "No."
    assert "quality" in answers[9] and answers[9].endswith("keep pages a reader would learn from")
    assert "Collection is ongoing" in answers[10]
    assert answers[12] == "Yes: qa."
    datasets = {d["name"]: d for d in ab["datasets"]}
    assert set(datasets) == {"crawl", "big-docs", "tiny-docs", "qa"}
    # the run read the stage, the stage read the catalog: every source was first used when the run began
    assert {d["first_used"] for d in datasets.values()} == {"2026-07-01"}
    assert datasets["crawl"]["collection_period"] == "2026-03-01 to ongoing"
    assert datasets["big-docs"]["collection_period"] == "2026-02-01 to 2026-02-01"
    assert datasets["tiny-docs"]["collection_period"].startswith("not recorded; first ingested ")
    assert datasets["big-docs"]["data_points"] == "10–99 documents"
    assert ab["systems"] == ["acme-lm 2.0"]


def test_the_ml_bom_validates_against_cyclonedx_1_6(full_workspace: Path) -> None:
    text = (full_workspace / "out" / "cyclonedx.json").read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
    by_ref = {c["bom-ref"]: c for c in bom["components"]}
    model = by_ref["model:acme-lm@2.0"]
    assert model["type"] == "machine-learning-model"
    card = model["modelCard"]["modelParameters"]
    assert card["approach"]["type"] == "self-supervised"  # pre-training, then sft
    refs = [d["ref"] for d in card["datasets"]]
    assert sorted(refs) == ["data:big-docs", "data:crawl", "data:qa", "data:tiny-docs"]
    assert all(by_ref[ref]["type"] == "data" and by_ref[ref]["data"][0]["type"] == "dataset" for ref in refs)
    assert by_ref["data:crawl"]["data"][0]["sensitiveData"] == [
        "may include personal data",
        "may include copyrighted works",
    ]
    depends = {d["ref"]: sorted(d.get("dependsOn", [])) for d in bom["dependencies"]}
    assert depends["model:acme-lm@2.0"] == sorted(refs)
    # one schema violation is caught by the same validator
    model["modelCard"]["modelParameters"]["approach"]["type"] = "guesswork"
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(bom)) is not None


def test_the_ml_bom_is_signed_in_jsf_and_bound_to_the_ledger(full_workspace: Path, tmp_path: Path) -> None:
    bom = read(full_workspace, "cyclonedx.json")
    signature = bom["signature"]
    assert signature["algorithm"] == "Ed25519" and signature["publicKey"]["kty"] == "OKP"
    assert signature["keyId"] == key(full_workspace)  # the firm's C2SP verifier key
    properties = {p["name"]: p["value"] for p in bom["metadata"]["properties"]}
    assert properties["kiroku:ledger-size"] == str(read(full_workspace, "statement.json")["ledger"]["size"])
    result = kiroku(
        "statement", "verify", "out/cyclonedx.json", "--key", key(full_workspace), cwd=full_workspace
    )
    assert result.returncode == 0, result.stderr
    assert f"bound to its ledger at size {properties['kiroku:ledger-size']}" in result.stdout
    original = (full_workspace / "out" / "cyclonedx.json").read_text(encoding="utf-8")
    other_key = Signer.generate("other.example/log").verifier().to_vkey()
    for name, text, expected in [
        ("altered.json", original.replace("acme-lm", "acme-lx", 1), "changed after signing"),
        ("unsigned.json", json.dumps({k: v for k, v in bom.items() if k != "signature"}), "no signature"),
    ]:
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = kiroku(
            "statement", "verify", str(tmp_path / name), "--key", key(full_workspace), cwd=full_workspace
        )
        assert result.returncode == 1 and expected in result.stderr, result.stderr
    result = kiroku("statement", "verify", "out/cyclonedx.json", "--key", other_key, cwd=full_workspace)
    assert result.returncode == 1 and "not by other.example/log" in result.stderr, result.stderr


@pytest.mark.parametrize("name", ["eu-summary.json", "ab2013.json"])
def test_the_eu_summary_and_ab2013_are_signed_and_bound_to_the_ledger(
    full_workspace: Path, tmp_path: Path, name: str
) -> None:
    document = read(full_workspace, name)
    statement = read(full_workspace, "statement.json")
    assert document["ledger"] == statement["ledger"]
    result = kiroku("statement", "verify", f"out/{name}", "--key", key(full_workspace), cwd=full_workspace)
    assert result.returncode == 0, result.stderr
    original = (full_workspace / "out" / name).read_text(encoding="utf-8")
    altered = tmp_path / name
    altered.write_text(original.replace("acme-lm", "acme-lx", 1), encoding="utf-8")
    result = kiroku("statement", "verify", str(altered), "--key", key(full_workspace), cwd=full_workspace)
    assert result.returncode == 1 and "does not verify" in result.stderr


def test_the_crawl_shard_records_the_agent_from_warcinfo(full_workspace: Path) -> None:
    from kiroku.catalog.stats import catalog_shards
    from kiroku.workspace import Workspace

    with Workspace.open(full_workspace).ledger() as ledger:
        agents = {s.shard.source: s.shard.crawler_agent for s in catalog_shards(ledger)}
    assert agents == {"crawl": "TsuruBot", "big-docs": None, "tiny-docs": None, "qa": None}
    statement = read(full_workspace, "statement.json")
    crawler = next(r for r in statement["requirements"] if r["id"] == "crawler")
    assert crawler["evidence"]["crawler"]["user_agents"] == ["TsuruBot"]


def test_a_crawl_that_kept_disallowed_pages_cannot_be_filed_without_an_explanation(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    ok("init", str(root), "--org", "Acme AI", "--origin", "acme.example/kiroku", cwd=tmp_path)
    config = root / "kiroku.toml"
    config.write_text(config.read_text().replace('policy = "drop"', 'policy = "flag"', 1))
    crawl(root / "crawl.warc.gz")
    ok("source", "add", "crawl", "--type", "web_crawl", cwd=root)
    ok("ingest", "warc", "crawl.warc.gz", "--source", "crawl", cwd=root)
    (root / "run.toml").write_text(STAGE_RUN.replace('stage = "quality"', "catalog = true"))
    ok("run", "record", "run.toml", cwd=root)
    ok("index", "domains", cwd=root)
    ok("index", "build", cwd=root)
    (root / "statement.toml").write_text(POLICY, encoding="utf-8")
    result = kiroku("statement", "build", "--period", "2026", "--out", "out", cwd=root)
    assert result.returncode == 2
    assert "p1-optouts" in result.stderr and "[explanations.p1-optouts]" in result.stderr
    assert "robots:TsuruBot: 1" in result.stderr
    assert not (root / "out").exists()
    explained = (
        POLICY + '\n[explanations.p1-optouts]\nstatus = "explains"\n'
        'en = "One page was kept by mistake; it is removed from the next run."\n'
        'ja = "1ページを誤って保持した。次回の学習から除外する。"\n'
    )
    (root / "statement.toml").write_text(explained, encoding="utf-8")
    ok("statement", "build", "--period", "2026", "--out", "out", cwd=root)
    statement = read(root, "statement.json")
    optouts = next(r for r in statement["requirements"] if r["id"] == "p1-optouts")
    assert optouts["status"] == "explains" and optouts["explanation"]["en"].startswith("One page was kept")
    eu = read(root, "eu-summary.json")
    assert eu["data_processing"]["opt_out_respect"].endswith(
        "Documents kept despite a signal: 1–9. Each decision is recorded in a verifiable ledger, and a "
        "rightsholder can check any domain against it."
    )


def test_a_policy_without_training_data_declarations_says_what_to_add(
    full_workspace: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "bare.toml"
    bare.write_text(POLICY.split("[training_data]")[0], encoding="utf-8")
    result = kiroku("statement", "build", "--period", "2026", "--policy", str(bare), "--out", str(tmp_path / "o"),
                    cwd=full_workspace)  # fmt: skip
    assert result.returncode == 2
    assert (
        "[training_data] is missing" in result.stderr
        and "aggregate_consumer_information = false" in result.stderr
    )
    no_purposes = tmp_path / "no-purposes.toml"
    no_purposes.write_text(POLICY.replace("crawler_purposes", "# crawler_purposes"), encoding="utf-8")
    result = kiroku("statement", "build", "--period", "2026", "--policy", str(no_purposes), "--out",
                    str(tmp_path / "o"), cwd=full_workspace)  # fmt: skip
    assert result.returncode == 2 and "training_data.crawler_purposes is missing" in result.stderr
    typo = tmp_path / "typo.toml"
    typo.write_text(
        POLICY.replace("aggregate_consumer_information = false", "aggregate_consumer_info = false")
    )
    result = kiroku("statement", "build", "--period", "2026", "--policy", str(typo), "--out", str(tmp_path / "o"),
                    cwd=full_workspace)  # fmt: skip
    assert result.returncode == 2
    assert "training_data.aggregate_consumer_information" in result.stderr
    assert not (tmp_path / "o").exists()


def test_the_top_domains_the_template_asks_for() -> None:
    assert top_domain_count(0, sme=False) == 0
    assert [top_domain_count(n, sme=False) for n in (1, 9, 10, 11, 1_000_000)] == [1, 1, 1, 2, 100_000]
    assert [top_domain_count(n, sme=True) for n in (1, 20, 21, 19_999, 20_000, 10_000_000)] == [
        1, 1, 2, 1000, 1000, 1000,
    ]  # fmt: skip
    assert text_size_band(999_999_999) == "less than 1 billion tokens"
    assert text_size_band(10**12) == "1 billion to 10 trillion tokens"
    assert text_size_band(10**13 + 1) == "more than 10 trillion tokens"
