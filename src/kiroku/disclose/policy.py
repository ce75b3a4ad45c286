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

    [training_data]              # for the EU summary and California's AB 2013 items
    languages = ["ja", "en"]
    content_types = "news and blog articles, technical documentation, synthetic question-answer pairs"
    purpose = "a general-purpose Japanese and English assistant; the data teaches both languages and coding"
    cleaning_purpose = "remove boilerplate, low-quality and duplicated text, so the model learns from prose"
    aggregate_consumer_information = false
    illegal_content = "piracy sites blocklisted before crawling; CSAM hash-matched and removed"
    crawler_purposes = "collecting public web pages to train the firm's language models"

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

__all__ = [
    "Explanation",
    "Firm",
    "Policy",
    "ScopeThresholds",
    "TrainingDataDeclarations",
    "load_policy",
    "parse_policy",
]

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


class TrainingDataDeclarations(BaseModel):
    """What the EU summary of training content and California's AB 2013 ask about the training data that the
    ledger cannot say: the firm declares it once here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    languages: tuple[_Text, ...] = Field(min_length=1, description="languages of the training data (EU 1.3)")
    content_types: _Text = Field(description="the types of content, e.g. news, fiction, code (EU 1.3)")
    purpose: _Text = Field(
        description="how the datasets further the intended purpose of the model or service (AB 2013 item 2)"
    )
    cleaning_purpose: _Text = Field(
        description="why the data was cleaned or processed, in relation to the model (AB 2013 item 9)"
    )
    aggregate_consumer_information: bool = Field(
        description="whether the datasets include aggregate consumer information (AB 2013 item 8)"
    )
    illegal_content: _Text = Field(description="measures to avoid or remove illegal content (EU 3.2)")
    crawler_purposes: _Text | None = Field(
        default=None,
        description="what the crawlers collect data for (EU 2.3; needed when a web crawl is used)",
    )
    sme: bool = Field(
        default=False,
        description="an SME lists the top 5% of crawled domains or 1,000, not the top 10% (EU 2.3)",
    )
    authorised_representative: _Text | None = Field(
        default=None, description="the authorised representative in the Union, if any (EU 1.1)"
    )
    other_information: _Text | None = Field(default=None, description="anything else to state (EU 3.3)")


TRAINING_DATA_EXAMPLE = """[training_data]
languages = ["ja", "en"]                       # languages of the training data
content_types = "..."                          # types of content: news, fiction, code, ...
purpose = "..."                                # how the datasets further the model's intended purpose
cleaning_purpose = "..."                       # why the data was cleaned or processed
aggregate_consumer_information = false         # California Civil Code 1798.140
illegal_content = "..."                        # measures to avoid or remove illegal content
crawler_purposes = "..."                       # what the crawlers collect data for (with a web crawl)"""


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
    training_data: TrainingDataDeclarations | None = None

    def declarations(self, origin: str) -> TrainingDataDeclarations:
        """The ``[training_data]`` declarations; `PolicyError` showing the lines to add when they are missing."""
        if self.training_data is None:
            raise PolicyError(
                f"{origin}: [training_data] is missing; the EU summary and California's AB 2013 items need what "
                f"the ledger cannot say about the training data. Add:\n{TRAINING_DATA_EXAMPLE}"
            )
        return self.training_data

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
