"""Export a filled-in calendar: read it through the analyser, select its posts, check the format's
rules, then write the file (or files) whole, or nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from smm_sheets import atomic
from smm_sheets.analyser.findings import ERROR, SEVERITY_ORDER, Finding
from smm_sheets.errors import FileError, ParameterError
from smm_sheets.export import bulk
from smm_sheets.export.posts import read_calendar

FORMATS = ("ics", "hootsuite", "sprout", "publer", "csv")
DATE_ORDERS = ("day", "month")
SUFFIXES = {"ics": ".ics"}


@dataclass
class ExportResult:
    """What an export wrote and what it says about the posts.

    Attributes:
        paths: the files written.
        exported: the number of posts in them.
        findings: each post left out (and why), warnings, and notes about the files.
    """

    paths: list[Path] = field(default_factory=list)
    exported: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def left_out(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)

    def exit_code(self) -> int:
        """0 every selected post exported; 1 a post left out for a problem."""
        return 1 if self.left_out else 0

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (f.sheet or "", _row(f.cell), SEVERITY_ORDER.get(f.severity, 3)))


def export(
    calendar: str | Path,
    output: str | Path,
    *,
    format: str = "ics",
    statuses: Iterable[str] | None = None,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
    timezone: str | None = None,
    date_order: str = "day",
    force: bool = False,
    now: dt.datetime | None = None,
) -> ExportResult:
    """Export a filled-in calendar's posts to iCalendar, a scheduler's bulk file or CSV.

    Args:
        calendar: the calendar workbook (.xlsx, .xlsm, .ods...).
        output: the file to write; a scheduler's export of several channels (or more posts than
            one file takes) writes ``<stem>-<channel>[-<n>]<suffix>`` beside it instead.
        format: ``ics``, ``hootsuite``, ``sprout``, ``publer`` or ``csv``.
        statuses: export posts of these statuses only (``Scheduled``...; default: every status).
        since, until: export posts dated from ``since`` to ``until`` (dates or ``YYYY-MM-DD``).
        timezone: the zone of posts without one, and of a scheduler file's times (default: the
            workbook language's: Europe/Helsinki for Finnish, UTC for English...).
        date_order: a scheduler file's dates day-first (``day``) or month-first (``month``).
        force: replace files that exist.
        now: the upload time the schedulers' "at least 10 minutes ahead" counts from (default: now).

    Returns:
        The files written, the number of posts exported and the findings.

    Raises:
        ParameterError: an unknown format, status, date or time zone.
        FileError: the calendar cannot be read, or an output exists (without ``force``) or cannot be written.
        InputError: the file is not a calendar made by smm-sheets.
    """
    if format not in FORMATS:
        raise ParameterError(f"unknown export format {format!r} (one of {', '.join(FORMATS)})")
    if date_order not in DATE_ORDERS:
        raise ParameterError(f"date order must be day or month, not {date_order!r}")
    since, until = _date(since, "since"), _date(until, "until")
    if since and until and since > until:
        raise ParameterError(f"--since {since} is after --until {until}")
    source, output = Path(calendar), Path(output)
    data = read_calendar(source, statuses=statuses, since=since, until=until, timezone=timezone)
    findings = list(data.findings)
    posts = data.posts
    if format == "ics":
        from smm_sheets.export.ics import to_ics  # here: icalendar loads for this format only

        parts = [bulk.Part("", to_ics(data, posts), len(posts))]
    elif format == "csv":
        parts, found = bulk.generic_csv(data, posts)
        findings.extend(found)
    else:
        when = now or dt.datetime.now(dt.timezone.utc)
        parts, found = bulk.scheduler_file(format, data, posts, now=when, date_order=date_order)
        findings.extend(found)
    targets = _targets(output, parts)
    for target in targets:
        if target.resolve() == source.resolve():
            raise FileError(f"{target}: is the calendar being exported; choose another output file")
        if target.exists() and not force:
            raise FileError(f"{target} exists (use --force to replace it)")
    if not _folder_exists(output):
        raise FileError(f"cannot write to {output.parent}: no such folder")
    for target, part in zip(targets, parts):
        atomic.write_text(target, part.text)
    return ExportResult(paths=targets, exported=sum(p.posts for p in parts), findings=findings)


def _folder_exists(output: Path) -> bool:
    return output.parent.is_dir()


def _targets(output: Path, parts: list[bulk.Part]) -> list[Path]:
    if len(parts) == 1:
        return [output]
    suffix = output.suffix or ".csv"
    return [output.with_name(f"{output.stem}-{part.key}{suffix}") for part in parts]


def _date(value: dt.date | str | None, name: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ParameterError(f"--{name} must be a date YYYY-MM-DD, not {value!r}") from None


def _row(cell: str | None) -> int:
    digits = "".join(ch for ch in cell or "" if ch.isdigit())
    return int(digits) if digits else 0
