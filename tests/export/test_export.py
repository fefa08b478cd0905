"""Calendar exports: iCalendar read back by two parsers, each scheduler's file read back by its
rules, the generic CSV, posts left out with their reasons, older calendars, the command line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from zoneinfo import ZoneInfo

import icalendar
import pytest
from click.testing import CliRunner
from ical.calendar_stream import IcsCalendarStream

import smm_sheets
from smm_sheets.cli import main
from smm_sheets.errors import FileError, InputError, ParameterError
from smm_sheets.export import rules
from tests.export.calendars import FIRST_DAY, calendar_1_0, write_calendar

HELSINKI = ZoneInfo("Europe/Helsinki")
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
# Helsinki moves its clocks forward on 2027-03-28 (day 86) at 03:00 and back on 2027-10-31 (day 303).
DST_DAY, BACK_DAY = 86, 303
HOSTILE = '=HYPERLINK("http://evil.example","click")'

POSTS = [
    {
        "day": 0,
        "time": "09:00",
        "zone": "helsinki",
        "channel": 0,
        "caption": "New year, new wool.",
        "status": "scheduled",
        "pillar": 0,
        "campaign": "Winter sale",
        "hashtags": "#wool #knitting",
        "owner": 0,
        "media_urls": "https://cdn.example.com/a.jpg\nhttps://cdn.example.com/b.jpg",
        "first_comment": "Link in bio",
        "alt_text": "A red sweater on snow",
    },
    {
        "day": DST_DAY - 1,
        "time": "12:00",
        "zone": "helsinki",
        "channel": 1,
        "caption": "Before the clocks move.",
        "status": "scheduled",
    },
    {
        "day": DST_DAY + 1,
        "time": "12:00",
        "zone": "helsinki",
        "channel": 1,
        "caption": "After the clocks moved.",
        "status": "scheduled",
    },
    {
        "day": 10,
        "time": "18:30",
        "zone": "oslo",
        "channel": 0,
        "caption": "Hei fra Oslo, med komma; og semikolon\nog ny linje.",
        "status": "draft",
    },
    {"day": 12, "time": "07:15", "zone": "utc", "channel": 2, "caption": HOSTILE, "status": "scheduled", "owner": 2},
    {"day": 14, "channel": 1, "caption": "A day's post without a time.", "status": "idea"},
    {
        "day": 20,
        "time": "20:00",
        "zone": "riga",
        "channel": 0,
        "caption": "-20 % this week only",
        "status": "published",
        "published_url": "https://www.instagram.com/p/abc/",
    },
]


def expected_starts() -> dict[str, dt.datetime | dt.date]:
    zones = {"helsinki": "Europe/Helsinki", "oslo": "Europe/Oslo", "utc": "UTC", "riga": "Europe/Riga"}
    found = {}
    for post in POSTS:
        day = FIRST_DAY + dt.timedelta(days=post["day"])
        if "time" not in post:
            found[post["caption"]] = day
            continue
        hours, minutes = map(int, post["time"].split(":"))
        found[post["caption"]] = dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=ZoneInfo(zones[post["zone"]]))
    return found


@pytest.fixture(scope="module")
def calendar_file(tmp_path_factory):
    return write_calendar(tmp_path_factory.mktemp("calendar"), POSTS)


# --------------------------------------------------------------------------- iCalendar


def test_ics_read_back_by_icalendar_and_vobject(calendar_file, tmp_path):
    result = smm_sheets.export(calendar_file, tmp_path / "posts.ics", format="ics")
    assert result.exported == len(POSTS) and result.exit_code() == 0
    raw = (tmp_path / "posts.ics").read_bytes()
    expected = expected_starts()

    parsed = icalendar.Calendar.from_ical(raw)
    events = parsed.walk("VEVENT")
    assert len(events) == len(POSTS)
    by_caption = {c: next(e for e in events if str(e["DESCRIPTION"]).startswith(c)) for c in expected}
    assert len({id(e) for e in by_caption.values()}) == len(POSTS)
    for caption, start in expected.items():
        got = by_caption[caption].decoded("DTSTART")
        assert got == start and type(got) is type(start)
        if isinstance(start, dt.datetime) and start.tzinfo.key != "UTC":
            assert by_caption[caption]["DTSTART"].params["TZID"] == start.tzinfo.key
        elif isinstance(start, dt.datetime):
            assert by_caption[caption]["DTSTART"].to_ical().endswith(b"Z")
    # the two posts around the change to summer time: 12:00 local is 10:00 UTC, then 09:00 UTC
    before = by_caption["Before the clocks move."].decoded("DTSTART").astimezone(dt.timezone.utc)
    after = by_caption["After the clocks moved."].decoded("DTSTART").astimezone(dt.timezone.utc)
    assert (before.hour, after.hour) == (10, 9)
    assert {"Europe/Helsinki", "Europe/Oslo", "Europe/Riga"} <= {str(tz["TZID"]) for tz in parsed.walk("VTIMEZONE")}
    first = by_caption["New year, new wool."]
    assert str(first["SUMMARY"]) == "Instagram: New year, new wool."
    assert [str(c) for c in first["CATEGORIES"].cats] == ["Instagram", "Product", "Winter sale"]
    assert "https://cdn.example.com/b.jpg" in str(first["DESCRIPTION"]) and "Aino" in str(first["DESCRIPTION"])
    assert (
        str(first["STATUS"]) == "CONFIRMED" and str(by_caption["A day's post without a time."]["STATUS"]) == "TENTATIVE"
    )
    assert str(by_caption["-20 % this week only"]["URL"]) == "https://www.instagram.com/p/abc/"
    assert all(int(e["SEQUENCE"]) > 0 and e.decoded("DTSTAMP").tzinfo is not None for e in events)

    # an independent parser, ical: once as written, once with the zones renamed, so that the
    # times come from our VTIMEZONE blocks, not from the parser's own zone database
    text = raw.decode("utf-8")
    for renamed in (text, text.replace("TZID:Europe/", "TZID:Our-").replace("TZID=Europe/", "TZID=Our-")):
        other = IcsCalendarStream.calendar_from_ics(renamed)
        assert len(other.events) == len(POSTS)
        starts = {c: next(e.dtstart for e in other.events if e.description.startswith(c)) for c in expected}
        for caption, start in expected.items():
            assert starts[caption] == start, caption
            if isinstance(start, dt.datetime):
                assert starts[caption].utcoffset() == start.utcoffset(), caption
        assert {e.uid for e in other.events} == {str(e["UID"]) for e in events}
    assert len({str(e["UID"]) for e in events}) == len(POSTS)


def test_ics_keeps_hostile_and_special_text_as_text(calendar_file, tmp_path):
    smm_sheets.export(calendar_file, tmp_path / "posts.ics")
    parsed = IcsCalendarStream.calendar_from_ics((tmp_path / "posts.ics").read_text(encoding="utf-8"))
    descriptions = [e.description for e in parsed.events]
    assert any(d.startswith(HOSTILE) for d in descriptions)
    assert any(d.startswith("Hei fra Oslo, med komma; og semikolon\nog ny linje.") for d in descriptions)
    assert any("+1 Agency" in d for d in descriptions)


def test_reexport_gives_the_same_uids_even_after_sorting_and_rescheduling(calendar_file, tmp_path):
    first = smm_sheets.export(calendar_file, tmp_path / "a.ics")
    smm_sheets.export(calendar_file, tmp_path / "b.ics")
    assert (tmp_path / "a.ics").read_bytes() == (tmp_path / "b.ics").read_bytes()
    assert first.exported == len(POSTS)

    # the same posts, rows in the other order, one post moved to another day and time
    moved = [dict(p) for p in reversed(POSTS)]
    moved[0].update(day=21, time="10:00")
    other = write_calendar(tmp_path / "sorted", moved)
    smm_sheets.export(other, tmp_path / "c.ics")

    def uids(name):
        cal = icalendar.Calendar.from_ical((tmp_path / name).read_bytes())
        events = cal.walk("VEVENT")
        return {
            p["caption"]: next(str(e["UID"]) for e in events if str(e["DESCRIPTION"]).startswith(p["caption"]))
            for p in POSTS
        }

    assert uids("a.ics") == uids("c.ics")


def test_same_caption_twice_gets_two_uids(tmp_path):
    posts = [{"day": d, "time": "09:00", "channel": 0, "caption": "Same text", "status": "scheduled"} for d in (1, 2)]
    path = write_calendar(tmp_path, posts)
    smm_sheets.export(path, tmp_path / "x.ics")
    cal = icalendar.Calendar.from_ical((tmp_path / "x.ics").read_bytes())
    assert len({str(e["UID"]) for e in cal.walk("VEVENT")}) == 2


def test_a_time_that_does_not_exist_is_left_out_and_a_doubled_one_warned(tmp_path):
    posts = [
        {"day": DST_DAY, "time": "03:30", "zone": "helsinki", "channel": 0, "caption": "gap", "status": "scheduled"},
        {"day": BACK_DAY, "time": "03:30", "zone": "helsinki", "channel": 0, "caption": "twice", "status": "scheduled"},
    ]
    path = write_calendar(tmp_path, posts)
    result = smm_sheets.export(path, tmp_path / "x.ics")
    codes = {(f.code, f.cell) for f in result.findings}
    assert ("time-does-not-exist", "A6") in codes and ("time-ambiguous", "A7") in codes
    assert result.exported == 1 and result.exit_code() == 1


# --------------------------------------------------------------------------- posts left out


def test_posts_with_errors_and_posts_not_selected_are_findings(tmp_path):
    posts = [
        {"day": 1, "time": "09:00", "channel": 0, "caption": "fine", "status": "scheduled"},
        {"day": 2, "time": "09:00", "channel": "Myspace", "caption": "bad channel", "status": "scheduled"},
        {"day": 3, "time": "09:00", "channel": 0, "caption": "an idea", "status": "idea"},
        {"time": "09:00", "channel": 0, "caption": "no date", "status": "scheduled"},
        {"day": 40, "time": "09:00", "channel": 0, "caption": "too late", "status": "scheduled"},
    ]
    path = write_calendar(tmp_path, posts)
    result = smm_sheets.export(
        path, tmp_path / "x.csv", format="csv", statuses=["scheduled"], until=FIRST_DAY + dt.timedelta(days=30)
    )
    assert result.exported == 1
    by_cell = {f.cell: f for f in result.findings if f.cell}
    assert by_cell["A7"].code == "post-rejected" and "channel" in by_cell["A7"].message
    assert by_cell["A8"].code == "post-not-selected" and "Idea" in by_cell["A8"].message
    assert by_cell["A9"].code == "post-rejected" and "missing-value" in by_cell["A9"].message
    assert by_cell["A10"].code == "post-not-selected" and "after 2027-01-31" in by_cell["A10"].message
    assert result.exit_code() == 1
    rows = list(csv.reader(io.StringIO((tmp_path / "x.csv").read_text(encoding="utf-8"))))
    assert [r[0] for r in rows[1:]] == ["6"]


def test_statuses_in_the_workbooks_language_and_unknown_ones(tmp_path):
    posts = [{"day": 1, "time": "09:00", "channel": 0, "caption": "a", "status": s} for s in ("scheduled", "draft")]
    path = write_calendar(tmp_path, posts, language="fi")
    result = smm_sheets.export(path, tmp_path / "x.ics", statuses=["Ajastettu"])
    assert result.exported == 1
    assert smm_sheets.export(path, tmp_path / "y.ics", statuses=["scheduled"]).exported == 1
    with pytest.raises(ParameterError, match="unknown status 'Someday'"):
        smm_sheets.export(path, tmp_path / "z.ics", statuses=["Someday"])
    cal = icalendar.Calendar.from_ical((tmp_path / "x.ics").read_bytes())
    assert str(cal["X-WR-TIMEZONE"]) == "Europe/Helsinki"  # Finnish: Helsinki by default


# --------------------------------------------------------------------------- schedulers


def read_rows(path):
    text = path.read_bytes().decode("utf-8")  # UTF-8, or this fails
    assert not text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_hootsuite_file_keeps_its_rules(tmp_path):
    posts = [
        {"day": 1, "time": "09:00", "channel": 0, "caption": "on the step", "status": "scheduled", "hashtags": "#wool"},
        {"day": 1, "time": "09:07", "channel": 0, "caption": "off the step", "status": "scheduled"},
        {"day": -40, "time": "09:00", "channel": 0, "caption": "in the past", "status": "scheduled"},
        {"day": 2, "time": "10:00", "channel": 2, "caption": "x" * 281, "status": "scheduled"},
        {"day": 2, "time": "10:00", "channel": 2, "caption": "+1 for wool", "status": "scheduled"},
        {"day": 3, "time": "23:55", "channel": 1, "caption": "late", "status": "scheduled"},
    ]
    path = write_calendar(tmp_path, posts)
    result = smm_sheets.export(path, tmp_path / "h.csv", format="hootsuite", now=NOW, date_order="month")
    codes = {f.cell: f.code for f in result.findings if f.cell}
    assert codes == {
        "A7": "time-not-on-step",
        "A8": "not-in-future",
        "A9": "caption-over-limit",
        "A10": "caption-like-formula",
    }
    assert [p.name for p in result.paths] == ["h-instagram.csv", "h-x.csv", "h-facebook.csv"]
    written = {}
    for file in result.paths:
        for row in read_rows(file):
            assert len(row) == 3  # date-time, message, link; no header
            when = dt.datetime.strptime(row[0], "%m/%d/%Y %H:%M").replace(tzinfo=HELSINKI)  # month-first, as asked
            assert when.minute % 5 == 0 and when >= NOW + dt.timedelta(minutes=10)
            written[row[1]] = (file.name, when, row[2])
    assert set(written) == {"on the step\n\n#wool", "+1 for wool", "late"}  # the caption exactly as written
    assert written["late"][1] == dt.datetime(2027, 1, 4, 23, 55, tzinfo=HELSINKI)
    assert written["+1 for wool"][2].startswith("https://www.example.fi?utm_source=x&")
    assert result.exit_code() == 1


def test_hootsuite_splits_files_at_350_posts(tmp_path):
    posts = [
        {
            "day": 1 + i // 100,
            "time": f"{8 + (i % 100) // 12:02d}:{(i % 12) * 5:02d}",
            "channel": 1,
            "caption": f"post {i}",
            "status": "scheduled",
        }
        for i in range(360)
    ]
    path = write_calendar(tmp_path, posts)
    result = smm_sheets.export(path, tmp_path / "h.csv", format="hootsuite", now=NOW)
    assert result.exported == 360 and result.exit_code() == 0
    assert [p.name for p in result.paths] == ["h-facebook-1.csv", "h-facebook-2.csv"]
    sizes = [len(read_rows(p)) for p in result.paths]
    assert sizes == [350, 10]
    days = [dt.datetime.strptime(r[0], "%d/%m/%Y %H:%M") for p in result.paths for r in read_rows(p)]
    assert days == sorted(days)  # day-first by default, in time order across the files


def test_sprout_file_keeps_its_rules(tmp_path):
    posts = [
        {
            "day": 1,
            "time": "09:00",
            "channel": 0,
            "caption": "first",
            "status": "scheduled",
            "media_urls": "https://cdn.example.com/a.jpg",
        },
        {"day": 1, "time": "09:05", "channel": 0, "caption": "too close", "status": "scheduled"},
        {"day": 1, "time": "09:05", "channel": 1, "caption": "other profile", "status": "scheduled"},
        {"day": 1, "time": "09:10", "channel": 0, "caption": "ten after", "status": "scheduled"},
        {
            "day": 2,
            "time": "09:00",
            "channel": 0,
            "caption": "private media",
            "status": "scheduled",
            "media_urls": "http://192.168.1.20/photo.jpg",
        },
        {
            "day": 2,
            "time": "10:00",
            "channel": 0,
            "caption": "drive media",
            "status": "scheduled",
            "media_urls": "file:///home/aino/photo.jpg",
        },
        {"day": 3, "channel": 0, "caption": "no time needed?", "status": "scheduled"},
    ]
    path = write_calendar(tmp_path, posts)
    result = smm_sheets.export(path, tmp_path / "s.csv", format="sprout", now=NOW)
    codes = {f.cell: f.code for f in result.findings if f.cell}
    assert codes == {"A7": "too-close", "A10": "media-not-public", "A11": "media-not-public", "A12": "no-time"}
    assert "row 6" in next(f.message for f in result.findings if f.code == "too-close")
    for file in result.paths:
        rows = read_rows(file)
        assert rows[0] == ["date", "time_24hr", "message_text", "link", "image_url"]  # case-sensitive headers
        assert len(rows) - 1 <= 350
        times = [dt.datetime.strptime(f"{r[0]} {r[1]}", "%d/%m/%Y %H:%M") for r in rows[1:]]
        assert all(b - a >= dt.timedelta(minutes=10) for a, b in zip(times, times[1:]))
    instagram = read_rows(tmp_path / "s-instagram.csv")
    assert [r[2] for r in instagram[1:]] == ["first", "ten after"]
    assert instagram[1][4] == "https://cdn.example.com/a.jpg"


def test_publer_file_has_its_columns(calendar_file, tmp_path):
    result = smm_sheets.export(calendar_file, tmp_path / "p.csv", format="publer", now=NOW)
    assert {f.code for f in result.findings if f.severity == "error"} == {"no-time"}
    instagram = read_rows(tmp_path / "p-instagram.csv")
    header = instagram[0]
    assert header[:4] == ["Date", "Text", "Link(s)", "Media URL(s)"] and "Labels" in header
    rows = [dict(zip(header, r)) for r in instagram[1:]]
    first = rows[0]
    # times in the export's zone (UTC for an English workbook): 09:00 in Helsinki is 07:00 UTC
    assert dt.datetime.strptime(first["Date"], "%Y-%m-%d %H:%M") == dt.datetime(2027, 1, 1, 7, 0)
    assert first["Text"] == "New year, new wool.\n\n#wool #knitting"
    assert first["Media URL(s)"].split(",") == ["https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg"]
    assert first["Labels"] == "Product,Winter sale" and first["Comment(s)"] == "Link in bio"
    # 18:30 in Oslo is 17:30 UTC
    oslo = next(r for r in rows if r["Text"].startswith("Hei fra Oslo"))
    assert oslo["Date"] == "2027-01-11 17:30"
    x = read_rows(tmp_path / "p-x.csv")
    assert x[1][1] == HOSTILE  # the caption exactly as written
    warned = [f for f in result.findings if f.code == "caption-like-formula"]
    assert {f.cell for f in warned} == {"A10", "A12"}


def test_generic_csv_has_every_column_and_is_safe_to_open(calendar_file, tmp_path):
    result = smm_sheets.export(calendar_file, tmp_path / "all.csv", format="csv")
    rows = read_rows(tmp_path / "all.csv")
    header = rows[0]
    assert header[:4] == ["Row", "Date", "Time", "Time zone"]
    for label in (
        "Caption",
        "UTM link",
        "Hashtags",
        "First comment",
        "Alt text",
        "Media URLs",
        "Approved by",
        "Published post",
    ):
        assert label in header
    assert len(rows) == len(POSTS) + 1
    captions = [dict(zip(header, r))["Caption"] for r in rows[1:]]
    assert "'" + HOSTILE in captions and "'-20 % this week only" in captions
    owners = {dict(zip(header, r))["Owner"] for r in rows[1:]}
    assert "'+1 Agency" in owners
    for row in rows:
        assert not any(cell.startswith(rules.FORMULA_STARTS) for cell in row)
    assert any(f.code == "csv-formulas-guarded" and "3 cell(s)" in f.message for f in result.findings)


def test_public_url_rule():
    assert rules.url_problem("https://cdn.example.com/a.jpg") is None
    for bad in (
        "ftp://x.example/a",
        "https://localhost/a",
        "http://10.0.0.1/a",
        "https://nas.local/a",
        "https://u:p@x.example/a",
        "drive/photo.jpg",
        "https://[::1]/a",
    ):
        assert rules.url_problem(bad), bad


# --------------------------------------------------------------------------- older calendars, bad input


def test_a_calendar_of_version_1_0_still_exports(tmp_path):
    path = write_calendar(tmp_path, POSTS[:3], blueprint=calendar_1_0())
    report = smm_sheets.analyse(path).reports[0]
    assert report.valid and {f.code for f in report.findings} >= {"blueprint-version"}
    result = smm_sheets.export(path, tmp_path / "old.csv", format="csv")
    assert result.exported == 3 and result.exit_code() == 0
    rows = read_rows(tmp_path / "old.csv")
    assert [dict(zip(rows[0], r))["Caption"] for r in rows[1:]] == [p["caption"] for p in POSTS[:3]]


def test_bad_input_is_refused_before_anything_is_written(calendar_file, tmp_path):
    with pytest.raises(ParameterError, match="unknown export format"):
        smm_sheets.export(calendar_file, tmp_path / "x", format="docx")
    with pytest.raises(ParameterError, match="unknown time zone"):
        smm_sheets.export(calendar_file, tmp_path / "x.ics", timezone="Mars/Olympus")
    with pytest.raises(ParameterError, match="--since"):
        smm_sheets.export(calendar_file, tmp_path / "x.ics", since="12/03/2027")
    with pytest.raises(FileError, match="the calendar being exported"):
        smm_sheets.export(calendar_file, calendar_file, format="csv", force=True)
    (tmp_path / "taken.ics").write_text("keep", encoding="utf-8")
    with pytest.raises(FileError, match="exists"):
        smm_sheets.export(calendar_file, tmp_path / "taken.ics")
    assert (tmp_path / "taken.ics").read_text(encoding="utf-8") == "keep"
    budget = smm_sheets.generate("budget", tmp_path / "b")[0]
    with pytest.raises(InputError, match="not a calendar"):
        smm_sheets.export(budget, tmp_path / "b.ics")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "taken.ics"]


def test_importing_smm_sheets_does_not_load_icalendar():
    code = "import sys, smm_sheets; print('icalendar' in sys.modules, callable(smm_sheets.export))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


# --------------------------------------------------------------------------- command line


def test_cli_export(calendar_file, tmp_path):
    runner = CliRunner()
    out = tmp_path / "posts.ics"
    result = runner.invoke(
        main, ["export", str(calendar_file), "--format", "ics", "-o", str(out), "--status", "Scheduled"]
    )
    assert result.exit_code == 0, result.output
    assert f"4 posts exported to {out}" in result.stdout
    assert result.stderr.count("post-not-selected") == 3
    again = runner.invoke(main, ["export", str(calendar_file), "--format", "ics", "-o", str(out)])
    assert again.exit_code == 2 and "exists (use --force" in again.stderr and len(again.stderr.splitlines()) == 1
    hoot = runner.invoke(
        main,
        [
            "export",
            str(calendar_file),
            "--format",
            "hootsuite",
            "-o",
            str(tmp_path / "h.csv"),
            "--timezone",
            "Europe/Helsinki",
        ],
    )
    assert hoot.exit_code == 1  # a post without a time, posts in the past, left out
    assert "Calendar!A11: error: no-time" in hoot.stderr
    bad = runner.invoke(main, ["export", str(calendar_file), "--format", "pdf", "-o", str(tmp_path / "x")])
    assert bad.exit_code == 2
    missing = runner.invoke(
        main, ["export", str(tmp_path / "nope.xlsx"), "--format", "ics", "-o", str(tmp_path / "y.ics")]
    )
    assert missing.exit_code == 2 and missing.stderr.startswith("smm-sheets: error:")


def test_hostile_company_channel_and_team_names_stay_text(tmp_path):
    # channel names start with a letter or digit (the parameters see to it); people's names may not
    company, channel, person = '=HYPERLINK("http://x","y")', "Kylä & Co.", "-Mikko"
    posts = [
        {"day": 1, "time": "09:00", "channel": 0, "caption": "hi", "status": "scheduled", "owner": 0, "approver": 0}
    ]
    path = write_calendar(tmp_path, posts, company=company, channels=channel, team=person)
    smm_sheets.export(path, tmp_path / "x.ics")
    parsed = icalendar.Calendar.from_ical((tmp_path / "x.ics").read_bytes())
    assert str(parsed["X-WR-CALNAME"]).startswith(company)
    event = parsed.walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == f"{channel}: hi" and person in str(event["DESCRIPTION"])
    smm_sheets.export(path, tmp_path / "x.csv", format="csv")
    row = dict(zip(*read_rows(tmp_path / "x.csv")))
    assert (row["Channel"], row["Owner"], row["Approved by"]) == (channel, "'" + person, "'" + person)
    result = smm_sheets.export(path, tmp_path / "p.csv", format="publer", now=NOW)
    assert read_rows(result.paths[0])[1][1] == "hi" and result.paths[0].name == "p.csv"


def test_uids_do_not_depend_on_the_filters(tmp_path):
    posts = [{"day": d, "time": "09:00", "channel": 0, "caption": "Same text", "status": "scheduled"} for d in (1, 9)]
    path = write_calendar(tmp_path, posts)
    smm_sheets.export(path, tmp_path / "all.ics")
    smm_sheets.export(path, tmp_path / "later.ics", since=FIRST_DAY + dt.timedelta(days=5))

    def uids(name):
        cal = icalendar.Calendar.from_ical((tmp_path / name).read_bytes())
        return {e.decoded("DTSTART"): str(e["UID"]) for e in cal.walk("VEVENT")}

    later = uids("later.ics")
    assert len(later) == 1 and later.items() <= uids("all.ics").items()
