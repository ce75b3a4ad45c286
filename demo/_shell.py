"""The demo's two helpers: a section title, and running one kiroku command with its output echoed."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

KIROKU = [sys.executable, "-m", "kiroku"]


def step(title: str) -> None:
    """Print a section title."""
    print(f"\n== {title}")


def run(*args: str, cwd: Path, fails: bool = False) -> str:
    """Run one kiroku command in ``cwd``, echo it and its output; stop the demo unless it exits as expected.

    With ``fails``, the command is expected to fail (a tampered proof): the demo stops if it succeeds.
    """
    print("$ kiroku " + shlex.join(args), flush=True)
    result = subprocess.run(
        [*KIROKU, *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"}
    )
    sys.stdout.write(result.stdout)
    sys.stdout.write(result.stderr)
    if fails and result.returncode == 0:
        sys.exit(f"demo: 'kiroku {' '.join(args)}' succeeded, but it should have failed")
    if fails:
        print(f"(exit code {result.returncode}, as it should be)")
    elif result.returncode != 0:
        sys.exit(f"demo: 'kiroku {' '.join(args)}' failed with exit code {result.returncode}")
    return result.stdout
