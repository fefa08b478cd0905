"""Benchmark: what reading and analysing each file in a child process costs (smm_sheets.processes).

``analyse DIR``, the portfolio, Dask workers and the web server analyse every file in a forked
child process with a memory and a time limit, so that a file that makes python-calamine abort is
one line. This prints, for each workbook of the sample set (``generate all --sample``), the
median of N runs of ``analyse_file`` in this process and of ``analyse_file_isolated``, and the
difference: the cost of isolation per file, in milliseconds. Both after one warm-up run.

With ``--calendar-posts N``, a calendar of N filled posts (bench/bench.py's ``big_calendar``) is
generated and analysed isolated under the default limits, to show the largest real sheet that
still passes (the reader's own limit is ``Limits.max_sheet_cells``).

Options: ``--runs N`` (default 9), ``--calendar-posts N``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _folder in (REPO, REPO / "bench"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

import smm_sheets
from smm_sheets.analyser.isolated import analyse_file_isolated
from smm_sheets.analyser.pipeline import analyse_file
from smm_sheets.analyser.reader import DEFAULT_LIMITS
from smm_sheets.errors import SmmSheetsError
from smm_sheets.processes import DEFAULT_ISOLATION


def median_ms(call, runs: int) -> float:
    call()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def report_set(runs: int) -> None:
    print(f"isolation cost per file: median of {runs} runs, ms")
    print(f"{'workbook':<12} {'in process':>11} {'isolated':>9} {'cost':>7}")
    with tempfile.TemporaryDirectory(prefix="smm-bench-") as folder:
        paths = smm_sheets.generate("all", folder, sample=True)
        costs = []
        for path in sorted(paths):
            inside = median_ms(lambda p=path: analyse_file(p), runs)
            isolated = median_ms(lambda p=path: analyse_file_isolated(p), runs)
            costs.append(isolated - inside)
            print(f"{Path(path).stem:<12} {inside:>11.1f} {isolated:>9.1f} {isolated - inside:>7.1f}")
        print(f"{'median cost':<12} {'':>11} {'':>9} {statistics.median(costs):>7.1f}")


def report_calendar(posts: int) -> None:
    from bench import SAMPLE, big_calendar, loader, make_parameters  # bench/bench.py
    from smm_sheets.generator import xlsx
    from smm_sheets.plan import build

    blueprint = big_calendar(posts)
    params = make_parameters(
        **SAMPLE,
        team=["Aino (owner)", "Mikko (copy and ads)", "Sara (photos and video)"],
        channel_names=loader.load_channel_names(),
    )
    with tempfile.TemporaryDirectory(prefix="smm-bench-") as folder:
        path = os.path.join(folder, "calendar.xlsx")
        xlsx.render(build(blueprint, params), path)
        start = time.perf_counter()
        try:
            report = analyse_file_isolated(path)
            outcome = f"analysed, {len(report.findings)} findings"
        except SmmSheetsError as error:
            outcome = f"refused: {error}"
        seconds = time.perf_counter() - start
    cells = (posts + 5) * 15
    print(
        f"\ncalendar of {posts:,} posts ({cells:,} cells of the reader's limit of {DEFAULT_LIMITS.max_sheet_cells:,}),"
        f" isolated ({DEFAULT_ISOLATION.memory / 2**30:g} GiB, {DEFAULT_ISOLATION.seconds:g} s of processor time): {outcome} in {seconds:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--calendar-posts", type=int, nargs="*", default=[])
    args = parser.parse_args()
    report_set(args.runs)
    for posts in args.calendar_posts:
        report_calendar(posts)


if __name__ == "__main__":
    main()
