"""Runner: every item handed back once, with its result or its exception, a few items at a time."""

from __future__ import annotations

import os

import pytest

from smm_sheets.agency.runner import Runner, available_cores

LOCAL_WINDOW = 4  # items in flight per local worker process (Runner._local)


def half(number: int) -> float:
    """A job that fails for one item (module level, so that worker processes can unpickle it)."""
    if number == 3:
        raise ValueError("three")
    return number / 2


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_item_comes_back_once_with_its_result_or_its_exception(jobs):
    outcomes = list(Runner(jobs).map_unordered(half, range(12)))
    assert sorted(item for item, _ in outcomes) == list(range(12))
    by_item = dict(outcomes)
    assert isinstance(by_item.pop(3), ValueError)
    assert all(result == item / 2 for item, result in by_item.items())


def test_items_are_drawn_as_results_come_back():
    drawn = []

    def items():
        for number in range(40):
            drawn.append(number)
            yield number

    for returned, _ in enumerate(Runner(2).map_unordered(half, items()), start=1):
        assert len(drawn) - returned < LOCAL_WINDOW * 2
    assert len(drawn) == 40


def test_available_cores():
    assert 1 <= available_cores() <= (os.cpu_count() or 1)
    assert Runner().jobs == available_cores() and Runner(0).jobs == available_cores()
