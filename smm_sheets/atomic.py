"""Files written whole or not at all: a temporary file in the target's folder, then a rename."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Callable

from smm_sheets.errors import FileError


def write_text(target: str | Path, content: str | Callable[[io.TextIOBase], None], encoding: str = "utf-8") -> Path:
    """Write text to ``target`` atomically, with the permissions of an ordinary new file.

    Args:
        content: the text, or a function that writes it to the open stream.

    Returns:
        The target path.

    Raises:
        FileError: the folder cannot be written to.
    """
    target = Path(target)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise FileError(f"cannot write to {target.parent}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding=encoding, newline="") as stream:
            if callable(content):
                content(stream)
            else:
                stream.write(content)
        os.chmod(temporary, 0o666 & ~umask())
        os.replace(temporary, target)
    except OSError as error:
        raise FileError(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target


def umask() -> int:
    """The process's umask (mkstemp makes private files; a report is an ordinary document)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
