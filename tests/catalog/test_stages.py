"""Cleaning stages: one ledger record per stage, a lineage file of every input document, Merkle roots that prove."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kiroku.catalog import DataType, Source, register_source
from kiroku.catalog.shards import Document, ShardWriter, doc_id_of
from kiroku.catalog.stages import (
    StageError,
    StageRecord,
    find_stage,
    input_ids,
    list_stages,
    prove_in_stage,
    read_id_file,
    read_lineage,
    record_stage,
)
from kiroku.catalog.stats import catalog_shards
from kiroku.ingest import ingest_files, read_jsonl
from kiroku.ledger import Ledger, Signer, merkle
from tests.conftest import kiroku

ORIGIN = "test.kiroku/ledger"
COUNT = 30


def text(i: int) -> str:
    return f"記事 {i}: the body of article number {i}"


def url(i: int) -> str:
    return f"https://news{i % 3}.example.jp/articles/{i}"


def write_dataset(path: Path, count: int = COUNT) -> Path:
    lines = [
        json.dumps({"id": f"art-{i}", "url": url(i), "text": text(i)}, ensure_ascii=False)
        for i in range(count)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ids(*numbers: int) -> list[bytes]:
    return sorted(doc_id_of(text(i)) for i in numbers)


def verified(ledger: Ledger) -> bool:
    return ledger.verify(Signer.generate(ORIGIN).verifier()).size == ledger.size


@pytest.fixture
def ledger(store_url: str) -> Ledger:
    ledger = Ledger.create(store_url, ORIGIN)
    register_source(ledger, Source(name="news", type=DataType.public_dataset))
    return ledger


@pytest.fixture
def catalog(ledger: Ledger, tmp_path: Path) -> Path:
    """A catalog of COUNT documents in three shards, ingested from a real JSON Lines file."""
    catalog_dir = tmp_path / "catalog"
    ingest_files(
        ledger, catalog_dir, "news", [write_dataset(tmp_path / "news.jsonl")], read_jsonl, max_documents=12
    )
    return catalog_dir


def kept_file(tmp_path: Path, lines: list[str], name: str = "kept.txt") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_stage_over_the_catalog_is_one_ledger_record_committing_to_its_kept_set(
    ledger: Ledger, catalog: Path, tmp_path: Path
) -> None:
    # one id of each kind: 64-hex document id, the dataset's own id, the URL
    path = kept_file(tmp_path, [doc_id_of(text(0)).hex(), "art-1", url(2), "art-5"])
    size = ledger.size
    index, stage = record_stage(
        ledger, catalog, "langid-ja", "catalog", read_id_file(path), parameters={"threshold": 0.5}
    )
    assert index == size and ledger.size == size + 1
    assert ledger.record(index).entry.kind == "catalog.stage"
    assert StageRecord.model_validate(ledger.record(index).body_json()) == stage
    assert (stage.input, stage.input_record, stage.input_documents) == ("catalog", None, COUNT)
    assert stage.input_shards == [r.index for r in catalog_shards(ledger)] and len(stage.input_shards) == 3
    assert (stage.kept, stage.dropped) == (4, COUNT - 4)
    assert stage.dropped_by_reason == {"dropped by langid-ja": COUNT - 4}
    assert stage.kept_root == merkle.root(ids(0, 1, 2, 5)).hex()
    assert stage.dropped_root == merkle.root(ids(*(i for i in range(COUNT) if i not in (0, 1, 2, 5)))).hex()
    assert stage.parameters == {"threshold": 0.5} and stage.via == "cli"
    assert stage.lineage_file == "stages/langid-ja.lineage.parquet"
    assert find_stage(ledger, "langid-ja") == (index, stage)
    assert verified(ledger)


def test_the_lineage_file_holds_every_input_document_sorted_with_kept_and_reason(
    ledger: Ledger, catalog: Path, tmp_path: Path
) -> None:
    _, stage = record_stage(
        ledger,
        catalog,
        "quality",
        "catalog",
        read_id_file(kept_file(tmp_path, ["art-3", "art-4"])),
        default_reason="low quality",
    )
    table = read_lineage(catalog, stage)
    assert table.schema.field("doc_id").type == pa.binary(32)
    rows = table.to_pylist()
    assert [row["doc_id"] for row in rows] == ids(*range(COUNT))
    kept = {doc_id_of(text(3)), doc_id_of(text(4))}
    for row in rows:
        assert row["kept"] is (row["doc_id"] in kept)
        assert row["reason"] == (None if row["kept"] else "low quality")


def test_a_second_stage_takes_the_kept_documents_of_the_first_as_its_input(
    ledger: Ledger, catalog: Path, tmp_path: Path
) -> None:
    first, _ = record_stage(
        ledger,
        catalog,
        "langid",
        "catalog",
        read_id_file(kept_file(tmp_path, [f"art-{i}" for i in range(10)])),
    )
    assert input_ids(ledger, catalog, "langid").to_pylist() == ids(*range(10))
    dropped = tmp_path / "dropped.jsonl"
    dropped.write_text(
        json.dumps({"id": "art-7", "reason": "near-duplicate of art-6"})
        + "\n"
        + json.dumps({"id": "art-8", "reason": "near-duplicate of art-6"})
        + "\n"
    )
    _, stage = record_stage(
        ledger, catalog, "dedup", "langid", read_id_file(kept_file(tmp_path, ["art-0", "art-6"], "k2.txt")),
        dropped_reasons=read_id_file(dropped),
    )  # fmt: skip
    assert (stage.input, stage.input_record, stage.input_shards) == ("langid", first, [])
    assert (stage.input_documents, stage.kept, stage.dropped) == (10, 2, 8)
    assert stage.dropped_by_reason == {"near-duplicate of art-6": 2, "dropped by dedup": 6}
    assert stage.kept_root == merkle.root(ids(0, 6)).hex()
    assert [s.name for _, s in list_stages(ledger)] == ["langid", "dedup"]
    assert verified(ledger)


def test_a_document_outside_the_input_set_is_refused_naming_the_line_and_nothing_is_recorded(
    ledger: Ledger, catalog: Path, tmp_path: Path
) -> None:
    record_stage(ledger, catalog, "langid", "catalog", read_id_file(kept_file(tmp_path, ["art-0", "art-1"])))
    size = ledger.size
    path = kept_file(
        tmp_path, ["art-0", "", "art-2"], "k2.txt"
    )  # art-2 is in the catalog, not in langid's kept set
    with pytest.raises(StageError, match=rf"^{path}: line 3: 'art-2' is not in the input set"):
        record_stage(ledger, catalog, "dedup", "langid", read_id_file(path))
    with pytest.raises(StageError, match=r"line 1: 'no-such-article' is not in the input set"):
        record_stage(
            ledger,
            catalog,
            "dedup",
            "catalog",
            read_id_file(kept_file(tmp_path, ["no-such-article"], "k3.txt")),
        )
    assert ledger.size == size and verified(ledger)
    assert not (catalog / "stages" / "dedup.lineage.parquet").exists()


def test_a_name_given_to_two_documents_is_ambiguous_and_refused(ledger: Ledger, tmp_path: Path) -> None:
    dataset = tmp_path / "d.jsonl"
    dataset.write_text(
        json.dumps({"id": "same", "text": "one"}) + "\n" + json.dumps({"id": "same", "text": "two"}) + "\n"
    )
    ingest_files(ledger, tmp_path / "c", "news", [dataset], read_jsonl)
    size = ledger.size
    with pytest.raises(StageError, match=r"line 1: 'same' names 2 documents of the input set"):
        record_stage(ledger, tmp_path / "c", "s", "catalog", read_id_file(kept_file(tmp_path, ["same"])))
    # the document id itself is never ambiguous
    record_stage(
        ledger,
        tmp_path / "c",
        "s",
        "catalog",
        read_id_file(kept_file(tmp_path, [doc_id_of("one").hex()], "k.txt")),
    )
    assert ledger.size == size + 1


def test_a_stage_name_is_recorded_once(ledger: Ledger, catalog: Path, tmp_path: Path) -> None:
    path = read_id_file(kept_file(tmp_path, ["art-0"]))
    index, _ = record_stage(ledger, catalog, "langid", "catalog", path)
    size = ledger.size
    with pytest.raises(StageError, match=rf"a stage named 'langid' is already recorded \(record {index}\)"):
        record_stage(ledger, catalog, "langid", "catalog", path)
    with pytest.raises(StageError, match="choose another stage name"):
        record_stage(ledger, catalog, "catalog", "catalog", path)
    with pytest.raises(StageError, match=r"no stage named 'lngid' \(recorded: langid\)"):
        record_stage(ledger, catalog, "dedup", "lngid", path)
    assert ledger.size == size


def test_json_lines_give_ids_or_texts_and_parquet_gives_binary_ids(
    ledger: Ledger, catalog: Path, tmp_path: Path
) -> None:
    jsonl = tmp_path / "kept.jsonl"
    jsonl.write_text(
        json.dumps({"doc": {"key": "art-1"}})
        + "\n"
        + json.dumps({"text": text(2)}, ensure_ascii=False)
        + "\n"
    )
    _, stage = record_stage(ledger, catalog, "a", "catalog", read_id_file(jsonl, id_field="doc.key"))
    assert stage.kept_root == merkle.root(ids(1, 2)).hex()
    parquet = tmp_path / "kept.parquet"
    pq.write_table(pa.table({"id": pa.array(ids(3, 4), pa.binary(32)), "score": [0.9, 0.8]}), parquet)
    _, stage = record_stage(ledger, catalog, "b", "catalog", read_id_file(parquet))
    assert stage.kept_root == merkle.root(ids(3, 4)).hex()


def test_a_document_both_kept_and_dropped_or_dropped_for_two_reasons_is_refused(
    ledger: Ledger, catalog: Path, tmp_path: Path
) -> None:
    kept = read_id_file(kept_file(tmp_path, ["art-0", "art-1"]))
    dropped = tmp_path / "dropped.jsonl"
    dropped.write_text(
        json.dumps({"id": "art-2", "reason": "pii"})
        + "\n"
        + json.dumps({"id": url(1), "reason": "pii"})
        + "\n"
    )
    with pytest.raises(
        StageError,
        match=rf"{dropped}: line 2: document {doc_id_of(text(1)).hex()} is dropped here but kept in .*kept.txt: line 2",
    ):
        record_stage(ledger, catalog, "pii", "catalog", kept, dropped_reasons=read_id_file(dropped))
    dropped.write_text(
        json.dumps({"id": "art-2", "reason": "pii"})
        + "\n"
        + json.dumps({"id": url(2), "reason": "toxicity"})
        + "\n"
    )
    with pytest.raises(StageError, match=r"line 2: document .* is given another reason than in .*: line 1"):
        record_stage(ledger, catalog, "pii", "catalog", kept, dropped_reasons=read_id_file(dropped))
    assert not list_stages(ledger)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "art-1"}\n{"id": \n', r"line 2: not JSON"),
        ('{"id": "art-1"}\n[1]\n', r"line 2: a JSON Lines record must be an object"),
        (
            '{"id": "art-1"}\n{"score": 1}\n',
            r"line 2: no id field 'id' and no text field 'text' \(fields: score\)",
        ),
        ('{"id": true}\n', r"line 1: field 'id' must be a string or an integer"),
    ],
)
def test_malformed_id_files_are_refused_naming_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "kept.jsonl"
    path.write_text(content)
    with pytest.raises(StageError, match=message):
        read_id_file(path)


def test_ids_from_a_program_are_32_byte_document_ids_with_reasons_by_id(
    ledger: Ledger, catalog: Path
) -> None:
    index, stage = record_stage(
        ledger, catalog, "decontam", "catalog", [doc_id_of(text(i)) for i in range(COUNT) if i != 9],
        dropped_reasons={doc_id_of(text(9)): "overlaps benchmark X"}, via="api",
    )  # fmt: skip
    assert (stage.kept, stage.dropped_by_reason) == (COUNT - 1, {"overlaps benchmark X": 1})
    with pytest.raises(StageError, match=r"kept_ids: item 2: .* is not in the input set"):
        record_stage(ledger, catalog, "x", "catalog", [doc_id_of(text(0)), doc_id_of("not in the catalog")])
    with pytest.raises(StageError, match="kept_ids: item 1: a document id is 32 bytes, not 3"):
        record_stage(ledger, catalog, "x", "catalog", [b"abc"])
    assert ledger.size == index + 1


def test_a_proof_shows_which_stage_kept_or_dropped_a_document(
    ledger: Ledger, catalog: Path, tmp_path: Path
) -> None:
    _, stage = record_stage(
        ledger, catalog, "langid", "catalog", read_id_file(kept_file(tmp_path, ["art-0", "art-7"]))
    )
    kept = prove_in_stage(catalog, stage, doc_id_of(text(7)))
    assert kept is not None and kept.kept and kept.verify()
    assert (kept.root.hex(), kept.size, kept.index) == (
        stage.kept_root,
        2,
        ids(0, 7).index(doc_id_of(text(7))),
    )
    dropped = prove_in_stage(catalog, stage, doc_id_of(text(8)))
    assert (
        dropped is not None
        and not dropped.kept
        and dropped.reason == "dropped by langid"
        and dropped.verify()
    )
    assert dropped.root.hex() == stage.dropped_root
    assert prove_in_stage(catalog, stage, doc_id_of("never ingested")) is None
    forged = prove_in_stage(catalog, stage, doc_id_of(text(0)))
    assert forged is not None
    assert not merkle.verify_inclusion(
        merkle.leaf_hash(doc_id_of(text(8))), forged.index, forged.size, forged.proof, forged.root
    )


def test_a_changed_lineage_file_is_detected(ledger: Ledger, catalog: Path, tmp_path: Path) -> None:
    _, stage = record_stage(
        ledger, catalog, "langid", "catalog", read_id_file(kept_file(tmp_path, ["art-0"]))
    )
    path = catalog / stage.lineage_file
    table = pq.read_table(path)
    pq.write_table(table.set_column(1, "kept", pa.array([True] * table.num_rows)), path)
    with pytest.raises(StageError, match="does not match the SHA-256 in its record"):
        read_lineage(catalog, stage)
    with pytest.raises(StageError, match="does not match the SHA-256 recorded in record"):
        record_stage(
            ledger, catalog, "dedup", "langid", read_id_file(kept_file(tmp_path, ["art-0"], "k2.txt"))
        )


def test_an_orphan_lineage_file_from_a_crash_is_overwritten(
    ledger: Ledger, catalog: Path, tmp_path: Path
) -> None:
    orphan = catalog / "stages" / "langid.lineage.parquet"
    orphan.parent.mkdir()
    orphan.write_bytes(b"written by a run that crashed before its record")
    _, stage = record_stage(
        ledger, catalog, "langid", "catalog", read_id_file(kept_file(tmp_path, ["art-0"]))
    )
    assert read_lineage(catalog, stage).num_rows == COUNT


def test_opted_out_documents_are_not_in_the_catalog_input_set(ledger: Ledger, tmp_path: Path) -> None:
    writer = ShardWriter(ledger, tmp_path / "c", "news", "crawl.warc", "0" * 64)
    writer.add(Document(text="allowed page"), 0)
    writer.add(Document(text="noai page", optout=("meta:noai",), kept=False), 1)
    writer.flush(end=2, complete=True)
    assert input_ids(ledger, tmp_path / "c", "catalog").to_pylist() == [doc_id_of("allowed page")]
    with pytest.raises(StageError, match="is not in the input set"):
        record_stage(ledger, tmp_path / "c", "s", "catalog", [doc_id_of("noai page")])


def test_an_empty_kept_set_commits_to_the_empty_root(ledger: Ledger, catalog: Path, tmp_path: Path) -> None:
    _, stage = record_stage(ledger, catalog, "none", "catalog", [])
    assert (stage.kept, stage.kept_root) == (0, merkle.root([]).hex())


def test_a_missing_shard_file_is_reported(ledger: Ledger, catalog: Path) -> None:
    shard = catalog_shards(ledger)[1]
    (catalog / shard.shard.docs_file).unlink()
    with pytest.raises(
        StageError, match=rf"shard {shard.shard.shard} \(record {shard.index}\) is missing its file"
    ):
        record_stage(ledger, catalog, "s", "catalog", [])


# -- the command line ------------------------------------------------------------------------------------------


def cli_catalog(workspace: Path) -> None:
    assert kiroku("source", "add", "news", "--type", "public_dataset", cwd=workspace).returncode == 0
    result = kiroku(
        "ingest", "jsonl", str(write_dataset(workspace / "news.jsonl")), "--source", "news", cwd=workspace
    )
    assert result.returncode == 0, result.stderr


def test_cli_records_lists_and_shows_stages(workspace: Path) -> None:
    cli_catalog(workspace)
    kept_file(workspace, ["art-0", url(1), doc_id_of(text(2)).hex()])
    result = kiroku(
        "stage", "record", "langid", "--input", "catalog", "--kept", "kept.txt", "--reason", "not Japanese",
        "--param", "threshold=0.65", "--param", "model=fasttext lid.176", "--param", 'langs=["ja"]', cwd=workspace,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Recorded stage langid over catalog as record" in result.stdout
    assert f"dropped   {COUNT - 3}" in result.stdout and f"{COUNT - 3}  not Japanese" in result.stdout
    shown = json.loads(kiroku("stage", "show", "langid", "--json", cwd=workspace).stdout)
    assert shown["parameters"] == {"threshold": 0.65, "model": "fasttext lid.176", "langs": ["ja"]}
    assert (shown["kept"], shown["kept_root"]) == (3, merkle.root(ids(0, 1, 2)).hex())
    (workspace / "dropped.jsonl").write_text(json.dumps({"id": "art-0", "reason": "boilerplate"}) + "\n")
    kept_file(workspace, ["art-1", "art-2"], "k2.txt")
    result = kiroku(
        "stage",
        "record",
        "quality",
        "--input",
        "langid",
        "--kept",
        "k2.txt",
        "--dropped",
        "dropped.jsonl",
        cwd=workspace,
    )
    assert result.returncode == 0, result.stderr
    listed = json.loads(kiroku("stage", "list", "--json", cwd=workspace).stdout)
    assert [(s["name"], s["input"], s["kept"], s["dropped_by_reason"]) for s in listed] == [
        ("langid", "catalog", 3, {"not Japanese": COUNT - 3}),
        ("quality", "langid", 2, {"boilerplate": 1}),
    ]
    table = kiroku("stage", "list", cwd=workspace).stdout
    assert "langid" in table and "quality" in table
    assert 'dropped_by_reason  {"boilerplate": 1}' in kiroku("stage", "show", "quality", cwd=workspace).stdout
    assert kiroku("log", "verify", cwd=workspace).returncode == 0


def test_cli_bad_input_is_one_line_exit_2_and_records_nothing(workspace: Path) -> None:
    cli_catalog(workspace)
    kept_file(workspace, ["art-0", "art-999"])
    before = kiroku("log", "tail", cwd=workspace).stdout
    result = kiroku("stage", "record", "langid", "--input", "catalog", "--kept", "kept.txt", cwd=workspace)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(
        "kiroku: error: kept.txt: line 2: 'art-999' is not in the input set"
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert kiroku("log", "tail", cwd=workspace).stdout == before
    result = kiroku("stage", "record", "x", "--input", "catalog", "--kept", "nope.txt", cwd=workspace)
    assert (result.returncode, result.stderr.strip()) == (2, "kiroku: error: nope.txt: no such file")
    result = kiroku(
        "stage", "record", "x", "--input", "catalog", "--kept", "kept.txt", "--param", "oops", cwd=workspace
    )
    assert result.returncode == 2 and "--param 'oops' is not KEY=VALUE" in result.stderr
    result = kiroku("stage", "show", "langid", cwd=workspace)
    assert result.returncode == 2 and "no stage named 'langid' (recorded: none yet)" in result.stderr
    assert "No stages yet" in kiroku("stage", "list", cwd=workspace).stdout


def test_streamed_proofs_equal_the_proofs_over_all_leaves(
    ledger: Ledger, catalog: Path, tmp_path: Path
) -> None:
    kept_numbers = [i for i in range(COUNT) if i % 3]
    _, stage = record_stage(ledger, catalog, "thirds", "catalog", ids(*kept_numbers))
    kept_leaves, dropped_leaves = ids(*kept_numbers), ids(*(i for i in range(COUNT) if i % 3 == 0))
    for i in range(COUNT):
        proof = prove_in_stage(catalog, stage, doc_id_of(text(i)))
        assert proof is not None and proof.verify()
        leaves = kept_leaves if i % 3 else dropped_leaves
        assert proof.kept is bool(i % 3) and proof.index == leaves.index(doc_id_of(text(i)))
        assert proof.proof == merkle.inclusion_proof(leaves, proof.index, len(leaves))


@pytest.mark.slow
def test_proofs_across_lineage_batches(tmp_path: Path) -> None:
    """A stage larger than one read batch (65,536 rows): documents on both sides of the boundary prove."""
    ledger = Ledger.create(f"sqlite:///{tmp_path / 'ledger.sqlite'}", ORIGIN)
    register_source(ledger, Source(name="big", type=DataType.synthetic, generator_model="counter"))
    writer = ShardWriter(ledger, tmp_path / "c", "big", "generated", "0" * 64, max_documents=200_000)
    total = 70_000
    for i in range(total):
        writer.add(Document(text=f"generated document {i}"), i)
    writer.flush(end=total, complete=True)
    everything = sorted(doc_id_of(f"generated document {i}") for i in range(total))
    dropped = set(everything[::7])
    _, stage = record_stage(
        ledger, tmp_path / "c", "big", "catalog", [d for d in everything if d not in dropped]
    )
    kept_leaves = [d for d in everything if d not in dropped]
    assert stage.kept_root == merkle.root(kept_leaves).hex()
    for position in (0, 65_535, 65_536, 65_537, total - 1):
        doc_id = everything[position]
        proof = prove_in_stage(tmp_path / "c", stage, doc_id)
        assert proof is not None and proof.verify() and proof.kept is (doc_id not in dropped)
