"""Client folder names: :func:`client_slug` makes a name safe on every file system, and
:func:`numbered_slug` tells apart two clients whose names give one slug (``acme-2``...).
"""

from __future__ import annotations

import unicodedata

SLUG_MAX = 60
# Names Windows refuses for a file or folder, whatever the extension.
RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
)


def client_slug(name: str) -> str:
    """A folder name made of a client's name, safe on every file system and still readable.

    Letters and digits of any script are kept (NFKC-normalised and case-folded: ``Ziemeļu
    Adījumi SIA`` -> ``ziemeļu-adījumi-sia``, ``Вез ДООЕЛ`` -> ``вез-дооел``); anything else
    becomes ``-``. No dots, separators or control characters survive; at most 60 characters;
    Windows' reserved names (``con``, ``lpt1``...) get ``-client`` added; an empty result is
    ``client``. Two names may give one slug: :meth:`smm_sheets.agency.state.State.claim` tells them apart.
    """
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    kept: list[str] = []
    for char in text:
        kind = unicodedata.category(char)[0]
        if kind in "LN" or (kind == "M" and kept and kept[-1] != "-"):
            kept.append(char)
        elif kept and kept[-1] != "-":
            kept.append("-")
    return _finish_slug("".join(kept))


def _finish_slug(text: str, limit: int = SLUG_MAX) -> str:
    text = text[:limit].strip("-")
    while text and unicodedata.category(text[0])[0] == "M":  # a mark with its letter cut off
        text = text[1:].lstrip("-")
    if not text:
        return "client"
    if text in RESERVED_NAMES:
        return f"{text}-client"
    return text


def numbered_slug(base: str, number: int) -> str:
    """``base`` with ``-<number>`` added, shortened first so that the whole stays within :data:`SLUG_MAX`."""
    suffix = f"-{number}"
    return _finish_slug(base, SLUG_MAX - len(suffix)) + suffix
