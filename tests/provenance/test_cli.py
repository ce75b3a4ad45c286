"""``kiroku provenance sign`` and ``read`` in a real workspace; the signed image read back by c2pa's own Reader."""

from __future__ import annotations

import io
import json
from pathlib import Path

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kiroku.workspace import Workspace
from tests.conftest import kiroku
from tests.provenance.images import PLUS_VOCAB, jpeg, png, xmp


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    result = kiroku("init", str(root), "--org", "Test Org", "--origin", "test.kiroku/ledger")
    assert result.returncode == 0, result.stderr
    return root


def one_error_line(result: object) -> str:
    stderr: str = result.stderr.strip()  # type: ignore[attr-defined]
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("kiroku: error: ")
    return stderr


def test_sign_attaches_a_manifest_that_c2pas_reader_verifies_with_the_firms_key(
    ws: Path, tmp_path: Path
) -> None:
    image = png(tmp_path / "generated.png")
    result = kiroku("provenance", "sign", str(image), "--out", str(tmp_path / "signed.png"), cwd=ws)
    assert result.returncode == 0, result.stderr
    assert "trainedAlgorithmicMedia" in result.stdout and "notAllowed" in result.stdout

    with c2pa.Reader("image/png", io.BytesIO((tmp_path / "signed.png").read_bytes())) as reader:
        store = json.loads(reader.json())
    manifest = store["manifests"][store["active_manifest"]]
    assertions = {a["label"]: a["data"] for a in manifest["assertions"]}
    assert assertions["c2pa.actions.v2"]["actions"][0] == {
        "action": "c2pa.created",
        "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
    }
    assert assertions["c2pa.training-mining"]["entries"] == {
        entry: {"use": "notAllowed"}
        for entry in (
            "c2pa.ai_generative_training",
            "c2pa.ai_inference",
            "c2pa.ai_training",
            "c2pa.data_mining",
        )
    }
    assert manifest["claim_generator_info"][0]["name"] == "kiroku"
    assert (
        store["validation_state"] == "Valid"
    )  # signature and hashes verify; the firm's CA is on no trust list

    # the certificate kept in the workspace certifies the workspace's own key, and is the one that signed
    certificate = x509.load_pem_x509_certificate((ws / "keys" / "c2pa-signer.pem").read_bytes())
    raw = certificate.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert raw == Workspace.open(ws).verifier().public_key
    assert manifest["signature_info"]["alg"] == "Ed25519"
    assert int(manifest["signature_info"]["cert_serial_number"]) == certificate.serial_number
    assert image.read_bytes() != (tmp_path / "signed.png").read_bytes()


def test_signing_twice_uses_the_same_certificate_and_replaces_the_image_in_place(
    ws: Path, tmp_path: Path
) -> None:
    first, second = jpeg(tmp_path / "one.jpg"), jpeg(tmp_path / "two.jpg", colour=(1, 2, 3))
    assert kiroku("provenance", "sign", str(first), cwd=ws).returncode == 0
    pem = (ws / "keys" / "c2pa-signer.pem").read_text()
    assert kiroku("provenance", "sign", str(second), cwd=ws).returncode == 0
    assert (ws / "keys" / "c2pa-signer.pem").read_text() == pem
    shown = kiroku("provenance", "read", str(second), "--json")
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    assert body["optout"] == ["c2pa:training-mining:notAllowed"]
    assert body["synthetic"] is True and body["c2pa"]["state"] == "valid"


def test_read_shows_iptc_signals_as_text(tmp_path: Path) -> None:
    image = jpeg(tmp_path / "photo.jpg", xmp(data_mining=PLUS_VOCAB + "DMI-PROHIBITED", title="Harbour"))
    result = kiroku("provenance", "read", str(image))
    assert result.returncode == 0, result.stderr
    assert "iptc:data-mining-prohibited" in result.stdout and "title: Harbour" in result.stdout
    assert "no manifest" in result.stdout


def test_bad_input_is_one_error_line_and_exit_2(ws: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    for args in (
        ("provenance", "read", str(notes)),
        ("provenance", "read", str(tmp_path / "missing.png")),
        ("provenance", "sign", str(notes)),
        ("provenance", "sign", str(tmp_path / "missing.png")),
    ):
        result = kiroku(*args, cwd=ws)
        assert result.returncode == 2, (args, result.stderr)
        assert "notes.txt" in one_error_line(result) or "missing.png" in result.stderr


def test_a_certificate_for_another_key_is_refused_with_advice(ws: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert kiroku("init", str(other), "--org", "Other").returncode == 0
    assert kiroku("provenance", "sign", str(png(tmp_path / "a.png")), cwd=other).returncode == 0
    (ws / "keys" / "c2pa-signer.pem").write_bytes((other / "keys" / "c2pa-signer.pem").read_bytes())
    result = kiroku("provenance", "sign", str(png(tmp_path / "b.png")), cwd=ws)
    assert result.returncode == 2
    assert "c2pa-signer.pem: the certificate is not for the workspace's signing key" in one_error_line(result)
