"""The posts of a filled-in calendar, as the analyser accepts them.

The calendar is read and checked by the analyser (:func:`~smm_sheets.analyser.pipeline.analyse_book`);
a post is a used row of its ``posts`` table. A post with a finding of severity error in its row
(a date typed as text, a channel not in the plan, a status outside the list...) is left out, and
so is a post the filters (status, dates) do not select: each is an export finding that says why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smm_sheets.analyser import reader
from smm_sheets.analyser.findings import ERROR, INFO, WARNING, Finding
from smm_sheets.analyser.pipeline import analyse_book
from smm_sheets.analyser.recognise import meta_sheet
from smm_sheets.analyser.report import FileReport
from smm_sheets.errors import InputError, ParameterError
from smm_sheets.sheetref import date_of_serial

TABLE = "posts"
STATUS_KEYS = ("idea", "draft", "in_review", "scheduled", "published")
# The zone of a post without one, by the workbook's language: where its audience most likely is.
DEFAULT_ZONES = {"fi": "Europe/Helsinki", "lv": "Europe/Riga", "mk": "Europe/Skopje", "nb": "Europe/Oslo", "en": "UTC"}
# The row number of an A1 reference (findings name cells, posts are rows).
_ROW_NUMBER = re.compile(r"(\d+)$")


@dataclass
class Post:
    """One post of the calendar, as the file holds it.

    Attributes:
        sheet: the calendar sheet's name in the file.
        row: the post's row as a spreadsheet shows it (1-based).
        values: field id -> value (inputs as typed, formulas as recomputed from the inputs).
        status: the status key (``scheduled``...) or None.
        zone: the post's time zone (its own, else the export's).
    """

    sheet: str
    row: int
    index: int
    values: dict[str, Any]
    status: str | None
    zone: ZoneInfo
    uid: str = ""

    def text(self, field_id: str) -> str:
        """A field's value as text ("" when blank)."""
        value = self.values.get(field_id)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    @property
    def channel(self) -> str:
        return self.text("post_channel")

    @property
    def caption(self) -> str:
        return self.text("caption")

    @property
    def date(self) -> dt.date | None:
        return self.values.get("post_date")

    @property
    def time(self) -> dt.time | None:
        return self.values.get("post_time")

    @property
    def start(self) -> dt.datetime | None:
        """When the post goes out, in its zone (None without a time: a day's post)."""
        if self.date is None or self.time is None:
            return None
        return dt.datetime.combine(self.date, self.time, tzinfo=self.zone)

    @property
    def media_urls(self) -> list[str]:
        """The media addresses, one per line (commas and spaces also separate them)."""
        return [part for part in re.split(r"[\s,]+", self.text("media_urls")) if part]

    @property
    def where(self) -> str:
        return f"row {self.row}"

    def finding(self, code: str, severity: str, message: str) -> Finding:
        """A finding about this post: its sheet and the A cell of its row."""
        return Finding(code, severity, self.sheet, f"A{self.row}", message)


@dataclass
class Calendar:
    """A calendar read for export: the analyser's report, the posts it accepts, the columns."""

    path: Path
    report: FileReport
    posts: list[Post]
    findings: list[Finding]
    language: str
    company: str
    zone: ZoneInfo
    columns: list[tuple[str, str]]  # (field id, its header in the workbook's language)
    status_labels: dict[str, str]  # status key -> label in the workbook's language
    key: str  # the workbook's identity, for UIDs
    modified: dt.datetime  # when the file was last saved (UTC)
    labels: dict[str, str] = field(default_factory=dict)


def zone_named(name: str) -> ZoneInfo:
    """An IANA time zone (``Europe/Helsinki``).

    Raises:
        ParameterError: not a time zone.
    """
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ParameterError(f"unknown time zone {name!r} (use an IANA name such as Europe/Helsinki)") from None


def read_calendar(
    path: str | Path,
    *,
    statuses: Iterable[str] | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    timezone: str | None = None,
) -> Calendar:
    """Read a filled-in calendar through the analyser and select its posts.

    Args:
        path: an .xlsx, .xlsm or .ods calendar (any format the analyser reads).
        statuses: keep posts of these statuses only: keys (``scheduled``), or labels in English
            or in the workbook's language, case-insensitive.
        since, until: keep posts dated on or after ``since`` and on or before ``until``.
        timezone: the zone of posts without one (default: the workbook language's).

    Returns:
        The calendar with its accepted, selected posts and a finding for each post left out.

    Raises:
        FileError: the file cannot be read.
        InputError: not a calendar made by smm-sheets; an unknown status.
    """
    path = Path(path)
    book, report = analyse_book(reader.read(path))
    if report.blueprint_id != "calendar":
        raise InputError(f"{path}: a {report.blueprint_id} workbook, not a calendar: only calendars are exported")
    blueprint, params = book.plan.blueprint, book.plan.params
    labels = blueprint.labels.get(params.language) or blueprint.labels["en"]
    zone = zone_named(timezone) if timezone else ZoneInfo(DEFAULT_ZONES.get(params.language, "UTC"))
    status_labels = {key: labels.get(f"status.{key}", key) for key in STATUS_KEYS}
    wanted = _wanted_statuses(statuses, status_labels, blueprint.labels.get("en", {}))
    by_label = {label.casefold(): key for key, label in status_labels.items()}
    zones = {labels.get(k, "").casefold(): v for k, v in labels.items() if k.startswith("tz.")}

    placements = {
        item_id: placement
        for item_id, placement in book.computed.items.items()
        if placement.column is not None and placement.column.block_id == TABLE
    }
    if "post_date" not in placements:
        raise InputError(f"{path}: the calendar has no posts table")
    columns = [(item_id, labels.get(p.field.label, item_id)) for item_id, p in placements.items()]
    errors = _errors_by_row(report.findings)
    used = sorted(book.used_rows.get(TABLE, ()))
    date_store = placements["post_date"].column
    posts: list[Post] = []
    accepted: list[tuple[Post, str]] = []
    findings: list[Finding] = [f for f in report.findings if f.code == "rows-below-table"]
    for index in used:
        sheet_name, cell = book.ref(date_store.sheet, date_store.first_row + index, 0)
        if book.gone(date_store.sheet, date_store.first_row + index):
            continue
        row = int(_ROW_NUMBER.search(cell).group(1))
        values = {}
        for item_id, placement in placements.items():
            store = placement.column
            if placement.role == "input":
                values[item_id] = _clean(item_id, book.value(store.sheet, store.first_row + index, store.col))
            else:
                values[item_id] = _clean(item_id, store.values[index])
        status_text = str(values.get("post_status") or "").strip()
        post = Post(
            sheet=sheet_name,
            row=row,
            index=index,
            values=values,
            status=by_label.get(status_text.casefold()),
            zone=_post_zone(values.get("time_zone"), zones, zone),
        )
        problems = errors.get((sheet_name, row))
        if problems:
            reasons = "; ".join(f"{p.code} in {p.cell}: {p.message}" for p in problems)
            findings.append(post.finding("post-rejected", ERROR, f"not exported: {reasons}"))
            continue
        accepted.append((post, status_text))
    # UIDs over every accepted post, so that the filters do not change which n-th caption a post is.
    key = _workbook_key(book.data, report)
    _assign_uids([post for post, _ in accepted], key)
    for post, status_text in accepted:
        if wanted is not None and post.status not in wanted:
            shown = status_text or "blank"
            allowed = ", ".join(status_labels[k] for k in STATUS_KEYS if k in wanted)
            findings.append(
                post.finding("post-not-selected", INFO, f"not exported: status {shown}, not one of {allowed}")
            )
            continue
        if post.date is not None and since is not None and post.date < since:
            findings.append(post.finding("post-not-selected", INFO, f"not exported: dated {post.date}, before {since}"))
            continue
        if post.date is not None and until is not None and post.date > until:
            findings.append(post.finding("post-not-selected", INFO, f"not exported: dated {post.date}, after {until}"))
            continue
        problem = _local_time_problem(post)
        if problem is not None:
            findings.append(problem)
            if problem.severity == ERROR:
                continue
        posts.append(post)
    return Calendar(
        path=path,
        report=report,
        posts=posts,
        findings=findings,
        language=params.language,
        company=params.company,
        zone=zone,
        columns=columns,
        status_labels=status_labels,
        key=key,
        modified=dt.datetime.fromtimestamp(os.stat(path).st_mtime, dt.timezone.utc).replace(microsecond=0),
        labels=labels,
    )


def _wanted_statuses(
    statuses: Iterable[str] | None, status_labels: dict[str, str], english: dict[str, str]
) -> set[str] | None:
    if statuses is None:
        return None
    names: dict[str, str] = {}
    for key in STATUS_KEYS:
        for name in (key, key.replace("_", " "), status_labels[key], english.get(f"status.{key}", key)):
            names[name.casefold()] = key
    wanted = set()
    for item in statuses:
        item = item.strip()
        if not item:
            continue
        if item.casefold() not in names:
            known = ", ".join(status_labels[k] for k in STATUS_KEYS)
            raise ParameterError(f"unknown status {item!r} (the calendar's statuses: {known})")
        wanted.add(names[item.casefold()])
    return wanted or None


def _errors_by_row(findings: Iterable[Finding]) -> dict[tuple[str, int], list[Finding]]:
    """The analyser's errors by (sheet, row): a post with one is not exported."""
    found: dict[tuple[str, int], list[Finding]] = defaultdict(list)
    for item in findings:
        if item.severity == ERROR and item.sheet and item.cell:
            number = _ROW_NUMBER.search(item.cell)
            if number:
                found[(item.sheet, int(number.group(1)))].append(item)
    return found


def _clean(item_id: str, value: Any) -> Any:
    """A cell's value as the export uses it: dates as dates, times as times to the second, text as typed."""
    if value is None or value == "":
        return None
    if item_id in ("post_date", "approved_on"):
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return date_of_serial(value)
        return value
    if item_id == "post_time":
        seconds = None
        if isinstance(value, dt.datetime):
            value = value.time()
        if isinstance(value, dt.time):
            seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        elif isinstance(value, dt.timedelta):
            seconds = value.total_seconds()
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = (float(value) % 1) * 86400
        if seconds is None:
            return value
        seconds = round(seconds) % 86400  # a time saved as a fraction of a day is a second off at most
        return dt.time(seconds // 3600, seconds % 3600 // 60, seconds % 60)
    return value


def _post_zone(value: Any, zones: dict[str, str], default: ZoneInfo) -> ZoneInfo:
    if not isinstance(value, str) or not value.strip():
        return default
    name = zones.get(value.strip().casefold(), value.strip())
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


def _local_time_problem(post: Post) -> Finding | None:
    """A time that does not exist on its day (clocks moved forward), or that happens twice."""
    start = post.start
    if start is None:
        return None
    again = start.astimezone(dt.timezone.utc).astimezone(post.zone)
    if again.replace(tzinfo=None) != start.replace(tzinfo=None):
        return post.finding(
            "time-does-not-exist",
            ERROR,
            f"not exported: {start:%Y-%m-%d %H:%M} does not exist in {post.zone.key} (the clocks move forward that night)",
        )
    other = start.replace(fold=1)
    if other.utcoffset() != start.utcoffset():
        return post.finding(
            "time-ambiguous",
            WARNING,
            f"{start:%Y-%m-%d %H:%M} happens twice in {post.zone.key} (the clocks move back that night): "
            "exported as the first",
        )
    return None


def _workbook_key(data: reader.WorkbookData, report: FileReport) -> str:
    """The workbook's identity: its own id where the metadata has one, else what it was made for."""
    meta = meta_sheet(data) or {}
    own = meta.get("workbook_id") or data.properties.get("smm_workbook_id")
    if own:
        return own
    params = report.parameters
    parts = (report.blueprint_id, params.get("company"), params.get("year"), params.get("start_month"))
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _assign_uids(posts: list[Post], key: str) -> None:
    """A UID per post that survives sorting the rows and moving a post to another day or time.

    A post is its channel and its caption (the n-th of the same channel and caption in date
    order, for a caption used more than once); a post without a caption is its channel and time.
    """
    seen: dict[tuple[str, str], int] = defaultdict(int)
    order = sorted(posts, key=lambda p: (p.date or dt.date.min, p.time or dt.time.min, p.row))
    for post in order:
        caption = " ".join(post.caption.split())
        if caption:
            identity = (post.channel.casefold(), caption)
        else:
            identity = (post.channel.casefold(), f"{post.date} {post.time}")
        seen[identity] += 1
        text = "\x1f".join((key, *identity, str(seen[identity])))
        post.uid = hashlib.sha256(text.encode()).hexdigest()[:32] + "@smm-sheets"
