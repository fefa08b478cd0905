"""The budget's opening balance (option ``opening_balance``, off by default): one input per
advertising line, taken into that line's first month; the analyser reads it back and computes
the carry-over as the sheet does (LibreOffice recalculates to the analyser's figures)."""

from __future__ import annotations

import math

import openpyxl
import pytest
from click.testing import CliRunner

import smm_sheets
from smm_sheets import formula as fx
from smm_sheets.analyser import reader
from smm_sheets.analyser.pipeline import analyse_book
from smm_sheets.blueprint import loader
from smm_sheets.blueprint.params import make_parameters
from smm_sheets.cli import main
from smm_sheets.errors import InputError, ParameterError
from smm_sheets.generator import xlsx
from smm_sheets.plan import META_SHEET, build
from smm_sheets.sheetref import a1
from tests.libreoffice import edit_many, error_cells, soffice_uno  # noqa: F401 - the fixture

PARAMS = {"company": "Acme", "year": 2027, "channels": "instagram,facebook", "sample": True}
ON = {"opening_balance": "yes"}
LINES = [{"line": f"advertising_{c}", "category": "advertising"} for c in ("instagram", "facebook")]
SPARE_AD = {"line": "advertising_spare_1", "category": "advertising"}


def plan_of(options=None, **params):
    return build(loader.load("budget"), make_parameters(**{**PARAMS, **params}, options=options))


def cell_of(plan, name: str, **coords):
    item = plan.items[name]
    row, col = next((r, c) for found, r, c in item.cells if all(found.get(k) == v for k, v in coords.items()))
    return item.sheet, row, col


def ref(plan, name: str, **coords) -> str:
    sheet, row, col = cell_of(plan, name, **coords)
    return f"{plan.sheets[sheet].name}!{a1(row, col)}"


def text_at(plan, name: str, **coords):
    """A formula's text, else the cell's value."""
    sheet, row, col = cell_of(plan, name, **coords)
    cell = plan.sheets[sheet].cells[(row, col)]
    return cell.formula if cell.kind == "formula" else cell.value


def shown(plan) -> list[dict]:
    """Every cell of the sheets people see: kind, style and value (or formula text)."""
    return [
        {where: (cell.kind, cell.style, cell.value, cell.formula) for where, cell in sheet.cells.placed.items()}
        for sheet in plan.sheets
        if sheet.name != META_SHEET
    ]


def test_off_by_default_the_budget_has_no_opening_balance():
    default, off = plan_of(), plan_of({"opening_balance": "no"})
    assert "opening" not in default.items
    assert shown(default) == shown(off)
    # The first month's available amount is its plan, as before the option existed.
    for line in LINES:
        sheet, row, col = cell_of(default, "available", **line, month=0)
        formula = default.sheets[sheet].cells[(row, col)]
        assert formula.formula == a1(*cell_of(default, "planned", **line, month=0)[1:])


def test_on_each_advertising_line_has_an_unlocked_opening_balance_its_first_month_takes_in():
    plan = plan_of(ON)
    item = plan.items["opening"]
    assert item.role == "input"
    lines = [coords["line"] for coords, _, _ in item.cells]
    assert lines == [line["line"] for line in LINES] + [SPARE_AD["line"]]
    sheet = plan.sheets[item.sheet]
    for coords, row, col in item.cells:
        assert sheet.cells[(row, col)].kind == "input" and sheet.cells[(row, col)].style.role == "input"
        assert sheet.cells[(row, col)].style.field_type == "money"
        # The row is named by its line (a spare line by the label typed in its first row: a copy).
        label = sheet.cells[(row, col - 1)]
        if coords["line"] == SPARE_AD["line"]:
            assert label.kind == "formula"
        else:
            assert label.value == coords["line"].removeprefix("advertising_")  # the channel's name, as given
        # A deficit carried in is negative: the validation takes it.
        (rule,) = [v for *rect, v in sheet.validations if rect[0] <= row <= rect[2] and rect[1] <= col <= rect[3]]
        assert rule["minimum"] < -1e9
        planned = a1(*cell_of(plan, "planned", **coords, month=0)[1:])
        assert text_at(plan, "available", **coords, month=0) == f"{planned}+{a1(row, col)}"
        # Other months are as without the option: the plan plus last month's carry-over.
        planned, surplus = (a1(*cell_of(plan, n, **coords, month=m)[1:]) for n, m in (("planned", 1), ("surplus", 0)))
        assert text_at(plan, "available", **coords, month=1) == f"{planned}+{surplus}"
    assert sheet.cells[(item.cells[0][1] - 1, 1)].value == "Opening balance (+) / deficit (−)"


@pytest.mark.parametrize("language", ["fi", "lv", "mk", "nb"])
def test_the_opening_balance_is_labelled_in_the_workbooks_language(language):
    plan = plan_of(ON, language=language)
    texts = loader.catalogs()[language]["budget"]
    item = plan.items["opening"]
    sheet = plan.sheets[item.sheet]
    header = item.cells[0][1] - 1
    assert sheet.cells[(header, 1)].value == texts["measure.opening"]
    values = {cell.value for cell in sheet.cells.placed.values() if cell.kind == "text"}
    assert {texts["section.opening"], texts["note.opening"]} <= values


def test_the_analyser_computes_the_carry_over_from_the_opening_balance(tmp_path):
    plan = plan_of(ON)
    path = xlsx.write(plan, tmp_path / "budget.xlsx")
    book = openpyxl.load_workbook(path)
    openings = {LINES[0]["line"]: 120.0, LINES[1]["line"]: -400.0}
    for line, amount in openings.items():
        sheet, row, col = cell_of(plan, "opening", line=line)
        book[plan.sheets[sheet].name].cell(row + 1, col + 1).value = amount
    book.save(path)
    found, report = analyse_book(reader.read(path), "en")
    assert found.plan.params.options == ON
    evaluator = found.computed.evaluator
    for line in LINES:
        coords = dict(line, month=0)
        planned = evaluator.value(fx.parse("{planned}"), coords)
        actual = evaluator.value(fx.parse("{actual}"), coords)
        assert evaluator.value(fx.parse("{available}"), coords) == planned + openings[line["line"]]
        assert evaluator.value(fx.parse("{surplus}"), coords) == planned + openings[line["line"]] - actual
    # Facebook starts 400 short: January's sample actual overspends what is available.
    assert any(f.code == "overspend" and f.facts.get("line") == "facebook" for f in report.findings), report.findings


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    """The sample budget with the option on, opening balances typed in LibreOffice: a surplus for
    Instagram and a deficit for Facebook (``mixed``), and a deficit only (``deficit``)."""
    plan = plan_of(ON)
    folder = tmp_path_factory.mktemp("opening")
    source = xlsx.write(plan, folder / "budget.xlsx")
    cells = [ref(plan, "opening", **line) for line in LINES]
    jobs = {
        "mixed": [{"set": cells[0], "value": 180.5}, {"type": cells[1], "text": "-95"}],
        "deficit": [{"set": cells[0], "value": -700}],
    }
    paths = edit_many([{"src": source, "out": folder / f"{name}.xlsx", "actions": job} for name, job in jobs.items()])
    return plan, dict(zip(jobs, paths))


@pytest.mark.slow
@pytest.mark.parametrize("case, openings", [("mixed", (180.5, -95.0)), ("deficit", (-700.0, 0.0))])
def test_libreoffice_recalculates_the_carry_over_to_the_analysers_figures(edited, case, openings):
    plan, paths = edited
    path = paths[case]
    values = openpyxl.load_workbook(path, data_only=True)
    found, report = analyse_book(reader.read(path), "en")
    evaluator = found.computed.evaluator
    for line, opening in zip(LINES, openings):
        sheet, row, col = cell_of(plan, "opening", **line)
        assert values[plan.sheets[sheet].name].cell(row + 1, col + 1).value in ((opening or None), opening)
        for month in range(12):
            for name in ("available", "surplus"):
                sheet, row, col = cell_of(plan, name, **line, month=month)
                lo = values[plan.sheets[sheet].name].cell(row + 1, col + 1).value
                ours = evaluator.value(fx.parse("{" + name + "}"), dict(line, month=month))
                assert math.isclose(lo, ours), (case, line, name, month, lo, ours)
        # January takes the opening balance in.
        sheet, row, col = cell_of(plan, "available", **line, month=0)
        january = values[plan.sheets[sheet].name].cell(row + 1, col + 1).value
        assert math.isclose(january, text_at(plan, "planned", **line, month=0) + opening)
    # The report's months: the sheet's carried total split into surplus and deficit.
    by_month = report.totals["by_month"]
    for month in range(12):
        sheet, row, col = cell_of(plan, "carried", month=month)
        carried = values[plan.sheets[sheet].name].cell(row + 1, col + 1).value or 0
        assert math.isclose(by_month["surplus"].iloc[month], max(carried, 0))
        assert math.isclose(by_month["deficit"].iloc[month], max(-carried, 0))
    # Every formula's cached value is LibreOffice's: nothing stale, no finding about formulas.
    assert not [f for f in report.findings if f.code in ("stale-value", "formula-changed", "formula-overwritten")]
    last = [cell_of(plan, "surplus", **line, month=11) for line in LINES]
    lo_remaining = sum(values[plan.sheets[s].name].cell(r + 1, c + 1).value for s, r, c in last)
    assert math.isclose(report.totals["remaining"], lo_remaining)
    assert error_cells(path) == {}


def _has_opening(path) -> bool:
    book, _ = analyse_book(reader.read(path), "en")
    return book.plan.params.options.get("opening_balance") == "yes" and "opening" in book.plan.items


def test_generate_turns_it_on_from_the_command_line_a_parameters_file_and_a_batch(tmp_path):
    runner = CliRunner()
    outcome = runner.invoke(
        main, ["generate", "budget", "-o", str(tmp_path / "flag"), "--option", "opening_balance=yes"]
    )
    assert outcome.exit_code == 0, outcome.output
    assert _has_opening(tmp_path / "flag" / "budget.xlsx")
    # In a parameters file an unquoted yes is YAML's true: it is taken as the option's "yes".
    for value in ("yes", '"yes"'):
        params_file = tmp_path / "params.yaml"
        params_file.write_text(f"company: Acme\nyear: 2030\noptions:\n  opening_balance: {value}\n", encoding="utf-8")
        out = tmp_path / f"file-{len(value)}"
        outcome = runner.invoke(main, ["generate", "budget", "-o", str(out), "--params", str(params_file)])
        assert outcome.exit_code == 0, outcome.output
        assert _has_opening(out / "budget.xlsx")
    outcome = runner.invoke(
        main, ["generate", "budget", "-o", str(tmp_path / "bad"), "--option", "opening_balance=maybe"]
    )
    assert outcome.exit_code == 2 and "opening_balance must be one of no, yes" in outcome.output
    # A batch's clients take it in an option column.
    clients = tmp_path / "clients.csv"
    clients.write_text("company,year,option.opening_balance\nAcme Oy,2030,yes\nBeta Oy,2030,no\n", encoding="utf-8")
    outcome = runner.invoke(main, ["batch", str(clients), "-o", str(tmp_path / "batch"), "--blueprints", "budget"])
    assert outcome.exit_code == 0, outcome.output
    assert _has_opening(tmp_path / "batch" / "acme-oy" / "budget.xlsx")
    assert not _has_opening(tmp_path / "batch" / "beta-oy" / "budget.xlsx")


def test_the_python_api_takes_a_boolean_for_a_yes_no_option(tmp_path):
    assert make_parameters(options={"opening_balance": True}).options == {"opening_balance": "yes"}
    assert make_parameters(options={"opening_balance": False}).options == {"opening_balance": "no"}
    assert shown(plan_of({"opening_balance": True})) == shown(plan_of(ON))
    assert shown(plan_of({"opening_balance": False})) == shown(plan_of())
    (path,) = smm_sheets.generate("budget", tmp_path, year=2030, options={"opening_balance": True})
    assert _has_opening(path)
    # A boolean for an option with other choices is its "yes", which that option refuses in one line.
    with pytest.raises(InputError, match="option carry_over must be one of signed, positive, none, not 'yes'"):
        plan_of({"carry_over": True})
    for bad in ({"opening_balance": 1}, {"opening_balance": None}, ["opening_balance"], {1: "yes"}):
        with pytest.raises(ParameterError, match="options must map option names to values"):
            make_parameters(options=bad)


@pytest.mark.parametrize("language", ["en", "fi", "lv", "mk", "nb"])
def test_start_here_says_where_to_type_the_opening_balance_only_when_on(language):
    labels = loader.load("budget").labels[language]
    plan, off = plan_of(ON, language=language), plan_of(language=language)

    def start_lines(plan) -> list[tuple]:
        start = next(s for s in plan.sheets if s.name == labels["start.sheet"])
        rows = sorted({row for row, _ in start.cells.placed})
        return [tuple(start.cells.placed[(r, c)].value for c in (0, 1) if (r, c) in start.cells.placed) for r in rows]

    said = [line for line in start_lines(plan) if len(line) == 2 and line[1] == labels["start.opening.text"]]
    # On the line of the sheet that has the table, and naming that table by its title.
    assert said == [(labels["sheet.budget"], labels["start.opening.text"])]
    assert labels["section.opening"] in labels["start.opening.text"]
    assert "fix --next-year" in labels["start.opening.text"]
    lines = start_lines(plan)
    carry = lines.index((labels["start.carry"],))
    assert lines[carry + 2] == said[0]  # right after the carry-over's example
    assert all(labels["start.opening.text"] not in line for line in start_lines(off))
    assert len(start_lines(off)) == len(lines) - 1
