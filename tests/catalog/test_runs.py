"""Training runs: a TOML file validated field by field, each mix entry resolved to a ledger commitment."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kiroku.catalog import DataType, Source, register_source
from kiroku.catalog.runs import (
    RunError,
    RunRecord,
    TrainingRun,
    WeightUnit,
    find_run,
    list_runs,
    load_run,
    parse_run,
    record_run,
)
from kiroku.catalog.shards import doc_id_of
from kiroku.catalog.stages import record_stage
from kiroku.catalog.stats import catalog_shards
from kiroku.ingest import ingest_files, read_jsonl
from kiroku.ledger import Ledger, Signer, merkle
from kiroku.workspace import Workspace
from tests.conftest import kiroku

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "run.toml"


def write_jsonl(path: Path, texts: list[str]) -> Path:
    path.write_text(
        "".join(json.dumps({"text": t, "url": f"https://x.example/{i}"}) + "\n" for i, t in enumerate(texts))
    )
    return path


WEB = [f"web page {i}: {'word ' * (i + 1)}" for i in range(7)]
BOOKS = [f"book chapter {i}, a longer text of prose {'line ' * (3 * i + 2)}" for i in range(4)]


@dataclass
class Corpus:
    ledger: Ledger
    catalog: Path


@pytest.fixture
def corpus(store_url: str, tmp_path: Path) -> Corpus:
    """A ledger with two sources (web: 7 docs in 3 shards, books: 4 docs in 1) and a stage keeping 3 web docs."""
    ledger = Ledger.create(store_url, "test.kiroku/ledger")
    catalog = tmp_path / "catalog"
    register_source(ledger, Source(name="web", type=DataType.web_crawl))
    register_source(ledger, Source(name="books", type=DataType.public_dataset))
    ingest_files(
        ledger,
        catalog,
        "web",
        [write_jsonl(tmp_path / "web.jsonl", WEB)],
        partial(read_jsonl),
        max_documents=3,
    )
    ingest_files(ledger, catalog, "books", [write_jsonl(tmp_path / "b.jsonl", BOOKS)], partial(read_jsonl))
    record_stage(ledger, catalog, "dedup", "catalog", [doc_id_of(t) for t in WEB[:3]])
    return Corpus(ledger, catalog)


def run_toml(
    mix: str, *, unit: str = "share", extra: str = "", name: str = "pt-1", version: str = "1.0"
) -> str:
    return f"""
name = "{name}"
model = "acme-lm"
version = "{version}"
methods = ["pre-training", "sft"]
training_tokens = 1_000_000
start = 2026-04-01
end = 2026-04-20
weight_unit = "{unit}"
{extra}

[architecture]
family = "decoder-only transformer"
parameters = 1_000_000
layers = 4
context_length = 2048
{mix}
"""


def mix(*entries: str) -> str:
    return "".join(f"\n[[data_mix]]\n{entry}\n" for entry in entries)


def tokens_of(texts: list[str], catalog: Path, ledger: Ledger) -> int:
    wanted = {doc_id_of(t) for t in texts}
    total = 0
    for recorded in catalog_shards(ledger):
        for row in pq.read_table(catalog / recorded.shard.docs_file).to_pylist():
            if row["doc_id"] in wanted:
                total += row["tokens"]
    return total


# -- the run file -------------------------------------------------------------------------------------------------


def test_the_documented_example_is_a_valid_run_with_estimated_compute() -> None:
    run = load_run(EXAMPLE)
    assert (run.model, run.version, run.name) == ("acme-lm", "2.0", "pretrain-1")
    assert (
        run.compute_flops == float(6 * 7_000_000_000 * 2_000_000_000_000) == 8.4e22
        and run.compute_estimated is True
    )
    assert [entry.describe() for entry in run.data_mix] == ["stage 'dedup'", "source 'aozora'"]


def test_given_compute_is_kept_and_not_marked_estimated() -> None:
    run = parse_run(run_toml(mix("catalog = true\nweight = 1"), extra="compute_flops = 3.5e12"))
    assert run.compute_flops == 3.5e12 and run.compute_estimated is False


def test_compute_is_estimated_as_six_times_parameters_times_tokens() -> None:
    run = parse_run(run_toml(mix("catalog = true\nweight = 1")))
    assert run.compute_flops == 6e12 and run.compute_estimated is True


def test_shares_summing_to_one_within_a_millionth_are_accepted() -> None:
    entries = mix(
        'source = "web"\nweight = 0.1', 'source = "books"\nweight = 0.2', "catalog = true\nweight = 0.7000005"
    )
    assert [e.weight for e in parse_run(run_toml(entries)).data_mix] == [0.1, 0.2, 0.7000005]


@pytest.mark.parametrize(
    ("mix_text", "unit", "message"),
    [
        (mix('source = "web"\nweight = 0.5', 'source = "books"\nweight = 0.4'), "share",
         r"^RUN\.toml: data_mix: the weights are shares of the training tokens \(weight_unit = 'share'\) and sum "
         r"to 0\.9, not 1"),
        (mix('source = "web"\nweight = 1.2', 'source = "books"\nweight = -0.2'), "share",
         r"^RUN\.toml: data_mix\[1\]\.weight: Input should be greater than 0 \(got -0\.2\)$"),
        (mix('source = "web"\nweight = 0'), "epochs", r"^RUN\.toml: data_mix\[0\]\.weight: Input should be greater than 0"),
        (mix('source = "web"\nweight = inf'), "epochs", r"^RUN\.toml: data_mix\[0\]\.weight: Input should be a finite number"),
        (mix('source = "web"\nweight = 1'), "tokens", r"^RUN\.toml: weight_unit: Input should be 'share' or 'epochs' \(got 'tokens'\)$"),
    ],
)  # fmt: skip
def test_bad_weights_are_refused_naming_the_field(mix_text: str, unit: str, message: str) -> None:
    with pytest.raises(RunError, match=message):
        parse_run(run_toml(mix_text, unit=unit))


def test_epochs_need_not_sum_to_one() -> None:
    run = parse_run(
        run_toml(mix('source = "web"\nweight = 2', 'source = "books"\nweight = 0.5'), unit="epochs")
    )
    assert run.weight_unit is WeightUnit.epochs


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("layers = 4", "layers = = 4"), r"^run\.toml: line \d+, column \d+: not valid TOML: Invalid value$"),
        (('methods = ["pre-training", "sft"]', 'methods = ["pretraining"]'),
         r"^run\.toml: methods\[0\]: Input should be 'pre-training', 'continued-pre-training', 'sft', "
         r"'preference-tuning', 'distillation' or 'other' \(got 'pretraining'\)$"),
        (('methods = ["pre-training", "sft"]', "methods = []"), r"^run\.toml: methods: List should have at least 1"),
        (('methods = ["pre-training", "sft"]', 'methods = ["sft", "sft"]'), r"^run\.toml: methods: a method is listed twice$"),
        (("parameters = 1_000_000", "paramters = 1_000_000"),
         r"^run\.toml: architecture\.parameters: required but missing \(and 1 more\)$"),
        (("parameters = 1_000_000", "parameters = true"),
         r"^run\.toml: architecture\.parameters: must be a number, not true or false$"),
        (("training_tokens = 1_000_000", "training_tokens = 10_000_000_000_000_000"),
         r"^run\.toml: training_tokens: Input should be less than or equal to 9007199254740992"),
        (("end = 2026-04-20", "end = 2026-03-20"), r"^run\.toml: end: the run ends \(2026-03-20\) before it starts \(2026-04-01\)$"),
        (("end = 2026-04-20", 'end = "soon"'), r"^run\.toml: end: Input should be a valid date"),
        (('model = "acme-lm"', 'model = " acme"'), r"^run\.toml: model: must not start or end with spaces"),
        (('weight = 1', 'weight = 1\nsource = "web"'), r"^run\.toml: data_mix\[0\]: name exactly one of stage"),
        (('catalog = true', 'catalog = false'), r"^run\.toml: data_mix\[0\]: name exactly one of stage"),
    ],
)  # fmt: skip
def test_a_bad_run_file_names_the_file_and_the_line_or_field(change: tuple[str, str], message: str) -> None:
    text = run_toml(mix("catalog = true\nweight = 1"))
    assert change[0] in text
    with pytest.raises(RunError, match=message):
        parse_run(text.replace(change[0], change[1], 1), "run.toml")


def test_the_same_set_twice_in_a_mix_is_refused() -> None:
    with pytest.raises(RunError, match=r"data_mix: entry 1 names source 'web' again \(entry 0\)"):
        parse_run(run_toml(mix('source = "web"\nweight = 0.5', 'source = "web"\nweight = 0.5')))


def test_a_missing_or_undecodable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RunError, match=r"nope\.toml: no such file"):
        load_run(tmp_path / "nope.toml")
    (tmp_path / "latin1.toml").write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(RunError, match=r"latin1\.toml: not UTF-8 text \(byte 11\)"):
        load_run(tmp_path / "latin1.toml")


# -- recording ----------------------------------------------------------------------------------------------------


def test_a_stage_entry_commits_to_the_stage_record_and_its_kept_root(corpus: Corpus) -> None:
    run = parse_run(run_toml(mix('stage = "dedup"\nweight = 1')))
    index, record = record_run(corpus.ledger, run, catalog_dir=corpus.catalog)
    (entry,) = record.data_mix
    stage_index = next(r.index for r in corpus.ledger.records_of_kind("catalog.stage"))
    assert entry.record == stage_index and entry.shards == []
    assert entry.root == merkle.root(sorted(doc_id_of(t) for t in WEB[:3])).hex()
    assert entry.documents == 3 and entry.tokens == tokens_of(WEB[:3], corpus.catalog, corpus.ledger)
    assert corpus.ledger.record(index).entry.kind == "training.run"
    assert RunRecord.model_validate(corpus.ledger.record(index).body_json()) == record


def test_a_source_entry_commits_to_its_shards_and_the_root_over_their_doc_roots(corpus: Corpus) -> None:
    _, record = record_run(
        corpus.ledger, parse_run(run_toml(mix('source = "web"\nweight = 1'))), catalog_dir=corpus.catalog
    )
    (entry,) = record.data_mix
    web = [r for r in catalog_shards(corpus.ledger) if r.shard.source == "web"]
    assert len(web) == 3 and entry.shards == [r.index for r in web] and entry.record is None
    assert entry.root == merkle.root([bytes.fromhex(r.shard.doc_root) for r in web]).hex()
    assert entry.documents == len(WEB) and entry.tokens == tokens_of(WEB, corpus.catalog, corpus.ledger)


def test_a_catalog_entry_covers_every_shard(corpus: Corpus) -> None:
    _, record = record_run(
        corpus.ledger, parse_run(run_toml(mix("catalog = true\nweight = 1"))), catalog_dir=corpus.catalog
    )
    (entry,) = record.data_mix
    assert entry.shards == [r.index for r in catalog_shards(corpus.ledger)] and entry.catalog
    assert entry.documents == len(WEB) + len(BOOKS)
    assert entry.tokens == tokens_of(WEB + BOOKS, corpus.catalog, corpus.ledger)


def test_without_the_catalog_folder_tokens_are_not_known(corpus: Corpus) -> None:
    _, record = record_run(corpus.ledger, parse_run(run_toml(mix('source = "books"\nweight = 1'))))
    assert record.data_mix[0].tokens is None and record.data_mix[0].documents == len(BOOKS)


def test_trained_tokens_are_shares_of_the_run_or_epochs_of_the_set(corpus: Corpus) -> None:
    shares = run_toml(mix('stage = "dedup"\nweight = 0.25', 'source = "books"\nweight = 0.75'))
    _, by_share = record_run(corpus.ledger, parse_run(shares), catalog_dir=corpus.catalog)
    assert by_share.trained_tokens() == [250_000, 750_000]
    epochs = run_toml(
        mix('stage = "dedup"\nweight = 2', 'source = "books"\nweight = 1.5'), unit="epochs", name="pt-2"
    )
    _, by_epoch = record_run(corpus.ledger, parse_run(epochs), catalog_dir=corpus.catalog)
    books = tokens_of(BOOKS, corpus.catalog, corpus.ledger)
    assert by_epoch.trained_tokens() == [2 * by_epoch.data_mix[0].tokens, round(1.5 * books)]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            'stage = "dedupe"',
            r"^data_mix\[1\] \(stage 'dedupe'\): no stage named 'dedupe' \(recorded: dedup\)",
        ),
        (
            'source = "news"',
            r"^data_mix\[1\] \(source 'news'\): no source named 'news' \(registered: web, books\)",
        ),
    ],
)
def test_an_unknown_stage_or_source_names_the_entry_and_records_nothing(
    corpus: Corpus, entry: str, message: str
) -> None:
    size = corpus.ledger.size
    run = parse_run(run_toml(mix("catalog = true\nweight = 0.5", f"{entry}\nweight = 0.5")))
    with pytest.raises(RunError, match=message):
        record_run(corpus.ledger, run, catalog_dir=corpus.catalog)
    assert corpus.ledger.size == size


def test_a_source_without_documents_or_an_empty_catalog_is_refused(store_url: str) -> None:
    ledger = Ledger.create(store_url, "test.kiroku/ledger")
    register_source(ledger, Source(name="web", type=DataType.web_crawl))
    with pytest.raises(
        RunError, match=r"data_mix\[0\] \(source 'web'\): source 'web' has no documents in the catalog"
    ):
        record_run(ledger, parse_run(run_toml(mix('source = "web"\nweight = 1'))))
    with pytest.raises(RunError, match=r"data_mix\[0\] \(catalog\): the catalog holds no documents yet"):
        record_run(ledger, parse_run(run_toml(mix("catalog = true\nweight = 1"))))
    assert ledger.size == 1


def test_a_run_is_recorded_once(corpus: Corpus) -> None:
    run = parse_run(run_toml(mix("catalog = true\nweight = 1")))
    index, _ = record_run(corpus.ledger, run)
    size = corpus.ledger.size
    with pytest.raises(RunError, match=rf"run 'pt-1' of acme-lm@1\.0 is already recorded \(record {index}\)"):
        record_run(corpus.ledger, run)
    assert corpus.ledger.size == size
    record_run(corpus.ledger, run.model_copy(update={"version": "1.1"}))  # another version is another run
    assert corpus.ledger.size == size + 1


def test_a_recorded_run_is_proved_in_the_log(corpus: Corpus) -> None:
    index, _ = record_run(corpus.ledger, parse_run(run_toml(mix("catalog = true\nweight = 1"))))
    signer = Signer.generate("test.kiroku/ledger")
    corpus.ledger.checkpoint(signer)
    assert corpus.ledger.verify(signer.verifier()).size == corpus.ledger.size
    proof = corpus.ledger.inclusion_proof(index)
    leaf = corpus.ledger.record(index).leaf_hash
    assert merkle.verify_inclusion(leaf, index, corpus.ledger.size, proof, corpus.ledger.root())


def test_runs_are_found_by_name_model_version_or_both(corpus: Corpus) -> None:
    one = record_run(corpus.ledger, parse_run(run_toml(mix("catalog = true\nweight = 1"))))
    two = record_run(corpus.ledger, parse_run(run_toml(mix("catalog = true\nweight = 1"), name="sft-1")))
    three = record_run(corpus.ledger, parse_run(run_toml(mix("catalog = true\nweight = 1"), version="2.0")))
    assert list_runs(corpus.ledger) == [one, two, three]
    assert find_run(corpus.ledger, "sft-1") == two and find_run(corpus.ledger, "acme-lm@2.0") == three
    assert find_run(corpus.ledger, "acme-lm@1.0/pt-1") == one
    with pytest.raises(RunError, match=r"'pt-1' names 2 runs \(acme-lm@1\.0/pt-1, acme-lm@2\.0/pt-1\)"):
        find_run(corpus.ledger, "pt-1")
    with pytest.raises(RunError, match=r"no training run 'gpt' \(recorded: acme-lm@1\.0/pt-1, "):
        find_run(corpus.ledger, "gpt")


def test_a_run_built_in_python_is_validated_the_same_way() -> None:
    fields = {
        "name": "r", "model": "m", "version": "1", "methods": ["distillation"], "training_tokens": 10,
        "start": "2026-01-01", "end": "2026-01-02", "weight_unit": "share",
        "architecture": {"family": "f", "parameters": 5}, "data_mix": [{"catalog": True, "weight": 1}],
    }  # fmt: skip
    run = TrainingRun.model_validate(fields)
    assert run.compute_flops == 300 and run.compute_estimated and math.isclose(run.data_mix[0].weight, 1)


# -- the command line ---------------------------------------------------------------------------------------------


def test_cli_run_record_list_show(workspace: Path, tmp_path: Path) -> None:
    assert kiroku("source", "add", "web", "--type", "web_crawl", cwd=workspace).returncode == 0
    data = write_jsonl(tmp_path / "web.jsonl", WEB)
    assert kiroku("ingest", "jsonl", str(data), "--source", "web", cwd=workspace).returncode == 0
    ws = Workspace.find(workspace)
    with ws.ledger() as ledger:
        record_stage(ledger, ws.catalog_dir, "dedup", "catalog", [doc_id_of(t) for t in WEB[:4]])
    run_file = tmp_path / "run.toml"
    run_file.write_text(run_toml(mix('stage = "dedup"\nweight = 0.6', 'source = "web"\nweight = 0.4')))

    recorded = kiroku("run", "record", str(run_file), cwd=workspace)
    assert recorded.returncode == 0, recorded.stderr
    assert "Recorded run pt-1 of acme-lm@1.0 as record" in recorded.stdout
    assert "kept documents: stage 'dedup' 4, source 'web' 7;" in recorded.stdout
    assert "compute 6e+12 FLOPs (estimated as 6 x parameters x tokens)" in recorded.stdout

    shown = json.loads(kiroku("run", "show", "acme-lm@1.0", "--json", cwd=workspace).stdout)
    assert shown["compute_estimated"] is True and shown["methods"] == ["pre-training", "sft"]
    stage_entry, source_entry = shown["data_mix"]
    assert stage_entry["stage"] == "dedup" and stage_entry["documents"] == 4
    assert stage_entry["root"] == merkle.root(sorted(doc_id_of(t) for t in WEB[:4])).hex()
    assert source_entry["documents"] == len(WEB) and len(source_entry["shards"]) == 1
    assert [e["trained_tokens"] for e in shown["data_mix"]] == [600_000, 400_000]
    listed = json.loads(kiroku("run", "list", "--json", cwd=workspace).stdout)
    assert [(r["name"], r["record"]) for r in listed] == [("pt-1", shown["record"])]
    text = kiroku("run", "show", "pt-1", cwd=workspace).stdout
    assert "stage 'dedup'" in text and "600,000" in text and "estimated" in text

    again = kiroku("run", "record", str(run_file), cwd=workspace)
    assert again.returncode == 2 and "already recorded" in again.stderr


def test_cli_run_record_refuses_bad_files_with_one_line(workspace: Path, tmp_path: Path) -> None:
    run_file = tmp_path / "RUN.toml"
    run_file.write_text(run_toml(mix('stage = "dedup"\nweight = 0.5', 'source = "web"\nweight = -1')))
    bad = kiroku("run", "record", str(run_file), cwd=workspace)
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        f"kiroku: error: {run_file}: data_mix[1].weight: Input should be greater than 0 (got -1)"
    )
    run_file.write_text(run_toml(mix('stage = "dedup"\nweight = 1')))
    unknown = kiroku("run", "record", str(run_file), cwd=workspace)
    assert unknown.returncode == 2
    assert f"{run_file}: data_mix[0] (stage 'dedup'): no stage named 'dedup'" in unknown.stderr
    assert json.loads(kiroku("run", "list", "--json", cwd=workspace).stdout) == []


def test_cli_run_record_help_is_enough_to_write_a_run_file() -> None:
    help_text = kiroku("run", "record", "--help").stdout
    for needed in (
        "[architecture]",
        "[[data_mix]]",
        "weight_unit",
        "compute_flops",
        "preference-tuning",
        "catalog = true",
    ):
        assert needed in help_text
