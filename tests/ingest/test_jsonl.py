"""JSON Lines ingest into catalog shards: recorded once, resumable, strict about bad input."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import zstandard

from kiroku.catalog.shards import Document, ShardRecord
from kiroku.catalog.stats import catalog_shards, catalog_stats
from kiroku.catalog.urls import registrable_domain
from kiroku.ingest import IngestError, JsonlFields, ingest_files, read_jsonl
from kiroku.ledger import Ledger, Signer
from tests.conftest import kiroku
from tests.ingest.conftest import ORIGIN, SOURCE, assert_shards_match_their_files


def write_jsonl(path: Path, count: int, start: int = 0) -> Path:
    lines = [
        json.dumps(
            {
                "text": f"article {i}: 記録の本文 {i * 7}",
                "url": f"https://news{i % 3}.example.co.jp/{i}",
                "id": i,
            }
        )
        for i in range(start, start + count)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def ingest(ledger: Ledger, catalog: Path, *paths: Path, per_shard: int = 100) -> list[ShardRecord]:
    results = ingest_files(ledger, catalog, SOURCE, list(paths), partial(read_jsonl), max_documents=per_shard)
    return [shard for result in results for shard in result.shards]


def test_each_shard_is_one_ledger_record_with_its_files_and_doc_root(ledger: Ledger, tmp_path: Path) -> None:
    shards = ingest(ledger, tmp_path / "catalog", write_jsonl(tmp_path / "a.jsonl", 250))
    assert [s.documents for s in shards] == [100, 100, 50]
    assert [s.input.complete for s in shards] == [False, False, True]
    assert_shards_match_their_files(ledger, tmp_path / "catalog", shards)


def test_rows_carry_url_host_registrable_domain_and_counts(ledger: Ledger, tmp_path: Path) -> None:
    shard = ingest(ledger, tmp_path / "c", write_jsonl(tmp_path / "a.jsonl", 1))[0]
    row = pq.read_table(tmp_path / "c" / shard.docs_file).to_pylist()[0]
    assert (row["url"], row["host"], row["domain"]) == (
        "https://news0.example.co.jp/0",
        "news0.example.co.jp",
        "example.co.jp",
    )
    assert row["external_id"] == "0" and row["source"] == SOURCE and row["kept"] is True
    assert (
        row["bytes"] == len("article 0: 記録の本文 0".encode()) and row["tokens"] == 8
    )  # article, 0:, 記, 録, の, 本, 文, 0


def test_ingesting_the_same_file_again_records_nothing(ledger: Ledger, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", 120)
    ingest(ledger, tmp_path / "c", path)
    size = ledger.size
    results = ingest_files(ledger, tmp_path / "c", SOURCE, [path], partial(read_jsonl))
    assert results[0].already_done and ledger.size == size


def test_an_interrupted_ingest_resumes_after_its_last_recorded_shard(ledger: Ledger, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", 250)

    def interrupted(path: Path, start: int) -> Iterator[tuple[int, Document]]:
        for position, doc in read_jsonl(path, start=start):
            if position == 180:
                raise KeyboardInterrupt  # Ctrl-C in the middle of the second shard
            yield position, doc

    with pytest.raises(KeyboardInterrupt):
        ingest_files(ledger, tmp_path / "c", SOURCE, [path], interrupted, max_documents=100)
    assert [s.shard.input.end for s in catalog_shards(ledger)] == [100]
    results = ingest_files(ledger, tmp_path / "c", SOURCE, [path], partial(read_jsonl), max_documents=100)
    assert results[0].resumed_from == 100
    shards = [s.shard for s in catalog_shards(ledger)]
    assert [(s.input.start, s.input.end) for s in shards] == [(0, 100), (100, 200), (200, 250)]
    assert sum(s.documents for s in shards) == 250
    assert catalog_stats(ledger, tmp_path / "c")["documents"] == 250


def test_compressed_inputs_are_read(ledger: Ledger, tmp_path: Path) -> None:
    plain = write_jsonl(tmp_path / "a.jsonl", 30).read_bytes()
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(plain))
    (tmp_path / "a.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(plain))
    shards = ingest(ledger, tmp_path / "c", tmp_path / "a.jsonl.gz", tmp_path / "a.jsonl.zst")
    assert [s.documents for s in shards] == [30, 30]


def test_a_line_that_is_not_json_names_file_and_line_and_records_no_partial_shard(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", 150)
    lines = path.read_text().splitlines()
    lines[130] = '{"text": "cut off'
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(IngestError, match=r"a\.jsonl: line 131: not JSON"):
        ingest(ledger, tmp_path / "c", path)
    assert [s.shard.documents for s in catalog_shards(ledger)] == [100]
    assert ledger.verify(Signer.generate(ORIGIN).verifier()).size == ledger.size


def test_a_truncated_gzip_names_the_file(ledger: Ledger, tmp_path: Path) -> None:
    data = gzip.compress(write_jsonl(tmp_path / "a.jsonl", 500).read_bytes())
    (tmp_path / "t.jsonl.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(IngestError, match=r"t\.jsonl\.gz: cannot read after line"):
        ingest(ledger, tmp_path / "c", tmp_path / "t.jsonl.gz", per_shard=1000)
    assert not catalog_shards(ledger)


def test_a_missing_text_field_lists_the_fields_there_are(ledger: Ledger, tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_text('{"content": "x", "url": "https://a.example/"}\n')
    with pytest.raises(IngestError, match=r"line 1: no text field 'text' \(fields: content, url\)"):
        ingest(ledger, tmp_path / "c", tmp_path / "b.jsonl")


def test_field_names_are_configurable(tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_text('{"doc": {"body": "hello"}, "meta": {"link": "https://x.example/"}}\n')
    docs = list(
        read_jsonl(tmp_path / "b.jsonl", fields=JsonlFields(text="doc.body", url="meta.link", id=None))
    )
    assert docs == [(0, Document(text="hello", url="https://x.example/"))]


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.example.co.jp", "example.co.jp"),
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("a.b.github.io", "b.github.io"),
        ("localhost", "localhost"),
        ("192.0.2.7", "192.0.2.7"),
        ("Example.COM.", "example.com"),
    ],
)
def test_registrable_domains_come_from_the_bundled_public_suffix_list(host: str, domain: str) -> None:
    assert registrable_domain(host) == domain


def test_cli_ingest_and_catalog_stats_json(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    kiroku("init", str(ws), "--org", "T")
    kiroku("source", "add", "news", "--type", "web_crawl", cwd=ws)
    kiroku("source", "add", "books", "--type", "public_dataset", cwd=ws)
    write_jsonl(ws / "news.jsonl", 40)
    write_jsonl(ws / "books.jsonl", 25, start=1000)
    for name in ("news", "books"):
        result = kiroku("ingest", "jsonl", f"{name}.jsonl", "--source", name, cwd=ws)
        assert result.returncode == 0, result.stderr
    again = kiroku("ingest", "jsonl", "news.jsonl", "--source", "news", cwd=ws)
    assert again.returncode == 0 and "already in the catalog" in again.stderr
    stats = json.loads(kiroku("catalog", "stats", "--json", cwd=ws).stdout)
    assert stats["documents"] == 65
    assert {k: v["documents"] for k, v in stats["by_source"].items()} == {"books": 25, "news": 40}
    assert stats["by_type"]["web_crawl"]["documents"] == 40
    assert kiroku("log", "verify", cwd=ws).returncode == 0


def test_cli_ingest_for_an_unknown_source_is_refused(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    kiroku("init", str(ws), "--org", "T")
    write_jsonl(ws / "a.jsonl", 3)
    result = kiroku("ingest", "jsonl", "a.jsonl", "--source", "nope", cwd=ws)
    assert result.returncode == 2
    assert "no source named 'nope'" in result.stderr
