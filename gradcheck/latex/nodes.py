"""Small pure questions about tree nodes: is it one symbol, an integer, a letter, a layer label, ...?"""

from __future__ import annotations

import dataclasses
from typing import Any

from gradcheck.latex import grammar as g


def _single(node):
    """The one symbol-like node inside a trivial Product / brace group, or None."""
    node = _unwrap(node)
    return node if isinstance(node, (g.Name, g.Command, g.Font, g.Accent, g.Number, g.Factor)) else None


def _unwrap(node):
    """``node`` without single-item Product / brace wrappers."""
    while True:
        if isinstance(node, g.Product) and len(node.items) == 1:
            node = node.items[0]
        elif isinstance(node, g.Group) and node.kind == "{" and len(node.items) == 1:
            node = node.items[0]
        else:
            return node


def _hoist_scripts(base, scripts):
    """``\\hat{y_1}`` and ``{h}^2`` read as ``\\hat{y}_1`` and ``h^2``."""
    inner = _single(base)
    if isinstance(base, g.Group) and inner is not None:
        base = inner
        if isinstance(base, g.Factor):
            base, scripts = base.base, tuple(base.scripts) + tuple(scripts)
    if isinstance(base, (g.Accent, g.Font)):
        body = _single(base.body)
        if isinstance(body, g.Factor):
            base = dataclasses.replace(base, body=body.base)
            scripts = tuple(body.scripts) + tuple(scripts)
    return base, scripts


def _is_one(node) -> bool:
    return isinstance(node, g.Font) and node.font in ("mathbb", "mathbf", "bm", "boldsymbol") \
        and _integer(node.body) == 1


def _plain_name(node) -> str | None:
    node = _single(node)
    return node.text if isinstance(node, g.Name) else None


def _integer(node) -> int | None:
    node = _single(node) if not isinstance(node, g.Number) else node
    if isinstance(node, g.Number) and node.text.isdigit():
        return int(node.text)
    return None


def _neg(node):
    if isinstance(node, g.Sum) and len(node.terms) == 1 and node.terms[0][0] == "-":
        return node.terms[0][1]
    return node


def _is_negative(node) -> bool:
    return isinstance(node, g.Sum) and len(node.terms) == 1 and node.terms[0][0] == "-"


def _letter(node) -> str | None:
    node = _single(node)
    if isinstance(node, g.Name) and len(node.text) == 1:
        return node.text
    return None


def _letters_run(node) -> str | None:
    node = _single(node)
    if isinstance(node, g.Name) and node.text.isalpha():
        return node.text
    if isinstance(node, g.Product) and all(isinstance(i, g.Name) and len(i.text) == 1 for i in node.items):
        return "".join(i.text for i in node.items)
    return None


def _affine(node) -> dict | None:
    """``i+j-1`` -> {"i": 1, "j": 1, 1: -1}; None when it is not a sum of letters and integers."""
    terms = node.terms if isinstance(node, g.Sum) else (("+", node),)
    out: dict = {}
    for sign, t in terms:
        k = 1 if sign == "+" else -1
        value, letter = _integer(t), _letter(t)
        if value is not None:
            out[1] = out.get(1, 0) + k * value
        elif letter is not None:
            out[letter] = out.get(letter, 0) + k
        else:
            return None
    return out


def _label(s: g.Script) -> tuple[str | None, bool, Any]:
    """A layer label in a script: (label, written explicitly as (2) or [2], a trailing transpose script)."""
    if s.kind == "sub" and len(s.items) > 1 and _integer(s.items[0]) is not None:
        return str(_integer(s.items[0])), False, g.Script("sub", tuple(s.items[1:]), s.start, s.end)
    if s.kind == "prime" or len(s.items) != 1:
        return None, False, None
    entry = s.items[0]
    value = _integer(entry)
    if value is not None:
        return str(value), False, None
    node = _unwrap(entry)
    if isinstance(node, g.Group) and node.kind in ("(", "[") and len(node.items) == 1:
        inner = _integer(node.items[0])
        letter = _letter(node.items[0])
        if inner is not None or letter is not None:
            return str(inner if inner is not None else letter), True, None
    entry = _unwrap(entry)
    if isinstance(entry, g.Product) and len(entry.items) == 2 and isinstance(entry.items[0], g.Group) \
            and entry.items[0].kind in ("(", "["):
        label, _, _ = _label(g.Script(s.kind, (entry.items[0],)))
        mark = entry.items[1]
        if label is not None and (isinstance(mark, (g.Name, g.Command)) and mark.text in ("T", "top", "intercal")):
            return label, True, g.Script("sup", (mark,), mark.start, mark.end)
    return None, False, None


def _after_d(node) -> list | None:
    """The items after a leading ``\\partial`` / ``d`` of a numerator or denominator, else None."""
    items = list(node.items) if isinstance(node, g.Product) else [node]
    if not items:
        return None
    first = items[0]
    if isinstance(first, g.Command) and first.text == "partial":
        return items[1:]
    if isinstance(first, g.Factor) and isinstance(first.base, g.Command) and first.base.text == "partial":
        return None  # \partial^2: higher derivatives are not supported
    if isinstance(first, g.Name) and first.text == "d":
        return items[1:]
    if isinstance(first, g.Name) and first.text.startswith("d") and len(first.text) > 1:
        return [g.Name(first.start + 1, first.end, text=first.text[1:])] + items[1:]
    if isinstance(first, g.Factor) and isinstance(first.base, g.Name) and first.base.text.startswith("d") \
            and len(first.base.text) > 1:
        base = g.Name(first.base.start + 1, first.base.end, text=first.base.text[1:])
        return [dataclasses.replace(first, base=base, start=first.start + 1)] + items[1:]
    return None


def _known_hint(name: str, known) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(map(str, known)), n=3, cutoff=0.5)
    return f"did you mean {' or '.join(close)}?" if close else f"known names: {', '.join(sorted(map(str, known)))}"

