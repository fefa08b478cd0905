"""The generator pipeline: blueprint + parameters -> plan -> file.

Each stage is a function you can call alone: :func:`smm_sheets.loader.load`,
:func:`smm_sheets.params.make_parameters`, :func:`smm_sheets.layout.build`,
:func:`smm_sheets.render.write`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from smm_sheets import layout, loader, render
from smm_sheets.errors import BlueprintError, FileError, InputError
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

    All or nothing: every workbook is built and written to a temporary file before any target
    is replaced. A blueprint option (``--option carry_over=positive``) goes to the workbooks
    that define it.

    Returns:
        The paths written, in the order of the built-in blueprints.

    Raises:
        InputError: an option that no built-in blueprint defines.
        FileError: a target exists (without ``force``) or cannot be written.
    """
    blueprints = [loader.load(path) for path in loader.builtin_blueprints()]
    known = {option.id for blueprint in blueprints for option in blueprint.options}
    unknown = sorted(set(params.options) - known)
    if unknown:
        raise InputError(f"no built-in blueprint has an option {unknown[0]!r} (options: {', '.join(sorted(known)) or 'none'})")
    params = with_sample_goals(params, blueprints)
    targets = [Path(out_dir) / f"{blueprint.id}.xlsx" for blueprint in blueprints]
    for target in targets:  # before the work of building: an existing file stops everything
        if target.exists() and not force:
            raise FileError(f"{target} exists; use --force to replace it")
    jobs = []
    for blueprint, target in zip(blueprints, targets):
        own = {option.id for option in blueprint.options}
        mine = dataclasses.replace(params, options={k: v for k, v in params.options.items() if k in own})
        jobs.append((layout.build(blueprint, mine), target))
    return render.write_all(jobs, force=force)


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
            texts = blueprint.labels.get(params.language, blueprint.labels["en"])  # samples are label keys
            return dataclasses.replace(params, goals=tuple(texts.get(goal, goal) for goal in sample if goal))
    return params
