"""The statement policy file: a valid file loads; a broken one is refused naming the file and the line or field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiroku.disclose import PolicyError, load_policy, load_regime, parse_policy

REGIME = load_regime("jp-aiip-2026-04")

POLICY = """
provenance = ["C2PA manifests on generated images"]
rightsholder_contact = "https://acme.example/rightsholders"

[firm]
name = "Acme AI K.K."
address = "1-2-3 Marunouchi, Chiyoda-ku, Tokyo"
contact = "compliance@acme.example"
services_in_japan = ["chat", "api"]

[scope]
compute_flops = 1e25
users_in_japan = 1_000_000

[users_in_japan]
acme-lm = 2_500_000
"acme-lm@2.0" = 3_000_000

[explanations.p1-provenance]
status = "partially"
en = "Generated images carry C2PA manifests; text outputs carry no watermark yet."
ja = "生成画像にはC2PAマニフェストを付与しているが、テキスト出力にはまだ電子透かしを付与していない。"
"""


def test_a_complete_policy_loads(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    policy = load_policy(path, REGIME)
    assert policy.firm.services_in_japan == ("chat", "api")
    assert policy.scope.compute_flops == 1e25 and policy.scope.parameters is None
    assert policy.users_in_japan == {"acme-lm": 2_500_000, "acme-lm@2.0": 3_000_000}
    explanation = policy.explanations["p1-provenance"]
    assert explanation.status == "partially" and "C2PA" in explanation.en and "電子透かし" in explanation.ja


def test_only_the_firm_is_required() -> None:
    policy = parse_policy("[firm]" + POLICY.split("[firm]")[1].split("[scope]")[0], REGIME)
    assert policy.scope.compute_flops is None and policy.explanations == {} and policy.provenance == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("[explanations.p1-provenance]", "[explanations.p4-music]"),
            r"explanations\.p4-music: jp-aiip-2026-04 has no requirement 'p4-music' \(its requirements: models, ",
        ),
        (
            ('en = "Generated', 'english = "Generated'),
            r"explanations\.p1-provenance\.en: required but missing",
        ),
        (('status = "partially"', 'status = "complies"'), r"explanations\.p1-provenance\.status"),
        (('name = "Acme AI K.K."\n', ""), r"firm\.name: required but missing"),
        (('services_in_japan = ["chat", "api"]', "services_in_japan = []"), r"firm\.services_in_japan"),
        (("compute_flops = 1e25", "compute_flops = -1"), r"scope\.compute_flops"),
        (("compute_flops = 1e25", "compute_flop = 1e25"), r"scope\.compute_flop: unknown field"),
        (("acme-lm = 2_500_000", 'acme-lm = "many"'), r"users_in_japan\.acme-lm"),
    ],
)
def test_a_broken_policy_names_the_field(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    assert change[0] in POLICY
    path = tmp_path / "policy.toml"
    path.write_text(POLICY.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(PolicyError, match=f"^{re.escape(str(path))}: {message}"):
        load_policy(path, REGIME)


def test_bad_toml_names_the_line_and_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[firm]\nname = "Acme\n', encoding="utf-8")
    with pytest.raises(PolicyError, match=rf"^{re.escape(str(path))}: line 2, column \d+: not valid TOML"):
        load_policy(path, REGIME)
    with pytest.raises(
        PolicyError, match=rf"^{re.escape(str(tmp_path / 'none.toml'))}: no such file; write the"
    ):
        load_policy(tmp_path / "none.toml", REGIME)
