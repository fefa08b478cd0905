"""The strategy workbook: the seeds' sections and questions, completeness, scores and lookups.

Structure follows the seeds (seed 000's strategy sections and questions, seed 001's eight goal
types, seed 003's readiness checklist, seed 004's crisis handbook); the Overview's completeness
formulas are checked against an independent count of the required answers in the cells; and
LibreOffice recalculates blank, sample and hostile workbooks to the values the generator cached.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from smm_sheets.blueprint import loader
from smm_sheets.blueprint.model import Form
from smm_sheets.generator import xlsx
from smm_sheets.generator.pipeline import with_sample_goals
from smm_sheets.plan import build, expand
from tests.conftest import params, with_samples
from tests.helpers import ROOT
from tests.libreoffice import disagreements, error_cells, formula_cells, recalculate_plans

NORDIC = yaml.safe_load((ROOT / "samples" / "nordic-knitwear.yaml").read_text(encoding="utf-8"))
HOSTILE_TEAM = ["=1+1", "+Bo", "<Ann", "@x"]

SHEETS = [
    "Overview",
    "Company summary",
    "Mission and vision",
    "People and roles",
    "SWOT",
    "SMART goals",
    "Initiatives",
    "Target market",
    "Buyer personas",
    "Competitors",
    "Market positioning",
    "Channels",
    "Readiness",
    "Crisis plan",
]
GOAL_TYPES = [
    "Increase brand awareness",
    "Drive traffic to your website",
    "Generate new leads",
    "Grow revenue",
    "Increase brand engagement",
    "Build a community around your business",
    "Increase mentions in the press",
    "Research and learn about your customers",
]
PERSONA_FIELDS = [
    "Name",
    "Professional background",
    "Personal background",
    "Demographics",
    "Communication",
    "Business goals",
    "Personal goals",
    "Challenges",
    "Your impact",
    "Objections and concerns",
    "Unique selling point for this persona",
]
READINESS = [
    "Do you have a clear reason to be on social media?",
    "Do you know which social media sites are right for you?",
    "Do you have the resources to keep investing?",
    "Have you built a social pipeline?",
    "Do you have a social media policy?",
    "Can you measure it?",
]
READINESS_IDS = ["ready_reason", "ready_sites", "ready_resources", "ready_pipeline", "ready_policy", "ready_measure"]
# The seed's questions, section by section (seed 000; translated).
SEED_QUESTIONS = {
    "Company summary": [
        "What is your company's name?",
        "Where is the company's headquarters?",
        "When was it founded?",
        "Who is the founder?",
        "What have been the most important milestones so far?",
        "What are the production resources and capabilities?",
    ],
    "Mission and vision": [
        "What business are you in right now?",
        "What is your ultimate destination?",
        "How does your vision affect your customers?",
        "How does it change the company?",
    ],
    "People and roles": [
        "Who is the boss?",
        "Who writes the copy?",
        "Who is responsible for creative production?",
        "Who runs the ad campaigns?",
        "Who is responsible for content distribution?",
        "Who communicates with influencers?",
        "Who takes care of comments and direct messages?",
    ],
    "SWOT": [
        "Strengths: What do you do best?",
        "Weaknesses: What do you want to strengthen?",
        "Opportunities: What does the industry love that you can offer?",
        "Threats: What could take you down and stop you growing?",
    ],
    "SMART goals": [
        "What do you want your company to do? (Specific)",
        "What number (level) means success? (Measurable)",
        "Is it possible to achieve? (Achievable)",
        "What resources do you need; do you have them? (Relevant)",
        "What is the deadline? (Time-bound)",
        "The business goal it serves",
        "Goal type",
        "Where are you now? (baseline)",
    ],
    "Initiatives": [
        "What will you do to reach your goal?",
        "What is your timeline?",
        "How will you measure success?",
        "What resources do you need to succeed?",
    ],
    "Target market": [
        "Where do your best buyers live?",
        "What language do they speak?",
        "Do they have local holidays or shopping drivers?",
        "What is your customers' industry?",
        "What do your individual customers do for a living?",
        "Where are they (and their companies) located?",
        "What business goals are they pursuing?",
    ],
    "Competitors": [
        "Company (or person) name",
        "Business summary",
        "Strengths",
        "Weaknesses",
        "Opportunities",
        "Threats",
        "Followers",
        "Average likes",
        "Average shares",
        "Average comments",
    ],
    "Market positioning": [
        "What materials is it made of?",
        "How can you prove the product's quality?",
        "Is it unique?",
        "Is it handmade?",
        "Where is the product made?",
        "How much does your product cost?",
        "Is this price affordable for your buyer persona?",
        "How often can your buyer persona buy from you?",
        "How much of the margin will you reinvest in the business?",
        "Will you sell your product on your website?",
        "Will you sell offline, online or both?",
        "Which social networks will you use?",
        "Do you have a blog?",
        "Do you have an affiliate or referral programme?",
        "Do you work with influencers?",
        "Will you launch paid campaigns?",
        "What formats will you use for promotions?",
        "Where do your customers come from?",
        "What do they see first (landing page)?",
        "What do they do if they have questions?",
        "How do they order the product?",
        "How do they pay for it?",
        "How do you receive orders?",
        "How quickly do you fulfil orders?",
        "How does the customer see the order status?",
        "How do you deliver the products?",
        "How do you track delivery?",
        "How will you get feedback on the product?",
        "How can customers share positive product reviews?",
        "How do they return products?",
        "What is your returns policy?",
    ],
    "Channels": [
        "What is the purpose of your website?",
        "What is the purpose of this profile?",
        "What is your primary sales channel?",
        "Do you use social media for support?",
        "Which social media gets the biggest ad budget?",
        "What content do you publish here?",
        "Primary or secondary",
        "Posts per week",
        "Share of the ad budget",
    ],
}


@pytest.fixture(scope="module")
def strategy():
    return loader.load("strategy")


@pytest.fixture(scope="module")
def sample_plan(strategy):
    return build(strategy, params(**NORDIC, sample=True))


@pytest.fixture(scope="module")
def blank_plan(strategy):
    return build(strategy, params(**NORDIC))


def values(plan, name: str) -> list[Any]:
    """An item's cell values in sheet order (top to bottom, left to right)."""
    item = plan.items[name]
    cells = plan.sheets[item.sheet].cells
    return [cells[(row, col)].value for _, row, col in sorted(item.cells, key=lambda c: (c[1], c[2]))]


def value(plan, name: str) -> Any:
    (found,) = values(plan, name)
    return found


def texts(plan, sheet_name: str) -> list[str]:
    """Every text shown on a sheet, with the required mark " *" taken off."""
    sheet = next(s for s in plan.sheets if s.name == sheet_name)
    return [c.value.removesuffix(" *") for c in sheet.cells.values() if isinstance(c.value, str)]


# --------------------------------------------------------------------------- structure


def test_one_sheet_per_section_of_the_seeds(sample_plan):
    names = [sheet.name for sheet in sample_plan.sheets]
    assert names == SHEETS + ["Lists", "_smm", "Start here"]  # Start here is written first
    assert all(len(name) <= 31 for name in names)


@pytest.mark.parametrize("sheet", SEED_QUESTIONS)
def test_the_seeds_questions_are_on_their_sheet(blank_plan, sheet):
    shown = texts(blank_plan, sheet)
    missing = [question for question in SEED_QUESTIONS[sheet] if question not in shown]
    assert missing == []


def test_mission_shows_the_seeds_example_missions(blank_plan):
    shown = " ".join(texts(blank_plan, "Mission and vision"))
    assert "A computer on every desk and in every home." in shown and "Microsoft (at its founding)" in shown
    assert "Create economic opportunity for every member of the global workforce." in shown and "LinkedIn" in shown


def test_buyer_personas_have_every_field_the_seed_lists(strategy, blank_plan):
    forms = {block.id: block for sheet in strategy.sheets for block in sheet.blocks}
    x = expand(strategy, params())
    for form_id in ("persona_1", "persona_2"):
        assert [x.text(q.label) for q in forms[form_id].questions] == PERSONA_FIELDS
    assert all(q.required for q in forms["persona_1"].questions)
    assert not any(q.required for q in forms["persona_2"].questions)
    # Each field's hint is the seed's question about it.
    hints = {x.text(q.label): x.text(q.hint) for q in forms["persona_1"].questions}
    assert hints["Professional background"] == "What is their role and experience? What is their income level?"
    assert hints["Objections and concerns"] == "Safety? Cost? Do they lack information about your brand?"
    assert "Negative persona (optional): who to keep out of your ad campaigns" in texts(blank_plan, "Buyer personas")


def test_competitor_records_have_channel_statistics_and_a_swot_each(strategy):
    tables = {block.id: block for sheet in strategy.sheets for block in sheet.blocks}
    assert [c.id for c in tables["competitor_records"].columns] == [
        "comp_name",
        "comp_summary",
        "comp_strengths",
        "comp_weaknesses",
        "comp_opportunities",
        "comp_threats",
    ]
    assert [c.id for c in tables["channel_stats"].columns][:6] == [
        "stat_competitor",
        "stat_channel",
        "stat_followers",
        "stat_likes",
        "stat_shares",
        "stat_comments",
    ]


def test_the_eight_goal_types_come_with_their_metrics_even_when_blank(strategy, blank_plan):
    x = expand(strategy, params())
    assert x.lists["goal_types"] == GOAL_TYPES
    assert values(blank_plan, "type_name") == GOAL_TYPES
    metrics = values(blank_plan, "type_metrics")
    assert len(metrics) == 8 and all(isinstance(m, str) and len(m) > 20 for m in metrics)
    assert metrics[0].startswith("Number of followers") and "retweets" in metrics[0]
    assert metrics[3] == "Sign-ups, sales revenue, or revenue from social ads"


def test_goal_type_metrics_lookup(strategy, sample_plan):
    metrics = dict(zip(values(sample_plan, "type_name"), values(sample_plan, "type_metrics")))
    types, found = values(sample_plan, "goal_type"), values(sample_plan, "goal_metrics")
    assert types[:4] == [
        "Increase brand awareness",
        "Grow revenue",
        "Increase brand awareness",
        "Build a community around your business",
    ]
    assert found == [metrics[t] if t else "" for t in types]
    # Every type, by text, finds its own metrics; a blank type shows nothing.
    patched = with_samples(strategy, goal_type=list(range(8)) + [None], goal_name=[f"g{i}" for i in range(9)])
    plan = build(patched, params(sample=True))
    assert values(plan, "goal_metrics")[:9] == [metrics[t] for t in GOAL_TYPES] + [""]


def test_goal_change_and_achievable_warning(sample_plan):
    assert values(sample_plan, "goal_change")[:5] == [
        pytest.approx(1.0),
        pytest.approx(400 / 180 - 1),
        pytest.approx(5000 / 800 - 1),
        "",
        "",
    ]
    goals = sample_plan.sheets[sample_plan.items["goal_achievable"].sheet]
    assert any(rule[4].endswith('="No"') and rule[5] == "warn" for rule in goals.highlights)


def test_initiatives_belong_to_the_goals_and_the_worked_example_is_shown(strategy, blank_plan, sample_plan):
    goals = [g for g in values(sample_plan, "goal_name") if g]
    assert goals[0] == "Double the German Instagram audience in six months"
    chosen = [g for g in values(sample_plan, "init_goal") if g]
    assert set(chosen) == set(goals) and chosen.count(goals[0]) == 5
    rules = {
        rule[4]["source"] for sheet in blank_plan.sheets for rule in sheet.validations if rule[4]["validate"] == "list"
    }
    assert {
        "=smm_goal_name",
        "=smm_comp_name",
        "=list_team",
        "=list_goal_types",
        "=list_channels",
        "=list_yesno",
    } <= rules
    # The seed's five initiatives with their timelines, in the blank workbook too.
    example = list(zip(values(blank_plan, "example_initiative"), values(blank_plan, "example_timeline")))
    assert len(example) == 5
    assert example[0] == ("Initiative 1: Create a new Instagram account in German.", "1 week")
    assert "Localise 50" in example[1][0] and example[1][1] == "1 week"
    assert "1,000 local followers" in example[2][0] and example[2][1] == "1 week"
    assert "daily" in example[3][0] and example[3][1] == "Daily, from next week until the goal is reached"
    assert "5,000 followers through influencers" in example[4][0] and example[4][1] == "3 months"
    assert "double the German Instagram audience in six months" in " ".join(texts(blank_plan, "Initiatives"))


def test_the_strategys_goals_feed_the_other_workbooks(strategy):
    goals = with_sample_goals(params(sample=True), [strategy]).goals
    assert goals[0] == "Double the German Instagram audience in six months" and len(goals) == 4


def test_people_wear_several_hats(strategy):
    team = ["Aino (owner)", "Mikko (copy and ads)", "Sara (photos and video)"]
    plan = build(strategy, params(sample=True, team=team))
    people = values(plan, "role_person")
    hours = values(plan, "role_hours")
    assert len(people) == 7 and values(plan, "role_question")[0] == "Who is the boss?"
    assert values(plan, "member_hats") == [float(people.count(p)) for p in team]
    assert values(plan, "member_hours") == [sum(h for p2, h in zip(people, hours) if p2 == p) for p in team]
    assert max(values(plan, "member_hats")) > 1  # somebody wears several hats
    # Names that read like criteria or formulas are compared as plain text.
    hostile = build(strategy, params(sample=True, team=HOSTILE_TEAM))
    people = values(hostile, "role_person")
    assert values(hostile, "member_hats") == [float(people.count(p)) for p in HOSTILE_TEAM]
    assert sum(values(hostile, "member_hats")) == 7


def test_channel_plan_and_biggest_ad_budget(strategy, sample_plan):
    assert values(sample_plan, "channel_name") == ["Instagram", "Facebook", "TikTok"]
    assert values(sample_plan, "ch_ad_share.total") == [pytest.approx(1.0)]
    assert value(sample_plan, "channels_biggest") == "Instagram"
    shares = with_samples(strategy, ch_ad_share=[0.2, 0.5, 0.3])
    assert value(build(shares, params(**NORDIC, sample=True)), "channels_biggest") == "Facebook"
    assert value(build(strategy, params(sample=True, channels="tiktok")), "channels_biggest") == "TikTok"
    assert value(build(strategy, params(channels="tiktok")), "channels_biggest") == ""


# --------------------------------------------------------------------------- readiness and crisis


def test_readiness_checklist_has_the_six_questions_of_the_seed(strategy, blank_plan):
    x = expand(strategy, params())
    fields = strategy.fields()
    labels = [x.text(fields[i].label) for i in READINESS_IDS]
    assert labels == [f"{n}. {q}" for n, q in enumerate(READINESS, start=1)]
    assert all(fields[i].type == "yesno" and fields[i].required and fields[i].hint for i in READINESS_IDS)
    assert (value(blank_plan, "ready_answered"), value(blank_plan, "ready_score")) == (0.0, 0.0)
    assert value(blank_plan, "ready_verdict") == "Answer all six questions."


@pytest.mark.parametrize(
    ("answers", "score", "verdict"),
    [
        ([0, 0, 0, 0, 0, 0], 6, "Ready: go ahead."),
        ([0, 1, 0, 1, 1, 0], 3, "Not ready yet"),
        ([1, 1, 1, 1, 1, 1], 0, "Not ready yet"),
        ([0, 0, None, 0, 0, 0], 5, "Answer all six questions."),
    ],
)
def test_readiness_score_counts_yes_answers(strategy, answers, score, verdict):
    blueprint = with_samples(strategy, **dict(zip(READINESS_IDS, answers)))
    plan = build(blueprint, params(sample=True))
    shown = [value(plan, i) for i in READINESS_IDS]
    assert shown == [None if a is None else ("Yes", "No")[a] for a in answers]
    assert value(plan, "ready_score") == score == shown.count("Yes")
    assert value(plan, "ready_answered") == sum(a is not None for a in answers)
    assert value(plan, "ready_verdict").startswith(verdict)
    assert value(plan, "glance_readiness") == score


def test_crisis_plan_has_scenario_owner_first_response_escalation(sample_plan):
    item = sample_plan.items["crisis_scenario"]
    cells = sample_plan.sheets[item.sheet].cells
    _, row, col = item.cells[0]
    headers = [cells[(row - 1, c)].value for c in range(col, col + 4)]
    assert headers == ["Scenario *", "Owner *", "First response *", "Escalation *"]
    assert sample_plan.sheets[item.sheet].name == "Crisis plan"
    owners = [o for o in values(sample_plan, "crisis_owner") if o]
    assert owners and set(owners) <= set(NORDIC["team"])


# --------------------------------------------------------------------------- completeness


def required_answers(plan) -> dict[str, tuple[int, int]]:
    """(answered, required) per sheet id, counted from the input cells and the required flags.

    A required question counts once; a required column of a table over a list (roles,
    channels) once per row; a required column of a table of blank rows once (any entry).
    """
    counts: dict[str, list[int]] = {}
    for sheet in plan.blueprint.sheets:
        answered = required = 0
        for block in sheet.blocks:
            fields = block.questions if isinstance(block, Form) else block.columns
            for field in fields:
                if not field.required:
                    continue
                filled = [v not in (None, "") for v in values(plan, field.id)]
                if isinstance(block, Form) or block.rows.source != "count":
                    answered, required = answered + sum(filled), required + len(filled)
                else:
                    answered, required = answered + any(filled), required + 1
        counts[sheet.id] = [answered, required]
    return {key: (a, r) for key, (a, r) in counts.items() if r}


def check_completeness(plan) -> dict[str, tuple[int, int]]:
    counts = required_answers(plan)
    assert set(counts) == {s.id for s in plan.blueprint.sheets} - {"overview"}
    for sheet_id, (answered, required) in counts.items():
        assert value(plan, f"done_{sheet_id}") == pytest.approx(answered / required, abs=1e-12), sheet_id
    total = [sum(c[i] for c in counts.values()) for i in (0, 1)]
    assert value(plan, "done_all") == pytest.approx(total[0] / total[1], abs=1e-12)
    return counts


def test_completeness_of_a_blank_strategy_is_zero(blank_plan):
    counts = check_completeness(blank_plan)
    assert all(answered == 0 for answered, _ in counts.values())
    assert [value(blank_plan, n) for n in blank_plan.items if n.startswith("done_")] == [0.0] * 14


def test_completeness_of_the_sample_counts_answered_over_required(sample_plan):
    counts = check_completeness(sample_plan)
    assert counts["positioning"] == (33, 33)  # the sample answers every required question
    assert counts["channels"] == (18, 18)  # 3 questions + 5 per channel
    assert counts["people"] == (7, 7) and counts["goals"] == (9, 9) and counts["competitors"] == (9, 9)
    assert value(sample_plan, "done_all") == pytest.approx(125 / 125)
    assert all(v == 1.0 for n, v in ((n, value(sample_plan, n)) for n in sample_plan.items if n.startswith("done_")))


@pytest.mark.parametrize("channels", ["instagram", "instagram,facebook,tiktok,linkedin,Mastodon"])
def test_completeness_with_one_or_many_channels(strategy, channels):
    """One channel makes one-cell columns; more channels than sample rows leave rows unanswered."""
    plan = build(strategy, params(sample=True, channels=channels))
    counts = check_completeness(plan)
    n = len(channels.split(","))
    assert counts["channels"] == (3 + 5 * min(n, 3), 3 + 5 * n)


def test_partly_answered_sections(strategy):
    blueprint = with_samples(
        strategy,
        company_hq=None,
        swot_threats=None,
        role_person=[0, None, 1, None, None, None, 0],
        ch_purpose=["Sales", None, None],
        goal_target=None,
        goal_deadline=[None, None, None, 200],
    )
    plan = build(blueprint, params(**NORDIC, sample=True))
    counts = check_completeness(plan)
    assert counts["company"] == (5, 6) and counts["swot"] == (3, 4) and counts["people"] == (3, 7)
    assert counts["channels"] == (16, 18) and counts["goals"] == (8, 9)


def test_completeness_hints_state_the_required_counts(strategy, blank_plan):
    counts = required_answers(blank_plan)
    x = expand(strategy, params())
    fields = strategy.fields()
    for sheet_id, (_, required) in counts.items():
        hint = x.text(fields[f"done_{sheet_id}"].hint)
        if sheet_id == "channels":
            assert hint.startswith("3 required answers, plus 5 per channel")
        else:
            assert int(re.match(r"\d+", hint).group()) == required, sheet_id


# --------------------------------------------------------------------------- inputs


def test_blank_without_sample_and_filled_with_it(blank_plan, sample_plan):
    inputs = [name for name, item in blank_plan.items.items() if item.role == "input"]
    assert inputs and all(v is None for name in inputs for v in values(blank_plan, name))
    assert value(sample_plan, "company_name") == "Nordic Knitwear Oy"
    assert value(sample_plan, "mission_statement") == "Warm, honest Finnish knitwear that lasts a lifetime."


def test_inputs_are_typed_and_validated(sample_plan):
    by_item = {}
    for name, item in sample_plan.items.items():
        if item.role != "input":
            continue
        sheet = sample_plan.sheets[item.sheet]
        rules = [rule for rule in sheet.validations if any(rule[:4] == rect for rect in item.rects)]
        assert rules, f"{name} has no validation"
        by_item[name] = rules[0][4]
    assert by_item["ch_ad_share"]["validate"] == "decimal" and (
        by_item["ch_ad_share"]["minimum"],
        by_item["ch_ad_share"]["maximum"],
    ) == (0, 1)
    assert by_item["ch_posts"]["validate"] == "integer"
    assert by_item["goal_deadline"]["validate"] == "date"
    assert by_item["price_amount"]["validate"] == "decimal" and by_item["price_amount"]["minimum"] == 0
    assert by_item["role_person"]["source"] == "=list_team"
    assert by_item["init_goal"]["source"] == "=smm_goal_name"
    assert by_item["ready_reason"]["source"] == "=list_yesno"
    assert by_item["company_name"]["validate"] == "length"
    assert "input_message" in by_item["ready_policy"]


def test_user_text_is_never_a_formula(strategy, tmp_path):
    company = '=HYPERLINK("http://x","y")'
    plan = build(strategy, params(company=company, sample=True, team=HOSTILE_TEAM, channels="tiktok,Mastodon"))
    path = xlsx.write(plan, tmp_path / "strategy.xlsx")
    book = openpyxl.load_workbook(path)
    formulas = 0
    for sheet in plan.sheets:
        ws = book[sheet.name]
        for (row, col), cell in sheet.cells.items():
            written = ws.cell(row + 1, col + 1)
            if cell.kind == "formula":
                formulas += 1
                assert written.data_type == "f"
            else:
                assert written.data_type != "f", (sheet.name, row, col, cell.value)
    assert formulas > 60
    assert book["Overview"]["A2"].value.startswith(company + " · ")
    people = book["People and roles"]
    assert {c.value for row in people.iter_rows() for c in row if c.data_type == "s"} >= set(HOSTILE_TEAM)


# --------------------------------------------------------------------------- LibreOffice

CASES: dict[str, dict[str, Any]] = {
    "blank": dict(NORDIC),
    "sample": dict(NORDIC, sample=True),
    "hostile": {
        "company": '=HYPERLINK("http://x","y")',
        "year": 2027,
        "start_month": 9,
        "channels": "tiktok,Mastodon",
        "team": HOSTILE_TEAM,
        "sample": True,
    },
    "one_channel": {"company": "Acme", "year": 2027, "channels": "instagram", "team": ["Solo"], "sample": True},
    "one_channel_blank": {"company": "Acme", "year": 2027, "channels": "instagram", "team": ["Solo"]},
}


@pytest.fixture(scope="module")
def recalculated(soffice, strategy, tmp_path_factory) -> dict[str, tuple[Any, Path, Path]]:
    """Case -> (plan, generated workbook, the same recalculated by LibreOffice); one soffice run."""
    return recalculate_plans(
        {name: build(strategy, params(**values_)) for name, values_ in CASES.items()}, tmp_path_factory
    )


@pytest.mark.parametrize("case", CASES)
def test_libreoffice_agrees_with_every_cached_value(recalculated, case):
    _, generated, result = recalculated[case]
    cached, computed = formula_cells(generated), formula_cells(result)
    assert len(cached) > 60 and set(cached) == set(computed)
    wrong = disagreements(cached, computed)
    assert wrong == []
    assert error_cells(generated) == {} and error_cells(result) == {}


def test_libreoffice_reads_the_completeness_back(recalculated):
    for case, expected in (("blank", 0.0), ("sample", 1.0)):
        plan, _, result = recalculated[case]
        _, row, col = plan.items["done_all"].cells[0]
        shown = openpyxl.load_workbook(result, data_only=True)["Overview"].cell(row + 1, col + 1).value
        assert shown == pytest.approx(expected), case


def test_counts_show_as_whole_numbers(sample_plan):
    """``whole: true`` numbers (followers, likes) take the integer format: 5,000, not 5,000.00."""

    def style_of(name):
        placement = sample_plan.items[name]
        _, row, col = placement.cells[0]
        return placement.field.type, sample_plan.sheets[placement.sheet].cells[(row, col)].style.field_type

    assert style_of("goal_baseline") == ("number", "integer")
    assert style_of("stat_likes") == ("number", "integer")
    assert sample_plan.number_formats["integer"].endswith("#,##0")
    assert style_of("role_hours") == ("number", "number")  # hours may be 2.5: decimals kept
