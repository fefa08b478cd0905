"""Analyses in worker processes, with a time limit, a memory limit and a bounded queue.

One bad file (a bomb the reader's guards miss, a pathological sheet) may then cost a worker
process, never the server: workers are forked from a forkserver that has the analyser imported
and warm (:mod:`smm_sheets.web.warm`), limited with ``RLIMIT_AS``, killed at the deadline, and
replaced after a failure or a hundred analyses, which keeps the server's memory flat however
many files it sees. (A fresh process per analysis cost 100-150 ms more a request.)

This is the one module the web layer calls to analyse, fix or export (:meth:`Runner.analyse`
with a path list, or a :func:`fix_task` / :func:`export_task` tuple).

Why not :func:`smm_sheets.processes.run_isolated` (a fork per file) for each request: measured
on the sample budget, a fork per analysis from a warm worker costs 60-80 ms more than the
analysis in the warm worker itself (copy-on-write of the warm caches), which would undo the
< 100 ms a request. What the two share comes from :mod:`smm_sheets.processes`: the limits'
type (:class:`~smm_sheets.processes.IsolationLimits`, :attr:`Limits.isolation`) and the child's
tie to its parent (:func:`~smm_sheets.processes.die_with_parent`: a worker dies with the server).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import resource
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from smm_sheets.processes import IsolationLimits, die_with_parent

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
    seconds: wall-clock time of one analysis; memory: a worker's address space in bytes;
    tasks: analyses a worker does before it is replaced."""

    slots: int = 1
    queue: int = 8
    seconds: float = 30.0
    memory: int = 1 << 30
    tasks: int = 100

    @property
    def isolation(self) -> IsolationLimits:
        """One analysis's limits as :mod:`smm_sheets.processes` states them: ``memory`` is the
        worker's whole address space here (it lives for ``tasks`` analyses, so it may not grow
        past it), ``seconds`` both the wall-clock deadline and the processor time."""
        return IsolationLimits(memory=self.memory, seconds=self.seconds, wall_seconds=self.seconds)


def analyse_to_dict(paths: list[str], language: str | None) -> dict[str, Any]:
    """The report of ``paths`` as ``analyse --format json`` prints it, its findings in ``language``
    (None: each workbook's own, as the command line's default)."""
    from smm_sheets.analyser.pipeline import analyse

    return analyse(paths, language).to_dict()


def fix_task(paths: list[str], out_dir: str) -> tuple:
    """The task of fixing ``paths`` into ``out_dir``, for :meth:`Runner.analyse`."""
    return ("fix", list(paths), out_dir)


def export_task(path: str, output: str, format: str, options: dict[str, Any] | None = None) -> tuple:
    """The task of exporting the calendar ``path`` to ``output`` in ``format``, for :meth:`Runner.analyse`.

    ``options``: ``smm_sheets.export``'s statuses, since, until, timezone and date_order.
    """
    return ("export", path, output, format, dict(options or {}))


def run_task(task: list[str] | tuple, language: str | None) -> dict[str, Any]:
    """The worker's target: analyse a path list, or run a fix or export task.

    A fix or export answers a dict (never raises for a bad file, which would cost the worker):
    fix ``{"fixed": [{"source", "target", "findings", "not_carried"}], "failures": [{"source", "error"}]}``,
    export ``{"paths", "exported", "findings"}`` or ``{"error": one line}``.
    """
    if isinstance(task, list):
        return analyse_to_dict(task, language)
    if task[0] == "fix":
        return _fix(task[1], task[2], language)
    return _export(task[1], task[2], task[3], language, task[4] if len(task) > 4 else {})


def _fix(paths: list[str], out_dir: str, language: str | None) -> dict[str, Any]:
    import smm_sheets
    from smm_sheets.errors import SmmSheetsError

    fixed, failures = [], []
    for path in paths:  # one at a time: one bad workbook does not cost the others theirs
        try:
            (result,) = smm_sheets.fix([path], out_dir, language=language)
        except SmmSheetsError as error:
            failures.append({"source": path, "error": " ".join(str(error).split())[:500]})
            continue
        fixed.append(
            {
                "source": path,
                "target": str(result.target),
                "findings": [f.to_dict() for f in result.findings],
                "not_carried": list(result.not_carried),
            }
        )
    return {"fixed": fixed, "failures": failures}


def _export(path: str, output: str, format: str, language: str | None, options: dict[str, Any]) -> dict[str, Any]:
    import smm_sheets
    from smm_sheets.errors import SmmSheetsError

    try:
        result = smm_sheets.export(path, output, format=format, **options)
    except SmmSheetsError as error:
        return {"error": " ".join(str(error).split())[:500]}
    findings = [f.in_language(language) if language else f for f in result.sorted_findings()]
    return {
        "paths": [str(p) for p in result.paths],
        "exported": result.exported,
        "findings": [f.to_dict() for f in findings],
    }


class Runner:
    """Runs analyses in worker processes, at most ``limits.slots`` at once and ``limits.queue`` waiting.

    A worker is forked from the warm forkserver, analyses up to ``limits.tasks`` requests one
    after the other and is then replaced (its memory goes with it); one that runs out of time is
    killed, one that runs out of memory or fails ends itself, and the next analysis gets a new one.
    """

    def __init__(self, limits: Limits = Limits(), target: Callable[[Any, str], Any] = run_task):
        self.limits = limits
        self.target = target
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        # Threads wait for a worker (not the event loop), so the runner serves any loop it is called from.
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(limits.slots):
            self._idle.put(None)  # a slot whose worker is started on first use
        self._lock = threading.Lock()
        self._admitted = 0

    def warm(self) -> None:
        """Start the forkserver (which imports :data:`PRELOAD`) and the workers now, not on the first analysis."""
        workers = [self._idle.get() for _ in range(self.limits.slots)]
        for worker in workers:
            self._idle.put(worker or self._start())

    async def analyse(self, paths: list[str] | tuple, language: str | None = "en") -> Any:
        """The target's result for ``paths`` (or a fix or export task), computed in a worker process.

        Raises:
            Busy: every slot and queue place is taken.
            AnalysisFailed: the worker ran out of time or memory, or died.
        """
        with self._lock:
            if self._admitted >= self.limits.slots + self.limits.queue:
                raise Busy(max(1, round(self.limits.seconds / 4)))
            self._admitted += 1
        try:
            return await asyncio.to_thread(self.run, paths, language)
        finally:
            with self._lock:
                self._admitted -= 1

    def run(self, paths: list[str], language: str) -> Any:
        """Wait for a worker, have it run the target, wait for the answer (blocking)."""
        worker = self._idle.get()
        try:
            # An idle worker sends nothing: anything to read is the end of one that died while idle.
            if worker is not None and worker.connection.poll(0):
                worker = worker.stop(kill=True)
            if worker is None:
                worker = self._start()
            worker.connection.send((paths, language))
            worker.tasks += 1
            if not worker.connection.poll(self.limits.seconds):
                worker = worker.stop(kill=True)
                raise AnalysisFailed("time", f"the analysis took longer than {self.limits.seconds:g} s and was stopped")
            try:
                status, value = worker.connection.recv()
            except (EOFError, OSError):
                worker = worker.stop(kill=True)
                raise AnalysisFailed("crash", "the analysis stopped unexpectedly") from None
            if status != "ok" or worker.tasks >= self.limits.tasks:
                worker = worker.stop(kill=False)
        finally:
            self._idle.put(worker)
        if status == "memory":
            raise AnalysisFailed(
                "memory", f"the analysis needed more than {self.limits.memory >> 20} MB and was stopped"
            )
        if status == "error":
            raise AnalysisFailed("crash", value)
        return value

    def _start(self) -> _Worker:
        mine, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_work, args=(theirs, self.target, self.limits.isolation, os.getpid()), daemon=True
        )
        process.start()
        theirs.close()
        return _Worker(process, mine)


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: Connection
    tasks: int = 0

    def stop(self, kill: bool) -> None:  # returns None: the slot's worker is gone
        """End the worker (it ends itself after a failure or its last task); its slot gets a new one."""
        if kill:
            self.process.kill()
        self.connection.close()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        return None


def _work(connection: Connection, target: Callable, limits: IsolationLimits, server: int) -> None:
    """A worker: tie it to the server, limit its memory, then analyse what it is sent until told
    to stop or a task fails."""
    # Its parent is the forkserver, which ends with the server process ``server``: then so does
    # the worker, even in the middle of an analysis (processes.run_isolated's children do the same).
    # (A server gone before this line: its end of the connection is closed, recv() ends the worker.)
    if not die_with_parent() and not _alive(server):
        os._exit(0)
    memory, seconds = limits.memory, limits.seconds
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    while True:
        try:
            paths, language = connection.recv()
        except (EOFError, OSError):
            os._exit(0)
        # CPU time, should the server be gone and nobody kill the worker at its deadline.
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu = int(used.ru_utime + used.ru_stime + seconds) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, resource.RLIM_INFINITY))
        try:
            result = ("ok", target(paths, language))
        except MemoryError:
            result = ("memory", None)
        except Exception as error:  # a bug in the analysis: one line, the server goes on
            result = ("error", f"the analysis failed ({type(error).__name__})")
        try:
            connection.send(result)
        except MemoryError:
            connection.send(("memory", None))
        if result[0] != "ok":
            os._exit(0)  # after a failure, start afresh


def _alive(process_id: int) -> bool:
    try:
        os.kill(process_id, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
