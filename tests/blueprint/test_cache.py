"""Blueprints and catalogs kept in the user's cache folder, by content."""

from __future__ import annotations

import pickle
import shutil

import pytest

from smm_sheets.blueprint import loader, source
from smm_sheets.blueprint.source import Text, cached

BUDGET = (loader.BUILTIN_DIR / "budget.yaml").read_text(encoding="utf-8")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("SMM_SHEETS_CACHE", raising=False)
    return tmp_path / "smm-sheets"


def _counting(monkeypatch):
    made = []
    real = loader._loads

    def counting(text, where):
        made.append(where)
        return real(text, where)

    monkeypatch.setattr(loader, "_loads", counting)
    return made


def test_a_blueprint_is_read_once_and_again_when_its_text_changes(cache, monkeypatch):
    made = _counting(monkeypatch)
    first = loader.loads(BUDGET, "budget.yaml")
    again = loader.loads(BUDGET, "budget.yaml")
    assert made == ["budget.yaml"] and again == first
    assert len(list(cache.glob("blueprint-*.pickle"))) == 1
    changed = loader.loads(BUDGET.replace("version:", "version: ", 1), "budget.yaml")
    assert made == ["budget.yaml", "budget.yaml"] and changed == first


def test_a_mistake_is_not_kept(cache, monkeypatch):
    made = _counting(monkeypatch)
    for _ in range(2):
        with pytest.raises(Exception, match="bad.yaml"):
            loader.loads("id: [", "bad.yaml")
    assert len(made) == 2 and not list(cache.glob("blueprint-*.pickle"))


def test_a_damaged_entry_is_made_again(cache, monkeypatch):
    expected = loader.loads(BUDGET, "budget.yaml")
    for entry in cache.glob("blueprint-*.pickle"):
        entry.write_bytes(b"not a pickle")
    made = _counting(monkeypatch)
    assert loader.loads(BUDGET, "budget.yaml") == expected and made == ["budget.yaml"]


def test_an_unwritable_cache_is_no_cache(tmp_path, monkeypatch):
    (tmp_path / "smm-sheets").write_text("a file where the folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cached("thing", b"key", lambda: 42) == 42
    assert cached("thing", b"key", lambda: 43) == 43


def test_the_cache_can_be_turned_off(cache, monkeypatch):
    monkeypatch.setenv("SMM_SHEETS_CACHE", "off")
    assert cached("thing", b"key", lambda: 1) == 1 and not cache.exists()


def test_entries_are_kept_by_key(cache):
    assert cached("thing", b"one", lambda: 1) == 1
    assert cached("thing", b"one", lambda: 2) == 1
    assert cached("thing", b"two", lambda: 3) == 3
    assert not list(cache.glob(".*.tmp"))  # written whole, then renamed


def test_a_text_keeps_where_it_was_written_through_the_cache():
    text = Text("Planned", "budget.yaml", "labels.planned", 12)
    back = pickle.loads(pickle.dumps(text))
    assert back == "Planned" and (back.source, back.path, back.line) == ("budget.yaml", "labels.planned", 12)
    assert source.cache_folder() is not None


def test_no_home_folder_is_no_cache(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(source.os.path, "expanduser", lambda path: path)
    assert source.cache_folder() is None
    assert cached("thing", b"key", lambda: 5) == 5 and not list(tmp_path.iterdir())


def test_the_finding_catalogs_are_read_once_and_again_when_one_changes(cache, tmp_path, monkeypatch):
    from smm_sheets.analyser import messages

    folder = tmp_path / "i18n"
    shutil.copytree(messages.CATALOG_DIR, folder)
    monkeypatch.setattr(messages, "CATALOG_DIR", folder)
    read = []
    real = messages._read_catalogs
    monkeypatch.setattr(messages, "_read_catalogs", lambda texts: read.append(1) or real(texts))
    try:
        messages.catalogs.cache_clear()
        first = messages.catalogs()
        messages.catalogs.cache_clear()
        assert messages.catalogs() == first and len(read) == 1  # the second from the cache
        assert len(list(cache.glob("findings-*.pickle"))) == 1
        english = folder / "en.yaml"
        english.write_text(english.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
        messages.catalogs.cache_clear()
        assert messages.catalogs() == first and len(read) == 2
    finally:
        messages.catalogs.cache_clear()


def test_the_code_named_is_part_of_the_key(cache, tmp_path, monkeypatch):
    assert cached("thing", b"key", lambda: 1, code=("analyser/messages.py",)) == 1
    assert cached("thing", b"key", lambda: 2, code=("analyser/messages.py",)) == 1
    assert cached("thing", b"key", lambda: 3) == 3  # without that module in the key: another entry
