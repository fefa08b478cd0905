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
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from smm_sheets.errors import FileError


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
        pool = futures.ProcessPoolExecutor(self.jobs, mp_context=context)
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
        try:
            client = distributed.Client(
                self.scheduler, set_as_default=False
            )  # timeout: distributed.comm.timeouts.connect
        except (OSError, TimeoutError, ValueError) as error:
            raise FileError(f"cannot reach the Dask scheduler at {self.scheduler}: {error}") from None
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
