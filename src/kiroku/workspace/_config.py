"""The settings in kiroku.toml, validated with pydantic, and the commented template ``kiroku init`` writes."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kiroku.ledger import RetentionPolicy
from kiroku.optout import OptoutPolicy
from kiroku.optout.tags import DEFAULT_AGENTS

__all__ = [
    "CatalogSettings",
    "LogSettings",
    "OptoutSettings",
    "OrganisationSettings",
    "WorkspaceConfig",
    "render_config",
]

_ORIGIN = re.compile(r"^[^\s+]{1,255}$")


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganisationSettings(_Settings):
    """``[organisation]``: who keeps this record."""

    name: str = Field(min_length=1)


class LogSettings(_Settings):
    """``[log]``: the ledger's identity, store and keys."""

    origin: str
    store: str = "sqlite:///ledger.sqlite"
    signing_key: str = "keys/ledger.key"
    verifier_key: str = "keys/ledger.pub"

    @field_validator("origin")
    @classmethod
    def _origin_is_a_key_name(cls, value: str) -> str:
        if not _ORIGIN.match(value):
            raise ValueError("the origin must be 1 to 255 characters with no spaces and no '+'")
        return value


class CatalogSettings(_Settings):
    """``[catalog]``: where the catalog's shard files live."""

    path: str = "catalog"


class OptoutSettings(_Settings):
    """``[optout]``: what ingest does with documents whose site opted out, and which AI agents count."""

    policy: Literal["drop", "flag"] = "drop"
    agents: list[str] = Field(default_factory=lambda: list(DEFAULT_AGENTS))

    def to_policy(self) -> OptoutPolicy:
        """As the policy object ingest uses."""
        return OptoutPolicy(self.policy, tuple(self.agents))


class WorkspaceConfig(_Settings):
    """The whole of kiroku.toml."""

    organisation: OrganisationSettings
    log: LogSettings
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    optout: OptoutSettings = Field(default_factory=OptoutSettings)
    retention: dict[str, Any] = Field(default_factory=lambda: {"default": "P10Y"})

    @field_validator("retention")
    @classmethod
    def _retention_parses(cls, value: dict[str, Any]) -> dict[str, Any]:
        RetentionPolicy.from_mapping(value)
        return value

    def retention_policy(self) -> RetentionPolicy:
        """The ``[retention]`` table as a policy."""
        return RetentionPolicy.from_mapping(self.retention)


def _toml_string(value: str) -> str:
    # a JSON string literal is a valid TOML basic string
    return json.dumps(value, ensure_ascii=False)


def render_config(config: WorkspaceConfig) -> str:
    """kiroku.toml text for ``config``, with comments that explain each setting."""
    log = config.log
    kinds = config.retention.get("kinds", {})
    kind_lines = "".join(f"{k} = {_toml_string(v)}\n" for k, v in kinds.items()) or '# note = "P5Y"\n'
    return f"""\
# kiroku workspace: the verifiable record of what {config.organisation.name}'s models were trained on.
# See docs/workspace.md for every setting.

[organisation]
name = {_toml_string(config.organisation.name)}

[log]
# The log's name in every signed checkpoint, and the name of its signing key. Keep it stable and unique:
# regulators and rightsholders identify your ledger by it.
origin = {_toml_string(log.origin)}
# Where the ledger lives. The default is SQLite inside this folder; a team can share PostgreSQL, e.g.
#   store = "postgresql+psycopg://kiroku@db.internal/kiroku"
store = {_toml_string(log.store)}
# Ed25519 signing key (keep it secret, mode 0600) and its verifier key (give it to anyone who checks proofs).
signing_key = {_toml_string(log.signing_key)}
verifier_key = {_toml_string(log.verifier_key)}

[catalog]
# Where the catalog's shards (Parquet files of documents and their text) are written; relative to this folder.
path = {_toml_string(config.catalog.path)}

[optout]
# Documents whose page opts out of AI training (X-Robots-Tag or meta noai/noimageai, TDMRep) are dropped from the
# kept set ("drop") or kept and marked ("flag"); either way the reason is recorded with the document.
policy = {_toml_string(config.optout.policy)}
# AI-training agents whose agent-specific tags (X-Robots-Tag: GPTBot: noai) count.
agents = [{", ".join(_toml_string(a) for a in config.optout.agents)}]

[retention]
# How long record bodies are kept; `kiroku log expire` then deletes them. Their digests stay in the log
# forever, so every proof still verifies. Periods are ISO 8601 (P10Y, P18M, P90D) or "forever".
default = {_toml_string(str(config.retention.get("default", "P10Y")))}

[retention.kinds]
# A period per record kind overrides the default, e.g.
{kind_lines}"""
