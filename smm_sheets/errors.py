"""One exception root, split into input errors and file errors (as XlsxWriter does).

The CLI turns any of these into one line on stderr and exit code 2.
"""


class SmmSheetsError(Exception):
    """Root of every error smm-sheets raises on purpose."""


class InputError(SmmSheetsError):
    """The user's input is wrong: a blueprint, a parameter, a formula template."""


class BlueprintError(InputError):
    """A blueprint file is invalid. The message names the file, line and key path."""

    def __init__(self, source: str, path: str, message: str, line: int | None = None):
        self.source, self.path, self.line, self.reason = source, path, line, message
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {path}: {message}" if path else f"{where}: {message}")


class ParameterError(InputError):
    """A generation parameter (company, year, month, currency, channels...) is invalid."""


class FileError(SmmSheetsError):
    """A file cannot be read or written.

    ``errno`` is the operating system's error number where there is one (``ENOSPC``: the disk is
    full), so that a batch stops at a full disk instead of failing every client on it.
    """

    def __init__(self, message: str, errno: int | None = None):
        super().__init__(message)
        self.errno = errno

    def __reduce__(self):  # picklable with its errno, from a worker process
        return (type(self), (str(self), self.errno))
