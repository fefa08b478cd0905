"""Batch generation: the workbook set of every client in a CSV or xlsx file.

The stages are functions you can call alone:

1. :func:`~smm_sheets.agency.clients.open_clients` reads the clients file into numbered rows;
   :func:`~smm_sheets.agency.clients.check_columns` checks its header once.
2. :func:`~smm_sheets.agency.clients.client_parameters` turns one row into
   :class:`~smm_sheets.blueprint.params.Parameters`.
3. :func:`~smm_sheets.agency.slugs.client_slug` names a client's folder;
   :meth:`State.claim <smm_sheets.agency.state.State.claim>` gives each client of a run a slug
   no other client of that run has (``acme``, ``acme-2``... in row order).
4. :func:`plan_jobs` (here) makes one :class:`Job` per good row, with a fingerprint of everything
   its files depend on (:class:`BlueprintSet`, :func:`fingerprint`); :func:`generate_client`
   runs one job in a worker process.
5. :class:`~smm_sheets.agency.runner.Runner` runs jobs in local processes or on a Dask cluster,
   a bounded number at a time, and hands results back as they finish, so the parent's memory
   stays flat.
6. :class:`~smm_sheets.agency.state.State` (``DIR/.smm-batch.sqlite``) records every finished
   client at once, so an interrupted run resumes;
   :func:`~smm_sheets.agency.state.write_manifest` exports ``manifest.json`` and
   ``manifest.csv`` from it.

:func:`run_batch` joins them.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smm_sheets import __version__
from smm_sheets.agency.clients import (
    ClientsTable,
    cell_text,
    check_columns,
    client_parameters,
    is_blank,
    open_clients,
)
from smm_sheets.agency.runner import Runner
from smm_sheets.agency.slugs import client_slug
from smm_sheets.agency.state import (
    IN_PLACE,
    KEPT_DIR,
    FileEntry,
    Result,
    State,
    remove_temporaries,
    write_manifest,
)
from smm_sheets.blueprint import loader
from smm_sheets.blueprint.model import Blueprint
from smm_sheets.blueprint.params import Parameters
from smm_sheets.errors import FileError, InputError, ParameterError, SmmSheetsError
from smm_sheets.generator import xlsx
from smm_sheets.generator.pipeline import with_sample_goals
from smm_sheets.plan import build

# --------------------------------------------------------------------------- the blueprints of a batch


@dataclass(frozen=True)
class BlueprintSet:
    """The blueprints a batch writes, loaded once in the parent, with the digests workers
    check their own copies against."""

    names: tuple[str, ...]  # built-in ids, or absolute file paths
    blueprints: tuple[Blueprint, ...]
    digests: tuple[str, ...]  # sha256 of each blueprint file
    support: str  # sha256 of every built-in YAML file (labels, channel facts, translations)

    @classmethod
    def select(cls, selection: str = "all") -> BlueprintSet:
        """``all``, or comma-separated built-in ids or blueprint files.

        Raises:
            BlueprintError: an unknown id or a bad file.
            InputError: an empty selection or one id twice.
        """
        if selection.strip() == "all":
            names = [path.stem for path in loader.builtin_blueprints()]
        else:
            names = [item.strip() for item in selection.split(",") if item.strip()]
        if not names:
            raise InputError("--blueprints names no blueprint")
        resolved = []
        for name in names:
            path = loader.resolve(name)
            builtin = path.parent == loader.BUILTIN_DIR and path.stem == name
            resolved.append((name if builtin else str(path.resolve()), path))
        blueprints = tuple(loader.load(path) for _, path in resolved)
        ids = [blueprint.id for blueprint in blueprints]
        twice = next((i for i in ids if ids.count(i) > 1), None)
        if twice:
            raise InputError(f"--blueprints names blueprint {twice!r} twice")
        digests = tuple(_file_digest(path) for _, path in resolved)
        return cls(tuple(name for name, _ in resolved), blueprints, digests, _support_digest())

    def options(self) -> dict[str, tuple[str, ...]]:
        """The choices of every option of these blueprints, by option id."""
        found: dict[str, tuple[str, ...]] = {}
        for blueprint in self.blueprints:
            for option in blueprint.options:
                found[option.id] = tuple(c for c in option.choices if c in found.get(option.id, option.choices))
        return found


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        raise FileError(f"{path}: cannot read: {error.strerror}") from None


def _support_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(loader.BUILTIN_DIR.rglob("*.yaml")):
        digest.update(path.relative_to(loader.BUILTIN_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def fingerprint(params: Parameters, blueprints: BlueprintSet) -> str:
    """What a client's files depend on, hashed: its parameters, the blueprint files, the
    built-in support files and the generator version. Equal fingerprints, equal workbooks."""
    content = {
        "generator": __version__,
        "params": dataclasses.asdict(params),
        "blueprints": list(zip(blueprints.names, blueprints.digests)),
        "support": blueprints.support,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --------------------------------------------------------------------------- jobs and the worker side


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to write one client's workbooks, small enough to send."""

    row: int
    company: str
    slug: str
    params: Parameters
    fingerprint: str
    out_dir: str
    blueprints: tuple[str, ...]
    digests: tuple[str, ...]
    support: str
    # The files of the last run, when their fingerprint is this one's (and not --force).
    previous: tuple[FileEntry, ...] | None = None
    generator: str = __version__
    # The files the last run recorded, whatever its fingerprint: what the batch itself wrote.
    recorded: tuple[FileEntry, ...] = ()
    # --force: replace workbooks people changed too, after copying them to DIR/_kept/<slug>/.
    force: bool = False


class WorkerMismatch(Exception):
    """A worker runs another smm-sheets version or has other blueprints than the parent.
    Not an SmmSheetsError: it stops the whole batch, not one client."""


class OutOfRoom(Exception):
    """The batch folder's disk is full or read-only: every other client would fail the same way,
    so the batch stops with this one line. Not an SmmSheetsError, as :class:`WorkerMismatch`."""


_OUT_OF_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def generate_client(job: Job) -> Result:
    """Write one client's workbooks into ``OUT_DIR/<slug>/`` (in a worker process).

    Skips the work when the job carries the last run's files and they are all there with
    their sha256; otherwise writes every workbook to a temporary file, then renames them all
    into place (:func:`smm_sheets.generator.xlsx.write_all`). Leftover temporary files of a killed run
    are removed first.

    A workbook whose bytes are not what the batch recorded for it (filled in and put back, or
    there before the batch) is never replaced: it is left as it is, or, with ``job.force``,
    copied to ``DIR/_kept/<slug>/<id>.kept-YYYYMMDD-HHMMSS.xlsx`` first. Its entry says so.

    Returns:
        The result; a client whose parameters a blueprint refuses, or whose folder cannot be
        written, is a ``failed`` result, not an exception.

    Raises:
        WorkerMismatch: this worker's smm-sheets is not the parent's.
    """
    folder = Path(job.out_dir) / job.slug
    if job.generator != __version__:
        raise WorkerMismatch(
            f"a worker runs smm-sheets {__version__}, this machine {job.generator}: install the same version on every worker"
        )
    try:
        remove_temporaries(folder)
        if job.previous is not None and all(_matches(Path(job.out_dir), entry) for entry in job.previous):
            # A copy kept by an earlier run is that run's news; a workbook left in place still is.
            files = tuple(e if e.kept in (None, IN_PLACE) else dataclasses.replace(e, kept=None) for e in job.previous)
            return Result(job.row, job.company, job.slug, "unchanged", job.fingerprint, files)
        blueprints = _worker_blueprints(job.blueprints, job.digests, job.support)
        params = with_sample_goals(job.params, list(blueprints))
        out_dir = Path(job.out_dir)
        recorded = {entry.path: entry for entry in job.recorded}
        # The batch's own files, as it recorded them; recorded ones that changed since are someone's
        # work (their bytes differ); unrecorded ones are the batch's own only if they are the very
        # workbook being written (a run killed before recording its files wrote them).
        ours, changed = set(), set()
        for blueprint in blueprints:
            target = folder / f"{blueprint.id}.xlsx"
            entry = recorded.get(f"{job.slug}/{target.name}")
            if entry is not None and entry.kept != IN_PLACE and _matches(out_dir, entry):
                ours.add(target)
            elif entry is not None:
                changed.add(target)
        plans, files = [], {}
        for blueprint in blueprints:
            target = folder / f"{blueprint.id}.xlsx"
            if target in ours and job.previous is not None:  # up to date: not written again
                files[blueprint.id] = dataclasses.replace(recorded[f"{job.slug}/{target.name}"], kept=None)
                continue
            own = {option.id for option in blueprint.options}
            mine = dataclasses.replace(params, options={k: v for k, v in params.options.items() if k in own})
            plans.append((build(blueprint, mine), target))
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise FileError(f"cannot create {folder}: {error.strerror}", error.errno) from None
        # Someone's workbooks are left as they are, or copied before --force replaces them.
        kept: dict[Path, Path] = {}
        left: set[Path] = set()
        written = xlsx.write_all(
            plans,
            force=True,
            kept=kept,
            kept_dir=out_dir / KEPT_DIR / job.slug,
            ours=frozenset(ours),
            left=None if job.force else left,
            changed=frozenset(changed),
        )
        for blueprint in blueprints:
            target = folder / f"{blueprint.id}.xlsx"
            if blueprint.id in files:
                continue
            entry = recorded.get(f"{job.slug}/{target.name}")
            copy = kept.get(target)
            files[blueprint.id] = FileEntry(
                blueprint.id,
                entry.version if target in left and entry is not None else blueprint.version,
                f"{job.slug}/{target.name}",
                _sha256(target),
                target.stat().st_size,
                IN_PLACE if target in left else copy.relative_to(out_dir).as_posix() if copy is not None else None,
            )
        ordered = tuple(files[blueprint.id] for blueprint in blueprints)
        return Result(job.row, job.company, job.slug, "generated" if written else "unchanged", job.fingerprint, ordered)
    except SmmSheetsError as error:
        if getattr(error, "errno", None) in _OUT_OF_ROOM:
            raise OutOfRoom(str(error)) from None
        return Result(job.row, job.company, job.slug, "failed", job.fingerprint, error=str(error))


@functools.lru_cache(maxsize=4)
def _worker_blueprints(names: tuple[str, ...], digests: tuple[str, ...], support: str) -> tuple[Blueprint, ...]:
    """The batch's blueprints, loaded once per worker process (and per set of digests, so a
    long-lived Dask worker notices edited blueprints)."""
    if _support_digest() != support:
        raise WorkerMismatch(
            "a worker's built-in blueprint files differ from this machine's: install the same smm-sheets version on every worker"
        )
    loaded = []
    for name, digest in zip(names, digests):
        path = loader.resolve(name)
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise WorkerMismatch(
                f"a worker's {path} differs from this machine's: blueprints changed during the run, or workers run another version"
            )
        loaded.append(loader.loads(data.decode("utf-8"), str(path)))
    return tuple(loaded)


def _matches(out_dir: Path, entry: FileEntry) -> bool:
    path = out_dir / entry.path
    try:
        return path.stat().st_size == entry.bytes and _sha256(path) == entry.sha256
    except OSError:
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- the pipeline


@dataclass(frozen=True)
class Summary:
    """How a batch went: clients by status, and the manifest files."""

    clients: int
    generated: int
    unchanged: int
    failed: int
    manifest_json: Path
    manifest_csv: Path
    # Workbooks people changed: left as they are, and copied to DIR/_kept/ before --force replaced them.
    kept_in_place: int = 0
    kept_copies: int = 0


def plan_jobs(
    table: ClientsTable,
    blueprints: BlueprintSet,
    state: State,
    out_dir: Path,
    sample: bool = False,
    force: bool = False,
    on_failed: Callable[[Result], None] = lambda result: None,
) -> Iterator[Job]:
    """One job per good row of the clients file, read one row at a time.

    A bad row becomes a ``failed`` result passed to ``on_failed`` (and not a job).
    """
    options = blueprints.options()
    channel_names = loader.load_channel_names()
    for row in table.rows():
        company = row.cells.get("company")
        company = None if is_blank(company) else cell_text(company)
        try:
            params = client_parameters(row, options, channel_names, sample)
        except ParameterError as error:
            on_failed(Result(row.row, company, None, "failed", error=str(error)))
            continue
        slug = state.claim(client_slug(params.company))
        digest = fingerprint(params, blueprints)
        yield Job(
            row.row,
            params.company,
            slug,
            params,
            digest,
            str(out_dir),
            blueprints.names,
            blueprints.digests,
            blueprints.support,
            None if force else state.previous(slug, digest),
            recorded=state.recorded(slug),
            force=force,
        )


def _state_errors(function: Callable[..., Summary]) -> Callable[..., Summary]:
    """The batch state's SQLite errors (a full disk, a read-only folder) as one-line FileErrors."""

    @functools.wraps(function)
    def wrapped(*args: Any, **kwargs: Any) -> Summary:
        try:
            return function(*args, **kwargs)
        except sqlite3.Error as error:
            raise FileError(f"cannot write the batch state: {error}") from None

    return wrapped


@_state_errors
def run_batch(
    clients: str | Path,
    out_dir: str | Path,
    blueprints: str = "all",
    sample: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    on_result: Callable[[Result, int], None] = lambda result, total: None,
) -> Summary:
    """Write every client's workbooks into ``OUT_DIR/<client slug>/<blueprint id>.xlsx``.

    Args:
        clients: a CSV or xlsx file, one client per row (see :data:`CLIENT_COLUMNS`).
        out_dir: the batch folder (created if missing).
        blueprints: ``all`` or comma-separated blueprint ids or files.
        sample: fill the workbooks with example data.
        jobs: local worker processes (default: the number of cores; 1: this process).
        scheduler: a Dask scheduler address, to run on a cluster instead.
        force: regenerate clients whose files are up to date, and replace workbooks people
            changed too, each copied to ``DIR/_kept/<client>/`` first (without it they are
            left as they are).
        on_result: called in this process with each client's result (bad rows included) and
            the number of rows, as they finish.

    Returns:
        The counts and the manifest paths. A bad row is a ``failed`` client, not an error.

    Raises:
        InputError: the clients file or the blueprints are wrong (nothing is written).
        FileError: a file cannot be read or written, or a Dask worker does not match.
        KeyboardInterrupt: after writing the manifest of the clients finished so far.
    """
    selected = BlueprintSet.select(blueprints)
    table = open_clients(clients)
    check_columns(
        table,
        {option.id for path in loader.builtin_blueprints() for option in loader.load(path).options}
        | set(selected.options()),
    )
    out_dir = Path(out_dir).resolve()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileError(f"cannot create {out_dir}: {error.strerror}") from None
    header = {
        "generator": "smm-sheets",
        "generator_version": __version__,
        "clients_file": str(Path(clients)),
        "sample": sample,
        "blueprints": [
            {"id": b.id, "version": b.version, "source": name, "sha256": digest}
            for b, name, digest in zip(selected.blueprints, selected.names, selected.digests)
        ],
    }
    state = State(out_dir)
    try:

        def note(result: Result) -> None:
            state.record(result)
            on_result(result, table.count)

        planned = plan_jobs(table, selected, state, out_dir, sample, force, on_failed=note)
        complete = False
        try:
            for job, outcome in Runner(jobs, scheduler).map_unordered(generate_client, planned):
                if isinstance(outcome, (WorkerMismatch, OutOfRoom)):
                    raise FileError(str(outcome))
                if isinstance(outcome, BaseException):
                    outcome = Result(
                        job.row,
                        job.company,
                        job.slug,
                        "failed",
                        job.fingerprint,
                        error=f"internal error: {type(outcome).__name__}: {outcome}",
                    )
                note(outcome)
            complete = True
        finally:
            state.db.commit()
            json_path, csv_path = write_manifest(out_dir, state, {**header, "complete": complete})
        counts = state.counts()
        kept = state.kept()
    finally:
        state.close()
    return Summary(
        sum(counts.values()),
        counts.get("generated", 0),
        counts.get("unchanged", 0),
        counts.get("failed", 0),
        json_path,
        csv_path,
        kept[IN_PLACE],
        kept["copied"],
    )
