"""Running one function over many items in worker processes, a bounded number at a time.

:class:`Runner` hands ``(item, result)`` pairs back as they finish, from local processes or a
Dask cluster, so that the parent holds only the items in flight whatever their number. Batch
generation (:mod:`smm_sheets.agency.batch`) and portfolio analysis
(:mod:`smm_sheets.agency.portfolio`) both run through it.
"""

from __future__ import annotations

import concurrent.futures as futures
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from smm_sheets import atomic
from smm_sheets.errors import FileError
from smm_sheets.processes import die_with_parent, parent_gone


class Runner:
    """Runs a function over many items in worker processes: local ones (``jobs``; 1 means in
    this process) or a Dask cluster's (``scheduler``). At most a few items per worker are in
    flight, so the parent holds no more than that whatever the number of items.

    Args:
        jobs: local worker processes (default: :func:`available_cores`).
        scheduler: address of a Dask scheduler (``tcp://host:8786``); then ``jobs`` is ignored.
    """

    def __init__(self, jobs: int | None = None, scheduler: str | None = None):
        self.jobs = max(1, jobs or available_cores())
        self.scheduler = scheduler

    def map_unordered(self, function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(item, result)`` as each finishes; ``result`` is the exception if it raised.

        Raises:
            FileError: the Dask scheduler cannot be reached or distributed is not installed.
        """
        if self.scheduler:
            yield from self._dask(function, items)
        elif self.jobs == 1:
            for item in items:
                yield item, _call(function, item)
        else:
            yield from self._local(function, items)

    def _local(self, function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        # forkserver (spawn where there is none): the parent may run threads (a progress bar).
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        pool = futures.ProcessPoolExecutor(
            self.jobs, mp_context=context, initializer=worker_start, initargs=(os.getpid(),)
        )
        pending: dict[futures.Future, Any] = {}
        try:
            source = iter(items)
            more = True
            while True:
                while more and len(pending) < 4 * self.jobs:
                    item = next(source, _END)
                    if item is _END:
                        more = False
                    else:
                        pending[pool.submit(function, item)] = item
                if not pending:
                    break
                finished, _ = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
                for future in finished:
                    item = pending.pop(future)
                    error = future.exception()
                    yield item, error if error is not None else future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _dask(self, function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        try:
            import distributed
        except ImportError:
            raise FileError("--scheduler needs the distributed package: pip install 'smm-sheets[cluster]'") from None
        _quiet_dask_logs()
        _probe_scheduler(distributed, self.scheduler)
        try:
            client = distributed.Client(self.scheduler, set_as_default=False, timeout=CONNECT_SECONDS)
        except Exception as error:
            raise FileError(f"cannot reach the Dask scheduler at {self.scheduler}: {_one_line(error)}") from None
        pending: dict[Any, tuple[Any, Any]] = {}  # key -> (future, item)
        try:
            window = max(8, 3 * sum(client.nthreads().values()))
            finished = distributed.as_completed(loop=client.loop)
            source = iter(items)
            more = True
            while True:
                while more and len(pending) < window:
                    item = next(source, _END)
                    if item is _END:
                        more = False
                    else:
                        future = client.submit(function, item, pure=False)
                        pending[future.key] = (future, item)
                        finished.add(future)
                if not pending:
                    break
                future = next(finished)
                _, item = pending.pop(future.key)
                try:
                    outcome = future.result()
                except Exception as error:  # the task's own exception, or a worker that died
                    outcome = error
                future.release()
                yield item, outcome
        finally:
            if pending:
                client.cancel([future for future, _ in pending.values()], force=True)
            client.close()


_END = object()
CONNECT_SECONDS = 5  # to reach the scheduler and hear it answer


def _quiet_dask_logs() -> None:
    """Dask's own log lines stay off stderr: what goes wrong is said in one line."""
    import logging

    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _probe_scheduler(distributed: Any, address: str) -> None:
    """Ask the scheduler who it is, within :data:`CONNECT_SECONDS`, before a Client is made (a
    Client that failed to connect can hang the process's exit while it closes).

    Raises:
        FileError: a malformed address, nothing listening, no answer in time, or garbage.
    """
    import asyncio
    import socket

    try:
        host, port = distributed.comm.get_address_host_port(address)
    except Exception:
        host = port = None
    if host is not None:
        try:
            socket.create_connection((host, port), timeout=CONNECT_SECONDS).close()
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise FileError(f"cannot reach the Dask scheduler at {address}: {reason}") from None

    async def identity() -> Any:
        comm = await distributed.comm.connect(address, timeout=CONNECT_SECONDS)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await asyncio.wait_for(comm.read(), CONNECT_SECONDS)
        finally:
            comm.abort()

    try:
        answer = asyncio.run(asyncio.wait_for(identity(), CONNECT_SECONDS))
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        reason = "no answer in time" if isinstance(error, (TimeoutError, asyncio.TimeoutError)) else _one_line(error)
        raise FileError(f"cannot reach the Dask scheduler at {address}: {reason}") from None
    if not isinstance(answer, dict) or "type" not in answer:
        raise FileError(f"cannot reach the Dask scheduler at {address}: it does not answer as a Dask scheduler")


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]


def worker_start(main: int) -> None:
    """A local worker dies with its run, however the main process ``main`` died (``kill -9``
    included): a watchdog thread ends the worker (and the forkserver it was forked from) within
    a quarter of a second, the kernel kills it when its parent dies (``prctl``), and no file is
    renamed into place once the main process is gone."""
    # SIGTERM, not SIGKILL, when the parent dies: the worker removes the file it was writing.
    die_with_parent(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: _leave())
    parent = os.getppid()

    def run_alive() -> bool:
        if parent_gone(parent):
            return False
        try:
            os.kill(main, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True

    def watch() -> None:
        while run_alive():
            time.sleep(0.25)
        if parent not in (main, 1) and not parent_gone(parent):
            os.kill(parent, signal.SIGKILL)  # the forkserver of a dead run
        _leave()

    atomic.write_only_while(run_alive)
    sys.unraisablehook = lambda unraisable: None  # a full disk is said once, in the client's result
    threading.Thread(target=watch, name="smm-sheets-watchdog", daemon=True).start()


def _leave() -> None:
    """End a worker whose run died, without leaving half a file behind."""
    atomic.remove_pending()
    os._exit(1)


def available_cores() -> int:
    """The cores this process may run on (fewer than the machine's in a container or under taskset)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _call(function: Callable[[Any], Any], item: Any) -> Any:
    try:
        return function(item)
    except Exception as error:  # as a worker process would hand it back
        return error
