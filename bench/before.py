"""The code when issue 15 was filed, for the benchmarks to run beside the code now."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BEFORE_COMMIT = "2a529f2"
"""The commit of ``main`` when issue 15 (speed) was filed."""


def extract_before(into: Path) -> Path | None:
    """The code of :data:`BEFORE_COMMIT` (``git archive``) written into ``into``.

    Returns:
        ``into``, or None where git or the commit is missing (a copy of the package without its
        history): the benchmarks then leave the "before" figures out.
    """
    try:
        archive = subprocess.run(["git", "archive", BEFORE_COMMIT], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return into if (into / "smm_sheets" / "cli.py").is_file() else None
