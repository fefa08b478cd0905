"""smm-sheets: social media marketing workbooks from declarative blueprints.

``smm_sheets.analyse(path)`` analyses filled-in workbooks (see :mod:`smm_sheets.analysis`);
it is imported on first use, so that generating does not load pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from smm_sheets.report import Report


def analyse(paths: Any) -> "Report":
    """Analyse workbooks (files, or folders searched for spreadsheets); see :func:`smm_sheets.analysis.analyse`."""
    from smm_sheets.analysis import analyse as run

    return run(paths)
