"""A catalog richer than the demo's, built through the real ``kiroku`` commands, and its truth counted by hand.

`build_catalog` makes a workspace the way an operator would: a Parquet dataset without URLs, a WARC crawl
(written here with warcio) holding a site whose robots.txt disallows GPTBot, one reserving TDM rights in
tdmrep.json, one with ``noai`` and ``noimageai`` tags, one on a piracy blocklist, subdomains, an IDN host, an IP
address, a co.uk domain and pages fetched over three months; a JSON Lines forum whose pages have no fetch time;
three cleaning stages (one over the URL-less dataset alone, so that it kept no page), a second crawl ingested
after them under the ``flag`` policy (pages kept despite robots.txt, pages no stage saw), three training runs
(one over the URL-less dataset alone); then ``kiroku index domains``.

`Truth` is the brute force the index must equal: it reads the shards' docs Parquet files with pyarrow, the
stages' lineage files and the runs' data mix, and counts in plain Python, with hosts taken from the URLs
themselves (IDNA) rather than from the catalog's columns.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from publicsuffixlist import PublicSuffixList

from kiroku.catalog.runs import list_runs
from kiroku.catalog.stages import list_stages
from kiroku.catalog.stats import catalog_shards
from kiroku.workspace import Workspace
from tests.conftest import kiroku
from tests.ingest.test_warc_robots import Response, page, robots, write_warc

DAY = 24 * 60  # Response.minutes counts minutes after 2026-03-02 09:00 UTC
TEA = "Sencha is steamed, rolled and dried within hours of picking; the first flush is the sweetest."
PIRACY = "# sites recognised as infringing\nmanga-scans.example\n"
NEWS_ROBOTS = b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
TDMREP = json.dumps([{"location": "/releases/", "tdm-reservation": 1}]).encode()


def _tdmrep(url: str) -> Response:
    return Response(url, TDMREP, 0, "200 OK", "application/json")


CRAWL_MARCH = [
    robots("https://news.example.jp/robots.txt", NEWS_ROBOTS),
    Response("https://news.example.jp/articles/1", page("Rain", "Rain fell over the north."), 0),
    Response("https://news.example.jp/articles/2", page("Festival", "The festival drew crowds."), 5 * DAY),
    Response("https://news.example.jp/about", page("About us", "A regional paper since 1921."), 9 * DAY),
    Response("https://www.example.jp/", page("Welcome", "Welcome to the example tea house."), 10 * DAY),
    Response("https://www.example.jp/tea", page("Tea", TEA), 40 * DAY),
    Response("https://www.example.jp/tea?print=1", page("Tea", TEA), 41 * DAY),  # same text: two rows, one id
    Response("https://www.example.jp/tea-2", page("Tea", TEA + " Updated."), 42 * DAY),  # dedup drops it
    Response("https://www.example.jp/ja", page("お茶", "新茶の季節になりました。"), 70 * DAY),
    Response(
        "https://www.example.jp/%E3%83%8B%E3%83%A5%E3%83%BC%E3%82%B9/1",
        page("News", "Tea prices rose in May."),
        71 * DAY,
    ),
    Response("https://example.jp/", page("Example", "The bare domain's own home page."), 72 * DAY),
    _tdmrep("https://press.example.com/.well-known/tdmrep.json"),
    Response("https://press.example.com/releases/q1", page("Q1", "Revenue rose in the quarter."), 2 * DAY),
    Response("https://press.example.com/contact", page("Contact", "Write to the press office."), 3 * DAY),
    Response("https://example.com/", page("Example", "The example company's home page."), 3 * DAY),
    Response("https://blog.example.com/news/2026/a", page("A", "First news item of the year."), 4 * DAY),
    Response("https://blog.example.com/news/2026/b", page("B", "Second news item of the year."), 6 * DAY),
    Response("https://blog.example.com/newsletter", page("Letters", "Subscribe to the newsletter."), 6 * DAY),
    Response("https://blog.example.com/post-1", page("Post", "A post about gardening."), 8 * DAY),
    Response(
        "https://art.example.net/gallery",
        page("Gallery", "Watercolours of the coast.", '<meta name="robots" content="noai">'),
        11 * DAY,
    ),
    Response(
        "https://art.example.net/sketch",
        page("Sketch", "Pencil studies of hands."),
        12 * DAY,
        headers=[("X-Robots-Tag", "noai, noimageai")],
    ),
    Response("https://art.example.net/about", page("Artist", "The artist lives by the sea."), 13 * DAY),
    Response("https://www.manga-scans.example/vol/1", page("Tea", TEA), 14 * DAY),  # a pirated copy
    Response("https://www.manga-scans.example/vol/2", page("Vol 2", "Scanned chapter two."), 15 * DAY),
    Response(
        "https://xn--r8jz45g.jp/", page("Rei", "An example site with an internationalised name."), 20 * DAY
    ),
    Response("https://xn--zck9awe6d.xn--r8jz45g.jp/top", page("ニュース", "今日のニュースです。"), 21 * DAY),
    Response("https://store.example.co.uk/item", page("Item", "A teapot in cast iron."), 22 * DAY),
    Response("http://192.0.2.7/status", page("Status", "All systems are running."), 23 * DAY),
]
# Ingested after the stages were recorded, under the flag policy: no stage saw these pages, not even the copy of
# a page they kept; late.example.org's pages are kept although its robots.txt disallows GPTBot.
CRAWL_JUNE = [
    robots("https://late.example.org/robots.txt", NEWS_ROBOTS, minutes=90 * DAY),
    Response("https://www.example.jp/tea-again", page("Tea", TEA), 95 * DAY),
    Response("https://www.example.jp/summer", page("Summer", "Iced tea for the summer."), 96 * DAY),
    Response(
        "https://news.example.jp/late", page("Late", "A late article, no robots.txt captured."), 97 * DAY
    ),
    Response("https://late.example.org/first", page("First", "A site first seen in June."), 98 * DAY),
    Response("https://late.example.org/second", page("Second", "Its second page."), 99 * DAY),
    Response("https://www.manga-scans.example/vol/3", page("Vol 3", "Scanned chapter three."), 99 * DAY),
]
FORUM = [
    {
        "id": "f1",
        "url": "https://forum.example.org/t/1",
        "text": "How do I brew green tea at the right heat?",
    },
    {"id": "f2", "url": "https://forum.example.org/t/2", "text": "Which kettle keeps water at 80 degrees?"},
    {"id": "f3", "text": "A post copied without its address."},
    {"id": "f4", "url": "https://www.example.jp/guestbook", "text": "Lovely tea house, will come again."},
]
BOOKS = [
    {"id": "b1", "text": "It was the best of times, it was the worst of times."},
    {"id": "b2", "text": "Call me Ishmael."},
    {"id": "b3", "text": "All happy families are alike."},
]
NOT_ENGLISH = {
    "https://www.example.jp/ja",
    "https://xn--zck9awe6d.xn--r8jz45g.jp/top",
}
BOILERPLATE = "https://press.example.com/contact"
NEAR_DUPLICATE = "https://www.example.jp/tea-2"

RUNS = {
    "pretrain.toml": """\
name = "pretrain-1"
model = "acme-lm"
version = "2.0"
methods = ["pre-training"]
training_tokens = 1000
start = 2026-07-01
end = 2026-07-02
weight_unit = "share"
[architecture]
family = "decoder-only transformer"
parameters = 1000000
[[data_mix]]
stage = "dedup"
weight = 0.7
[[data_mix]]
source = "june"
weight = 0.2
[[data_mix]]
source = "books"
weight = 0.1
""",
    "continued.toml": """\
name = "continued-1"
model = "acme-lm"
version = "2.1"
methods = ["continued-pre-training"]
training_tokens = 1000
start = 2026-07-03
end = 2026-07-04
weight_unit = "epochs"
[architecture]
family = "decoder-only transformer"
parameters = 1000000
[[data_mix]]
catalog = true
weight = 1.0
""",
    "books.toml": """\
name = "books-only"
model = "books-lm"
version = "0.1"
methods = ["pre-training"]
training_tokens = 100
start = 2026-07-05
end = 2026-07-06
weight_unit = "epochs"
[architecture]
family = "decoder-only transformer"
parameters = 1000
[[data_mix]]
source = "books"
weight = 2.0
""",
}


def ok(*args: str, cwd: Path) -> str:
    """Run ``kiroku`` and return its standard output, failing the test with its output if it exits non-zero."""
    result = kiroku(*args, cwd=cwd)
    assert result.returncode == 0, f"kiroku {' '.join(args)}\n{result.stdout}{result.stderr}"
    return result.stdout


def _ids_by(root: Path) -> dict[str, str]:
    """Hex doc id of every document kept at ingest, by URL (or by the dataset's own id when it has no URL)."""
    ws = Workspace.open(root)
    ids: dict[str, str] = {}
    with ws.ledger() as ledger:
        for recorded in catalog_shards(ledger):
            table = pq.read_table(ws.catalog_dir / recorded.shard.docs_file)
            for row in table.to_pylist():
                if row["kept"]:
                    ids[row["url"] or row["external_id"]] = row["doc_id"].hex()
    return ids


def _stage(root: Path, name: str, input: str, kept: Iterable[str], dropped: dict[str, str]) -> None:
    (root / f"{name}.kept.txt").write_text("".join(f"{i}\n" for i in sorted(set(kept))))
    (root / f"{name}.dropped.jsonl").write_text(
        "".join(json.dumps({"id": i, "reason": r}) + "\n" for i, r in sorted(dropped.items()))
    )
    ok("stage", "record", name, "--input", input, "--kept", f"{name}.kept.txt",
       "--dropped", f"{name}.dropped.jsonl", "--reason", f"dropped by {name}", cwd=root)  # fmt: skip


def set_policy(root: Path, policy: str) -> None:
    """Set ``[optout] policy`` in the workspace's kiroku.toml."""
    config = root / "kiroku.toml"
    text = config.read_text()
    config.write_text(re.sub(r'(?m)^policy = "\w+"$', f'policy = "{policy}"', text, count=1))


def init_workspace(root: Path, store: str | None) -> None:
    """``kiroku init`` with the piracy blocklist configured."""
    args = ["init", str(root), "--org", "Test Org", "--origin", "test.kiroku/ledger"]
    ok(*args, *(["--store", store] if store else []), cwd=root.parent)
    (root / "piracy.txt").write_text(PIRACY)
    config = root / "kiroku.toml"
    text = config.read_text()
    assert '# piracy = "blocklists/piracy.txt"' in text
    config.write_text(text.replace('# piracy = "blocklists/piracy.txt"', 'piracy = "piracy.txt"', 1))


def build_catalog(root: Path, store: str | None = None) -> Path:
    """The workspace described in the module docstring, indexed; returns its folder."""
    init_workspace(root, store)
    pq.write_table(pa.Table.from_pylist(BOOKS), root / "books.parquet")
    ok("source", "add", "books", "--type", "public_dataset", cwd=root)
    ok("ingest", "parquet", "books.parquet", "--source", "books", cwd=root)
    books = _ids_by(root)
    _stage(root, "books-clean", "catalog", books.values(), {})  # its input holds no page with a URL

    write_warc(root / "march.warc.gz", CRAWL_MARCH)
    ok("source", "add", "crawl", "--type", "web_crawl", cwd=root)
    ok("ingest", "warc", "march.warc.gz", "--source", "crawl", "--shard-documents", "6", cwd=root)
    (root / "forum.jsonl").write_text("".join(json.dumps(line) + "\n" for line in FORUM))
    ok("source", "add", "forum", "--type", "user_data", cwd=root)
    ok("ingest", "jsonl", "forum.jsonl", "--source", "forum", cwd=root)

    ids = _ids_by(root)
    lang_dropped = {ids[u]: "not English" for u in NOT_ENGLISH} | {ids[BOILERPLATE]: "boilerplate"}
    lang_kept = [i for i in ids.values() if i not in lang_dropped]
    _stage(root, "lang", "catalog", lang_kept, lang_dropped)
    _stage(root, "dedup", "lang", [i for i in lang_kept if i != ids[NEAR_DUPLICATE]],
           {ids[NEAR_DUPLICATE]: "near duplicate"})  # fmt: skip

    write_warc(root / "june.warc.gz", CRAWL_JUNE)
    ok("source", "add", "june", "--type", "web_crawl", cwd=root)
    set_policy(root, "flag")
    ok("ingest", "warc", "june.warc.gz", "--source", "june", cwd=root)
    set_policy(root, "drop")
    for name, text in RUNS.items():
        (root / name).write_text(text)
        ok("run", "record", name, cwd=root)
    ok("index", "domains", cwd=root)
    return root


def verifier_key(root: Path) -> str:
    """The workspace's verifier key, as ``kiroku log key`` prints it."""
    return ok("log", "key", cwd=root).strip()


@pytest.fixture(scope="session")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The indexed workspace of `build_catalog` on SQLite, built once; tests only read it (write elsewhere)."""
    return build_catalog(tmp_path_factory.mktemp("domains") / "ws")


ODD_URLS = [
    ("https://例え.jp/page", "A page of an IRI."),
    ("https://ニュース.例え.jp/1", "Its news host."),
    ("https://xn--r8jz45g.jp/other", "The same site, its URL in punycode."),
    ("https://www.example.jp/%e3%83%8b%e3%83%a5%e3%83%bc%e3%82%b9/1", "Percent-encoded in lower case."),
    ("https://www.example.jp/%E3%83%8B%E3%83%A5%E3%83%BC%E3%82%B9/2", "Percent-encoded in upper case."),
    ("https://www.example.jp/ニュース/3", "Not percent-encoded at all."),
    ("https://www.example.jp/other/4", "Another path."),
]


@pytest.fixture(scope="session")
def odd_urls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An indexed workspace of JSON Lines pages whose URLs are IRIs (Unicode hosts, Unicode paths) or
    percent-encoded in lower case, as datasets scraped by other tools hold them."""
    root = tmp_path_factory.mktemp("odd") / "ws"
    init_workspace(root, None)
    (root / "pages.jsonl").write_text(
        "".join(json.dumps({"url": u, "text": t}, ensure_ascii=False) + "\n" for u, t in ODD_URLS),
        encoding="utf-8",
    )
    ok("source", "add", "web", "--type", "web_crawl", cwd=root)
    ok("ingest", "jsonl", "pages.jsonl", "--source", "web", cwd=root)
    ok("index", "domains", cwd=root)
    return root


@pytest.fixture(scope="session")
def truth(catalog: Path) -> Truth:
    """The brute-force counts of `catalog`."""
    return Truth.read(catalog)


# -- the brute force --------------------------------------------------------------------------------------------

_PSL = PublicSuffixList()


def host_of_url(url: str) -> str:
    """The host of ``url`` as a name: lower case, IDNA (punycode) labels, no trailing dot."""
    host = urlsplit(url).hostname
    assert host, url
    host = host.rstrip(".")
    return host if host.isascii() else host.encode("idna").decode("ascii")


def domain_of_host(host: str) -> str:
    """The registrable domain of ``host`` (an IP address is its own)."""
    if host.replace(".", "").isdigit() or ":" in host:
        return host
    return _PSL.privatesuffix(host) or host


def iso(moment: datetime | None) -> str | None:
    """An answer's time format: ISO 8601 in UTC with a Z."""
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Row:
    """One row of a shard's docs file, with the host and domain of its URL."""

    shard: int
    doc_id: bytes
    url: str | None
    host: str | None
    domain: str | None
    path: str
    fetch_time: datetime | None
    bytes: int
    tokens: int
    optout: tuple[str, ...]
    kept: bool


@dataclass(frozen=True)
class StageTruth:
    """A recorded stage: its input, the shards its input came from, and its verdict on each document id."""

    name: str
    input: str
    record: int
    shards: frozenset[int]
    verdict: dict[bytes, bool]


@dataclass(frozen=True)
class RunTruth:
    """A recorded run and the rows (positions in `Truth.rows`) it trained on."""

    ident: str
    model: str
    version: str
    rows: frozenset[int]


@dataclass
class Truth:
    """Everything the catalog holds, counted without the index."""

    rows: list[Row]
    stages: list[StageTruth]
    runs: list[RunTruth]
    shards: set[int] = field(default_factory=set)

    @classmethod
    def read(cls, root: Path) -> Truth:
        """Read the workspace's shards, lineage files and runs."""
        ws = Workspace.open(root)
        with ws.ledger() as ledger:
            shards = catalog_shards(ledger)
            stages = list_stages(ledger)
            runs = list_runs(ledger)
        rows: list[Row] = []
        for recorded in shards:
            if recorded.shard.documents == 0:
                continue
            for row in pq.read_table(ws.catalog_dir / recorded.shard.docs_file).to_pylist():
                url = row["url"]
                host = host_of_url(url) if url else None
                rows.append(
                    Row(
                        shard=recorded.index,
                        doc_id=row["doc_id"],
                        url=url,
                        host=host,
                        domain=domain_of_host(host) if host else None,
                        path=unquote(urlsplit(url).path or "/") if url else "",
                        fetch_time=row["fetch_time"],
                        bytes=row["bytes"],
                        tokens=row["tokens"],
                        optout=tuple(row["optout"] or ()),
                        kept=row["kept"],
                    )
                )
        by_name = {stage.name: (index, stage) for index, stage in stages}
        stage_truths = []
        for index, stage in stages:
            root_stage = stage
            while root_stage.input != "catalog":
                root_stage = by_name[root_stage.input][1]
            lineage = pq.read_table(ws.catalog_dir / stage.lineage_file).to_pylist()
            stage_truths.append(
                StageTruth(
                    stage.name,
                    stage.input,
                    index,
                    frozenset(root_stage.input_shards),
                    {r["doc_id"]: r["kept"] for r in lineage},
                )
            )
        stage_of = {s.name: s for s in stage_truths}
        run_truths = []
        for _, run in runs:
            members = set()
            for position, r in enumerate(rows):
                if not r.kept or r.host is None:
                    continue
                for entry in run.data_mix:
                    if entry.stage is not None:
                        stage_truth = stage_of[entry.stage]
                        inside = r.shard in stage_truth.shards and stage_truth.verdict.get(r.doc_id) is True
                    else:
                        inside = r.shard in entry.shards
                    if inside:
                        members.add(position)
                        break
            run_truths.append(RunTruth(run.ident, run.model, run.version, frozenset(members)))
        return cls(rows, stage_truths, run_truths, {s.index for s in shards})

    # -- what there is ------------------------------------------------------------------------------------------

    def names(self, table: str) -> set[str]:
        """Every host (``table="host"``) or registrable domain of a page in the catalog."""
        return {(r.host if table == "host" else r.domain) or "" for r in self.rows if r.host} - {""}

    def table_names(self, table: str) -> set[str]:
        """The names a table of the index lists: every registrable domain; every host but those that are a
        registrable domain themselves (example.com is answered from the domain table)."""
        names = self.names(table)
        return names - self.names("domain") if table == "host" else names

    @property
    def signals(self) -> list[str]:
        """The catalog's signal fields: ``dropped:<reason>`` for the reasons of pages dropped at ingest, then
        ``flagged:<reason>`` for those of pages kept despite them, each sorted."""
        dropped = sorted({reason for r in self.rows if r.host and not r.kept for reason in r.optout})
        flagged = sorted({reason for r in self.rows if r.host and r.kept for reason in r.optout})
        return [*(f"dropped:{r}" for r in dropped), *(f"flagged:{r}" for r in flagged)]

    def final_stage(self) -> StageTruth | None:
        """The latest-recorded stage whose kept set no stage takes as input."""
        inputs = {s.input for s in self.stages}
        leaves = [s for s in self.stages if s.name not in inputs]
        return max(leaves, key=lambda s: s.record) if leaves else None

    def _matching(self, table: str, name: str, prefix: str | None) -> list[int]:
        return [
            i
            for i, r in enumerate(self.rows)
            if r.host is not None
            and (r.host if table == "host" else r.domain) == name
            and (prefix is None or r.path.startswith(unquote(prefix)))
        ]

    # -- counts per scope, as DomainIndex.lookup gives them ---------------------------------------------------

    def lookup(self, scope: str, table: str, name: str, prefix: str | None = None) -> dict[str, int] | None:
        """The counts ``scope``'s table holds for ``name``, or None when no row counts there."""
        if prefix is None and name not in self.table_names(table):
            return None
        matching = self._matching(table, name, prefix)
        rows = [self.rows[i] for i in matching]
        if scope == "catalog":
            if not rows:
                return None
            kept = [r for r in rows if r.kept]
            dropped = [r for r in rows if not r.kept]
            times = [int(r.fetch_time.timestamp() * 1_000_000) for r in rows if r.fetch_time is not None]
            counts = {
                "fetched": len(rows),
                "fetched_bytes": sum(r.bytes for r in rows),
                "fetched_tokens": sum(r.tokens for r in rows),
                "kept": len(kept),
                "kept_bytes": sum(r.bytes for r in kept),
                "kept_tokens": sum(r.tokens for r in kept),
                "dropped": len(dropped),
                "first_fetch_us": min(times, default=0),
                "last_fetch_us": max(times, default=0),
            }
            signals = Counter(
                f"{'flagged' if r.kept else 'dropped'}:{reason}" for r in rows for reason in r.optout
            )
            return counts | {field: signals[field] for field in self.signals}
        kind, _, what = scope.partition(":")
        if kind == "stage":
            stage = next(s for s in self.stages if s.name == what)
            seen = [
                r for r in rows if r.kept and r.shard in stage.shards and r.doc_id in stage.verdict
            ]  # fmt: skip
            if not seen:
                return None
            kept = [r for r in seen if stage.verdict[r.doc_id]]
            return {
                "kept": len(kept),
                "kept_bytes": sum(r.bytes for r in kept),
                "kept_tokens": sum(r.tokens for r in kept),
                "dropped": len(seen) - len(kept),
            }
        run = next(r for r in self.runs if r.ident == what)
        used = [self.rows[i] for i in matching if i in run.rows]
        if not used:
            return None
        return {
            "documents": len(used),
            "bytes": sum(r.bytes for r in used),
            "tokens": sum(r.tokens for r in used),
        }

    def scopes(self) -> list[str]:
        """Every scope the index should hold, in its order."""
        return ["catalog", *(f"stage:{s.name}" for s in self.stages), *(f"run:{r.ident}" for r in self.runs)]

    # -- the answer ---------------------------------------------------------------------------------------------

    def answer(
        self,
        name: str,
        table: str,
        *,
        model: str | None = None,
        stage: str | None = None,
        prefix: str | None = None,
    ) -> dict[str, Any]:
        """The answer's figures (the JSON fields that count documents) for ``name``."""
        matching = [self.rows[i] for i in self._matching(table, name, prefix)]
        dropped = [r for r in matching if not r.kept]
        times = [r.fetch_time for r in matching if r.fetch_time is not None]
        stages = {}
        for s in self.stages:
            counts = self.lookup(f"stage:{s.name}", table, name, prefix) or {}
            stages[s.name] = {
                "input": s.input,
                "kept": counts.get("kept", 0),
                "dropped": counts.get("dropped", 0),
                "kept_bytes": counts.get("kept_bytes", 0),
                "kept_tokens": counts.get("kept_tokens", 0),
            }
        runs: dict[str, int] = {}
        models: dict[str, int] = {}
        for run in self.runs:
            if model is not None and model not in (run.model, f"{run.model}@{run.version}", run.ident):
                continue
            used = (self.lookup(f"run:{run.ident}", table, name, prefix) or {}).get("documents", 0)
            if used:
                runs[run.ident] = used
                label = f"{run.model}@{run.version}"
                models[label] = max(models.get(label, 0), used)
        final = self.final_stage()
        kept_by = stage or (final.name if final else None)
        waiting = 0
        if kept_by:  # pages kept at ingest that the first stage of the chain never saw
            first = next(s for s in self.stages if s.name == kept_by)
            while first.input != "catalog":
                first = next(s for s in self.stages if s.name == first.input)
            waiting = sum(
                1 for r in matching if r.kept and not (r.shard in first.shards and r.doc_id in first.verdict)
            )
        return {
            "appeared": bool(matching),
            "fetched": len(matching),
            "fetched_bytes": sum(r.bytes for r in matching),
            "fetched_tokens": sum(r.tokens for r in matching),
            "first_fetch": iso(min(times)) if times else None,
            "last_fetch": iso(max(times)) if times else None,
            "dropped_at_ingest": len(dropped),
            "dropped_by_signal": dict(Counter(reason for r in dropped for reason in r.optout)),
            "flagged_by_signal": dict(Counter(reason for r in matching if r.kept for reason in r.optout)),
            "kept_at_ingest": len(matching) - len(dropped),
            "stages": stages,
            "final_stage": final.name if final else None,
            "kept": stages[kept_by]["kept"] if kept_by else len(matching) - len(dropped),
            "kept_scope": f"stage:{kept_by}" if kept_by else "catalog",
            "not_yet_cleaned": waiting,
            "runs": runs,
            "models": models,
        }


FIGURES = (
    "appeared",
    "fetched",
    "fetched_bytes",
    "fetched_tokens",
    "first_fetch",
    "last_fetch",
    "dropped_at_ingest",
    "dropped_by_signal",
    "flagged_by_signal",
    "kept_at_ingest",
    "stages",
    "final_stage",
    "kept",
    "kept_scope",
    "not_yet_cleaned",
    "runs",
    "models",
)
"""The fields of an answer that `Truth.answer` counts."""


def figures(answer: dict[str, Any]) -> dict[str, Any]:
    """The counted fields of an answer's JSON, to compare with `Truth.answer`."""
    return {k: answer[k] for k in FIGURES}


def sha256_hex(name: str) -> str:
    """The key of a name as a bundle shows it."""
    return hashlib.sha256(name.encode("ascii")).hexdigest()
