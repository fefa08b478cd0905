"""Schedulers' bulk-upload files (Hootsuite, Sprout Social, Publer) and the generic CSV.

Each scheduler takes one file per social profile (the profile is chosen when uploading), so a
file holds one channel's posts, at most as many as the scheduler takes per file. Times are in
one zone, the export's: set the scheduler's account to it. The vendor files carry each text
exactly as written; only the generic CSV guards its cells against spreadsheet formulas.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from smm_sheets.analyser.findings import INFO, WARNING, Finding
from smm_sheets.export import rules
from smm_sheets.export.posts import Calendar, Post

MAX_POSTS = {"hootsuite": 350, "sprout": 350}
PUBLER_COLUMNS = (
    "Date",
    "Text",
    "Link(s)",
    "Media URL(s)",
    "Title",
    "Labels",
    "Alt text(s)",
    "Comment(s)",
    "Pin board, FB album, or Google category",
    "Post subtype",
    "CTA",
    "Reminder",
)
SPROUT_COLUMNS = ("date", "time_24hr", "message_text", "link", "image_url")


@dataclass
class Part:
    """One file of an export: ``key`` names it beside the others (a channel, a number)."""

    key: str
    text: str
    posts: int


def _date(when: dt.datetime, date_order: str) -> str:
    return f"{when:%d/%m/%Y}" if date_order == "day" else f"{when:%m/%d/%Y}"


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.casefold()).strip("-") or "channel"


def _rows_to_csv(rows: Iterable[list[str]], quote_all: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    return out.getvalue()


def _by_channel(posts: list[Post], limit: int | None) -> list[tuple[str, list[Post]]]:
    """Posts grouped by channel (in the plan's order of first appearance), in time order, cut into
    files of at most ``limit``."""
    groups: dict[str, list[Post]] = {}
    for post in posts:
        groups.setdefault(post.channel, []).append(post)
    parts = []
    for channel, items in groups.items():
        items.sort(key=lambda p: (p.start, p.row))
        size = limit or len(items) or 1
        chunks = [items[i : i + size] for i in range(0, len(items), size)] or [[]]
        for number, chunk in enumerate(chunks, start=1):
            key = _slug(channel) + (f"-{number}" if len(chunks) > 1 else "")
            parts.append((key, chunk))
    return parts


def scheduler_file(
    name: str, calendar: Calendar, posts: list[Post], *, now: dt.datetime, date_order: str
) -> tuple[list[Part], list[Finding]]:
    """A scheduler's bulk files: the rules checked, then the rows written.

    Args:
        name: ``hootsuite``, ``sprout`` or ``publer``.
        now: the upload time the rules measure "in the future" from.
        date_order: ``day`` (31/12/2027) or ``month`` (12/31/2027), as chosen in the scheduler's upload.

    Returns:
        The files, and the findings: posts left out, and warnings.
    """
    checks: list[Callable] = [rules.needs_time, rules.within_caption_limit]
    if name == "hootsuite":
        checks += [rules.five_minute_steps, rules.in_the_future(now)]
    elif name == "sprout":
        checks += [rules.public_media, rules.in_the_future(now), rules.apart_per_channel(10)]
    else:
        checks += [rules.public_media]
    kept, findings = rules.apply(posts, checks)
    findings.extend(rules.formula_like(kept))
    zone = calendar.zone
    parts: list[Part] = []
    for key, chunk in _by_channel(kept, MAX_POSTS.get(name)):
        rows: list[list[str]] = []
        if name == "sprout":
            rows.append(list(SPROUT_COLUMNS))
        elif name == "publer":
            rows.append(list(PUBLER_COLUMNS))
        for post in chunk:
            when = post.start.astimezone(zone)
            text, link = rules.message(post), post.text("utm_link")
            if name == "hootsuite":
                rows.append([f"{_date(when, date_order)} {when:%H:%M}", text, link])
            elif name == "sprout":
                media = post.media_urls
                if len(media) > 1:
                    findings.append(
                        post.finding(
                            "media-left-out",
                            WARNING,
                            f"Sprout Social's bulk file takes one image: {len(media) - 1} more media address(es) not in the file",
                        )
                    )
                rows.append([_date(when, date_order), f"{when:%H:%M}", text, link, media[0] if media else ""])
            else:
                labels = ",".join(post.text(k) for k in ("pillar", "campaign") if post.text(k))
                rows.append(
                    [
                        f"{when:%Y-%m-%d %H:%M}",
                        text,
                        link,
                        ",".join(post.media_urls),
                        "",
                        labels,
                        post.text("alt_text"),
                        post.text("first_comment"),
                        "",
                        "",
                        "",
                        "",
                    ]
                )
        parts.append(Part(key, _rows_to_csv(rows), len(chunk)))
    if not parts:  # nothing to schedule: the file still says what it is
        header = {"sprout": [list(SPROUT_COLUMNS)], "publer": [list(PUBLER_COLUMNS)]}.get(name, [])
        parts.append(Part("", _rows_to_csv(header), 0))
    if kept:
        findings.append(
            Finding(
                "export-time-zone",
                INFO,
                None,
                None,
                f"times are in {zone.key}: set the scheduler's time zone to it before uploading",
            )
        )
    if name == "hootsuite" and any(p.media_urls for p in kept):
        findings.append(
            Finding(
                "media-left-out",
                WARNING,
                None,
                None,
                "Hootsuite's bulk file has no media column: attach the media in Hootsuite",
            )
        )
    return parts, findings


def guard(value: str) -> str:
    """OWASP's CSV-injection rule: a cell that a spreadsheet app would read as a formula gets a
    leading apostrophe, so that it shows as text."""
    return "'" + value if value.startswith(rules.FORMULA_STARTS) else value


def generic_csv(calendar: Calendar, posts: list[Post]) -> tuple[list[Part], list[Finding]]:
    """Every column of the calendar, one row per post (in the calendar's order), safe to open
    in a spreadsheet app."""
    header = ["Row"] + [label for _, label in calendar.columns]
    rows = [[guard(h) for h in header]]
    guarded = 0
    for post in sorted(posts, key=lambda p: p.row):
        row = [str(post.row)]
        for field_id, _ in calendar.columns:
            text = _cell_text(post.values.get(field_id))
            safe = guard(text)
            guarded += safe != text
            row.append(safe)
        rows.append(row)
    findings = [
        Finding(
            "csv-formulas-guarded",
            INFO,
            None,
            None,
            f"safe to open in a spreadsheet app: {guarded} cell(s) starting with =, +, -, @, tab or CR "
            "got a leading ' (OWASP CSV injection), so that they show as text",
        )
    ]
    return [Part("", _rows_to_csv(rows, quote_all=True), len(posts))], findings


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.time):
        return f"{value:%H:%M}" if not value.second else f"{value:%H:%M:%S}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
