"""Benchmark: batch generation and portfolio analysis for many clients.

``make bench`` runs this after ``bench/bench.py``. It writes a clients file of N clients (the
20 sample clients of ``samples/clients.csv`` over and over, each with its own name) and runs,
each in a fresh process, as an agency would:

1. ``smm-sheets batch clients.csv -o DIR --sample --jobs 1`` (every workbook in the one process)
   and ``--jobs 2``: clients per second, and the parallel efficiency of two processes against
   one, ``rate(2) / (2 x rate(1))`` (target >= 0.85);
2. ``smm-sheets analyse DIR --summary summary.xlsx --jobs 2`` of the same clients;
3. both again with fewer clients (``--small``, 250): the peak memory (RSS) of the parent
   process must stay flat as the number of clients grows (target: at most 10 MB more).

Both are also compared with before issue 15 (target: twice as many clients per second), two
ways: the wall-clock rates of ``--jobs 2`` against the README's (a 2-core machine, measured
unloaded), and the processor time per client of ``--jobs 1`` (user + system, the process and
the children it waited for) against the same commands of the code before issue 15, measured
back to back on this shared machine (``BEFORE_*_CPU``). Wall-clock time on a machine others
share measures their work too; processor time much less, so the verdict is the CPU one.

A 1,000-client batch takes many minutes: ``--clients N`` measures fewer (the rates per client
are stable from about 40 clients on, since every client does the same work); the output says
how many were measured. Options: ``--clients N`` (1000), ``--small N`` (250), ``--workbooks
all|a,b`` (all five), ``--strict`` (exit status 1 when a target is missed).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "clients.csv"
EFFICIENCY_TARGET = 0.85
FLAT_MB = 10.0
# Clients per second before issue 15 (README, 1,000 clients, --jobs 2, this 2-core machine):
# the batch and the portfolio analysis must each reach twice as many.
BEFORE_BATCH_RATE = 3.83
BEFORE_PORTFOLIO_RATE = 12.1
# Processor seconds per client before issue 15 (commit 2a529f2), whole process, --jobs 1, 40
# clients of write_clients, two runs each alternating with the code after it at load 1.5: batch
# 37.7 s and 38.2 s, portfolio 13.5 s and 14.8 s. (At load 3-8 the same runs gave 23.6-28.4 s
# and 13.5-16.3 s: compare with this code measured at the same time, as the README does.)
BEFORE_BATCH_CPU = 0.948
BEFORE_PORTFOLIO_CPU = 0.352
SPEEDUP_TARGET = 2.0

# Runs the command line inside the measured process and reports its own time and peak RSS
# (ru_maxrss of this process only: worker processes are not counted).
_CHILD = """
import json, resource, sys, time
from smm_sheets.cli import main
start = time.perf_counter()
try:
    main(sys.argv[1:])
    code = 0
except SystemExit as exit:
    code = exit.code
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "code": code}))
"""


def write_clients(path: Path, count: int) -> None:
    """``count`` clients: the sample clients in turn, numbered so that every name differs."""
    with open(SAMPLE, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        samples = list(reader)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(count):
            row = list(samples[i % len(samples)])
            row[0] = f"{row[0]} {i + 1}"
            writer.writerow(row)


def measure(*args: str) -> dict:
    """Run ``smm-sheets ARGS`` in a fresh process: its seconds, processor seconds (``cpu``: the
    process and the children it waited for; not worker processes a forkserver started), peak
    RSS (MB) and exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-c", _CHILD, *args], cwd=ROOT, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"bench: smm-sheets {' '.join(args)} failed:\n{done.stderr}")
    figures = json.loads(lines[-1])
    figures["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    figures["output"] = "\n".join(lines[:-1])
    figures["load"] = os.getloadavg()[0]  # other work on the machine skews the times
    return figures


def batch(folder: Path, clients: Path, jobs: int, workbooks: str) -> dict:
    out = folder / f"batch-{clients.stem}-j{jobs}"
    figures = measure(
        "batch", str(clients), "-o", str(out), "--sample", "--quiet", "--jobs", str(jobs), "--blueprints", workbooks
    )
    if figures["code"] != 0:
        raise SystemExit(f"bench: the batch failed: {figures['output']}")
    counts = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["counts"]
    figures.update(out=out, clients=counts["clients"], generated=counts["generated"])
    return figures


def portfolio(folder: Path, out: Path, jobs: int) -> dict:
    figures = measure(
        "analyse", str(out), "--summary", str(folder / f"summary-{out.name}.xlsx"), "--quiet", "--jobs", str(jobs)
    )
    if figures["code"] not in (0, 1):  # 1: the sample workbooks have findings of severity error
        raise SystemExit(f"bench: the portfolio analysis failed: {figures['output']}")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--small", type=int, default=250)
    parser.add_argument("--workbooks", default="all")
    parser.add_argument("--strict", action="store_true")
    options = parser.parse_args()
    workbooks = 5 if options.workbooks == "all" else len(options.workbooks.split(","))
    print(
        f"\nbatch: {options.clients} clients x {workbooks} workbooks (--sample), {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="smm-bench-batch-") as name:
        folder = Path(name)
        big, small = folder / "big.csv", folder / "small.csv"
        write_clients(big, options.clients)
        write_clients(small, options.small)

        one = batch(folder, big, 1, options.workbooks)
        shutil.rmtree(one["out"])
        two = batch(folder, big, 2, options.workbooks)
        rate1, rate2 = one["clients"] / one["seconds"], two["clients"] / two["seconds"]
        efficiency = rate2 / (2 * rate1)
        print(
            f"  {'':<34}{'seconds':>9}{'clients/s':>11}{'workbooks/s':>13}{'parent RSS':>12}{'load after':>12}{'CPU s':>9}"
        )
        for label, figures, rate in (("--jobs 1 (one process)", one, rate1), ("--jobs 2", two, rate2)):
            cpu = f"{figures['cpu']:9.1f}" if figures is one else f"{'':>9}"  # a forkserver's workers are not counted
            print(
                f"  {label:<34}{figures['seconds']:9.1f}{rate:11.2f}{rate * workbooks:13.1f}{figures['rss_mb']:9.0f} MB"
                f"{figures['load']:12.2f}{cpu}"
            )
        met_efficiency = efficiency >= EFFICIENCY_TARGET
        print(
            f"  parallel efficiency (2 processes vs 1): {efficiency:.2f}   target >= {EFFICIENCY_TARGET}: {'met' if met_efficiency else 'NOT met'}"
        )
        _speedup("batch --jobs 2, wall clock", rate2, BEFORE_BATCH_RATE, "clients/s")
        met_speed = _cpu_speedup("batch --jobs 1, CPU", one["cpu"] / one["clients"], BEFORE_BATCH_CPU)

        analysed = portfolio(folder, two["out"], 2)
        print(
            f"\nportfolio analysis of the same {two['clients']} clients, --jobs 2: {analysed['seconds']:.1f} s, "
            f"{two['clients'] / analysed['seconds']:.2f} clients/s, parent RSS {analysed['rss_mb']:.0f} MB"
        )
        _speedup(
            "portfolio --jobs 2, wall clock", two["clients"] / analysed["seconds"], BEFORE_PORTFOLIO_RATE, "clients/s"
        )
        alone = portfolio(folder, two["out"], 1)
        met_speed &= _cpu_speedup("portfolio --jobs 1, CPU", alone["cpu"] / two["clients"], BEFORE_PORTFOLIO_CPU)

        few = batch(folder, small, 2, options.workbooks)
        few_analysed = portfolio(folder, few["out"], 2)
        print(f"\nparent peak RSS, --jobs 2       {options.small:>6} clients {options.clients:>6} clients   growth")
        met_flat = True
        for label, low, high in (("batch", few, two), ("portfolio analysis", few_analysed, analysed)):
            growth = high["rss_mb"] - low["rss_mb"]
            met_flat &= growth <= FLAT_MB
            print(f"  {label:<28}{low['rss_mb']:9.0f} MB {high['rss_mb']:9.0f} MB {growth:+8.1f} MB")
        print(f"  flat (growth <= {FLAT_MB:.0f} MB): {'met' if met_flat else 'NOT met'}")
    return 1 if options.strict and not (met_efficiency and met_flat and met_speed) else 0


def _speedup(label: str, rate: float, before: float, unit: str) -> bool:
    """Print ``rate`` against twice the rate before issue 15; return whether it is met."""
    met = rate >= SPEEDUP_TARGET * before
    print(
        f"  {label}: {rate:.2f} {unit} = {rate / before:.2f}x the {before} before   "
        f"target >= {SPEEDUP_TARGET:g}x: {'met' if met else 'missed'}"
    )
    return met


def _cpu_speedup(label: str, seconds: float, before: float) -> bool:
    """Print processor seconds per client against before issue 15 (clients per CPU second: the
    inverse); return whether twice as many is met."""
    speedup = before / seconds
    met = speedup >= SPEEDUP_TARGET
    print(
        f"  {label}: {seconds:.3f} s per client, {1 / seconds:.2f} clients per CPU second = {speedup:.2f}x "
        f"the {1 / before:.2f} before   target >= {SPEEDUP_TARGET:g}x: {'met' if met else 'missed'}"
    )
    return met


if __name__ == "__main__":
    sys.exit(main())
