"""OpenLineage RunEvents (Airflow, Spark, any producer): a COMPLETE run of a cleaning job becomes a stage.

An event file is JSON (one event, or an array of events) or JSON Lines (one event per line), as OpenLineage's
file transport and ``marquez`` exports write them. The spec's field names are used as they are: ``eventType``,
``eventTime``, ``run.runId``, ``job.namespace`` / ``job.name``, ``inputs`` / ``outputs`` with ``namespace``,
``name`` and ``facets``. For each COMPLETE event:

- the stage's name is ``job.name``, or the ``stage`` of a custom job facet ``kiroku``, or ``--stage``;
- the input set is the input dataset in namespace ``kiroku`` (name ``catalog`` or an earlier stage), or the
  ``input`` of the ``kiroku`` job facet, or ``--input``;
- the kept documents are read from the output dataset in namespace ``file`` whose name is a path (relative paths
  are taken from the event file's folder): JSON Lines, Parquet or plain ids, as ``kiroku stage record --kept``
  reads them; an output whose ``kiroku`` dataset facet says ``"role": "dropped"`` gives reasons for dropped ones;
- the parameters are the ``parameters`` of the ``kiroku`` job facet, and under ``openlineage`` the whole event
  as it came (run and job facets included), so nothing is dropped;
- the record's time is the event's ``eventTime``; ``via`` is ``openlineage``.

START, RUNNING and OTHER events are skipped with a note; a run with a FAIL or ABORT event records nothing. A
run already recorded under the same stage name (same ``runId``) is not recorded twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from kiroku.catalog.stages import Progress as StageProgress
from kiroku.catalog.stages import StageError, StageRecord, list_stages, read_id_file, record_stage
from kiroku.ingest._errors import IngestError
from kiroku.ledger import Ledger

__all__ = [
    "FACET",
    "OpenLineageError",
    "OpenLineageResult",
    "PlannedStage",
    "RunEvent",
    "ingest_openlineage",
    "plan_stages",
    "read_events",
]

FACET = "kiroku"
"""The custom facet (on the job, and on output datasets) through which a pipeline can speak to kiroku."""

_FILE_NAMESPACES = ("file",)
_KIROKU_NAMESPACE = "kiroku"


class OpenLineageError(IngestError):
    """An event cannot be used; the message names the file and the line (or the event's position)."""


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Dataset(_Open):
    """An input or output dataset: a namespace, a name unique in it, and facets."""

    namespace: str
    name: str
    facets: dict[str, JsonValue] = Field(default_factory=dict)


class Job(_Open):
    """The job a run executes: a namespace (usually the scheduler's), a name and facets."""

    namespace: str
    name: str
    facets: dict[str, JsonValue] = Field(default_factory=dict)


class Run(_Open):
    """The run: its id and facets."""

    run_id: str = Field(alias="runId")
    facets: dict[str, JsonValue] = Field(default_factory=dict)


class RunEvent(_Open):
    """An OpenLineage RunEvent (the fields kiroku reads; the rest is kept as it came)."""

    event_type: Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"] | None = Field(
        None, alias="eventType"
    )
    event_time: datetime = Field(alias="eventTime")
    run: Run
    job: Job
    inputs: list[Dataset] = Field(default_factory=list)
    outputs: list[Dataset] = Field(default_factory=list)
    producer: str
    schema_url: str = Field(alias="schemaURL")


@dataclass(frozen=True)
class LocatedEvent:
    """An event with where it was read: ``file: line N`` or ``file: event N``, and the JSON as it came."""

    where: str
    path: Path
    event: RunEvent
    raw: dict[str, Any]


@dataclass(frozen=True)
class PlannedStage:
    """What one COMPLETE event will record."""

    where: str
    name: str
    input: str
    kept: Path
    dropped: Path | None
    parameters: dict[str, Any]
    reason: str | None
    id_field: str
    run_id: str
    time: datetime


@dataclass
class OpenLineageResult:
    """What an ingest of event files did: the stages recorded, and notes on the events it skipped."""

    recorded: list[tuple[int, StageRecord]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _validated(where: str, path: Path, value: Any) -> LocatedEvent:
    if not isinstance(value, dict):
        raise OpenLineageError(f"{where}: an OpenLineage event is a JSON object, not {type(value).__name__}")
    try:
        event = RunEvent.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"])
        raise OpenLineageError(f"{where}: field {loc!r}: {first['msg']}") from exc
    return LocatedEvent(where, path, event, value)


def read_events(path: Path) -> list[LocatedEvent]:
    """The events of one ``.json`` (an event or an array of them) or ``.jsonl`` file, validated."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OpenLineageError(f"{path}: cannot read: {exc}") from exc
    if path.suffix == ".jsonl" or path.suffix == ".ndjson":
        events = []
        for number, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise OpenLineageError(
                    f"{path}: line {number}: not JSON ({exc.msg} at column {exc.colno})"
                ) from exc
            events.append(_validated(f"{path}: line {number}", path, value))
        return events
    try:
        value = json.loads(content)
    except json.JSONDecodeError as exc:
        raise OpenLineageError(
            f"{path}: line {exc.lineno}: not JSON ({exc.msg} at column {exc.colno})"
        ) from exc
    if isinstance(value, list):
        return [_validated(f"{path}: event {n}", path, item) for n, item in enumerate(value, start=1)]
    return [_validated(f"{path}: event 1", path, value)]


def _facet(facets: dict[str, JsonValue], where: str, what: str) -> dict[str, Any]:
    value = facets.get(FACET)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise OpenLineageError(f"{where}: the {what} facet {FACET!r} must be an object")
    return value


def _text(facet: dict[str, Any], key: str, where: str) -> str | None:
    value = facet.get(key)
    if value is not None and not isinstance(value, str):
        raise OpenLineageError(f"{where}: {FACET}.{key} must be a string")
    return value


def _input_set(located: LocatedEvent, facet: dict[str, Any], override: str | None) -> str:
    if override:
        return override
    if named := _text(facet, "input", located.where):
        return named
    ours = [d for d in located.event.inputs if d.namespace == _KIROKU_NAMESPACE]
    if len(ours) == 1:
        return ours[0].name
    given = ", ".join(f"{d.namespace}/{d.name}" for d in located.event.inputs) or "none"
    problem = "several inputs in namespace 'kiroku'" if ours else "cannot tell the input set"
    raise OpenLineageError(
        f"{located.where}: {problem} (inputs: {given}); give one input dataset with namespace 'kiroku' and "
        f"name 'catalog' or an earlier stage, the job facet {FACET}.input, or --input"
    )


def _local(located: LocatedEvent, dataset: Dataset) -> Path:
    path = Path(dataset.name)
    return path if path.is_absolute() else located.path.parent / path


def _outputs(located: LocatedEvent) -> tuple[Path, Path | None]:
    kept: list[Dataset] = []
    dropped: list[Dataset] = []
    for dataset in located.event.outputs:
        if dataset.namespace not in _FILE_NAMESPACES:
            continue
        role = _text(_facet(dataset.facets, located.where, "dataset"), "role", located.where) or "kept"
        if role not in ("kept", "dropped"):
            raise OpenLineageError(
                f"{located.where}: output {dataset.name}: {FACET}.role is 'kept' or 'dropped'"
            )
        (kept if role == "kept" else dropped).append(dataset)
    given = ", ".join(f"{d.namespace}/{d.name}" for d in located.event.outputs) or "none"
    if len(kept) != 1 or len(dropped) > 1:
        problem = (
            "no output file holds the kept ids" if not kept else "several output files could be the kept set"
        )
        if len(dropped) > 1:
            problem = "several outputs are marked as dropped"
        raise OpenLineageError(
            f"{located.where}: {problem} (outputs: {given}); the kept set is one output dataset with namespace "
            f"'file' and the file's path as name (mark others with the dataset facet {FACET}.role)"
        )
    return _local(located, kept[0]), _local(located, dropped[0]) if dropped else None


def _plan(located: LocatedEvent, stage: str | None, input: str | None, id_field: str) -> PlannedStage:
    event, where = located.event, located.where
    if event.event_time.utcoffset() is None:
        raise OpenLineageError(f"{where}: eventTime {event.event_time.isoformat()} has no timezone")
    facet = _facet(event.job.facets, where, "job")
    name = stage or _text(facet, "stage", where) or event.job.name
    parameters = facet.get("parameters", {})
    if not isinstance(parameters, dict):
        raise OpenLineageError(f"{where}: {FACET}.parameters must be an object")
    kept, dropped = _outputs(located)
    return PlannedStage(
        where=where,
        name=name,
        input=_input_set(located, facet, input),
        kept=kept,
        dropped=dropped,
        parameters={**parameters, "openlineage": located.raw},
        reason=_text(facet, "reason", where),
        id_field=_text(facet, "idField", where) or id_field,
        run_id=event.run.run_id,
        time=event.event_time,
    )


def plan_stages(
    events: Sequence[LocatedEvent],
    *,
    stage: str | None = None,
    input: str | None = None,
    id_field: str = "id",
) -> tuple[list[PlannedStage], list[str]]:
    """The stages the COMPLETE events call for, in order, and notes on the events that record nothing."""
    notes: list[str] = []
    failed: dict[str, LocatedEvent] = {}
    for located in events:
        if located.event.event_type in ("FAIL", "ABORT"):
            failed.setdefault(located.event.run.run_id, located)
    complete: list[LocatedEvent] = []
    for located in events:
        event = located.event
        kind = event.event_type or "untyped"
        if event.run.run_id in failed:
            ended = failed[event.run.run_id]
            if located is ended:
                notes.append(
                    f"{located.where}: run {event.run.run_id} of job {event.job.namespace}/{event.job.name} "
                    f"ended with {kind}: nothing recorded for it"
                )
            continue
        if kind != "COMPLETE":
            notes.append(
                f"{located.where}: {kind} event of run {event.run.run_id} skipped (only COMPLETE records)"
            )
            continue
        complete.append(located)
    if stage and len(complete) > 1:
        raise OpenLineageError(
            f"--stage names one stage, but the events hold {len(complete)} completed runs "
            f"({', '.join(c.where for c in complete)})"
        )
    planned = [_plan(located, stage, input, id_field) for located in complete]
    seen: dict[str, PlannedStage] = {}
    for plan in planned:
        if plan.name in seen and seen[plan.name].run_id != plan.run_id:
            raise OpenLineageError(
                f"{plan.where}: stage {plan.name!r} is also completed at {seen[plan.name].where}"
            )
        seen.setdefault(plan.name, plan)
    unique = [plan for plan in planned if seen[plan.name] is plan]
    return unique, notes


def _already_recorded(ledger: Ledger, plan: PlannedStage) -> int | None:
    for index, stage in list_stages(ledger):
        if stage.name != plan.name:
            continue
        event = stage.parameters.get("openlineage")
        run = event.get("run") if isinstance(event, dict) else None
        if stage.via == "openlineage" and isinstance(run, dict) and run.get("runId") == plan.run_id:
            return index
        raise OpenLineageError(
            f"{plan.where}: a stage named {plan.name!r} is already recorded (record {index}) from another run; "
            "name this one with the job facet kiroku.stage or --stage"
        )
    return None


def ingest_openlineage(
    ledger: Ledger,
    catalog_dir: Path,
    paths: Sequence[Path],
    *,
    stage: str | None = None,
    input: str | None = None,
    id_field: str = "id",
    progress: StageProgress | None = None,
) -> OpenLineageResult:
    """Record a stage for each completed run in the event files ``paths``.

    Every file is read and every event checked before anything is recorded; then the stages are recorded in
    order, each one ledger record. Raises `OpenLineageError` (an `IngestError`) naming the file and line.
    """
    events: list[LocatedEvent] = []
    for path in paths:
        if not path.is_file():
            raise OpenLineageError(f"{path}: no such file")
        events.extend(read_events(path))
    planned, notes = plan_stages(events, stage=stage, input=input, id_field=id_field)
    result = OpenLineageResult(notes=notes)
    for plan in planned:
        if (index := _already_recorded(ledger, plan)) is not None:
            result.notes.append(
                f"{plan.where}: run {plan.run_id} is already recorded as stage {plan.name!r} (record {index})"
            )
            continue
        try:
            kept = read_id_file(plan.kept, id_field=plan.id_field, progress=progress)
            dropped = (
                read_id_file(plan.dropped, id_field=plan.id_field, progress=progress)
                if plan.dropped
                else None
            )
            result.recorded.append(
                record_stage(
                    ledger,
                    catalog_dir,
                    plan.name,
                    plan.input,
                    kept,
                    dropped_reasons=dropped,
                    default_reason=plan.reason,
                    parameters=plan.parameters,
                    via="openlineage",
                    time=plan.time,
                    progress=progress,
                )
            )
        except StageError as exc:
            done = ", ".join(s.name for _, s in result.recorded)
            before = f" (recorded before it: {done})" if done else ""
            raise OpenLineageError(f"{plan.where}: stage {plan.name!r}: {exc}{before}") from exc
    return result
