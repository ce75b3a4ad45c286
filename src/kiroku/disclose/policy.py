"""The statement policy file: what the record cannot say, written once by the firm and checked against a regime.

Everything a statement reports that the ledger does not hold comes from this one TOML file: the firm (name,
address, contact, services offered in Japan), the "high-impact" thresholds (the code does not set them yet), each
model's users in Japan, the provenance measures, the rightsholders' contact point, and an explanation for every
requirement the firm does not fully comply with. Example::

    [firm]
    name = "Acme AI K.K."
    address = "1-2-3 Marunouchi, Chiyoda-ku, Tokyo"
    contact = "compliance@acme.example"
    services_in_japan = ["chat", "api"]

    [scope]                      # a model is high-impact when it reaches any of these
    compute_flops = 1e25
    parameters = 100_000_000_000
    users_in_japan = 1_000_000

    [users_in_japan]             # per model, the firm's own count
    acme-lm = 2_500_000

    [explanations.p1-provenance]
    status = "partially"
    en = "Generated images carry C2PA manifests; text outputs carry no watermark yet."
    ja = "生成画像にはC2PAマニフェストを付与しているが、テキスト出力にはまだ電子透かしを付与していない。"

`load_policy` checks the file against the regime the statement answers: an explanation for a requirement the
regime does not have is an error naming the field and the regime's requirement ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from kiroku._textfile import parse_user_toml, read_user_text
from kiroku.catalog.runs import validation_message
from kiroku.disclose.errors import PolicyError
from kiroku.disclose.regime import Regime

__all__ = ["Explanation", "Firm", "Policy", "ScopeThresholds", "load_policy", "parse_policy"]

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Firm(BaseModel):
    """The firm filing the statement."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: _Text
    address: _Text
    contact: _Text = Field(
        description="where the Cabinet Office and the public reach the firm (e-mail or URL)"
    )
    services_in_japan: tuple[_Text, ...] = Field(min_length=1, description="services offered in Japan")


class ScopeThresholds(BaseModel):
    """The thresholds that make a model "high-impact": reaching any one of them puts it in scope."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    compute_flops: float | None = Field(default=None, gt=0, description="training compute, in FLOPs")
    parameters: int | None = Field(default=None, gt=0)
    users_in_japan: int | None = Field(default=None, gt=0)


class Explanation(BaseModel):
    """Why the firm does not fully comply with one requirement, in both languages, and the status it claims."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["partially", "explains"] = "explains"
    en: _Text
    ja: _Text


class Policy(BaseModel):
    """The statement policy file, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    firm: Firm
    scope: ScopeThresholds = ScopeThresholds()
    users_in_japan: dict[_Text, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    provenance: tuple[_Text, ...] = Field(
        default=(), description="provenance and watermarking measures in use"
    )
    rightsholder_contact: _Text | None = Field(default=None, description="where rightsholders send inquiries")
    explanations: dict[str, Explanation] = Field(default_factory=dict)

    def check_against(self, regime: Regime, origin: str) -> None:
        """`PolicyError` when an explanation names a requirement ``regime`` does not have."""
        known = [r.id for r in regime.requirements]
        for ident in self.explanations:
            if ident not in known:
                raise PolicyError(
                    f"{origin}: explanations.{ident}: {regime.name} has no requirement {ident!r} "
                    f"(its requirements: {', '.join(known)})"
                )


def parse_policy(text: str, regime: Regime, origin: str = "policy.toml") -> Policy:
    """Parse and validate a policy file's text against ``regime``; errors start with ``origin`` and the line or
    field at fault."""
    data = parse_user_toml(text, origin, PolicyError)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"{origin}: {validation_message(exc)}") from exc
    policy.check_against(regime, origin)
    return policy


def load_policy(path: Path, regime: Regime) -> Policy:
    """Read and validate a policy file against ``regime``; `PolicyError` names the file and the line or field."""
    if not path.exists():
        raise PolicyError(
            f"{path}: no such file; write the statement policy there (the firm, thresholds, explanations: "
            "docs/statements.md shows one)"
        )
    return parse_policy(read_user_text(path, PolicyError), regime, str(path))
