"""Comply or explain: a finding in the evidence needs an explanation; without one the statement is refused."""

from __future__ import annotations

import pytest

from kiroku.disclose import load_regime, parse_policy
from kiroku.disclose.evidence import Evidence
from kiroku.disclose.status import MissingExplanation, answer_requirement

REGIME = load_regime("jp-aiip-2026-04")
FIRM = """
[firm]
name = "Acme AI K.K."
address = "Tokyo"
contact = "compliance@acme.example"
services_in_japan = ["chat"]
"""
EXPLAINED = """
[explanations.p1-optouts]
status = "partially"
en = "Three pages crawled before robots.txt was cached were kept; they are removed from the next run."
ja = "robots.txtの取得前に収集した3ページが残っていたため、次回の学習から除外する。"
"""
FINDING = (
    "3 documents in the kept set carry an opt-out signal that was not honoured (by signal: robots:GPTBot: 3)"
)


def evidence(finding: str | None) -> dict[str, Evidence]:
    optouts = Evidence("optouts", {}, {}, (finding,) if finding else ())
    return {"optouts": optouts, "crawler": Evidence("crawler", {}, {})}


def test_no_finding_complies() -> None:
    answer = answer_requirement(REGIME.requirement("p1-optouts"), evidence(None), parse_policy(FIRM, REGIME))
    assert (answer.status, answer.findings, answer.explanation) == ("complies", (), None)
    assert [e.key for e in answer.evidence] == ["optouts", "crawler"]


def test_a_finding_without_explanation_refuses_the_statement_and_says_what_to_add() -> None:
    with pytest.raises(MissingExplanation) as caught:
        answer_requirement(
            REGIME.requirement("p1-optouts"), evidence(FINDING), parse_policy(FIRM, REGIME), "policy.toml"
        )
    message = str(caught.value)
    assert message.startswith(
        "p1-optouts (Machine-readable opt-outs honoured): the record shows it is not complied"
    )
    assert FINDING in message
    assert "add to policy.toml\n    [explanations.p1-optouts]" in message


def test_an_explanation_sets_the_status_it_gives() -> None:
    policy = parse_policy(FIRM + EXPLAINED, REGIME)
    answer = answer_requirement(REGIME.requirement("p1-optouts"), evidence(FINDING), policy)
    assert answer.status == "partially"
    assert answer.findings == (FINDING,)
    assert answer.explanation is not None and "robots.txt" in answer.explanation.ja


def test_a_firm_may_explain_what_the_record_cannot_judge() -> None:
    policy = parse_policy(
        FIRM + '[explanations.p1-provenance]\nen = "No watermark yet."\nja = "電子透かしは未導入。"\n', REGIME
    )
    provenance = {"provenance": Evidence("provenance", {"measures": []}, {"measures": []})}
    answer = answer_requirement(REGIME.requirement("p1-provenance"), provenance, policy)
    assert answer.status == "explains" and answer.findings == ()
