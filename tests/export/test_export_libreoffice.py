"""Calendars filled in by LibreOffice (through UNO, as a person types) and saved as xlsx and ods
export the same posts, in every format."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import icalendar
import pytest

import smm_sheets
from smm_sheets.blueprint import loader
from smm_sheets.plan import build
from smm_sheets.sheetref import a1
from tests.conftest import params
from tests.export.calendars import CHANNELS, TEAM, YEAR
from tests.libreoffice import edit_many, soffice_uno  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("soffice_uno")

HOSTILE = '=HYPERLINK("http://evil.example","click")'
# (date, time, zone, channel, caption, status, owner, media)
POSTS = [
    (
        "2027-01-05",
        "09:00",
        "Europe/Helsinki",
        "Instagram",
        "Wool socks, finally.",
        "Scheduled",
        "Aino",
        "https://cdn.example.com/a.jpg",
    ),
    ("2027-03-27", "12:00", "Europe/Helsinki", "Facebook", "Before summer time", "Scheduled", "Mikko", ""),
    ("2027-03-29", "12:00", "Europe/Helsinki", "Facebook", "After summer time", "Scheduled", "Mikko", ""),
    ("2027-02-10", "18:30", "Europe/Oslo", "X", HOSTILE, "Scheduled", "+1 Agency", ""),
    ("2027-02-11", "07:05", "UTC", "Instagram", "@everyone -20 % today", "Draft", "+1 Agency", ""),
]


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """The same posts typed into a blank calendar, saved by LibreOffice as xlsx and as ods."""
    folder = tmp_path_factory.mktemp("lo")
    parameters = params(company="Nordic Knitwear Oy", year=YEAR, channels=CHANNELS, team=TEAM)
    blank = smm_sheets.generate(
        "calendar", folder / "blank", company="Nordic Knitwear Oy", year=YEAR, channels=CHANNELS, team=TEAM
    )[0]
    plan = build(loader.load("calendar"), parameters)

    def cell(name, index):
        store = plan.items[name].column
        return f"'{plan.sheets[store.sheet].name}'!{a1(store.first_row + index, store.col)}"

    actions = []
    for i, (day, time, zone, channel, caption, status, owner, media) in enumerate(POSTS):
        actions += [
            {"type": cell("post_date", i), "text": day},
            {"type": cell("post_time", i), "text": time},
            {"set": cell("time_zone", i), "value": zone},
            {"set": cell("post_channel", i), "value": channel},
            {"set": cell("caption", i), "value": caption},
            {"set": cell("post_status", i), "value": status},
            {"set": cell("owner", i), "value": owner},
        ]
        if media:
            actions.append({"set": cell("media_urls", i), "value": media})
    jobs = [
        {"src": blank, "out": folder / f"filled.{fmt}", "format": fmt, "actions": actions} for fmt in ("xlsx", "ods")
    ]
    return edit_many(jobs)


def ics_events(path, out):
    result = smm_sheets.export(path, out)
    assert result.exported == len(POSTS) and result.exit_code() == 0, result.findings
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    return {str(e["UID"]): (e.decoded("DTSTART"), str(e["DESCRIPTION"])) for e in cal.walk("VEVENT")}


def test_a_calendar_filled_in_libreoffice_exports_every_post(filled, tmp_path):
    xlsx, _ = filled
    events = ics_events(xlsx, tmp_path / "xlsx.ics")
    for day, time, zone, _, caption, *_ in POSTS:
        start = next(s for s, description in events.values() if description.startswith(caption))
        expected = dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=ZoneInfo(zone))
        assert start == expected and start.utcoffset() == expected.utcoffset()
    rows = list(csv.reader(io.StringIO(_export_text(xlsx, tmp_path / "x.csv", "csv"))))
    assert "'" + HOSTILE in rows[4] and "'+1 Agency" in rows[4] and "'@everyone -20 % today" in rows[5]


def _export_text(path, out, fmt):
    result = smm_sheets.export(path, out, format=fmt)
    return "".join(p.read_text(encoding="utf-8") for p in result.paths)


def test_xlsx_and_ods_export_the_same_posts(filled, tmp_path):
    xlsx, ods = filled
    assert ics_events(xlsx, tmp_path / "xlsx.ics") == ics_events(ods, tmp_path / "ods.ics")


@pytest.mark.parametrize("fmt", ["csv", "hootsuite", "sprout", "publer"])
def test_xlsx_and_ods_give_the_same_bulk_files(filled, tmp_path, fmt):
    xlsx, ods = filled
    now = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    written = {}
    for path in (xlsx, ods):
        out = tmp_path / path.suffix[1:] / f"posts.{fmt}.csv"
        out.parent.mkdir()
        result = smm_sheets.export(path, out, format=fmt, now=now, timezone="Europe/Helsinki")
        assert not [f for f in result.findings if f.severity == "error"], result.findings
        written[path.suffix] = {p.name: p.read_text(encoding="utf-8") for p in result.paths}
    assert written[".xlsx"] == written[".ods"]
    texts = [cell for content in written[".xlsx"].values() for row in csv.reader(io.StringIO(content)) for cell in row]
    if fmt == "csv":  # guarded for spreadsheet apps, and says so
        assert "'" + HOSTILE in texts and "'+1 Agency" in texts and "'@everyone -20 % today" in texts
    else:  # as written
        assert HOSTILE in texts and "@everyone -20 % today" in texts
