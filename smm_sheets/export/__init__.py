"""Calendar exports: a filled-in calendar's posts, as the analyser accepts them, to iCalendar
(:mod:`.ics`), to schedulers' bulk-upload files and to CSV (:mod:`.bulk`), each format's rules
checked first (:mod:`.rules`). A layer above the analyser: :mod:`.posts` reads the calendar
through it, :mod:`.pipeline` runs an export."""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallableModule(types.ModuleType):
    """``smm_sheets.export(...)`` is the API's function until this package is imported; importing
    it makes ``smm_sheets.export`` this module (Python sets a package's attribute to its
    sub-package), so the module answers the same call."""

    def __call__(self, calendar: Any, output: Any, **options: Any) -> Any:
        from smm_sheets.export.pipeline import export

        return export(calendar, output, **options)


sys.modules[__name__].__class__ = _CallableModule
