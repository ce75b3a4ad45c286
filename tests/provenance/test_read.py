"""`read_provenance` on real images: C2PA training-and-data-mining, IPTC data mining and digital source type,
and damaged files that are recorded, never raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiroku.ledger import Signer
from kiroku.provenance import NotAnImage, read_provenance, sign_image
from tests.provenance.images import PLUS_VOCAB, SOURCE_TYPES, jpeg, png, sign_with_c2pa, training_mining, xmp

KEY = Signer.generate("test.kiroku/ledger")


def test_a_c2pa_training_mining_not_allowed_is_an_opt_out(tmp_path: Path) -> None:
    image = sign_with_c2pa(jpeg(tmp_path / "a.jpg"), tmp_path / "s.jpg", [training_mining(ai_training="notAllowed", ai_inference="allowed")], KEY)  # fmt: skip
    signals = read_provenance(image)
    assert signals.optout == ("c2pa:training-mining:notAllowed",)
    assert signals.c2pa.state == "valid" and signals.c2pa.claim_generator == "other-studio/2.0"
    assert signals.c2pa.signer is not None and "Other Studio" in signals.c2pa.signer
    assert not signals.synthetic


def test_a_c2pa_training_mining_allowed_everywhere_is_no_opt_out(tmp_path: Path) -> None:
    assertion = training_mining(
        ai_training="allowed", ai_generative_training="allowed", data_mining="allowed"
    )
    signals = read_provenance(sign_with_c2pa(png(tmp_path / "a.png"), tmp_path / "s.png", [assertion], KEY))
    assert signals.c2pa.present and signals.optout == ()
    assert {e.entry: e.use for e in signals.c2pa.training_mining}["c2pa.ai_training"] == "allowed"


def test_constrained_training_counts_as_an_opt_out_recorded_as_constrained(tmp_path: Path) -> None:
    image = sign_with_c2pa(jpeg(tmp_path / "a.jpg"), tmp_path / "s.jpg", [training_mining(ai_generative_training="constrained")], KEY)  # fmt: skip
    assert read_provenance(image).optout == ("c2pa:training-mining:constrained",)


def test_inference_not_allowed_alone_is_no_opt_out_from_training(tmp_path: Path) -> None:
    image = sign_with_c2pa(jpeg(tmp_path / "a.jpg"), tmp_path / "s.jpg", [training_mining(ai_inference="notAllowed")], KEY)  # fmt: skip
    assert read_provenance(image).optout == ()


def test_the_cawg_form_of_the_assertion_is_read_too(tmp_path: Path) -> None:
    assertion = training_mining("cawg.training-mining", data_mining="notAllowed")
    signals = read_provenance(sign_with_c2pa(jpeg(tmp_path / "a.jpg"), tmp_path / "s.jpg", [assertion], KEY))
    assert signals.optout == ("cawg:training-mining:notAllowed",)


def test_iptc_data_mining_prohibited_is_an_opt_out(tmp_path: Path) -> None:
    image = jpeg(tmp_path / "a.jpg", xmp(data_mining=PLUS_VOCAB + "DMI-PROHIBITED"))
    signals = read_provenance(image)
    assert signals.optout == ("iptc:data-mining-prohibited",)
    assert signals.iptc.data_mining == (PLUS_VOCAB + "DMI-PROHIBITED",)
    assert not signals.c2pa.present


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("DMI-PROHIBITED-AIMLTRAINING", "iptc:data-mining-prohibited-aimltraining"),
        ("DMI-PROHIBITED-GENAIMLTRAINING", "iptc:data-mining-prohibited-genaimltraining"),
        (
            "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING",
            "iptc:data-mining-prohibited-exceptsearchengineindexing",
        ),
    ],
)
def test_each_prohibited_variant_is_an_opt_out_naming_it(tmp_path: Path, value: str, reason: str) -> None:
    assert read_provenance(png(tmp_path / "a.png", xmp(data_mining=PLUS_VOCAB + value))).optout == (reason,)


@pytest.mark.parametrize("value", ["DMI-ALLOWED", "DMI-UNSPECIFIED"])
def test_data_mining_allowed_or_unspecified_is_no_opt_out(tmp_path: Path, value: str) -> None:
    assert read_provenance(jpeg(tmp_path / "a.jpg", xmp(data_mining=PLUS_VOCAB + value))).optout == ()


def test_a_data_mining_property_outside_the_plus_namespace_does_not_count(tmp_path: Path) -> None:
    packet = xmp(data_mining=PLUS_VOCAB + "DMI-PROHIBITED", plus_ns="http://example.com/not-plus/")
    assert read_provenance(jpeg(tmp_path / "a.jpg", packet)).optout == ()


@pytest.mark.parametrize("term", ["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"])
def test_iptc_digital_source_type_generative_ai_is_synthetic_not_an_opt_out(
    tmp_path: Path, term: str
) -> None:
    signals = read_provenance(jpeg(tmp_path / "a.jpg", xmp(source_type=SOURCE_TYPES + term)))
    assert signals.synthetic and signals.synthetic_why == (f"iptc:{term}",)
    assert signals.optout == ()


def test_a_digital_capture_is_not_synthetic(tmp_path: Path) -> None:
    assert not read_provenance(
        jpeg(tmp_path / "a.jpg", xmp(source_type=SOURCE_TYPES + "digitalCapture"))
    ).synthetic


def test_kirokus_own_signature_reads_back_as_synthetic_and_opted_out(tmp_path: Path) -> None:
    signed = sign_image(png(tmp_path / "gen.png"), tmp_path / "signed.png", key=KEY, organisation="Test Org")
    signals = read_provenance(signed.path)
    assert signals.optout == ("c2pa:training-mining:notAllowed",)
    assert signals.synthetic_why == ("c2pa:trainedAlgorithmicMedia",)
    assert signals.c2pa.claim_generator is not None and signals.c2pa.claim_generator.startswith("kiroku/")


def test_title_and_description_are_the_images_text(tmp_path: Path) -> None:
    signals = read_provenance(
        jpeg(tmp_path / "a.jpg", xmp(title="Harbour at dawn", description="Boats &amp; gulls"))
    )
    assert signals.text == "Harbour at dawn\nBoats & gulls"


def test_an_image_changed_after_signing_is_invalid_and_its_opt_out_still_honoured(tmp_path: Path) -> None:
    signed = sign_image(jpeg(tmp_path / "gen.jpg"), tmp_path / "signed.jpg", key=KEY).path
    data = bytearray(signed.read_bytes())
    data[-20] ^= 0xFF  # a byte of the entropy-coded pixels, covered by the manifest's data hash
    signals = read_provenance(bytes(data))
    assert signals.c2pa.state == "invalid"
    assert signals.c2pa.failures
    assert signals.optout == ("c2pa:training-mining:notAllowed",)


def test_a_corrupted_manifest_is_recorded_as_unreadable_not_raised(tmp_path: Path) -> None:
    data = bytearray(sign_image(jpeg(tmp_path / "gen.jpg"), tmp_path / "s.jpg", key=KEY).path.read_bytes())
    at = data.find(b"c2pa.training-mining")
    data[at + 40 : at + 60] = b"\xff" * 20
    signals = read_provenance(bytes(data))
    assert signals.c2pa.state == "unreadable" and signals.c2pa.error
    assert signals.media_type == "image/jpeg"
    assert signals.optout == ("c2pa:unreadable",)  # whatever it said cannot be read: never permission


def test_a_truncated_signed_image_is_recorded_not_raised(tmp_path: Path) -> None:
    data = sign_image(jpeg(tmp_path / "gen.jpg"), tmp_path / "s.jpg", key=KEY).path.read_bytes()
    signals = read_provenance(data[: len(data) // 2])
    assert signals.c2pa.state == "unreadable" and signals.optout == ("c2pa:unreadable",)
    assert signals.problems and signals.problems[0].startswith("image: truncated")


def test_an_xmp_packet_that_is_not_xml_is_a_problem_not_an_error(tmp_path: Path) -> None:
    signals = read_provenance(jpeg(tmp_path / "a.jpg", "<x:xmpmeta><broken"))
    assert signals.optout == () and signals.problems[0].startswith("xmp: not readable XML")


def test_a_file_that_is_not_an_image_raises_naming_it(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(NotAnImage, match=r"notes\.txt: not an image"):
        read_provenance(text)
    with pytest.raises(NotAnImage, match=r"missing\.jpg: no such file"):
        read_provenance(tmp_path / "missing.jpg")
