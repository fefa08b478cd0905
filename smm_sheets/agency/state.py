"""What a batch folder holds between runs: the state of its clients and the manifest.

:class:`State` (``DIR/.smm-batch.sqlite``) records every finished client (a :class:`Result`
with its :class:`FileEntry` files) at once, so an interrupted run resumes, and gives each client
of a run a folder name no other client of that run has. :func:`write_manifest` exports
``manifest.json`` and ``manifest.csv`` from it, each written to a temporary file and renamed
into place; :func:`remove_temporaries` removes the temporary files a killed run left.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smm_sheets import __version__, atomic
from smm_sheets.agency.slugs import numbered_slug
from smm_sheets.errors import FileError

STATE_FILE = ".smm-batch.sqlite"
# Where copies of people's workbooks go before --force replaces them: DIR/_kept/<client folder>/.
# Client folder names never hold "_", so no client's folder can be this one.
KEPT_DIR = "_kept"
# FileEntry.kept of a workbook people changed, left as it is (not replaced).
IN_PLACE = "in place"
MANIFEST_JSON = "manifest.json"
MANIFEST_CSV = "manifest.csv"
# What a spreadsheet reads as the start of a formula when it opens a CSV file.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TEMPORARY = re.compile(r"^\..+\.tmp$")  # render.write_all's and write_manifest's temporary files

# --------------------------------------------------------------------------- results and leftover files


@dataclass(frozen=True)
class FileEntry:
    """One workbook of a client, as the manifest lists it; ``path`` is relative to the batch folder.

    ``kept`` is None for a workbook this run wrote or found as the batch wrote it. A workbook
    whose bytes are not what the batch recorded (someone filled it in) is never replaced:
    ``kept`` is ``"in place"`` when it was left as it is (then ``sha256`` and ``bytes`` are the
    file's as found), or the path of its copy (under ``_kept/``) when ``--force`` replaced it.
    """

    blueprint: str
    version: str
    path: str
    sha256: str
    bytes: int
    kept: str | None = None


@dataclass(frozen=True)
class Result:
    """What became of one client: ``generated``, ``unchanged`` (its files were already there,
    sha256 checked) or ``failed`` (with the reason)."""

    row: int
    company: str
    slug: str | None
    status: str
    fingerprint: str | None = None
    files: tuple[FileEntry, ...] = ()
    error: str | None = None


def remove_temporaries(folder: Path) -> None:
    """Remove the temporary files a killed run left (render writes ``.<name>.<random>.tmp``)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if _TEMPORARY.match(name):
            try:
                os.unlink(folder / name)
            except OSError:
                pass


# --------------------------------------------------------------------------- state and manifest


class State:
    """What a batch folder holds, in ``DIR/.smm-batch.sqlite``: the clients finished by any
    run (slug, fingerprint, files), and the clients of this run as they finish.

    SQLite commits are atomic, so a run killed at any moment leaves the last commit intact;
    the folder is locked while a run has it open, so two runs never write into one folder.
    """

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        path = out_dir / STATE_FILE
        try:
            self.db = self._connect(path)
        except sqlite3.DatabaseError as error:
            if "locked" in str(error):
                raise FileError(f"{out_dir} is in use by another batch run; wait for it to finish") from None
            for stale in (path, path.with_name(path.name + "-wal")):  # damaged: start again, regenerating all
                if stale.exists():
                    os.unlink(stale)
            self.db = self._connect(path)

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(path, timeout=0.5)
        except sqlite3.Error as error:
            raise FileError(f"cannot open {path}: {error}") from None
        try:
            # The lock, once taken, is kept until the connection closes. WAL with NORMAL sync:
            # a commit survives the process being killed at any moment, at no fsync per client.
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN EXCLUSIVE")
            db.executescript(
                """
                CREATE TABLE IF NOT EXISTS done (slug TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, files TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS run (row INTEGER PRIMARY KEY, company TEXT, slug TEXT, status TEXT NOT NULL,
                                                fingerprint TEXT, files TEXT, error TEXT);
                DELETE FROM run;
                CREATE TEMP TABLE claims (slug TEXT PRIMARY KEY);
                CREATE TEMP TABLE bases (base TEXT PRIMARY KEY, next INTEGER NOT NULL);
                """
            )
            db.commit()
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        """Commit and release the folder."""
        self.db.commit()
        self.db.close()

    def claim(self, base: str) -> str:
        """A slug no other client of this run has: ``base``, else ``base-2``, ``base-3``..."""
        found = self.db.execute("SELECT next FROM bases WHERE base = ?", (base,)).fetchone()
        number = found[0] if found else 1
        while True:
            slug = base if number == 1 else numbered_slug(base, number)
            try:
                self.db.execute("INSERT INTO claims VALUES (?)", (slug,))
                break
            except sqlite3.IntegrityError:
                number += 1
        self.db.execute("INSERT OR REPLACE INTO bases VALUES (?, ?)", (base, number + 1))
        return slug

    def previous(self, slug: str, fingerprint: str) -> tuple[FileEntry, ...] | None:
        """The files of ``slug`` from an earlier run with this fingerprint, if any."""
        found = self.db.execute(
            "SELECT files FROM done WHERE slug = ? AND fingerprint = ?", (slug, fingerprint)
        ).fetchone()
        return tuple(FileEntry(**entry) for entry in json.loads(found[0])) if found else None

    def recorded(self, slug: str) -> tuple[FileEntry, ...]:
        """The files of ``slug`` as the last run that finished it recorded them (any fingerprint)."""
        found = self.db.execute("SELECT files FROM done WHERE slug = ?", (slug,)).fetchone()
        return tuple(FileEntry(**entry) for entry in json.loads(found[0])) if found else ()

    def kept(self) -> dict[str, int]:
        """This run's workbooks kept, by how: ``in place`` and ``copied``."""
        counts = {IN_PLACE: 0, "copied": 0}
        for (files,) in self.db.execute("SELECT files FROM run WHERE status != 'failed'"):
            for entry in json.loads(files or "[]"):
                if entry.get("kept"):
                    counts[IN_PLACE if entry["kept"] == IN_PLACE else "copied"] += 1
        return counts

    def record(self, result: Result) -> None:
        """Note one client's result, committed at once (a run killed later resumes after it)."""
        files = json.dumps([dataclasses.asdict(entry) for entry in result.files], ensure_ascii=False)
        self.db.execute(
            "INSERT OR REPLACE INTO run VALUES (?, ?, ?, ?, ?, ?, ?)",
            (result.row, result.company, result.slug, result.status, result.fingerprint, files, result.error),
        )
        if result.slug is not None:
            if result.status == "failed":
                self.db.execute("DELETE FROM done WHERE slug = ?", (result.slug,))
            else:
                self.db.execute(
                    "INSERT OR REPLACE INTO done VALUES (?, ?, ?)", (result.slug, result.fingerprint, files)
                )
        self.db.commit()

    def counts(self) -> dict[str, int]:
        """Clients of this run by status."""
        return dict(self.db.execute("SELECT status, COUNT(*) FROM run GROUP BY status").fetchall())

    def clients(self) -> Iterator[dict[str, Any]]:
        """This run's clients in row order, as the manifest lists them."""
        for row, company, slug, status, fingerprint, files, error in self.db.execute("SELECT * FROM run ORDER BY row"):
            entry: dict[str, Any] = {"row": row, "company": company, "folder": slug, "status": status}
            if status == "failed":
                entry["error"] = error
            else:
                entry["fingerprint"] = fingerprint
                entry["files"] = json.loads(files)
            yield entry


def write_manifest(out_dir: Path, state: State, header: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``manifest.json`` and ``manifest.csv`` from the state, each to a temporary file
    renamed into place, streaming the clients (no list of them in memory).

    Returns:
        The two paths.
    """
    remove_temporaries(out_dir)
    counts = state.counts()
    kept = state.kept()
    head = {
        **header,
        "counts": {
            "clients": sum(counts.values()),
            **{k: counts.get(k, 0) for k in ("generated", "unchanged", "failed")},
            "kept_in_place": kept[IN_PLACE],
            "kept_copies": kept["copied"],
        },
    }
    json_path, csv_path = out_dir / MANIFEST_JSON, out_dir / MANIFEST_CSV

    def write_json(handle: io.TextIOBase) -> None:
        opening = json.dumps(head, ensure_ascii=False, indent=2)
        handle.write(opening[:-2] + ',\n  "clients": [')
        for i, entry in enumerate(state.clients()):
            handle.write(("," if i else "") + "\n    " + json.dumps(entry, ensure_ascii=False))
        handle.write("\n  ]\n}\n")

    def write_csv(handle: io.TextIOBase) -> None:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "row",
                "company",
                "folder",
                "status",
                "blueprint",
                "blueprint_version",
                "file",
                "sha256",
                "bytes",
                "generator_version",
                "error",
                "kept",
            ]
        )
        for entry in state.clients():
            base = [entry["row"], _csv_text(entry["company"]), entry["folder"] or "", entry["status"]]
            if entry["status"] == "failed":
                writer.writerow([*base, "", "", "", "", "", __version__, _csv_text(entry["error"]), ""])
            for item in entry.get("files", ()):
                writer.writerow(
                    [
                        *base,
                        item["blueprint"],
                        item["version"],
                        item["path"],
                        item["sha256"],
                        item["bytes"],
                        __version__,
                        "",
                        item.get("kept") or "",
                    ]
                )

    atomic.write_text(json_path, write_json)
    atomic.write_text(csv_path, write_csv, "utf-8-sig")  # with a BOM, so spreadsheets read it as UTF-8
    return json_path, csv_path


def _csv_text(value: Any) -> str:
    """Text for a CSV cell that a spreadsheet shows as text: a leading apostrophe where it
    would otherwise read a formula (``=HYPERLINK(...)``, ``+1 Agency``)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
