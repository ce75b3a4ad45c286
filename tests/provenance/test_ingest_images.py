"""``kiroku ingest images`` in a fresh workspace: catalog rows carry the images' opt-out reasons and the
workspace's policy drops or flags them; synthetic images are marked in the inventory, not as opt-outs."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kiroku.catalog.shards import doc_id_of
from kiroku.ledger import Signer
from kiroku.provenance import sign_image
from kiroku.workspace import Workspace
from tests.conftest import kiroku
from tests.provenance.images import PLUS_VOCAB, SOURCE_TYPES, jpeg, png, xmp


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    assert kiroku("init", str(root), "--org", "Test Org", "--origin", "test.kiroku/ledger").returncode == 0
    assert kiroku("source", "add", "photos", "--type", "third_party_licensed", cwd=root).returncode == 0
    return root


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Four images: plain, IPTC-prohibited, C2PA-signed by kiroku (notAllowed, synthetic), IPTC-synthetic."""
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    jpeg(folder / "plain.jpg", xmp(title="A plain photo"))
    jpeg(folder / "prohibited.jpg", xmp(data_mining=PLUS_VOCAB + "DMI-PROHIBITED-GENAIMLTRAINING"), (9, 9, 9))
    sign_image(
        png(folder / "sub" / "signed.png"), key=Signer.generate("x.test/ledger"), organisation="Gen Co"
    )
    png(
        folder / "sub" / "synthetic.png", xmp(source_type=SOURCE_TYPES + "trainedAlgorithmicMedia"), (7, 7, 7)
    )
    (folder / "README.txt").write_text("not an image, and not picked up from a folder")
    return folder


def rows(ws: Path) -> dict[str, dict[str, object]]:
    catalog = Workspace.open(ws).catalog_dir
    table = {}
    for docs in sorted(catalog.glob("*.docs.parquet")):
        for row in pq.read_table(docs).to_pylist():
            table[Path(row["external_id"]).name] = row
    return table


def test_images_become_documents_with_their_opt_outs_dropped_by_default(ws: Path, folder: Path) -> None:
    result = kiroku("ingest", "images", str(folder), "--source", "photos", cwd=ws)
    assert result.returncode == 0, result.stderr
    assert "4 image(s): 2 with an opt-out (policy drop), 2 synthetic" in result.stdout
    found = rows(ws)
    assert sorted(found) == ["plain.jpg", "prohibited.jpg", "signed.png", "synthetic.png"]
    assert found["plain.jpg"]["optout"] == [] and found["plain.jpg"]["kept"] is True
    assert found["prohibited.jpg"]["optout"] == ["iptc:data-mining-prohibited-genaimltraining"]
    assert found["prohibited.jpg"]["kept"] is False
    assert found["signed.png"]["optout"] == ["c2pa:training-mining:notAllowed"]
    assert found["signed.png"]["kept"] is False
    assert found["synthetic.png"]["optout"] == [] and found["synthetic.png"]["kept"] is True


def test_a_documents_text_names_the_image_by_content_then_its_caption(ws: Path, folder: Path) -> None:
    assert kiroku("ingest", "images", str(folder / "plain.jpg"), "--source", "photos", cwd=ws).returncode == 0
    (inventory,) = (ws / "inputs").glob("images-*.jsonl")
    entry = json.loads(inventory.read_text())
    text = f"[image image/jpeg sha256:{entry['sha256']}]\nA plain photo"
    assert rows(ws)["plain.jpg"]["doc_id"] == doc_id_of(text)


def test_the_inventory_records_synthetic_images_and_c2pa_states(ws: Path, folder: Path) -> None:
    assert kiroku("ingest", "images", str(folder), "--source", "photos", cwd=ws).returncode == 0
    (inventory,) = (ws / "inputs").glob("images-*.jsonl")
    entries = {Path(e["path"]).name: e for e in map(json.loads, inventory.read_text().splitlines())}
    assert entries["synthetic.png"]["synthetic"] == ["iptc:trainedAlgorithmicMedia"]
    assert entries["signed.png"]["synthetic"] == ["c2pa:trainedAlgorithmicMedia"]
    assert entries["signed.png"]["c2pa"]["state"] == "valid"
    assert entries["plain.jpg"]["synthetic"] == [] and entries["plain.jpg"]["c2pa"] == {"state": "absent"}


def test_the_flag_policy_keeps_opted_out_images_with_their_reasons(ws: Path, folder: Path) -> None:
    config = ws / "kiroku.toml"
    config.write_text(config.read_text().replace('policy = "drop"', 'policy = "flag"'))
    assert kiroku("ingest", "images", str(folder), "--source", "photos", cwd=ws).returncode == 0
    found = rows(ws)
    assert found["prohibited.jpg"]["kept"] is True
    assert found["prohibited.jpg"]["optout"] == ["iptc:data-mining-prohibited-genaimltraining"]


def test_ingesting_the_same_images_again_records_nothing(ws: Path, folder: Path) -> None:
    assert kiroku("ingest", "images", str(folder), "--source", "photos", cwd=ws).returncode == 0
    again = kiroku("ingest", "images", str(folder), "--source", "photos", cwd=ws)
    assert again.returncode == 0 and "already in the catalog" in again.stderr
    assert len(rows(ws)) == 4


@pytest.mark.parametrize("bad", ["README.txt", "missing.jpg"])
def test_bad_input_is_one_error_line_and_exit_2(ws: Path, folder: Path, bad: str) -> None:
    result = kiroku("ingest", "images", str(folder / bad), "--source", "photos", cwd=ws)
    assert result.returncode == 2
    stderr = result.stderr.strip()
    assert len(stderr.splitlines()) == 1 and stderr.startswith("kiroku: error: ") and bad in stderr
    assert rows(ws) == {}
