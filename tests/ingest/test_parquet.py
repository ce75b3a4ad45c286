"""Parquet dataset ingest: rows streamed by row group into catalog shards; resumable, recorded once, strict."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kiroku.catalog import DataType, Source, register_source
from kiroku.catalog.shards import Document, ShardRecord
from kiroku.catalog.stats import catalog_shards, catalog_stats
from kiroku.ingest import IngestError, JsonlFields, ingest_files, read_parquet
from kiroku.ledger import Ledger, Signer
from tests.conftest import kiroku
from tests.ingest.conftest import ORIGIN, SOURCE, assert_shards_match_their_files

NESTED = JsonlFields(text="text", url="meta.url", id="id")


def text_of(i: int) -> str:
    return f"記事 {i}: the {i}th article of the dataset, 本文 {i * 7}"


def write_dataset(
    path: Path, count: int, *, group_rows: int = 70, start: int = 0, compression: str = "zstd"
) -> Path:
    """A Parquet file of ``count`` rows in row groups of ``group_rows``, the URL nested in a struct column."""
    rows = range(start, start + count)
    table = pa.table(
        {
            "id": pa.array(list(rows), pa.int64()),
            "text": pa.array([text_of(i) for i in rows], pa.string()),
            "meta": pa.array(
                [{"url": f"https://news{i % 3}.example.co.jp/{i}", "lang": "ja"} for i in rows],
                pa.struct([("url", pa.string()), ("lang", pa.string())]),
            ),
            "score": pa.array([i / 10 for i in rows], pa.float64()),
        }
    )
    pq.write_table(table, path, row_group_size=group_rows, compression=compression)
    return path


def ingest(ledger: Ledger, catalog: Path, *paths: Path, per_shard: int = 100) -> list[ShardRecord]:
    reader = partial(read_parquet, fields=NESTED)
    results = ingest_files(ledger, catalog, SOURCE, list(paths), reader, max_documents=per_shard)
    return [shard for result in results for shard in result.shards]


def verifies(ledger: Ledger) -> bool:
    return ledger.verify(Signer.generate(ORIGIN).verifier()).size == ledger.size


def test_rows_of_every_row_group_become_documents_in_order(tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "a.parquet", 250)
    assert pq.ParquetFile(path).metadata.num_row_groups == 4
    docs = list(read_parquet(path, fields=NESTED))
    assert [position for position, _ in docs] == list(range(250))
    assert docs[137] == (
        137,
        Document(text=text_of(137), url="https://news2.example.co.jp/137", external_id="137"),
    )


def test_each_shard_is_one_ledger_record_with_its_files_and_doc_root(ledger: Ledger, tmp_path: Path) -> None:
    shards = ingest(ledger, tmp_path / "c", write_dataset(tmp_path / "a.parquet", 250))
    assert [s.documents for s in shards] == [100, 100, 50]
    assert [(s.input.start, s.input.end, s.input.complete) for s in shards] == [
        (0, 100, False),
        (100, 200, False),
        (200, 250, True),
    ]
    assert_shards_match_their_files(ledger, tmp_path / "c", shards)


def test_rows_carry_the_nested_url_its_domain_and_the_dataset_id(ledger: Ledger, tmp_path: Path) -> None:
    shard = ingest(ledger, tmp_path / "c", write_dataset(tmp_path / "a.parquet", 5))[0]
    row = pq.read_table(tmp_path / "c" / shard.docs_file).to_pylist()[4]
    assert (row["url"], row["host"], row["domain"]) == (
        "https://news1.example.co.jp/4",
        "news1.example.co.jp",
        "example.co.jp",
    )
    assert (row["external_id"], row["input_line"], row["source"]) == ("4", 4, SOURCE)
    assert row["bytes"] == len(text_of(4).encode())


def test_missing_url_and_id_columns_mean_none(tmp_path: Path) -> None:
    pq.write_table(pa.table({"body": ["only text", "more text"]}), tmp_path / "b.parquet")
    docs = list(read_parquet(tmp_path / "b.parquet", fields=JsonlFields(text="body")))
    assert docs == [(0, Document(text="only text")), (1, Document(text="more text"))]


def test_large_and_dictionary_string_columns_are_text(tmp_path: Path) -> None:
    table = pa.table(
        {
            "text": pa.array(["a", "b", "a"], pa.large_string()),
            "url": pa.array(["https://x.example/", "https://y.example/", None]).dictionary_encode(),
        }
    )
    pq.write_table(table, tmp_path / "d.parquet")
    docs = [doc for _, doc in read_parquet(tmp_path / "d.parquet")]
    assert [(d.text, d.url) for d in docs] == [
        ("a", "https://x.example/"),
        ("b", "https://y.example/"),
        ("a", None),
    ]


def test_ingesting_the_same_file_again_records_nothing(ledger: Ledger, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "a.parquet", 120)
    ingest(ledger, tmp_path / "c", path)
    size = ledger.size
    results = ingest_files(ledger, tmp_path / "c", SOURCE, [path], partial(read_parquet, fields=NESTED))
    assert results[0].already_done and ledger.size == size


def test_an_interrupted_ingest_resumes_to_the_same_catalog_as_a_clean_run(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = write_dataset(tmp_path / "a.parquet", 250)  # row groups of 70: shard ends fall inside row groups

    def interrupted(path: Path, start: int) -> Iterator[tuple[int, Document]]:
        for position, doc in read_parquet(path, start, fields=NESTED):
            if position == 180:
                raise KeyboardInterrupt  # Ctrl-C in the middle of the second shard
            yield position, doc

    with pytest.raises(KeyboardInterrupt):
        ingest_files(ledger, tmp_path / "c", SOURCE, [path], interrupted, max_documents=100)
    assert [s.shard.input.end for s in catalog_shards(ledger)] == [100]
    [result] = ingest_files(
        ledger, tmp_path / "c", SOURCE, [path], partial(read_parquet, fields=NESTED), max_documents=100
    )
    assert result.resumed_from == 100

    clean = Ledger.create(f"sqlite:///{tmp_path / 'clean.sqlite'}", ORIGIN)
    register_source(clean, Source(name=SOURCE, type=DataType.web_crawl))
    expected = ingest(clean, tmp_path / "clean", path)
    assert [s.shard for s in catalog_shards(ledger)] == expected  # same files, hashes, ranges and roots
    for shard in expected:
        assert pq.read_table(tmp_path / "c" / shard.docs_file).equals(
            pq.read_table(tmp_path / "clean" / shard.docs_file)
        )
    assert catalog_stats(ledger, tmp_path / "c")["documents"] == 250
    assert verifies(ledger)


def test_resuming_skips_earlier_row_groups_without_reading_them(tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "a.parquet", 210, compression="none")
    chunk = pq.ParquetFile(path).metadata.row_group(0).column(1)  # the text of rows 0-69
    data = bytearray(path.read_bytes())
    begin = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    data[begin : begin + chunk.total_compressed_size] = b"\xff" * chunk.total_compressed_size
    path.write_bytes(bytes(data))
    with pytest.raises(IngestError, match=r"a\.parquet: row group 0 \(from row 1\): cannot read"):
        list(read_parquet(path, 0, fields=NESTED))
    assert [position for position, _ in read_parquet(path, 70, fields=NESTED)] == list(range(70, 210))
    assert [position for position, _ in read_parquet(path, 150, fields=NESTED)] == list(range(150, 210))


def test_a_missing_text_column_lists_the_columns_there_are_and_records_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = write_dataset(tmp_path / "a.parquet", 10)
    reader = partial(read_parquet, fields=JsonlFields(text="content"))
    size = ledger.size
    with pytest.raises(
        IngestError,
        match=r"a\.parquet: no text column 'content' \(columns: id, text, meta\.url, meta\.lang, score\)",
    ):
        ingest_files(ledger, tmp_path / "c", SOURCE, [path], reader)
    assert ledger.size == size and not list((tmp_path / "c").glob("*.parquet"))


def test_a_text_column_that_is_not_strings_is_refused(tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "a.parquet", 10)
    with pytest.raises(IngestError, match=r"a\.parquet: text column 'score' holds double, not strings"):
        list(read_parquet(path, fields=JsonlFields(text="score")))


def test_a_null_text_names_file_and_row_and_records_no_partial_shard(ledger: Ledger, tmp_path: Path) -> None:
    texts: list[str | None] = [text_of(i) for i in range(150)]
    texts[130] = None
    pq.write_table(pa.table({"text": texts}), tmp_path / "n.parquet", row_group_size=70)
    with pytest.raises(IngestError, match=r"n\.parquet: row 131: text column 'text' is null"):
        ingest(ledger, tmp_path / "c", tmp_path / "n.parquet")
    assert [s.shard.documents for s in catalog_shards(ledger)] == [100]
    assert verifies(ledger)


def test_a_file_that_is_not_parquet_names_the_file(ledger: Ledger, tmp_path: Path) -> None:
    (tmp_path / "x.parquet").write_text('{"text": "JSON, not Parquet"}\n')
    with pytest.raises(IngestError, match=r"x\.parquet: not a readable Parquet file"):
        ingest(ledger, tmp_path / "c", tmp_path / "x.parquet")
    assert not catalog_shards(ledger) and verifies(ledger)


def test_a_truncated_file_names_the_file_and_records_nothing(ledger: Ledger, tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "a.parquet", 500).read_bytes()
    (tmp_path / "t.parquet").write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(IngestError, match=r"t\.parquet: not a readable Parquet file"):
        ingest(ledger, tmp_path / "c", tmp_path / "t.parquet")
    assert not catalog_shards(ledger) and verifies(ledger)


def test_cli_ingest_parquet(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    kiroku("init", str(ws), "--org", "T")
    kiroku("source", "add", "corpus", "--type", "public_dataset", cwd=ws)
    write_dataset(ws / "a.parquet", 150)
    write_dataset(ws / "b.parquet", 30, start=1000)
    args = ("ingest", "parquet", "a.parquet", "b.parquet", "--source", "corpus", "--url-field", "meta.url")
    result = kiroku(*args, "--shard-documents", "100", cwd=ws)
    assert result.returncode == 0, result.stderr
    assert "a.parquet: 150 documents in 2 shard(s)" in result.stdout
    assert "b.parquet: 30 documents in 1 shard(s)" in result.stdout
    again = kiroku(*args, cwd=ws)
    assert again.returncode == 0 and again.stderr.count("already in the catalog") == 2
    stats = json.loads(kiroku("catalog", "stats", "--json", cwd=ws).stdout)
    assert stats["documents"] == 180 and stats["by_source"]["corpus"]["documents"] == 180
    write_dataset(ws / "c.parquet", 5, start=2000)
    bad = kiroku("ingest", "parquet", "c.parquet", "--source", "corpus", "--text-field", "body", cwd=ws)
    assert bad.returncode == 2
    assert "c.parquet: no text column 'body' (columns: id, text, meta.url, meta.lang, score)" in bad.stderr
    assert kiroku("log", "verify", cwd=ws).returncode == 0
