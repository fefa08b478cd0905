"""The pages, rendered on the server by Jinja2 with autoescape on: whatever a file or a form
holds (``<script>``, ``=HYPERLINK(...)``, right-to-left marks) is shown as text."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from smm_sheets import __version__
from smm_sheets.web import charts, i18n

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(version=__version__, language_names=i18n.NAMES, languages=list(i18n.NAMES))
    env.filters.update(number=charts.number, percent=charts.percent)
    return env


def render(template: str, language: str, **context: Any) -> str:
    """The page ``template`` in ``language``; ``t`` in the template is that language's texts."""
    return environment().get_template(template).render(lang=language, t=i18n.Texts(language), **context)


def svg(markup: str) -> Markup:
    """A chart from :mod:`smm_sheets.web.charts` (which escapes every text it draws), to insert as is."""
    return Markup(markup)
