"""The report page's pictures: posts per channel and month against the plan, each channel's KPIs
against its targets; each SVG with a title, a description and its figures as a table."""

from __future__ import annotations

import re

from smm_sheets.web import charts
from tests.web.test_downloads import upload


def figure_of(page: str, title: str) -> str:
    """The <figure> whose chart has this title."""
    for figure in re.findall(r'<figure class="chart">.*?</figure>', page, re.S):
        if f">{title}</title>" in figure:
            return figure
    raise AssertionError(f"no chart titled {title!r}")


def data_rows(figure: str) -> list[list[str]]:
    body = figure.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_the_json_report_has_each_channels_month_with_its_plan_and_targets(client, sample_set):
    response = client.post("/api/v1/analyse", files=upload(sample_set["calendar"], sample_set["kpi-report"]))
    reports = {r["blueprint"]["id"]: r for r in response.json()["reports"]}
    posts = reports["calendar"]["totals"]["by_channel_month"]
    by_channel = reports["calendar"]["totals"]["by_channel"]
    assert len(posts) == 12 * len(by_channel) and set(posts[0]) == {"channel", "month", "posts", "published", "target"}
    for row in by_channel:  # the cross table adds up to the table by channel
        mine = [r for r in posts if r["channel"] == row["channel"]]
        assert sum(r["posts"] for r in mine) == row["posts"] and sum(r["target"] for r in mine) == row["target"]
    kpis = reports["kpi-report"]["totals"]["by_channel_month"]
    instagram = [r for r in kpis if r["channel"] == "Instagram"]
    # The sample's targets (typed for every month) and the KPIs of its four reported months.
    assert {r["target_engagement_rate"] for r in instagram} == {0.04} and {r["target_ctr"] for r in instagram} == {
        0.012
    }
    assert [r["ctr"] is not None for r in instagram] == [True] * 4 + [False] * 8


def test_posts_per_channel_and_month_against_the_plan(client, sample_set):
    api = client.post("/api/v1/analyse", files=upload(sample_set["calendar"])).json()
    rows = api["reports"][0]["totals"]["by_channel_month"]
    page = client.post("/check", files=upload(sample_set["calendar"]), data={"lang": "en"}).text
    figure = figure_of(page, "Posts per channel and month against the plan")
    svg = figure.split("</svg>", 1)[0]
    # Accessible: named by its title, described by its desc, both in the SVG.
    ids = re.search(r'aria-labelledby="([^"]+)" aria-describedby="([^"]+)"', svg).groups()
    assert f'<title id="{ids[0]}">' in svg and f'<desc id="{ids[1]}">' in svg
    assert len(set(re.findall(r'id="([^"]+)"', page))) == len(re.findall(r'id="([^"]+)"', page))  # ids unique
    # A bar per channel and month with posts, the plan's mark across every bar.
    assert svg.count('<line class="mark"') == sum(r["target"] is not None for r in rows)
    assert len(re.findall(r'<rect class="s\d" x=', svg)) == len(rows)
    channels = list(dict.fromkeys(r["channel"] for r in rows))
    for channel in channels:
        assert f">{channel}</text>" in svg  # in the legend
    # The figures as a table: every channel's every month.
    table = data_rows(figure)
    assert len(table) == len(rows)
    first = rows[0]
    assert table[0] == [
        first["channel"],
        first["month"],
        f"{first['posts']:,.0f}",
        f"{first['published']:,.0f}",
        f"{first['target']:,.0f}",
    ]
    # The old by-month and by-channel charts are gone: this one says both.
    assert "Posts by month against the plan" not in page


def test_each_channels_kpis_against_its_targets(client, sample_set):
    api = client.post("/api/v1/analyse", files=upload(sample_set["kpi-report"])).json()
    rows = api["reports"][0]["totals"]["by_channel_month"]
    page = client.post("/check", files=upload(sample_set["kpi-report"]), data={"lang": "fi"}).text
    channels = list(dict.fromkeys(r["channel"] for r in rows))
    for channel in channels:
        figure = figure_of(
            page, f"{channel}: sitoutumisaste ja klikkausprosentti kuukausittain tavoitteisiin verrattuna"
        )
        svg = figure.split("</svg>", 1)[0]
        mine = [r for r in rows if r["channel"] == channel]
        # The rates as lines with dots, the targets dashed: a tick per month with a target.
        assert svg.count('<line class="l1 target"') == sum(r["target_engagement_rate"] is not None for r in mine)
        assert svg.count('<line class="l2 target"') == sum(r["target_ctr"] is not None for r in mine)
        assert svg.count('<circle class="l2"') == sum(r["ctr"] is not None for r in mine)
        assert "<desc id=" in svg and "Katkoviiva" in svg
        table = data_rows(figure)
        assert len(table) == 12
        assert table[0][0] == mine[0]["month"]
        assert table[0][2] == charts.percent(mine[0]["target_engagement_rate"], "fi")
        assert table[-1][1] == "–"  # a month not reported: no rate, the target still shown
    assert page.count('<figure class="chart">') == len(channels)


def test_marks_and_dashed_targets_are_drawn_and_escaped():
    svg = charts.chart(
        "<b>posts</b>",
        ["Jan 2031", "Feb 2031"],
        [charts.Series("<script>x</script>", [3.0, None], "s1"), charts.Series("Facebook", [1.0, 2.0], "s2")],
        [charts.Series("goal", [0.5, 0.6], "l1", dashed=True)],
        marks=[charts.Series("a", [4.0, 4.0], "mark"), charts.Series("b", [None, 8.0], "mark")],
        mark_name="<i>plan</i>",
        desc="<desc & more>",
        ident='x"y',
    )
    assert "<script>" not in svg and "<i>" not in svg and "&lt;desc &amp; more&gt;" in svg
    assert 'id="x&quot;y-title"' in svg
    assert svg.count('<line class="mark"') == 3 and svg.count('<line class="mark key"') == 1
    assert ">8<" in svg  # the axis reaches the highest mark (the bars alone: 3)
    assert svg.count('<line class="l1 target"') == 2 and '<polyline class="l1 target"' in svg
    assert svg.count('<line class="l1 target key"') == 1
    assert '<circle class="l1' not in svg  # a target has no dots


def test_a_long_legend_wraps_and_the_chart_grows():
    many = [charts.Series(f"Channel number {i}", [float(i)], f"s{i % 6 + 1}") for i in range(8)]
    svg = charts.chart("many", ["Jan 2031"], many)
    height = int(re.search(r'viewBox="0 0 720 (\d+)"', svg).group(1))
    assert height > charts.HEIGHT
    keys = [float(y) for y in re.findall(r'<rect class="s\d key" x="\d+" y="([\d.]+)"', svg)]
    assert len(keys) == 8 and len(set(keys)) > 1
