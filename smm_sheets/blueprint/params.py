"""Generation parameters: what fills a blueprint (company, year, months, currency, channels...)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from smm_sheets.blueprint.catalogs import default_texts  # the catalogs hold the default names
from smm_sheets.errors import ParameterError
from smm_sheets.locale_data import LANGUAGES, known_currency

DEFAULT_CHANNELS = ("instagram", "facebook")
# A workbook has a row or a column per channel and per team member: keep them to what a plan has.
MAX_NAMES = {"channels": 30, "team": 100, "goals": 100}
DEFAULT_TEAM = ("Owner",)  # Parameters made directly; make_parameters takes the language's
# make_parameters without a company: the language's default name ("Your company", "Oma yritys").
DEFAULT_COMPANY: str = type("_DefaultCompany", (str,), {})()
_CHANNEL_NAME = re.compile(r"^[^\W_][\w .&+'-]{0,29}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Channel:
    """A social channel: ``id`` names things in the workbook, ``name`` is shown to people."""

    id: str
    name: str


@dataclass(frozen=True)
class Parameters:
    company: str
    year: int
    start_month: int
    currency: str
    channels: tuple[Channel, ...]
    team: tuple[str, ...] = DEFAULT_TEAM
    language: str = "en"
    sample: bool = False
    options: dict[str, str] = field(default_factory=dict)
    # The strategy's goals, so that other workbooks offer them in dropdowns.
    goals: tuple[str, ...] = ()

    def months(self) -> list[tuple[int, int]]:
        """The twelve (year, month) pairs of the plan, from the start month on."""
        return [(self.year + (self.start_month - 1 + i) // 12, (self.start_month - 1 + i) % 12 + 1) for i in range(12)]


def make_parameters(
    company: str = DEFAULT_COMPANY,
    year: int | None = None,
    start_month: int = 1,
    currency: str = "EUR",
    channels: list[str] | tuple[str, ...] | str | None = None,
    team: list[str] | tuple[str, ...] | str | None = None,
    sample: bool = False,
    options: dict[str, str | bool] | None = None,
    channel_names: dict[str, str] | None = None,
    goals: list[str] | tuple[str, ...] | str | None = None,
    language: str = "en",
) -> Parameters:
    """Check and normalise generation parameters.

    Args:
        channels: names or a comma-separated string; well-known ids (``instagram``) get their
            display name from ``channel_names``, any other name is used as given.
        team: people or roles, the same way.
        language: the workbook's language (``en``, ``fi``, ``lv``, ``mk``, ``nb``); without a
            company or team, their defaults are in that language ("Oma yritys").
        options: blueprint options, e.g. ``{"carry_over": "positive", "opening_balance": True}``
            (a boolean is the option's "yes" or "no").

    Raises:
        ParameterError: one clear line saying which value is wrong.
    """
    if not isinstance(language, str) or language.strip().lower() not in LANGUAGES:
        raise ParameterError(f"unknown language {language!r}: use one of {', '.join(LANGUAGES)}")
    language = language.strip().lower()
    if company is DEFAULT_COMPANY or team is None:
        defaults = default_texts(language)
        company = defaults["company"] if company is DEFAULT_COMPANY else company
        team = (defaults["team"],) if team is None else team
    company = _text("company", company, 100)
    year = date.today().year if year is None else year
    if not _is_int(year):
        raise ParameterError(f"year must be a whole number such as 2027, not {_shown(year)}")
    if not 2000 <= year <= 2100:
        raise ParameterError(f"year must be between 2000 and 2100, not {_shown(year)}")
    if not _is_int(start_month) or not 1 <= start_month <= 12:
        raise ParameterError(f"start month must be 1-12, not {_shown(start_month)}")
    if not isinstance(currency, str):
        raise ParameterError(f"currency must be a code such as EUR, not {currency!r}")
    options = option_values(options)
    code = currency.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code) or not known_currency(code):
        raise ParameterError(f"unknown currency {currency!r}: use an ISO 4217 code such as EUR, USD or NOK")
    return Parameters(
        company=company,
        year=year,
        start_month=start_month,
        currency=code,
        channels=_channels(DEFAULT_CHANNELS if channels is None else channels, channel_names or {}),
        team=tuple(_names("team", team)),
        language=language,
        sample=bool(sample),
        options=dict(options or {}),
        goals=tuple(_names("goals", goals)) if goals else (),
    )


def option_values(options: object) -> dict[str, str]:
    """Blueprint options as names to values; ``True``/``False`` are ``"yes"``/``"no"``.

    The one conversion for every way in: the Python API, a parameters file (YAML reads an
    unquoted yes/no as a boolean), the CLI's ``--option`` and the web. Whether an option exists
    and the value is one of its choices is checked against the blueprint when it is built.

    Raises:
        ParameterError: not a mapping of names to text or booleans.
    """
    if options is None:
        return {}
    if not isinstance(options, dict) or not all(
        isinstance(k, str) and isinstance(v, (str, bool)) for k, v in options.items()
    ):
        raise ParameterError("options must map option names to values, e.g. carry_over: positive")
    return {key: ("yes" if value else "no") if isinstance(value, bool) else value for key, value in options.items()}


def option_pairs(items: list[str] | tuple[str, ...], what: str = "--option") -> dict[str, str]:
    """Options written ``KEY=VALUE`` (the CLI's ``--option``, the web form's ``option`` fields).

    Raises:
        ParameterError: an item without ``=`` or without a name.
    """
    options: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"{what} wants KEY=VALUE, not {_shown(item)}")
        options[key.strip()] = value.strip()
    return options


def _shown(value: object) -> str:
    """A value as a message shows it: at most 40 characters (a year of 400 digits is cut)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}... ({len(text):,} characters)"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(what: str, value: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ParameterError(f"{what} must be text, not {value!r}")
    value = value.strip()
    if not value:
        raise ParameterError(f"{what} must not be empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: from a broken command line or file name
        raise ParameterError(f"{what} holds a character that is not text (a lone surrogate)") from None
    if len(value) > limit or _CONTROL.search(value):
        raise ParameterError(f"{what} must be at most {limit} printable characters")
    return value


def _names(what: str, values: list[str] | tuple[str, ...] | str) -> list[str]:
    if not isinstance(values, (str, list, tuple)):
        raise ParameterError(f"{what} must be a list of names or a comma-separated text, not {values!r}")
    items = values.split(",") if isinstance(values, str) else list(values)
    names = [_text(what, item, 60) for item in items if not isinstance(item, str) or item.strip()]
    if not names:
        raise ParameterError(f"{what} must name at least one entry")
    if len(names) > MAX_NAMES[what]:
        raise ParameterError(f"{what} may name at most {MAX_NAMES[what]} entries, not {len(names)}")
    seen: set[str] = set()
    for name in names:
        if name.casefold() in seen:
            raise ParameterError(f"{what} names {name!r} twice")
        seen.add(name.casefold())
    return names


def slug(name: str) -> str:
    """A lower-case ASCII identifier made of a display name: ``"X (Twitter)"`` -> ``"x_twitter"``,
    ``"Kylä-lehti"`` -> ``"kyla_lehti"`` (accents dropped).

    A name with letters or digits that have no ASCII form (``Мастодон``, ``微博``, ``Ελληνικά``)
    gets a short digest of itself added, so that two different names never give one id
    (``c_1b2c3d4e``).
    """
    folded = unicodedata.normalize("NFKC", name.casefold()).strip()
    plain = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    base = re.sub(r"[^a-z0-9]+", "_", plain).strip("_")
    if not any(c.isalnum() and not c.isascii() for c in plain):
        return base
    digest = hashlib.sha256(folded.encode("utf-8")).hexdigest()[:8]
    return f"{base}_{digest}" if base else f"c_{digest}"


def _channels(values: list[str] | tuple[str, ...] | str, known: dict[str, str]) -> tuple[Channel, ...]:
    channels = []
    for name in _names("channels", values):
        if not _CHANNEL_NAME.match(name):
            raise ParameterError(
                f"channel {name!r} must start with a letter or digit and use at most 30 letters, digits, spaces or .&+'-"
            )
        key = slug(name)
        channels.append(Channel(key, known.get(key, name)))
    if len({c.id for c in channels}) != len(channels):
        raise ParameterError("channels name the same channel twice")
    return tuple(channels)
