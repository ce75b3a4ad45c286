"""`make demo`: the record of one model's training data, from sources to proved answers a rightsholder can check.

Runs the real `kiroku` commands one after another and prints each as it goes, so the output reads as a
walkthrough, one section each:

1. a workspace, with a blocklist of piracy sites;
2. three sources of different types;
3. ingest: a web crawl (two real WARC files from the warcio project, and a small crawl of invented sites under the
   reserved .example domain, written here as a WARC from demo/data/crawl-2026q2.json: a Japanese news publisher
   whose robots.txt disallows GPTBot, a blog on two hosts, a publisher reserving text and data mining rights by
   TDMRep), a real text dataset (the Python documentation topics that ship inside CPython's own `pydoc_data`
   package) and a small synthetic set;
4. two cleaning stages; 5. a training run and a model release;
6. a live crawl by kiroku's own crawler (demo/sites_step.py) of three invented sites served on 127.0.0.1 from
   demo/data/crawl-sites.json: `kiroku optout check` on a page of a Japanese daily whose robots.txt disallows the
   crawler (the deciding line per agent) and of a publisher reserving TDM rights by tdmrep.json, then `kiroku
   crawl` of them and an open cooking blog (one post marked noai), its pages ingested into a new source and the
   crawl recorded in the ledger, and every decision of its log; 7. the catalog's statistics;
8-9. one document's lineage, and its chained proof checked by an outsider with nothing but the public key;
10-11. "did my domain appear in the training data?": the domain index, answers for a domain that was kept, one
   that opted out, one never seen and one crawled live (a host, a path prefix, JSON, a list as CSV, an HTML page),
   their bundles checked offline, and a tampered bundle failing;
12-13. "does the training data hold text identical or similar to this output?": the trace index of the training
   run, and traces of an output that copies a blog post, one that paraphrases it, a new one, and one that copies the
   news publisher that opted out (in Japanese); an HTML page, a bundle checked offline, and the index re-hashed;
14. a second checkpoint and a consistency proof, then an audit of the whole ledger; 15. the retention plan;
16. the annual statement for 2026 with the Cabinet Office notification, the EU summary of training content,
   California AB 2013's items and a CycloneDX ML-BOM, from the same record; the outsider verifies them;
17. the public registry at http://127.0.0.1:8000 with the filings of Acme and two more demo firms (one explains,
   one partially complies), each ledger witnessed; in a terminal it keeps running until Ctrl-C.

Usage: python demo/run.py [WORKSPACE] (default: ./demo-workspace, recreated each run).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import sys
import uuid
from datetime import datetime, timedelta
from email.utils import format_datetime
from io import BytesIO
from pathlib import Path
from pydoc_data.topics import topics
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from _shell import run, step
from registry_step import serve_registry
from sites_step import OPEN, crawl_sites
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MIN_TOKENS = 30
CRAWL = HERE / "data" / "crawl-2026q2.json"
KEPT = "tsubame-notes.example"  # the blog: kept through cleaning and trained on
OPTED_OUT = "hinode-shimbun.example"  # the news publisher: its robots.txt disallows GPTBot
NEVER_SEEN = "nijiiro-books.example"  # no page of it was ever fetched
RUN = "pretrain-1"  # demo/run.toml
# An output that says what the blog's Kumano Kodo post says in other words (no run of 8 words in common).
PARAPHRASE = (
    "We spent three days walking the Nakahechi trail between Takijiri and Hongu: stone stairs, woods of cedar, "
    "and at the finish a soak in the Kawayu river. Reserve your guesthouses well ahead, since there are not many "
    "and they are full by May."
)
NEW_TEXT = (
    "The lighthouse keeper's cat has learned to ring the fog bell at dawn, and the harbour master now sets the "
    "ferry timetable by it. Visitors are asked not to feed her sardines before the morning crossing."
)


def _page(site: dict[str, Any], page: dict[str, Any]) -> bytes:
    """One page of the invented crawl as a small but complete HTML document."""
    title = html.escape(page["title"])
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in page["text"])
    host = site["origin"].split("://", 1)[1]
    return (
        f'<!DOCTYPE html>\n<html lang="{site["lang"]}"><head><meta charset="utf-8"><title>{title}</title></head>'
        f'<body><header><nav><a href="/">{host}</a></nav></header><main><article><h1>{title}</h1>{paragraphs}'
        f"</article></main><footer>&copy; 2026 {host}</footer></body></html>\n"
    ).encode()


def _captures(site: dict[str, Any]) -> list[tuple[str, datetime, str, bytes]]:
    """A site's captures as (URL, fetch time, content type, body): robots.txt and tdmrep.json, then the pages.

    The site's instructions are captured a minute before its first page, as a crawler fetches them first.
    """
    origin = site["origin"]
    pages = [(page, datetime.fromisoformat(page["fetched"])) for page in site["pages"]]
    first = min(when for _, when in pages) - timedelta(minutes=1)
    captures = []
    if "robots.txt" in site:
        body = "".join(line + "\n" for line in site["robots.txt"]).encode()
        captures.append((f"{origin}/robots.txt", first, "text/plain", body))
    if "tdmrep.json" in site:
        body = json.dumps(site["tdmrep.json"], indent=1).encode()
        captures.append((f"{origin}/.well-known/tdmrep.json", first, "application/json", body))
    for page, when in pages:
        captures.append((origin + page["path"], when, "text/html; charset=utf-8", _page(site, page)))
    return captures


def write_crawl(path: Path) -> None:
    """The invented crawl (demo/data/crawl-2026q2.json) as a WARC file, written with warcio.

    Record ids are derived from each capture's URL and time, so the same data makes the same file.
    """
    crawl = json.loads(CRAWL.read_text(encoding="utf-8"))
    captures = sorted((c for site in crawl["sites"] for c in _captures(site)), key=lambda c: c[1])

    def warc_headers(name: str, when: datetime) -> dict[str, str]:
        record_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{name} {when.isoformat()}")
        return {"WARC-Record-ID": f"<urn:uuid:{record_id}>", "WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ")}

    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        info = f"software: demo/run.py (warcio)\r\nhttp-header-user-agent: {crawl['crawler']}\r\n".encode()
        writer.write_record(
            writer.create_warc_record(
                "",
                "warcinfo",
                payload=BytesIO(info),
                length=len(info),
                warc_content_type="application/warc-fields",
                warc_headers_dict={**warc_headers(path.name, captures[0][1]), "WARC-Filename": path.name},
            )
        )
        for url, when, content_type, body in captures:
            headers = [
                ("Date", format_datetime(when, usegmt=True)),
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
            ]
            writer.write_record(
                writer.create_warc_record(
                    url,
                    "response",
                    payload=BytesIO(body),
                    http_headers=StatusAndHeaders("200 OK", headers, "HTTP/1.1"),
                    warc_headers_dict=warc_headers(url, when),
                )
            )


def python_docs_dataset(path: Path) -> None:
    """The CPython documentation topics (``pydoc_data.topics``, shipped with every Python) as a Parquet dataset."""
    names = sorted(topics)
    pq.write_table(pa.table({"id": names, "text": [topics[name] for name in names]}), path)


def catalog_documents(workspace: Path) -> list[dict[str, Any]]:
    """Every document row of the catalog with its text (what a cleaning pipeline would read)."""
    rows: dict[bytes, dict[str, Any]] = {}
    for docs_file in sorted((workspace / "catalog").glob("*.docs.parquet")):
        text_file = docs_file.with_name(docs_file.name.replace(".docs.", ".text."))
        texts = dict(zip(*pq.read_table(text_file).to_pydict().values(), strict=True))
        for row in pq.read_table(docs_file).to_pylist():
            if row["kept"]:
                rows[row["doc_id"]] = {**row, "text": texts[row["doc_id"]]}
    return list(rows.values())


def quality_filter(workspace: Path) -> None:
    """Stage 1, a quality filter: keep documents of at least MIN_TOKENS tokens; write kept ids and drop reasons."""
    kept, dropped = [], []
    for row in catalog_documents(workspace):
        tokens = int(row["tokens"])
        if tokens >= MIN_TOKENS:
            kept.append(row["doc_id"].hex())
        else:
            reason = f"too short ({tokens} < {MIN_TOKENS} tokens)"
            dropped.append({"id": row["doc_id"].hex(), "reason": reason})
    (workspace / "quality.kept.txt").write_text("".join(f"{i}\n" for i in kept))
    (workspace / "quality.dropped.jsonl").write_text("".join(json.dumps(d) + "\n" for d in dropped))


def near_dedup(workspace: Path) -> None:
    """Stage 2, near-duplicate removal: texts equal after case and whitespace folding keep their first copy."""
    quality = set((workspace / "quality.kept.txt").read_text().split())
    seen: set[str] = set()
    kept = []
    for row in sorted(catalog_documents(workspace), key=lambda r: str(r["external_id"] or r["url"] or "")):
        doc_id = row["doc_id"].hex()
        if doc_id not in quality:
            continue
        key = re.sub(r"\s+", " ", str(row["text"]).casefold()).strip()
        if key not in seen:
            seen.add(key)
            kept.append(doc_id)
    (workspace / "dedup.kept.txt").write_text("".join(f"{i}\n" for i in kept))


def crawl_page(path: str) -> str:
    """The text of one page of demo/data/crawl-2026q2.json, paragraphs joined."""
    for site in json.loads(CRAWL.read_text(encoding="utf-8"))["sites"]:
        for page in site["pages"]:
            if page["path"] == path:
                return " ".join(page["text"])
    raise KeyError(path)


def write_outputs(workspace: Path) -> None:
    """Four "model outputs" to trace: a copy of a blog post, a paraphrase of it, new text, a copied news article."""
    blog = crawl_page("/2026/05/kumano-kodo")
    news = crawl_page("/news/2026/04/12/sakura-zensen")
    outputs = {
        "output-copy.txt": f"Planning a walk in Wakayama? {blog} Pack light and bring cash for the buses.",
        "output-paraphrase.txt": PARAPHRASE,
        "output-new.txt": NEW_TEXT,
        "output-news.txt": f"ニュースの要約です。{news}",
    }
    for name, text in outputs.items():
        (workspace / name).write_text(text + "\n", encoding="utf-8")


def main() -> None:
    """Run the walkthrough."""
    workspace = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-workspace").resolve()
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)

    step("1. A workspace: configuration, an Ed25519 signing key and an empty ledger (SQLite, in the folder)")
    run("init", ".", "--org", "Acme AI K.K.", "--origin", "demo.kiroku/acme-ai/ledger", cwd=workspace)
    blocklists = workspace / "blocklists"
    blocklists.mkdir()
    shutil.copy(HERE / "data" / "piracy.txt", blocklists / "piracy.txt")
    config = workspace / "kiroku.toml"
    config.write_text(
        config.read_text().replace(
            '# piracy = "blocklists/piracy.txt"', 'piracy = "blocklists/piracy.txt"', 1
        )
    )
    print("kiroku.toml: [optout.blocklists] piracy = blocklists/piracy.txt (domains never trained on)")
    print(
        'kiroku.toml: [retention.kinds] "catalog.text" = "P3Y" (the text goes after 3 years, records after 10)'
    )

    step("2. Register three sources of different types (type, origin, licence, period, what they may hold)")
    run("source", "add", "acme-crawl-2026q2", "--type", "web_crawl", "--origin", "AcmeBot/1.0 crawl of the public web",
        "--from", "2026-04-01", "--to", "2026-06-30", "--personal-data", "--copyrighted",
        "--licence", "various; machine-readable opt-outs honoured", cwd=workspace)  # fmt: skip
    run("source", "add", "python-docs", "--type", "public_dataset", "--origin", "https://docs.python.org/3/",
        "--from", "2026-05-11", "--to", "2026-05-11", "--licence", "PSF-2.0", "--no-personal-data", "--copyrighted",
        cwd=workspace)  # fmt: skip
    run("source", "add", "acme-synthetic-qa", "--type", "synthetic", "--generator", "acme-lm 1.0",
        "--from", "2026-06-01", "--to", "2026-06-12", "--licence", "own work", "--no-personal-data",
        "--no-copyrighted", cwd=workspace)  # fmt: skip
    run("source", "list", cwd=workspace)

    step("3. Ingest: a web crawl (WARC), a real text dataset (Parquet) and the synthetic set (JSON Lines)")
    warcs = sorted(str(p) for p in (REPO / "tests" / "data" / "warc").glob("*.warc*"))
    write_crawl(workspace / "crawl-2026q2.warc.gz")
    print(
        "The crawl: two real WARC files (warcio's samples: iana.org, and example.com, which is on the piracy\n"
        "blocklist) and crawl-2026q2.warc.gz, written now from demo/data/crawl-2026q2.json: four invented hosts\n"
        f"with the robots.txt and tdmrep.json they served. {OPTED_OUT}'s robots.txt disallows GPTBot;\n"
        f"{KEPT} allows every agent on www. and blog.; midori-press.example reserves TDM rights for /books/."
    )
    run("ingest", "warc", *warcs, "crawl-2026q2.warc.gz", "--source", "acme-crawl-2026q2", cwd=workspace)
    python_docs_dataset(workspace / "python-docs.parquet")
    run("ingest", "parquet", "python-docs.parquet", "--source", "python-docs", cwd=workspace)
    run(
        "ingest",
        "jsonl",
        str(HERE / "data" / "synthetic-qa.jsonl"),
        "--source",
        "acme-synthetic-qa",
        cwd=workspace,
    )
    print("Ingesting the same files again records nothing twice:")
    run("ingest", "parquet", "python-docs.parquet", "--source", "python-docs", cwd=workspace)

    step("4. Two cleaning stages: a quality filter over the catalog, then near-duplicate removal")
    quality_filter(workspace)
    run("stage", "record", "quality", "--input", "catalog", "--kept", "quality.kept.txt",
        "--dropped", "quality.dropped.jsonl", "--param", f"min_tokens={MIN_TOKENS}", cwd=workspace)  # fmt: skip
    near_dedup(workspace)
    run("stage", "record", "dedup", "--input", "quality", "--kept", "dedup.kept.txt", "--reason",
        "near-duplicate", "--param", "normalise=casefold+whitespace", cwd=workspace)  # fmt: skip

    step("5. A training run on the deduplicated set, and the model's release into a service")
    run("run", "record", str(HERE / "run.toml"), cwd=workspace)
    run("model", "release", "acme-lm", "2.0", "--service", "Acme Chat", "--date", "2026-09-01", cwd=workspace)
    run("model", "list", cwd=workspace)

    crawl_sites(workspace, 6)

    step("7. The catalog: documents, bytes and tokens by source, data type and stage; opt-out drops")
    run("catalog", "stats", cwd=workspace)

    step(
        "8. One document's whole lineage, and its chained proof (document in shard and stages, records in log)"
    )
    kept_doc = (workspace / "dedup.kept.txt").read_text().split()[0]
    run("doc", "show", kept_doc, "--proof", "doc-proof.json", cwd=workspace)
    dropped = json.loads((workspace / "quality.dropped.jsonl").read_text().splitlines()[0])
    run("doc", "show", dropped["id"], cwd=workspace)
    run("doc", "show", "http://example.com/", cwd=workspace)
    key = run("log", "key", cwd=workspace).strip()

    step("9. An outsider checks the proof with nothing but the public key: no workspace, no database")
    outsider = workspace / "outsider"
    outsider.mkdir()
    shutil.copy(workspace / "doc-proof.json", outsider / "doc-proof.json")
    run("verify", "doc-proof.json", "--key", key, cwd=outsider)

    step("10. Did my domain appear in the training data? The domain index, and answers with proof")
    run("index", "domains", cwd=workspace)
    print(f"\nA domain that was crawled, kept through cleaning and trained on ({KEPT}, www. and blog.):")
    run("query", "domain", KEPT, "--bundle", "kept.bundle.json", cwd=workspace)
    print(f"\nA domain that opted out: {OPTED_OUT}'s robots.txt disallows GPTBot, so no page of it was kept.")
    print("Its answer also as a bilingual HTML page, the one a rightsholder would be shown:")
    run("query", "domain", OPTED_OUT, "--bundle", "opted-out.bundle.json", "--html", "opted-out.html",
        cwd=workspace)  # fmt: skip
    print(
        f"\nA domain never seen ({NEVER_SEEN}): 'no', and its bundle proves it by the two entries on either side of its hash:"
    )
    run("query", "domain", NEVER_SEEN, "--bundle", "never-seen.bundle.json", cwd=workspace)
    print(
        f"\nA domain crawled live in step 6, after acme-lm 2.0 was trained ({OPEN}): its noai post dropped,\n"
        "the rest kept at ingest but not cleaned yet, and in no model's training data:"
    )
    run("query", "domain", OPEN.removeprefix("www."), cwd=workspace)
    print("\nOne host under the blog's domain, as JSON (docs/domains.md describes every field):")
    run("query", "domain", f"blog.{KEPT}", "--json", cwd=workspace)
    print(
        "\nA path prefix: counted from the catalog's rows of that host (no bundle: the host's proof covers it):"
    )
    run("query", "domain", f"www.{KEPT}/news/", cwd=workspace)
    print(
        "\nMany names at once from a list (demo/data/domains-asked.txt), one CSV row each; a URL gets an error:"
    )
    run("query", "domains", str(HERE / "data" / "domains-asked.txt"), cwd=workspace)

    step("11. The rightsholders check the answers with nothing but the public key; a changed count fails")
    for name in ("opted-out.bundle.json", "never-seen.bundle.json"):
        shutil.copy(workspace / name, outsider / name)
        run("verify", name, "--key", key, cwd=outsider)
    tampered = json.loads((outsider / "opted-out.bundle.json").read_text(encoding="utf-8"))
    fields = next(s["fields"] for s in tampered["record"]["body"]["scopes"] if s["scope"] == "catalog")
    catalog = next(s for s in tampered["scopes"] if s["scope"] == "catalog")
    catalog["entry"]["counts"][fields.index("dropped")] -= 1
    (outsider / "tampered.bundle.json").write_text(json.dumps(tampered, indent=2), encoding="utf-8")
    print("tampered.bundle.json: the same bundle, claiming one page fewer dropped at ingest")
    run("verify", "tampered.bundle.json", "--key", key, cwd=outsider, fails=True)

    step("12. Does the run's training data hold text identical or similar to an output? The trace index")
    print(
        "The index of the run's data mix: every kept document tokenized for matching (NFKC, case folded; words,\n"
        "and single characters for Japanese), a suffix array for verbatim spans, MinHash over passages for near\n"
        "copies, BM25 for similar documents; committed to in the ledger (docs/trace.md)."
    )
    run("index", "build", "--run", RUN, cwd=workspace)
    write_outputs(workspace)
    print(
        f"\nAn output that copies the blog post {KEPT}/2026/05/kumano-kodo between two sentences of its own:"
    )
    run("trace", "--file", "output-copy.txt", "--run", RUN, "--html", "trace-copy.html",
        "--bundle", "trace-copy.bundle.json", cwd=workspace)  # fmt: skip
    print(
        "\nAn output that paraphrases the same post: no verbatim span, but it is the most similar document:"
    )
    run("trace", "--file", "output-paraphrase.txt", "--run", RUN, cwd=workspace)
    print(
        "\nAn output that is new: nothing found, and the JSON answer says so (docs/trace.md lists every field):"
    )
    run("trace", "--file", "output-new.txt", "--run", RUN, "--json", cwd=workspace)
    print(
        f"\nAn output that copies an article of {OPTED_OUT}, which opted out: its pages were dropped at ingest,\n"
        "so the run never saw it (the answer in Japanese):"
    )
    run("trace", "--file", "output-news.txt", "--run", RUN, "--lang", "ja", cwd=workspace)

    step("13. The trace answer's proof, checked offline; and the index re-hashed against its ledger record")
    shutil.copy(workspace / "trace-copy.bundle.json", outsider / "trace-copy.bundle.json")
    run("verify", "trace-copy.bundle.json", "--key", key, cwd=outsider)
    run("index", "verify", "--run", RUN, cwd=workspace)

    step("14. History only grows: a second checkpoint and a consistency proof; then audit the whole ledger")
    run("log", "checkpoint", "--out", "checkpoint-1.txt", cwd=workspace)
    run("log", "append", "--kind", "note", "--file", str(HERE / "records" / "01-note.json"), cwd=workspace)
    run("log", "checkpoint", "--out", "checkpoint-2.txt", cwd=workspace)
    run(
        "log",
        "consistency",
        "checkpoint-1.txt",
        "checkpoint-2.txt",
        "--out",
        "consistency.json",
        cwd=workspace,
    )
    shutil.copy(workspace / "consistency.json", outsider / "consistency.json")
    run("verify", "consistency.json", "--key", key, cwd=outsider)
    run("log", "verify", cwd=workspace)

    step("15. Retention: when each record's obligation ends")
    run("retention", "plan", cwd=workspace)

    step(
        "16. The annual statement: every requirement of the draft code answered from the record, then signed"
    )
    shutil.copy(HERE / "data" / "statement.toml", workspace / "statement.toml")
    run("index", "build", cwd=workspace)  # the whole catalog's trace index: principle 3 covers all kept data
    run("statement", "build", "--period", "2026", "--tier", "public", "--out", "statement", cwd=workspace)
    for name in ("statement.json", "eu-summary.json", "ab2013.json", "cyclonedx.json"):
        shutil.copy(workspace / "statement" / name, outsider / name)
        run("statement", "verify", name, "--key", key, cwd=outsider)
    summarise_disclosures(workspace / "statement")

    print(
        f"""
== What to look at
- {workspace}/kiroku.toml: organisation, log origin, store, opt-out policy and blocklists, retention.
- {workspace}/catalog/: the catalog's Parquet shards (documents, and their text) and stage lineage files.
- {workspace}/doc-proof.json: one document's chained proof; anyone can check it with
    kiroku verify doc-proof.json --key '{key}'
- Change one hex digit of its doc_id and run that again: it fails.
- {workspace}/crawls/: the live crawl of step 6: its WARC file, decisions.jsonl.gz (one line per URL, with the
    reason it was fetched or skipped) and crawl.json (the body of its crawl.run record); see docs/crawl.md.
- {workspace}/opted-out.html: the answer about {OPTED_OUT} as a bilingual (ja/en) page, with its checked proof.
- {workspace}/index/domains/: the domain index (sorted tables per scope, memory-mapped; see docs/domains.md).
- {workspace}/trace-copy.html: the trace of the copied blog post as a bilingual page, its spans highlighted.
- {workspace}/index/trace/: the trace index of the run (suffix arrays, MinHash passages, BM25; docs/trace.md).
- {workspace}/statement/statement.json: the public comply-or-explain statement for 2026, signed and bound to the
    ledger (the policy it answers from: {workspace}/statement.toml; see docs/statements.md). Open it in a browser:
    {(workspace / "statement" / "statement.html").resolve().as_uri()}
- {workspace}/statement/: beside it, notification.json (Cabinet Office), eu-summary.json (EU AI Act),
    ab2013.json (California) and cyclonedx.json (CycloneDX 1.6 ML-BOM).
- {outsider}/: what a rightsholder holds: the bundles and the public key, nothing else.
"""
    )
    serve_registry(workspace)


def summarise_disclosures(folder: Path) -> None:
    """A few lines from the EU summary, the AB 2013 items and the ML-BOM, to show what each holds."""
    eu = json.loads((folder / "eu-summary.json").read_text(encoding="utf-8"))
    crawled = eu["data_sources"]["crawled_data"]
    public = [d["name"] for d in eu["data_sources"]["public_datasets"]["listed"]]
    print(
        f"EU summary: text, {eu['general_information']['modalities']['text']['size_band']}; public datasets "
        f"over 3%: {', '.join(public) or 'none'}; crawlers: {', '.join(crawled['crawlers'])}, "
        f"{crawled['period']}; top domains ({crawled['top_domains_rule']}): {', '.join(crawled['top_domains'])}"
    )
    ab = json.loads((folder / "ab2013.json").read_text(encoding="utf-8"))
    first_used = next(item["answer"] for item in ab["items"] if item["number"] == 11)
    print(f"AB 2013: {len(ab['items'])} items, {len(ab['datasets'])} datasets; first used: {first_used}")
    bom = json.loads((folder / "cyclonedx.json").read_text(encoding="utf-8"))
    kinds = [component["type"] for component in bom["components"]]
    print(
        f"ML-BOM (CycloneDX {bom['specVersion']}, validated): {kinds.count('machine-learning-model')} model(s) "
        f"with a model card, {kinds.count('data')} data components"
    )


if __name__ == "__main__":
    main()
