"""Hostile and odd files, built from a generated workbook: far cells, names pointing far, bad dates."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path


def edit_zip(source: Path, target: Path, edit: Callable[[str, bytes], bytes]) -> Path:
    """Copy the package ``source`` to ``target``, every entry passed through ``edit(name, data)``."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, edit(info.filename, src.read(info)))
    return target


def add_cell(xml: bytes, ref: str, value: bytes = b"<v>1</v>", attrs: bytes = b"") -> bytes:
    """A sheet's XML with one more cell at ``ref`` (A1 text), in a row of its own at the end."""
    row = int(re.search(r"\d+", ref).group(0))
    cell = b'<row r="%d"><c r="%s"%s>%s</c></row>' % (row, ref.encode(), attrs, value)
    return xml.replace(b"</sheetData>", cell + b"</sheetData>", 1)


def sheet_part(source: Path, sheet: str) -> str:
    """The worksheet part of ``sheet`` in an xlsx made by the generator (sheets in order)."""
    with zipfile.ZipFile(source) as package:
        workbook = package.read("xl/workbook.xml").decode()
    names = re.findall(r'<sheet name="([^"]*)"', workbook)
    return f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"


def far_cell(source: Path, target: Path, sheet: str, ref: str, **kw) -> Path:
    """``source`` with one stray cell at ``ref`` in ``sheet``."""
    part = sheet_part(source, sheet)
    return edit_zip(source, target, lambda name, data: add_cell(data, ref, **kw) if name == part else data)


def name_pointing(source: Path, target: Path, name: str, ref: str) -> Path:
    """``source`` with the defined name ``name`` pointing at ``ref`` (sheet-qualified A1 text)."""

    def edit(entry: str, data: bytes) -> bytes:
        if entry != "xl/workbook.xml":
            return data
        pattern = rb'(<definedName name="' + name.encode() + rb'">)[^<]*(</definedName>)'
        return re.sub(pattern, lambda m: m.group(1) + ref.encode() + m.group(2), data)

    return edit_zip(source, target, edit)


def ods(target: Path, table_xml: str) -> Path:
    """A minimal OpenDocument spreadsheet whose one sheet ``S`` holds ``table_xml`` (rows)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="S">'
        f"{table_xml}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(target, "w") as package:
        package.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        package.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        package.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return target


ODS_CELL = '<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>'
ODS_FAR = (
    f"<table:table-row>{ODS_CELL}</table:table-row>"
    '<table:table-row table:number-rows-repeated="9998"><table:table-cell/></table:table-row>'
    f'<table:table-row><table:table-cell table:number-columns-repeated="16383"/>{ODS_CELL}</table:table-row>'
)
ODS_REPEATED = (
    '<table:table-row table:number-rows-repeated="1048576">'
    '<table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"/></table:table-row>'
)
ODS_SMALL = f"<table:table-row>{ODS_CELL}{ODS_CELL}</table:table-row>" * 3


def flip_digits(source: Path, target: Path, part: str, count: int = 24, seed: int = 14) -> Path:
    """``source`` with ``count`` digits of one part's XML replaced by others (a damaged file)."""
    import random

    chance = random.Random(seed)

    def edit(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        places = [i for i, byte in enumerate(data) if 48 <= byte <= 57]
        changed = bytearray(data)
        for place in chance.sample(places, count):
            changed[place] = 48 + (changed[place] - 48 + chance.randrange(1, 10)) % 10
        return bytes(changed)

    return edit_zip(source, target, edit)


def formula_text(source: Path, target: Path, part: str, text: bytes) -> Path:
    """``source`` with the first formula of ``part`` replaced by ``text`` (raw XML)."""
    return edit_zip(
        source,
        target,
        lambda name, data: re.sub(rb"<f>[^<]*</f>", b"<f>" + text + b"</f>", data, count=1) if name == part else data,
    )


def smm_rows(source: Path, target: Path, table: str, count: int) -> Path:
    """``source`` (made by the generator) whose ``_smm`` sheet claims ``count`` rows for ``table``."""
    old = re.compile(rb'"rows":\{"' + table.encode() + rb'":\d+\}')
    return edit_zip(source, target, lambda name, data: old.sub(b'"rows":{"%s":%d}' % (table.encode(), count), data))


def deep_yaml(depth: int) -> str:
    """A parameters file nested ``depth`` lists deep."""
    return "company: " + "[" * depth + "]" * depth + "\n"


ALIAS_BOMB = (
    'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
)


def blueprint_with_formula(target: Path, formula: str, rows: int = 3) -> Path:
    """A small blueprint of one table whose one formula column is ``formula``."""
    import json

    text = f"""id: hostile
version: "1.0"
title: title
description: description
labels:
  en: {{title: Hostile, description: A hostile blueprint, sheet: Sheet, n: N, x: X}}
sheets:
  - id: sheet
    title: sheet
    blocks:
      - table: things
        rows: {{source: count, count: {rows}}}
        columns:
          - {{id: n, label: n, type: number}}
          - {{id: x, label: x, type: number, formula: {json.dumps(formula)}}}
"""
    target.write_text(text, encoding="utf-8")
    return target
