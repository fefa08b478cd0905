"""smm_sheets.analyser.reader: values, formulas, names and properties of real workbooks; hostile files refused.

The bombs are built here (a zip of 20,000 entries, 1 GB of zeros in one entry, billion laughs in
an XML part, a zip directory that lies) and each must be refused with its reason named, before
python-calamine is ever called (it is replaced by a function that fails the test).
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from smm_sheets.analyser import reader
from smm_sheets.analyser.checks.formulas import canonical
from smm_sheets.analyser.reader import Limits, scan
from smm_sheets.errors import FileError
from smm_sheets.formula import DIV0, ExcelError
from tests import libreoffice
from tests.helpers import CORPUS

BLUEPRINTS = ("budget", "strategy", "roadmap", "calendar", "kpi-report")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Workbooks we generate, as generated and as LibreOffice saves them


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("generated")
    done = subprocess.run(
        [sys.executable, "-m", "smm_sheets", "generate", "all", "-o", str(folder), "--sample", "--force"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return {name: folder / f"{name}.xlsx" for name in BLUEPRINTS}


@pytest.fixture(scope="module")
def saved_by_libreoffice(generated, tmp_path_factory, soffice) -> dict[str, Path]:
    out = libreoffice.recalculate_many(generated.values(), tmp_path_factory.mktemp("lo-xlsx"))
    return dict(zip(generated, out))


@pytest.fixture(scope="module")
def saved_as_ods(generated, tmp_path_factory, soffice) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("lo-ods")
    return {name: libreoffice.convert(path, folder, "ods") for name, path in generated.items()}


def smm_keys(workbook: reader.WorkbookData) -> dict[str, str]:
    sheet = workbook.sheets["_smm"]
    return {row[0]: row[1] for row in sheet.rows[1:] if row and row[0] is not None}


def openpyxl_formulas(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """Every formula as openpyxl reads it (it expands shared formulas too): an independent oracle."""
    book = openpyxl.load_workbook(path, data_only=False)
    found = {}
    for ws in book.worksheets:
        found[ws.title] = {
            (cell.row - 1, cell.column - 1): cell.value[1:]
            for row in ws.iter_rows()
            for cell in row
            if cell.data_type == "f" and isinstance(cell.value, str)
        }
    return found


def check_smm_workbook(name: str, workbook: reader.WorkbookData) -> None:
    keys = smm_keys(workbook)
    assert keys["blueprint_id"] == name
    assert keys["generator_version"] and keys["blueprint_version"]
    assert keys["company"] and str(keys["year"]).isdigit()
    assert workbook.sheets["_smm"].visible is False
    assert workbook.properties["smm_blueprint_id"] == name
    assert workbook.properties["smm_blueprint_version"] == str(keys["blueprint_version"])
    smm_names = [n for n in workbook.defined_names if n.startswith("smm_")]
    assert smm_names, workbook.defined_names
    assert all("!" in workbook.defined_names[n] or "." in workbook.defined_names[n] for n in smm_names)
    assert not workbook.has_macros and not workbook.external_links


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_generated_workbook(generated, name):
    before = sha256(generated[name])
    workbook = reader.read(generated[name])
    assert sha256(generated[name]) == before
    assert workbook.format == "xlsx" and workbook.cached_values
    check_smm_workbook(name, workbook)
    assert any(n.startswith("list_") for n in workbook.defined_names) or name in ("budget", "kpi-report")
    assert {s.name: s.formulas for s in workbook.sheets.values()} == openpyxl_formulas(generated[name])
    assert any(sheet.formulas for sheet in workbook.sheets.values())


def test_generated_values_match_openpyxl(generated):
    workbook = reader.read(generated["budget"])
    book = openpyxl.load_workbook(generated["budget"], data_only=True)
    for ws in book.worksheets:
        sheet = workbook.sheets[ws.title]
        for row in ws.iter_rows():
            for cell in row:
                expected, actual = cell.value, sheet.value(cell.row - 1, cell.column - 1)
                if isinstance(expected, (int, float)) and not isinstance(expected, bool):
                    assert actual == pytest.approx(expected), cell.coordinate
                elif isinstance(expected, str):
                    assert actual == (expected or None), cell.coordinate
                elif expected is None:
                    assert actual is None, cell.coordinate


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_workbook_saved_by_libreoffice(saved_by_libreoffice, name):
    workbook = reader.read(saved_by_libreoffice[name])
    assert workbook.format == "xlsx" and workbook.cached_values
    assert workbook.application and "LibreOffice" in workbook.application
    check_smm_workbook(name, workbook)
    assert {s.name: s.formulas for s in workbook.sheets.values()} == openpyxl_formulas(saved_by_libreoffice[name])


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_workbook_saved_as_ods(saved_as_ods, generated, name):
    workbook = reader.read(saved_as_ods[name])
    assert workbook.format == "ods" and workbook.cached_values
    check_smm_workbook(name, workbook)
    original = reader.read(generated[name])
    # Every formula comes back from content.xml, translated from OpenFormula to Excel's A1 text.
    for sheet_name, sheet in original.sheets.items():
        ods_formulas = workbook.sheets[sheet_name].formulas
        assert set(ods_formulas) == set(sheet.formulas), sheet_name
        for cell, text in sheet.formulas.items():
            assert canonical(ods_formulas[cell]) == canonical(text), (sheet_name, cell, ods_formulas[cell], text)
    assert list(workbook.sheets) == list(original.sheets)
    assert smm_keys(workbook) == smm_keys(original)
    # the named ranges come back in ODF notation ($'Budget'.$D$6:.$O$6), one for each of ours
    assert {n for n in original.defined_names if n.startswith("smm_")} <= set(workbook.defined_names)


def test_read_table(generated, saved_as_ods, tmp_path):
    rows = reader.read_table(generated["budget"])
    assert rows == reader.read(generated["budget"]).sheets["Start here"].rows  # the first sheet
    assert reader.read_table(saved_as_ods["budget"])[0][0] == rows[0][0]
    libreoffice.convert(generated["budget"], tmp_path, "xls")
    with pytest.raises(FileError, match=r"budget\.xls: an \.xls workbook; expected \.xlsx or \.ods"):
        reader.read_table(tmp_path / "budget.xls")


# ---------------------------------------------------------------------------------------------
# Hand-made packages: formulas, errors, missing cached values


def package(sheet_xml: str, *, extra: dict[str, bytes | str] | None = None, shared_strings: str | None = None) -> bytes:
    """A minimal xlsx with one sheet 'Data' whose sheetData is ``sheet_xml``."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        + (
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            if shared_strings
            else ""
        )
        + "</Types>",
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook {ns} xmlns:r="{rel}"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets>'
        '<definedNames><definedName name="smm_total">Data!$B$1</definedName>'
        '<definedName name="local" localSheetId="0">Data!$A$1</definedName></definedNames></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        + (f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>' if shared_strings else "")
        + "</Relationships>",
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet {ns}><sheetData>{sheet_xml}</sheetData></worksheet>',
    }
    if shared_strings:
        parts["xl/sharedStrings.xml"] = shared_strings
    parts.update(extra or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def write(tmp_path: Path, data: bytes, name: str = "book.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _full_scan(path: Path) -> dict:
    """Formulas of sheet 'Data' as expat reads them (the fast scan must agree)."""
    fail = lambda reason: FileError(reason)  # noqa: E731
    full = scan.SheetScan(fail, "xl/worksheets/sheet1.xml")
    with zipfile.ZipFile(path) as zf:
        full.feed(zf.read("xl/worksheets/sheet1.xml"))
    full.close()
    return full.formulas


SHARED = (
    '<row r="2"><c r="B2"><f t="shared" ref="B2:C4" si="0">A2+$A$1+A$1+$A2+SUM(A:A)+SUM(2:3)+\'My sheet\'!A2+Other!B2'
    '&amp;"A1"&amp;LOG10(A2)&amp;[1]Ext!A2</f><v>1</v></c>'
    '<c r="C2"><f t="shared" si="0"/><v>1</v></c></row>'
    '<row r="4"><c r="B4"><f t="shared" si="0"/><v>1</v></c><c r="C4"><f t="shared" si="0"/><v>1</v></c></row>'
)


def test_shared_formulas_are_expanded(tmp_path):
    path = write(tmp_path, package(SHARED))
    formulas = reader.read(path).sheets["Data"].formulas
    assert formulas[(1, 1)] == "A2+$A$1+A$1+$A2+SUM(A:A)+SUM(2:3)+'My sheet'!A2+Other!B2&\"A1\"&LOG10(A2)&[1]Ext!A2"
    assert formulas[(1, 2)] == "B2+$A$1+B$1+$A2+SUM(B:B)+SUM(2:3)+'My sheet'!B2+Other!C2&\"A1\"&LOG10(B2)&[1]Ext!B2"
    assert formulas[(3, 1)] == "A4+$A$1+A$1+$A4+SUM(A:A)+SUM(4:5)+'My sheet'!A4+Other!B4&\"A1\"&LOG10(A4)&[1]Ext!A4"
    assert formulas[(3, 2)] == "B4+$A$1+B$1+$A4+SUM(B:B)+SUM(4:5)+'My sheet'!B4+Other!C4&\"A1\"&LOG10(B4)&[1]Ext!B4"
    assert formulas == _full_scan(path)


def test_shared_formula_agrees_with_openpyxl(tmp_path):
    sheet = (
        '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f t="shared" ref="B1:B3" si="7">A1*2+$A$1</f><v>2</v></c></row>'
        '<row r="2"><c r="B2"><f t="shared" si="7"/><v>2</v></c></row><row r="3"><c r="B3"><f t="shared" si="7"/><v>2</v></c></row>'
    )
    path = write(tmp_path, package(sheet))
    assert reader.read(path).sheets["Data"].formulas == openpyxl_formulas(path)["Data"]


def test_shared_formula_user_before_its_master_and_out_of_sheet(tmp_path):
    sheet = (
        '<row r="1"><c r="A1"><f t="shared" si="3"/><v>0</v></c></row>'
        '<row r="2"><c r="A2"><f t="shared" ref="A1:A2" si="3">B1+A1</f><v>0</v></c></row>'
    )
    formulas = reader.read(write(tmp_path, package(sheet))).sheets["Data"].formulas
    assert formulas == {(1, 0): "B1+A1", (0, 0): "B0+A0".replace("B0", "#REF!").replace("A0", "#REF!")}


def test_formula_text_is_unescaped_and_kept_as_written(tmp_path):
    sheet = (
        '<row r="1"><c r="A1" t="str"><f>IF(B1&lt;&gt;"",_xlfn.CONCAT(B1,"&amp;&#233;&#x41;"),"")</f><v>x</v></c>'
        '<c r="B1" t="str"><f>__xludf.DUMMYFUNCTION("IMPORTRANGE(""a"")")</f><v>y</v></c></row>'
    )
    path = write(tmp_path, package(sheet))
    formulas = reader.read(path).sheets["Data"].formulas
    assert formulas == {
        (0, 0): 'IF(B1<>"",_xlfn.CONCAT(B1,"&éA"),"")',
        (0, 1): '__xludf.DUMMYFUNCTION("IMPORTRANGE(""a"")")',
    }
    assert formulas == _full_scan(path)


def test_unusual_sheet_xml_goes_to_expat(tmp_path, monkeypatch):
    # a comment in sheetData and a cell placed without r: the fast scan declines, expat reads it
    sheet = (
        '<row r="1"><!-- note --><c r="A1"><v>1</v></c><c><f>A1*3</f><v>3</v></c></row>'
        '<row r="2"><c r="A2"><f>A1+1</f><v>2</v></c></row>'
    )
    path = write(tmp_path, package(sheet))
    used = []
    real = scan.SheetScan
    monkeypatch.setattr(scan, "SheetScan", lambda *a: used.append(a) or real(*a))
    workbook = reader.read(path)
    assert used, "expat was not asked"
    assert workbook.sheets["Data"].formulas == {(0, 1): "A1*3", (1, 0): "A1+1"}
    assert workbook.sheets["Data"].rows == [[1, 3], [2, None]]


def test_error_cells_and_text_that_looks_like_one(tmp_path):
    sheet = (
        '<row r="1"><c r="A1" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="B1" t="inlineStr"><is><t>#DIV/0!</t></is></c>'
        '<c r="C1" t="s"><v>0</v></c><c r="D1" t="e"><v>#N/A</v></c><c r="E1" t="str"><f>"#REF!"</f><v>#REF!</v></c></row>'
    )
    strings = '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>#NAME?</t></si></sst>'
    row = reader.read(write(tmp_path, package(sheet, shared_strings=strings))).sheets["Data"].rows[0]
    assert row == [ExcelError("#DIV/0!"), "#DIV/0!", "#NAME?", ExcelError("#N/A"), "#REF!"]
    assert [type(v) for v in row] == [ExcelError, str, str, ExcelError, str]
    assert str(row[0]) == "#DIV/0!" and row[0] == DIV0  # the formula evaluator's own error value


@pytest.mark.skipif(not (CORPUS / "errors.xlsx").is_file(), reason=f"corpus not found at {CORPUS}")
def test_every_excel_error_value():
    rows = reader.read(CORPUS / "errors.xlsx").sheets["Feuil1"].rows
    assert [str(r[0]) for r in rows] == ["#DIV/0!", "#NAME?", "#VALUE!", "#NULL!", "#REF!", "#NUM!", "#N/A"]
    assert all(isinstance(r[0], ExcelError) for r in rows)


def test_libreoffice_error_cells_in_ods(tmp_path, soffice):
    sheet = '<row r="1"><c r="A1"><v>0</v></c><c r="B1"><f>1/A1</f><v>0</v></c><c r="C1" t="inlineStr"><is><t>#DIV/0!</t></is></c></row>'
    ods = libreoffice.convert(write(tmp_path, package(sheet)), tmp_path / "ods", "ods")
    row = reader.read(ods).sheets["Data"].rows[0]
    assert row == [0, ExcelError("#DIV/0!"), "#DIV/0!"]
    assert [type(v) for v in row[1:]] == [ExcelError, str]


def test_missing_cached_values(tmp_path):
    sheet = '<row r="1"><c r="A1"><v>2</v></c><c r="B1"><f>A1*2</f></c><c r="C1" t="str"><f>"x"</f></c></row>'
    workbook = reader.read(write(tmp_path, package(sheet)))
    assert workbook.cached_values is False
    data = workbook.sheets["Data"]
    assert (data.value(0, 0), data.value(0, 1), data.value(0, 2)) == (2, None, None)
    assert workbook.sheets["Data"].formulas == {(0, 1): "A1*2", (0, 2): '"x"'}
    sheet = '<row r="1"><c r="A1"><v>2</v></c><c r="B1"><f>A1*2</f><v>4</v></c><c r="C1"><f>A1*3</f></c></row>'
    assert reader.read(write(tmp_path, package(sheet))).cached_values is True  # some are cached
    assert reader.read(write(tmp_path, package('<row r="1"><c r="A1"><v>2</v></c></row>'))).cached_values is True


def test_names_properties_application_links(tmp_path):
    custom = (
        '<?xml version="1.0"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="smm_blueprint_id"><vt:lpwstr>budget</vt:lpwstr></property>'
        '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="3" name="year"><vt:i4>2027</vt:i4></property></Properties>'
    )
    app = '<?xml version="1.0"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Excel</Application></Properties>'
    links = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="x/externalLinkPath" Target="file:///C:/Budgets/other.xlsx" TargetMode="External"/></Relationships>'
    )
    data = package(
        '<row r="1"><c r="A1"><v>1</v></c></row>',
        extra={
            "docProps/custom.xml": custom,
            "docProps/app.xml": app,
            "xl/externalLinks/_rels/externalLink1.xml.rels": links,
            "xl/vbaProject.bin": b"\x00" * 10,
        },
    )
    workbook = reader.read(write(tmp_path, data))
    assert workbook.defined_names == {"smm_total": "Data!$B$1"}  # the sheet-scoped name is left out
    assert workbook.properties == {"smm_blueprint_id": "budget", "year": "2027"}
    assert workbook.application == "Microsoft Excel"
    assert workbook.external_links == ["file:///C:/Budgets/other.xlsx"]
    assert workbook.has_macros and workbook.format == "xlsm"


@pytest.mark.parametrize(
    ("odf", "excel"),
    [
        ("of:=SUM([.D6:.D9])", "SUM(D6:D9)"),
        ("of:=[.D10]+[.C39]", "D10+C39"),
        ('of:=IF([.D26]="";0;[.D38]-[.D26])', 'IF(D26="",0,D38-D26)'),
        ('of:=IF([.A1]="a;[.B2]";1;2)', 'IF(A1="a;[.B2]",1,2)'),  # string literals are kept
        ("of:=SUM([$Budget.D22:.O25])", "SUM('Budget'!D22:O25)"),
        ("of:=SUM([$'Task board'.$B$6:.$B$9];1)", "SUM('Task board'!$B$6:$B$9,1)"),
        ("of:=['It''s'.A1]", "'It''s'!A1"),
        ("of:=IF(TRUE();[.A1];FALSE())", "IF(TRUE,A1,FALSE)"),
        ("of:=[.#REF!]+1", "#REF!+1"),
        ("msoxl:=SUM(A1:A2)", "SUM(A1:A2)"),
        ("oooc:=SUM([.A1:.A2])", "SUM(A1:A2)"),
    ],
)
def test_openformula_is_translated_to_a1(odf, excel):
    from smm_sheets.analyser.reader.ods import a1_formula

    assert a1_formula(odf) == excel


def test_ods_formula_cells_are_bounded(tmp_path, no_calamine):
    row = '<table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="1000" table:formula="of:=1" office:value-type="float" office:value="1"/></table:table-row>'
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body><office:spreadsheet>'
        f'<table:table table:name="S">{row}</table:table></office:spreadsheet></office:body></office:document-content>'
    )
    path = tmp_path / "bomb.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    with pytest.raises(FileError, match="formula cells"):
        reader.read(path)


def test_format_is_told_by_content_not_name(tmp_path, generated):
    path = tmp_path / "budget.ods"
    path.write_bytes(generated["budget"].read_bytes())
    workbook = reader.read(path)
    assert workbook.format == "xlsx" and smm_keys(workbook)["blueprint_id"] == "budget"


def test_sheet_value_outside_the_used_area():
    sheet = reader.SheetData("S", [[1, None], [None, "x"]], None)
    assert (sheet.value(0, 0), sheet.value(1, 1), sheet.value(5, 0), sheet.value(0, 9), sheet.value(-1, 0)) == (
        1,
        "x",
        None,
        None,
        None,
    )


# ---------------------------------------------------------------------------------------------
# Hostile and broken files: refused with the reason, calamine never called


@pytest.fixture
def no_calamine(monkeypatch):
    """Fail the test if python-calamine is asked to read anything: the guards must come first."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("python-calamine was called before the guards refused the file")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", refuse)
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", refuse)


def refused(path: Path, limits: Limits = Limits()) -> str:
    with pytest.raises(FileError) as caught:
        reader.read(path, limits)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message


def test_zip_with_too_many_entries(tmp_path, no_calamine):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i in range(20_000):
            zf.writestr(f"x/{i}.xml", b"")
    assert "zip of 20,000 entries is over the limit of 10,000" in refused(write(tmp_path, buffer.getvalue()))


@pytest.mark.slow
def test_zip_bomb_by_ratio(tmp_path, no_calamine):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as entry:
            zeros = bytes(1 << 20)
            for _ in range(1_000):  # 1 GB of zeros, about 1 MB compressed
                entry.write(zeros)
    path = write(tmp_path, buffer.getvalue())
    assert path.stat().st_size < 5_000_000
    message = refused(path)
    assert "zip entry xl/worksheets/sheet1.xml expands 1,0" in message and "over the limit of 200" in message


def test_total_uncompressed_size(tmp_path, generated, no_calamine):
    size = sum(i.file_size for i in zipfile.ZipFile(generated["calendar"]).infolist())
    message = refused(generated["calendar"], Limits(max_uncompressed=size - 1))
    assert f"zip contents of {size:,} bytes are over the limit of {size - 1:,} bytes" in message


def test_file_too_large_on_disk(tmp_path, generated, no_calamine):
    size = generated["budget"].stat().st_size
    assert f"file of {size:,} bytes is over the limit of 1,000 bytes" in refused(
        generated["budget"], Limits(max_file_size=1_000)
    )


def test_zip_directory_that_lies_about_a_size(tmp_path, no_calamine):
    data = bytearray(package('<row r="1"><c r="A1"><v>1</v></c></row>' * 200))
    name = b"xl/worksheets/sheet1.xml"
    real = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(name.decode()).file_size
    for signature, size_at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):  # central and local header
        at = 0
        while (at := data.find(signature, at)) >= 0:
            name_at = at + (46 if signature == b"PK\x01\x02" else 30)
            if data[name_at : name_at + len(name)] == name:
                data[at + size_at : at + size_at + 4] = (100).to_bytes(4, "little")
            at += 4
    assert real > 100
    assert "zip entry xl/worksheets/sheet1.xml holds more than the 100 bytes its directory declares" in refused(
        write(tmp_path, bytes(data))
    )


LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)


def test_billion_laughs_in_shared_strings(tmp_path, no_calamine):
    strings = (
        LAUGHS + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>'
    )
    message = refused(write(tmp_path, package('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', shared_strings=strings)))
    assert "xl/sharedStrings.xml: XML with a DOCTYPE declaration is refused" in message


def test_billion_laughs_in_custom_properties(tmp_path, no_calamine):
    custom = (
        LAUGHS
        + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"><property name="x">&lol9;</property></Properties>'
    )
    message = refused(
        write(tmp_path, package('<row r="1"><c r="A1"><v>1</v></c></row>', extra={"docProps/custom.xml": custom}))
    )
    assert "docProps/custom.xml: XML with a DOCTYPE declaration is refused" in message


def test_doctype_hidden_behind_a_long_prolog(tmp_path, no_calamine):
    sheet_part = '<?xml version="1.0"?>' + "<!-- padding -->" * 5_000 + '<!DOCTYPE x [<!ENTITY e "e">]><worksheet/>'
    message = refused(write(tmp_path, package("", extra={"xl/worksheets/sheet1.xml": sheet_part})))
    assert "xl/worksheets/sheet1.xml: XML prolog longer than 65,536 bytes" in message


def test_encrypted_ooxml_is_an_ole_container(tmp_path, no_calamine):
    fake = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "EncryptionInfo".encode("utf-16-le") + bytes(100)
    assert refused(write(tmp_path, fake, "secret.xlsx")).endswith(
        ": encrypted (password-protected); save it without a password and try again"
    )


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
@pytest.mark.parametrize("name", ["pass_protected.xlsx", "pass_protected.xlsb", "pass_protected.ods", "issue_385.xls"])
def test_password_protected_corpus_files(name):
    assert "encrypted (password-protected)" in refused(CORPUS / name)


def test_not_spreadsheets(tmp_path, no_calamine):
    assert refused(tmp_path / "missing.xlsx").endswith(": no such file")
    assert refused(tmp_path).endswith(": is a folder, not a spreadsheet file")
    assert refused(write(tmp_path, b"", "empty.xlsx")).endswith(": empty file, not a spreadsheet")
    assert "not a spreadsheet (expected xlsx, xlsm, xlsb, xls or ods)" in refused(
        write(tmp_path, b"name,email\na,b\n", "clients.csv")
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert "not a spreadsheet (a zip file without a workbook)" in refused(write(tmp_path, buffer.getvalue(), "x.xlsx"))
    whole = package('<row r="1"><c r="A1"><v>1</v></c></row>')
    assert "broken zip" in refused(write(tmp_path, whole[: len(whole) // 2], "cut.xlsx"))


def test_broken_xml_part(tmp_path, no_calamine):
    data = package('<row r="1"><c r="A1"><v>1</v></c></row>', extra={"docProps/custom.xml": "<Properties><property"})
    assert "docProps/custom.xml: broken XML" in refused(write(tmp_path, data))


def test_what_calamine_raises_becomes_one_line(tmp_path):
    # a worksheet part that is not XML: the fast scan has nothing to say, calamine fails
    data = package("", extra={"xl/worksheets/sheet1.xml": "this is not xml"})
    message = refused(write(tmp_path, data))
    assert "cannot read it (" in message or "broken XML" in message


def test_rust_panic_and_memory_error_become_file_errors(tmp_path, monkeypatch):
    path = write(tmp_path, package('<row r="1"><c r="A1"><v>1</v></c></row>'))
    panic = type("PanicException", (BaseException,), {})  # what pyo3 raises for a Rust panic
    for error, reason in (
        (panic("index out of bounds"), "cannot read it (index out of bounds)"),
        (MemoryError(), "too large to read into memory"),
    ):

        def boom(*_args, error=error, **_kwargs):
            raise error

        monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", boom)
        assert refused(path).endswith(reason)


def test_ods_saved_without_calculating(saved_as_ods, generated, tmp_path):
    # A tool that writes formulas without their values: no value type, no value.
    import re

    from smm_sheets.analyser.pipeline import analyse_file

    source, target = saved_as_ods["budget"], tmp_path / "budget.ods"
    cell = re.compile(r'<table:table-cell [^>]*table:formula="[^"]*"[^>]*>')
    value = re.compile(r' (?:office:value-type|calcext:value-type|office:value|office:string-value)="[^"]*"')
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == "content.xml":
                text, count = cell.subn(lambda m: value.sub("", m.group(0)), data.decode("utf-8"))
                assert count > 100
                data = text.encode("utf-8")
            new.writestr(info, data)
    workbook = reader.read(target)
    assert workbook.cached_values is False
    report, expected = analyse_file(target), analyse_file(generated["budget"])
    assert "no-cached-values" in {f.code for f in report.findings}
    assert not {f.code for f in report.findings} & {"stale-value", "formula-overwritten", "formula-changed"}
    assert report.totals["planned"] == expected.totals["planned"]
    assert report.totals["actual"] == expected.totals["actual"]
