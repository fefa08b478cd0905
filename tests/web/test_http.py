"""Every route, limit and error of the web application, through FastAPI's test client."""

from __future__ import annotations

import asyncio
import io
import json
import tempfile
import zipfile
from base64 import b64decode

import httpx
import openpyxl
import pytest
from fastapi.testclient import TestClient

from smm_sheets.web import isolation
from smm_sheets.web.app import CSP, Settings, create_app

HOSTILE = '<script>alert(1)</script>=HYPERLINK("http://x","y")\u202eevil'


def upload(*paths, name=None):
    return [("files", (name or p.name, p.read_bytes())) for p in paths]


def json_href(html: str) -> dict:
    start = html.index("data:application/json;base64,") + len("data:application/json;base64,")
    return json.loads(b64decode(html[start : html.index('"', start)]))


@pytest.fixture()
def no_leftovers(tmp_path, monkeypatch):
    """Every temporary file of a request goes in tmp_path; the test checks it is empty after."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    yield tmp_path
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("smm-web-")] == []


# --------------------------------------------------------------------------- pages


def test_make_page_lists_every_workbook_with_its_picture(client):
    page = client.get("/")
    assert page.status_code == 200
    for blueprint_id in ("budget", "calendar", "kpi-report", "roadmap", "strategy"):
        assert f'value="{blueprint_id}"' in page.text
        assert f'src="/pictures/{blueprint_id}.png"' in page.text
        picture = client.get(f"/pictures/{blueprint_id}.png")
        assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")


def test_pages_follow_accept_language_and_the_lang_parameter(client):
    assert '<html lang="fi">' in client.get("/", headers={"accept-language": "fi-FI,fi;q=0.9,en;q=0.5"}).text
    assert '<html lang="nb">' in client.get("/check", headers={"accept-language": "no"}).text
    assert '<html lang="en">' in client.get("/", headers={"accept-language": "de-DE"}).text
    page = client.get("/check?lang=mk", headers={"accept-language": "fi"})
    assert '<html lang="mk">' in page.text and "Провери" in page.text
    assert page.headers["content-language"] == "mk"
    assert '<html lang="en">' in client.get("/?lang=xx", headers={"accept-language": "xx"}).text


def test_security_headers_on_pages_api_and_errors(client):
    for response in (client.get("/"), client.get("/healthz"), client.get("/nowhere"), client.get("/static/style.css")):
        assert response.headers["content-security-policy"] == CSP
        assert "frame-ancestors 'none'" in CSP and "'unsafe-inline'" not in CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_pages_have_no_inline_script_and_load_nothing_from_elsewhere(client):
    for path in ("/", "/check", "/docs"):
        html = client.get(path).text
        assert "<script>" not in html and "onclick" not in html and "style=" not in html
        assert "http://" not in html.replace("http://127.0.0.1:8000", "") and "https://" not in html
    assert client.get("/static/app.js").status_code == 200


def test_health_and_api_description(client):
    assert client.get("/healthz").json()["status"] == "ok"
    schema = client.get("/openapi.json").json()
    assert {"/api/v1/generate", "/api/v1/analyse", "/healthz"} <= set(schema["paths"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "POST /api/v1/analyse" in docs.text


def test_unknown_page_and_method(client):
    page = client.get("/nowhere?lang=fi")
    assert page.status_code == 404 and "Sivua ei ole" in page.text
    assert client.get("/pictures/../../etc/passwd.png").status_code == 404
    assert client.get("/pictures/nothing.png").status_code == 404
    assert client.put("/check").status_code == 405
    api = client.get("/api/v1/analyse")
    assert api.status_code == 405 and api.json()["error"]["status"] == 405


# --------------------------------------------------------------------------- make


def test_make_one_workbook_in_the_language_chosen(client):
    response = client.post(
        "/make", data={"workbook": "budget", "company": HOSTILE, "year": "2031", "language": "fi", "sample": "1"}
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="budget.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert "Budjetti" in book.sheetnames
    texts = [c.value for ws in book for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(HOSTILE in text for text in texts)  # stored as text, never as a formula


def test_make_the_set_as_a_zip(client):
    response = client.post(
        "/make", data={"workbook": "all", "company": "Kahvila Mustikka", "channels": "instagram,tiktok"}
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == [
            "budget.xlsx",
            "calendar.xlsx",
            "kpi-report.xlsx",
            "roadmap.xlsx",
            "strategy.xlsx",
        ]


def test_make_with_bad_values_shows_the_form_again_with_the_reason(client):
    long_name = "x" * 10_000
    page = client.post("/make", data={"workbook": "all", "company": long_name, "lang": "fi"})
    assert page.status_code == 422 and "at most 100" in page.text and '<html lang="fi">' in page.text
    assert f'value="{long_name}"' in page.text  # kept in the form, as text
    page = client.post("/make", data={"workbook": "budget", "company": HOSTILE, "start_month": "13"})
    assert page.status_code == 422 and "start month must be 1-12" in page.text
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert client.post("/make", data={"workbook": "../../etc/passwd"}).status_code == 422
    assert client.post("/make", data={"workbook": "budget", "year": "20x7"}).status_code == 422


def test_api_generate(client):
    response = client.post(
        "/api/v1/generate", json={"workbook": "calendar", "language": "nb", "channels": ["instagram"]}
    )
    assert response.status_code == 200
    assert "Kalender" in openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames
    bad = client.post("/api/v1/generate", json={"workbook": "budget", "currency": "XYZ"})
    assert bad.status_code == 422 and "unknown currency" in bad.json()["error"]["detail"]
    assert client.post("/api/v1/generate", json={"year": "soon"}).status_code == 422


# --------------------------------------------------------------------------- check


def test_check_a_set_shows_totals_charts_and_findings_by_sheet(client, sample_set, no_leftovers):
    page = client.post("/check", files=upload(*sample_set.values()), data={"lang": "fi"})
    assert page.status_code == 200 and '<html lang="fi">' in page.text
    assert "Suunniteltu" in page.text  # the budget's planned total, labelled in Finnish
    assert page.text.count("<svg") == 4  # budget, posts by month and by channel, KPIs
    assert "more than the" not in page.text  # the findings are worded in the page's language
    # By sheet, across workbooks: the budget's overspending and the calendar's posting plan (the
    # sample strategy answers every required question: no finding of its own).
    assert "overspend" in page.text and "<h4>Budget</h4>" in page.text and "<h4>Summary</h4>" in page.text
    report = json_href(page.text)
    assert report["stats"]["files"] == 5
    assert sorted(r["file"] for r in report["reports"]) == sorted(p.name for p in sample_set.values())
    assert str(no_leftovers) not in page.text  # no temporary path is shown


def test_check_a_zip_of_a_set(client, sample_set, no_leftovers):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sample_set.values():
            archive.write(path, f"client/{path.name}")
        archive.writestr("__MACOSX/._budget.xlsx", b"junk")
        archive.writestr("notes.txt", b"not a workbook")
    result = client.post("/api/v1/analyse", files=[("files", ("set.zip", buffer.getvalue()))])
    assert result.status_code == 200
    assert result.json()["stats"]["files"] == 5 and not result.json()["failures"]


def test_api_analyse_gives_the_json_of_the_command_line(client, sample_set):
    from smm_sheets.analyser.pipeline import analyse

    result = client.post("/api/v1/analyse", files=upload(sample_set["budget"]))
    assert result.status_code == 200
    expected = analyse([sample_set["budget"]]).to_dict()
    expected["reports"][0]["file"] = "budget.xlsx"
    assert result.json() == json.loads(json.dumps(expected))


def test_hostile_file_names_and_contents_are_text_never_paths(client, tmp_path, no_leftovers):
    import smm_sheets

    smm_sheets.generate("budget", tmp_path / "made", company=HOSTILE, team=[HOSTILE[:60]], year=2031, sample=True)
    name = "../../" + HOSTILE + "x" * 200 + ".xlsx"
    page = client.post("/check", files=[("files", (name, (tmp_path / "made" / "budget.xlsx").read_bytes()))])
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;)" in page.text
    assert "\u202e" in page.text and 'class="company"' in page.text  # shown, isolated by CSS
    assert json_href(page.text)["reports"][0]["parameters"]["company"] == HOSTILE


def test_a_non_workbook_gives_an_error_page(client, no_leftovers):
    page = client.post("/check", files=[("files", ("notes.txt", b"hello"))])
    assert page.status_code == 422 and "not a spreadsheet" in page.text
    result = client.post("/api/v1/analyse", files=[("files", ("notes.xlsx", b"PK\x03\x04broken"))])
    assert result.status_code == 200 and result.json()["failures"][0]["file"] == "notes.xlsx"


def test_no_files(client):
    assert client.post("/check", data={"lang": "en"}).status_code == 400
    page = client.post("/check", files=[("files", ("", b""))])
    assert page.status_code == 400 and "at least one file" in page.text


def test_zip_bomb_and_broken_zip_are_refused(client, no_leftovers):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("budget.xlsx", b"\0" * 50_000_000)
    result = client.post("/api/v1/analyse", files=[("files", ("bomb.zip", buffer.getvalue()))])
    assert result.status_code in (413, 422)
    result = client.post("/api/v1/analyse", files=[("files", ("broken.zip", b"PK\x03\x04 not really"))])
    assert result.status_code == 422 and result.json()["error"]["code"] == "bad_zip"
    page = client.post("/check", files=[("files", ("empty.zip", _zip({"readme.txt": b"hi"})))])
    assert page.status_code == 422 and "no workbooks" in page.text


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --------------------------------------------------------------------------- limits


@pytest.fixture(scope="module")
def small():
    """The application with limits small enough to test: 1 MB a file, 3 files."""
    with TestClient(create_app(Settings(max_file_bytes=1_000_000, max_files=3))) as test_client:
        yield test_client


def test_a_file_over_the_limit_is_413(small, no_leftovers):
    page = small.post("/check", files=[("files", ("big.xlsx", b"\0" * 1_000_001))], data={"lang": "lv"})
    assert page.status_code == 413 and "1 MB" in page.text and '<html lang="lv">' in page.text
    api = small.post("/api/v1/analyse", files=[("files", ("big.xlsx", b"\0" * 1_000_001))])
    assert api.status_code == 413 and api.json()["error"]["code"] == "too_large"


def test_the_default_limit_is_20_mb(client, no_leftovers):
    response = client.post("/api/v1/analyse", files=[("files", ("big.xlsx", b"\0" * 20_000_001))])
    assert response.status_code == 413


def test_too_many_files_is_413(small, sample_set):
    response = small.post("/api/v1/analyse", files=upload(*list(sample_set.values())[:4]))
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_many"
    in_zip = _zip({f"{i}.xlsx": sample_set["budget"].read_bytes() for i in range(4)})
    assert small.post("/api/v1/analyse", files=[("files", ("set.zip", in_zip))]).status_code == 413


def test_a_request_body_over_the_limit_is_refused_before_it_is_read(small):
    # 3 files of 1 MB and 1 MB of form: anything larger is refused from its Content-Length.
    body = b"x" * 4_000_001
    response = small.post("/api/v1/analyse", content=body, headers={"content-type": "multipart/form-data; boundary=b"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"
    page = small.post("/check", content=body, headers={"content-type": "multipart/form-data; boundary=b"})
    assert page.status_code == 413 and "too large" in page.text


def test_a_streamed_body_over_the_limit_is_refused(small):
    def chunks():
        for _ in range(5):
            yield b"x" * 1_000_000

    response = small.post(
        "/api/v1/analyse", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 413


def _app_with(target, **limits):
    settings = Settings(analysis=isolation.Limits(**limits))
    return create_app(settings, isolation.Runner(settings.analysis, target=target))


def test_an_analysis_over_its_time_is_stopped(sample_set, no_leftovers):
    from tests.web.targets import sleepy

    with TestClient(_app_with(sleepy, seconds=0.3)) as slow:
        response = slow.post("/api/v1/analyse", files=upload(sample_set["budget"]))
        assert response.status_code == 422 and response.json()["error"]["code"] == "analysis_time"
        assert slow.get("/healthz").status_code == 200


def test_an_analysis_over_its_memory_is_stopped(sample_set):
    from tests.web.targets import hog

    with TestClient(_app_with(hog)) as app:
        page = app.post("/check", files=upload(sample_set["budget"]))
        assert page.status_code == 422 and "too much memory" in page.text


def test_an_analysis_that_dies_is_one_error(sample_set):
    from tests.web.targets import crash

    with TestClient(_app_with(crash)) as app:
        response = app.post("/api/v1/analyse", files=upload(sample_set["budget"]))
        assert response.status_code == 422 and response.json()["error"]["code"] == "analysis_crash"


def test_a_full_queue_answers_503_with_retry_after(sample_set):
    from tests.web.targets import sleepy

    app = _app_with(sleepy, slots=1, queue=1, seconds=10)

    async def three_at_once():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            requests = [http.post("/api/v1/analyse", files=upload(sample_set["budget"])) for _ in range(3)]
            return await asyncio.gather(*requests)

    statuses = sorted(r.status_code for r in asyncio.run(three_at_once()))
    assert statuses == [200, 200, 503]
    busy = next(r for r in asyncio.run(three_at_once()) if r.status_code == 503)
    assert int(busy.headers["retry-after"]) >= 1 and busy.json()["error"]["code"] == "busy"


# --------------------------------------------------------------------------- serve


def test_serve_command_is_offered():
    from click.testing import CliRunner

    from smm_sheets.cli import main

    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0 and "--workers" in result.output and "--port" in result.output


# --------------------------------------------------------------------------- charts


def test_charts_escape_their_texts_and_scale_to_the_values():
    from smm_sheets.web import charts

    svg = charts.chart(
        "<b>title</b>",
        ["Jan 2031", "<script>"],
        [charts.Series("planned", [100.0, None], "s1"), charts.Series("actual", [-50.0, 250.0], "s2")],
        [charts.Series("carry-over", [10.0, float("nan")], "l1")],
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;title&lt;/b&gt;" in svg
    assert svg.count('<rect class="s') == 3 + 2  # three bars, two legend keys
    assert ">-100<" in svg and ">300<" in svg  # the axis reaches below the lowest and above the highest value
    assert ">Jan<" in svg and ">2031<" in svg
