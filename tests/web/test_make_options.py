"""The budget's options on the Make page and in ``POST /api/v1/generate``: labelled controls in
the page's language, passed to generation the way the CLI's ``--option`` passes them, a bad
value refused with one line (422)."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest

OPENING = "Opening balance carried in from the year before"  # the budget's section.opening (en)


def options_of(content: bytes) -> dict[str, str]:
    """The options a generated budget records on its hidden metadata sheet."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    rows = book["_smm"].iter_rows(values_only=True)
    return {row[0].removeprefix("option."): row[1] for row in rows if str(row[0]).startswith("option.")}


def has_opening_inputs(content: bytes) -> bool:
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book[book.sheetnames[1]] if "Budget" not in book.sheetnames else book["Budget"]
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    unlocked = [c for row in sheet.iter_rows() for c in row if c.protection.locked is False]
    return OPENING in texts and bool(unlocked)


def test_the_make_page_offers_the_budgets_options_labelled(client):
    page = client.get("/?lang=en").text
    assert 'name="option" value="opening_balance=yes"' in page and 'id="option-opening_balance"' in page
    assert '<label for="option-opening_balance">Opening balance from the year before</label>' in page
    assert '<label for="option-carry_over">Unspent advertising money</label>' in page
    assert '<select id="option-carry_over" name="option">' in page
    assert re.search(r'<option value="carry_over=signed" selected>signed: ', page)  # the default
    assert 'value="opening_balance=yes" checked' not in page  # off by default
    finnish = client.get("/?lang=fi").text
    assert "Avaussaldo edelliseltä vuodelta" in finnish and "Budjetin asetukset" in finnish
    assert "<script>" not in page and " onclick" not in page


@pytest.mark.parametrize("on", [True, False])
def test_the_form_makes_a_budget_with_or_without_the_opening_balance(client, on):
    data = {"workbook": "budget", "year": "2031", "option": ["carry_over=positive"]}
    if on:
        data["option"].append("opening_balance=yes")
    response = client.post("/make", data=data)
    assert response.status_code == 200
    assert options_of(response.content) == {
        "carry_over": "positive",
        "opening_balance": "yes" if on else "no",
    }
    assert has_opening_inputs(response.content) is on


def test_the_forms_options_reach_the_budget_of_the_set_and_no_other_workbook(client):
    data = {"workbook": "all", "year": "2031", "option": ["carry_over=none", "opening_balance=yes"]}
    response = client.post("/make", data=data)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert options_of(archive.read("budget.xlsx")) == {"carry_over": "none", "opening_balance": "yes"}
        assert has_opening_inputs(archive.read("budget.xlsx"))
    # One workbook without options: the page's budget options do not stop it.
    assert client.post("/make", data={"workbook": "calendar", "option": ["opening_balance=yes"]}).status_code == 200


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("opening_balance=maybe", "option opening_balance must be one of no, yes, not &#39;maybe&#39;"),
        (
            "carry_over=<b>x</b>",
            "option carry_over must be one of signed, positive, none, not &#39;&lt;b&gt;x&lt;/b&gt;&#39;",
        ),
        ("no-equals-sign", "option wants KEY=VALUE, not &#39;no-equals-sign&#39;"),
        ("colour=red", "blueprint budget has no option &#39;colour&#39;"),
    ],
)
def test_a_bad_option_shows_the_form_again_with_the_reason(client, option, message):
    page = client.post("/make", data={"workbook": "budget", "option": [option], "lang": "fi"})
    assert page.status_code == 422 and '<html lang="fi">' in page.text
    assert message in page.text


def test_the_form_keeps_the_options_chosen_when_it_comes_back(client):
    data = {"workbook": "budget", "year": "20x1", "option": ["carry_over=none", "opening_balance=yes"]}
    page = client.post("/make", data=data)
    assert page.status_code == 422
    assert 'value="opening_balance=yes" checked' in page.text
    assert '<option value="carry_over=none" selected>' in page.text


@pytest.mark.parametrize("value", [True, "yes"])
def test_api_generate_with_options(client, value):
    body = {"workbook": "budget", "year": 2031, "options": {"opening_balance": value, "carry_over": "none"}}
    response = client.post("/api/v1/generate", json=body)
    assert response.status_code == 200
    assert options_of(response.content) == {"carry_over": "none", "opening_balance": "yes"}
    assert has_opening_inputs(response.content)
    off = client.post("/api/v1/generate", json={"workbook": "budget", "options": {"opening_balance": False}})
    assert off.status_code == 200 and not has_opening_inputs(off.content)
    assert options_of(off.content)["opening_balance"] == "no"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"workbook": "budget", "options": {"opening_balance": "maybe"}},
            "option opening_balance must be one of no, yes",
        ),
        ({"workbook": "calendar", "options": {"opening_balance": True}}, "blueprint calendar has no option"),
        ({"workbook": "all", "options": {"colour": "red"}}, "no built-in blueprint has an option 'colour'"),
    ],
)
def test_api_generate_refuses_a_bad_option(client, body, detail):
    response = client.post("/api/v1/generate", json=body)
    assert response.status_code == 422
    assert detail in response.json()["error"]["detail"]


def test_api_generate_refuses_an_option_that_is_not_text_or_a_boolean(client):
    for value in ([1, 2], 1, None):
        response = client.post("/api/v1/generate", json={"workbook": "budget", "options": {"opening_balance": value}})
        assert response.status_code == 422, value
