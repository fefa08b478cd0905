"""Stand-ins for the analysis, run in the isolation's child processes by the tests (importable there)."""

from __future__ import annotations

import os
import time


def sleepy(paths: list[str], language: str) -> dict:
    time.sleep(1.0)
    return {"schema_version": "1.0", "valid": True, "stats": {}, "reports": [], "failures": [], "paths": paths}


def hog(paths: list[str], language: str) -> dict:
    block = bytearray(4 << 30)  # 4 GiB: over the memory limit
    return {"size": len(block)}


def crash(paths: list[str], language: str) -> dict:
    os._exit(3)


def pid(paths: list[str], language: str) -> int:
    if paths == ["sleep"]:
        time.sleep(5)
    if paths == ["fail"]:
        raise ValueError("a bug")
    return os.getpid()
