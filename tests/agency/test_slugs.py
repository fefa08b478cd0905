"""Client folder names: readable, safe on every file system, never two alike in one run."""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smm_sheets.agency.slugs import RESERVED_NAMES, SLUG_MAX, client_slug, numbered_slug
from smm_sheets.agency.state import State


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Nordic Knitwear Oy", "nordic-knitwear-oy"),
        ("Rīgas Kafija SIA", "rīgas-kafija-sia"),
        ("Охридски Бисер ДООЕЛ", "охридски-бисер-дооел"),
        ("Trollstigen Turisthytte AS", "trollstigen-turisthytte-as"),
        ("../../etc/passwd", "etc-passwd"),
        ("..", "client"),
        ("CON", "con-client"),
        ("lpt¹", "lpt1-client"),
        ("Ｆｕｌｌｗｉｄｔｈ　Ｃｏ", "fullwidth-co"),
        ("Straße", "strasse"),
        ("A" * 80, "a" * 60),
    ],
)
def test_client_slug_examples(name, expected):
    assert client_slug(name) == expected


def _is_safe(slug: str) -> bool:
    return (
        1 <= len(slug) <= SLUG_MAX
        and slug == slug.strip("-.")
        and slug not in RESERVED_NAMES
        and unicodedata.normalize("NFC", slug) == slug
        # casefold() may decompose (ῶ -> ω + ͂): case-folded means equal once composed again
        and unicodedata.normalize("NFC", slug.casefold()) == slug
        and len(slug.encode("utf-8")) <= 240
        and all(c == "-" or unicodedata.category(c)[0] in "LNM" for c in slug)
    )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_every_slug_is_safe(name):
    slug = client_slug(name)
    assert _is_safe(slug), slug
    assert "/" not in slug and "\\" not in slug and "." not in slug and "\x00" not in slug
    assert client_slug(slug) == slug  # a slug names itself
    assert client_slug(unicodedata.normalize("NFD", name)) == slug  # how macOS hands names back


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["Acme", "ACME", "acme 2", "Acme-2", "Ａｃｍｅ", "Ácme", "Ácme", "CON", "", "..", "x" * 70, "x" * 71]
        ),
        max_size=30,
    )
    | st.lists(st.text(max_size=70), max_size=30)
)
def test_claimed_slugs_never_collide(names):
    with tempfile.TemporaryDirectory() as folder:
        state = State(Path(folder))
        try:
            slugs = [state.claim(client_slug(name)) for name in names]
        finally:
            state.close()
    assert all(_is_safe(slug) for slug in slugs), slugs
    folded = {unicodedata.normalize("NFD", s).casefold() for s in slugs}  # case-insensitive, normalising file systems
    assert len(folded) == len(slugs), slugs
    with tempfile.TemporaryDirectory() as folder:  # the same names in the same order: the same folders
        state = State(Path(folder))
        try:
            assert [state.claim(client_slug(name)) for name in names] == slugs
        finally:
            state.close()


@pytest.mark.parametrize(
    "base, number, expected",
    [
        ("acme", 2, "acme-2"),
        ("x" * 60, 12, "x" * 57 + "-12"),
        ("a" + "-" * 58 + "b", 3, "a-3"),  # no "--3" where the cut falls among dashes
        ("con" + "-" * 57, 2, "con-client-2"),
    ],
)
def test_numbered_slug_stays_within_the_limit(base, number, expected):
    assert numbered_slug(base, number) == expected and len(expected) <= SLUG_MAX
