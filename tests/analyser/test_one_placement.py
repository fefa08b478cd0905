"""The analyser places a blueprint once per file, and evaluating that placement with a file's
inputs gives what a whole build from those inputs gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from smm_sheets.analyser import pipeline as A
from smm_sheets.blueprint import loader
from smm_sheets.generator.pipeline import generate_all
from smm_sheets.plan import COMPUTE, CellSource, build, evaluate, placed
from smm_sheets.plan import cache as plan_cache
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


def _count_placements(monkeypatch) -> tuple[list, list]:
    """Count the Placer's placements and plan.build's calls (with their ``values``) from now on."""
    import smm_sheets.plan as plan_module

    placements, builds = [], []
    real_init, real_build = place_module.Placer.__init__, plan_module.build

    def counting_init(self, *args, **kwargs):
        placements.append(1)
        real_init(self, *args, **kwargs)

    def counting_build(*args, **kwargs):
        builds.append(kwargs.get("values", True))
        return real_build(*args, **kwargs)

    monkeypatch.setattr(place_module.Placer, "__init__", counting_init)
    monkeypatch.setattr(plan_module, "build", counting_build)
    return placements, builds


@pytest.mark.parametrize("workbook", WORKBOOKS)
def test_one_placement_per_analysis(sample_set, workbook, monkeypatch):
    plan_cache.clear()  # a first analysis of this blueprint and parameters
    placements, builds = _count_placements(monkeypatch)
    report = A.analyse_file(sample_set / f"{workbook}.xlsx")
    assert report.blueprint_id == workbook
    # No build computes values: the placement is evaluated with the file's inputs (plan.evaluate).
    assert len(placements) == PLACEMENTS[workbook] and builds == [False] * PLACEMENTS[workbook]


@pytest.mark.parametrize("workbook", WORKBOOKS)
def test_the_same_blueprint_and_parameters_are_placed_once(sample_set, workbook, monkeypatch):
    """A second analysis takes the kept placement, leaves it as it was, and reports the same."""
    plan_cache.clear()
    path = sample_set / f"{workbook}.xlsx"
    first = A.analyse_file(path)
    kept = list(plan_cache._plans.values())
    before = [_fingerprint(plan) for plan in kept]
    placements, builds = _count_placements(monkeypatch)
    again = A.analyse_file(path)
    assert placements == [] and builds == []
    assert again == first
    assert [_fingerprint(plan) for plan in kept] == before  # evaluated, never changed


def test_big_plans_are_not_kept(monkeypatch):
    monkeypatch.setattr(plan_cache, "MOST_CELLS_KEPT", 10)
    plan_cache.clear()
    blueprint = loader.load("budget")
    assert placed(blueprint, params()) is not placed(blueprint, params())
    assert not plan_cache._plans


def test_kept_plans_are_keyed_by_every_parameter_and_bounded(monkeypatch):
    plan_cache.clear()
    blueprint = loader.load("budget")
    first = placed(blueprint, params())
    assert placed(blueprint, params()) is first
    assert placed(loader.load("budget"), params()) is not first  # another blueprint object
    assert placed(blueprint, params(company="Other Oy")) is not first
    assert placed(blueprint, params(options={"carry_over": "positive"})) is not first
    assert placed(blueprint, params(language="fi")) is not first
    assert placed(blueprint, params()) is first
    for year in range(2000, 2000 + plan_cache.PLANS_KEPT):
        placed(blueprint, params(year=year))
    assert len(plan_cache._plans) == plan_cache.PLANS_KEPT
    assert placed(blueprint, params()) is not first  # the oldest went


def _fingerprint(plan) -> list:
    """Everything of a plan that evaluating it could change."""
    found = []
    for sheet in plan.sheets:
        for key, cell in sheet.cells.placed.items():
            found.append((key, cell.kind, cell.value, cell.formula, cell.tree, cell.coords, cell.refs))
        found.extend((store.kind, list(store.values), store.texts, store.tree, store._range) for store in sheet.stores)
    found.append(repr(plan.cell_groups))
    return found


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


@pytest.mark.parametrize("workbook", ("budget", "kpi-report", "strategy"))
def test_the_values_pass_resolves_no_formula_cell_again(workbook, monkeypatch):
    """The text pass keeps each formula cell's references resolved (and its cells grouped by
    coordinates): computing the values of that placement resolves none of them again, and the
    values are what a build from the same inputs gives (test above)."""
    from smm_sheets.plan import resolve as resolve_module

    blueprint = loader.load(workbook)
    sample = build(blueprint, params(sample=True))
    placed = build(blueprint, params(), values=False)
    formula_cells = sum(
        1 for sheet in placed.sheets for cell in sheet.cells.placed.values() if cell.kind == "formula" and cell.refs
    )
    assert formula_cells > 10
    groups = len(placed.cell_groups)
    asked, grouped = [], []
    real_resolve, real_cells = resolve_module.Resolver.resolve, resolve_module.Resolver._resolve_cells

    def counting(self, name, modifier, coords, owner):
        if "row" not in coords:  # a table's rows resolve at once, row by row
            asked.append(name)
        return real_resolve(self, name, modifier, coords, owner)

    def grouping(self, placement, name, modifier, coords, owner):
        before = len(self._index)
        found = real_cells(self, placement, name, modifier, coords, owner)
        grouped.extend([name] * (len(self._index) - before))
        return found

    monkeypatch.setattr(resolve_module.Resolver, "resolve", counting)
    monkeypatch.setattr(resolve_module.Resolver, "_resolve_cells", grouping)
    evaluate(placed, _Filled(sample, None, None))
    assert asked == [] and grouped == []
    assert len(placed.cell_groups) == groups


@pytest.mark.parametrize("workbook", ("calendar", "roadmap"))
def test_formulas_translate_as_the_long_way_does(sample_set, workbook):
    """CellMap.translate's shortcuts (formulas above the first moved row left as they are,
    references remembered) give what rewriting every reference gives."""
    from smm_sheets.analyser import reader
    from smm_sheets.analyser.cellmap import CellMap
    from smm_sheets.analyser.checks.formulas import planned_formulas
    from smm_sheets.analyser.recognise import recognise

    data = reader.read(sample_set / f"{workbook}.xlsx")
    blueprint, parameters, _ = recognise(data)
    plan, cells, _ = A._place(blueprint, parameters, data)
    assert not cells.identity  # rows below the table of blank rows moved
    long_way = CellMap(plan, data)
    for sheet in long_way.sheets:
        sheet.rows.same_below = 0  # no row number is at most 0: every formula is rewritten
    formulas = list(planned_formulas(plan))
    assert len(formulas) > 100
    for s, _, _, _, text in formulas:
        assert cells.translate(text, s) == long_way.translate(text, s)
        long_way._moved.clear()  # and nothing remembered either
    assert any(cells.translate(text, s) != text for s, _, _, _, text in formulas)


def test_a_tables_column_reads_as_its_cells_do(sample_set):
    """Workbook.column (a table's column in one go) gives what Workbook.value gives cell by cell,
    past the rows the file has too."""
    from smm_sheets.analyser import reader
    from smm_sheets.analyser.cellmap import CellMap
    from smm_sheets.analyser.checks.workbook import Workbook
    from smm_sheets.analyser.recognise import recognise, sized_blueprint

    data = reader.read(sample_set / "calendar.xlsx")
    blueprint, parameters, how = recognise(data)
    moved = A._place(blueprint, parameters, data)[:2]
    # Placed at the file's own size (its 500 blank rows), no cell moved: the one-go read.
    plan = build(sized_blueprint(blueprint, {"posts": 500}), parameters, values=False)
    in_place = plan, CellMap(plan, data)
    assert not moved[1].identity and in_place[1].identity
    for plan, cells in (moved, in_place):
        book = Workbook(data, plan, cells, recognised_by=how)
        stores = [store for sheet in plan.sheets for store in sheet.stores]
        assert stores
        for store in stores:
            count = len(store.values) + 3
            column = book.column(store.sheet, store.first_row, store.col, count)
            assert column == [book.value(store.sheet, store.first_row + i, store.col) for i in range(count)]
        assert any(v is not None for store in stores for v in book.column(store.sheet, store.first_row, store.col, 5))
