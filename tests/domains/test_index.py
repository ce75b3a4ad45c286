"""The domain index equals a brute-force count of the catalog, for every name of the test catalog and for absent
ones, on both stores; incremental builds equal a rebuild from scratch."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiroku.catalog.stats import catalog_shards
from kiroku.domains import BuildReport, DomainIndex, IndexMissing, StaleIndex, build_domain_index
from kiroku.domains.answer import answer_domain
from kiroku.domains.keys import name_key
from kiroku.domains.names import parse_target
from kiroku.domains.record import DomainIndexRecord, Table
from kiroku.ledger import merkle
from kiroku.workspace import Workspace
from tests.conftest import NO_POSTGRES, POSTGRES_URL, _postgres_schema_url, kiroku
from tests.domains.conftest import (
    CRAWL_JUNE,
    CRAWL_MARCH,
    Truth,
    build_catalog,
    figures,
    init_workspace,
    ok,
)
from tests.ingest.test_warc_robots import write_warc

TABLES: tuple[Table, Table] = ("domain", "host")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def indexed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The test catalog on SQLite (shared with the other modules) or built afresh on PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("catalog")
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    for url in _postgres_schema_url():
        yield build_catalog(tmp_path_factory.mktemp("pg") / "ws", url)


@pytest.fixture(scope="module")
def facts(indexed: Path) -> Truth:
    """The brute force of the catalog under test."""
    return Truth.read(indexed)


def open_index(root: Path) -> DomainIndex:
    """The workspace's domain index, checked against its ledger."""
    ws = Workspace.open(root)
    index = DomainIndex.open(ws.index_dir)
    with ws.ledger() as ledger:
        index.check(ledger)
    return index


def absent_names(truth: Truth, count: int, seed: int) -> list[str]:
    """Random well-formed names, none of them in the catalog (as a domain or a host)."""
    rng = random.Random(seed)
    taken = truth.names("domain") | truth.names("host")
    names: list[str] = []
    while len(names) < count:
        label = "".join(rng.choices(string.ascii_lowercase + string.digits, k=rng.randint(1, 14)))
        suffix = rng.choice(["com", "jp", "co.jp", "org", "example", "co.uk", "xn--r8jz45g.jp", "example.jp"])
        name = f"{label}.{suffix}" if rng.random() < 0.7 else f"www.{label}.{suffix}"
        if name not in taken:
            names.append(name)
    return names


def _zero(fields: list[str]) -> dict[str, int]:
    return dict.fromkeys(fields, 0)


def assert_same_counts(index: DomainIndex, truth: Truth, scope: str, table: Table, name: str) -> None:
    """The index's entry for ``name`` holds exactly the brute force's counts.

    In the catalog an entry exists exactly for the names of fetched pages. A stage or run holds the counts of
    every name it saw; a name it did not see has no entry or an entry of zeros.
    """
    got = index.lookup(scope, table, name)
    want = truth.lookup(scope, table, name)
    fields = index.scope(scope).fields
    if scope == "catalog" or want is not None:
        assert got == want, (scope, table, name)
    else:
        assert got is None or got == _zero(fields), (scope, table, name)


# -- every name, every scope -------------------------------------------------------------------------------------


def test_the_index_has_one_scope_per_stage_and_run_and_covers_every_shard(
    indexed: Path, facts: Truth
) -> None:
    index = open_index(indexed)
    assert [s.scope for s in index.scopes] == facts.scopes()
    assert set(index.manifest.shards) == facts.shards
    assert index.manifest.documents == sum(1 for r in facts.rows if r.host)
    assert index.manifest.without_url == sum(1 for r in facts.rows if not r.host)
    catalog_fields = index.scope("catalog").fields
    assert [f for f in catalog_fields if f.startswith(("dropped:", "flagged:"))] == facts.signals
    assert facts.signals == [
        "dropped:blocklist:piracy",
        "dropped:meta-robots:noai",
        "dropped:robots:GPTBot",
        "dropped:tdmrep:reserved",
        "dropped:x-robots-tag:noai",
        "dropped:x-robots-tag:noimageai",
        "flagged:robots:GPTBot",
    ]


@pytest.mark.parametrize("table", TABLES)
def test_every_lookup_equals_the_brute_force(indexed: Path, facts: Truth, table: Table) -> None:
    index = open_index(indexed)
    names = sorted(facts.names("domain") | facts.names("host")) + absent_names(facts, 200, seed=len(table))
    for scope in facts.scopes():
        for name in names:
            assert_same_counts(index, facts, scope, table, name)
        assert index.lookup_many(scope, table, names) == [index.lookup(scope, table, n) for n in names]


def assert_tables_commit_to_the_brute_force(root: Path, truth: Truth, table: Table) -> None:
    """Rebuild every table's leaves by hand, ``SHA-256(name) || SHA-256(salt || counts)`` over the catalog's
    names sorted by key (zero counts where a stage or run has none), with the brute force's counts and the salt
    stored beside each entry, hash them as RFC 9162 does, and compare with the roots the ledger recorded."""
    ws = Workspace.open(root)
    index = open_index(root)
    with ws.ledger() as ledger:
        body = ledger.record(index.manifest.record).body_json()
    record = DomainIndexRecord.model_validate(body)
    names = sorted(truth.table_names(table), key=name_key)
    salts = set()
    for committed in record.scopes:
        stored = index.table(committed.scope, table)
        leaves = []
        for position, name in enumerate(names):
            assert stored.key(position) == name_key(name)
            counts = truth.lookup(committed.scope, table, name) or _zero(committed.fields)
            salt = stored.salt(position)
            salts.add(salt)
            packed = b"".join(counts[f].to_bytes(8, "big") for f in committed.fields)
            leaves.append(name_key(name) + hashlib.sha256(salt + packed).digest())
        commitment = committed.table(table)
        assert commitment.size == len(names), committed.scope
        assert commitment.root == merkle.root(leaves).hex(), committed.scope
    assert len(salts) == len(names) * len(record.scopes)  # a fresh salt for every entry
    assert [s.scope for s in record.scopes] == truth.scopes()
    assert record.ledger_size == index.manifest.ledger_size and sorted(record.shards) == sorted(truth.shards)


@pytest.mark.parametrize("table", TABLES)
def test_each_table_commits_to_the_brute_force_counts_under_the_recorded_root(
    indexed: Path, facts: Truth, table: Table
) -> None:
    assert_tables_commit_to_the_brute_force(indexed, facts, table)


def test_every_answer_equals_the_brute_force(indexed: Path, facts: Truth) -> None:
    index = open_index(indexed)
    for table in TABLES:
        for name in sorted(facts.names(table)):
            target = parse_target(name)
            answer = answer_domain(index, target).to_json()
            expected_table = "domain" if target.kind == "domain" else "host"
            assert figures(answer) == facts.answer(name, expected_table), name
            assert (answer["domain"], answer["registrable_domain"]) == (name, facts_domain(facts, name))


def facts_domain(truth: Truth, name: str) -> str:
    """The registrable domain of a name of the catalog."""
    return next(r.domain for r in truth.rows if r.domain and name in (r.host, r.domain))


@pytest.mark.parametrize(
    ("model", "stage"),
    [
        ("acme-lm", None),
        ("acme-lm@2.0", None),
        ("acme-lm@2.1/continued-1", None),
        ("books-lm", None),
        (None, "lang"),
        (None, "books-clean"),
        ("acme-lm@2.1", "dedup"),
    ],
)
def test_answers_for_one_model_or_stage_equal_the_brute_force(
    indexed: Path, facts: Truth, model: str | None, stage: str | None
) -> None:
    index = open_index(indexed)
    for name in sorted(facts.names("domain") | facts.names("host")):
        target = parse_target(name)
        table = "domain" if target.kind == "domain" else "host"
        answer = answer_domain(index, target, model=model, stage=stage).to_json()
        assert figures(answer) == facts.answer(name, table, model=model, stage=stage), (name, model, stage)


def test_random_absent_names_are_answered_no_with_nothing_counted(indexed: Path, facts: Truth) -> None:
    index = open_index(indexed)
    for name in absent_names(facts, 300, seed=7):
        answer = answer_domain(index, parse_target(name)).to_json()
        assert figures(answer) == facts.answer(name, "domain" if answer["kind"] == "domain" else "host")
        assert not answer["appeared"] and answer["fetched"] == answer["kept"] == 0 and answer["runs"] == {}


def test_the_catalog_holds_the_cases_the_answers_must_tell_apart(facts: Truth) -> None:
    """Guards the fixture: the signals, stages and runs the tests above compare are really there."""
    jp = facts.answer("example.jp", "domain")
    assert jp["dropped_by_signal"] == {"robots:GPTBot": 3}
    assert jp["stages"]["lang"]["dropped"] == 1 and jp["stages"]["dedup"]["dropped"] == 1
    assert jp["runs"]["acme-lm@2.0/pretrain-1"] < jp["runs"]["acme-lm@2.1/continued-1"] < jp["fetched"]
    assert facts.answer("manga-scans.example", "domain")["dropped_by_signal"] == {"blocklist:piracy": 3}
    assert facts.answer("press.example.com", "host")["dropped_by_signal"] == {"tdmrep:reserved": 1}
    assert facts.answer("example.net", "domain")["kept_at_ingest"] == 1
    assert facts.answer("forum.example.org", "host")["first_fetch"] is None
    assert facts.answer("xn--r8jz45g.jp", "domain")["fetched"] == 2
    assert facts.answer("192.0.2.7", "domain")["kept"] == 1
    # pages first seen after the stages, kept under the flag policy although robots.txt disallows GPTBot: no
    # stage saw them, the runs over their source and over the catalog used them
    late = facts.answer("late.example.org", "host")
    runs = {"acme-lm@2.0/pretrain-1": 2, "acme-lm@2.1/continued-1": 2}
    assert (late["kept_at_ingest"], late["kept"], late["not_yet_cleaned"], late["runs"]) == (2, 0, 2, runs)
    assert (late["dropped_by_signal"], late["flagged_by_signal"]) == ({}, {"robots:GPTBot": 2})
    # the June copy of a page the stages kept is not in their kept sets: they never saw that row
    www = facts.answer("www.example.jp", "host")
    assert www["stages"]["dedup"]["kept"] == 5 and www["kept_at_ingest"] == 9
    assert jp["stages"]["books-clean"] == {"input": "catalog", "kept": 0, "dropped": 0, "kept_bytes": 0,
                                           "kept_tokens": 0}  # fmt: skip


# -- incremental builds ------------------------------------------------------------------------------------------


def _contents(root: Path) -> dict[tuple[str, str, str], dict[str, int] | None]:
    """Every entry of every table, by scope, table and name (roots differ between builds: fresh salts)."""
    truth = Truth.read(root)
    index = open_index(root)
    return {
        (scope.scope, table, name): index.lookup(scope.scope, table, name)
        for scope in index.scopes
        for table in TABLES
        for name in truth.names("domain") | truth.names("host")
    }


def _build(root: Path, *, rebuild: bool = False) -> BuildReport:
    ws = Workspace.open(root)
    with ws.ledger() as ledger:
        return build_domain_index(ledger, ws.catalog_dir, ws.index_dir, rebuild=rebuild)


def _assert_answers_equal_the_brute_force(root: Path) -> None:
    truth = Truth.read(root)
    for table in TABLES:
        assert_tables_commit_to_the_brute_force(root, truth, table)
    index = open_index(root)
    for table in TABLES:
        for name in sorted(truth.names(table)) + absent_names(truth, 20, seed=1):
            for scope in truth.scopes():
                assert_same_counts(index, truth, scope, table, name)
    for name in sorted(truth.names("domain") | truth.names("host")):
        target = parse_target(name)
        answer = answer_domain(index, target).to_json()
        assert figures(answer) == truth.answer(name, "domain" if target.kind == "domain" else "host"), name


def _stage(root: Path, name: str, input: str, drop_hosts: set[str]) -> None:
    """A stage keeping every document of its input except the pages of ``drop_hosts``."""
    truth = Truth.read(root)
    if input == "catalog":
        ids = {r.doc_id for r in truth.rows if r.kept}
    else:
        verdict = next(s for s in truth.stages if s.name == input).verdict
        ids = {i for i, kept in verdict.items() if kept}
    dropped = {r.doc_id for r in truth.rows if r.host in drop_hosts} & ids
    (root / f"{name}.txt").write_text("".join(i.hex() + "\n" for i in sorted(ids - dropped)))
    ok("stage", "record", name, "--input", input, "--kept", f"{name}.txt", cwd=root)


RUN = """\
name = "{name}"
model = "tiny-lm"
version = "1.0"
methods = ["pre-training"]
training_tokens = 10
start = 2026-07-01
end = 2026-07-02
weight_unit = "share"
[architecture]
family = "decoder-only transformer"
parameters = 1000
[[data_mix]]
stage = "{stage}"
weight = 1.0
"""


def test_an_incremental_build_reads_only_new_shards_and_equals_a_rebuild(
    store_url: str, tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    init_workspace(root, store_url)
    write_warc(root / "march.warc.gz", CRAWL_MARCH)
    ok("source", "add", "crawl", "--type", "web_crawl", cwd=root)
    ok("ingest", "warc", "march.warc.gz", "--source", "crawl", "--shard-documents", "10", cwd=root)
    _stage(root, "lang", "catalog", {"xn--zck9awe6d.xn--r8jz45g.jp"})
    (root / "run.toml").write_text(RUN.format(name="first", stage="lang"))
    ok("run", "record", "run.toml", cwd=root)
    first = _build(root)
    assert first.rebuilt and first.scopes_reused == []
    _assert_answers_equal_the_brute_force(root)

    # more pages arrive: the index no longer covers the ledger, and says how to bring it up to date
    write_warc(root / "june.warc.gz", CRAWL_JUNE)
    ok("ingest", "warc", "june.warc.gz", "--source", "crawl", cwd=root)
    stale = kiroku("query", "domain", "example.jp", cwd=root)
    assert stale.returncode == 2
    assert "kiroku index domains" in stale.stderr and "1 catalog shard" in stale.stderr
    assert len(stale.stderr.strip().splitlines()) == 1
    assert kiroku("query", "domains", "-", cwd=root, input="example.jp\n").returncode == 2
    with pytest.raises(StaleIndex, match="kiroku index domains"):
        open_index(root)

    # the update reads the new shard alone: the old shards' files could be garbage for all it cares
    ws = Workspace.open(root)
    with ws.ledger() as ledger:
        shards = catalog_shards(ledger)
    covered = set(DomainIndex.open(ws.index_dir).manifest.shards)
    old = {ws.catalog_dir / s.shard.docs_file for s in shards if s.index in covered and s.shard.documents}
    assert old and len(old) < len([s for s in shards if s.shard.documents])
    saved = {path: path.read_bytes() for path in old}
    for path in old:
        path.write_bytes(b"not parquet at all")
    try:
        update = _build(root)
    finally:
        for path, data in saved.items():
            path.write_bytes(data)
    assert (update.new_shards, update.rebuilt) == (1, False)
    assert update.scopes_reused == ["stage:lang", "run:tiny-lm@1.0/first"]
    _assert_answers_equal_the_brute_force(root)
    updated = _contents(root)

    again = _build(root, rebuild=True)
    assert again.rebuilt and again.new_shards == len([s for s in shards if s.shard.documents])
    assert _contents(root) == updated

    # a new stage and a new run add their scopes; nothing else is read again
    _stage(root, "dedup", "lang", {"www.manga-scans.example", "blog.example.com"})
    stale = kiroku("query", "domain", "example.com", "--json", cwd=root)
    assert (
        stale.returncode == 2
        and "1 cleaning stage" in stale.stderr
        and "kiroku index domains" in stale.stderr
    )
    (root / "run2.toml").write_text(RUN.format(name="second", stage="dedup"))
    ok("run", "record", "run2.toml", cwd=root)
    result = ok("index", "domains", cwd=root)
    assert "0 new shard(s) read; reused 2 scope(s)" in result
    index = open_index(root)
    assert [s.scope for s in index.scopes] == [
        "catalog", "stage:lang", "stage:dedup", "run:tiny-lm@1.0/first", "run:tiny-lm@1.0/second",
    ]  # fmt: skip
    _assert_answers_equal_the_brute_force(root)


def test_no_index_yet_says_how_to_build_one(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    init_workspace(root, None)
    with pytest.raises(IndexMissing, match="kiroku index domains"):
        DomainIndex.open(Workspace.open(root).index_dir)
    result = kiroku("query", "domain", "example.com", cwd=root)
    assert result.returncode == 2 and "kiroku index domains" in result.stderr


def test_a_copied_workspace_answers_the_same(catalog: Path, truth: Truth, tmp_path: Path) -> None:
    """The index lives in files next to the catalog: a copy of the workspace (SQLite inside) answers the same."""
    copy = tmp_path / "copy"
    shutil.copytree(catalog, copy)
    _assert_answers_equal_the_brute_force(copy)
    assert Truth.read(copy).rows == truth.rows


def test_a_page_whose_url_has_a_unicode_host_counts_for_its_punycode_name(odd_urls: Path) -> None:
    truth = Truth.read(odd_urls)
    assert truth.names("domain") == {"xn--r8jz45g.jp", "example.jp"}
    for typed in ("例え.jp", "xn--r8jz45g.jp", "ニュース.例え.jp"):
        answer = json.loads(ok("query", "domain", typed, "--json", cwd=odd_urls))
        table = "domain" if answer["kind"] == "domain" else "host"
        assert figures(answer) == truth.answer(answer["domain"], table), typed


def test_a_bundle_from_either_store_verifies(indexed: Path, tmp_path: Path) -> None:
    key = ok("log", "key", cwd=indexed).strip()
    for name in ("example.jp", "absent-name.example"):
        path = tmp_path / f"{name}.json"
        ok("query", "domain", name, "--bundle", str(path), cwd=indexed)
        assert kiroku("verify", str(path), "--key", key, cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("damage", ["manifest root", "missing file", "truncated file"])
def test_a_damaged_index_is_refused_with_the_advice_to_rebuild(
    catalog: Path, tmp_path: Path, damage: str
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(catalog, root)
    directory = DomainIndex.open(Workspace.open(root).index_dir).directory
    if damage == "manifest root":
        manifest = json.loads((directory / "manifest.json").read_text())
        manifest["scopes"][1]["domain"]["root"] = "0" * 64
        (directory / "manifest.json").write_text(json.dumps(manifest))
    else:
        path = next(directory.glob("catalog-*.domain.entries.npy"))
        if damage == "missing file":
            path.unlink()
        else:
            path.write_bytes(path.read_bytes()[:100])
    result = kiroku("query", "domain", "example.jp", cwd=root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "kiroku index domains --rebuild" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    if damage == "truncated file":
        ok("index", "domains", "--rebuild", cwd=root)
        _assert_answers_equal_the_brute_force(root)
