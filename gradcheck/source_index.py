"""Where a Python function is written: its ``lambda`` or ``def`` node in its file's syntax tree.

Reports and the repair search read a formula's source text from the file that defines it. A
derivation module holds hundreds of formulas, and parsing the file and walking its whole tree for
each of them cost ~25 ms per formula (10 s of a report); here each file is parsed once per text and
its function nodes are indexed by line.
"""

from __future__ import annotations

import ast
import inspect
import linecache
from typing import Any

__all__ = ["file_of", "functions_at", "parsed", "segment"]

FunctionNode = ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef

_PARSED: dict[tuple[str, str], tuple[ast.Module | None, dict[int, list[Any]]]] = {}


def file_of(fn: Any) -> str:
    """The file a function was defined in (as ``inspect`` finds it, else its code's file name)."""
    code = fn.__code__
    try:
        return inspect.getsourcefile(fn) or code.co_filename
    except TypeError:
        return code.co_filename


def parsed(filename: str) -> tuple[ast.Module | None, str]:
    """The syntax tree of the file's current text (None when it does not parse), and that text."""
    text = "".join(linecache.getlines(filename))
    return _entry(filename, text)[0], text


def functions_at(filename: str, line: int) -> list[Any]:
    """The lambda and def nodes of ``filename`` that start on ``line`` (a def also on the line of
    any of its decorators), in the order ``ast.walk`` meets them. The nodes are shared: do not
    change them (copy first)."""
    text = "".join(linecache.getlines(filename))
    return list(_entry(filename, text)[1].get(line, ()))


def _entry(filename: str, text: str):
    key = (filename, text)
    hit = _PARSED.get(key)
    if hit is None:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            tree = None
        index: dict[int, list[Any]] = {}
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = {node.lineno} | {d.lineno for d in getattr(node, "decorator_list", ())}
                for ln in sorted(lines):
                    index.setdefault(ln, []).append(node)
        if len(_PARSED) > 64:
            _PARSED.clear()
        hit = _PARSED[key] = (tree, index)
    return hit


_LINES: dict[str, list[str]] = {}  # text -> its lines


def segment(text: str, node: ast.AST) -> str | None:
    """``ast.get_source_segment(text, node)``, with the text's lines split once per text (the
    standard function splits the whole file at every call: ~10 ms on a derivation module)."""
    split = getattr(ast, "_splitlines_no_ff", None)
    if split is None or getattr(node, "end_lineno", None) is None or getattr(node, "end_col_offset", None) is None:
        return ast.get_source_segment(text, node)
    lines = _LINES.get(text)
    if lines is None:
        if len(_LINES) > 64:
            _LINES.clear()
        lines = _LINES[text] = split(text)
    first, last = node.lineno - 1, node.end_lineno - 1
    if first == last:
        return lines[first].encode()[node.col_offset:node.end_col_offset].decode()
    head = lines[first].encode()[node.col_offset:].decode()
    tail = lines[last].encode()[:node.end_col_offset].decode()
    return "".join([head, *lines[first + 1:last], tail])
