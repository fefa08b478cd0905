"""Load test of the web server: ``smm-sheets serve --workers 2`` under N simultaneous clients.

``make bench`` runs this file last (``WEB_BENCH_SECONDS`` sets the duration; not a timed test).
The server starts in a subprocess with its own temporary folder. N clients (httpx, asyncio)
then post to ``/api/v1/analyse`` for ``--seconds``, round robin over a mix:

* the five sample workbooks, one a request, and the whole set in one request (5 files);
* bad files: a text file, a truncated xlsx, a broken zip (the report says "cannot be analysed",
  or 422 for the zip);
* bombs: a zip of 50 MB of zeros (422: refused by the zip guards before it expands), an xlsx whose
  XML declares entities (refused), and a 21 MB file (413 before it is analysed).

It prints requests per second, latency p50/p95/p99, the responses by status, the errors (any
status that is not the one the payload should get: must be 0), and the server's RSS (the
uvicorn processes, their forkservers and analysis workers) after the warm-up, every 10 s, and
at the end, with the number of files analysed so far (must stay flat). Then the p50 of one request analysing the sample budget
alone, sequentially (issue 15's target: under 100 ms), beside ``analyse_file`` in this process.

Options: ``--seconds`` (60), ``--clients`` (8), ``--workers`` (2), ``--json FILE`` (the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx

import smm_sheets
from tests.web.server import ServerDidNotStart, ServerDidNotStop, serving


def payloads(folder: Path) -> list[tuple[str, list[tuple[str, bytes]], int]]:
    """(name, files, the status it should get)."""
    made = folder / "set"
    smm_sheets.generate("all", made, company="Nordic Knitwear Oy", year=2031, sample=True)
    files = {p.name: p.read_bytes() for p in sorted(made.glob("*.xlsx"))}
    mix = [(name, [(name, data)], 200) for name, data in files.items()]
    mix.append(("the set", list(files.items()), 200))
    mix.append(("text file", [("notes.txt", b"not a workbook\n" * 100)], 200))
    mix.append(("truncated xlsx", [("budget.xlsx", files["budget.xlsx"][:5000])], 200))
    mix.append(("broken zip", [("set.zip", b"PK\x03\x04" + b"\x00" * 100)], 422))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("budget.xlsx", b"\0" * 50_000_000)
    mix.append(("zip bomb", [("bomb.zip", bomb.getvalue())], 422))  # the zip guard's ratio limit
    entities = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(files["budget.xlsx"])) as source, zipfile.ZipFile(entities, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>', 1)
            target.writestr(item, data)
    mix.append(("entity bomb", [("budget.xlsx", entities.getvalue())], 200))
    mix.append(("21 MB", [("big.xlsx", b"\0" * 21_000_000)], 413))
    return mix


def server_rss_mb(pid: int) -> float:
    """RSS of the server and every process under it (uvicorn workers, forkservers, analyses)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def load(base: str, mix, seconds: float, clients: int, server_pid: int | None = None) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    analyses = 0
    deadline = time.monotonic() + seconds

    async def client(number: int) -> None:
        nonlocal analyses
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            turn = number
            while time.monotonic() < deadline:
                name, files, expected = mix[turn % len(mix)]
                turn += 1
                start = time.perf_counter()
                try:
                    response = await http.post("/api/v1/analyse", files=[("files", f) for f in files])
                except httpx.HTTPError as error:
                    errors.append(f"{name}: {type(error).__name__}")
                    continue
                latencies.append(time.perf_counter() - start)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code != expected:
                    errors.append(f"{name}: {response.status_code} (expected {expected})")
                elif response.status_code == 200:
                    analyses += len(response.json()["reports"]) + len(response.json()["failures"])

    rss: list[tuple[int, float]] = []  # (files analysed so far, server RSS in MB), every 10 s

    async def sample() -> None:
        while time.monotonic() < deadline:
            await asyncio.sleep(min(10, max(0.1, deadline - time.monotonic())))
            if server_pid is not None:
                rss.append((analyses, round(server_rss_mb(server_pid), 1)))

    start = time.monotonic()
    await asyncio.gather(sample(), *(client(i) for i in range(clients)))
    elapsed = time.monotonic() - start
    return {
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / elapsed, 2),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "statuses": dict(sorted(statuses.items())),
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:10],
        "files_analysed": analyses,
        "rss_by_files_analysed": rss,
    }


def budget_p50(base: str, budget: bytes, runs: int = 41) -> float:
    times = []
    with httpx.Client(base_url=base, timeout=60) as http:
        for _ in range(runs):
            start = time.perf_counter()
            response = http.post("/api/v1/analyse", files=[("files", ("budget.xlsx", budget))])
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text[:300]
    return statistics.median(times) * 1000


def in_process_p50(path: Path, runs: int = 21) -> float:
    from smm_sheets.analyser.pipeline import analyse_file

    analyse_file(path)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        analyse_file(path)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-web-") as scratch:
        folder = Path(scratch)
        mix = payloads(folder)
        server_tmp = folder / "server-tmp"
        server_tmp.mkdir()
        try:
            with serving(server_tmp, workers=args.workers) as server:
                base = server.base
                budget = (folder / "set" / "budget.xlsx").read_bytes()
                asyncio.run(load(base, mix, 5, args.clients))  # warm-up: forkservers started, pages compiled
                rss_start = server_rss_mb(server.process.pid)
                figures = asyncio.run(load(base, mix, args.seconds, args.clients, server.process.pid))
                rss_end = server_rss_mb(server.process.pid)
                figures |= {
                    "clients": args.clients,
                    "workers": args.workers,
                    "rss_start_mb": round(rss_start, 1),
                    "rss_end_mb": round(rss_end, 1),
                    "budget_request_p50_ms": round(budget_p50(base, budget), 1),
                    "budget_analyse_file_p50_ms": round(in_process_p50(folder / "set" / "budget.xlsx"), 1),
                }
        except (ServerDidNotStart, ServerDidNotStop) as error:
            print(error, file=sys.stderr)
            return 1
        # multiprocessing's own pymp-* folders (the forkservers' sockets) are no uploads.
        figures["left_in_server_tmp"] = sorted(p.name for p in server_tmp.iterdir() if not p.name.startswith("pymp-"))
    print(f"web server, {args.workers} workers, {args.clients} clients, {figures['seconds']} s:")
    print(
        f"  requests {figures['requests']}, {figures['requests_per_second']}/s; files analysed {figures['files_analysed']}"
    )
    print(f"  latency p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms")
    print(f"  statuses {figures['statuses']}; errors {figures['errors']} {figures['error_examples'] or ''}")
    print(f"  server RSS {figures['rss_start_mb']} MB after warm-up, {figures['rss_end_mb']} MB at the end")
    print("  RSS (MB) by files analysed: " + ", ".join(f"{n}: {mb}" for n, mb in figures["rss_by_files_analysed"]))
    print(
        f"  the sample budget alone: {figures['budget_request_p50_ms']} ms a request (p50; target < 100 ms: "
        f"{'met' if figures['budget_request_p50_ms'] < 100 else 'missed'}), "
        f"analyse_file {figures['budget_analyse_file_p50_ms']} ms"
    )
    print(f"  left in the server's temporary folder: {figures['left_in_server_tmp'] or 'nothing'}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if figures["errors"] == 0 and not figures["left_in_server_tmp"] else 1


if __name__ == "__main__":
    sys.exit(main())
