"""Training runs: the model, its architecture and methods, its compute, and the exact data it trained on.

A run is described in a TOML file (``docs/examples/run.toml``); `load_run` reads and validates it into a
`TrainingRun`. `record_run` resolves each entry of the data mix to what the ledger commits to at that moment (a
cleaning stage's kept set, or the shards of a source or of the whole catalog) and appends one record of kind
``training.run``: a `RunRecord`, the run with each mix entry's commitment (`ResolvedMix`). A run, known by
model, version and run name, is recorded once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self

import duckdb
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kiroku._textfile import parse_user_toml, read_user_text
from kiroku.catalog import _duck as duck
from kiroku.catalog.errors import RunError
from kiroku.catalog.sources import SourceError, find_source
from kiroku.catalog.stages import StageError, StageRecord, find_stage, read_lineage
from kiroku.catalog.stats import RecordedShard, catalog_shards, docs_files
from kiroku.ledger import Ledger, merkle, register_kind

__all__ = [
    "MAX_COUNT",
    "Architecture",
    "Label",
    "MixEntry",
    "ResolvedMix",
    "RunError",
    "RunRecord",
    "TrainingMethod",
    "TrainingRun",
    "WeightUnit",
    "find_run",
    "list_runs",
    "load_run",
    "parse_run",
    "record_run",
    "resolve_mix",
    "runs_of",
    "validation_message",
]


MAX_COUNT = 2**53
"""Counts above this cannot be carried exactly in canonical JSON (RFC 8785)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _label(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    if value != value.strip() or _CONTROL.search(value):
        raise ValueError("must not start or end with spaces or hold control characters")
    if len(value) > 200:
        raise ValueError("must be at most 200 characters")
    return value


Label = Annotated[str, AfterValidator(_label)]
"""A name as people write it (model, version, run, stage, service): non-empty, trimmed, one line."""


def _count_of(value: object) -> int | None:
    """``value`` as a valid count, or None (its field's own validation will say what is wrong)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value) if value == int(value) and 0 < value <= MAX_COUNT else None


def _not_a_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


Count = Annotated[int, BeforeValidator(_not_a_bool), Field(gt=0, le=MAX_COUNT)]
"""A positive whole number that canonical JSON carries exactly; ``7e9`` is taken, ``true`` is not."""


class TrainingMethod(StrEnum):
    """How a model was trained, in the code's terms."""

    pre_training = "pre-training"
    continued_pre_training = "continued-pre-training"
    sft = "sft"
    preference_tuning = "preference-tuning"
    """RLHF, DPO and the like."""
    distillation = "distillation"
    other = "other"


class WeightUnit(StrEnum):
    """What a data mix entry's weight means."""

    share = "share"
    """The entry's share of the training tokens; the shares sum to 1."""
    epochs = "epochs"
    """How many times the entry's kept documents were seen."""


class Architecture(BaseModel):
    """An outline of the model's architecture."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Label = Field(description="e.g. 'decoder-only transformer', 'mixture-of-experts transformer'.")
    parameters: Count = Field(description="Number of parameters (total, for MoE).")
    layers: Count | None = None
    context_length: Count | None = Field(None, description="Context length in tokens.")
    notes: str | None = Field(None, description="Anything else: attention, tokenizer, experts, ...")


class MixEntry(BaseModel):
    """One entry of a data mix as the run file gives it: what was trained on, and its weight."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: Label | None = Field(None, description="A recorded cleaning stage: its kept documents.")
    source: Label | None = Field(None, description="A registered source: every kept document of its shards.")
    catalog: bool = Field(False, description="True: every kept document of the catalog.")
    weight: float = Field(gt=0, allow_inf_nan=False, description="A share of the tokens, or epochs.")

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        given = [self.stage is not None, self.source is not None, self.catalog]
        if sum(given) != 1:
            raise ValueError("name exactly one of stage = 'NAME', source = 'NAME' or catalog = true")
        return self

    def describe(self) -> str:
        """What the entry names, for messages and tables: ``stage 'dedup'``, ``source 'wiki'``, ``catalog``."""
        if self.stage is not None:
            return f"stage {self.stage!r}"
        if self.source is not None:
            return f"source {self.source!r}"
        return "catalog"


def _check_mix(entries: Sequence[MixEntry], info: ValidationInfo) -> None:
    seen: dict[str, int] = {}
    for position, entry in enumerate(entries):
        if entry.describe() in seen:
            raise ValueError(
                f"entry {position} names {entry.describe()} again (entry {seen[entry.describe()]}); "
                "give each set once with its whole weight"
            )
        seen[entry.describe()] = position
    if info.data.get("weight_unit") is WeightUnit.share:
        total = math.fsum(entry.weight for entry in entries)
        if abs(total - 1) > 1e-6:
            raise ValueError(
                f"the weights are shares of the training tokens (weight_unit = 'share') and sum to {total:.9g}, "
                "not 1; correct them, or set weight_unit = 'epochs'"
            )


class _RunFacts(BaseModel):
    """What a run file and a run record share: everything but the data mix."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Label = Field(description="The run's name, e.g. 'pretrain-1'.")
    model: Label = Field(description="The model's name, e.g. 'acme-lm'.")
    version: Label = Field(description="The model version this run produced, e.g. '2.0'.")
    description: str | None = None
    architecture: Architecture
    methods: list[TrainingMethod] = Field(min_length=1)
    training_tokens: Count = Field(description="Tokens seen in training, repeats included.")
    compute_flops: float = Field(
        gt=0,
        allow_inf_nan=False,
        description="Training compute in FLOPs; if not given, 6 x parameters x tokens.",
    )
    compute_estimated: bool = Field(
        False,
        description="True when compute_flops is the estimate 6 x parameters x tokens, not a measurement.",
    )
    start: date
    end: date
    hardware: str | None = Field(None, description="e.g. '512 x H100 80GB, 21 days'.")
    weight_unit: WeightUnit

    @model_validator(mode="before")
    @classmethod
    def _estimate_compute(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("compute_flops") is not None:
            return data
        architecture = data.get("architecture")
        parameters = (
            architecture.get("parameters")
            if isinstance(architecture, dict)
            else getattr(architecture, "parameters", None)
        )
        parameters, tokens = _count_of(parameters), _count_of(data.get("training_tokens"))
        if parameters is not None and tokens is not None:
            return {**data, "compute_flops": float(6 * parameters * tokens), "compute_estimated": True}
        return data  # architecture.parameters or training_tokens is wrong: reported on its own field first

    @field_validator("methods")
    @classmethod
    def _distinct_methods(cls, methods: list[TrainingMethod]) -> list[TrainingMethod]:
        if len(set(methods)) != len(methods):
            raise ValueError("a method is listed twice")
        return methods

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start")
        if isinstance(start, date) and end < start:
            raise ValueError(f"the run ends ({end}) before it starts ({start})")
        return end

    @property
    def model_version(self) -> str:
        """``model@version``."""
        return f"{self.model}@{self.version}"

    @property
    def ident(self) -> str:
        """``model@version/name``: what names this run uniquely."""
        return f"{self.model}@{self.version}/{self.name}"


class TrainingRun(_RunFacts):
    """A training run as its TOML file describes it: the run and its data mix, not yet resolved."""

    data_mix: list[MixEntry] = Field(min_length=1)

    @field_validator("data_mix")
    @classmethod
    def _valid_mix(cls, entries: list[MixEntry], info: ValidationInfo) -> list[MixEntry]:
        _check_mix(entries, info)
        return entries


class ResolvedMix(MixEntry):
    """A data mix entry with the commitment it resolved to when the run was recorded.

    For a stage: ``record`` is the stage's ledger record and ``root`` its kept set's Merkle root. For a source
    or the catalog: ``shards`` are the ledger indexes of the ``catalog.shard`` records covered (in log order)
    and ``root`` is the RFC 9162 Merkle root over their ``doc_root`` values (32 bytes each) as leaves.
    """

    record: int | None = Field(None, description="The stage's ledger record index.")
    shards: list[int] = Field(default_factory=list, description="Ledger indexes of the shards covered.")
    root: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hex Merkle root the entry committed to.")
    documents: int = Field(ge=0, description="Kept documents in the set.")
    tokens: int | None = Field(None, ge=0, description="Tokens of the kept documents, when known.")


class RunRecord(_RunFacts):
    """Record kind ``training.run``: a validated run and, for each mix entry, what it resolved to."""

    data_mix: list[ResolvedMix] = Field(min_length=1)

    @field_validator("data_mix")
    @classmethod
    def _valid_mix(cls, entries: list[ResolvedMix], info: ValidationInfo) -> list[ResolvedMix]:
        _check_mix(entries, info)
        return entries

    def trained_tokens(self) -> list[int | None]:
        """Tokens each mix entry contributed: share x training tokens, or epochs x the set's tokens (if known)."""
        if self.weight_unit is WeightUnit.share:
            return [round(entry.weight * self.training_tokens) for entry in self.data_mix]
        return [
            None if entry.tokens is None else round(entry.weight * entry.tokens) for entry in self.data_mix
        ]


register_kind("training.run", RunRecord)


def _where(loc: tuple[int | str, ...]) -> str:
    where = ""
    for part in loc:
        where += f"[{part}]" if isinstance(part, int) else f"{'.' if where else ''}{part}"
    return where


def validation_message(exc: ValidationError) -> str:
    """The first error of ``exc`` as ``field.path[index]: message`` (and how many more there are)."""
    errors = exc.errors()
    if len(errors) > 1:
        # compute_flops is only missing because the fields its estimate needs are wrong: report those
        errors = [e for e in errors if (e["loc"], e["type"]) != (("compute_flops",), "missing")]
    first = errors[0]
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] in {"missing", "extra_forbidden"}:
        message = {"missing": "required but missing", "extra_forbidden": "unknown field"}[first["type"]]
    elif first["type"] != "value_error" and not isinstance(first.get("input"), dict | list | None):
        value = first["input"]
        message += f" (got {value.isoformat() if isinstance(value, date) else repr(value)})"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{_where(first['loc']) or 'run'}: {message}{more}"


def parse_run(text: str, origin: str = "RUN.toml") -> TrainingRun:
    """Parse and validate a run file's text; `RunError` messages start with ``origin`` and the line or field."""
    data = parse_user_toml(text, origin, RunError)
    try:
        return TrainingRun.model_validate(data)
    except ValidationError as exc:
        raise RunError(f"{origin}: {validation_message(exc)}") from exc


def load_run(path: Path) -> TrainingRun:
    """Read and validate a run file (TOML); `RunError` names the file and the line or field at fault."""
    return parse_run(read_user_text(path, RunError), str(path))


def list_runs(ledger: Ledger) -> list[tuple[int, RunRecord]]:
    """Every recorded training run with its record index, oldest first (expired bodies left out)."""
    runs = []
    for record in ledger.records_of_kind("training.run"):
        body = record.body_json()
        if body is not None:
            runs.append((record.index, RunRecord.model_validate(body)))
    return runs


def runs_of(ledger: Ledger, model: str, version: str) -> list[tuple[int, RunRecord]]:
    """The runs recorded for ``model`` at ``version``, oldest first."""
    return [(i, run) for i, run in list_runs(ledger) if (run.model, run.version) == (model, version)]


def find_run(ledger: Ledger, ident: str) -> tuple[int, RunRecord]:
    """The one run named by ``ident``: its run name, ``model@version`` or ``model@version/name``.

    `RunError` when nothing matches or when ``ident`` matches several runs (the message lists them).
    """
    runs = list_runs(ledger)
    matches = [(i, run) for i, run in runs if ident in (run.name, run.model_version, run.ident)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = ", ".join(run.ident for _, run in matches)
        raise RunError(f"{ident!r} names {len(matches)} runs ({names}); name one as MODEL@VERSION/RUN")
    known = ", ".join(run.ident for _, run in runs) or "none yet"
    raise RunError(f"no training run {ident!r} (recorded: {known})")


def _kept_tokens(shards: Sequence[RecordedShard], catalog_dir: Path, stage: StageRecord | None = None) -> int:
    """Tokens of the kept rows of ``shards``; with ``stage``, of the distinct documents the stage kept."""
    files = list(docs_files(shards, catalog_dir))
    if not files:
        return 0
    con = duck.connect()
    try:
        con.read_parquet(files).create_view("docs")
        if stage is None:
            row = con.execute("SELECT coalesce(sum(tokens), 0) FROM docs WHERE kept").fetchone()
        else:
            try:
                lineage = read_lineage(catalog_dir, stage)
            except StageError as exc:
                raise RunError(str(exc)) from exc
            con.register("lineage", lineage)
            row = con.execute(
                "SELECT coalesce(sum(tokens), 0) FROM (SELECT doc_id, any_value(tokens) AS tokens FROM docs "
                "GROUP BY doc_id) WHERE doc_id IN (SELECT doc_id FROM lineage WHERE kept)"
            ).fetchone()
    except duckdb.Error as exc:
        raise RunError(f"cannot read the catalog's shard files: {exc}") from exc
    finally:
        con.close()
    return int(row[0]) if row else 0


def _over_shards(entry: MixEntry, shards: list[RecordedShard], catalog_dir: Path | None) -> ResolvedMix:
    return ResolvedMix(
        **entry.model_dump(),
        shards=[recorded.index for recorded in shards],
        root=merkle.root([bytes.fromhex(recorded.shard.doc_root) for recorded in shards]).hex(),
        documents=sum(recorded.shard.kept for recorded in shards),
        tokens=None if catalog_dir is None else _kept_tokens(shards, catalog_dir),
    )


def _resolve(ledger: Ledger, entry: MixEntry, catalog_dir: Path | None) -> ResolvedMix:
    if entry.stage is not None:
        try:
            index, stage = find_stage(ledger, entry.stage)
        except StageError as exc:
            raise RunError(str(exc)) from exc
        tokens = None if catalog_dir is None else _kept_tokens(catalog_shards(ledger), catalog_dir, stage)
        return ResolvedMix(
            **entry.model_dump(), record=index, root=stage.kept_root, documents=stage.kept, tokens=tokens
        )
    shards = catalog_shards(ledger)
    if entry.source is not None:
        try:
            find_source(ledger, entry.source)
        except SourceError as exc:
            raise RunError(str(exc)) from exc
        shards = [recorded for recorded in shards if recorded.shard.source == entry.source]
        if not shards:
            raise RunError(f"source {entry.source!r} has no documents in the catalog; ingest some first")
    elif not shards:
        raise RunError("the catalog holds no documents yet; ingest some first")
    return _over_shards(entry, shards, catalog_dir)


def resolve_mix(
    ledger: Ledger, entries: Sequence[MixEntry], catalog_dir: Path | None = None
) -> list[ResolvedMix]:
    """Each entry with the commitment the ledger holds for it now (see `ResolvedMix`).

    `RunError` names the entry (``data_mix[1]: ...``) whose stage or source the ledger does not hold.
    """
    resolved = []
    for position, entry in enumerate(entries):
        try:
            resolved.append(_resolve(ledger, entry, catalog_dir))
        except RunError as exc:
            raise RunError(f"data_mix[{position}] ({entry.describe()}): {exc}") from exc
    return resolved


def record_run(ledger: Ledger, run: TrainingRun, *, catalog_dir: Path | None = None) -> tuple[int, RunRecord]:
    """Resolve ``run``'s data mix against the ledger and append it as a ``training.run`` record.

    ``catalog_dir`` (the workspace's catalog folder) lets source and catalog entries carry the token count of
    their kept documents. `RunError` if the run is already recorded or an entry names a stage or source the
    ledger does not hold; nothing is appended then.
    """
    for index, existing in list_runs(ledger):
        if (existing.model, existing.version, existing.name) == (run.model, run.version, run.name):
            raise RunError(
                f"run {run.name!r} of {run.model_version} is already recorded (record {index}); "
                "a run is recorded once: give a new run name or version"
            )
    facts = run.model_dump(exclude={"data_mix"})
    record = RunRecord.model_validate({**facts, "data_mix": resolve_mix(ledger, run.data_mix, catalog_dir)})
    return ledger.append("training.run", record), record
