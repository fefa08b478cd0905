"""The generator pipeline: blueprint + parameters -> plan -> file.

Each stage is a function you can call alone: :func:`smm_sheets.blueprint.loader.load`,
:func:`smm_sheets.blueprint.params.make_parameters`, :func:`smm_sheets.plan.build`,
:func:`smm_sheets.generator.xlsx.write`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from smm_sheets.blueprint import loader
from smm_sheets.blueprint.model import Blueprint
from smm_sheets.blueprint.params import Parameters, make_parameters
from smm_sheets.errors import BlueprintError, FileError, InputError
from smm_sheets.generator import xlsx
from smm_sheets.plan import build

ALL = "all"


def generate_files(
    blueprint: str | Path,
    out_dir: str | Path,
    *,
    sample: bool = False,
    force: bool = False,
    kept: dict[Path, Path] | None = None,
    **parameters: Any,
) -> list[Path]:
    """Make the parameters, then write one workbook or (``blueprint="all"``) the set.

    Args:
        blueprint: a built-in id, a blueprint file, or ``"all"``.
        out_dir: the folder to write into; created if missing.
        sample: fill in realistic example data.
        force: replace existing files; one that is not the workbook being written (someone may
            have filled it in) is first copied beside it as ``<id>.kept-YYYYMMDD-HHMMSS.xlsx``.
        kept: filled with replaced file -> its kept copy.
        **parameters: the keyword arguments of :func:`~smm_sheets.blueprint.params.make_parameters`.

    Returns:
        The paths written.

    Raises:
        InputError: the blueprint or the parameters are wrong.
        FileError: the folder cannot be made, or a file exists (without ``force``) or cannot be written.
    """
    params = make_parameters(sample=sample, channel_names=loader.load_channel_names(), **parameters)
    model = None if blueprint == ALL else loader.load(blueprint)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileError(f"cannot create {out_dir}: {error.strerror}") from None
    if model is None:
        return generate_all(params, out_dir, force, kept)
    return [generate(model, params, out_dir, force=force, kept=kept)]


def generate(
    blueprint: Blueprint | str | Path,
    params: Parameters,
    out_dir: str | Path,
    force: bool = False,
    kept: dict[Path, Path] | None = None,
) -> Path:
    """Write ``OUT_DIR/<blueprint id>.xlsx``.

    Args:
        blueprint: a loaded blueprint, a built-in id such as ``budget``, or a file path.
        params: from :func:`smm_sheets.params.make_parameters`.
        out_dir: an existing folder.
        force: replace an existing file (kept first as a copy unless it is this same workbook).
        kept: filled with the replaced file -> its kept copy.

    Returns:
        The path of the workbook written.

    Raises:
        InputError: the blueprint or the parameters are wrong.
        FileError: the file exists (without ``force``) or cannot be written.
    """
    if not isinstance(blueprint, Blueprint):
        blueprint = loader.load(blueprint)
    plan = build(blueprint, with_sample_goals(params, [blueprint]))
    return xlsx.write_all([(plan, Path(out_dir) / f"{blueprint.id}.xlsx")], force, kept)[0]


def generate_all(
    params: Parameters, out_dir: str | Path, force: bool = False, kept: dict[Path, Path] | None = None
) -> list[Path]:
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
        raise InputError(
            f"no built-in blueprint has an option {unknown[0]!r} (options: {', '.join(sorted(known)) or 'none'})"
        )
    params = with_sample_goals(params, blueprints)
    targets = [Path(out_dir) / f"{blueprint.id}.xlsx" for blueprint in blueprints]
    for target in targets:  # before the work of building: an existing file stops everything
        if target.exists() and not force:
            raise FileError(f"{target} exists; use --force to replace it")
    jobs = []
    for blueprint, target in zip(blueprints, targets):
        own = {option.id for option in blueprint.options}
        mine = dataclasses.replace(params, options={k: v for k, v in params.options.items() if k in own})
        jobs.append((build(blueprint, mine), target))
    return xlsx.write_all(jobs, force=force, kept=kept)


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
