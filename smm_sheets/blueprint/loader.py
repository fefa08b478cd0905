"""Find and load blueprint files (YAML) and their texts into the model, strictly.

The entry of the blueprint stage: :func:`load` and :func:`loads` run
:func:`~smm_sheets.blueprint.source.parse_yaml` (YAML with lines), then
:func:`~smm_sheets.blueprint.reader.read` (the shape, into the model), then
:func:`~smm_sheets.blueprint.validate.validate` (the semantics, on the model). Every mistake is
one :class:`~smm_sheets.errors.BlueprintError` naming the file, the line and the key path: an
unknown key, a wrong type, a duplicate id, a label or list that does not exist, a formula that
names an item that does not exist or that depends on itself.

The texts people read live in per-language catalogs (:mod:`smm_sheets.blueprint.catalogs`); a
blueprint of your own may also carry its texts inline (``labels: {en: ...}``). The catalogs'
names are re-exported here, where callers have always found them.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from smm_sheets.blueprint.catalogs import (
    BUILTIN_DIR,
    CATALOG_DIR,
    COMMON_SECTION,
    FURNITURE_LABELS,
    catalog_path,
    catalogs,
    default_texts,
    load_channel_names,
    shipped_key,
)
from smm_sheets.blueprint.model import Blueprint
from smm_sheets.blueprint.source import SourceLines, Text, cached, parse_yaml
from smm_sheets.errors import BlueprintError

__all__ = [
    "BUILTIN_DIR",
    "CATALOG_DIR",
    "COMMON_SECTION",
    "FURNITURE_LABELS",
    "MAX_BLUEPRINT_BYTES",
    "Text",
    "builtin_blueprints",
    "catalog_path",
    "catalogs",
    "default_texts",
    "load",
    "load_channel_names",
    "loads",
    "resolve",
]

MAX_BLUEPRINT_BYTES = 1_000_000


def builtin_blueprints() -> list[Path]:
    """The blueprint files shipped with smm-sheets, by file name."""
    return sorted(p for p in BUILTIN_DIR.glob("*.yaml") if not p.name.startswith("_"))


def resolve(name_or_path: str) -> Path:
    """The file of a built-in blueprint id, or the path a user gave.

    Raises:
        BlueprintError: neither a built-in id nor an existing file.
    """
    builtin = BUILTIN_DIR / f"{name_or_path}.yaml"
    if re.fullmatch(r"[a-z][a-z0-9_-]*", name_or_path) and builtin.is_file():
        return builtin
    path = Path(name_or_path)
    if path.is_file():
        return path
    known = ", ".join(p.stem for p in builtin_blueprints())
    raise BlueprintError(name_or_path, "", f"no such blueprint or file (built-in: {known})")


def load(name_or_path: str | Path) -> Blueprint:
    """Load and check one blueprint.

    Args:
        name_or_path: a built-in blueprint id such as ``budget`` or a path to a YAML file.

    Returns:
        The blueprint.

    Raises:
        BlueprintError: the first mistake found, with file, line and key path.
    """
    path = resolve(str(name_or_path)) if not isinstance(name_or_path, Path) else name_or_path
    source = str(path)
    try:
        if not path.is_file():  # a FIFO blocks, /dev/zero never ends
            raise BlueprintError(source, "", "not a regular file; not read")
        if path.stat().st_size > MAX_BLUEPRINT_BYTES:
            raise BlueprintError(source, "", f"file is larger than {MAX_BLUEPRINT_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BlueprintError(source, "", f"cannot read: {getattr(error, 'strerror', None) or error}") from None
    return loads(text, source)


def loads(text: str, source: str = "<string>") -> Blueprint:
    """Load and check a blueprint from YAML text.

    Args:
        text: the blueprint's YAML.
        source: names it in error messages; a built-in's path makes its catalog section checked
            for unused texts.

    Returns:
        The blueprint, its texts plain ``str``. Kept in the user's cache folder, by the text, the
        source and the catalogs: the same text is read and checked once.

    Raises:
        BlueprintError: the first mistake found, with file, line and key path.
    """
    key = source.encode() + b"\0" + text.encode() + b"\0" + shipped_key()
    return cached("blueprint", key, lambda: _loads(text, source))


def _loads(text: str, source: str) -> Blueprint:
    from smm_sheets.blueprint import reader, validate  # here: a blueprint from the cache needs neither

    data, lines = parse_yaml(text, source)
    where = SourceLines(source, lines)
    blueprint = reader.read(data, where)
    used = validate.validate(blueprint, where)
    # The model holds plain text: cells compare values by type.
    languages = {
        language: {key: str(text) for key, text in labels.items()} for language, labels in blueprint.labels.items()
    }
    return dataclasses.replace(blueprint, labels=languages, label_keys=used)
