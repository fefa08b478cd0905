"""Fixtures of the web tests: the application under FastAPI's test client, a generated sample set."""

from __future__ import annotations

import tempfile

import pytest
from fastapi.testclient import TestClient

import smm_sheets
from smm_sheets.web.app import create_app


@pytest.fixture(scope="session")
def sample_set(tmp_path_factory):
    """The five sample workbooks (plan year 2031, so that no date check depends on today)."""
    folder = tmp_path_factory.mktemp("sample-set")
    smm_sheets.generate("all", folder, company="Nordic Knitwear Oy", year=2031, sample=True)
    return {path.stem: path for path in sorted(folder.glob("*.xlsx"))}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture()
def no_leftovers(tmp_path, monkeypatch):
    """Every temporary file of a request goes in tmp_path; the test checks it is empty after."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    yield tmp_path
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("smm-web-")] == []
