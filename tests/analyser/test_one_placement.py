"""The analyser places a blueprint once per file, and evaluating that placement with a file's
inputs gives what a whole build from those inputs gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from smm_sheets.analyser import pipeline as A
from smm_sheets.blueprint import loader
from smm_sheets.generator.pipeline import generate_all
from smm_sheets.plan import COMPUTE, CellSource, build, evaluate
from smm_sheets.plan import place as place_module
from tests.conftest import params

WORKBOOKS = ("budget", "calendar", "kpi-report", "roadmap", "strategy")


@pytest.fixture(scope="module")
def sample_set(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("one-placement")
    generate_all(params(sample=True), folder)
    return folder


# The sample calendar and roadmap have tables of blank rows longer than the rows with values,
# which recognise() bounds the metadata's row counts by; the analysis bounds the size it finds in
# the file the same way, so the first placement stands (placing again would make the same plan).
PLACEMENTS = {"budget": 1, "kpi-report": 1, "strategy": 1, "calendar": 1, "roadmap": 1}


@pytest.mark.parametrize("workbook", WORKBOOKS)
def test_one_placement_per_analysis(sample_set, workbook, monkeypatch):
    placements, builds = [], []
    real_init, real_build = place_module.Placer.__init__, A.build

    def counting_init(self, *args, **kwargs):
        placements.append(1)
        real_init(self, *args, **kwargs)

    def counting_build(*args, **kwargs):
        builds.append(kwargs.get("values", True))
        return real_build(*args, **kwargs)

    monkeypatch.setattr(place_module.Placer, "__init__", counting_init)
    monkeypatch.setattr(A, "build", counting_build)
    report = A.analyse_file(sample_set / f"{workbook}.xlsx")
    assert report.blueprint_id == workbook
    # No build computes values: the placement is evaluated with the file's inputs (plan.evaluate).
    assert len(placements) == PLACEMENTS[workbook] and builds == [False] * PLACEMENTS[workbook]


class _Filled(CellSource):
    """The inputs of the sample plan, one formula replaced by a constant and one input changed."""

    def __init__(self, sample, replaced, changed):
        self.sample, self.replaced, self.changed = sample, replaced, changed

    def input(self, sheet, row, col):
        if (sheet, row, col) == self.changed:
            return 12345.0
        return self.sample.sheets[sheet].cells.get((row, col)).value

    def override(self, sheet, row, col):
        return 777.0 if (sheet, row, col) == self.replaced else COMPUTE


def _first(plan, kind, sheet_name=None):
    for s, sheet in enumerate(plan.sheets):
        for (row, col), cell in sheet.cells.placed.items():
            if cell.kind == kind and (sheet_name is None or sheet.name == sheet_name):
                return s, row, col
    raise AssertionError(f"no {kind} cell")


@pytest.mark.parametrize("workbook", ("budget", "calendar", "kpi-report"))
def test_evaluate_gives_what_a_build_from_the_inputs_gives(workbook):
    blueprint = loader.load(workbook)
    sample = build(blueprint, params(sample=True))
    placed = build(blueprint, params(), values=False)
    texts = {key: cell.formula for sheet in placed.sheets for key, cell in sheet.cells.placed.items()}
    source = _Filled(sample, _first(sample, "formula"), _first(sample, "input"))

    evaluated = evaluate(placed, source)
    built = build(blueprint, params(), source)

    assert [sheet.name for sheet in evaluated.sheets] == [sheet.name for sheet in built.sheets]
    compared = 0
    for mine, theirs in zip(evaluated.sheets, built.sheets):
        assert {k: (c.kind, c.value) for k, c in mine.cells.placed.items()} == {
            k: (c.kind, c.value) for k, c in theirs.cells.placed.items()
        }
        assert [s.values for s in mine.stores] == [s.values for s in theirs.stores]
        compared += len(mine.cells.placed)
    assert compared > 100
    s, row, col = source.replaced
    assert evaluated.sheets[s].cells.placed[(row, col)].value == 777.0
    for measure in blueprint.report.totals:
        assert evaluated.evaluator.value(measure.formula, {}) == built.evaluator.value(measure.formula, {})
    # The placement evaluated is left as it was: formula text, no values.
    assert {key: cell.formula for sheet in placed.sheets for key, cell in sheet.cells.placed.items()} == texts
    assert placed.evaluator is None


def test_evaluate_wants_a_plan_of_formula_text():
    with pytest.raises(ValueError, match="values=False"):
        evaluate(build(loader.load("budget"), params()), _Filled(None, None, None))


@pytest.mark.parametrize(("workbook", "table"), (("calendar", "posts"), ("roadmap", "task_list")))
def test_a_table_found_at_the_size_placed_is_not_placed_again(sample_set, workbook, table):
    """The first placement stands where placing again at the size found would make the same plan."""
    from smm_sheets.analyser import reader
    from smm_sheets.analyser.cellmap import CellMap
    from smm_sheets.analyser.recognise import recognise, sized_blueprint

    data = reader.read(sample_set / f"{workbook}.xlsx")
    blueprint, parameters, _ = recognise(data)
    plan, cells, resized = A._place(blueprint, parameters, data)
    assert table in resized  # the file's table of blank rows is longer than the rows with values
    again = build(sized_blueprint(plan.blueprint, A._row_counts(plan)), parameters, values=False)
    assert A._row_counts(again) == A._row_counts(plan)
    assert [sheet.cells.placed.keys() for sheet in again.sheets] == [s.cells.placed.keys() for s in plan.sheets]
    again_cells = CellMap(again, data)
    assert [(s.name, s.rows.known, s.cols.known) for s in again_cells.sheets] == [
        (s.name, s.rows.known, s.cols.known) for s in cells.sheets
    ]
