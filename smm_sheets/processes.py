"""Work in a child process with a memory and a time limit, and workers that die with their run.

An untrusted file can make a native library abort (a failed allocation in Rust cannot be
caught) or run away. Where many files share a process (a folder, a batch, a portfolio, a Dask
worker, the web server), each is read in a forked child: :func:`run_isolated` gives back what
the child returned, or one line saying how it ended, and the run goes on.

Linux only for the guards that need it (``prctl``, ``/proc``); elsewhere the same calls work
without them.
"""

from __future__ import annotations

import ctypes
import errno
import faulthandler
import gc
import math
import os
import pickle
import resource
import select
import signal
import struct
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from smm_sheets.errors import FileError, InputError, SmmSheetsError


@dataclass(frozen=True)
class IsolationLimits:
    """What one isolated call may use."""

    memory: int = 1 << 30  # bytes of address space the child may add to what it starts with
    seconds: float = 120.0  # processor time before the child is stopped: 10x a 100,000-post calendar
    wall_seconds: float = 600.0  # wall-clock time: more, since a busy machine shares its cores


DEFAULT_ISOLATION = IsolationLimits()

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Have the kernel send ``sig`` to this process when its parent dies (Linux: ``prctl``).

    Returns:
        Whether the request was made (False off Linux).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        # The process's own symbols, libc's among them: ctypes.util.find_library would run
        # ldconfig, milliseconds in every child that reads a file.
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    return True


def parent_gone(parent: int) -> bool:
    """Has the process that was our parent (``parent``, its pid) died? We were re-parented then."""
    return os.getppid() != parent


def run_isolated(function: Callable[..., Any], *args: Any, limits: IsolationLimits = DEFAULT_ISOLATION) -> Any:
    """``function(*args)`` in a forked child process under ``limits``.

    The child's stderr goes to /dev/null (a native abort prints there), it dies with this
    process, and its result comes back pickled through a pipe.

    Returns:
        What ``function`` returned.

    Raises:
        FileError / InputError: the one line of the error ``function`` raised (as its kind), or
            one line saying the child ran out of memory or time, or crashed.
    """
    # One item for run_isolated_each: one mechanism for one file and for many.
    ((_, answer),) = run_isolated_each(lambda _: function(*args), [None], limits=limits)
    if isinstance(answer, SmmSheetsError):
        raise answer
    return answer


def run_isolated_each(
    function: Callable[..., Any], items: Iterable[Any], *args: Any, limits: IsolationLimits = DEFAULT_ISOLATION
) -> Iterator[tuple[Any, Any]]:
    """``function(item, *args)`` for each item, in forked children under ``limits`` per item.

    One child answers item after item (a fork per item would cost more than a small workbook's
    analysis); when it dies (a native abort, out of memory or time) the item it was on is
    answered with the line saying so, and a new child takes the items after it.

    Yields:
        ``(item, answer)`` in the order of ``items``: what ``function`` returned, or the
        FileError / InputError of what it raised or of how the child ended.
    """
    pending = list(items)
    if not hasattr(os, "fork"):
        for item in pending:
            try:
                yield item, function(item, *args)
            except SmmSheetsError as error:
                yield item, error
        return
    while pending:
        read_end, write_end = os.pipe()
        parent = os.getpid()
        # The child's garbage collections leave the objects it inherits alone (they stay frozen
        # there), so it does not copy every page of them; here they are collected as before. A
        # process that froze its modules itself (cli.loading) keeps them frozen: unfreeze would
        # thaw those too.
        freezing = not gc.get_freeze_count()
        if freezing:
            gc.freeze()
        try:
            pid = os.fork()
        finally:
            if freezing and os.getpid() == parent:
                gc.unfreeze()
        if pid == 0:  # the child: never returns
            os.close(read_end)
            _child_each(function, pending, args, limits, write_end, parent)
        os.close(write_end)
        answered = 0
        timed_out = False
        try:
            for frame in _frames(read_end, limits.wall_seconds):
                if frame is None:
                    timed_out = True
                    break
                kind, value = pickle.loads(frame)
                yield pending[answered], _answer(kind, value)
                answered += 1
        finally:
            os.close(read_end)
            if _still_running(pid):
                os.kill(pid, signal.SIGKILL)
            status = _wait(pid)
        if answered < len(pending):  # the child ended on this item
            line = f"took longer than {limits.wall_seconds:g} s; stopped" if timed_out else _death(status, limits)
            yield pending[answered], FileError(line)
            answered += 1
        pending = pending[answered:]


def _answer(kind: str, value: Any) -> Any:
    if kind == "ok":
        return value
    return (InputError if kind == "input" else FileError)(value)


_LENGTH = struct.Struct("<Q")


def _frames(fd: int, seconds: float) -> Iterator[bytes | None]:
    """Each answer the child writes (length, then pickle), until it closes the pipe; None when an
    answer takes more than ``seconds`` (the clock starts again with each answer)."""
    buffer = bytearray()
    deadline = time.monotonic() + seconds
    while True:
        while len(buffer) >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(buffer)
            if len(buffer) < _LENGTH.size + size:
                break
            frame = bytes(buffer[_LENGTH.size : _LENGTH.size + size])
            del buffer[: _LENGTH.size + size]
            yield frame
            deadline = time.monotonic() + seconds
        chunk = _read(fd, deadline)
        if chunk is None:
            yield None
            return
        if not chunk:
            return
        buffer += chunk


def _child_each(
    function: Callable[..., Any], items: list, args: tuple, limits: IsolationLimits, out: int, parent: int
) -> None:
    code = 0
    try:
        _enter_child(parent)
        # Limits set before ours (ulimit) stay the ceiling.
        ceilings = resource.getrlimit(resource.RLIMIT_AS)[0], resource.getrlimit(resource.RLIMIT_CPU)[0]
        with os.fdopen(out, "wb") as stream:
            for item in items:
                # Each item gets the whole allowance: memory over what is mapped now, seconds over
                # what the child has used so far.
                _limit_memory(limits.memory, ceiling=ceilings[0])
                used = resource.getrusage(resource.RUSAGE_SELF)
                _limit_cpu(max(1, math.ceil(used.ru_utime + used.ru_stime + limits.seconds)), ceiling=ceilings[1])
                try:
                    data = _answer_of(function, (item, *args), limits)
                except Exception as error:  # a bug: this item's one line, and on to the next
                    data = pickle.dumps(("file", f"internal error: {type(error).__name__}: {error}"))
                stream.write(_LENGTH.pack(len(data)) + data)
                stream.flush()
    except BaseException:
        code = 1  # the parent reports the item it got no answer for
    os._exit(code)


def _enter_child(parent: int) -> None:
    """A forked child's first steps: die with the parent, stderr to /dev/null."""
    die_with_parent()
    if parent_gone(parent):
        os._exit(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    faulthandler.disable()  # it may write to a copy of the parent's stderr


def _answer_of(function: Callable[..., Any], args: tuple, limits: IsolationLimits) -> bytes:
    """The pickled ``(kind, value)`` of ``function(*args)``: ``ok`` and what it returned, or
    ``input`` / ``file`` and the line of what it raised."""
    try:
        answer: tuple[str, Any] = ("ok", function(*args))
    except InputError as error:
        answer = ("input", str(error))
    except SmmSheetsError as error:
        answer = ("file", str(error))
    except MemoryError:
        answer = ("file", f"needs more than the memory limit of {limits.memory / 2**30:g} GiB")
    except RecursionError:
        answer = ("file", "nested too deeply to read")
    try:
        return pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        return pickle.dumps(("file", f"needs more than the memory limit of {limits.memory / 2**30:g} GiB"))


def _limit_memory(extra: int, ceiling: int | None = None) -> None:
    """RLIMIT_AS: what the child has mapped now (a copy of its parent), plus ``extra``; only
    lowered, unless a ``ceiling`` is given (a child answering one item after another): then set,
    up to it."""
    try:
        with open("/proc/self/statm") as stream:
            mapped = int(stream.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = mapped + extra
    for cap in (hard, ceiling):
        if cap is not None and cap != resource.RLIM_INFINITY:
            wanted = min(wanted, cap)
    if soft == resource.RLIM_INFINITY or wanted < soft or ceiling is not None:
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def _limit_cpu(seconds: int, ceiling: int | None = None) -> None:
    """RLIMIT_CPU: ``seconds`` of processor time (SIGXCPU), never above a limit already set (or
    above ``ceiling``, when given: then raised as well as lowered)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    for cap in (hard, ceiling):
        if cap is not None and cap != resource.RLIM_INFINITY:
            seconds = min(seconds, cap)
    if soft == resource.RLIM_INFINITY or seconds < soft or ceiling is not None:
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, hard))


def _read(fd: int, deadline: float) -> bytes | None:
    """The next chunk the child wrote; ``b""`` when it closed the pipe, None when time is up."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            ready, _, _ = select.select([fd], [], [], left)
        except InterruptedError:
            continue
        if ready:
            return os.read(fd, 1 << 20)


def _still_running(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    if done:
        _FINISHED[pid] = _
        return False
    return True


_FINISHED: dict[int, int] = {}


def _wait(pid: int) -> int:
    if pid in _FINISHED:
        return _FINISHED.pop(pid)
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except ChildProcessError:
            return 0
        except OSError as error:
            if error.errno != errno.EINTR:
                raise


def _death(status: int, limits: IsolationLimits) -> str:
    """One line for a child that died without answering."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in (signal.SIGXCPU, signal.SIGKILL):
            return f"took more than {limits.seconds:g} s of processor time; stopped"
        name = signal.Signals(sig).name if sig in signal.Signals.__members__.values() else str(sig)
        return (
            f"the reader crashed ({name}): the file needs more than the memory limit of "
            f"{limits.memory / 2**30:g} GiB, or is damaged"
        )
    return f"the reader stopped without an answer (exit status {os.WEXITSTATUS(status) if os.WIFEXITED(status) else status})"
