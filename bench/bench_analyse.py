"""Benchmark: time to analyse a filled-in workbook, against reading it and against other engines.

``make bench`` runs this file after ``bench/bench.py``. For every workbook of the sample set
(``smm-sheets generate all --params samples/nordic-knitwear.yaml --sample``), written once into
a temporary folder, and again for the same set after LibreOffice opened, recalculated and saved
it (as real files come back from spreadsheet apps), it prints:

* the median of ``analyse_file(path)`` over N runs, after one warm-up that loads the blueprints;
* the *floor*: python-calamine merely reading every worksheet of the file (median too); the ratio
  analysis / floor, target <= 3;
* a peer, ``formulas.ExcelModel`` loading the file and calculating every formula (one run in a
  fresh process, after one untimed warm-up there on the set's smallest file; a workbook that takes
  over 120 s or raises is skipped and said so); its time / analysis time, target >= 50;
* a LibreOffice recalculation, one ``soffice`` start per workbook as a user pays it
  (``tests/libreoffice.py`` ``recalculate``); its time / analysis time, target >= 20; skipped,
  with a note, when soffice is missing.

Then calendars of 10,000 and 100,000 filled posts (``big_calendar`` of bench/bench.py), generated
once, each analysed in a fresh process: seconds and peak RSS (target < 500 MB for 100,000), and
the calamine floor, also in a fresh process. Peak RSS is Linux's VmHWM (see :func:`peak_rss_mb`).

A missed target is printed as "missed"; the exit status is 0 unless something crashed.

Options: ``--runs N`` (timed runs per workbook, default 9), ``--profile`` (cProfile of analysing
the sample budget and calendar), ``--skip-peers``, ``--skip-libreoffice-set``, ``--skip-calendar``,
``--calendar-posts N ...`` (sizes of the big calendars).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import importlib.metadata
import io
import json
import os
import pstats
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for _folder in (REPO, REPO / "bench"):  # tests.libreoffice, and bench.py's big_calendar
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

import python_calamine
import yaml

from smm_sheets.analyser.pipeline import analyse_file
from smm_sheets.blueprint import loader
from smm_sheets.blueprint.params import Parameters, make_parameters
from smm_sheets.generator import xlsx
from smm_sheets.generator.pipeline import generate_all
from smm_sheets.plan import build
from smm_sheets.plan import cache as plan_cache

SAMPLE_PARAMS = REPO / "samples" / "nordic-knitwear.yaml"
RUNS = 9
FLOOR_TARGET = 3.0  # analysis / calamine reading, at most
FORMULAS_TARGET = 50.0  # formulas.ExcelModel / analysis, at least
LIBREOFFICE_TARGET = 20.0  # LibreOffice recalculation / analysis, at least
PEER_TIMEOUT = 120.0  # seconds; a slower peer run is skipped
MEMORY_LIMIT_MB = 500  # peak RSS analysing the 100,000-post calendar
CALENDAR_POSTS = (10_000, 100_000)


# --------------------------------------------------------------------------- the workbooks


def sample_parameters() -> Parameters:
    """The parameters of ``--params samples/nordic-knitwear.yaml --sample``."""
    values = yaml.safe_load(SAMPLE_PARAMS.read_text(encoding="utf-8"))
    return make_parameters(sample=True, channel_names=loader.load_channel_names(), **values)


def make_sample_set(folder: Path) -> list[Path]:
    """Write the five sample workbooks into ``folder``, as ``smm-sheets generate all --sample`` does.

    Returns:
        The paths written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    return generate_all(sample_parameters(), folder, force=True)


def write_big_calendar(posts: int, path: Path) -> float:
    """Write a calendar with ``posts`` filled post rows to ``path``; return the seconds it took."""
    from bench import SAMPLE, big_calendar  # bench/bench.py

    started = time.process_time()
    params = make_parameters(
        **SAMPLE,
        team=["Aino (owner)", "Mikko (copy and ads)", "Sara (photos and video)"],
        channel_names=loader.load_channel_names(),
    )
    xlsx.write(build(big_calendar(posts), params), path, force=True)
    return time.process_time() - started


# --------------------------------------------------------------------------- what is timed


def read_with_calamine(path: Path) -> int:
    """The floor: python-calamine reading every worksheet's values; returns the number of rows."""
    rows = 0
    with python_calamine.CalamineWorkbook.from_path(str(path)) as book:
        for meta in book.sheets_metadata:
            if meta.typ == python_calamine.SheetTypeEnum.WorkSheet:  # chart sheets have no cells
                rows += len(book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False))
    return rows


def _timed(action: Callable[[], Any], prepare: Callable[[], Any] | None = None) -> float:
    # CPU time of this process: on a machine shared with other work the wall clock measures the
    # others too (both the analysis and calamine run in this one thread).
    if prepare is not None:
        prepare()
    gc.collect()
    started = time.process_time()
    action()
    return time.process_time() - started


@dataclass
class Figures:
    """Seconds measured for one workbook."""

    name: str
    size: int  # bytes on disk
    analyse: list[float] = field(default_factory=list)  # a new file: no placed plan kept
    kept: list[float] = field(default_factory=list)  # the same file again: its placed plan kept
    floor: list[float] = field(default_factory=list)
    findings: int = 0
    placements: int = 0  # how many times the blueprint was placed on cells (plan.place.Placer)
    formulas: float | None = None
    formulas_note: str = ""
    libreoffice: float | None = None
    libreoffice_note: str = ""

    @property
    def analyse_median(self) -> float:
        return statistics.median(self.analyse)

    @property
    def kept_median(self) -> float:
        return statistics.median(self.kept)

    @property
    def floor_median(self) -> float:
        return statistics.median(self.floor)

    @property
    def floor_ratio(self) -> float:
        return self.analyse_median / self.floor_median


def _counting_placements(action: Callable[[], Any]) -> tuple[Any, int]:
    """What ``action`` returns, and how many plans it placed (a build places once)."""
    from smm_sheets.plan import place

    count = [0]
    real = place.Placer.__init__

    def counting(self, *args, **kwargs):
        count[0] += 1
        real(self, *args, **kwargs)

    place.Placer.__init__ = counting
    try:
        return action(), count[0]
    finally:
        place.Placer.__init__ = real


def time_analysis(path: Path, runs: int = RUNS) -> Figures:
    """Median seconds of ``analyse_file(path)`` and of its calamine floor, ``runs`` runs each.

    One untimed run of each comes first (it loads the blueprints); then the two alternate, which
    goes first swapping every run, so that drift hits both alike. The analysis that counts is
    of a new file: the placed plans kept in memory (``plan.cache``) are forgotten before it. The
    same file analysed again right after, its plan kept (the web page, a re-run), is timed too.
    """
    figures = Figures(path.stem, path.stat().st_size)
    plan_cache.clear()
    figures.findings, figures.placements = _counting_placements(lambda: len(analyse_file(path).findings))
    read_with_calamine(path)
    for i in range(runs):
        order = ("analyse", "floor") if i % 2 == 0 else ("floor", "analyse")
        for which in order:
            if which == "analyse":
                figures.analyse.append(_timed(lambda: analyse_file(path), prepare=plan_cache.clear))
                figures.kept.append(_timed(lambda: analyse_file(path)))
            else:
                figures.floor.append(_timed(lambda: read_with_calamine(path)))
    return figures


def time_formulas(path: Path, warmup: Path | None = None, timeout: float = PEER_TIMEOUT) -> tuple[float | None, str]:
    """Seconds of ``formulas.ExcelModel`` loading and calculating ``path``, in a fresh process.

    Returns:
        (seconds, "") or (None, why it was skipped: over ``timeout`` s, or the error it raised).
    """
    command = [sys.executable, __file__, "--formulas-one", str(path), "--timeout", str(timeout)]
    if warmup is not None:
        command += ["--warmup", str(warmup)]
    try:
        # The child stops itself after `timeout` s of calculation; this bound adds imports and warm-up.
        done = subprocess.run(command, capture_output=True, text=True, timeout=2 * timeout + 60)
    except subprocess.TimeoutExpired:
        return None, f"over {timeout:g} s"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"crashed: {last[:80]}"
    result = json.loads(lines[-1])
    return result.get("seconds"), result.get("note", "")


def _formulas_in_this_process(path: str, warmup: str | None, timeout: float) -> dict[str, Any]:
    import formulas

    def calculate(target: str) -> None:
        formulas.ExcelModel().loads(target).finish().calculate()

    def stop(*_args) -> None:
        raise TimeoutError

    with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):  # formulas draws progress bars
        if warmup:
            try:
                calculate(warmup)  # its first model pays one-off set-up costs; a user's next file does not
            except Exception:
                pass
        signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        started = time.perf_counter()
        try:
            calculate(path)
        except TimeoutError:
            return {"seconds": None, "note": f"over {timeout:g} s"}
        except Exception as error:
            first_line = (str(error).splitlines() or [""])[0]
            return {"seconds": None, "note": f"raised {type(error).__name__}: {first_line[:60]}"}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        return {"seconds": time.perf_counter() - started}


def time_libreoffice(path: Path, out_dir: Path, timeout: float = PEER_TIMEOUT) -> tuple[float | None, str]:
    """Seconds of one LibreOffice start that opens ``path``, recalculates every formula and saves it.

    Returns:
        (seconds, "") or (None, why it was skipped: soffice missing, failed or over ``timeout`` s).
    """
    from tests.libreoffice import LibreOfficeError, recalculate, soffice_path

    if soffice_path() is None:
        return None, "soffice missing"
    started = time.perf_counter()
    try:
        recalculate(path, out_dir, timeout=timeout)
    except LibreOfficeError as error:
        return None, f"failed: {str(error).splitlines()[0][:60]}"
    return time.perf_counter() - started, ""


def bench_set(paths: list[Path], runs: int, peers: bool, scratch: Path) -> list[Figures]:
    """:func:`time_analysis` of each workbook, and the two peers unless ``peers`` is false."""
    smallest = min(paths, key=lambda p: p.stat().st_size)
    results = []
    for path in paths:
        figures = time_analysis(path, runs)
        if peers:
            figures.formulas, figures.formulas_note = time_formulas(path, warmup=smallest)
            figures.libreoffice, figures.libreoffice_note = time_libreoffice(path, scratch / "recalculated")
        results.append(figures)
    return results


# --------------------------------------------------------------------------- big calendars


def peak_rss_mb() -> float:
    """This process's peak resident memory, in MB (MiB).

    Linux's VmHWM, not ``getrusage``'s ru_maxrss: a child started from a big parent reports the
    parent's peak as its own ru_maxrss (execve keeps the high-water mark of the address space it
    replaces), and the parent here has just generated a 100,000-post calendar.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _measure_in_this_process(what: str, path: str) -> dict[str, Any]:
    imports_mb = peak_rss_mb()  # Python and this script's imports (pandas...)
    # "seconds" is CPU time, as everywhere in this bench (the machine may be shared); "wall" beside it.
    started, cpu = time.perf_counter(), time.process_time()
    if what == "analyse":
        report = analyse_file(path)
        result = {"findings": len(report.findings), "cells": report.cells_checked}
    else:
        result = {"rows": read_with_calamine(Path(path))}
    result["seconds"] = time.process_time() - cpu
    result["wall"] = time.perf_counter() - started
    result["peak_mb"] = peak_rss_mb()
    result["imports_mb"] = imports_mb
    return result


def measure_fresh(what: str, path: Path) -> dict[str, Any]:
    """``analyse_file`` ("analyse") or the calamine floor ("floor") of ``path`` in a fresh process.

    Returns:
        seconds (the blueprints loaded inside them, for "analyse"), peak_mb (the process's peak
        RSS), imports_mb (its RSS before the measurement), and findings and cells, or rows.
    """
    done = subprocess.run([sys.executable, __file__, "--measure", what, str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{what} of {path} failed in its process:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_big_calendars(sizes: tuple[int, ...], folder: Path) -> dict[int, dict[str, Any]]:
    """For each size: generate the calendar once, then analyse it and read it, each in a fresh process."""
    results = {}
    for posts in sizes:
        path = folder / f"calendar-{posts}.xlsx"
        generated = write_big_calendar(posts, path)
        analysis = measure_fresh("analyse", path)
        floor = measure_fresh("floor", path)
        results[posts] = {"generate": generated, "bytes": path.stat().st_size, "analyse": analysis, "floor": floor}
        path.unlink()
    return results


# --------------------------------------------------------------------------- profiling


def profile_analysis(path: Path, runs: int = 5, top: int = 25) -> str:
    """cProfile of ``runs`` analyses of ``path`` (after a warm-up), top entries by own and cumulative time."""
    analyse_file(path)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        analyse_file(path)
    profiler.disable()
    out = io.StringIO()
    for key in ("tottime", "cumulative"):
        out.write(f"\n==== analyse_file({path.name}): {runs} runs, top {top} by {key} ====\n")
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(top)
    return out.getvalue()


# --------------------------------------------------------------------------- report


def _verdict(met: bool) -> str:
    return "met" if met else "missed"


def _ratio(peer: float | None, note: str, analysis: float, target: float) -> tuple[str, str, bool | None]:
    """(peer seconds, ratio with its verdict, met or None when skipped) for one table cell pair."""
    if peer is None:
        return "skipped", f"({note})", None
    ratio = peer / analysis
    return f"{peer:.2f}", f"{ratio:.0f}x {_verdict(ratio >= target)}", ratio >= target


def report_set(title: str, results: list[Figures], runs: int, peers: bool) -> list[bool]:
    """Print one set's table; return whether each measured target was met."""
    verdicts: list[bool] = []
    print(f"\n{title}: median of {runs} runs after 1 warm-up; analyse and floor in milliseconds, peers in seconds")
    header = [
        "workbook",
        "KiB",
        "findings",
        "placed",
        "analyse ms",
        "floor ms",
        f"/floor (<= {FLOOR_TARGET:g})",
        "plan kept ms",
        "/floor",
    ]
    if peers:
        header += [
            "formulas s",
            f"x faster (>= {FORMULAS_TARGET:g})",
            "LibreOffice s",
            f"x faster (>= {LIBREOFFICE_TARGET:g})",
        ]
    rows = []
    for f in results:
        met = f.floor_ratio <= FLOOR_TARGET
        verdicts.append(met)
        row = [
            f.name,
            f"{f.size / 1024:.0f}",
            str(f.findings),
            f"{f.placements}x",
            f"{f.analyse_median * 1000:.1f}",
            f"{f.floor_median * 1000:.2f}",
            f"{f.floor_ratio:.1f}x {_verdict(met)}",
            f"{f.kept_median * 1000:.1f}",
            f"{f.kept_median / f.floor_median:.1f}x",
        ]
        if peers:
            for peer, note, target in (
                (f.formulas, f.formulas_note, FORMULAS_TARGET),
                (f.libreoffice, f.libreoffice_note, LIBREOFFICE_TARGET),
            ):
                seconds, ratio, met = _ratio(peer, note, f.analyse_median, target)
                row += [seconds, ratio]
                if met is not None:
                    verdicts.append(met)
        rows.append(row)
    analysed = sum(f.analyse_median for f in results)
    kept = sum(f.kept_median for f in results)
    floor = sum(f.floor_median for f in results)
    total = [
        "the set",
        f"{sum(f.size for f in results) / 1024:.0f}",
        str(sum(f.findings for f in results)),
        "",
        f"{analysed * 1000:.1f}",
        f"{floor * 1000:.2f}",
        f"{analysed / floor:.1f}x {_verdict(analysed / floor <= FLOOR_TARGET)}",
        f"{kept * 1000:.1f}",
        f"{kept / floor:.1f}x",
    ]
    if peers:
        for attribute, target in (("formulas", FORMULAS_TARGET), ("libreoffice", LIBREOFFICE_TARGET)):
            both = [(getattr(f, attribute), f.analyse_median) for f in results if getattr(f, attribute) is not None]
            if both:
                peer = sum(p for p, _ in both)
                ratio = peer / sum(a for _, a in both)
                skipped = len(results) - len(both)
                total += [
                    f"{peer:.2f}",
                    f"{ratio:.0f}x {_verdict(ratio >= target)}" + (f" ({skipped} skipped)" if skipped else ""),
                ]
            else:
                total += ["skipped", ""]
    rows.append(total)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for i, row in enumerate([header, *rows]):
        print(
            "  "
            + " | ".join(str(c).ljust(w) if j == 0 else str(c).rjust(w) for j, (c, w) in enumerate(zip(row, widths)))
        )
        if i == 0:
            print("  " + "-+-".join("-" * w for w in widths))
    return verdicts


def report_big_calendars(results: dict[int, dict[str, Any]]) -> list[bool]:
    """Print the big calendars' table; return whether the memory target was met."""
    print(
        "\nbig calendars: every post row filled; analysis and the calamine floor each in a fresh process (one run);"
        " CPU seconds (wall in brackets)"
    )
    print(
        f"  {'posts':>8} | {'file MiB':>8} | {'generate s':>10} | {'analyse s':>17} | {'peak RSS MB':>11} | {'floor s':>13} | "
        f"{'floor RSS MB':>12} | {'/floor':>6} | {'findings':>8}"
    )
    verdicts = []
    for posts, r in results.items():
        a, f = r["analyse"], r["floor"]
        print(
            f"  {posts:>8,} | {r['bytes'] / 2**20:8.1f} | {r['generate']:10.1f} | "
            f"{a['seconds']:7.2f} ({a['wall']:7.2f}) | {a['peak_mb']:11.0f} | "
            f"{f['seconds']:5.2f} ({f['wall']:5.2f}) | {f['peak_mb']:12.0f} | {a['seconds'] / f['seconds']:5.1f}x | {a['findings']:>8}"
        )
    if len(results) >= 2:
        (small, s), (big, b) = list(results.items())[0], list(results.items())[-1]
        print(
            f"  analysis time {big:,} / {small:,} posts: {b['analyse']['seconds'] / s['analyse']['seconds']:.1f}x "
            f"(linear would be {big / small:.0f}x)"
        )
    biggest = max(results)
    peak = results[biggest]["analyse"]["peak_mb"]
    met = peak < MEMORY_LIMIT_MB
    print(
        f"  peak RSS analysing {biggest:,} posts: {peak:.0f} MB   target < {MEMORY_LIMIT_MB} MB: {_verdict(met)}"
        f"   (of which {results[biggest]['analyse']['imports_mb']:.0f} MB before it starts: Python and its imports)"
    )
    for posts, r in results.items():
        ratio = r["analyse"]["seconds"] / r["floor"]["seconds"]
        print(
            f"  analysis / floor, {posts:,} posts: {ratio:.1f}x   target <= {FLOOR_TARGET:g}: {_verdict(ratio <= FLOOR_TARGET)}"
        )
        verdicts.append(ratio <= FLOOR_TARGET)
    return [met, *verdicts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS, help=f"timed runs per workbook (default {RUNS})")
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of analysing the sample budget and calendar"
    )
    parser.add_argument("--skip-peers", action="store_true", help="leave out formulas and LibreOffice")
    parser.add_argument("--skip-libreoffice-set", action="store_true", help="leave out the set saved by LibreOffice")
    parser.add_argument("--skip-calendar", action="store_true", help="leave out the big calendars")
    parser.add_argument(
        "--calendar-posts", type=int, nargs="+", default=list(CALENDAR_POSTS), help="sizes of the big calendars"
    )
    # Internal: one measurement in this (fresh) process, printed as a JSON line.
    parser.add_argument("--measure", nargs=2, metavar=("WHAT", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--formulas-one", help=argparse.SUPPRESS)
    parser.add_argument("--warmup", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=PEER_TIMEOUT, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.measure:
        print(json.dumps(_measure_in_this_process(*options.measure)))
        return 0
    if options.formulas_one:
        print(json.dumps(_formulas_in_this_process(options.formulas_one, options.warmup, options.timeout)))
        return 0

    from tests.libreoffice import recalculate_many, soffice_path

    started = time.perf_counter()
    print(
        f"smm-sheets analysis bench: Python {sys.version.split()[0]}, python-calamine {importlib.metadata.version('python-calamine')}"
    )
    verdicts: list[bool] = []
    with tempfile.TemporaryDirectory(prefix="smm-bench-analyse-") as scratch:
        folder = Path(scratch)
        generated = make_sample_set(folder / "generated")
        peers = not options.skip_peers
        results = bench_set(generated, options.runs, peers, folder)
        verdicts += report_set("sample set, as generated", results, options.runs, peers)
        if options.profile:
            for path in generated:
                if path.stem in ("budget", "calendar"):
                    print(profile_analysis(path))
        if not options.skip_libreoffice_set:
            if soffice_path() is None:
                print("\nsample set saved by LibreOffice: skipped (soffice missing)")
            else:
                saved = recalculate_many(generated, folder / "saved")
                results = bench_set(saved, options.runs, peers, folder)
                verdicts += report_set(
                    "sample set, after LibreOffice recalculated and saved it", results, options.runs, peers
                )
        if not options.skip_calendar:
            verdicts += report_big_calendars(bench_big_calendars(tuple(options.calendar_posts), folder))
    print(
        f"\ntargets met: {sum(verdicts)} of {len(verdicts)}; process peak RSS "
        f"{peak_rss_mb():.0f} MiB; bench took {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
