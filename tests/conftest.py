"""Shared fixtures: the built-in budget blueprint and parameters made the way the CLI makes them."""

from __future__ import annotations

import dataclasses

import pytest

from smm_sheets.blueprint import loader
from smm_sheets.blueprint.params import make_parameters
from tests.libreoffice import soffice  # noqa: F401 - the LibreOffice fixture, for every test module

LIBREOFFICE_FIXTURES = {"soffice", "soffice_uno"}


def pytest_collection_modifyitems(items):
    """Mark every test that starts LibreOffice, so that ``-m "not libreoffice"`` leaves it out."""
    for item in items:
        if LIBREOFFICE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.libreoffice)


@pytest.fixture(scope="session")
def budget():
    return loader.load("budget")


def params(**values):
    """Parameters with test defaults; keyword arguments override them."""
    values = {"company": "Acme", "year": 2027, "channels": "instagram,facebook", **values}
    return make_parameters(channel_names=loader.load_channel_names(), **values)


def with_samples(blueprint, **samples):
    """The blueprint with other sample values for some fields (questions, columns, measures)."""

    def patch(block):
        key = next((k for k in ("questions", "columns", "measures") if hasattr(block, k)), None)
        if key is None:
            return block
        fields = tuple(
            dataclasses.replace(f, sample=samples[f.id]) if f.id in samples else f for f in getattr(block, key)
        )
        return dataclasses.replace(block, **{key: fields})

    sheets = tuple(dataclasses.replace(s, blocks=tuple(patch(b) for b in s.blocks)) for s in blueprint.sheets)
    return dataclasses.replace(blueprint, sheets=sheets)
