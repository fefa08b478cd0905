"""Writing a parsed template as the Excel formula text of one cell."""

from __future__ import annotations

from collections.abc import Callable


def to_a1(tree: tuple, resolve: Callable[[str, str | None], str]) -> str:
    """Write the Excel formula text (without ``=``) of a parsed template.

    Args:
        tree: a tree from :func:`parse`.
        resolve: maps ``(name, modifier)`` to the A1 text of the cell or range it means here.

    Returns:
        The formula text: the template's structure and parentheses, its spaces left out.
    """
    kind = tree[0]
    if kind == "num":
        return tree[2]
    if kind == "str":
        return '"' + tree[1].replace('"', '""') + '"'
    if kind == "bool":
        return "TRUE" if tree[1] else "FALSE"
    if kind == "ref":
        return resolve(tree[1], tree[2])
    if kind == "bin":
        return to_a1(tree[2], resolve) + tree[1] + to_a1(tree[3], resolve)
    if kind == "neg":
        return "-" + to_a1(tree[1], resolve)
    if kind == "pos":
        return "+" + to_a1(tree[1], resolve)
    if kind == "paren":
        return "(" + to_a1(tree[1], resolve) + ")"
    return tree[1] + "(" + ",".join(to_a1(arg, resolve) for arg in tree[2]) + ")"
