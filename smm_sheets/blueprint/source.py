"""YAML read with the line of every key, and the key paths that name places in it.

Owns what the reader, the checks and the catalogs share about a file: :func:`parse_yaml`
(plain data plus a line per key path), :class:`Text` (a label's text that remembers where it was
written), :class:`SourceLines` (raises a :class:`~smm_sheets.errors.BlueprintError` at a key
path, with the nearest known line) and the dotted spelling of key paths; and :func:`cached`, which
keeps what was made from these files (checked blueprints, catalogs) in the user's cache folder.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from smm_sheets.errors import BlueprintError

Made = TypeVar("Made")

KeyPath = tuple  # a key path: ("sheets", 0, "blocks", 2, "measures", 1, "formula")

_STR_TAG = "tag:yaml.org,2002:str"


class Text(str):
    """A label's text that remembers where it was written: file, key path and line."""

    source: str
    path: str
    line: int | None

    def __new__(cls, text: str, source: str, path: str, line: int | None) -> Text:
        made = super().__new__(cls, text)
        made.source, made.path, made.line = source, path, line
        return made

    def __getnewargs__(self) -> tuple[str, str, str, int | None]:  # pickled by the cache
        return str(self), self.source, self.path, self.line


@dataclass(frozen=True)
class SourceLines:
    """A parsed file's name and the line of each key path: where a mistake is."""

    source: str
    lines: dict[KeyPath, int]

    def line(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of its nearest parent with a known line.

        Args:
            path: a key path into the file.

        Returns:
            A line number from 1, or None when not even the root has one.
        """
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return None

    def fail(self, path: KeyPath, message: str) -> NoReturn:
        """Raise the mistake ``message`` at ``path``.

        Raises:
            BlueprintError: always, naming the file, the dotted key path and the line.
        """
        raise BlueprintError(self.source, dotted(path), message, self.line(path))


def parse_yaml(text: str, source: str) -> tuple[Any, dict[KeyPath, int]]:
    """YAML to plain data, plus the line of every key path. Aliases are refused (YAML bombs).

    Args:
        text: the YAML.
        source: the file's name, for error messages.

    Returns:
        The data (mappings with text keys, lists, scalars) and ``{key path: line}``.

    Raises:
        BlueprintError: not YAML, empty, an alias, a key that is not text, a duplicate key.
    """
    import yaml  # here: a run whose blueprints come from the cache does not load it

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    problem = yaml_shape_problem(text, aliases_allowed=True)  # an alias is refused below, with its key path
    if problem is not None:
        raise BlueprintError(source, "", problem[0], problem[1])
    try:
        root = yaml.compose(text, Loader=loader_class)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise BlueprintError(source, "", f"not valid YAML: {problem}", mark.line + 1 if mark else None) from None
    if root is None:
        raise BlueprintError(source, "", "the file is empty")
    constructor = yaml.constructor.SafeConstructor()
    lines: dict[KeyPath, int] = {}
    seen: set[int] = set()  # node ids within this one parse: an alias is a node met twice

    def convert(node: Any, path: KeyPath) -> Any:
        lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in seen:
            raise BlueprintError(source, dotted(path), "YAML aliases are not allowed", node.start_mark.line + 1)
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = constructor.construct_object(key_node)
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    raise BlueprintError(
                        source, dotted(path), f"key {key!r} must be text", key_node.start_mark.line + 1
                    )
                key = str(key)
                if key in result:
                    raise BlueprintError(source, dotted(path + (key,)), "duplicate key", key_node.start_mark.line + 1)
                lines[path + (key,)] = key_node.start_mark.line + 1
                result[key] = convert(value_node, path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [convert(item, path + (index,)) for index, item in enumerate(node.value)]
        if node.tag == _STR_TAG:
            return node.value  # most scalars: skip the (slow, pure-Python) constructor
        return constructor.construct_object(node)

    return convert(root, ()), lines


MAX_YAML_DEPTH = 64  # mappings and lists inside each other
MAX_YAML_NODES = 200_000  # scalars, mappings and lists in one file


def yaml_shape_problem(text: str, aliases_allowed: bool = False) -> tuple[str, int | None] | None:
    """What makes a YAML text too deep, too large or a bomb, before it is built into objects.

    libyaml's event stream is read without recursion, so a file nested 3,000 deep is told
    apart here, before anything recursive (composing, converting) meets it.

    Returns:
        None, or the problem and its line: an alias, more than :data:`MAX_YAML_DEPTH` levels,
        more than :data:`MAX_YAML_NODES` nodes, or not YAML at all (a lone surrogate...).
    """
    import yaml  # here, as in parse_yaml: a run whose blueprints come from the cache does not load it

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth = nodes = 0
    try:
        for event in yaml.parse(text, Loader=loader_class):
            if isinstance(event, yaml.AliasEvent) and not aliases_allowed:
                return "YAML aliases are not allowed", event.start_mark.line + 1
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    return f"nested more than {MAX_YAML_DEPTH} levels deep", event.start_mark.line + 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            if isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                nodes += 1
                if nodes > MAX_YAML_NODES:
                    return f"more than {MAX_YAML_NODES:,} values", event.start_mark.line + 1
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        return f"not valid YAML: {problem}", mark.line + 1 if mark else None
    except (UnicodeError, ValueError) as error:
        return f"not valid YAML: {error}", None
    return None


def dotted(path: KeyPath) -> str:
    """A key path as people write it: ``sheets[0].blocks[2].measures[1].formula``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def kind_of(data: Any) -> str:
    """What a YAML value is, in words, for error messages: ``a mapping``, ``text``, ``nothing``..."""
    if data is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false", int: "a number", float: "a number"}.get(
        type(data), type(data).__name__
    )


# ---------------------------------------------------------------------------- the cache

_CODE = ("blueprint", "formula", "errors.py", "locale_data.py", "sheetref.py", "__init__.py")


def cache_folder() -> Path | None:
    """Where made blueprints and catalogs are kept: ``$XDG_CACHE_HOME/smm-sheets`` (else
    ``~/.cache/smm-sheets``); None when ``SMM_SHEETS_CACHE=off``."""
    if os.environ.get("SMM_SHEETS_CACHE", "").lower() in ("off", "0", "no"):
        return None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):  # the XDG rule: a relative path is to be ignored
        home = os.path.expanduser("~")
        if not os.path.isabs(home):  # no home folder: no cache, never one in the current folder
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "smm-sheets"


def _code_key(names: tuple[str, ...] = _CODE) -> bytes:
    """The Python, and every module whose code shapes what is cached (name, size, time changed)."""
    package = Path(__file__).resolve().parent.parent
    parts = [sys.version]
    for name in names:
        path = package / name
        for module in sorted(path.glob("*.py")) if path.is_dir() else [path]:
            stat = module.stat()
            parts.append(f"{module.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(parts).encode()


_code_key_made: list[bytes] = []


def cached(kind: str, key: bytes, make: Callable[[], Made], code: tuple[str, ...] = ()) -> Made:
    """``make()``, kept in the cache folder under a digest of ``key`` (the content it is made
    from) and of the code that makes it: a changed file or module makes it again.

    Args:
        kind: names the entry's file (``blueprint``, ``catalogs``...).
        key: the content it is made from.
        make: makes it.
        code: modules (paths inside the package) that shape it besides ``blueprint/``,
            ``formula/`` and the shared modules, e.g. ``("analyser/messages.py",)``.

    A cache that cannot be read or written is no cache: the result is made, never an error.
    Entries are written whole (a temporary file, then a rename); what ``make`` raises is not kept.
    """
    folder = cache_folder()
    if folder is None:
        return make()
    if not _code_key_made:
        _code_key_made.append(_code_key())
    extra = _code_key(code) if code else b""
    digest = hashlib.sha256(_code_key_made[0] + extra + b"\0" + kind.encode() + b"\0" + key).hexdigest()
    path = folder / f"{kind}-{digest[:40]}.pickle"
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except FileNotFoundError:
        pass
    except Exception:
        pass
    made = make()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{kind}-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(made, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError):
        pass  # an unwritable cache folder: the next run makes it again
    return made
