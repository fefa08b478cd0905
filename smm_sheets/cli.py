"""The ``smm-sheets`` command line: a thin layer over the library.

Every error becomes one line on stderr and an exit code: 2 for bad input or a file that
cannot be written, 70 for a bug (set SMM_SHEETS_DEBUG=1 to see its traceback).
"""

from __future__ import annotations

import gc
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from smm_sheets import __version__
from smm_sheets.errors import ParameterError, SmmSheetsError

# The rest of the package (and yaml, xlsxwriter, pandas, rich) is imported inside the command
# that uses it: a command's start-up pays only for what it runs.

EXIT_INPUT = 2
EXIT_BUG = 70
PARAMS_KEYS = ("company", "year", "start_month", "currency", "channels", "team", "goals", "options", "language")


class _Cli(click.Group):
    """A group that turns every failure into one line and an exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        if not os.environ.get("SMM_SHEETS_DEBUG"):
            quiet_unraisable()
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Abort:
            _fail("aborted", 1)
        except click.exceptions.NoArgsIsHelpError as error:
            click.echo(error.ctx.get_help() if error.ctx else error.format_message())
            sys.exit(0)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except SmmSheetsError as error:
            _fail(str(error), EXIT_INPUT)
        except Exception as error:  # a bug: still one line, unless asked for the traceback
            if os.environ.get("SMM_SHEETS_DEBUG"):
                raise
            _fail(f"internal error: {type(error).__name__}: {error}", EXIT_BUG)
        sys.exit(code if isinstance(code, int) else 0)


@contextmanager
def loading() -> Iterator[None]:
    """Import a command's modules (and read what it reads once) without the cyclic garbage
    collector, then freeze what they made.

    Importing makes some 100,000 objects and almost no garbage, yet sets off a collection every
    few hundred of them (about 30 ms of an ``analyse``); frozen (:func:`gc.freeze`), the modules'
    objects are left out of later collections too, also in the children forked to read files and
    in the interpreter's collections at exit (about 40 ms less).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():  # once a process (commands run in a test's process: no more)
            gc.freeze()
        if enabled:
            gc.enable()


def quiet_unraisable() -> None:
    """No "Exception ignored in ..." text on stderr: what raised it (a full disk under a zip file
    that is closed again when freed) has already been said in one line."""
    sys.unraisablehook = lambda unraisable: None


def _fail(message: str, code: int) -> None:
    click.echo(f"smm-sheets: error: {' '.join(str(message).split())}", err=True)
    sys.exit(code)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="smm-sheets")
def main() -> None:
    """Social media marketing workbooks: generate them from blueprints, analyse them filled in."""


@main.command("blueprints")
def list_blueprints() -> None:
    """List the built-in blueprints, one line each."""
    from smm_sheets.blueprint import loader

    for path in loader.builtin_blueprints():
        blueprint = loader.load(path)
        labels = blueprint.labels["en"]
        click.echo(
            f"{blueprint.id:<12} {blueprint.version:<6} {labels[blueprint.title]} - {labels[blueprint.description]}"
        )


def _out_dir_option(help_text: str):
    """``-o/--output DIR``: the folder a command writes into."""
    return click.option(
        "-o",
        "--output",
        "out_dir",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help=help_text,
    )


@main.command("generate")
@click.argument("blueprint", metavar="BLUEPRINT|FILE")
@_out_dir_option("Folder to write BLUEPRINT_ID.xlsx into (created if missing).")
@click.option(
    "--params",
    "params_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML file of parameters; options below override it.",
)
@click.option("--company", help="Company name shown in the workbook.")
@click.option("--year", type=int, help="Year the plan starts in (default: this year).")
@click.option("--start-month", type=int, help="First month of the plan, 1-12 (default 1).")
@click.option("--currency", help="ISO 4217 currency code (default EUR).")
@click.option("--channels", help="Comma-separated channels, e.g. instagram,facebook,tiktok.")
@click.option("--team", help="Comma-separated people or roles.")
@click.option("--goals", help="Comma-separated goals for goal dropdowns (default with --sample: the strategy's).")
@click.option("--lang", "language", metavar="en|fi|lv|mk|nb", help="Language of the workbook (default en).")
@click.option(
    "--option", "options", multiple=True, metavar="KEY=VALUE", help="Set a blueprint option, e.g. carry_over=positive."
)
@click.option("--sample", is_flag=True, help="Fill in realistic example data.")
@click.option(
    "--force", is_flag=True, help="Replace an existing file (a changed one is kept as NAME.kept-DATE-TIME.xlsx)."
)
def generate_command(
    blueprint: str,
    out_dir: Path,
    params_file: Path | None,
    options: tuple[str, ...],
    sample: bool,
    force: bool,
    **flags: Any,
) -> None:
    """Write the workbook of BLUEPRINT (a built-in id, a YAML file, or "all") into a folder.

    "all" writes every built-in workbook from the same parameters, so that channels, team and
    goals agree across the files.
    """
    with loading():
        from smm_sheets import locale_data
        from smm_sheets.blueprint.params import option_pairs
        from smm_sheets.generator.pipeline import generate_files

        values = _read_params(params_file) if params_file else {}
        values.update({key: value for key, value in flags.items() if value is not None})
        if options:
            values["options"] = {**values.get("options", {}), **option_pairs(options)}
        if values.get("language", "en") in locale_data.LANGUAGES:  # else the parameters' error, later
            locale_data.load(values.get("language", "en"))
    kept: dict[Path, Path] = {}
    paths = generate_files(blueprint, out_dir, sample=sample, force=force, kept=kept, **values)
    for path in paths:
        if path in kept:
            click.echo(f"kept {kept[path]}: a copy of {path.name} as it was (it differed from the new workbook)")
        click.echo(f"wrote {path}")


MAX_PARAMS_BYTES = 1_000_000  # a parameters file: a few lines; 50 MB of goals is refused unread


def _read_params(path: Path) -> dict[str, Any]:
    import yaml

    from smm_sheets.blueprint.params import option_values
    from smm_sheets.blueprint.source import yaml_shape_problem

    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ParameterError(f"{path}: not a regular file (a FIFO, device or folder); not read")
        if info.st_size > MAX_PARAMS_BYTES:
            raise ParameterError(f"{path}: {info.st_size:,} bytes; a parameters file has at most {MAX_PARAMS_BYTES:,}")
        with open(path, "rb") as stream:
            raw = stream.read(MAX_PARAMS_BYTES + 1)
        text = raw.decode("utf-8")
    except OSError as error:
        raise ParameterError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ParameterError(f"{path}: not valid YAML: not UTF-8 text") from None
    if len(raw) > MAX_PARAMS_BYTES:
        raise ParameterError(f"{path}: a parameters file has at most {MAX_PARAMS_BYTES:,} bytes")
    problem = yaml_shape_problem(text)
    if problem is not None:
        where = f"{path}:{problem[1]}" if problem[1] else str(path)
        raise ParameterError(f"{where}: {problem[0]}")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ParameterError(f"{path}: not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: must be a mapping of {', '.join(PARAMS_KEYS)}")
    unknown = sorted(set(data) - set(PARAMS_KEYS))
    if unknown:
        raise ParameterError(f"{path}: unknown key {unknown[0]!r} (allowed: {', '.join(PARAMS_KEYS)})")
    if "options" in data and not isinstance(data["options"], dict):
        raise ParameterError(f"{path}: options must be a mapping")
    if "options" in data:  # an unquoted yes/no is a YAML boolean: option_values makes it "yes"/"no"
        data["options"] = option_values(data["options"])
    return dict(data)


@main.command("analyse")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Text for people, JSON for scripts.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
@click.option("--strict", is_flag=True, help="Exit with 1 on warnings too.")
@click.option(
    "--summary",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Portfolio of a batch folder: one row per client, written to FILE.xlsx and FILE.json.",
)
@click.option(
    "--jobs", type=click.IntRange(min=1), help="With --summary: worker processes (default: the number of cores)."
)
@click.option(
    "--scheduler", metavar="ADDRESS", help="With --summary: run on this Dask scheduler instead of local processes."
)
@click.option("--quiet", is_flag=True, help="With --summary: no progress bar.")
@click.option(
    "--lang",
    "language",
    type=click.Choice(["en", "fi", "lv", "mk", "nb"]),
    help="Language of the findings and the report (default: each workbook's own).",
)
def analyse_command(
    paths: tuple[Path, ...],
    output_format: str,
    output: Path | None,
    strict: bool,
    summary: Path | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    quiet: bool = False,
    language: str | None = None,
) -> int:
    """Check filled-in workbooks (files or folders) and report their totals.

    Exit code 0: no errors; 1: a finding of severity error (with --strict: or a warning);
    2: a file could not be analysed at all, or bad usage.
    """
    if summary is not None:
        return _portfolio_command(paths, summary, jobs, scheduler, quiet, strict)
    with loading():
        from smm_sheets import atomic
        from smm_sheets.analyser import report_text
        from smm_sheets.analyser.pipeline import analyse
        from smm_sheets.processes import DEFAULT_ISOLATION

        _load_for_report_and_child()

    if output is not None:
        atomic.refuse_overwriting_inputs(output, paths)
    report = analyse(list(paths), language, isolation=DEFAULT_ISOLATION)
    if output_format == "json":
        text = report_text.to_json(report)
    else:
        color = output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        text = report_text.to_text(report, color=color, width=None if color else report_text.PLAIN_WIDTH)
    if output is not None:
        from smm_sheets import atomic

        atomic.write_text(output, text)
        click.echo(report_text.summary_line(report), err=True)
    else:
        click.echo(text, nl=False)
    return report.exit_code(strict)


def _load_for_report_and_child() -> None:
    """What both the child that analyses a file and this process's report of it use, read once
    here, before the child is forked: the finding catalogs and Babel's locale data (English and
    what every language shares; each was read twice, about 15 ms)."""
    from smm_sheets import locale_data
    from smm_sheets.analyser import messages

    messages.catalogs()
    locale_data.load("en")


@main.command("fix")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_out_dir_option("Folder to write the fixed workbooks into (never the inputs' own folder files).")
@click.option(
    "--year", type=click.IntRange(2000, 2100), help="Write the plan for this year (actuals and dated posts cleared)."
)
@click.option("--next-year", is_flag=True, help="Write the plan for the year after each workbook's.")
@click.option(
    "--lang",
    "language",
    type=click.Choice(["en", "fi", "lv", "mk", "nb"]),
    help="Language of the notes (default: each workbook's own).",
)
@click.option("--force", is_flag=True, help="Replace existing files in DIR.")
def fix_command(
    paths: tuple[Path, ...], out_dir: Path, year: int | None, next_year: bool, language: str | None, force: bool
) -> int:
    """Write each workbook again from the current blueprint, with everything typed carried over.

    Formulas are restored, text that is certainly a number or a date becomes one, and what is
    still wrong is a comment on its cell and a line of the Findings sheet. The inputs are never
    changed. Exit code 0: written without errors left; 1: written, with errors left to correct.
    """
    from smm_sheets.fixer import fix_paths

    if year is not None and next_year:
        raise click.UsageError("--year and --next-year do not go together")
    results = fix_paths(list(paths), out_dir, year=year, next_year=next_year, language=language, force=force)
    errors = 0
    for result in results:
        left = sum(1 for f in result.findings if f.severity == "error")
        errors += left
        click.echo(
            f"{result.target}: {len(result.repaired)} repaired, {len(result.findings)} findings left ({left} errors)"
        )
        for line in result.not_carried:
            click.echo(f"  not carried: {' '.join(line.split())}")
        if result.kept:
            click.echo(f"  the file it replaced was kept as {result.kept}")
        if result.opening:
            lines = ", ".join(f"{line} {amount:,.2f}" for line, amount in result.opening.items())
            click.echo(
                f"  opening balance carried into {result.year}: {lines} (total {sum(result.opening.values()):,.2f})"
            )
    return 1 if errors else 0


@main.command("batch")
@click.argument("clients", type=click.Path(dir_okay=False, path_type=Path))
@_out_dir_option("Batch folder: DIR/<client>/<blueprint id>.xlsx and DIR/manifest.json.")
@click.option(
    "--blueprints",
    "selection",
    default="all",
    show_default=True,
    metavar="all|ID,ID",
    help="The workbooks of each client: all, or comma-separated blueprint ids or files.",
)
@click.option("--sample", is_flag=True, help="Fill in realistic example data.")
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes (default: the number of cores).")
@click.option(
    "--scheduler", metavar="ADDRESS", help="Run on this Dask scheduler (tcp://host:8786) instead of local processes."
)
@click.option(
    "--force",
    is_flag=True,
    help="Regenerate clients whose files are up to date; workbooks people changed are copied to DIR/_kept/ first.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def batch_command(
    clients: Path,
    out_dir: Path,
    selection: str,
    sample: bool,
    jobs: int | None,
    scheduler: str | None,
    force: bool,
    quiet: bool,
) -> int:
    """Write the workbooks of every client in CLIENTS (a .csv or .xlsx file, one row each).

    A bad row is reported with its row number and skipped; the exit status is then 1. Running
    again skips clients whose files are up to date and resumes an interrupted run.
    """
    from smm_sheets.agency import batch

    _refuse_clients_in_batch_folder(clients, out_dir)
    with _Progress(quiet) as progress:

        def on_result(result: Any, total: int) -> None:
            if result.status == "failed":
                progress.say(f"smm-sheets: row {result.row}: {' '.join(str(result.error).split())}")
            for entry in result.files:
                if entry.kept == batch.IN_PLACE:
                    progress.say(f"smm-sheets: {entry.path}: changed since the batch wrote it; kept as it is")
                elif entry.kept:
                    progress.say(
                        f"smm-sheets: {entry.path}: changed since the batch wrote it; kept a copy: {entry.kept}"
                    )
            progress.advance(total)

        try:
            summary = batch.run_batch(
                clients,
                out_dir,
                selection,
                sample=sample,
                jobs=jobs,
                scheduler=scheduler,
                force=force,
                on_result=on_result,
            )
        except KeyboardInterrupt:
            progress.say(
                "smm-sheets: interrupted; the manifest lists the clients finished so far; run the same command again to resume"
            )
            raise
    kept = ""
    if summary.kept_in_place or summary.kept_copies:
        kept = f"; workbooks people changed: {summary.kept_in_place} kept as they are, {summary.kept_copies} copied to {batch.KEPT_DIR}/ and replaced"
    click.echo(
        f"{summary.clients} clients: {summary.generated} generated, {summary.unchanged} unchanged, {summary.failed} failed{kept}; manifest {summary.manifest_json}"
    )
    return 1 if summary.failed else 0


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Server processes.")
def serve_command(host: str, port: int, workers: int) -> None:
    """Serve the web pages and the API: make workbooks, check filled-in ones (nothing is stored)."""
    try:
        from smm_sheets.web import server
    except ImportError as error:
        raise click.ClickException(
            f"the web server needs its libraries: pip install 'smm-sheets[web]' ({error})"
        ) from None
    click.echo(f"smm-sheets: serving on http://{host}:{port}/ with {workers} worker(s); Ctrl-C stops", err=True)
    server.serve(host, port, workers)


@main.command("export")
@click.argument("calendar", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["ics", "hootsuite", "sprout", "publer", "csv"]),
    required=True,
    help="iCalendar, a scheduler's bulk-upload file, or CSV with every column.",
)
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The file to write."
)
@click.option("--status", "statuses", metavar="LIST", help="Comma-separated statuses to export, e.g. Scheduled.")
@click.option("--since", metavar="YYYY-MM-DD", help="Export posts dated on or after this day.")
@click.option("--until", metavar="YYYY-MM-DD", help="Export posts dated on or before this day.")
@click.option(
    "--timezone", metavar="ZONE", help="Zone of posts without one, and of scheduler files (default: the language's)."
)
@click.option(
    "--date-order",
    type=click.Choice(["day", "month"]),
    default="day",
    show_default=True,
    help="Scheduler files: dates day-first (31/12/2027) or month-first (12/31/2027).",
)
@click.option("--force", is_flag=True, help="Replace files that exist.")
def export_command(
    calendar: Path,
    export_format: str,
    output: Path,
    statuses: str | None,
    since: str | None,
    until: str | None,
    timezone: str | None,
    date_order: str,
    force: bool,
) -> int:
    """Export a filled-in calendar's posts to iCalendar, Hootsuite, Sprout Social, Publer or CSV.

    Only posts the analyser accepts are exported; each post left out is a line that says why.
    Exit code 0: every selected post exported; 1: a post left out for a problem; 2: bad input.
    """
    from smm_sheets import atomic
    from smm_sheets.export.pipeline import export

    atomic.refuse_overwriting_inputs(output, [calendar])
    result = export(
        calendar,
        output,
        format=export_format,
        statuses=statuses.split(",") if statuses else None,
        since=since,
        until=until,
        timezone=timezone,
        date_order=date_order,
        force=force,
    )
    for item in result.sorted_findings():
        where = f"{item.sheet}!{item.cell}: " if item.sheet and item.cell else ""
        click.echo(f"smm-sheets: {where}{item.severity}: {item.code}: {' '.join(item.message.split())}", err=True)
    files = ", ".join(str(p) for p in result.paths)
    click.echo(f"{result.exported} posts exported to {files}; {result.left_out} left out for a problem")
    return result.exit_code()


def _refuse_clients_in_batch_folder(clients: Path, out_dir: Path) -> None:
    """The clients file may lie in the batch folder itself, but not where the batch writes: in a
    client's folder, or as its manifest or state."""
    from smm_sheets.agency.state import MANIFEST_CSV, MANIFEST_JSON, STATE_FILE

    source, folder = clients.resolve(), out_dir.resolve()
    if source == folder or (
        source.is_relative_to(folder)
        and (source.parent != folder or source.name in (MANIFEST_JSON, MANIFEST_CSV, STATE_FILE))
    ):
        raise ParameterError(f"{clients} is where the batch writes into {out_dir}; keep the clients file elsewhere")


def _portfolio_command(
    paths: tuple[Path, ...], summary: Path, jobs: int | None, scheduler: str | None, quiet: bool, strict: bool
) -> int:
    """``analyse DIR --summary FILE``: the portfolio of a batch folder."""
    from smm_sheets.agency import portfolio

    if len(paths) != 1:
        raise click.UsageError("--summary takes one batch folder")
    folder = paths[0]
    total = sum(1 for _ in portfolio.client_folders(folder)) if folder.is_dir() else 0
    with _Progress(quiet) as progress:

        def on_result(row: Any) -> None:
            if row.problem:
                progress.say(f"smm-sheets: {row.folder}: {' '.join(row.problem.split())}")
            progress.advance(total)

        result = portfolio.run_portfolio(
            folder, summary, jobs=jobs, scheduler=scheduler, strict=strict, on_result=on_result
        )
    click.echo(
        f"{result.clients} clients: {result.with_errors} with errors, {result.with_warnings} with warnings, "
        f"{result.unreadable} with unreadable files; summary {result.xlsx} and {result.json}"
    )
    return result.exit_code


class _Progress:
    """A progress bar on stderr when it is a terminal (and not --quiet); ``kill`` (SIGTERM)
    stops the work like Ctrl-C, so that what is finished is written down first."""

    def __init__(self, quiet: bool):
        self.bar = None
        self.task = None
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("clients"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )

    def __enter__(self) -> _Progress:
        import signal

        def terminate(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt

        try:
            self.previous = signal.signal(signal.SIGTERM, terminate)
        except ValueError:  # not the main thread: leave signals alone
            self.previous = None
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        import signal

        if self.bar is not None:
            self.bar.stop()
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)

    def say(self, line: str) -> None:
        """A line on stderr, above the bar."""
        if self.bar is not None:
            self.bar.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(line, err=True)

    def advance(self, total: int) -> None:
        if self.bar is not None:
            if self.task is None:
                self.task = self.bar.add_task("clients", total=total)
            self.bar.advance(self.task)
