"""The generator pipeline: blueprint + parameters -> plan -> file.

Each stage is a function you can call alone: :func:`smm_sheets.loader.load`,
:func:`smm_sheets.params.make_parameters`, :func:`smm_sheets.layout.build`,
:func:`smm_sheets.render.write`.
"""

from __future__ import annotations

from pathlib import Path

from smm_sheets import layout, loader, render
from smm_sheets.model import Blueprint
from smm_sheets.params import Parameters


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
    plan = layout.build(blueprint, params)
    return render.write(plan, Path(out_dir) / f"{blueprint.id}.xlsx", force=force)
