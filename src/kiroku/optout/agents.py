"""The AI crawlers an opt-out check asks about: the ai.robots.txt project's list, bundled as reference data.

``data/ai-robots.json`` is the project's ``robots.json`` as published (`AGENT_LIST_SOURCE` names the
repository, the commit read and the day it was read; MIT licence, in ``data/ai-robots.LICENSE``). It is
data, not code: refresh it by copying a newer ``robots.json`` into the same wrapper.

Some names in the list are not bare product tokens (``Brightbot 1.0``, ``iaskspider/2.0``, ``bigsur.ai``).
`AiAgent.token` is the token a robots.txt group written for that name is read as (RFC 9309 and Google: the
leading run of letters, ``_`` and ``-``), so a site that copied the project's robots.txt is decided as it
meant to be.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["AGENT_LIST_SOURCE", "AgentListSource", "AiAgent", "bundled_agents", "find_agents"]

_TOKEN = re.compile(r"[A-Za-z_-]+")
_UNKNOWN_OPERATOR = "unclear at this time."  # how the list says it does not know
_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^\s)]+)\)")


@dataclass(frozen=True, slots=True)
class AgentListSource:
    """Where the bundled agent list comes from."""

    repository: str
    path: str
    commit: str
    read: str
    """The day the list was read (ISO 8601)."""
    licence: str
    copyright: str

    def describe(self) -> str:
        """One line naming the list: repository, file, commit, date and licence."""
        return (
            f"{self.repository} {self.path} at {self.commit[:12]} (read {self.read}; "
            f"{self.licence}, {self.copyright})"
        )


@dataclass(frozen=True, slots=True)
class AiAgent:
    """One AI crawler: its name as the list gives it and the list's notes on it."""

    name: str
    operator: str = ""
    respect: str = ""
    """Whether the list says it honours robots.txt (free text, often a Markdown link)."""
    function: str = ""
    description: str = ""
    frequency: str | None = None

    @property
    def operator_name(self) -> str:
        """Who runs it, as plain text (the list writes some as Markdown links: ``[OpenAI](https://openai.com)``);
        empty when the list says it is unclear."""
        name = _MARKDOWN_LINK.sub(r"\1", self.operator).strip()
        return "" if name.lower() == _UNKNOWN_OPERATOR else name

    @property
    def operator_url(self) -> str | None:
        """The operator's web address when the list links it, else None."""
        found = _MARKDOWN_LINK.search(self.operator)
        return found.group(2) if found else None

    @property
    def token(self) -> str:
        """The product token robots.txt groups are matched by (``Brightbot 1.0`` -> ``Brightbot``)."""
        match = _TOKEN.match(self.name.strip())
        return match.group(0) if match else self.name


def _load() -> dict[str, Any]:
    text = resources.files("kiroku.optout").joinpath("data/ai-robots.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def bundled_agents() -> tuple[AiAgent, ...]:
    """The bundled list, in its published order."""
    return tuple(
        AiAgent(
            name=name,
            operator=str(notes.get("operator", "")),
            respect=str(notes.get("respect", "")),
            function=str(notes.get("function", "")),
            description=str(notes.get("description", "")),
            frequency=str(notes["frequency"]) if notes.get("frequency") is not None else None,
        )
        for name, notes in _load()["agents"].items()
    )


def find_agents(names: list[str] | tuple[str, ...]) -> tuple[AiAgent, ...]:
    """The agents called ``names`` (any case): the bundled entry when the list has one, else a bare agent of
    that name; each once, in the order given."""
    by_name = {agent.name.lower(): agent for agent in bundled_agents()}
    chosen: dict[str, AiAgent] = {}
    for name in names:
        name = name.strip()
        if name and name.lower() not in chosen:
            chosen[name.lower()] = by_name.get(name.lower(), AiAgent(name=name))
    return tuple(chosen.values())


def _source() -> AgentListSource:
    source = _load()["source"]
    return AgentListSource(
        repository=source["repository"],
        path=source["path"],
        commit=source["commit"],
        read=source["read"],
        licence=source["licence"],
        copyright=source["copyright"],
    )


AGENT_LIST_SOURCE: AgentListSource = _source()
"""The repository, commit, date read and licence of the bundled list."""
