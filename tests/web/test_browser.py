"""The pages in a real browser: Playwright for Python driving the system's chromium (Debian's
``chromium`` package; nothing is downloaded), against ``smm-sheets serve`` in a subprocess.

Skipped, visibly, without Playwright or chromium; failed instead when SMM_SHEETS_REQUIRE_CHROMIUM=1
(as CI sets it). With SMM_SHEETS_SCREENSHOTS=DIR the tests save the README's screenshots there.
"""

from __future__ import annotations

import os
from pathlib import Path

import openpyxl
import pytest

import smm_sheets
from smm_sheets.web.report_view import value_text
from tests.libreoffice import edit_many, soffice_uno  # noqa: F401 - the fixture
from tests.web.server import ServerDidNotStart, serving
from tests.web.test_make_options import has_opening_inputs, options_of

CHROMIUM = os.environ.get("SMM_SHEETS_CHROMIUM", "/usr/bin/chromium")
REQUIRE_ENV = "SMM_SHEETS_REQUIRE_CHROMIUM"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright; no 'playwright install' needed)"
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"chromium is required ({REQUIRE_ENV}=1) but {reason}")
        pytest.skip(f"{reason}; set {REQUIRE_ENV}=1 to make this a failure")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server_tmp(tmp_path_factory):
    """The server's temporary folder (TMPDIR), to see that nothing stays there."""
    return tmp_path_factory.mktemp("server-tmp")


@pytest.fixture(scope="module")
def server(browser, server_tmp):
    """``smm-sheets serve`` on a free port, stopped (by its pid) at the end."""
    try:
        with serving(server_tmp) as running:
            yield running.base
    except ServerDidNotStart as error:
        pytest.fail(str(error))


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(accept_downloads=True, locale="en-US", viewport={"width": 1100, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield opened
    context.close()
    # No CSP violation, no script error (an error page's own 4xx status is reported too: not one of them).
    assert [e for e in errors if "the server responded with a status of 4" not in e] == []


def screenshot(page, name: str) -> None:
    folder = os.environ.get("SMM_SHEETS_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def test_make_and_download_a_workbook(page, server, tmp_path):
    page.goto(server + "/")
    page.check("#wb-budget")
    page.fill("#company", "Kahvila Mustikka Oy")
    page.fill("#year", "2031")
    page.select_option("#language", "fi")
    page.check("#sample")
    screenshot(page, "web-make.png")
    with page.expect_download() as download:
        page.click("#make-submit")
    target = tmp_path / "budget.xlsx"
    download.value.save_as(target)
    assert download.value.suggested_filename == "budget.xlsx"
    book = openpyxl.load_workbook(target)
    assert "Budjetti" in book.sheetnames
    assert any(
        cell.value == "Kahvila Mustikka Oy" or (isinstance(cell.value, str) and "Kahvila Mustikka Oy" in cell.value)
        for row in book["Budjetti"].iter_rows(max_row=5)
        for cell in row
    )


def test_upload_a_set_filled_in_by_libreoffice(page, server, tmp_path, soffice_uno):  # noqa: F811
    made = tmp_path / "made"
    smm_sheets.generate("all", made, company="Nordic Knitwear Oy", year=2031, language="fi", sample=True)
    names = openpyxl.load_workbook(made / "budget.xlsx").defined_names
    sheet, cells = names["smm_actual"].attr_text.split("!")
    first = cells.split(":")[0].replace("$", "")
    filled = tmp_path / "filled"
    filled.mkdir()
    jobs = [
        {
            "src": str(made / f"{bp}.xlsx"),
            "out": str(filled / f"{bp}.xlsx"),
            "actions": [{"set": f"{sheet}!{first}", "value": "1 200,50"}] if bp == "budget" else [],
        }
        for bp in ("budget", "calendar", "kpi-report", "roadmap", "strategy")
    ]
    edit_many(jobs, timeout=600)
    expected = smm_sheets.analyse(filled)
    budget = next(r for r in expected.reports if r.blueprint_id == "budget")
    assert any(f.code == "type-error" and f.cell == first for f in budget.findings)

    page.goto(server + "/check?lang=fi")
    page.set_input_files("#files", [str(p) for p in sorted(filled.glob("*.xlsx"))])
    page.click("#check-submit")
    page.wait_for_selector("#summary")
    assert page.locator("html").get_attribute("lang") == "fi"
    totals = page.locator("#report-1 table.totals").inner_text()
    assert "Toteutunut" in totals
    assert value_text("actual", budget.totals["actual"], "EUR", "fi") in totals
    finding = page.locator("table.findings tr", has_text="type-error").first
    assert first in finding.inner_text()
    # Budget 1, posts per channel and month 1, and one KPI chart per channel with figures.
    kpi = next(r for r in expected.reports if r.blueprint_id == "kpi-report").totals["by_channel_month"]
    reported = kpi[["engagement_rate", "ctr"]].notna().any(axis=1).groupby(level="channel").any()
    assert page.locator("svg.chart").count() == 2 + int(reported.sum())
    assert page.locator("svg.chart line.mark").count() > 0 and page.locator("svg.chart line.target").count() > 0
    screenshot(page, "web-report.png")


def test_switch_the_language(page, server):
    page.goto(server + "/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.select_option("#page-language", "mk")
    page.click(".language button")
    assert page.locator("html").get_attribute("lang") == "mk"
    assert "Направете работни книги" in page.locator("h1").inner_text()
    page.click("nav >> text=Провери пополнети работни книги")
    assert page.locator("html").get_attribute("lang") == "mk"


def test_a_too_large_file_and_a_non_workbook_give_their_error_pages(page, server, tmp_path):
    big = tmp_path / "big.xlsx"
    big.write_bytes(b"\0" * 20_000_001)
    page.goto(server + "/check")
    page.set_input_files("#files", str(big))
    page.click("#check-submit")
    assert "too large" in page.locator("#error-message").inner_text()
    text = tmp_path / "notes.txt"
    text.write_text("<script>alert(1)</script>")
    page.goto(server + "/check")
    page.set_input_files("#files", str(text))
    page.click("#check-submit")
    assert "not a spreadsheet" in page.locator(".failures").inner_text()


def test_every_form_control_has_a_label(page, server):
    for path in ("/", "/check", "/docs"):
        page.goto(server + path)
        unlabelled = page.evaluate(
            """() => Array.from(document.querySelectorAll('input, select, textarea'))
                 .filter(el => el.type !== 'hidden')
                 .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label'))
                 .map(el => el.id || el.name)"""
        )
        assert unlabelled == [], path
        assert page.evaluate("() => document.querySelectorAll('button:empty').length") == 0


def test_the_pages_work_with_the_keyboard_alone(page, server, tmp_path):
    page.goto(server + "/")
    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("() => document.activeElement.id"))
    for control in ("wb-all", "company", "year", "start_month", "currency", "channels", "team", "language", "sample"):
        assert control in reached, control
    assert "make-submit" in reached
    # Choose the budget with the arrow keys, name the company, send the form with Enter.
    page.focus("body")
    while page.evaluate("() => document.activeElement.id") != "wb-all":
        page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    assert page.is_checked("#wb-budget")
    while page.evaluate("() => document.activeElement.id") != "company":
        page.keyboard.press("Tab")
    page.keyboard.type("Keyboard Oy")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "budget.xlsx"
    # The Check page: the skip link, then the navigation, all reachable.
    page.goto(server + "/check")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("() => location.hash") == "#main"


def tab_to(page, control: str) -> None:
    """Tab through the page until ``control`` (an element id) has the focus."""
    for _ in range(60):
        if page.evaluate("() => document.activeElement.id") == control:
            return
        page.keyboard.press("Tab")
    pytest.fail(f"Tab never reached #{control}")


def test_the_budgets_options_with_the_keyboard_alone(page, server, tmp_path):
    page.goto(server + "/")

    page.focus("body")
    tab_to(page, "wb-all")
    page.keyboard.press("ArrowDown")
    assert page.is_checked("#wb-budget")
    tab_to(page, "option-carry_over")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#option-carry_over") == "carry_over=positive"
    tab_to(page, "option-opening_balance")
    page.keyboard.press("Space")
    assert page.is_checked("#option-opening_balance")
    tab_to(page, "make-submit")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "budget.xlsx"
    target = tmp_path / "budget.xlsx"
    download.value.save_as(target)
    content = target.read_bytes()
    assert options_of(content) == {"carry_over": "positive", "opening_balance": "yes"}
    assert has_opening_inputs(content)


def test_download_a_corrected_workbook_and_a_calendar_export(page, server, tmp_path):
    made = tmp_path / "made"
    smm_sheets.generate("all", made, company="Nordic Knitwear Oy", year=2031, sample=True)
    page.goto(server + "/check")
    page.set_input_files("#files", str(made / "budget.xlsx"))
    with page.expect_download() as download:
        page.click("#fix-submit")
    assert download.value.suggested_filename == "budget.xlsx"
    target = tmp_path / "fixed.xlsx"
    download.value.save_as(target)
    book = openpyxl.load_workbook(target)
    assert "Budget" in book.sheetnames
    assert smm_sheets.analyse(target).reports[0].totals == smm_sheets.analyse(made / "budget.xlsx").reports[0].totals
    # The page stays, its button usable: export the calendar next, in the format chosen.
    assert page.is_enabled("#fix-submit")
    page.set_input_files("#files", str(made / "calendar.xlsx"))
    page.select_option("#format", "ics")
    with page.expect_download() as download:
        page.click("#export-submit")
    assert download.value.suggested_filename == "calendar-ics.ics"
    download.value.save_as(tmp_path / "posts.ics")
    assert (tmp_path / "posts.ics").read_text(encoding="utf-8").startswith("BEGIN:VCALENDAR")


def test_export_options_with_the_keyboard_alone(page, server, tmp_path):
    made = tmp_path / "made"
    (calendar,) = smm_sheets.generate("calendar", made, company="Nordic Knitwear Oy", year=2031, sample=True)
    expected = smm_sheets.export(
        calendar, tmp_path / "lib.ics", format="ics", statuses=["published"], since="2031-01-05", timezone="Europe/Oslo"
    )
    page.goto(server + "/check")
    page.set_input_files("#files", str(calendar))

    page.focus("#files")
    tab_to(page, "status-published")
    page.keyboard.press("Space")
    assert page.is_checked("#status-published")
    tab_to(page, "since")
    page.keyboard.type("01052031")  # en-US: month, day, year
    assert page.input_value("#since") == "2031-01-05"
    tab_to(page, "timezone")
    page.keyboard.type("Europe/Oslo")
    tab_to(page, "date-order")
    screenshot(page, "web-check.png")
    tab_to(page, "export-submit")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "calendar-ics.ics"
    download.value.save_as(tmp_path / "posts.ics")
    text = (tmp_path / "posts.ics").read_text(encoding="utf-8")
    assert text.count("BEGIN:VEVENT") == expected.exported and "X-WR-TIMEZONE:Europe/Oslo" in text
    # A bad zone typed: the error page says which.
    page.goto(server + "/check")
    page.set_input_files("#files", str(calendar))
    page.fill("#timezone", "Mars/Olympus")
    page.click("#export-submit")
    assert "Mars/Olympus" in page.locator("#error-message").inner_text()


def test_nothing_is_left_in_the_servers_temporary_folder(server, server_tmp):
    # Runs last in this module: every upload and download above went through this folder.
    assert sorted(p.name for p in server_tmp.glob("smm-web-*")) == []
