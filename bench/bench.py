"""Benchmark: time to generate a workbook, against bare xlsxwriter writing the same cells.

``make bench`` runs this file. For each workload it prints the median time of the whole
generation (load the blueprint, make the parameters, build the plan, render the .xlsx into a
fresh file) and of each stage, and the ratio of the generation to the *floor*: the very same
xlsxwriter calls (values, formulas, formats, validations, charts, properties...) made by a
straight-line script with no smm_sheets code involved. Target: ratio <= 1.3.

How the floor is made:

1. ``xlsx.render`` runs once with proxies around xlsxwriter's Workbook and every object it
   hands out (worksheets, formats, charts). The proxies log each call (method, arguments)
   and pass it on to the real object.
2. The log becomes Python source, one call per line, as someone would write it by hand
   (``ws0.write_number(5, 3, 1200.0, f4)``), compiled once before timing.
3. The replayed file must be byte-identical, part by part, to what ``xlsx.render`` writes
   (apart from the creation timestamps in docProps/core.xml); otherwise the bench stops.

Add a workload by adding a line to ``WORKLOADS`` (or call :func:`bench_workbook`).

Options: ``--runs N`` (timed runs per workload), ``--profile`` (cProfile of the load, build
and render stages), ``--strict`` (exit status 1 when a workload misses the target).
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import datetime
import gc
import io
import math
import os
import pstats
import re
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import xlsxwriter

from smm_sheets.blueprint import loader
from smm_sheets.blueprint.params import make_parameters
from smm_sheets.generator import xlsx
from smm_sheets.plan import WorkbookPlan, build

TARGET_RATIO = 1.3

# Parameters of the sample workbooks (keyword arguments of make_parameters; the channel
# display names are looked up inside the timed run, as the CLI does).
SAMPLE = {
    "company": "Nordic Knitwear Oy",
    "year": 2027,
    "start_month": 1,
    "currency": "EUR",
    "channels": ["instagram", "facebook", "tiktok"],
    "sample": True,
}

# (label, blueprint id, make_parameters keywords, timed runs)
WORKLOADS: list[tuple[str, str, dict[str, Any], int]] = [
    ("sample budget", "budget", SAMPLE, 15),
    ("sample strategy", "strategy", SAMPLE, 7),
    ("sample roadmap", "roadmap", SAMPLE, 7),
    ("sample calendar", "calendar", SAMPLE, 7),
    ("sample kpi-report", "kpi-report", SAMPLE, 7),
]
# The five workbooks of `smm-sheets generate all`, measured as one set.
SET = ("budget", "strategy", "roadmap", "calendar", "kpi-report")
# Posts in the big-calendar runs; time must grow linearly (100k <= 11 x 10k), memory stay under 300 MB.
CALENDAR_POSTS = (10_000, 100_000)
MEMORY_LIMIT_MB = 300
CALENDAR_TARGET = 1.2  # generation of the biggest calendar / its bare-xlsxwriter floor, at most

WARMUP = 3


# --------------------------------------------------------------------------- the pipeline


def generate(blueprint_id: str, params: dict[str, Any], path: str) -> dict[str, float]:
    """Run the whole pipeline into ``path``; return the seconds of each stage."""
    t0 = time.perf_counter()
    blueprint = loader.load(blueprint_id)
    t1 = time.perf_counter()
    parameters = make_parameters(**params, channel_names=loader.load_channel_names())
    t2 = time.perf_counter()
    plan = build(blueprint, parameters)
    t3 = time.perf_counter()
    xlsx.render(plan, path)
    t4 = time.perf_counter()
    return {
        "load": t1 - t0,
        "params": t2 - t1,
        "build": t3 - t2,
        "render": t4 - t3,
        "generate": t4 - t0,
        "workbook": t4 - t1,
    }


# --------------------------------------------------------------------------- recording xlsxwriter


class _Ref:
    """A recorded argument that is an xlsxwriter object: the variable holding it in the replay."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


class _Proxy:
    """Stands for one real xlsxwriter object; logs every method call made on it."""

    __slots__ = ("_real", "_name", "_recorder")

    def __init__(self, real: Any, name: str, recorder: _Recorder):
        self._real, self._name, self._recorder = real, name, recorder

    def __getattr__(self, attr: str):
        value = getattr(self._real, attr)
        if not callable(value):
            return value  # reading a plain attribute changes nothing in the file
        recorder, name = self._recorder, self._name

        def method(*args, **kwargs):
            return recorder.call(name, attr, value, args, kwargs)

        return method

    def __setattr__(self, attr: str, value: Any) -> None:
        if attr in _Proxy.__slots__:
            object.__setattr__(self, attr, value)
        else:  # an option set after construction (workbook.in_memory): logged, replayed as a call
            self._recorder.call(self._name, "__setattr__", self._real.__setattr__, (attr, value), {})

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Recorder:
    """Creates the proxies and keeps the log: (target, method, args, kwargs, result variable)."""

    PREFIXES = {"Worksheet": "ws", "Chartsheet": "cs", "Format": "f"}

    def __init__(self):
        self.log: list[tuple[str | None, str, tuple, dict, str | None]] = []
        self.proxies: dict[int, _Proxy] = {}
        self.counts: dict[str, int] = {}

    def workbook(self, *args, **kwargs) -> _Proxy:
        """Stands in for ``xlsxwriter.Workbook``; the file name becomes the replay's ``path``."""
        if self.log:
            raise RuntimeError("render created a second Workbook; the bench records one")
        real_args = self._unwrap(args)
        result = xlsxwriter.Workbook(*real_args, **self._unwrap(kwargs))
        encoded = self._encode(args)
        self.log.append((None, "Workbook", encoded, self._encode(kwargs), "wb"))
        proxy = self.proxies[id(result)] = _Proxy(result, "wb", self)
        return proxy

    def call(self, target: str, method: str, bound: Callable, args: tuple, kwargs: dict):
        entry_args, entry_kwargs = self._encode(args), self._encode(kwargs)  # before xlsxwriter sees them
        result = bound(*self._unwrap(args), **self._unwrap(kwargs))
        result_name = None
        if type(result).__module__.startswith("xlsxwriter"):
            known = self.proxies.get(id(result))
            if known is None:
                kind = type(result).__name__
                prefix = "ch" if kind.startswith("Chart") and kind != "Chartsheet" else self.PREFIXES.get(kind, "o")
                number = self.counts[prefix] = self.counts.get(prefix, -1) + 1
                result_name = f"{prefix}{number}"
                known = self.proxies[id(result)] = _Proxy(result, result_name, self)
            result = known
        self.log.append((target, method, entry_args, entry_kwargs, result_name))
        return result

    def _encode(self, value: Any) -> Any:
        kind = type(value)
        if kind is _Proxy:
            return _Ref(value._name)
        if isinstance(value, dict):
            return {self._encode(k): self._encode(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            items = [self._encode(v) for v in value]
            return items if isinstance(value, list) else tuple(items)
        if kind.__module__.startswith("xlsxwriter"):
            raise TypeError(f"an unrecorded xlsxwriter {kind.__name__} was passed to xlsxwriter")
        return copy.deepcopy(value)

    def _unwrap(self, value: Any) -> Any:
        kind = type(value)
        if kind is _Proxy:
            return value._real
        if kind is dict:
            return {k: self._unwrap(v) for k, v in value.items()}
        if kind is list:
            return [self._unwrap(v) for v in value]
        if kind is tuple:
            return tuple(self._unwrap(v) for v in value)
        return value


class _PatchedXlsxwriter:
    """What ``smm_sheets.render`` sees as ``xlsxwriter`` while recording."""

    def __init__(self, recorder: _Recorder):
        self.Workbook = recorder.workbook

    def __getattr__(self, attr: str):
        return getattr(xlsxwriter, attr)


def record_render(plan: WorkbookPlan, path: str) -> list:
    """Run ``xlsx.render(plan, path)`` with every xlsxwriter call logged; return the log."""
    recorder = _Recorder()
    saved = xlsx.__dict__.get("xlsxwriter"), xlsx.__dict__.get("Workbook")
    xlsx.xlsxwriter = _PatchedXlsxwriter(recorder)
    if saved[1] is not None:
        xlsx.Workbook = recorder.workbook
    try:
        xlsx.render(plan, path)
    finally:
        xlsx.xlsxwriter = saved[0]
        if saved[1] is not None:
            xlsx.Workbook = saved[1]
    if not recorder.log:
        raise RuntimeError("xlsx.render made no xlsxwriter.Workbook the bench could see")
    return recorder.log


# --------------------------------------------------------------------------- the replay script

_CHUNK = 2000  # calls per generated function, so that huge workbooks still compile


def _source(value: Any) -> str:
    kind = type(value)
    if value is None or kind in (bool, int, str, bytes):
        return repr(value)
    if kind is float:
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if kind is _Ref:
        return value.name
    if kind is dict:
        return "{" + ", ".join(f"{_source(k)}: {_source(v)}" for k, v in value.items()) + "}"
    if kind is list:
        return "[" + ", ".join(_source(v) for v in value) + "]"
    if kind is tuple:
        return "(" + ", ".join(_source(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if kind in (datetime.date, datetime.datetime, datetime.time, datetime.timedelta, Decimal):
        return repr(value)  # "datetime.date(2027, 1, 1)", "Decimal('1.5')": both in the globals
    raise TypeError(f"cannot write a {kind.__name__} argument into the replay script: {value!r}")


def _refs(value: Any, found: set[str]) -> None:
    if type(value) is _Ref:
        found.add(value.name)
    elif isinstance(value, dict):
        for k, v in value.items():
            _refs(k, found)
            _refs(v, found)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _refs(v, found)


def replay_source(log: list) -> str:
    """The log as a Python module defining ``replay(path)``: one plain call per line."""
    slots: dict[str, int] = {}
    chunks = []
    for start in range(0, len(log), _CHUNK):
        body, used, made = [], set(), []
        for target, method, args, kwargs, result in log[start : start + _CHUNK]:
            _refs((args, kwargs), used)
            if target is not None:
                used.add(target)
            arguments = [_source(a) for a in args] + [f"{k}={_source(v)}" for k, v in kwargs.items()]
            if target is None:  # the Workbook: its file name is the replay's argument
                arguments[0] = "path"
                call = f"{method}({', '.join(arguments)})"
            else:
                call = f"{target}.{method}({', '.join(arguments)})"
            if result is not None:
                slots[result] = len(slots)
                made.append(result)
                body.append(f"    {result} = {call}")
            else:
                body.append(f"    {call}")
        number = len(chunks)
        loads = [f"    {name} = v[{slots[name]}]" for name in sorted(used - set(made))]
        stores = [f"    v[{slots[name]}] = {name}" for name in made]
        chunks.append("\n".join([f"def _part{number}(v, path):", *loads, *body, *stores, "    return None"]))
    calls = "\n".join(f"    _part{i}(v, path)" for i in range(len(chunks)))
    return "\n\n".join(chunks) + f"\n\ndef replay(path):\n    v = [None] * {len(slots)}\n{calls}\n"


def compile_replay(log: list) -> tuple[Callable[[str], None], str]:
    """``replay(path)`` writing the logged workbook with bare xlsxwriter, and its source."""
    source = replay_source(log)
    namespace = {"Workbook": xlsxwriter.Workbook, "datetime": datetime, "Decimal": Decimal}
    exec(compile(source, "<xlsxwriter replay>", "exec"), namespace)
    return namespace["replay"], source


def replay_log(log: list, path: str) -> None:
    """The logged calls made again on real xlsxwriter objects, one after the other, into ``path``:
    the floor of a workbook too big for a replay script (a 100,000-post calendar is 1.5 million
    calls). Looking up each call's object and arguments costs a little more than a script."""
    objects: dict[str, Any] = {}

    def real(value: Any) -> Any:
        kind = type(value)
        if kind is _Ref:
            return objects[value.name]
        if kind is dict:
            return {real(k): real(v) for k, v in value.items()}
        if kind is list or kind is tuple:
            return kind(real(v) for v in value)
        return value

    plain = (int, float, str, type(None), bool)
    for target, method, args, kwargs, result in log:
        if target is None:  # the Workbook: its file name is the replay's
            made = xlsxwriter.Workbook(path, *[real(a) for a in args[1:]], **{k: real(v) for k, v in kwargs.items()})
        else:
            if not kwargs and all(type(a) in plain for a in args[:-1]) and type(args[-1] if args else None) is _Ref:
                args = (*args[:-1], objects[args[-1].name])  # most calls: (row, col, value, format)
            elif args or kwargs:
                args = [real(a) for a in args]
            made = getattr(objects[target], method)(
                *args, **({k: real(v) for k, v in kwargs.items()} if kwargs else {})
            )
        if result is not None:
            objects[result] = made


# --------------------------------------------------------------------------- checking the replay

_TIMESTAMP = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")


def _parts(path: str) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    if "docProps/core.xml" in parts:
        parts["docProps/core.xml"] = _TIMESTAMP.sub(b"<dcterms:\\1/>", parts["docProps/core.xml"])
    return parts


def verify_same_file(expected: str, actual: str, what: str) -> dict[str, bytes]:
    """Stop unless both files have the same parts, byte for byte (core.xml timestamps aside)."""
    want, got = _parts(expected), _parts(actual)
    if list(want) != list(got):
        raise AssertionError(f"{what}: parts differ\n  expected {list(want)}\n  got      {list(got)}")
    differing = [f"{name} ({len(want[name])} vs {len(got[name])} bytes)" for name in want if want[name] != got[name]]
    if differing:
        raise AssertionError(f"{what}: parts differ in content: {', '.join(differing)}")
    return want


# --------------------------------------------------------------------------- timing


@dataclass
class Figures:
    label: str
    runs: int
    calls: int  # xlsxwriter calls in the floor
    parts: dict[str, int]  # part name -> bytes, of the verified file
    first_run: float  # seconds, the first (cold) generation in this process
    stages: dict[str, list[float]] = field(default_factory=dict)  # seconds per run
    floor: list[float] = field(default_factory=list)
    peak_generate: int = 0  # bytes, tracemalloc
    peak_floor: int = 0

    def median(self, stage: str) -> float:
        return statistics.median(self.floor if stage == "floor" else self.stages[stage])

    @property
    def ratio(self) -> float:
        return self.median("generate") / self.median("floor")


def _peak(action: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_workbook(
    blueprint_id: str, params: dict[str, Any], runs: int = 15, warmup: int = WARMUP, label: str | None = None
) -> Figures:
    """Time generating one workbook and its bare-xlsxwriter floor.

    Args:
        blueprint_id: a built-in blueprint id or a blueprint file path.
        params: keyword arguments of :func:`smm_sheets.params.make_parameters` (without
            ``channel_names``, which the timed run looks up).
        runs: timed runs of each; the figures are medians.
        warmup: untimed runs of each first.

    Raises:
        AssertionError: the replay does not write the same file as ``xlsx.render``.
    """
    with tempfile.TemporaryDirectory(prefix="smm-bench-") as folder:
        counter = iter(range(10**9))

        def fresh() -> str:
            return os.path.join(folder, f"{next(counter)}.xlsx")

        def discard(path: str) -> None:
            os.unlink(path)

        # The first run in this process, with cold caches (the CLI's case); its file is the reference.
        gc.collect()
        reference = fresh()
        first = generate(blueprint_id, params, reference)["generate"]

        # Record the xlsxwriter calls of the same plan, then replay them; all three files must agree.
        plan = build(loader.load(blueprint_id), make_parameters(**params, channel_names=loader.load_channel_names()))
        recorded = fresh()
        log = record_render(plan, recorded)
        replay, _ = compile_replay(log)
        replayed = fresh()
        replay(replayed)
        verify_same_file(reference, recorded, "render under the recorder")
        parts = verify_same_file(reference, replayed, "bare xlsxwriter replay")
        del plan

        figures = Figures(label or blueprint_id, runs, len(log), {k: len(v) for k, v in parts.items()}, first)
        for _ in range(warmup):
            for action in (lambda p: generate(blueprint_id, params, p), replay):
                path = fresh()
                action(path)
                discard(path)

        # Interleaved, alternating which goes first, so drift hits both alike.
        for i in range(runs):
            order = ("generate", "floor") if i % 2 == 0 else ("floor", "generate")
            for which in order:
                path = fresh()
                gc.collect()
                if which == "generate":
                    for stage, seconds in generate(blueprint_id, params, path).items():
                        figures.stages.setdefault(stage, []).append(seconds)
                else:
                    t0 = time.perf_counter()
                    replay(path)
                    figures.floor.append(time.perf_counter() - t0)
                discard(path)

        figures.peak_generate = _peak(lambda: generate(blueprint_id, params, fresh()))
        figures.peak_floor = _peak(lambda: replay(fresh()))
    return figures


# --------------------------------------------------------------------------- profiling


def profile_workbook(blueprint_id: str, params: dict[str, Any], runs: int = 10, top: int = 20) -> str:
    """cProfile of the load, build and render stages (``runs`` runs each), as text."""
    blueprint = loader.load(blueprint_id)
    parameters = make_parameters(**params, channel_names=loader.load_channel_names())
    out = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="smm-bench-") as folder:
        plan = build(blueprint, parameters)
        for stage, action in (
            ("load", lambda i: loader.load(blueprint_id)),
            ("build", lambda i: build(blueprint, parameters)),
            ("render", lambda i: xlsx.render(plan, os.path.join(folder, f"p{i}.xlsx"))),
        ):
            profiler = cProfile.Profile()
            profiler.enable()
            for i in range(runs):
                action(i)
            profiler.disable()
            for key in ("tottime", "cumulative"):
                out.write(f"\n==== {blueprint_id} {stage}: {runs} runs, top {top} by {key} ====\n")
                stats = pstats.Stats(profiler, stream=out)
                stats.strip_dirs().sort_stats(key).print_stats(top)
    return out.getvalue()


# --------------------------------------------------------------------------- report


def report(figures: Figures) -> bool:
    ms = lambda seconds: f"{seconds * 1000:9.2f}"  # noqa: E731
    sheets = {k: v for k, v in figures.parts.items() if k.startswith("xl/worksheets/sheet")}
    print(f"\n{figures.label}: {figures.runs} timed runs after {WARMUP} warm-up runs (milliseconds)")
    sizes = ", ".join(f"{name.rsplit('/', 1)[1]} {size} B" for name, size in sheets.items())
    print(
        f"  floor = {figures.calls} bare xlsxwriter calls; replay verified: {len(figures.parts)} parts byte-identical"
    )
    print(f"  (apart from core.xml timestamps; sheet XML: {sizes})")
    print(f"  {'stage':<24}{'median':>9}{'min':>10}{'max':>10}")
    rows = [(f"  {s}", figures.stages[s]) for s in ("load", "params", "build", "render")]
    rows += [
        ("generate (all stages)", figures.stages["generate"]),
        ("per workbook (no load)", figures.stages["workbook"]),
        ("bare xlsxwriter floor", figures.floor),
    ]
    for name, values in rows:
        print(f"  {name:<24}{ms(statistics.median(values))} {ms(min(values))} {ms(max(values))}")
    print(f"  {'first run, cold caches':<24}{ms(figures.first_run)}")
    met = figures.ratio <= TARGET_RATIO
    print(f"  ratio generate / floor  {figures.ratio:9.2f}   target <= {TARGET_RATIO}: {'met' if met else 'NOT met'}")
    # Batch generation loads a blueprint once and writes many workbooks from it.
    per_workbook = figures.median("workbook") / figures.median("floor")
    print(
        f"  ratio per workbook / floor {per_workbook:6.2f}   target <= {TARGET_RATIO}: {'met' if per_workbook <= TARGET_RATIO else 'NOT met'}"
    )
    print(f"  ratio render / floor    {figures.median('render') / figures.median('floor'):9.2f}")
    print(
        f"  peak traced memory: generate {figures.peak_generate / 2**20:.1f} MiB, floor {figures.peak_floor / 2**20:.1f} MiB"
    )
    return met


# --------------------------------------------------------------------------- a big calendar


def big_calendar(posts: int):
    """The calendar blueprint with ``posts`` rows, all filled: its sample repeated, dates over the year."""
    import dataclasses

    from smm_sheets.blueprint.model import Rows

    blueprint = loader.load("calendar")

    def fill(block: Any) -> Any:
        if getattr(block, "id", None) != "posts":
            return block
        columns = []
        for column in block.columns:
            if isinstance(column.sample, list) and column.sample:
                if column.type == "date":
                    sample = [(i * 365) // posts for i in range(posts)]  # days after the plan's start
                else:
                    sample = [column.sample[i % len(column.sample)] for i in range(posts)]
                column = dataclasses.replace(column, sample=sample)
            columns.append(column)
        return dataclasses.replace(block, rows=Rows("count", posts), columns=tuple(columns))

    sheets = tuple(dataclasses.replace(s, blocks=tuple(fill(b) for b in s.blocks)) for s in blueprint.sheets)
    return dataclasses.replace(blueprint, sheets=sheets)


def run_big_calendar(posts: int) -> dict[str, float]:
    """One generation of a calendar of ``posts`` posts in this process: seconds and peak RSS."""
    blueprint = big_calendar(posts)
    params = make_parameters(
        **SAMPLE,
        team=["Aino (owner)", "Mikko (copy and ads)", "Sara (photos and video)"],
        channel_names=loader.load_channel_names(),
    )
    with tempfile.TemporaryDirectory(prefix="smm-bench-") as folder:
        t0, c0 = time.perf_counter(), time.process_time()
        plan = build(blueprint, params)
        t1 = time.perf_counter()
        xlsx.render(plan, os.path.join(folder, "calendar.xlsx"))
        t2, c2 = time.perf_counter(), time.process_time()
        size = os.path.getsize(os.path.join(folder, "calendar.xlsx"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"build": t1 - t0, "render": t2 - t1, "total": t2 - t0, "cpu": c2 - c0, "peak_mb": peak, "bytes": size}


def big_calendar_floor(posts: int) -> dict[str, float]:
    """The floor of the big calendar: its xlsxwriter calls recorded, then replayed (:func:`replay_log`), timed."""
    blueprint = big_calendar(posts)
    params = make_parameters(
        **SAMPLE,
        team=["Aino (owner)", "Mikko (copy and ads)", "Sara (photos and video)"],
        channel_names=loader.load_channel_names(),
    )
    with tempfile.TemporaryDirectory(prefix="smm-bench-") as folder:
        expected, replayed = os.path.join(folder, "calendar.xlsx"), os.path.join(folder, "floor.xlsx")
        log = record_render(build(blueprint, params), expected)
        gc.collect()
        gc.freeze()  # the log's million tuples are not the replay's garbage
        started, cpu = time.perf_counter(), time.process_time()
        replay_log(log, replayed)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        del log
        gc.unfreeze()
        verify_same_file(expected, replayed, f"the {posts}-post calendar floor")
    return {"floor": seconds, "cpu": cpu}


def report_big_calendar(sizes: tuple[int, ...] = CALENDAR_POSTS) -> bool:
    """Each size in a fresh process, so that its peak memory is its own; the largest against its floor."""
    import json
    import subprocess

    print("\nbig calendar: every post row filled, one run per size in a fresh process")
    results = {}
    for posts in sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--calendar-posts", str(posts)], capture_output=True, text=True, check=True
        )
        results[posts] = json.loads(done.stdout.strip().splitlines()[-1])
        r = results[posts]
        print(
            f"  {posts:>7} posts: build {r['build']:7.2f} s, render {r['render']:7.2f} s, total {r['total']:7.2f} s, "
            f"peak RSS {r['peak_mb']:6.1f} MB, file {r['bytes'] / 2**20:5.1f} MiB"
        )
    linear = True
    if len(sizes) > 1:
        small, big = results[sizes[0]]["total"], results[sizes[-1]]["total"]
        growth = big / small
        linear = growth <= 11 * sizes[-1] / sizes[0] / 10
        print(f"  time {sizes[-1]:,} / {sizes[0]:,}: {growth:5.2f}x   target <= 11: {'met' if linear else 'NOT met'}")
    fits = all(r["peak_mb"] < MEMORY_LIMIT_MB for r in results.values())
    print(f"  peak memory under {MEMORY_LIMIT_MB} MB: {'met' if fits else 'NOT met'}")
    largest = sizes[-1]
    done = subprocess.run(
        [sys.executable, __file__, "--calendar-floor", str(largest)], capture_output=True, text=True, check=True
    )
    floor = json.loads(done.stdout.strip().splitlines()[-1])
    ratio = results[largest]["cpu"] / floor["cpu"]  # CPU time: the wall clock also measures other work
    fast = ratio <= CALENDAR_TARGET
    print(
        f"  {largest:,} posts: generation {results[largest]['cpu']:.2f} CPU s ({results[largest]['total']:.2f} s wall), "
        f"floor (bare xlsxwriter, the same calls replayed) {floor['cpu']:.2f} CPU s ({floor['floor']:.2f} s wall): "
        f"{ratio:.2f}x   target <= {CALENDAR_TARGET}: {'met' if fast else 'missed'}"
    )
    return linear and fits and fast


def report_set(all_figures: dict[str, Figures]) -> bool:
    """The five workbooks as one set: summed medians against summed floors."""
    figures = [all_figures[b] for b in SET if b in all_figures]
    generate_ms = sum(f.median("generate") for f in figures) * 1000
    workbook_ms = sum(f.median("workbook") for f in figures) * 1000
    floor_ms = sum(f.median("floor") for f in figures) * 1000
    ratio = generate_ms / floor_ms
    print(
        f"\nthe set of {len(figures)} workbooks (generate all): generate {generate_ms:.1f} ms, "
        f"per workbook (no load) {workbook_ms:.1f} ms, floor {floor_ms:.1f} ms"
    )
    print(
        f"  ratio generate / floor {ratio:6.2f}   target <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'}"
    )
    print(f"  ratio per workbook / floor {workbook_ms / floor_ms:6.2f}")
    return ratio <= TARGET_RATIO


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, help="timed runs per workload (default: per workload)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of load, build and render")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a workload misses the target")
    parser.add_argument("--calendar-posts", type=int, help=argparse.SUPPRESS)  # one big-calendar run (internal)
    parser.add_argument("--calendar-floor", type=int, help=argparse.SUPPRESS)  # its floor (internal)
    parser.add_argument("--skip-calendar", action="store_true", help="leave out the 10k/100k-post calendar runs")
    parser.add_argument("--quick", action="store_true", help="3 runs per workload; calendars of 1,000 and 10,000 posts")
    options = parser.parse_args(argv)
    if options.calendar_posts or options.calendar_floor:
        import json

        if options.calendar_floor:
            print(json.dumps(big_calendar_floor(options.calendar_floor)))
        else:
            print(json.dumps(run_big_calendar(options.calendar_posts)))
        return 0
    started = time.perf_counter()
    print(f"smm-sheets bench: Python {sys.version.split()[0]}, xlsxwriter {xlsxwriter.__version__}")
    all_met = True
    measured = {}
    for label, blueprint_id, params, runs in WORKLOADS:
        runs = options.runs or (3 if options.quick else runs)
        figures = measured[blueprint_id] = bench_workbook(blueprint_id, params, runs=runs, label=label)
        all_met &= report(figures)
        if options.profile:
            print(profile_workbook(blueprint_id, params))
    all_met &= report_set(measured)
    if not options.skip_calendar:
        all_met &= report_big_calendar((1_000, 10_000) if options.quick else CALENDAR_POSTS)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"\nprocess peak RSS {maxrss / 1024:.1f} MiB; bench took {time.perf_counter() - started:.1f} s")
    return 1 if options.strict and not all_met else 0


if __name__ == "__main__":
    sys.exit(main())
