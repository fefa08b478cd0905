"""The content calendar: typed post columns, caption checks, UTM links, and the summary of posts
per channel, month and status against the posts per week planned on the Settings sheet."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import openpyxl
import pytest
import yaml

from smm_sheets import formula as fx
from smm_sheets.blueprint import loader
from smm_sheets.blueprint.model import Table
from smm_sheets.generator import xlsx
from smm_sheets.plan import build, expand
from smm_sheets.sheetref import column_letter
from tests.conftest import params, with_samples
from tests.helpers import ROOT
from tests.libreoffice import disagreements, error_cells, formula_cells, recalculate_plans

SAMPLE = yaml.safe_load((ROOT / "samples" / "nordic-knitwear.yaml").read_text(encoding="utf-8"))
TEAM = SAMPLE["team"]
CHANNELS = ",".join(SAMPLE["channels"])
STATUSES = ["Idea", "Draft", "In review", "Scheduled", "Published"]
COUNTS = {
    "Idea": "count_idea",
    "Draft": "count_draft",
    "In review": "count_in_review",
    "Scheduled": "count_scheduled",
    "Published": "count_published",
}
BASE_URL = "https://www.example.fi"
EPOCH = dt.date(1899, 12, 30)


@pytest.fixture(scope="module")
def calendar():
    return loader.load("calendar")


@pytest.fixture(scope="module")
def sample_plan(calendar):
    return build(calendar, params(sample=True, channels=CHANNELS, team=TEAM))


@pytest.fixture(scope="module")
def blank_plan(calendar):
    return build(calendar, params(channels=CHANNELS, team=TEAM))


def column(plan, name):
    """An item's values in row order."""
    item = plan.items[name]
    cells = plan.sheets[item.sheet].cells
    return [cells[(row, col)].value for _, row, col in sorted(item.cells, key=lambda c: (c[1], c[2]))]


def grid(plan, name):
    """A grid measure's values: {(channel id or None, month index): value}."""
    item = plan.items[name]
    cells = plan.sheets[item.sheet].cells
    return {(coords.get("channel"), coords["month"]): cells[(row, col)].value for coords, row, col in item.cells}


def posts(plan):
    """The filled-in post rows as dicts of field id -> value (blank rows left out)."""
    names = [c.id for c in _posts_table(plan.blueprint).columns]
    rows = [dict(zip(names, values)) for values in zip(*(column(plan, n) for n in names))]
    return [r for r in rows if r["post_date"] is not None or r["caption"] is not None]


def _posts_table(blueprint) -> Table:
    return next(b for s in blueprint.sheets for b in s.blocks if getattr(b, "id", None) == "posts")


def as_date(value):
    return value if isinstance(value, dt.date) else EPOCH + dt.timedelta(days=int(value))


def month_index(plan, day: dt.date):
    """0-11 for a date inside the plan's twelve months, else None."""
    months = plan.params.months()
    key = (day.year, day.month)
    return months.index(key) if key in months else None


def trim(text: str) -> str:
    """Spreadsheet TRIM: no spaces at the ends, single spaces inside."""
    return " ".join(word for word in text.split(" ") if word)


def utm_part(text: str) -> str:
    """How the workbook writes a UTM value: trimmed, lower case, spaces as -, & and # escaped."""
    return trim(text).lower().replace(" ", "-").replace("&", "%26").replace("#", "%23")


def expected_link(base: str | None, channel: str | None, campaign: str | None) -> str:
    """The UTM link written independently of the workbook's formula."""
    base = (base or "").strip()
    if not base or not channel:
        return ""
    campaign = trim(campaign or "")
    link = base + ("&" if "?" in base else "?") + "utm_source=" + utm_part(channel) + "&utm_medium=social"
    return link + ("&utm_campaign=" + utm_part(campaign) if campaign else "")


# --------------------------------------------------------------------------- structure


POST_COLUMNS = [
    ("post_date", "date", None),
    ("post_time", "time", None),
    ("time_zone", "choice", "time_zones"),
    ("post_channel", "choice", "channels"),
    ("post_format", "choice", "formats"),
    ("pillar", "choice", "pillars"),
    ("caption", "text", None),
    ("caption_length", "integer", None),
    ("caption_limit_post", "integer", None),
    ("asset_link", "text", None),
    ("owner", "choice", "team"),
    ("post_status", "choice", "post_status"),
    ("initiative", "text", None),
    ("campaign", "text", None),
    ("utm_link", "text", None),
    # version 1.1: what schedulers take, after the 1.0 columns so that those stay where they were
    ("hashtags", "text", None),
    ("first_comment", "text", None),
    ("alt_text", "text", None),
    ("media_urls", "text", None),
    ("approver", "choice", "team"),
    ("approved_on", "date", None),
    ("published_url", "text", None),
]
FORMULAS = {"caption_length", "caption_limit_post", "utm_link"}


def test_post_columns_exist_in_order_with_their_types(calendar):
    table = _posts_table(calendar)
    assert [(c.id, c.type, c.list) for c in table.columns] == POST_COLUMNS
    assert {c.id for c in table.columns if c.formula is not None} == FORMULAS
    assert table.rows.source == "count" and table.rows.count >= 365
    assert {c.id for c in table.columns if c.required} == {"post_date", "post_channel"}


def test_inputs_are_validated_and_formulas_locked(calendar, sample_plan):
    plan = sample_plan
    sheet = plan.sheets[plan.items["post_date"].sheet]
    assert sheet.name == "Calendar"
    rules = {}
    for r1, c1, r2, c2, options in sheet.validations:
        for col in range(c1, c2 + 1):
            rules[col] = (r1, r2, options)
    for name, kind, list_id in POST_COLUMNS:
        cells = plan.items[name].cells
        first_row, last_row = min(r for _, r, _ in cells), max(r for _, r, _ in cells)
        col = cells[0][2]
        assert len(cells) == _posts_table(calendar).rows.count
        if name in FORMULAS:
            assert plan.items[name].role == "formula" and col not in rules
            assert all(
                sheet.cells[(r, c)].kind == "formula" and sheet.cells[(r, c)].style.role == "formula"
                for _, r, c in cells
            )
            continue
        r1, r2, options = rules[col]
        assert (r1, r2) == (first_row, last_row), name
        expected = {"date": "date", "time": "time", "choice": "list", "text": "length"}[kind]
        assert options["validate"] == expected, name
        if kind == "choice":
            assert options["source"] == f"=list_{list_id}"
        assert all(sheet.cells[(r, c)].style == ("input", kind) for _, r, c in cells)


def test_dropdown_values(calendar):
    x = expand(calendar, params(channels="instagram,facebook,tiktok,Mastodon", team=TEAM))
    assert x.lists["post_status"] == STATUSES
    assert x.lists["channels"] == ["Instagram", "Facebook", "TikTok", "Mastodon"]
    assert x.lists["team"] == TEAM
    assert x.lists["time_zones"] == ["Europe/Helsinki", "Europe/Riga", "Europe/Skopje", "Europe/Oslo", "UTC"]
    assert {"Post", "Reel", "Story", "Video", "Carousel", "Live"} <= set(x.lists["formats"])
    assert len(x.lists["pillars"]) >= 5


def test_base_url_is_a_question_and_channel_settings_are_per_channel(sample_plan, blank_plan):
    assert column(sample_plan, "base_url") == [BASE_URL]
    assert column(blank_plan, "base_url") == [None]
    # Caption limits are filled in from the channel facts, with or without --sample.
    for plan in (sample_plan, blank_plan):
        assert column(plan, "channel_name") == ["Instagram", "Facebook", "TikTok"]
        assert column(plan, "caption_limit") == [2200.0, 63206.0, 4000.0]
    assert column(sample_plan, "posts_per_week") == [3.0, 2.0, 2.0]
    assert column(blank_plan, "posts_per_week") == [None, None, None]


# --------------------------------------------------------------------------- the sample


def test_the_sample_is_a_realistic_month(sample_plan):
    rows = posts(sample_plan)
    assert 15 <= len(rows) <= 30
    assert {r["post_channel"] for r in rows} == {"Instagram", "Facebook", "TikTok"}
    assert {r["owner"] for r in rows} == set(TEAM)
    assert set(STATUSES) <= {r["post_status"] for r in rows}
    assert all(r["post_date"] and r["post_channel"] and r["caption"] for r in rows)
    assert [r["post_date"] for r in rows] == sorted(r["post_date"] for r in rows)
    assert all(r["post_time"] is None or 0 <= r["post_time"] < 1 for r in rows)


def test_sample_choices_come_from_their_lists(calendar, sample_plan):
    x = expand(calendar, sample_plan.params)
    for name, kind, list_id in POST_COLUMNS:
        if kind == "choice":
            values = {v for v in column(sample_plan, name) if v is not None}
            assert values and values <= set(x.lists[list_id]), name


@pytest.mark.parametrize(("year", "start_month"), [(2027, 1), (2026, 9), (2028, 2), (2030, 12)])
def test_sample_dates_follow_the_plan_start(calendar, year, start_month):
    plan = build(calendar, params(sample=True, channels=CHANNELS, team=TEAM, year=year, start_month=start_month))
    dates = [r["post_date"] for r in posts(plan)]
    assert {(d.year, d.month) for d in dates} == {(year, start_month)}
    # ...so the summary's first month holds every post.
    assert sum(grid(plan, "total_posts")[(None, m)] for m in range(12)) == len(dates)
    assert grid(plan, "total_posts")[(None, 0)] == len(dates)


# --------------------------------------------------------------------------- caption checks


def _warning(calendar, row: dict) -> bool:
    """The caption highlight's rule, evaluated for one row's cached values."""
    (rule,) = [h for h in _posts_table(calendar).highlights if h.style == "bad"]
    assert set(rule.fields) == {"caption", "caption_length"}
    return fx.evaluate(rule.when.cases[""], lambda name, modifier: row[name]) is True


def test_caption_length_and_the_too_long_warning(calendar):
    cases = [  # (channel index, caption, flagged)
        (0, "x" * 2201, True),  # Instagram: 2200
        (0, "x" * 2200, False),
        (0, "Kiitos! Lämmin villasukka.", False),
        (1, "y" * 4001, False),  # Facebook: 63206
        (2, "z" * 4001, True),  # TikTok: 4000
        (3, "w" * 281, True),  # X: 280
        (3, "w" * 280, False),
        (4, "v" * 9000, False),  # a channel without a known limit is not checked
        (0, None, False),
    ]
    blueprint = with_samples(
        calendar,
        post_date=[0] * len(cases),
        post_channel=[c[0] for c in cases],
        caption=[c[1] for c in cases],
    )
    plan = build(blueprint, params(sample=True, channels="instagram,facebook,tiktok,x,Kylä-lehti", team=TEAM))
    lengths, limits = column(plan, "caption_length"), column(plan, "caption_limit_post")
    expected_limits = [2200.0, 2200.0, 2200.0, 63206.0, 4000.0, 280.0, 280.0, "", 2200.0]
    assert limits[: len(cases)] == expected_limits
    for i, (_, caption, flagged) in enumerate(cases):
        assert lengths[i] == (float(len(caption)) if caption else "")
        row = {"caption_length": lengths[i], "caption_limit_post": limits[i]}
        assert _warning(calendar, row) is flagged, (i, caption and len(caption))
    # The rule reaches the workbook as conditional formatting on the caption and its length.
    sheet = plan.sheets[plan.items["caption"].sheet]
    length_col, limit_col = plan.items["caption_length"].cells[0][2], plan.items["caption_limit_post"].cells[0][2]
    first_row = plan.items["caption"].cells[0][1]
    bad = [h for h in sheet.highlights if h[5] == "bad"]
    length, limit = (
        f"${column_letter(length_col)}{first_row + 1}",
        f"${column_letter(limit_col)}{first_row + 1}",
    )
    assert {h[1] for h in bad} == {plan.items["caption"].cells[0][2], length_col}
    assert all(h[4] == f"AND(ISNUMBER({length}),ISNUMBER({limit}),{limit}>0,{length}>{limit})" for h in bad)
    assert all(h[0] == first_row and h[2] == plan.items["caption"].cells[-1][1] for h in bad)


def test_blank_rows_show_no_length_limit_or_link(blank_plan):
    for name in ("caption_length", "caption_limit_post", "utm_link"):
        assert set(column(blank_plan, name)) == {""}, name


# --------------------------------------------------------------------------- UTM links


def test_utm_link_of_a_sample_row_is_exact(sample_plan):
    rows = posts(sample_plan)
    first = rows[0]
    assert (first["post_channel"], first["campaign"]) == ("Instagram", "Anniversary week")
    assert (
        first["utm_link"]
        == "https://www.example.fi?utm_source=instagram&utm_medium=social&utm_campaign=anniversary-week"
    )
    for row in rows:
        assert row["utm_link"] == expected_link(BASE_URL, row["post_channel"], row["campaign"])
    assert any(r["campaign"] is None for r in rows)  # ... and links without a campaign


def test_utm_link_edge_cases(calendar):
    campaigns = ["Sale & More ", "  Big   Sale", None, "Talvi #1", "ÄÖ"]
    blueprint = with_samples(
        calendar,
        base_url=" https://www.example.fi/shop?ref=ig ",
        post_date=[0] * 6,
        post_channel=[0, 1, 2, 0, 1, None],
        campaign=campaigns + ["x"],
    )
    plan = build(blueprint, params(sample=True, channels="instagram,Kylä-lehti & Co.,x", team=TEAM))
    names = ["Instagram", "Kylä-lehti & Co.", "X", "Instagram", "Kylä-lehti & Co.", None]
    links = column(plan, "utm_link")[:6]
    assert links == [
        expected_link("https://www.example.fi/shop?ref=ig", n, c) for n, c in zip(names, campaigns + ["x"])
    ]
    assert (
        links[0]
        == "https://www.example.fi/shop?ref=ig&utm_source=instagram&utm_medium=social&utm_campaign=sale-%26-more"
    )
    assert links[1].endswith("utm_source=kylä-lehti-%26-co.&utm_medium=social&utm_campaign=big-sale")
    assert links[3].endswith("&utm_campaign=talvi-%231")
    assert links[5] == ""  # no channel, no link
    no_site = build(with_samples(calendar, base_url=None), params(sample=True, channels=CHANNELS, team=TEAM))
    assert set(column(no_site, "utm_link")) == {""}


# --------------------------------------------------------------------------- the summary


def expected_summary(plan):
    """Counts per (channel, month, status) and per (channel, month), computed from the rows."""
    by_status, by_month = Counter(), Counter()
    names = {c.name: c.id for c in plan.params.channels}
    for row in posts(plan):
        if row["post_date"] is None or row["post_channel"] not in names:
            continue
        month = month_index(plan, as_date(row["post_date"]))
        if month is None:
            continue
        channel = names[row["post_channel"]]
        by_month[channel, month] += 1
        if row["post_status"]:
            by_status[channel, month, row["post_status"]] += 1
    return by_status, by_month


def planned_posts(per_week, year, month):
    days = ((dt.date(year + month // 12, month % 12 + 1, 1)) - dt.date(year, month, 1)).days
    return float(math.floor((per_week or 0) * days / 7 + 0.5))


def check_summary(plan):
    by_status, by_month = expected_summary(plan)
    channels = [c.id for c in plan.params.channels]
    per_week = dict(zip(channels, column(plan, "posts_per_week")))
    months = plan.params.months()
    for status, name in COUNTS.items():
        values = grid(plan, name)
        assert values == {(c, m): float(by_status[c, m, status]) for c in channels for m in range(12)}, status
    assert grid(plan, "posts") == {(c, m): float(by_month[c, m]) for c in channels for m in range(12)}
    planned = grid(plan, "planned")
    assert planned == {(c, m): planned_posts(per_week[c], *months[m]) for c in channels for m in range(12)}
    difference = grid(plan, "difference")
    assert difference == {(c, m): by_month[c, m] - planned[c, m] for c in channels for m in range(12)}
    for m in range(12):
        assert grid(plan, "total_posts")[None, m] == sum(by_month[c, m] for c in channels)
        assert grid(plan, "total_published")[None, m] == sum(by_status[c, m, "Published"] for c in channels)
        assert grid(plan, "total_planned")[None, m] == sum(planned[c, m] for c in channels)
        assert (
            grid(plan, "total_difference")[None, m]
            == grid(plan, "total_posts")[None, m] - grid(plan, "total_planned")[None, m]
        )
    return by_status, by_month


def test_summary_counts_the_sample_per_channel_month_and_status(sample_plan):
    by_status, by_month = check_summary(sample_plan)
    assert sum(by_month.values()) == len(posts(sample_plan))
    assert by_month["instagram", 0] == 12 and by_status["instagram", 0, "Published"] == 5
    assert grid(sample_plan, "planned")["instagram", 0] == 13.0  # 3 a week, 31 days in January


def test_summary_counts_posts_across_the_year(calendar):
    # Days after the plan's first day (1 Sep 2026): months 0, 1, 1, 4, 11; then after the plan, and before it.
    offsets = [0, 30, 59, 130, 364, 365, -1, 5, 6]
    statuses = ["Published", "Scheduled", None, "Idea", "Draft", "Published", "Published", "In review", "In review"]
    blueprint = with_samples(
        calendar,
        post_date=offsets,
        post_channel=[0, 1, 1, 0, 2, 0, 0, 2, 2],
        post_status=statuses,
        caption=[f"Post {i}" for i in offsets],
    )
    plan = build(blueprint, params(sample=True, channels=CHANNELS, team=TEAM, year=2026, start_month=9))
    by_status, by_month = check_summary(plan)
    assert sum(by_month.values()) == 7  # the posts before and after the plan's twelve months are not counted
    assert by_month["facebook", 1] == 2 and by_status["facebook", 1, "Scheduled"] == 1
    assert grid(plan, "count_in_review")["tiktok", 0] == 2.0
    assert grid(plan, "planned")["instagram", 1] == planned_posts(3, 2026, 10)


def test_blank_workbook_counts_zero_and_has_no_errors(blank_plan):
    for name in list(COUNTS.values()) + [
        "posts",
        "planned",
        "difference",
        "total_posts",
        "total_published",
        "total_planned",
        "total_difference",
    ]:
        assert set(grid(blank_plan, name).values()) == {0.0}, name
    errors = [
        (sheet.name, cell.formula, cell.value)
        for sheet in blank_plan.sheets
        for cell in sheet.cells.values()
        if cell.kind == "formula" and isinstance(cell.value, fx.ExcelError)
    ]
    assert errors == []


def test_status_highlights_use_the_status_labels(calendar, sample_plan):
    sheet = sample_plan.sheets[0]
    status_col = column_letter(sample_plan.items["post_status"].cells[0][2])
    first = sample_plan.items["post_status"].cells[0][1] + 1
    rules = {(h[4], h[5]) for h in sheet.highlights}
    for status, style in [("Idea", "muted"), ("In review", "warn"), ("Scheduled", "info"), ("Published", "good")]:
        assert (f'${status_col}{first}="{status}"', style) in rules


# --------------------------------------------------------------------------- the workbook file


def test_text_stays_text_and_formula_cells_are_locked(calendar, tmp_path):
    blueprint = with_samples(
        calendar,
        caption=["=1+1", "-20 % off", '=HYPERLINK("http://x","y")'],
        post_date=[0, 1, 2],
        post_channel=[0, 1, 2],
    )
    plan = build(blueprint, params(sample=True, channels=CHANNELS, team=["=1+1", "+Bo"]))
    path = xlsx.write(plan, tmp_path / "calendar.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book["Calendar"]
    caption_col = plan.items["caption"].cells[0][2] + 1
    first = plan.items["caption"].cells[0][1] + 1
    cells = [ws.cell(first + i, caption_col) for i in range(3)]
    assert [c.value for c in cells] == ["=1+1", "-20 % off", '=HYPERLINK("http://x","y")']
    assert all(c.data_type == "s" and not c.protection.locked for c in cells)
    assert ws.protection.sheet
    for name in FORMULAS:
        col = plan.items[name].cells[0][2] + 1
        assert ws.cell(first, col).data_type == "f" and ws.cell(first, col).protection.locked
    assert book["Summary"].protection.sheet and book["Settings"].protection.sheet


# --------------------------------------------------------------------------- LibreOffice


LO_CASES = {
    "calendar-blank": {"channels": CHANNELS, "team": TEAM},
    "calendar-sample": dict(SAMPLE, sample=True),
    "calendar-autumn": {
        "company": "Strikk AS",
        "year": 2026,
        "start_month": 9,
        "currency": "NOK",
        "channels": "instagram,Kylä-lehti & Co.,x",
        "team": TEAM,
        "sample": True,
    },
}


@pytest.fixture(scope="module")
def recalculated(soffice, calendar, tmp_path_factory):
    """Case -> (generated, recalculated by LibreOffice), all in one LibreOffice start."""
    plans = {name: build(calendar, params(**values)) for name, values in LO_CASES.items()}
    return {name: (generated, out) for name, (_, generated, out) in recalculate_plans(plans, tmp_path_factory).items()}


@pytest.mark.parametrize("name", LO_CASES)
def test_libreoffice_agrees_with_every_cached_value(recalculated, name):
    generated, result = recalculated[name]
    cached, computed = formula_cells(generated), formula_cells(result)
    assert len(cached) > 1500 and set(cached) == set(computed)
    wrong = disagreements(cached, computed)
    assert wrong == [], "\n".join(wrong[:30])
    assert error_cells(generated) == {} and error_cells(result) == {}


def test_libreoffice_counts_the_sample(recalculated):
    """Read back from LibreOffice's own file: the first month's published Instagram posts."""
    _, result = recalculated["calendar-sample"]
    book = openpyxl.load_workbook(result, data_only=True)
    ws = book["Summary"]
    rows = [r for r in ws.iter_rows(min_row=1, max_col=5, values_only=True) if r[1] == "Instagram"]
    published = next(r for r in rows if r[2] == "Published")
    assert published[3] == 5
    assert ws.cell(4, 4).value == dt.datetime(2027, 1, 1)
