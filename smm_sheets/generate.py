"""The generator pipeline: blueprint + parameters -> plan -> file.

Each stage is a function you can call alone: :func:`smm_sheets.loader.load`,
:func:`smm_sheets.params.make_parameters`, :func:`smm_sheets.layout.build`,
:func:`smm_sheets.render.write`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from smm_sheets import layout, loader, render
from smm_sheets.errors import BlueprintError, FileError
from smm_sheets.model import Blueprint
from smm_sheets.params import Parameters

ALL = "all"


def generate(blueprint: Blueprint | str | Path, params: Parameters, out_dir: str | Path, force: bool = False) -> Path:
    """Write ``OUT_DIR/<blueprint id>.xlsx``.

    Args:
        blueprint: a loaded blueprint, a built-in id such as ``budget``, or a file path.
        params: from :func:`smm_sheets.params.make_parameters`.
        out_dir: an existing folder.
        force: replace an existing file.

    Returns:
        The path of the workbook written.

    Raises:
        InputError: the blueprint or the parameters are wrong.
        FileError: the file exists (without ``force``) or cannot be written.
    """
    if not isinstance(blueprint, Blueprint):
        blueprint = loader.load(blueprint)
    plan = layout.build(blueprint, with_sample_goals(params, [blueprint]))
    return render.write(plan, Path(out_dir) / f"{blueprint.id}.xlsx", force=force)


def generate_all(params: Parameters, out_dir: str | Path, force: bool = False) -> list[Path]:
    """Write every built-in workbook from one set of parameters, so that their lists agree.

    Nothing is written unless every target can be: existing files (without ``force``) are
    reported before the first workbook is made.

    Returns:
        The paths written, in the order of the built-in blueprints.
    """
    blueprints = [loader.load(path) for path in loader.builtin_blueprints()]
    targets = [Path(out_dir) / f"{blueprint.id}.xlsx" for blueprint in blueprints]
    existing = [str(path) for path in targets if path.exists()]
    if existing and not force:
        raise FileError(f"{', '.join(existing)} exist{'s' if len(existing) == 1 else ''}; use --force to replace")
    params = with_sample_goals(params, blueprints)
    return [render.write(layout.build(bp, params), target, force=force) for bp, target in zip(blueprints, targets)]


def with_sample_goals(params: Parameters, blueprints: list[Blueprint]) -> Parameters:
    """With --sample and no goals given, use the strategy's sample goals in every workbook.

    The strategy names its goals with a list ``goals`` over a field; other workbooks offer
    ``{from: goals}`` dropdowns.
    """
    if params.goals or not params.sample:
        return params
    candidates = [bp for bp in blueprints if any(l.id == "goals" and l.field for l in bp.lists)]
    if not candidates:
        try:
            candidates = [loader.load("strategy")]
        except BlueprintError:
            return params
    for blueprint in candidates:
        goals_list = next((l for l in blueprint.lists if l.id == "goals" and l.field), None)
        sample = blueprint.fields()[goals_list.field].sample if goals_list else None
        if isinstance(sample, list) and sample:
            return dataclasses.replace(params, goals=tuple(str(goal) for goal in sample if goal))
    return params
