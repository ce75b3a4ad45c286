"""Model releases: when a model version went into which service, and when it was withdrawn.

Each event is one record of kind ``model.release`` (`ModelRelease`). Events for one model version in one service
alternate release, withdraw, release, ... and go forward in date: a version is not released twice into a service
it is already in, and nothing is withdrawn that is not in service. `service_periods` turns the events into
periods in service; `models_in_service` answers "which models were in use over this reporting period, and what
changed", as a statement needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from kiroku.catalog.errors import ReleaseError
from kiroku.catalog.runs import Label, list_runs, runs_of
from kiroku.ledger import Ledger, register_kind

__all__ = [
    "ModelRelease",
    "ModelVersion",
    "ReleaseAction",
    "ReleaseError",
    "ServicePeriod",
    "list_releases",
    "model_versions",
    "models_in_service",
    "record_release",
    "service_periods",
]


class ReleaseAction(StrEnum):
    """What happened to the model version in the service."""

    release = "release"
    withdraw = "withdraw"


class ModelRelease(BaseModel):
    """Record kind ``model.release``: a model version entered or left a service on a date."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: Label
    version: Label
    service: Label = Field(description="The product or API the model serves, e.g. 'chat', 'api-eu'.")
    date: date
    action: ReleaseAction
    runs: list[int] = Field(
        default_factory=list, description="The training.run records of this model version when recorded."
    )
    notes: str | None = None


register_kind("model.release", ModelRelease)


@dataclass(frozen=True)
class ServicePeriod:
    """A model version's time in one service: released on a date, withdrawn on another (or still in service)."""

    model: str
    version: str
    service: str
    released: date
    release_record: int
    runs: tuple[int, ...]
    withdrawn: date | None = None
    withdraw_record: int | None = None

    def overlaps(self, start: date, end: date) -> bool:
        """In service at some time from ``start`` to ``end`` (inclusive), or withdrawn within it."""
        return self.released <= end and (self.withdrawn is None or self.withdrawn >= start)


@dataclass(frozen=True)
class ModelVersion:
    """A model version known to the ledger, its training runs and its periods in service."""

    model: str
    version: str
    runs: tuple[int, ...] = ()
    periods: tuple[ServicePeriod, ...] = field(default=())


def list_releases(ledger: Ledger) -> list[tuple[int, ModelRelease]]:
    """Every release and withdrawal with its record index, oldest first (expired bodies left out)."""
    events = []
    for record in ledger.records_of_kind("model.release"):
        body = record.body_json()
        if body is not None:
            events.append((record.index, ModelRelease.model_validate(body)))
    return events


def service_periods(ledger: Ledger) -> list[ServicePeriod]:
    """The periods in service that the events make, ordered by release record."""
    periods: dict[int, ServicePeriod] = {}
    open_: dict[tuple[str, str, str], int] = {}
    for index, event in list_releases(ledger):
        key = (event.model, event.version, event.service)
        if event.action is ReleaseAction.release and key not in open_:
            periods[index] = ServicePeriod(*key, event.date, index, tuple(event.runs))
            open_[key] = index
        elif event.action is ReleaseAction.withdraw and key in open_:
            start = open_.pop(key)
            periods[start] = ServicePeriod(
                *key, periods[start].released, start, periods[start].runs, event.date, index
            )
    return [periods[index] for index in sorted(periods)]


def _last_event(ledger: Ledger, model: str, version: str, service: str) -> tuple[int, ModelRelease] | None:
    last = None
    for index, event in list_releases(ledger):
        if (event.model, event.version, event.service) == (model, version, service):
            last = (index, event)
    return last


def record_release(
    ledger: Ledger,
    model: str,
    version: str,
    service: str,
    *,
    on: date,
    action: ReleaseAction = ReleaseAction.release,
    notes: str | None = None,
) -> tuple[int, ModelRelease]:
    """Record that ``model@version`` entered (or, with ``action=withdraw``, left) ``service`` on ``on``.

    The record names the training runs recorded for that model version. `ReleaseError` (nothing appended) for
    a release into a service the version is already in, a withdrawal of a version not in that service, or a
    date before the last event of the version in that service.
    """
    event = ModelRelease(
        model=model,
        version=version,
        service=service,
        date=on,
        action=action,
        runs=[index for index, _ in runs_of(ledger, model, version)],
        notes=notes,
    )
    what = f"{model}@{version}"
    last = _last_event(ledger, model, version, service)
    in_service = last is not None and last[1].action is ReleaseAction.release
    if action is ReleaseAction.withdraw and last is None:
        raise ReleaseError(f"{what} was never released in service {service!r}; nothing to withdraw")
    if last is not None:
        index, previous = last
        if action is ReleaseAction.withdraw and not in_service:
            raise ReleaseError(
                f"{what} was already withdrawn from service {service!r} on {previous.date} (record {index})"
            )
        if action is ReleaseAction.release and in_service:
            raise ReleaseError(
                f"{what} is already in service {service!r} since {previous.date} (record {index}); "
                "withdraw it first to record a new release"
            )
        if on < previous.date:
            raise ReleaseError(
                f"{what} has a later event in service {service!r}: {previous.action.value} on {previous.date} "
                f"(record {index}); events of a version in a service are recorded in date order"
            )
    return ledger.append("model.release", event), event


def models_in_service(ledger: Ledger, start: date, end: date) -> list[ServicePeriod]:
    """The periods in service that touch ``start``..``end`` (inclusive): each model version in use at some time
    in the period, with its release and withdrawal dates (which tell what changed within the period)."""
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    return [period for period in service_periods(ledger) if period.overlaps(start, end)]


def model_versions(ledger: Ledger, periods: list[ServicePeriod] | None = None) -> list[ModelVersion]:
    """Every model version with a training run or a release, in the order first recorded, with its periods.

    Given ``periods`` (those of `models_in_service`, say), only the versions with one of them are listed.
    """
    runs = list_runs(ledger)
    chosen = service_periods(ledger) if periods is None else periods
    first: dict[tuple[str, str], int] = {}
    for period in chosen:
        first.setdefault((period.model, period.version), period.release_record)
    for index, run in runs:
        key = (run.model, run.version)
        if periods is None or key in first:
            first[key] = min(first.get(key, index), index)
    return [
        ModelVersion(
            model,
            version,
            tuple(index for index, run in runs if (run.model, run.version) == (model, version)),
            tuple(period for period in chosen if (period.model, period.version) == (model, version)),
        )
        for model, version in sorted(first, key=first.__getitem__)
    ]
