"""A datatrove pipeline step that records a cleaning stage: the documents that reach it were kept.

Place `KirokuStageRecorder` right after a filter (or a chain of them); it passes every document on unchanged and
notes its id. When the pipeline has run to its end the stage is recorded in the workspace's ledger: the documents
of the input set that did not reach the step were dropped. A document is matched by ``document.id`` as
``kiroku stage record`` matches ids (64-hex document id, the dataset's own id, the URL), else by the SHA-256 of
its text::

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.filters import LambdaFilter
    from datatrove.pipeline.readers import JsonlReader
    from kiroku.ingest.datatrove import KirokuStageRecorder

    LocalPipelineExecutor(
        pipeline=[
            JsonlReader("data/"),
            LambdaFilter(lambda doc: len(doc.text) >= 200),
            KirokuStageRecorder(workspace="ledger-ws", stage="min-length", parameters={"min_chars": 200}),
        ],
        tasks=4,
    ).run()

With several tasks, each task writes the ids it saw to ``stages/<stage>.datatrove/`` in the catalog folder; the
task that completes the set records the stage (one ledger record) and removes those files. Only ``PipelineStep``
is taken from datatrove (install it with ``pip install 'kiroku[datatrove]'``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator, Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

try:
    from datatrove.pipeline.base import PipelineStep
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "kiroku.ingest.datatrove needs datatrove: install it with pip install 'kiroku[datatrove]'"
    ) from exc

from kiroku.catalog.shards import replace_durably
from kiroku.catalog.stages import CATALOG, IdCollector, IdList, record_stage
from kiroku.workspace import Workspace

__all__ = ["KirokuStageRecorder"]


def _datatrove_version() -> str | None:
    try:
        return version("datatrove")
    except PackageNotFoundError:  # pragma: no cover - an unpackaged checkout
        return None


class KirokuStageRecorder(PipelineStep):  # type: ignore[misc]  # datatrove ships no type hints
    """Records a kiroku cleaning stage from the documents that pass through this step."""

    name = "📒 kiroku stage"
    type = "📒 - LINEAGE"

    def __init__(
        self,
        workspace: str | Path,
        stage: str,
        input: str = CATALOG,
        parameters: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> None:
        """Record stage ``stage`` over ``input`` (``catalog`` or an earlier stage) in the workspace folder.

        ``parameters`` (JSON values) describe the filter; ``reason`` is why documents that did not reach this
        step were dropped (default ``dropped by <stage>``).
        """
        super().__init__()
        self.workspace = Path(workspace)
        self.stage = stage
        self.input = input
        self.parameters = dict(parameters or {})
        self.reason = reason

    def _parts(self, workspace: Workspace) -> Path:
        return workspace.catalog_dir / "stages" / f"{self.stage}.datatrove"

    @staticmethod
    def _part(parts: Path, rank: int, world_size: int) -> Path:
        return parts / f"rank-{rank:05d}-of-{world_size:05d}.parquet"

    def run(
        self, data: Iterable[Any] | None, rank: int = 0, world_size: int = 1
    ) -> Generator[Any, None, None]:
        """Pass every document on; when the input ends, save the ids seen and record the stage if complete."""
        workspace = Workspace.open(self.workspace)
        parts = self._parts(workspace)
        parts.mkdir(parents=True, exist_ok=True)
        part = self._part(parts, rank, world_size)
        tmp = part.with_name(part.name + ".tmp")
        collector = IdCollector(f"datatrove step {self.stage!r} (task {rank})", unit="document", path=tmp)
        seen = 0
        try:
            for document in data or ():
                seen += 1
                collector.add(seen, name=str(document.id) if document.id else None, text=document.text)
                self.stat_update("recorded")
                yield document
        except BaseException:
            collector.abandon()
            tmp.unlink(missing_ok=True)
            raise
        collector.finish()
        replace_durably(tmp, part)
        self._record_if_complete(workspace, parts, world_size)

    def _record_if_complete(self, workspace: Workspace, parts: Path, world_size: int) -> None:
        paths = [self._part(parts, rank, world_size) for rank in range(world_size)]
        if not all(path.is_file() for path in paths):
            return
        lock = parts / "recording.lock"
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return  # another task is recording the stage
        try:
            lists = [
                IdList(
                    path,
                    f"datatrove step {self.stage!r} (task {rank})",
                    "document",
                    pq.read_metadata(path).num_rows,
                )
                for rank, path in enumerate(paths)
            ]
            parameters = {
                **self.parameters,
                "datatrove": {"version": _datatrove_version(), "tasks": world_size},
            }
            with workspace.ledger() as ledger:
                record_stage(
                    ledger, workspace.catalog_dir, self.stage, self.input, lists,
                    default_reason=self.reason, parameters=parameters, via="datatrove",
                )  # fmt: skip
        finally:
            os.close(handle)
            lock.unlink(missing_ok=True)
        shutil.rmtree(parts, ignore_errors=True)
