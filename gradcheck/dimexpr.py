"""Arithmetic on dims in shapes: ``"4*H"``, ``"N + 1"``, ``"D // 2"`` (integers, names, ``+ - * // %``)."""

from __future__ import annotations

import ast
import operator
from typing import Mapping

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
        ast.Mod: operator.mod}


class DimError(ValueError):
    """A shape entry that is not a dim, an integer, or integer arithmetic on them."""


def _tree(text: str) -> ast.AST:
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise DimError(f"shape entry {text!r} is not a dim name or arithmetic on dims (e.g. \"4*H\")") from None


def names(text: str) -> tuple[str, ...]:
    """The dim names a shape entry uses; raises :class:`DimError` for anything but dim arithmetic."""
    out = []

    def walk(node):
        if isinstance(node, ast.Name):
            out.append(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            pass
        elif isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            walk(node.left)
            walk(node.right)
        else:
            raise DimError(f"shape entry {text!r}: only dim names, integers and + - * // % are allowed")

    walk(_tree(text))
    return tuple(dict.fromkeys(out))


def value(text: str, dims: Mapping[str, int]) -> int:
    """The size of a shape entry at these dims."""
    if text in dims:
        return int(dims[text])

    def ev(node):
        if isinstance(node, ast.Name):
            if node.id not in dims:
                raise DimError(f"shape entry {text!r} uses {node.id!r}, which is not a dim")
            return int(dims[node.id])
        if isinstance(node, ast.Constant):
            return int(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        raise DimError(f"shape entry {text!r}: only dim names, integers and + - * // % are allowed")

    names(text)
    out = ev(_tree(text))
    if out < 1:
        raise DimError(f"shape entry {text!r} is {out} at dims {dict(dims)}; sizes must be positive")
    return out
