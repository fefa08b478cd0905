"""Each analysis in a process of its own, with a time limit, a memory limit and a bounded queue.

One bad file (a bomb the reader's guards miss, a pathological sheet) may then cost its own
process, never the server: the child is forked from a forkserver that has the analyser already
imported, limited with ``RLIMIT_AS`` and killed at the deadline. A fresh process per analysis
also keeps the server's memory flat however many files it sees.

This is the one module the web layer calls to analyse (:meth:`Runner.analyse`), so that the
analyser's own isolation function can take its place when it exists.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

# Imported by the forkserver once, so that every analysis starts with the analyser loaded.
PRELOAD = ["smm_sheets.web.warm"]


class Busy(Exception):
    """Every analysis slot and queue place is taken: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"the server is busy; try again in {retry_after} s")
        self.retry_after = retry_after


class AnalysisFailed(Exception):
    """The analysis ran out of time or memory, or its process died. ``reason``: time, memory, crash."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    """Args: slots: analyses at once (per server worker); queue: analyses waiting for a slot;
    seconds: wall-clock time of one analysis; memory: its address space in bytes."""

    slots: int = 1
    queue: int = 8
    seconds: float = 30.0
    memory: int = 1 << 30


def analyse_to_dict(paths: list[str], language: str) -> dict[str, Any]:
    """The report of ``paths`` as ``analyse --format json`` prints it.

    ``language`` is the page's: findings are English until the analyser can word them otherwise.
    """
    from smm_sheets.analyser.pipeline import analyse

    return analyse(paths).to_dict()


class Runner:
    """Runs analyses in child processes, at most ``limits.slots`` at once and ``limits.queue`` waiting."""

    def __init__(self, limits: Limits = Limits(), target: Callable[[list[str], str], Any] = analyse_to_dict):
        self.limits = limits
        self.target = target
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        # Threads wait for a slot (not the event loop), so the runner serves any loop it is called from.
        self._slots = threading.Semaphore(limits.slots)
        self._lock = threading.Lock()
        self._admitted = 0

    def warm(self) -> None:
        """Start the forkserver (which imports :data:`PRELOAD`) now rather than on the first analysis."""
        child = self._context.Process(target=_nothing)
        child.start()
        child.join()

    async def analyse(self, paths: list[str], language: str = "en") -> Any:
        """The target's result for ``paths``, computed in a child process.

        Raises:
            Busy: every slot and queue place is taken.
            AnalysisFailed: the child ran out of time or memory, or died.
        """
        with self._lock:
            if self._admitted >= self.limits.slots + self.limits.queue:
                raise Busy(max(1, round(self.limits.seconds / 4)))
            self._admitted += 1
        try:
            return await asyncio.to_thread(self._run_in_slot, paths, language)
        finally:
            with self._lock:
                self._admitted -= 1

    def _run_in_slot(self, paths: list[str], language: str) -> Any:
        with self._slots:
            return self.run(paths, language)

    def run(self, paths: list[str], language: str) -> Any:
        """Run the target in a child process and wait for it (blocking)."""
        receive, send = self._context.Pipe(duplex=False)
        child = self._context.Process(
            target=_child, args=(send, self.target, paths, language, self.limits.memory, self.limits.seconds)
        )
        child.start()
        send.close()
        try:
            if not receive.poll(self.limits.seconds):
                raise AnalysisFailed("time", f"the analysis took longer than {self.limits.seconds:g} s and was stopped")
            try:
                status, value = receive.recv()
            except (EOFError, OSError):
                raise AnalysisFailed("crash", "the analysis stopped unexpectedly") from None
        finally:
            receive.close()
            if child.is_alive():
                child.kill()
            child.join()
        if status == "memory":
            raise AnalysisFailed(
                "memory", f"the analysis needed more than {self.limits.memory >> 20} MB and was stopped"
            )
        if status == "error":
            raise AnalysisFailed("crash", value)
        return value


def _nothing() -> None:
    pass


def _child(send: Connection, target: Callable, paths: list[str], language: str, memory: int, seconds: float) -> None:
    """In the child: limit memory (and CPU time, should the parent be gone), run, send the result."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(seconds) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    try:
        result = ("ok", target(paths, language))
    except MemoryError:
        result = ("memory", None)
    except Exception as error:  # a bug in the analysis: one line, the server goes on
        result = ("error", f"the analysis failed ({type(error).__name__})")
    try:
        send.send(result)
    except MemoryError:
        send.send(("memory", None))
    send.close()
    os._exit(0)
