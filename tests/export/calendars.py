"""Calendars with chosen posts, written by the generator, for the export tests.

A post is a dict of field ids: ``day`` (days after 2027-01-01), ``time`` ("HH:MM"), ``zone``,
``channel`` and ``status`` (list indexes, or text typed as it is), ``caption`` and any other
column of the posts table; every other input of the table is left blank.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from smm_sheets.blueprint import loader
from smm_sheets.blueprint.model import Table
from smm_sheets.generator.pipeline import generate
from tests.conftest import params, with_samples

YEAR = 2027
FIRST_DAY = dt.date(YEAR, 1, 1)
CHANNELS = "instagram,facebook,x"  # 0 Instagram (2,200 characters), 1 Facebook, 2 X (280)
TEAM = "Aino,Mikko,+1 Agency"
ZONES = {"helsinki": 0, "riga": 1, "skopje": 2, "oslo": 3, "utc": 4}
STATUS = {"idea": 0, "draft": 1, "in_review": 2, "scheduled": 3, "published": 4}
NEW_COLUMNS = ("hashtags", "first_comment", "alt_text", "media_urls", "approver", "approved_on", "published_url")


def post_columns(blueprint) -> list:
    table = next(b for s in blueprint.sheets for b in s.blocks if isinstance(b, Table) and b.id == "posts")
    return [c for c in table.columns if not c.formula]


def fraction(hhmm: str) -> float:
    hours, minutes = hhmm.split(":")
    return (int(hours) * 60 + int(minutes)) / 1440


def samples_for(posts: list[dict], blueprint) -> dict:
    """Sample lists for every input column of the posts table (blank where a post says nothing)."""
    renames = {
        "day": "post_date",
        "time": "post_time",
        "zone": "time_zone",
        "channel": "post_channel",
        "status": "post_status",
    }
    samples: dict[str, list] = {c.id: [None] * len(posts) for c in post_columns(blueprint)}
    for i, post in enumerate(posts):
        for key, value in post.items():
            name = renames.get(key, key)
            if name not in samples and name in NEW_COLUMNS:
                continue  # a calendar of version 1.0 has no such column
            if key == "time" and value is not None:
                value = fraction(value)
            elif key == "zone" and isinstance(value, str) and value in ZONES:
                value = ZONES[value]
            elif key == "status" and isinstance(value, str) and value in STATUS:
                value = STATUS[value]
            samples[name][i] = value
    return samples


def write_calendar(folder: Path, posts: list[dict], *, language: str = "en", blueprint=None, **values) -> Path:
    """``folder/calendar.xlsx`` holding ``posts`` (folder is created)."""
    folder.mkdir(parents=True, exist_ok=True)
    blueprint = blueprint or loader.load("calendar")
    chosen = with_samples(blueprint, **samples_for(posts, blueprint))
    parameters = {"company": "Nordic Knitwear Oy", "year": YEAR, "channels": CHANNELS, "team": TEAM} | values
    return generate(chosen, params(sample=True, language=language, **parameters), folder, force=True)


def calendar_1_0():
    """The calendar blueprint as version 1.0 had it: without the scheduler columns."""
    blueprint = loader.load("calendar")

    def strip(block):
        if isinstance(block, Table) and block.id == "posts":
            return dataclasses.replace(block, columns=tuple(c for c in block.columns if c.id not in NEW_COLUMNS))
        return block

    sheets = tuple(dataclasses.replace(s, blocks=tuple(strip(b) for b in s.blocks)) for s in blueprint.sheets)
    return dataclasses.replace(blueprint, version="1.0", sheets=sheets)
