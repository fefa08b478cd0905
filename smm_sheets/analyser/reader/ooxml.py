"""OOXML packages (xlsx, xlsm, xlsb): workbook.xml, relationships, defined names, custom properties,
and the expansion of shared formulas.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from smm_sheets.analyser.reader.data import WorkbookData
from smm_sheets.analyser.reader.zipguard import Package, local_name
from smm_sheets.sheetref import MAX_COLUMNS, MAX_ROWS, column_letter, column_number


def office_document(package: Package) -> str | None:
    """The workbook part of an OOXML package: the officeDocument relationship's target, else the usual name.

    Args:
        package: the checked zip package.

    Returns:
        Its zip entry name, or None when the package has no workbook part.
    """
    root = package.tree("_rels/.rels")
    if root is not None:
        for rel in root:
            if rel.get("Type", "").endswith("/officeDocument"):
                return _resolve("", rel.get("Target", ""))
    for candidate in ("xl/workbook.xml", "xl/workbook.bin"):
        if candidate in package.infos:
            return candidate
    return None


def read_ooxml(package: Package, workbook: WorkbookData, workbook_part: str) -> dict[str, str]:
    """The format (xlsx, xlsm, xlsb), application, properties, external links and names of an OOXML workbook.

    Args:
        package: the checked zip package.
        workbook: filled in here.
        workbook_part: the workbook part's entry name (see :func:`office_document`).

    Returns:
        Sheet name -> its worksheet part (empty for xlsb, whose parts are binary).
    """
    lower = {name.lower(): name for name in package.infos}
    workbook.has_macros = any(name.endswith("vbaproject.bin") for name in lower)
    types = package.tree("[Content_Types].xml")
    if types is not None and workbook.format == "xlsx":
        for override in types:
            if override.get("PartName", "").lstrip("/") == workbook_part and "macroEnabled" in override.get(
                "ContentType", ""
            ):
                workbook.format = "xlsm"
    if workbook.format == "xlsx" and workbook.has_macros:
        workbook.format = "xlsm"
    app = package.tree("docProps/app.xml")
    if app is not None:
        for child in app:
            if local_name(child.tag) == "Application" and child.text:
                workbook.application = child.text.strip()
    workbook.properties = custom_properties(package)
    for name in sorted(package.infos):
        if name.lower().startswith("xl/externallinks/_rels/") and name.lower().endswith(".rels"):
            root = package.tree(name)
            for rel in root if root is not None else ():
                if rel.get("Target"):
                    workbook.external_links.append(rel.get("Target"))
    if workbook_part.endswith(".bin"):
        return {}  # xlsb: binary parts, values and names only through calamine
    base = str(PurePosixPath(workbook_part).parent)
    base = "" if base == "." else base
    rels_name = f"{base}/_rels/{PurePosixPath(workbook_part).name}.rels".lstrip("/")
    targets = {}
    rels = package.tree(rels_name)
    for rel in rels if rels is not None else ():
        if rel.get("TargetMode") != "External":
            targets[rel.get("Id")] = _resolve(base, rel.get("Target", ""))
    root = package.tree(workbook_part)
    if root is None:
        raise package.fail(f"broken workbook ({workbook_part} is missing)")
    sheet_parts: dict[str, str] = {}
    for element in root.iter():
        tag = local_name(element.tag)
        if tag == "sheet":
            rid = next((v for k, v in element.attrib.items() if local_name(k) == "id"), None)
            if element.get("name") is not None and targets.get(rid) in package.infos:
                sheet_parts[element.get("name")] = targets[rid]
        elif tag == "definedName" and element.get("localSheetId") is None and element.get("name"):
            workbook.defined_names[element.get("name")] = (element.text or "").removeprefix("=")
    return sheet_parts


def custom_properties(package: Package) -> dict[str, str]:
    """The custom document properties (docProps/custom.xml), by name; values as text."""
    root = package.tree("docProps/custom.xml")
    found = {}
    for prop in root if root is not None else ():
        if local_name(prop.tag) == "property" and prop.get("name") is not None:
            value = next(iter(prop), None)
            found[prop.get("name")] = "" if value is None else (value.text or "")
    return found


def _resolve(base: str, target: str) -> str:
    """A relationship target as a zip entry name ('/xl/x.xml' is absolute, 'x.xml' relative to base)."""
    if target.startswith("/"):
        path = target.lstrip("/")
    else:
        path = f"{base}/{target}" if base else target
    parts: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


# Tokens of an A1 formula that shifting must step over whole (strings, quoted sheet names,
# bracketed parts) or shift (cell refs, whole-column and whole-row ranges).
_FORMULA_TOKEN = re.compile(
    r"""(?P<skip>"(?:[^"]|"")*"|'(?:[^']|'')*'|\[[^\]]*\])"""
    r"""|(?<![A-Za-z0-9_.$])(?P<cols>\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3})(?![A-Za-z0-9_(])"""
    r"""|(?<![A-Za-z0-9_.$:])(?P<rows>\$?[0-9]{1,7}:\$?[0-9]{1,7})(?![A-Za-z0-9_.(])"""
    r"""|(?<![A-Za-z0-9_.$])(?P<cell>\$?[A-Za-z]{1,3}\$?[0-9]{1,7})(?![A-Za-z0-9_(])"""
)


class SharedFormula:
    """A shared formula's master text, split once into fixed text and shiftable references."""

    def __init__(self, text: str, row: int, col: int):
        self.row, self.col = row, col
        self.pieces: list[Any] = []  # str, or (kind, parts) for a reference
        last = 0
        for match in _FORMULA_TOKEN.finditer(text):
            if match.lastgroup == "skip":
                continue
            self.pieces.append(text[last : match.start()])
            token = match.group()
            if match.lastgroup == "cell":
                m = re.fullmatch(r"(\$?)([A-Za-z]{1,3})(\$?)([0-9]+)", token)
                self.pieces.append(("cell", m.group(1), column_number(m.group(2)), m.group(3), int(m.group(4))))
            elif match.lastgroup == "cols":
                a, b = token.split(":")
                self.pieces.append(
                    (
                        "cols",
                        a.startswith("$"),
                        column_number(a.lstrip("$")),
                        b.startswith("$"),
                        column_number(b.lstrip("$")),
                    )
                )
            else:
                a, b = token.split(":")
                self.pieces.append(
                    ("rows", a.startswith("$"), int(a.lstrip("$")), b.startswith("$"), int(b.lstrip("$")))
                )
            last = match.end()
        self.pieces.append(text[last:])
        self.plain = len(self.pieces) == 1

    def at(self, row: int, col: int) -> str:
        """The formula of the cell at 0-based ``row``, ``col``: relative references shifted, #REF! off the sheet."""
        if self.plain:
            return self.pieces[0]
        dr, dc = row - self.row, col - self.col
        out = []
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            kind = piece[0]
            if kind == "cell":
                _, col_abs, c, row_abs, r = piece
                c = c if col_abs else c + dc
                r = r if row_abs else r + dr
                out.append(
                    "#REF!"
                    if not (0 <= c < MAX_COLUMNS and 1 <= r <= MAX_ROWS)
                    else f"{col_abs}{column_letter(c)}{row_abs}{r}"
                )
            elif kind == "cols":
                _, a_abs, a, b_abs, b = piece
                a, b = (a if a_abs else a + dc), (b if b_abs else b + dc)
                out.append(
                    "#REF!"
                    if not (0 <= a < MAX_COLUMNS and 0 <= b < MAX_COLUMNS)
                    else f"{'$' if a_abs else ''}{column_letter(a)}:{'$' if b_abs else ''}{column_letter(b)}"
                )
            else:
                _, a_abs, a, b_abs, b = piece
                a, b = (a if a_abs else a + dr), (b if b_abs else b + dr)
                out.append(
                    "#REF!"
                    if not (1 <= a <= MAX_ROWS and 1 <= b <= MAX_ROWS)
                    else f"{'$' if a_abs else ''}{a}:{'$' if b_abs else ''}{b}"
                )
        return "".join(out)
