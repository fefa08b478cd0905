"""The corrected workbooks (``fix``) and calendar exports, as downloads from the Check page's
form and from the API, through FastAPI's test client."""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import unquote

import openpyxl
import pytest
from fastapi.testclient import TestClient

import smm_sheets
from smm_sheets.export.pipeline import FORMATS
from smm_sheets.web import isolation
from smm_sheets.web.app import Settings, create_app

HOSTILE = '<script>alert(1)</script>=HYPERLINK("http://x","y")\u202eevil'


def upload(*paths, name=None):
    return [("files", (name or p.name, p.read_bytes())) for p in paths]


def disposition_name(response) -> str:
    """The UTF-8 file name of a download (RFC 6266 ``filename*``)."""
    value = response.headers["content-disposition"]
    assert value.startswith("attachment;")
    return unquote(value.split("filename*=UTF-8''", 1)[1])


@pytest.fixture(scope="module")
def empty_calendar(tmp_path_factory):
    folder = tmp_path_factory.mktemp("empty-calendar")
    (path,) = smm_sheets.generate("calendar", folder, year=2031)
    return path


# --------------------------------------------------------------------------- the page


def test_the_check_form_offers_fix_and_every_export_format(client):
    page = client.get("/check?lang=fi")
    assert 'formaction="/fix"' in page.text and 'formaction="/export"' in page.text
    assert 'id="downloads"' in page.text and "Lataa korjatut työkirjat" in page.text
    for format in FORMATS:
        assert f'<option value="{format}">' in page.text


def test_the_report_links_to_the_downloads(client, sample_set):
    page = client.post("/check", files=upload(sample_set["budget"]))
    assert page.status_code == 200 and 'href="/check?lang=en#downloads"' in page.text


def test_fix_from_the_form_downloads_the_corrected_workbook(client, sample_set, tmp_path, no_leftovers):
    response = client.post("/fix", files=upload(sample_set["budget"], name="Our budget 2031.xlsx"), data={"lang": "fi"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert disposition_name(response) == "Our budget 2031.xlsx"
    (tmp_path / "fixed.xlsx").write_bytes(response.content)
    book = openpyxl.load_workbook(tmp_path / "fixed.xlsx")
    assert "Budget" in book.sheetnames
    # The sample's overspends are still wrong: noted on their cells, and listed in the header.
    findings = json.loads(response.headers["x-smm-findings"])
    assert findings and all(f["file"] == "Our budget 2031.xlsx" for f in findings)
    first = next(f for f in findings if f["cell"])
    assert book[first["sheet"]][first["cell"]].comment is not None
    assert json.loads(response.headers["x-smm-failures"]) == [] and response.headers["x-smm-fixed"] == "1"
    # What was typed is carried over: the fixed workbook analyses to the same totals.
    again = smm_sheets.analyse(tmp_path / "fixed.xlsx").reports[0]
    assert again.totals == smm_sheets.analyse(sample_set["budget"]).reports[0].totals


def test_api_fix_of_several_gives_a_zip_and_says_which_failed(client, sample_set, no_leftovers):
    files = [
        *upload(sample_set["budget"], sample_set["calendar"]),
        *upload(sample_set["budget"]),  # the same name twice: both kept in the zip
        ("files", ("notes.xlsx", b"PK\x03\x04 not really")),
    ]
    response = client.post("/api/v1/fix", files=files)
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert disposition_name(response) == "smm-sheets-fixed.zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["budget-2.xlsx", "budget.xlsx", "calendar.xlsx", "not-fixed.txt"]
    assert archive.read("not-fixed.txt").decode().startswith("notes.xlsx: ")
    failures = json.loads(response.headers["x-smm-failures"])
    assert len(failures) == 1 and failures[0].startswith("notes.xlsx: ") and "smm-web-" not in failures[0]
    book = openpyxl.load_workbook(io.BytesIO(archive.read("calendar.xlsx")))
    assert "Calendar" in book.sheetnames


def test_api_fix_of_a_zipped_set(client, sample_set):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sample_set.values():
            archive.write(path, f"client/{path.name}")
    response = client.post("/api/v1/fix", files=[("files", ("set.zip", buffer.getvalue()))])
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert sorted(names) == sorted(p.name for p in sample_set.values())


def test_fix_when_nothing_can_be_fixed(client, no_leftovers):
    response = client.post("/api/v1/fix", files=[("files", ("notes.txt", b"hello"))])
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "fix_failed" and error["failures"][0].startswith("notes.txt: ")
    page = client.post("/fix", files=[("files", ("notes.txt", b"hello"))], data={"lang": "nb"})
    assert page.status_code == 422 and "Ingen arbeidsbok kunne rettes" in page.text and "notes.txt" in page.text
    assert client.post("/fix", data={"lang": "en"}).status_code == 400
    assert client.post("/api/v1/fix", files=[("files", ("", b""))]).status_code == 400


def test_fix_keeps_hostile_text_as_text_and_names_never_become_paths(client, tmp_path, no_leftovers):
    smm_sheets.generate("budget", tmp_path / "made", company=HOSTILE, year=2031, sample=True)
    name = "../../" + HOSTILE + "\r\nx-evil: 1.xlsx"
    response = client.post("/api/v1/fix", files=[("files", (name, (tmp_path / "made" / "budget.xlsx").read_bytes()))])
    assert response.status_code == 200 and "x-evil" not in response.headers
    assert "/" not in disposition_name(response) and "\r" not in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = [
        c for ws in book for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value
    ]
    assert cells and all(c.data_type == "s" and not c.value.startswith("=") for c in cells)
    assert any(c.value == HOSTILE for c in cells) or any(HOSTILE in c.value for c in cells)
    assert not list(tmp_path.glob("**/*evil*"))  # the upload's name made no file anywhere


# --------------------------------------------------------------------------- calendar exports


@pytest.mark.parametrize("format", FORMATS)
def test_api_export_in_every_format(client, sample_set, format, no_leftovers):
    response = client.post(
        f"/api/v1/export?format={format}", files=upload(sample_set["calendar"], name="Kalenteri ä.xlsx")
    )
    assert response.status_code == 200
    exported = int(response.headers["x-smm-exported"])
    assert exported > 0
    findings = json.loads(response.headers["x-smm-findings"])
    assert isinstance(findings, list) and response.headers["x-smm-findings"].isascii()
    name = disposition_name(response)
    if response.headers["content-type"] == "application/zip":  # a scheduler's file per channel
        assert name == f"Kalenteri ä-{format}.zip"
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        files = [n for n in archive.namelist() if n != "findings.txt"]
        assert len(files) > 1 and ("findings.txt" in archive.namelist()) == bool(findings)
        assert all(n.startswith(f"Kalenteri ä-{format}-") and n.endswith(".csv") for n in files)
    elif format == "ics":
        assert name == "Kalenteri ä-ics.ics" and response.headers["content-type"].startswith("text/calendar")
        assert response.text.startswith("BEGIN:VCALENDAR") and response.text.count("BEGIN:VEVENT") == exported
    else:
        assert name == f"Kalenteri ä-{format}.csv" and response.headers["content-type"].startswith("text/csv")


def test_export_from_the_form_takes_the_format_chosen(client, sample_set, tmp_path):
    response = client.post("/export", files=upload(sample_set["calendar"]), data={"format": "ics", "lang": "fi"})
    assert response.status_code == 200 and response.text.startswith("BEGIN:VCALENDAR")
    expected = smm_sheets.export(sample_set["calendar"], tmp_path / "posts.ics", format="ics")
    assert response.headers["x-smm-exported"] == str(expected.exported)


def test_a_post_left_out_is_said_in_the_download(client, tmp_path):
    (calendar,) = smm_sheets.generate("calendar", tmp_path, year=2031, sample=True, channels="instagram")
    expected = smm_sheets.export(calendar, tmp_path / "posts.csv", format="sprout")
    assert expected.left_out and len(expected.paths) == 1
    # The API answers with the one file and says it in the header...
    response = client.post("/api/v1/export?format=sprout", files=upload(calendar))
    assert response.headers["content-type"].startswith("text/csv")
    header = json.loads(response.headers["x-smm-findings"])
    assert sum(f["severity"] == "error" for f in header) == expected.left_out
    # ...the page, where nobody sees headers, with a zip that holds the file and findings.txt.
    page = client.post("/export", files=upload(calendar), data={"format": "sprout"})
    assert page.status_code == 200 and disposition_name(page) == "calendar-sprout.zip"
    archive = zipfile.ZipFile(io.BytesIO(page.content))
    assert sorted(archive.namelist()) == ["calendar-sprout.csv", "findings.txt"]
    lines = archive.read("findings.txt").decode().splitlines()
    assert [line.split("\t")[2] for line in lines] == [f["message"] for f in header]
    assert sum(line.startswith("error\t") for line in lines) == expected.left_out


def test_export_errors(client, sample_set, empty_calendar, no_leftovers):
    response = client.post("/api/v1/export?format=tiktok", files=upload(sample_set["calendar"]))
    assert response.status_code == 422 and response.json()["error"]["code"] == "export_format"
    page = client.post("/export", files=upload(sample_set["calendar"]), data={"format": "nope", "lang": "lv"})
    assert page.status_code == 422 and "Nezināms eksporta formāts" in page.text
    response = client.post("/api/v1/export?format=ics", files=upload(sample_set["budget"]))
    assert response.status_code == 422 and response.json()["error"]["code"] == "export_failed"
    assert "not a calendar" in response.json()["error"]["detail"] and "smm-web-" not in response.text
    response = client.post("/api/v1/export", files=upload(sample_set["calendar"], sample_set["budget"]))
    assert response.status_code == 422 and response.json()["error"]["code"] == "one_calendar"
    response = client.post("/api/v1/export?format=csv", files=upload(empty_calendar))
    assert response.status_code == 422 and response.json()["error"]["code"] == "nothing_exported"
    # No post left out for a problem: the calendar simply has none.
    assert [f for f in response.json()["error"]["findings"] if f["severity"] == "error"] == []
    page = client.post("/export", files=upload(empty_calendar), data={"format": "ics"})
    assert page.status_code == 422 and "No post could be exported" in page.text
    assert client.post("/export", data={"format": "ics"}).status_code == 400
    response = client.post("/api/v1/export?format=ics", files=[("files", ("notes.txt", b"hello"))])
    assert response.status_code == 422 and "not a spreadsheet" in response.json()["error"]["detail"]


# --------------------------------------------------------------------------- limits and isolation


@pytest.fixture(scope="module")
def small():
    """The application with limits small enough to test: 1 MB a file, 3 files."""
    with TestClient(create_app(Settings(max_file_bytes=1_000_000, max_files=3))) as test_client:
        yield test_client


def test_the_limits_hold_for_fix_and_export(small, sample_set, no_leftovers):
    big = [("files", ("big.xlsx", b"\0" * 1_000_001))]
    for route in ("/api/v1/fix", "/api/v1/export?format=ics"):
        response = small.post(route, files=big)
        assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
        response = small.post(route, files=upload(*list(sample_set.values())[:4]))
        assert response.status_code == 413 and response.json()["error"]["code"] == "too_many"
    page = small.post("/fix", files=big, data={"lang": "en"})
    assert page.status_code == 413 and "1 MB" in page.text


def _app_with(target, **limits):
    settings = Settings(analysis=isolation.Limits(**limits))
    return create_app(settings, isolation.Runner(settings.analysis, target=target))


def test_fix_and_export_run_in_the_worker_processes(sample_set, no_leftovers):
    from tests.web.targets import crash, sleepy

    with TestClient(_app_with(crash)) as app:
        for route in ("/api/v1/fix", "/api/v1/export?format=ics"):
            response = app.post(route, files=upload(sample_set["calendar"]))
            assert response.status_code == 422 and response.json()["error"]["code"] == "analysis_crash"
    with TestClient(_app_with(sleepy, seconds=0.3)) as slow:
        response = slow.post("/fix", files=upload(sample_set["budget"]))
        assert response.status_code == 422 and "took too long" in response.text


def test_the_worker_target_runs_each_task(sample_set, tmp_path):
    (tmp_path / "fixed").mkdir()
    done = isolation.run_task(isolation.fix_task([str(sample_set["roadmap"])], str(tmp_path / "fixed")), None)
    assert [f["target"] for f in done["fixed"]] == [str(tmp_path / "fixed" / "roadmap.xlsx")]
    assert done["failures"] == []
    done = isolation.run_task(isolation.export_task(str(sample_set["roadmap"]), str(tmp_path / "o.ics"), "ics"), "fi")
    assert set(done) == {"error"} and "roadmap" in done["error"]
    assert not (tmp_path / "o.ics").exists()
