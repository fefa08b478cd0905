"""Benchmark: the speed a person feels, as whole processes (start-up included).

``make bench`` runs this file. Each command runs in a fresh process, alternating with its floor
(which goes first swaps every run, so that drift hits both alike); the medians are compared:

- ``smm-sheets analyse budget.xlsx`` (the sample budget) against python-calamine reading every
  worksheet of the same file in a fresh process. Target: at most 5x.
- ``smm-sheets generate budget --sample`` against a fresh-process script of bare xlsxwriter calls
  writing the same cells: the calls ``xlsx.render`` makes, recorded and replayed as
  ``bench/bench.py`` does (checked to write the same file). Target: at most 2x.

Both the wall-clock time and the CPU time (user + system, from the child's rusage) are kept; the
ratios are of CPU time, which other work on a shared machine disturbs far less (the wall-clock
medians are printed beside them).

The same commands run with the code when issue 15 was filed (commit ``2a529f2``, taken from git
into a temporary folder, see ``bench/before.py``) take their turns in the same rotation, for the
"before" columns.

Options: ``--runs N`` (7), ``--no-before`` (skip the code before), ``--strict`` (exit status 1
when a target is missed).
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from before import BEFORE_COMMIT, extract_before  # bench/before.py

ROOT = Path(__file__).resolve().parent.parent

ANALYSE_TARGET = 5.0
GENERATE_TARGET = 2.0

_CALAMINE = """
import sys
import python_calamine
with python_calamine.CalamineWorkbook.from_path(sys.argv[1]) as book:
    for meta in book.sheets_metadata:
        if meta.typ == python_calamine.SheetTypeEnum.WorkSheet:
            book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
"""


def write_replay(script: Path, expected: Path) -> None:
    """A script of the bare xlsxwriter calls that write the sample budget, as the CLI makes it."""
    from bench import compile_replay, record_render, verify_same_file  # bench/bench.py
    from smm_sheets.blueprint import loader
    from smm_sheets.blueprint.params import make_parameters
    from smm_sheets.generator.pipeline import with_sample_goals
    from smm_sheets.plan import build

    blueprint = loader.load("budget")
    params = with_sample_goals(make_parameters(sample=True, channel_names=loader.load_channel_names()), [blueprint])
    log = record_render(build(blueprint, params), str(expected))
    _, source = compile_replay(log)
    script.write_text(
        "import datetime, sys\nfrom decimal import Decimal\nfrom xlsxwriter import Workbook\n\n"
        + source
        + "\nreplay(sys.argv[1])\n",
        encoding="utf-8",
    )
    replayed = script.with_suffix(".xlsx")
    subprocess.run([sys.executable, str(script), str(replayed)], check=True)
    verify_same_file(str(expected), str(replayed), "the generate floor")


def _run(command: list[str], root: Path, ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fresh process, run with the code of ``root``."""
    env = dict(os.environ, PYTHONPATH=str(root))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, env=env, capture_output=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in ok:
        raise SystemExit(f"bench: {' '.join(command)} failed ({done.returncode}):\n{done.stderr.decode()}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def alternate(
    commands: dict[str, list[str]], runs: int, roots: dict[str, Path], ok: tuple[int, ...] = (0,)
) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each command, run ``runs`` times in turn (after one warm-up
    each); which goes first rotates every run, so that drift hits all alike.

    Args:
        commands: the command lines by name.
        roots: the code each runs (its working folder and ``PYTHONPATH``); others run :data:`ROOT`'s.
        ok: exit statuses that are not failures.
    """
    names = list(commands)
    for name in names:
        _run(commands[name], roots.get(name, ROOT), ok)
    timed: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for i in range(runs):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            timed[name].append(_run(commands[name], roots.get(name, ROOT), ok))
    return {
        name: (statistics.median(t[0] for t in times), statistics.median(t[1] for t in times))
        for name, times in timed.items()
    }


def measure(runs: int, before: Path | None) -> dict[str, dict[str, tuple[float, float]]]:
    """(wall, CPU) seconds of ``analyse`` and ``generate``, of their floors and, given the code
    before issue 15 in ``before``, of the same commands run with it."""
    python = sys.executable
    # As installed: with its bytecode compiled (pip does it; PYTHONDONTWRITEBYTECODE would
    # otherwise have every run compile the package again).
    for code in (ROOT, before) if before else (ROOT,):
        compileall.compile_dir(str(code / "smm_sheets"), quiet=1)
    roots = {"before": before} if before else {}
    with tempfile.TemporaryDirectory(prefix="smm-bench-process-") as name:
        folder = Path(name)
        budget = folder / "budget.xlsx"
        script = folder / "replay_budget.py"
        write_replay(script, budget)
        analyse_budget = [python, "-m", "smm_sheets", "analyse", str(budget)]
        analyse = {"command": analyse_budget, "floor": [python, "-c", _CALAMINE, str(budget)]}
        generate_budget = [python, "-m", "smm_sheets", "generate", "budget", "--sample", "-o", str(folder / "out")]
        generate = {
            "command": generate_budget + ["--force"],
            "floor": [python, str(script), str(folder / "floor.xlsx")],
        }
        if before:
            # The code before analyses the same file (it reads it: checked by its exit status).
            analyse["before"] = analyse_budget
            generate["before"] = [*generate_budget[:-1], str(folder / "before"), "--force"]
        figures = {
            "analyse": alternate(analyse, runs, roots, ok=(0, 1)),  # 1: the sample has findings of severity error
            "generate": alternate(generate, runs, roots),
        }
    return figures


def verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "missed"


def report(figures: dict[str, dict[str, tuple[float, float]]]) -> bool:
    print(f"\nwhole processes (fresh process each, medians), load {os.getloadavg()[0]:.2f}")
    print(
        f"  {'command':<38}{'CPU s':>8}{'floor':>8}{'ratio':>8}   target      {'wall s':>8}{'floor':>8}"
        f"{'before s':>10}{'ratio':>8}{'faster':>8}"
    )
    rows = (
        ("smm-sheets analyse budget.xlsx", "analyse", ANALYSE_TARGET),
        ("smm-sheets generate budget --sample", "generate", GENERATE_TARGET),
    )
    met = True
    for label, key, target in rows:
        (wall, cpu), (floor_wall, floor_cpu) = figures[key]["command"], figures[key]["floor"]
        ratio = cpu / floor_cpu
        met &= ratio <= target
        before = ""
        if "before" in figures[key]:
            before_cpu = figures[key]["before"][1]
            before = f"{before_cpu:10.3f}{before_cpu / floor_cpu:7.1f}x{before_cpu / cpu:7.1f}x"
        print(
            f"  {label:<38}{cpu:8.3f}{floor_cpu:8.3f}{ratio:7.1f}x   <= {target:.0f}x: {verdict(ratio, target):<7}"
            f"{wall:8.3f}{floor_wall:8.3f}{before}"
        )
    print("  floors: python-calamine reading the same file; bare xlsxwriter writing the same cells")
    if any("before" in f for f in figures.values()):
        print(f"  before: the same commands with the code of commit {BEFORE_COMMIT}, in the same run (CPU s)")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--no-before", action="store_true", help=f"do not also run commit {BEFORE_COMMIT}'s code")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="smm-bench-before-") as folder:
        before = None if options.no_before else extract_before(Path(folder))
        met = report(measure(options.runs, before))
    return 1 if options.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
