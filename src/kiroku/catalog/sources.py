"""Sources of training data, as the code asks for them: type, origin, licence, period, what they may hold.

A source is registered once, as a ledger record of kind ``source``; its name is how ingest, statements and
answers refer to it. The data types are the code's: public datasets, web crawls, third-party licensed data, user
data, synthetic data, other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kiroku.catalog.errors import SourceError
from kiroku.ledger import Ledger, LoggedRecord, register_kind

__all__ = ["DataType", "Source", "SourceError", "find_source", "list_sources", "register_source"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class DataType(StrEnum):
    """The types of training data the code distinguishes."""

    public_dataset = "public_dataset"
    web_crawl = "web_crawl"
    third_party_licensed = "third_party_licensed"
    user_data = "user_data"
    synthetic = "synthetic"
    other = "other"


class Source(BaseModel):
    """Record kind ``source``: one source of training data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Short unique name, e.g. 'acme-web-2026q2'.")
    type: DataType
    origin: str | None = Field(None, description="Where it comes from: a URL, a crawler, or a vendor.")
    licence: str | None = Field(None, description="Licence or terms under which it is used.")
    period_start: date | None = Field(None, description="First day of collection.")
    period_end: date | None = Field(None, description="Last day of collection.")
    personal_data: bool | None = Field(None, description="May it hold personal data? None: not assessed.")
    copyrighted_works: bool | None = Field(
        None, description="May it hold copyrighted works? None: not assessed."
    )
    generator_model: str | None = Field(None, description="For synthetic data: the model that generated it.")
    description: str | None = None

    @field_validator("name")
    @classmethod
    def _name_is_a_slug(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                "a source name is 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError(
                f"the collection period ends ({self.period_end}) before it starts ({self.period_start})"
            )
        if self.type is DataType.synthetic and not self.generator_model:
            raise ValueError("synthetic data needs the generating model (--generator)")
        if self.type is not DataType.synthetic and self.generator_model:
            raise ValueError("a generating model is only recorded for synthetic data")
        return self


register_kind("source", Source)


def _source_of(record: LoggedRecord) -> Source | None:
    body = record.body_json()
    return None if body is None else Source.model_validate(body)


def list_sources(ledger: Ledger) -> Iterator[tuple[int, Source]]:
    """Every registered source with the index of its record, in registration order."""
    for record in ledger.records_of_kind("source"):
        source = _source_of(record)
        if source is not None:
            yield record.index, source


def find_source(ledger: Ledger, name: str) -> tuple[int, Source]:
    """The source called ``name`` and its record index; `SourceError` if there is none."""
    for index, source in list_sources(ledger):
        if source.name == name:
            return index, source
    known = ", ".join(source.name for _, source in list_sources(ledger)) or "none yet"
    raise SourceError(f"no source named {name!r} (registered: {known}); add it with 'kiroku source add'")


def register_source(ledger: Ledger, source: Source) -> int:
    """Record ``source`` in the ledger; its name must be new. Returns the record's index."""
    for index, existing in list_sources(ledger):
        if existing.name == source.name:
            raise SourceError(f"a source named {source.name!r} is already registered (record {index})")
    return ledger.append("source", source)
