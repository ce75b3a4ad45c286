"""Regimes as data: the bundled April 2026 draft loads whole, and a broken regime file is refused by name and field."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from kiroku.disclose import EVIDENCE, RegimeError, bundled_regimes, load_regime

BUNDLED = resources.files("kiroku.disclose") / "regimes" / "jp-aiip-2026-04.toml"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def bundled_text() -> str:
    return BUNDLED.read_text(encoding="utf-8")


def test_the_april_2026_draft_is_bundled_with_every_requirement_the_issue_names() -> None:
    assert "jp-aiip-2026-04" in bundled_regimes()
    regime = load_regime("jp-aiip-2026-04")
    assert regime.name == "jp-aiip-2026-04"
    ids = [r.id for r in regime.requirements]
    for wanted in (
        "models",
        "architecture-training",
        "data-sources",
        "crawler",
        "retention",
        "p1-optouts",
        "p1-provenance",
        "p1-piracy",
        "p2-domains",
        "p3-trace",
        "inquiries",
    ):
        assert wanted in ids
    assert len(set(ids)) == len(ids)
    assert {r.tier for r in regime.requirements} == {"public", "regulator"}


def test_every_text_exists_in_both_languages() -> None:
    regime = load_regime("jp-aiip-2026-04")
    for text in (
        regime.title,
        regime.wording,
        *(t for r in regime.requirements for t in (r.title, r.summary)),
    ):
        assert text.en.strip() and not JAPANESE.search(text.en)
        assert JAPANESE.search(text.ja)


def test_every_evidence_key_is_one_kiroku_derives() -> None:
    regime = load_regime("jp-aiip-2026-04")
    used = {key for r in regime.requirements for key in r.evidence}
    assert used <= set(EVIDENCE)
    assert used == set(EVIDENCE)  # nothing kiroku derives goes unused by the draft


def test_a_file_by_path_loads_like_the_bundled_one(tmp_path: Path) -> None:
    path = tmp_path / "jp-aiip-2026-09.toml"
    path.write_text(bundled_text().replace('version = "2026-04"', 'version = "2026-09"'), encoding="utf-8")
    regime = load_regime(path)
    assert regime.name == "jp-aiip-2026-09"
    assert regime.requirement("p3-trace").tier == "public"


def test_an_unknown_requirement_id_names_the_known_ones() -> None:
    regime = load_regime("jp-aiip-2026-04")
    with pytest.raises(RegimeError, match=r"no requirement 'p4-music'.*models, architecture-training"):
        regime.requirement("p4-music")


def test_an_unknown_regime_name_lists_the_bundled_ones() -> None:
    with pytest.raises(RegimeError, match=r"no regime 'eu-ai-act'.*ships jp-aiip-2026-04"):
        load_regime("eu-ai-act")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('ja = "生成AIと知的財産に関するコード案（2026年4月版）"\n', ""),
            r"title\.ja: required but missing",
        ),
        (
            ('tier = "public"\nevidence = ["models"]', 'tier = "secret"\nevidence = ["models"]'),
            r"requirement\[0\]\.tier",
        ),
        (('evidence = ["models"]', 'evidence = ["model_weights"]'), r"unknown evidence 'model_weights'"),
        (('evidence = ["models"]', "evidence = []"), r"requirement\[0\]\.evidence"),
        (('id = "crawler"', 'id = "models"'), r"requirement id 'models' appears twice"),
        (
            (
                'principle = "disclosure"\ntier = "public"\nevidence = ["models"]',
                'principle = "disclosure"\ntier = "public"\nevidence = ["models"]\nweight = 2',
            ),
            r"requirement\[0\]\.weight: unknown field",
        ),
    ],
)
def test_a_broken_file_is_refused_naming_the_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = bundled_text()
    assert change[0] in text
    path = tmp_path / "regime.toml"
    path.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(RegimeError, match=f"^{re.escape(str(path))}: .*{message}"):
        load_regime(path)


def test_bad_toml_and_unreadable_files_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "regime.toml"
    path.write_text('id = "jp-aiip"\nversion = \n', encoding="utf-8")
    with pytest.raises(RegimeError, match=rf"^{re.escape(str(path))}: line 2, column \d+: not valid TOML"):
        load_regime(path)
    path.write_bytes(b'id = "\xff"\n')
    with pytest.raises(RegimeError, match="not UTF-8 text"):
        load_regime(path)
    with pytest.raises(RegimeError, match="no such file"):
        load_regime(tmp_path / "missing.toml")


def test_the_bundled_file_is_plain_toml() -> None:
    data = tomllib.loads(bundled_text())
    assert data["id"] == "jp-aiip" and data["version"] == "2026-04"
