"""The settings in kiroku.toml, validated with pydantic, and the commented template ``kiroku init`` writes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kiroku.ledger import RetentionPolicy
from kiroku.optout import OptoutPolicy
from kiroku.optout.blocklist import check_name
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
_PRODUCT_TOKEN = re.compile(r"[A-Za-z_-]+")


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
    """``[catalog]``: where the catalog's shard files and the indexes built from them live."""

    path: str = "catalog"
    index: str = "index"


class OptoutSettings(_Settings):
    """``[optout]``: what ingest does with documents whose site opted out, which AI agents count, the
    crawler's own robots.txt agent, and ``[optout.blocklists]``: list name -> file of domains never trained on."""

    policy: Literal["drop", "flag"] = "drop"
    agents: list[str] = Field(default_factory=lambda: list(DEFAULT_AGENTS))
    crawler_agent: str | None = None
    unreadable_tdmrep: Literal["reserved", "unset"] = "reserved"
    """A tdmrep.json that cannot be read reserves every page of its site ("reserved": an unreadable opt-out is
    never permission) or is ignored as the TDMRep report says ("unset"); for ingest and ``kiroku crawl``."""
    blocklists: dict[str, str] = Field(default_factory=dict)

    @field_validator("crawler_agent")
    @classmethod
    def _crawler_agent_is_a_product_token(cls, value: str | None) -> str | None:
        if value is not None and not _PRODUCT_TOKEN.fullmatch(value):
            raise ValueError("the crawler agent must be a robots.txt product token: letters, '-' and '_'")
        return value

    @field_validator("blocklists")
    @classmethod
    def _blocklists_are_named_files(cls, value: dict[str, str]) -> dict[str, str]:
        for name, path in value.items():
            check_name(name)
            if not path.strip():
                raise ValueError(f"blocklist {name!r} names no file")
        return value

    def to_policy(self) -> OptoutPolicy:
        """As the policy object ingest uses."""
        return OptoutPolicy(self.policy, tuple(self.agents), self.unreadable_tdmrep)

    def blocklist_files(self, root: Path) -> dict[str, Path]:
        """Each blocklist's file, relative paths taken from the workspace folder ``root``."""
        return {name: root / Path(path).expanduser() for name, path in self.blocklists.items()}


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
    optout = config.optout
    crawler_line = (
        f"crawler_agent = {_toml_string(optout.crawler_agent)}\n"
        if optout.crawler_agent
        else '# crawler_agent = "ExampleBot"\n'
    )
    blocklist_lines = "".join(f"{k} = {_toml_string(v)}\n" for k, v in optout.blocklists.items())
    blocklist_lines = blocklist_lines or '# piracy = "blocklists/piracy.txt"\n'
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
# Where indexes built from the catalog (the domain index) are kept; they can be rebuilt from the catalog.
index = {_toml_string(config.catalog.index)}

[optout]
# Documents whose site opts out of AI training (robots.txt captured with a WARC crawl, X-Robots-Tag or meta
# noai/noimageai, TDMRep) are dropped from the kept set ("drop") or kept and marked ("flag"); either way the
# reason is recorded with the document. See docs/optout.md.
policy = {_toml_string(config.optout.policy)}
# AI-training agents asked about in robots.txt, and whose agent-specific tags count (X-Robots-Tag: GPTBot: noai).
agents = [{", ".join(_toml_string(a) for a in config.optout.agents)}]
# Your crawler's robots.txt product token; unset, a WARC's warcinfo record (http-header-user-agent) names it.
{crawler_line}
# A tdmrep.json that cannot be parsed: "reserved" (every page of its site reserved: an unreadable opt-out is never
# taken as permission) or "unset" (ignored, as the TDMRep report reads it). For ingest and `kiroku crawl`.
unreadable_tdmrep = {_toml_string(config.optout.unreadable_tdmrep)}
[optout.blocklists]
# Domains never trained on (piracy sites, sites recognised as infringing): list name = file of domains, one per
# line, relative to this folder. Their pages are dropped with the reason blocklist:<name>, whatever the policy.
{blocklist_lines}
[retention]
# How long record bodies are kept; `kiroku log expire` then deletes them. Their digests stay in the log
# forever, so every proof still verifies. Periods are ISO 8601 (P10Y, P18M, P90D) or "forever".
default = {_toml_string(str(config.retention.get("default", "P10Y")))}

[retention.kinds]
# A period per record kind overrides the default, e.g.
{kind_lines}"""
