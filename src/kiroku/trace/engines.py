"""Where index shards are built: in this process (``local``) or as Ray tasks (``ray``) on a local or remote cluster.

The build tokenizes on the driver (the vocabulary is one sequence of ids) and hands each full shard to an engine.
An engine's `submit` returns a handle at once; `collect` waits for that shard's files and puts them into the
shard's directory. The driver collects shards in order and commits each one (``shard.json``) only after its files
are in place, so a crash anywhere leaves at most unfinished shards, which the next build removes and redoes.

A Ray task builds its shard in a scratch directory on its worker and returns the files' bytes, so workers need no
shared file system, only kiroku installed in the same version.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol

from kiroku.trace.errors import TraceError
from kiroku.trace.shard import ShardInput, write_shard_index

__all__ = ["LocalEngine", "RayEngine", "ShardEngine", "open_engine"]


class ShardEngine(Protocol):
    """Builds shards' search files, possibly elsewhere and several at a time."""

    in_flight: int
    """How many shards may be submitted before the oldest is collected."""

    def submit(self, directory: Path, shard: ShardInput) -> object:
        """Start building ``shard``'s files for ``directory``; returns a handle for `collect`."""
        ...

    def collect(self, directory: Path, handle: object) -> None:
        """Wait for the shard behind ``handle`` and leave its files in ``directory``."""
        ...

    def close(self) -> None:
        """Release what the engine holds (a Ray connection it opened)."""
        ...


class LocalEngine:
    """Builds each shard in this process when it is submitted."""

    in_flight = 1

    def submit(self, directory: Path, shard: ShardInput) -> object:
        """Build ``shard``'s files into ``directory`` now."""
        write_shard_index(directory, shard)
        return directory

    def collect(self, directory: Path, handle: object) -> None:
        """Nothing to wait for: `submit` built the files."""

    def close(self) -> None:
        """Nothing to release."""


def _build_remote(shard: ShardInput) -> dict[str, bytes]:
    """Build ``shard`` in a scratch directory and return its files (name -> bytes); runs on a Ray worker."""
    scratch = Path(tempfile.mkdtemp(prefix="kiroku-shard-"))
    try:
        write_shard_index(scratch, shard)
        return {
            str(p.relative_to(scratch)): p.read_bytes() for p in sorted(scratch.rglob("*")) if p.is_file()
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class RayEngine:
    """Builds shards as Ray tasks, one CPU each, keeping about as many in flight as the cluster has CPUs.

    ``address`` is a cluster's address (``ray://host:10001``, ``host:6379`` or ``auto``); without one, Ray's own
    rules apply (the ``RAY_ADDRESS`` variable, else a local cluster started for this build and stopped after it).
    """

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise TraceError(
                "--engine ray needs Ray, which is not installed: pip install 'kiroku[ray]' (or use --engine local)"
            ) from exc
        self._ray: Any = ray
        self._started = not ray.is_initialized()
        if self._started:
            try:
                ray.init(
                    address=address,
                    num_cpus=num_cpus if address is None else None,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                )
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
                raise TraceError(f"cannot start or reach {where}: {exc}") from exc
        self._task = ray.remote(num_cpus=1, max_retries=2)(_build_remote)
        self.in_flight = max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    def submit(self, directory: Path, shard: ShardInput) -> object:
        """Send ``shard`` to the cluster."""
        return self._task.remote(shard)

    def collect(self, directory: Path, handle: object) -> None:
        """Wait for the task and write the files it returns into ``directory``."""
        try:
            files: dict[str, bytes] = self._ray.get(handle)
        except self._ray.exceptions.RayError as exc:
            raise TraceError(f"the Ray task building {directory.name} failed: {exc}") from exc
        for name, data in files.items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def close(self) -> None:
        """Stop the local cluster this engine started (a cluster it only joined keeps running)."""
        if self._started:
            self._ray.shutdown()


def open_engine(name: str, *, address: str | None = None) -> ShardEngine:
    """The engine called ``name`` (``local`` or ``ray``)."""
    if name == "local":
        if address:
            raise TraceError("--ray-address is for --engine ray")
        return LocalEngine()
    if name == "ray":
        return RayEngine(address)
    raise TraceError(f"unknown engine {name!r}: use local or ray")
