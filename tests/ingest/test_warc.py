"""WARC ingest: HTTP 200 text responses from real archives (warcio's test data), checked against warcio."""

from __future__ import annotations

import gzip
import json
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from warcio.archiveiterator import ArchiveIterator

from kiroku.catalog.stats import catalog_shards
from kiroku.ingest import IngestError, ingest_files
from kiroku.ingest.warc import read_warc
from kiroku.ledger import Ledger
from tests.conftest import kiroku
from tests.ingest.conftest import SOURCE

DATA = Path(__file__).parent.parent / "data" / "warc"
EXAMPLE = DATA / "example.warc.gz"
IANA = DATA / "example-iana.org-chunked.warc"


def expected(path: Path) -> list[tuple[int, str, str]]:
    """(record ordinal, URL, WARC-Date) of each 200 HTML or plain-text response, as warcio reads them."""
    found = []
    with path.open("rb") as handle:
        for ordinal, record in enumerate(ArchiveIterator(handle)):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            mime = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip()
            if record.http_headers.get_statuscode() == "200" and mime in ("text/html", "text/plain"):
                found.append(
                    (
                        ordinal,
                        record.rec_headers.get_header("WARC-Target-URI"),
                        record.rec_headers.get_header("WARC-Date"),
                    )
                )
    return found


def combined(tmp_path: Path) -> Path:
    """One uncompressed .warc of both files' records (example, iana, example again)."""
    path = tmp_path / "both.warc"
    example = gzip.decompress(EXAMPLE.read_bytes())
    path.write_bytes(example + IANA.read_bytes() + example)
    return path


@pytest.mark.parametrize("path", [EXAMPLE, IANA])
def test_documents_are_the_200_text_responses_warcio_finds(path: Path) -> None:
    docs = list(read_warc(path))
    want = expected(path)
    assert len(docs) == len(want) >= 1
    for (position, doc), (ordinal, url, date) in zip(docs, want, strict=True):
        assert position == ordinal == doc.input_line
        assert doc.url == url
        assert doc.fetch_time is not None and doc.fetch_time.isoformat().replace("+00:00", "Z") == date
        assert doc.external_id is not None and doc.external_id.startswith("<urn:uuid:")
        assert doc.text.strip()


def test_html_becomes_the_text_on_the_page() -> None:
    [(_, iana)] = list(read_warc(IANA))  # chunked transfer coding
    assert "Internet Assigned Numbers Authority" in iana.text and "<" not in iana.text
    [(_, example)] = list(read_warc(EXAMPLE))  # gzip content coding
    assert "This domain is established to be used for illustrative examples" in example.text


def test_ingest_writes_shards_of_iana_org_documents(ledger: Ledger, tmp_path: Path) -> None:
    results = ingest_files(ledger, tmp_path / "c", SOURCE, [IANA], partial(read_warc))
    shards = [s for r in results for s in r.shards]
    assert sum(s.documents for s in shards) == len(expected(IANA))
    rows = [row for s in shards for row in pq.read_table(tmp_path / "c" / s.docs_file).to_pylist()]
    assert rows and {row["domain"] for row in rows} == {"iana.org"}
    assert [r.shard for r in catalog_shards(ledger)] == shards


def test_resuming_from_a_position_yields_exactly_the_tail(tmp_path: Path) -> None:
    path = combined(tmp_path)
    everything = list(read_warc(path))
    assert [p for p, _ in everything] == [o for o, _, _ in expected(path)]
    assert len(everything) == 3
    for start in range(0, everything[-1][0] + 2):
        assert list(read_warc(path, start)) == [(p, d) for p, d in everything if p >= start]


def test_a_truncated_warc_gz_names_file_and_offset_and_records_no_partial_shard(
    ledger: Ledger, tmp_path: Path
) -> None:
    data = EXAMPLE.read_bytes()
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        IngestError, match=rf"^{path}: .*(record \d+ at byte \d+|after the record at byte \d+)"
    ):
        ingest_files(ledger, tmp_path / "c", SOURCE, [path], partial(read_warc))
    assert catalog_shards(ledger) == []


def test_a_file_that_is_not_warc_names_file_and_offset(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "notes.warc"
    path.write_text("These are notes, not a web archive.\n")
    with pytest.raises(IngestError, match=rf"^{path}: cannot read record 0 at byte 0"):
        ingest_files(ledger, tmp_path / "c", SOURCE, [path], partial(read_warc))
    assert catalog_shards(ledger) == []


def test_cli_ingest_warc_counts_what_warcio_counts(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    kiroku("init", str(ws), "--org", "T")
    kiroku("source", "add", SOURCE, "--type", "web_crawl", cwd=ws)
    files = [str(DATA / "example.warc.gz"), str(DATA / "example-iana.org-chunked.warc")]
    result = kiroku("ingest", "warc", *files, "--source", SOURCE, cwd=ws)
    assert result.returncode == 0, result.stderr
    stats = json.loads(kiroku("catalog", "stats", "--json", cwd=ws).stdout)
    counted = sum(len(expected(Path(path))) for path in files)
    assert stats["by_source"][SOURCE]["documents"] == counted == 2
