"""Comply or explain: each requirement's status, decided from the evidence and the policy's explanations.

A requirement complies unless the evidence kiroku derived for it shows non-compliance (a finding) or the firm
declares otherwise. A finding makes the requirement "explains" (or "partially", if the firm says so) and the
statement cannot be built until the policy file explains it: `MissingExplanation` names the requirement, the
finding and the lines to add. A firm may also explain a requirement the record cannot judge (provenance measures,
say) by writing an explanation for it; its status is then the one the explanation gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from kiroku.disclose.errors import PolicyError
from kiroku.disclose.evidence import Evidence
from kiroku.disclose.policy import Explanation, Policy
from kiroku.disclose.regime import Requirement

__all__ = ["Answer", "MissingExplanation", "Status", "answer_requirement"]

Status = Literal["complies", "partially", "explains"]


class MissingExplanation(PolicyError):
    """The record shows a requirement is not complied with, and the policy file does not explain it."""


@dataclass(frozen=True)
class Answer:
    """A requirement's status, the evidence behind it, what the evidence shows wrong, and the firm's explanation."""

    requirement: Requirement
    status: Status
    evidence: tuple[Evidence, ...]
    findings: tuple[str, ...]
    explanation: Explanation | None


def answer_requirement(
    requirement: Requirement,
    evidence: Mapping[str, Evidence],
    policy: Policy,
    origin: str = "the policy file",
) -> Answer:
    """The status of ``requirement`` from its ``evidence`` (by key) and ``policy``.

    Raises `MissingExplanation` when the evidence shows non-compliance and ``policy`` has no explanation for it,
    and `KeyError` when an evidence key the requirement names was not derived (a caller's mistake).
    """
    mine = tuple(evidence[key] for key in requirement.evidence)
    findings = tuple(finding for item in mine for finding in item.findings)
    explanation = policy.explanations.get(requirement.id)
    if explanation is not None:
        return Answer(requirement, explanation.status, mine, findings, explanation)
    if findings:
        raise MissingExplanation(
            f"{requirement.id} ({requirement.title.en}): the record shows it is not complied with: "
            f"{'; '.join(findings)}. A statement must explain this: add to {origin}\n"
            f"    [explanations.{requirement.id}]\n"
            '    status = "explains"   # or "partially"\n'
            '    en = "..."\n'
            '    ja = "..."'
        )
    return Answer(requirement, "complies", mine, findings, None)
