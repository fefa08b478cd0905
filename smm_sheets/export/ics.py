"""The calendar as iCalendar (RFC 5545): the only module that uses the ``icalendar`` library.

One VEVENT per post: UID stable across exports (see :func:`~smm_sheets.export.posts._assign_uids`),
SEQUENCE and DTSTAMP from the workbook's last save (an unchanged workbook exports byte for byte the
same, a saved edit raises the sequence), DTSTART in the post's own zone with its VTIMEZONE, a post
of 15 minutes (a day's event for a post without a time). Line folding and escaping are the library's.
"""

from __future__ import annotations

import datetime as dt

import icalendar

from smm_sheets import __version__
from smm_sheets.export.posts import Calendar, Post

POST_LENGTH = dt.timedelta(minutes=15)
SUMMARY_CAPTION = 60  # characters of the caption in an event's title
_SEQUENCE_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
# A post's status as an event's: ideas and drafts may not happen; scheduled and published posts do.
_STATUS = {
    "idea": "TENTATIVE",
    "draft": "TENTATIVE",
    "in_review": "TENTATIVE",
    "scheduled": "CONFIRMED",
    "published": "CONFIRMED",
}


def to_ics(calendar: Calendar, posts: list[Post]) -> str:
    """The posts as one iCalendar file's text (CRLF line ends, folded at 75 octets)."""
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//smm-sheets//smm-sheets {__version__}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{calendar.company} · {calendar.labels.get('title', 'calendar')}")
    cal.add("x-wr-timezone", calendar.zone.key)
    sequence = int((calendar.modified - _SEQUENCE_EPOCH).total_seconds() // 60)
    for post in sorted(posts, key=lambda p: (p.date, p.time or dt.time.min, p.row)):
        cal.add_component(_event(calendar, post, sequence))
    cal.add_missing_timezones()
    return cal.to_ical().decode("utf-8")


def _event(calendar: Calendar, post: Post, sequence: int) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", post.uid)
    event.add("dtstamp", calendar.modified)
    event.add("sequence", sequence)
    start = post.start
    if start is not None:
        event.add("dtstart", start)
        event.add("duration", POST_LENGTH)
    else:
        event.add("dtstart", post.date)  # VALUE=DATE: a post on that day, at no set time
    caption = " ".join(post.caption.split())
    if len(caption) > SUMMARY_CAPTION:
        caption = caption[: SUMMARY_CAPTION - 1].rstrip() + "…"
    event.add("summary", f"{post.channel}: {caption}" if caption else post.channel)
    event.add("description", _description(calendar, post))
    categories = [post.text(name) for name in ("post_channel", "pillar", "campaign") if post.text(name)]
    if categories:
        event.add("categories", categories)
    url = post.text("published_url") or post.text("utm_link")
    if url:
        event.add("url", url)
    if post.status in _STATUS:
        event.add("status", _STATUS[post.status])
    event.add("transp", "TRANSPARENT")  # a post does not make anyone busy
    return event


def _description(calendar: Calendar, post: Post) -> str:
    """The caption, then the other texts of the post, one labelled line each."""
    lines = [post.caption] if post.caption else []
    labels = dict(calendar.columns)
    details = []
    for name in (
        "hashtags",
        "first_comment",
        "utm_link",
        "media_urls",
        "asset_link",
        "alt_text",
        "post_format",
        "owner",
        "post_status",
        "approver",
        "approved_on",
        "initiative",
        "published_url",
    ):
        value = post.values.get(name)
        if value in (None, ""):
            continue
        text = " ".join(post.media_urls) if name == "media_urls" else post.text(name)
        details.append(f"{labels.get(name, name)}: {text}")
    if details:
        lines.extend(["", *details])
    return "\n".join(lines)
