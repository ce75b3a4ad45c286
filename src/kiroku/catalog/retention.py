"""Retention over the ledger and the catalog's files: when each obligation ends, and deleting what has ended.

The ledger keeps a record's body until its period ends (`kiroku.ledger.retention`). The catalog's files follow
the records that name them:

- a shard's *docs* Parquet (metadata rows) ends with its ``catalog.shard`` record's body;
- a shard's *text* Parquet ends with the period of the pseudo-kind ``catalog.text`` in ``[retention.kinds]``,
  counted from the shard record's time, or with the shard record when ``catalog.text`` is not set. Text never
  outlives its shard record: once the record's body is gone nothing in the catalog names the file;
- a cleaning stage's *lineage* Parquet ends with its ``catalog.stage`` record's body.

`plan_retention` says, at a moment, what ends when. `apply_retention` carries it out in the order that keeps a
crash harmless: decide from the ledger, delete the files (leaving a small ``<file>.ended.json`` marker beside
each, so that readers can say why a file is gone), then, in one ledger transaction, delete the due bodies
(`Ledger.expire`) and append one ``retention.applied`` record listing the files with their SHA-256. A run that
stops before the record is written deleted only files whose period had ended; running it again finds them gone,
records them, and finishes. The ledger is verifiable throughout, and every proof made earlier still verifies.

Readers of a shard's text call `text_available` or `text_path`: after deletion they get `TextEnded`, whose
message gives the date the text's retention ended, instead of a missing-file error.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from kiroku.catalog.shards import ShardRecord
from kiroku.catalog.stats import CatalogError
from kiroku.ledger import Ledger, LoggedRecord, RetentionPolicy, prepare, register_kind
from kiroku.ledger.log import Expiry
from kiroku.ledger.records import format_time, parse_time
from kiroku.ledger.retention import FOREVER

__all__ = [
    "OWNER_KINDS",
    "TEXT_KIND",
    "AppliedRetention",
    "CatalogFile",
    "DeletedFile",
    "EndedFile",
    "KindPlan",
    "RetentionApplied",
    "RetentionError",
    "RetentionPlan",
    "TextEnded",
    "apply_retention",
    "body_end",
    "file_ended",
    "plan_retention",
    "text_available",
    "text_end",
    "text_path",
]

TEXT_KIND = "catalog.text"
"""The pseudo-kind in ``[retention.kinds]`` that sets how long shard text is kept."""

Role = Literal["text", "docs", "lineage"]
State = Literal["held", "due", "deleted"]
OWNER_KINDS = ("catalog.shard", "catalog.stage")
_MARKER_SUFFIX = ".ended.json"


class RetentionError(CatalogError):
    """Retention cannot be applied as asked (a date in the future, a file outside the catalog, a race)."""


# -- the record ---------------------------------------------------------------------------------------------


class DeletedFile(BaseModel):
    """One catalog file deleted because its retention period ended."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    """Its path, relative to the catalog folder."""
    role: Role
    record: int
    """The ``catalog.shard`` or ``catalog.stage`` record that names the file."""
    owner: str
    """The shard's or stage's name."""
    sha256: str | None
    """The file's SHA-256 as that record gives it."""
    ended: str
    """When its retention period ended (RFC 3339, UTC)."""
    found_sha256: str | None
    """SHA-256 of the bytes deleted; None when the file was already gone (an interrupted earlier run)."""


class RetentionApplied(BaseModel):
    """Record kind ``retention.applied``: what one ``kiroku retention apply`` deleted. Kept forever."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cutoff: str
    """The moment applied: everything whose period ended at or before it went."""
    policy: dict[str, str]
    """The policy applied: ``default`` and ``kind:<name>`` periods, ``kind:catalog.text`` among them."""
    expired_record: int | None
    """The ``retention.expired`` record of the bodies deleted in the same transaction, if any."""
    bodies: dict[str, int]
    """Record bodies deleted, per kind."""
    files: list[DeletedFile]


register_kind("retention.applied", RetentionApplied)


# -- when things end ----------------------------------------------------------------------------------------


def body_end(policy: RetentionPolicy, record: LoggedRecord) -> datetime | None:
    """When a record's body may be deleted: the later of the end written at append and the end under ``policy``.

    This is the rule `Ledger.expire` applies; None means never.
    """
    if record.expires_at is None:
        return None
    current = policy.expires_at(record.entry.kind, parse_time(record.entry.time))
    return None if current is None else max(parse_time(record.expires_at), current)


def text_end(policy: RetentionPolicy, record: LoggedRecord) -> datetime | None:
    """When the text of the shard recorded by ``record`` ends: its ``catalog.text`` period, capped by the shard."""
    shard_end = body_end(policy, record)
    if TEXT_KIND not in policy.by_kind:
        return shard_end
    period = policy.by_kind[TEXT_KIND]
    own = None if period is None else period.after(parse_time(record.entry.time))
    if own is None:
        return shard_end
    return own if shard_end is None else min(own, shard_end)


def _period_text(policy: RetentionPolicy, kind: str) -> str:
    period = policy.period_for(kind)
    return FOREVER if period is None else str(period)


def _time(value: datetime | None) -> str | None:
    return None if value is None else format_time(value)


# -- the plan -----------------------------------------------------------------------------------------------


@dataclass
class KindPlan:
    """What the policy ends, for the records of one kind."""

    kind: str
    period: str
    """The period under the policy in force (ISO 8601 or ``forever``)."""
    records: int = 0
    held: int = 0
    """Bodies still stored."""
    expired: int = 0
    """Bodies already deleted under retention."""
    due: int = 0
    """Stored bodies whose end has passed at the plan's moment: `apply_retention` deletes them."""
    never: int = 0
    """Records whose body is kept forever."""
    earliest_end: datetime | None = None
    latest_end: datetime | None = None

    @property
    def ended(self) -> int:
        """Records whose retention has ended at the plan's moment (bodies deleted or due)."""
        return self.expired + self.due

    def add(self, end: datetime | None, at: datetime, has_body: bool) -> None:
        """Count one record whose body ends at ``end``."""
        self.records += 1
        if end is None:
            self.never += 1
        else:
            self.earliest_end = end if self.earliest_end is None else min(self.earliest_end, end)
            self.latest_end = end if self.latest_end is None else max(self.latest_end, end)
        if not has_body:
            self.expired += 1
        elif end is not None and end <= at:
            self.due += 1
        else:
            self.held += 1

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, dates in RFC 3339 UTC."""
        return {
            "kind": self.kind,
            "period": self.period,
            "records": self.records,
            "held": self.held,
            "expired": self.expired,
            "due": self.due,
            "ended": self.ended,
            "never": self.never,
            "earliest_end": _time(self.earliest_end),
            "latest_end": _time(self.latest_end),
        }


@dataclass(frozen=True)
class CatalogFile:
    """A catalog file named by a ledger record, and where it stands under the policy."""

    role: Role
    record: int
    owner: str
    file: str
    sha256: str | None
    ends: datetime | None
    state: State
    bytes: int | None = None
    """Its size on disk now (None when it is not there)."""
    deleted_by: int | None = None
    """The ``retention.applied`` record that deleted it."""
    deleted_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, dates in RFC 3339 UTC."""
        return {
            "role": self.role,
            "record": self.record,
            "owner": self.owner,
            "file": self.file,
            "sha256": self.sha256,
            "ends": _time(self.ends),
            "state": self.state,
            "bytes": self.bytes,
            "deleted_by": self.deleted_by,
            "deleted_at": self.deleted_at,
        }


@dataclass(frozen=True)
class RetentionPlan:
    """What ends when, at one moment, for every record kind and every catalog file."""

    at: datetime
    policy: RetentionPolicy
    kinds: tuple[KindPlan, ...]
    files: tuple[CatalogFile, ...]
    unaccounted: tuple[int, ...] = ()
    """Shard or stage records whose body expired without their files being deleted (``kiroku log expire``)."""

    @property
    def due_files(self) -> list[CatalogFile]:
        """The files `apply_retention` deletes."""
        return [f for f in self.files if f.state == "due"]

    @property
    def due_bodies(self) -> dict[str, int]:
        """Per kind, the bodies `apply_retention` deletes."""
        return {k.kind: k.due for k in self.kinds if k.due}

    @property
    def nothing_due(self) -> bool:
        """True when applying at this moment would delete nothing."""
        return not self.due_files and not self.due_bodies

    def file_summary(self, role: Role) -> dict[str, Any]:
        """Counts and end dates of the files of one role."""
        files = [f for f in self.files if f.role == role]
        ends = [f.ends for f in files if f.ends is not None]
        return {
            "files": len(files),
            "held": sum(f.state == "held" for f in files),
            "due": sum(f.state == "due" for f in files),
            "deleted": sum(f.state == "deleted" for f in files),
            "never": sum(f.ends is None for f in files),
            "earliest_end": _time(min(ends, default=None)),
            "latest_end": _time(max(ends, default=None)),
            "bytes_held": sum(f.bytes or 0 for f in files if f.state != "deleted"),
        }

    def to_json(self) -> dict[str, Any]:
        """The plan as one JSON-ready object (``kiroku retention plan --json``)."""
        text_period = self.policy.by_kind.get(TEXT_KIND) if TEXT_KIND in self.policy.by_kind else None
        return {
            "at": format_time(self.at),
            "policy": self.policy.to_mapping(),
            "kinds": [k.to_json() for k in self.kinds],
            "catalog": {
                "text_period": (
                    ("forever" if text_period is None else str(text_period))
                    if TEXT_KIND in self.policy.by_kind
                    else "with its shard"
                ),
                "text": self.file_summary("text"),
                "docs": self.file_summary("docs"),
                "lineage": self.file_summary("lineage"),
                "files": [f.to_json() for f in self.files],
                "unaccounted_records": list(self.unaccounted),
            },
            "due": {"bodies": self.due_bodies, "files": len(self.due_files)},
        }


def _deletions(ledger: Ledger) -> dict[tuple[int, Role], tuple[int, str, DeletedFile]]:
    """Every file a ``retention.applied`` record lists: (record, role) -> (applied index, cutoff, entry)."""
    found = {}
    for logged in ledger.records_of_kind("retention.applied"):
        body = logged.body_json()
        if body is None:
            continue
        applied = RetentionApplied.model_validate(body)
        for deleted in applied.files:
            found[(deleted.record, deleted.role)] = (logged.index, applied.cutoff, deleted)
    return found


def _stage_files(body: dict[str, Any]) -> tuple[str, str | None, str] | None:
    """(file, sha256, stage name) of a ``catalog.stage`` body, if it names a lineage file."""
    name = body.get("lineage_file")
    if not isinstance(name, str) or not name:
        return None
    sha = body.get("lineage_sha256")
    return name, sha if isinstance(sha, str) else None, str(body.get("name", "stage"))


def plan_retention(ledger: Ledger, catalog_dir: Path, at: datetime | None = None) -> RetentionPlan:
    """What the ledger's policy ends at ``at`` (default: now): every kind's records, every catalog file."""
    moment = parse_time(at or datetime.now(UTC))
    policy = ledger.retention
    kinds: dict[str, KindPlan] = {
        kind: KindPlan(kind, _period_text(policy, kind)) for kind in policy.by_kind if kind != TEXT_KIND
    }
    deletions = _deletions(ledger)
    listed: dict[int, list[DeletedFile]] = {}
    for (index, _), (_, _, deleted) in sorted(deletions.items()):
        listed.setdefault(index, []).append(deleted)
    files: list[CatalogFile] = []
    unaccounted: list[int] = []

    def catalog_file(
        role: Role, record: int, owner: str, name: str, sha: str | None, ends: datetime | None
    ) -> CatalogFile:
        done = deletions.get((record, role))
        if done is not None:
            applied, cutoff, _ = done
            return CatalogFile(role, record, owner, name, sha, ends, "deleted", None, applied, cutoff)
        path = catalog_dir / name
        size = path.stat().st_size if path.is_file() else None
        state: State = "due" if ends is not None and ends <= moment else "held"
        return CatalogFile(role, record, owner, name, sha, ends, state, size)

    for logged in ledger.records():
        kind = logged.entry.kind
        end = body_end(policy, logged)
        plan = kinds.setdefault(kind, KindPlan(kind, _period_text(policy, kind)))
        plan.add(end, moment, logged.body is not None)
        if kind not in OWNER_KINDS:
            continue
        body = logged.body_json()
        if body is None:
            if logged.index not in listed:
                unaccounted.append(logged.index)
            for gone in listed.get(logged.index, []):
                files.append(
                    catalog_file(
                        gone.role, logged.index, gone.owner, gone.file, gone.sha256, parse_time(gone.ended)
                    )
                )
            continue
        if kind == "catalog.shard":
            shard = ShardRecord.model_validate(body)
            files.append(
                catalog_file(
                    "text",
                    logged.index,
                    shard.shard,
                    shard.text_file,
                    shard.text_sha256,
                    text_end(policy, logged),
                )
            )
            files.append(
                catalog_file("docs", logged.index, shard.shard, shard.docs_file, shard.docs_sha256, end)
            )
        elif (lineage := _stage_files(body)) is not None:
            name, sha, stage = lineage
            files.append(catalog_file("lineage", logged.index, stage, name, sha, end))
    ordered = tuple(sorted(kinds.values(), key=lambda k: k.kind))
    return RetentionPlan(moment, policy, ordered, tuple(files), tuple(unaccounted))


# -- applying it --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppliedRetention:
    """What `apply_retention` did (or, with ``dry_run``, would do)."""

    plan: RetentionPlan
    dry_run: bool
    bodies: dict[str, int] = field(default_factory=dict)
    """Record bodies deleted, per kind."""
    files: tuple[DeletedFile, ...] = ()
    record: int | None = None
    """The ``retention.applied`` record (None when nothing was due, or on a dry run)."""
    expired_record: int | None = None


def _inside(catalog_dir: Path, name: str) -> Path:
    """The path of a catalog file a record names; refuses names that leave the catalog folder."""
    root = catalog_dir.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or path == root:
        raise RetentionError(f"the ledger names the catalog file {name!r}, which is outside {root}; refusing")
    return path


def _sha256(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        return None


def _marker(path: Path) -> Path:
    return path.with_name(path.name + _MARKER_SUFFIX)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _delete(catalog_dir: Path, due: CatalogFile, cutoff: str) -> DeletedFile:
    """Mark a file as ended, then delete it (a file already gone is fine)."""
    path = _inside(catalog_dir, due.file)
    assert due.ends is not None
    deleted = DeletedFile(
        file=due.file,
        role=due.role,
        record=due.record,
        owner=due.owner,
        sha256=due.sha256,
        ended=format_time(due.ends),
        found_sha256=_sha256(path),
    )
    marker = _marker(path)
    if path.parent.is_dir():
        tmp = marker.with_name(marker.name + ".tmp")
        tmp.write_text(json.dumps({**deleted.model_dump(exclude={"found_sha256"}), "cutoff": cutoff}) + "\n")
        tmp.replace(marker)
    path.unlink(missing_ok=True)
    return deleted


def apply_retention(
    ledger: Ledger, catalog_dir: Path, at: datetime | None = None, *, dry_run: bool = False
) -> AppliedRetention:
    """Delete the catalog files and ledger bodies whose retention ended at ``at`` (default: now); record it.

    ``at`` may not be in the future unless ``dry_run`` (deleting early would break the retention promise).
    See the module docstring for the order of steps and why a re-run after a crash finishes the job.
    """
    now = datetime.now(UTC)
    moment = parse_time(at or now)
    if moment > now and not dry_run:
        raise RetentionError(
            f"{format_time(moment)} is in the future: deleting now what ends then would break the retention "
            "promise; rehearse it with --dry-run"
        )
    plan = plan_retention(ledger, catalog_dir, moment)
    if dry_run or plan.nothing_due:
        return AppliedRetention(plan, dry_run, plan.due_bodies)
    cutoff = format_time(moment)
    due = plan.due_files
    deleted = tuple(_delete(catalog_dir, f, cutoff) for f in due)
    for folder in {_inside(catalog_dir, f.file).parent for f in due}:
        if folder.is_dir():
            _fsync_dir(folder)
    owners = {f.record for f in due if f.role != "text"}
    outcome: dict[str, Any] = {}

    def record(expiry: Expiry) -> list[Any]:
        strays = [i for i, kind in expiry.expired if kind in OWNER_KINDS and i not in owners]
        if strays:
            # their files were not deleted: expiring the records now would leave files that nothing names
            raise RetentionError(
                f"records {strays[:5]} reached their end while retention was being applied; run it again"
            )
        bodies = dict(sorted(Counter(kind for _, kind in expiry.expired).items()))
        outcome.update(bodies=bodies, expired_record=expiry.record, record=expiry.next_index)
        applied = RetentionApplied(
            cutoff=expiry.cutoff,
            policy=ledger.retention.to_mapping(),
            expired_record=expiry.record,
            bodies=bodies,
            files=list(deleted),
        )
        return [prepare("retention.applied", applied)]

    ledger.expire(moment, then=record)
    return AppliedRetention(
        plan, False, outcome["bodies"], deleted, outcome["record"], outcome["expired_record"]
    )


# -- readers ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndedFile:
    """Why a catalog file is gone: the marker `apply_retention` leaves beside it."""

    file: str
    role: str
    owner: str
    record: int
    ended: str
    cutoff: str


def file_ended(catalog_dir: Path, name: str) -> EndedFile | None:
    """The retention marker of the catalog file ``name``, if retention deleted it."""
    marker = _marker(catalog_dir / name)
    try:
        data = json.loads(marker.read_text())
        return EndedFile(
            str(data["file"]),
            str(data["role"]),
            str(data["owner"]),
            int(data["record"]),
            str(data["ended"]),
            str(data["cutoff"]),
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise CatalogError(f"{marker}: not a retention marker ({exc})") from exc


class TextEnded(CatalogError):
    """A shard's text was deleted because its retention period ended; metadata and digests remain."""

    def __init__(self, shard: str, ended: EndedFile) -> None:
        self.shard = shard
        self.ended = ended
        super().__init__(
            f"the text of shard {shard} ended under retention on {ended.ended} and was deleted "
            f"(retention applied at {ended.cutoff}); its metadata and document ids remain"
        )


def text_available(catalog_dir: Path, shard: ShardRecord) -> bool:
    """True when the shard's text file is there; False when its text ended under retention.

    A text file missing with no retention marker is damage, not retention: `CatalogError`.
    """
    if (catalog_dir / shard.text_file).is_file():
        return True
    if file_ended(catalog_dir, shard.text_file) is not None:
        return False
    raise CatalogError(
        f"shard {shard.shard} is missing its text file {catalog_dir / shard.text_file}, "
        "and no retention run deleted it"
    )


def text_path(catalog_dir: Path, shard: ShardRecord) -> Path:
    """The shard's text Parquet, or `TextEnded` saying when its retention ended."""
    path = catalog_dir / shard.text_file
    if text_available(catalog_dir, shard):
        return path
    ended = file_ended(catalog_dir, shard.text_file)
    assert ended is not None
    raise TextEnded(shard.shard, ended)
