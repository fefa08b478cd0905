"""Shared fixtures: the built-in budget blueprint and parameters made the way the CLI makes them."""

from __future__ import annotations

import pytest

from smm_sheets import loader
from smm_sheets.params import make_parameters


@pytest.fixture(scope="session")
def budget():
    return loader.load("budget")


def params(**values):
    """Parameters with test defaults; keyword arguments override them."""
    values = {"company": "Acme", "year": 2027, "channels": "instagram,facebook", **values}
    return make_parameters(channel_names=loader.load_channel_names(), **values)
