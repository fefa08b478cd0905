"""The export's options (``export --status/--since/--until/--timezone/--date-order``) on the Check
page and the API: labelled controls, the same files as the library with the same options, and a
clear 422 for each bad value, before any upload is read."""

from __future__ import annotations

import csv
import io
import re

import pytest

import smm_sheets
from smm_sheets.export.posts import STATUS_KEYS
from tests.web.test_downloads import upload


def library(calendar, tmp_path, format, **options):
    """What ``smm_sheets.export`` writes with these options: (posts exported, the file's bytes)."""
    suffix = ".ics" if format == "ics" else ".csv"
    result = smm_sheets.export(calendar, tmp_path / f"lib{suffix}", format=format, force=True, **options)
    return result.exported, result.paths[0].read_bytes() if len(result.paths) == 1 else None


def test_the_check_page_offers_each_option_with_a_label(client):
    page = client.get("/check", headers={"accept-language": "fi"}).text
    options = page.split('<fieldset id="export-options"', 1)[1].split("</fieldset>\n    <p>", 1)[0]
    for key in STATUS_KEYS:
        assert re.search(rf'<label class="choice"><input type="checkbox" name="status" value="{key}"', options)
    # The statuses as the Finnish calendar's dropdown names them.
    assert "Julkaistu" in options and "Ajastettu" in options
    for control, name in (
        ("since", "since"),
        ("until", "until"),
        ("timezone", "timezone"),
        ("date-order", "date_order"),
    ):
        assert f'<label for="{control}">' in options and f'id="{control}" name="{name}"' in options
    assert 'type="date" id="since"' in options and '<option value="month">' in options
    assert "Aikavyöhyke" in options
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == [] and " on" not in options  # no inline script


def test_statuses_select_the_posts(client, sample_set, tmp_path, no_leftovers):
    calendar = sample_set["calendar"]
    everything, _ = library(calendar, tmp_path, "csv")
    wanted, text = library(calendar, tmp_path, "csv", statuses=["scheduled", "published"])
    assert 0 < wanted < everything
    # Repeated fields, or one comma-separated field, and labels as people type them.
    for data in ({"status": ["scheduled", "published"]}, {"status": "Scheduled, published"}):
        response = client.post("/api/v1/export?format=csv", files=upload(calendar), data=data)
        assert response.status_code == 200, response.text
        assert response.headers["x-smm-exported"] == str(wanted)
        assert response.content == text
    response = client.post("/api/v1/export?format=csv", files=upload(calendar), data={"status": "in review"})
    assert response.headers["x-smm-exported"] == str(library(calendar, tmp_path, "csv", statuses=["in_review"])[0])
    # The calendar's own names in any of its languages, as its dropdown shows them.
    for finnish in ("Ajastettu,Julkaistu", "ajastettu, JULKAISTU"):
        response = client.post("/api/v1/export?format=csv", files=upload(calendar), data={"status": finnish})
        assert response.status_code == 200 and response.content == text


def test_dates_select_the_posts(client, sample_set, tmp_path):
    calendar = sample_set["calendar"]
    everything, _ = library(calendar, tmp_path, "ics")
    wanted, text = library(calendar, tmp_path, "ics", since="2031-01-10", until="2031-01-20")
    assert 0 < wanted < everything
    response = client.post(
        "/api/v1/export?format=ics", files=upload(calendar), data={"since": "2031-01-10", "until": "2031-01-20"}
    )
    assert response.status_code == 200 and response.headers["x-smm-exported"] == str(wanted)
    dates = [d for d in re.findall(r"^DTSTART[^:]*:(\d{8})", response.text, re.M) if d >= "2031"]  # not VTIMEZONE's
    assert len(dates) == wanted and all("20310110" <= d <= "20310120" for d in dates)
    only_since = client.post("/api/v1/export?format=ics", files=upload(calendar), data={"since": "2031-01-20"})
    assert only_since.headers["x-smm-exported"] == str(library(calendar, tmp_path, "ics", since="2031-01-20")[0])


def test_timezone_and_date_order_reach_the_scheduler_file(client, sample_set, tmp_path):
    calendar = sample_set["calendar"]
    # One channel's file (Hootsuite writes one per channel; the sample has three: a zip).
    response = client.post(
        "/api/v1/export?format=hootsuite",
        files=upload(calendar),
        data={"timezone": "America/New_York", "date_order": "month"},
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    default = client.post("/api/v1/export?format=hootsuite", files=upload(calendar))
    assert default.content != response.content
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    first = sorted(n for n in archive.namelist() if n.endswith(".csv"))[0]
    rows = list(csv.reader(io.StringIO(archive.read(first).decode("utf-8-sig"))))
    # Hootsuite's date column, month first: 02/14/2031 10:00 (a day first would be 14/02/2031).
    stamps = [row[0] for row in rows if row and re.match(r"\d\d/\d\d/\d{4}", row[0])]
    assert stamps and any(int(stamp[3:5]) > 12 for stamp in stamps)
    assert all(int(stamp[:2]) <= 12 for stamp in stamps)
    # The sample's posts are at 12:00 and so on in Helsinki: 05:00 and so on in New York.
    hours = {stamp.split(" ")[1][:2] for stamp in stamps}
    assert "05" in hours and "20" not in hours and "18" not in hours


def test_the_form_takes_the_same_options(client, sample_set, tmp_path):
    calendar = sample_set["calendar"]
    wanted, text = library(calendar, tmp_path, "ics", statuses=["published"], timezone="Europe/Oslo")
    response = client.post(
        "/export",
        files=upload(calendar),
        data={
            "format": "ics",
            "status": "published",
            "timezone": "Europe/Oslo",
            "since": "",
            "until": "",
            "lang": "nb",
        },
    )
    assert response.status_code == 200 and response.headers["x-smm-exported"] == str(wanted)
    assert "X-WR-TIMEZONE:Europe/Oslo" in response.text


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        ({"status": "posted"}, "export_status", "posted"),
        ({"status": "scheduled,<b>x</b>"}, "export_status", "<b>x</b>"),
        ({"since": "2031-13-01"}, "export_date", "Posts dated from"),
        ({"until": "tomorrow"}, "export_date", "Posts dated until"),
        ({"since": "2031-2-1"}, "export_date", "YYYY-MM-DD"),
        ({"since": "2031-05-01", "until": "2031-04-30"}, "export_dates_order", "2031-05-01"),
        ({"timezone": "Mars/Olympus"}, "export_timezone", "Mars/Olympus"),
        ({"timezone": "../../etc/passwd"}, "export_timezone", "IANA"),
        ({"date_order": "year"}, "export_date_order", "day or month"),
    ],
)
def test_a_bad_option_is_a_clear_422(client, sample_set, data, code, words, no_leftovers):
    response = client.post("/api/v1/export?format=csv", files=upload(sample_set["calendar"]), data=data)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"]


def test_a_bad_option_on_the_page_is_a_translated_error_page(client, sample_set):
    page = client.post(
        "/export", files=upload(sample_set["calendar"]), data={"format": "ics", "timezone": "<script>x", "lang": "fi"}
    )
    assert page.status_code == 422 and "Tuntematon aikavyöhyke" in page.text
    assert "<script>x" not in page.text and "&lt;script&gt;x" in page.text
    page = client.post("/export", files=upload(sample_set["calendar"]), data={"format": "ics", "until": "31.12.2031"})
    assert page.status_code == 422 and "is not a date" in page.text
