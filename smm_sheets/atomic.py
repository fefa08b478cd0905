"""Files written whole or not at all: a temporary file in the target's folder, then a rename."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from smm_sheets.errors import FileError, ParameterError


def write_file(target: str | Path, write: Callable[[str], None]) -> Path:
    """Have ``write`` make the file at a temporary path beside ``target``, then rename it.

    The file gets the mode of the file it replaces, or what the umask gives a new file (mkstemp
    makes temporary files private; a report or a workbook is an ordinary document).

    Returns:
        The target path.

    Raises:
        FileError: the folder cannot be written to.
    """
    target = Path(target)
    try:
        mode = os.stat(target).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        # a rename would put a file in place of /dev/full, a FIFO or a folder
        raise FileError(f"cannot write {target}: not a regular file")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(handle)
    except OSError as error:
        raise FileError(f"cannot write to {target.parent}: {error.strerror}", error.errno) from None
    _pending.add(temporary)
    try:
        write(temporary)
        os.chmod(temporary, file_mode(target))
        check_still_wanted(target)
        os.replace(temporary, target)
    except OSError as error:
        raise FileError(f"cannot write {target}: {error.strerror or error}", error.errno) from None
    finally:
        _pending.discard(temporary)
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target


# Temporary files being written now: a worker whose run died removes them before it exits.
_pending: set[str] = set()


def track(temporary: str) -> None:
    """Note a temporary file being written (see :func:`remove_pending`)."""
    _pending.add(temporary)


def untrack(temporary: str) -> None:
    """The temporary file is renamed into place or removed."""
    _pending.discard(temporary)


def remove_pending() -> None:
    """Remove every temporary file still being written (a process about to exit mid-write)."""
    for temporary in list(_pending):
        try:
            os.unlink(temporary)
        except OSError:
            pass
    _pending.clear()


_still_wanted: Callable[[], bool] | None = None


def write_only_while(still_wanted: Callable[[], bool] | None) -> None:
    """From now on, a file is renamed into place only while ``still_wanted()`` says so (a worker
    process asks whether the run it works for is still alive); None: always."""
    global _still_wanted
    _still_wanted = still_wanted


def check_still_wanted(target: str | Path) -> None:
    """Raise before a file is renamed into place for a run that has ended (see :func:`write_only_while`).

    Raises:
        FileError: the run is gone; nothing is written.
    """
    if _still_wanted is not None and not _still_wanted():
        raise FileError(f"not writing {target}: the run this process worked for has ended")


def write_text(target: str | Path, content: str | Callable[[io.TextIOBase], None], encoding: str = "utf-8") -> Path:
    """Write text to ``target`` atomically (see :func:`write_file`).

    Args:
        content: the text, or a function that writes it to the open stream.
    """

    def write(path: str) -> None:
        with open(path, "w", encoding=encoding, newline="") as stream:
            if callable(content):
                content(stream)
            else:
                stream.write(content)

    return write_file(target, write)


def file_mode(target: Path) -> int:
    """The replaced file's mode, or what the umask allows a new file."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def keep_copy(path: str | Path, folder: str | Path | None = None, when: dt.datetime | None = None) -> Path:
    """Copy a file people may have worked on before it is replaced: ``name.kept-YYYYMMDD-HHMMSS.ext``.

    Args:
        path: the file about to be replaced.
        folder: where the copy goes (created if missing); default: beside ``path``.
        when: the time in the name (default: now, local time); ``-2``, ``-3``... if taken.

    Returns:
        The copy's path (written atomically, with the file's times and mode).

    Raises:
        FileError: the copy cannot be written (then the caller must not replace ``path``).
    """
    path = Path(path)
    folder = Path(folder) if folder is not None else path.parent
    stamp = (when or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileError(f"cannot create {folder}: {error.strerror}") from None
    number = 1
    while True:
        copy = folder / f"{path.stem}.kept-{stamp}{'' if number == 1 else f'-{number}'}{path.suffix}"
        if not copy.exists():
            break
        number += 1
    write_file(copy, lambda temporary: shutil.copy2(path, temporary))
    return copy


def refuse_overwriting_inputs(output: str | Path, inputs: Iterable[str | Path]) -> None:
    """Refuse an output path that is one of the inputs, or lies inside a folder being read.

    Raises:
        ParameterError: one line naming both (exit 2).
    """
    output = Path(output)
    target = _resolved(output)
    for item in inputs:
        item = Path(item)
        source = _resolved(item)
        same = target == source
        try:
            same = same or (output.exists() and item.exists() and os.path.samefile(output, item))
        except OSError:
            pass
        if same:
            raise ParameterError(f"{output} is the input {item}; write the output somewhere else")
        if source.is_dir() and target.is_relative_to(source):
            raise ParameterError(f"{output} is inside the folder being read, {item}; write the output somewhere else")


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()
