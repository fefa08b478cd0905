"""Fill in workbooks with LibreOffice itself, the way a person would, and save them.

Run by the *system* Python, which has LibreOffice's ``uno`` module (Debian: python3-uno); the
project's venv does not. Tests do not run this file directly: they call
``tests.libreoffice.edit_many``, which starts LibreOffice with an isolated profile, runs::

    /usr/bin/python3 tests/lo_edit.py --pipe NAME --jobs JOBS.json

and stops LibreOffice again. This script starts nothing: it connects to that LibreOffice
(retrying while it starts up), and for each job loads the document hidden, applies the
actions in order, recalculates everything, stores it to a temporary file in the output folder
and renames that into place, so an output is either complete or absent.

A job: ``{"src": path, "out": path, "format": "xlsx" | "ods", "actions": [...]}``; actions are
described in ``tests/libreoffice.py`` (:func:`edit_many`). Any error: one line on stderr,
exit code 2; the jobs before the failing one have been written, the failing one has not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path

FILTERS = {"xlsx": "Calc MS Excel 2007 XML", "ods": "calc8"}
CELL_ACTIONS = ("value", "formula", "date", "clear")
_CELL = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)$")
_COLUMN = re.compile(r"^[A-Za-z]{1,3}$")


class JobError(Exception):
    """A job cannot be done as asked: the message is the one line the caller sees."""


# --------------------------------------------------------------------------- checking jobs


def check_jobs(jobs: object) -> list[dict]:
    """Refuse malformed jobs before LibreOffice touches anything (no output is written)."""
    if not isinstance(jobs, list):
        raise JobError("the jobs file must hold a JSON list of jobs")
    outs = set()
    for number, job in enumerate(jobs, 1):
        where = f"job {number}"
        if not isinstance(job, dict):
            raise JobError(f"{where}: a job is an object with src, out, format and actions")
        unknown = set(job) - {"src", "out", "format", "actions"}
        if unknown:
            raise JobError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        for key in ("src", "out"):
            if not isinstance(job.get(key), str) or not os.path.isabs(job[key]):
                raise JobError(f"{where}: {key} must be an absolute path")
        if not os.path.isfile(job["src"]):
            raise JobError(f"{where}: {job['src']}: no such file")
        if os.path.realpath(job["src"]) == os.path.realpath(job["out"]):
            raise JobError(f"{where}: out must not be the source file")
        if os.path.realpath(job["out"]) in outs:
            raise JobError(f"{where}: {job['out']} is the output of an earlier job")
        outs.add(os.path.realpath(job["out"]))
        if job.get("format") not in FILTERS:
            raise JobError(f"{where}: format must be one of {', '.join(FILTERS)}, not {job.get('format')!r}")
        actions = job.get("actions", [])
        if not isinstance(actions, list):
            raise JobError(f"{where}: actions must be a list")
        for index, action in enumerate(actions, 1):
            check_action(action, f"{where} ({os.path.basename(job['src'])}) action {index}")
    return jobs


def check_action(action: object, where: str) -> None:
    if not isinstance(action, dict):
        raise JobError(f"{where}: an action is an object, not {action!r}")
    if "set" in action:
        _cell_ref(action["set"], where)
        kinds = [k for k in CELL_ACTIONS if k in action]
        extra = set(action) - {"set", *CELL_ACTIONS}
        if len(kinds) != 1 or extra:
            raise JobError(f"{where}: a set action has exactly one of {', '.join(CELL_ACTIONS)}: {json.dumps(action)}")
        value = action.get("value")
        if "value" in action and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
            raise JobError(f"{where}: value must be a number or a text, not {value!r}")
        if "formula" in action and not (isinstance(action["formula"], str) and action["formula"].startswith("=")):
            raise JobError(f"{where}: formula must be a text starting with '=', not {action['formula']!r}")
        if "date" in action:
            _date(action["date"], where)
        if "clear" in action and action["clear"] is not True:
            raise JobError(f"{where}: clear must be true")
        if ":" in action["set"] and kinds != ["clear"]:
            raise JobError(f"{where}: only clear takes a range; set one cell at a time: {action['set']}")
    elif "type" in action:
        _cell_ref(action["type"], where)
        if set(action) != {"type", "text"} or not isinstance(action["text"], str):
            raise JobError(f'{where}: a type action is {{"type": "Sheet!A1", "text": "..."}}')
    elif any(k in action for k in ("insert_rows", "delete_rows", "insert_columns", "delete_columns")):
        verb = next(k for k in ("insert_rows", "delete_rows", "insert_columns", "delete_columns") if k in action)
        position = "before" if verb.startswith("insert") else "at"
        if set(action) - {verb, position, "count"} or position not in action:
            raise JobError(f'{where}: {verb} is {{"{verb}": "Sheet", "{position}": N, "count": N}}')
        if not isinstance(action[verb], str):
            raise JobError(f"{where}: {verb} names a sheet")
        _index(action[position], verb.endswith("columns"), where)
        count = action.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise JobError(f"{where}: count must be a whole number >= 1, not {count!r}")
    elif "move_rows" in action:
        if set(action) - {"move_rows", "at", "count", "before"} or not {"at", "before"} <= set(action):
            raise JobError(f'{where}: move_rows is {{"move_rows": "Sheet", "at": N, "count": N, "before": N}}')
        if not isinstance(action["move_rows"], str):
            raise JobError(f"{where}: move_rows names a sheet")
        at, before = _index(action["at"], False, where), _index(action["before"], False, where)
        count = action.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise JobError(f"{where}: count must be a whole number >= 1, not {count!r}")
        if at <= before <= at + count:
            raise JobError(f"{where}: rows moved before themselves stay where they are")
    elif "sort" in action:
        _cell_ref(action["sort"], where)
        if set(action) - {"sort", "by", "descending"} or not isinstance(action.get("by"), int) or action["by"] < 1:
            raise JobError(
                f'{where}: sort is {{"sort": "Sheet!A6:P9", "by": N (1-based column of the range), "descending": false}}'
            )
    elif any(k in action for k in ("rename_sheet", "move_sheet", "delete_sheet")):
        verb = next(k for k in ("rename_sheet", "move_sheet", "delete_sheet") if k in action)
        argument = {"rename_sheet": "to", "move_sheet": "to", "delete_sheet": None}[verb]
        allowed = {verb} | ({argument} if argument else set())
        if set(action) != allowed or not isinstance(action[verb], str):
            raise JobError(
                f"{where}: {verb} is {json.dumps({verb: 'Sheet', **({argument: '...'} if argument else {})})}"
            )
        if verb == "rename_sheet" and not (isinstance(action["to"], str) and action["to"]):
            raise JobError(f"{where}: rename_sheet needs a new name")
        if verb == "move_sheet" and (
            isinstance(action["to"], bool) or not isinstance(action["to"], int) or action["to"] < 0
        ):
            raise JobError(f"{where}: move_sheet's to is a 0-based position")
    elif "unprotect" in action or "protect" in action:
        verb = "unprotect" if "unprotect" in action else "protect"
        if (
            set(action) - {verb, "password"}
            or not isinstance(action[verb], str)
            or not isinstance(action.get("password", ""), str)
        ):
            raise JobError(f'{where}: {verb} is {{"{verb}": "Sheet", "password": ""}}')
    else:
        raise JobError(f"{where}: unknown action {json.dumps(action)}")


def _cell_ref(ref: object, where: str) -> tuple[str, str]:
    """``"Budget!D7"`` or ``"'My sheet'!D7:E9"`` -> (sheet name, cell or range)."""
    match = _CELL.match(ref) if isinstance(ref, str) else None
    if match is None:
        raise JobError(f"{where}: a cell is written Sheet!A1 (or 'Sheet name'!A1), not {ref!r}")
    quoted, plain, cells = match.groups()
    return (quoted.replace("''", "'") if quoted is not None else plain), cells.replace("$", "").upper()


def _date(text: object, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise JobError(f"{where}: date must be YYYY-MM-DD, not {text!r}") from None


def _index(position: object, columns: bool, where: str) -> int:
    """A 1-based row number, or a column as a number or letters (E = 5); returns 0-based."""
    if columns and isinstance(position, str) and _COLUMN.match(position):
        number = 0
        for letter in position.upper():
            number = number * 26 + ord(letter) - 64
        return number - 1
    if isinstance(position, bool) or not isinstance(position, int) or position < 1:
        kind = "a column number or letters" if columns else "a row number"
        raise JobError(f"{where}: {kind} (1-based) is needed, not {position!r}")
    return position - 1


# --------------------------------------------------------------------------- LibreOffice


def connect(pipe: str, timeout: float):
    """The Desktop of the LibreOffice listening on ``pipe``; retried while it starts up."""
    import uno
    from com.sun.star.connection import NoConnectException

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + timeout
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if time.monotonic() > deadline:
                raise JobError(f"could not connect to LibreOffice on pipe {pipe} within {timeout:.0f} s") from None
            time.sleep(0.25)
    return context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)


def _props(**values):
    from com.sun.star.beans import PropertyValue

    found = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name, prop.Value = name, value
        found.append(prop)
    return tuple(found)


def _url(path: str) -> str:
    return Path(path).resolve().as_uri()


def run_job(desktop, job: dict, number: int) -> None:
    """Load, edit, recalculate and store one job; the output appears only when complete."""
    src, out = job["src"], job["out"]
    doc = desktop.loadComponentFromURL(_url(src), "_blank", 0, _props(Hidden=True, ReadOnly=False))
    if doc is None or not hasattr(doc, "Sheets"):
        if doc is not None:
            doc.close(True)
        raise JobError(f"job {number}: LibreOffice could not open {src} as a spreadsheet")
    folder = os.path.dirname(out)
    temp = os.path.join(folder, f".{os.path.basename(out)}.{os.getpid()}.tmp")
    try:
        editor = _Editor(doc)
        for index, action in enumerate(job.get("actions", []), 1):
            try:
                editor.apply(action)
            except JobError as error:
                raise JobError(
                    f"job {number} ({os.path.basename(src)}) action {index} {json.dumps(action)}: {error}"
                ) from None
            except Exception as error:  # a UNO exception: say which action caused it
                raise JobError(
                    f"job {number} ({os.path.basename(src)}) action {index} {json.dumps(action)}: "
                    f"LibreOffice refused: {type(error).__name__} {str(error).strip()}"
                ) from None
        doc.calculateAll()
        os.makedirs(folder, exist_ok=True)
        doc.storeToURL(_url(temp), _props(FilterName=FILTERS[job["format"]], Overwrite=True))
        if not os.path.isfile(temp) or os.path.getsize(temp) == 0:
            raise JobError(f"job {number}: LibreOffice wrote nothing for {out}")
        os.replace(temp, out)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
        doc.close(True)


class _Editor:
    """Applies actions to one open document."""

    def __init__(self, doc):
        self.doc = doc

    def sheet(self, name: str):
        sheets = self.doc.Sheets
        if not sheets.hasByName(name):
            raise JobError(f"no sheet {name!r} (sheets: {', '.join(sheets.ElementNames)})")
        return sheets.getByName(name)

    def cell(self, ref: str):
        sheet_name, cells = _cell_ref(ref, "")
        sheet = self.sheet(sheet_name)
        return sheet, sheet.getCellRangeByName(cells)

    def check_editable(self, sheet, target, ref: str) -> None:
        """A person cannot type into a locked cell of a protected sheet; neither can we."""
        if not sheet.isProtected():
            return
        area = target.RangeAddress
        for row in range(area.EndRow - area.StartRow + 1):
            for col in range(area.EndColumn - area.StartColumn + 1):
                if target.getCellByPosition(col, row).CellProtection.IsLocked:
                    name = sheet.Name
                    raise JobError(
                        f'{ref} is locked and sheet {name!r} is protected: add {{"unprotect": "{name}"}} first'
                    )

    def apply(self, action: dict) -> None:
        if "set" in action:
            sheet, target = self.cell(action["set"])
            self.check_editable(sheet, target, action["set"])
            if "clear" in action:
                self.clear(target)
            elif "value" in action:
                self.set_value(target, action["value"])
            elif "date" in action:
                self.set_date(target, _date(action["date"], ""))
            else:
                self.set_formula(target, action["formula"])
        elif "type" in action:
            sheet, target = self.cell(action["type"])
            self.check_editable(sheet, target, action["type"])
            # The text the UI would receive, parsed by LibreOffice with its locale and the
            # cell's number format, exactly as if typed and confirmed with Enter.
            target.setPropertyValue("FormulaLocal", action["text"])
        elif "unprotect" in action:
            sheet = self.sheet(action["unprotect"])
            sheet.unprotect(action.get("password", ""))
            if sheet.isProtected():
                raise JobError(f"sheet {sheet.Name!r} stays protected: wrong password")
        elif "protect" in action:
            self.sheet(action["protect"]).protect(action.get("password", ""))
        elif "move_rows" in action:
            self.move_rows(action)
        elif "sort" in action:
            self.sort(action)
        elif "rename_sheet" in action:
            self.sheet(action["rename_sheet"]).Name = action["to"]
        elif "move_sheet" in action:
            self.sheet(action["move_sheet"])
            self.doc.Sheets.moveByName(action["move_sheet"], action["to"])
        elif "delete_sheet" in action:
            self.sheet(action["delete_sheet"])
            self.doc.Sheets.removeByName(action["delete_sheet"])
        else:
            self.structure(action)

    def unprotected(self, name: str):
        sheet = self.sheet(name)
        if sheet.isProtected():
            raise JobError(f'sheet {sheet.Name!r} is protected: add {{"unprotect": "{sheet.Name}"}} first')
        return sheet

    def move_rows(self, action: dict) -> None:
        """Whole rows cut and inserted before another row (Excel's "Insert Cut Cells", LibreOffice's
        drag with Alt): formulas that refer to the rows follow them."""
        sheet = self.unprotected(action["move_rows"])
        at, before, count = _index(action["at"], False, ""), _index(action["before"], False, ""), action.get("count", 1)
        sheet.Rows.insertByIndex(before, count)
        if at >= before:
            at += count
        last = sheet.Columns.Count - 1
        source = sheet.getCellRangeByPosition(0, at, last, at + count - 1).RangeAddress
        target = sheet.getCellByPosition(0, before).CellAddress
        sheet.moveRange(target, source)
        sheet.Rows.removeByIndex(at, count)

    def sort(self, action: dict) -> None:
        """Data > Sort on a range, by one of its columns (no header row)."""
        import uno
        from com.sun.star.table import TableSortField

        sheet_name, cells = _cell_ref(action["sort"], "")
        sheet = self.unprotected(sheet_name)
        target = sheet.getCellRangeByName(cells)
        field = TableSortField()
        field.Field = action["by"] - 1
        field.IsAscending = not action.get("descending", False)
        descriptor = list(target.createSortDescriptor())
        for prop in descriptor:
            if prop.Name == "SortFields":
                prop.Value = uno.Any("[]com.sun.star.table.TableSortField", (field,))
            elif prop.Name == "ContainsHeader":
                prop.Value = False
        uno.invoke(target, "sort", (tuple(descriptor),))

    def structure(self, action: dict) -> None:
        verb = next(k for k in ("insert_rows", "delete_rows", "insert_columns", "delete_columns") if k in action)
        sheet = self.unprotected(action[verb])
        columns = verb.endswith("columns")
        index = _index(action["before" if verb.startswith("insert") else "at"], columns, "")
        count = action.get("count", 1)
        lines = sheet.Columns if columns else sheet.Rows
        # The same operation as Insert/Delete Rows or Columns in the menu: LibreOffice moves the
        # cells and adjusts formulas, defined names, validations and conditional formats.
        if verb.startswith("insert"):
            lines.insertByIndex(index, count)
        else:
            lines.removeByIndex(index, count)

    @staticmethod
    def clear(target) -> None:
        from com.sun.star.sheet.CellFlags import ANNOTATION, DATETIME, FORMULA, STRING, VALUE

        # What the Delete key clears: contents, not formats.
        target.clearContents(VALUE | DATETIME | STRING | FORMULA | ANNOTATION)

    @staticmethod
    def set_value(target, value) -> None:
        cell = target.getCellByPosition(0, 0)
        if isinstance(value, str):
            cell.setString(value)  # text stays text: "1 200,50" or "=1+1" is not parsed
        else:
            cell.setValue(float(value))

    def set_date(self, target, day: dt.date) -> None:
        from com.sun.star.lang import Locale
        from com.sun.star.util.NumberFormat import DATE

        cell = target.getCellByPosition(0, 0)
        null = self.doc.NullDate
        cell.setValue(float((day - dt.date(null.Year, null.Month, null.Day)).days))
        formats = self.doc.NumberFormats
        if not formats.getByKey(cell.NumberFormat).Type & DATE:
            # Typing a date into a General cell gives it the locale's date format; so here.
            cell.NumberFormat = formats.getStandardFormat(DATE, Locale())

    def set_formula(self, target, text: str) -> None:
        """A formula in Excel's English syntax: ``=SUM(Budget!D6:D8,1)`` or ``=IFERROR(A1/B1,"")``."""
        import uno
        from com.sun.star.sheet.AddressConvention import XL_A1
        from com.sun.star.sheet.FormulaLanguage import XL_ENGLISH
        from com.sun.star.sheet.FormulaMapGroup import ALL_EXCEPT_SPECIAL

        cell = target.getCellByPosition(0, 0)
        parser = self.doc.createInstance("com.sun.star.sheet.FormulaParser")
        parser.setPropertyValue("FormulaConvention", XL_A1)
        parser.setPropertyValue("CompileEnglish", True)
        mapping = self.doc.createInstance("com.sun.star.sheet.FormulaOpCodeMapper").getAvailableMappings(
            XL_ENGLISH, ALL_EXCEPT_SPECIAL
        )
        # pyuno cannot guess the element type of the sequence: name it.
        uno.invoke(
            parser, "setPropertyValue", ("OpCodeMap", uno.Any("[]com.sun.star.sheet.FormulaOpCodeMapEntry", mapping))
        )
        cell.setTokens(parser.parseFormula(text, cell.CellAddress))


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--pipe", required=True, help="the pipe name LibreOffice accepts connections on")
    arguments.add_argument("--jobs", required=True, help="a JSON file: a list of jobs")
    arguments.add_argument("--connect-timeout", type=float, default=120.0)
    options = arguments.parse_args(argv)
    desktop = None
    try:
        try:
            with open(options.jobs, encoding="utf-8") as stream:
                jobs = check_jobs(json.load(stream))
        except (OSError, ValueError) as error:
            raise JobError(f"{options.jobs}: {error}") from None
        desktop = connect(options.pipe, options.connect_timeout)
        for number, job in enumerate(jobs, 1):
            run_job(desktop, job, number)
            print(f"wrote {job['out']}", flush=True)
    except JobError as error:
        print(f"lo_edit: {error}".replace("\n", " "), file=sys.stderr)
        return 2
    except Exception as error:  # LibreOffice itself failed (a crash, a lost connection)
        print(
            f"lo_edit: LibreOffice failed: {type(error).__name__} {str(error).strip()}".replace("\n", " "),
            file=sys.stderr,
        )
        return 2
    finally:
        if desktop is not None:
            try:
                desktop.terminate()  # the caller kills it if this does not end it
            except Exception:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
