"""Evidence from a real catalog: data types' shares, opt-outs honoured (or not), blocklists; public tier in bands."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest

from kiroku.catalog import DataType, Source, register_source
from kiroku.catalog.shards import Document
from kiroku.disclose.evidence import (
    blocklist_evidence,
    count_band,
    crawler_evidence,
    data_source_evidence,
    optout_evidence,
    retention_evidence,
    share_band,
)
from kiroku.ingest import BlocklistStep, Step, ingest_files, read_jsonl
from kiroku.ledger import Ledger
from kiroku.optout.blocklist import Blocklists


def flag_robots(doc: Document) -> Document:
    """The ``flag`` opt-out policy at work: pages of opted-out.example carry robots:GPTBot and stay kept."""
    if doc.url and "opted-out.example" in doc.url:
        return replace(doc, optout=("robots:GPTBot",), kept=True)
    return doc


def drop_tdm(doc: Document) -> Document:
    """The default ``drop`` policy: pages of reserved.example carry tdmrep:reserved and are dropped."""
    if doc.url and "reserved.example" in doc.url:
        return replace(doc, optout=("tdmrep:reserved",), kept=False)
    return doc


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def catalog(store_url: str, tmp_path: Path) -> tuple[Ledger, Path]:
    """A crawl of 40 pages (10 on a pirate site, 5 TDM-reserved, 3 opted out but kept) and a public dataset."""
    ledger = Ledger.create(store_url, "test.kiroku/ledger")
    register_source(ledger, Source(name="crawl", type=DataType.web_crawl))
    register_source(ledger, Source(name="wiki", type=DataType.public_dataset))
    pages = [{"url": f"https://site{i}.example/p", "text": f"page {i} " + "word " * 20} for i in range(22)]
    pages += [{"url": f"https://pirate.example/{i}", "text": f"copy {i} " + "word " * 20} for i in range(10)]
    pages += [{"url": f"https://reserved.example/{i}", "text": f"tdm {i} " + "word " * 20} for i in range(5)]
    pages += [{"url": f"https://opted-out.example/{i}", "text": f"out {i} " + "word " * 20} for i in range(3)]
    blocklist = tmp_path / "pirates.txt"
    blocklist.write_text("pirate.example\n", encoding="utf-8")
    steps: list[Step] = [BlocklistStep(Blocklists.load({"piracy-jp": blocklist})), drop_tdm, flag_robots]
    catalog_dir = tmp_path / "catalog"
    ingest_files(
        ledger,
        catalog_dir,
        "crawl",
        [write_jsonl(tmp_path / "crawl.jsonl", pages)],
        partial(read_jsonl),
        steps=steps,
    )
    wiki = [{"text": f"article {i} " + "fact " * 200} for i in range(4)]
    ingest_files(
        ledger, catalog_dir, "wiki", [write_jsonl(tmp_path / "wiki.jsonl", wiki)], partial(read_jsonl)
    )
    return ledger, catalog_dir


def test_bands_hide_the_figures() -> None:
    assert [share_band(p, 100) for p in (0, 1, 4, 7, 20, 30, 60, 100)] == [
        "0%", "1–5%", "1–5%", "5–10%", "10–25%", "25–50%", "50–75%", "75–100%",
    ]  # fmt: skip
    assert share_band(1, 1000) == "under 1%"
    assert [count_band(n) for n in (0, 7, 10, 99, 1234, 10**6)] == [
        "0", "1–9", "10–99", "10–99", "1,000–9,999", "1,000,000–9,999,999",
    ]  # fmt: skip


def test_data_sources_by_type(catalog: tuple[Ledger, Path]) -> None:
    evidence = data_source_evidence(*catalog)
    regulator = evidence.regulator
    crawl, wiki = regulator["sources"]["crawl"], regulator["sources"]["wiki"]
    assert (crawl["documents"], crawl["kept"], wiki["documents"], wiki["kept"]) == (40, 25, 4, 4)
    assert regulator["kept_tokens"] == crawl["kept_tokens"] + wiki["kept_tokens"]
    assert set(evidence.public["types"]) == {"web_crawl", "public_dataset"}
    share = wiki["kept_tokens"] / regulator["kept_tokens"]
    assert evidence.public["types"]["public_dataset"]["share_of_kept_tokens"] == share_band(
        wiki["kept_tokens"], regulator["kept_tokens"]
    )
    assert 0.25 <= share < 0.75  # 4 long articles against 25 short pages
    assert set(evidence.public) == {"types"}  # no sources, no token counts: bands only
    assert all(set(entry) == {"share_of_kept_tokens"} for entry in evidence.public["types"].values())


def test_optouts_honoured_and_the_ones_that_were_not(catalog: tuple[Ledger, Path]) -> None:
    evidence = optout_evidence(*catalog)
    assert evidence.regulator["dropped_by_signal"] == {"blocklist:piracy-jp": 10, "tdmrep:reserved": 5}
    assert evidence.regulator["kept_despite_signal"] == {"robots:GPTBot": 3}
    assert (evidence.regulator["documents_dropped"], evidence.regulator["kept_despite_optout"]) == (15, 3)
    assert evidence.public["documents_dropped"] == "10–99"
    assert evidence.public["kept_despite_optout"] == "1–9"
    assert "robots.txt (RFC 9309)" in evidence.public["protocols_seen"]
    assert evidence.findings == (
        "3 documents in the kept set carry an opt-out signal that was not honoured (by signal: robots:GPTBot: 3)",
    )


def test_no_finding_when_every_optout_was_honoured(store_url: str, tmp_path: Path) -> None:
    ledger = Ledger.create(store_url, "test.kiroku/ledger")
    register_source(ledger, Source(name="crawl", type=DataType.web_crawl))
    pages = [{"url": f"https://reserved.example/{i}", "text": f"tdm {i}"} for i in range(2)]
    ingest_files(
        ledger, tmp_path / "c", "crawl", [write_jsonl(tmp_path / "p.jsonl", pages)], partial(read_jsonl),
        steps=[drop_tdm],
    )  # fmt: skip
    evidence = optout_evidence(ledger, tmp_path / "c")
    assert evidence.findings == ()
    assert evidence.regulator["kept_despite_signal"] == {}


def test_blocklists_named_with_what_they_dropped(catalog: tuple[Ledger, Path]) -> None:
    evidence = blocklist_evidence(*catalog)
    assert evidence.public == {"blocklists": ["piracy-jp"], "documents_dropped": "10–99"}
    assert evidence.regulator == {"dropped_by_blocklist": {"piracy-jp": 10}}


def test_an_empty_catalog_gives_empty_evidence(store_url: str, tmp_path: Path) -> None:
    ledger = Ledger.create(store_url, "test.kiroku/ledger")
    assert data_source_evidence(ledger, tmp_path).public == {"types": {}}
    assert optout_evidence(ledger, tmp_path).findings == ()
    assert blocklist_evidence(ledger, tmp_path).public == {"blocklists": [], "documents_dropped": "0"}


def test_crawler_activity_of_the_web_crawl_sources(catalog: tuple[Ledger, Path]) -> None:
    evidence = crawler_evidence(*catalog, agents=["AcmeBot/1.0"])
    assert evidence.public["user_agents"] == ["AcmeBot/1.0"] and evidence.public["crawled"] is True
    assert (evidence.public["pages"], evidence.public["hosts"]) == ("10–99", "10–99")
    regulator = evidence.regulator
    assert (regulator["pages"], regulator["hosts"]) == (
        40,
        25,
    )  # 22 sites, the pirate, reserved and opted-out
    assert set(regulator["sources"]) == {"crawl"}  # the public dataset is no crawl
    assert regulator["sources"]["crawl"]["kept"] == 25


def test_no_crawl_says_so(store_url: str, tmp_path: Path) -> None:
    ledger = Ledger.create(store_url, "test.kiroku/ledger")
    evidence = crawler_evidence(ledger, tmp_path, agents=[])
    assert evidence.public == {"user_agents": [], "crawled": False}


def test_retention_policy_and_when_it_ends(catalog: tuple[Ledger, Path]) -> None:
    evidence = retention_evidence(*catalog)
    assert evidence.public["default_period"] == evidence.regulator["default_period"]
    kinds = {entry["kind"]: entry for entry in evidence.regulator["kinds"]}
    public = {entry["kind"]: entry for entry in evidence.public["kinds"]}
    assert set(kinds) == set(public)
    for kind, entry in public.items():
        assert set(entry) <= {"kind", "period", "earliest_end", "latest_end"}
        assert "records" in kinds[kind]
