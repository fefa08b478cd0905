"""``smm-sheets serve`` in a subprocess on a free port, for the tests and bench/bench_web.py:
started, waited for (``/healthz``), and stopped by its pid whatever happens."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


class ServerDidNotStart(RuntimeError):
    """The server exited, or did not answer ``/healthz`` in time; the message ends with its stderr."""


class ServerDidNotStop(RuntimeError):
    """The server was still running ``stop_seconds`` after SIGTERM (it was killed then)."""


@dataclass
class Server:
    base: str  # http://127.0.0.1:PORT
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(
    tmpdir: Path | None = None, workers: int = 1, start_seconds: float = 60, stop_seconds: float = 30
) -> Iterator[Server]:
    """The server, healthy, until the block ends; then SIGTERM (SIGKILL after ``stop_seconds``).

    Args:
        tmpdir: the server's TMPDIR (to see that nothing stays there); None: the caller's.
        workers: ``--workers``.

    Raises:
        ServerDidNotStart: it exited or did not answer in ``start_seconds``.
        ServerDidNotStop: it did not end on SIGTERM (raised after the block, the server killed).
    """
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    # A file, not a pipe: a server that logged more than a pipe holds would block on it.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "smm_sheets", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    stopped = False
    try:
        _wait_healthy(base, process, log, start_seconds)
        yield Server(base, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=stop_seconds)
            stopped = True
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
    if not stopped:
        raise ServerDidNotStop(f"the server did not stop within {stop_seconds:g} s of SIGTERM")


def _wait_healthy(base: str, process: subprocess.Popen, log, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
                process.wait()
            log.seek(0)
            raise ServerDidNotStart(f"the server did not start: {log.read().decode(errors='replace')[-2000:]}")
        time.sleep(0.2)
