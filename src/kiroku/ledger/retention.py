"""Retention: how long a record's body is kept, as a policy setting.

Japan's draft code asks for records to be kept "within a reasonable range" without fixing the period, so the
period is configuration: a default and an override per record kind, each an ISO 8601 duration in years, months
and days (``P10Y``, ``P18M``, ``P90D``) or ``forever``. The end of each record's period is written beside the
record when it is appended; when it passes, `kiroku log expire` deletes the body and keeps the digest, so every
proof still verifies and the log shows which bodies ended and when.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel

from kiroku.ledger.records import register_kind

__all__ = ["FOREVER", "Period", "RetentionExpired", "RetentionPolicy"]

_DURATION = re.compile(r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")
FOREVER = "forever"


@dataclass(frozen=True)
class Period:
    """A calendar period of years, months and days."""

    years: int = 0
    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> Period | None:
        """Parse ``P<n>Y<n>M<n>D`` (any part may be left out) or ``forever`` (returns None)."""
        text = text.strip()
        if text.lower() == FOREVER:
            return None
        match = _DURATION.match(text.upper())
        if not match:
            raise ValueError(f"retention period {text!r} is not like 'P10Y', 'P18M', 'P90D' or 'forever'")
        years, months, days = (int(part or 0) for part in match.groups())
        return cls(years, months, days)

    def after(self, start: datetime) -> datetime:
        """The moment this period ends when it starts at ``start`` (month ends are clamped: Jan 31 + 1M = Feb 28)."""
        month_index = start.month - 1 + self.months + 12 * self.years
        year, month = start.year + month_index // 12, month_index % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day) + timedelta(days=self.days)

    def __str__(self) -> str:
        parts = [f"{n}{unit}" for n, unit in ((self.years, "Y"), (self.months, "M"), (self.days, "D")) if n]
        return "P" + ("".join(parts) or "0D")


@dataclass(frozen=True)
class RetentionPolicy:
    """How long record bodies are kept: a default period and overrides per kind (``None`` means forever)."""

    default: Period | None = None
    by_kind: Mapping[str, Period | None] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, table: Mapping[str, object]) -> RetentionPolicy:
        """Build from the ``[retention]`` table of kiroku.toml: ``default = "P10Y"`` and ``[retention.kinds]``."""
        unknown = set(table) - {"default", "kinds"}
        if unknown:
            raise ValueError(
                f"[retention]: unknown setting(s) {', '.join(sorted(unknown))}; use default, kinds"
            )
        default = table.get("default", FOREVER)
        kinds = table.get("kinds", {})
        if not isinstance(default, str):
            raise ValueError("[retention] default must be a string such as 'P10Y' or 'forever'")
        if not isinstance(kinds, Mapping) or not all(isinstance(v, str) for v in kinds.values()):
            raise ValueError("[retention.kinds] must map record kinds to periods such as 'P10Y'")
        return cls(Period.parse(default), {str(k): Period.parse(str(v)) for k, v in kinds.items()})

    def period_for(self, kind: str) -> Period | None:
        """The period that applies to records of ``kind``; the log's own ``retention.*`` records are kept forever."""
        if kind.startswith("retention."):
            return None
        return self.by_kind.get(kind, self.default)

    def to_mapping(self) -> dict[str, str]:
        """The policy as flat strings: ``default`` and ``kind:<name>`` (the form recorded in the ledger)."""

        def text(period: Period | None) -> str:
            return FOREVER if period is None else str(period)

        return {"default": text(self.default)} | {
            f"kind:{k}": text(v) for k, v in sorted(self.by_kind.items())
        }

    @classmethod
    def from_flat(cls, flat: Mapping[str, str]) -> RetentionPolicy:
        """Read back the form of `to_mapping`."""
        kinds = {k.removeprefix("kind:"): v for k, v in flat.items() if k.startswith("kind:")}
        return cls.from_mapping({"default": flat.get("default", FOREVER), "kinds": kinds})

    def expires_at(self, kind: str, time: datetime) -> datetime | None:
        """When the body of a record of ``kind`` made at ``time`` may be deleted (None: never)."""
        period = self.period_for(kind)
        return None if period is None else period.after(time)


class RetentionExpired(BaseModel):
    """Record kind ``retention.expired``: bodies deleted because their retention period ended.

    It names the bodies and the policy in force, so an audit can check from the log alone that no body was
    deleted before its period ended. Records of this kind are kept forever.
    """

    cutoff: str
    count: int
    index_runs: list[tuple[int, int]]
    """Runs ``[first, last]`` of the indexes whose bodies were deleted."""
    policy: dict[str, str]
    """The retention policy applied: ``default`` and ``kind:<name>`` periods (ISO 8601 or ``forever``)."""


register_kind("retention.expired", RetentionExpired)
