"""The machine line every benchmark prints: cores and CPU, OS, Python, the packages measured, kiroku's commit."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def kiroku_version() -> str:
    """The commit the source tree is at, and whether kiroku's sources differ from it."""
    here = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "src"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"kiroku {version('kiroku')}"
    return f"kiroku at {commit}" + (" with uncommitted changes in src" if changed else "")


def _package(name: str) -> str:
    try:
        return f"{name} {version(name)}"
    except PackageNotFoundError:
        return f"{name} (not installed)"


def machine_description(packages: Sequence[str], extra: Sequence[str] = ()) -> str:
    """One line: cores and CPU model, OS, Python, each of ``packages`` with its version, ``extra`` items, kiroku's
    commit and the load average (benchmarks on a shared machine must say how busy it was)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return " · ".join(
        [
            f"{os.cpu_count()} cores ({cpu})",
            f"{platform.system()} {platform.release()}",
            f"Python {platform.python_version()}",
            *(_package(name) for name in packages),
            *extra,
            kiroku_version(),
            "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
        ]
    )
