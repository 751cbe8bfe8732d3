"""gradcheck.source_index: the parsed-once index of a file's functions gives what ``ast`` gives."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from gradcheck.source_index import file_of, functions_at, parsed, segment

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "derivations").glob("*.py")) + [ROOT / "gradcheck" / "ops.py", ROOT / "gradcheck" / "check.py"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_segment_is_ast_get_source_segment(path):
    text = path.read_text(encoding="utf-8")
    # the nodes reports read (functions and their bodies), and every 50th node (multi-line ones included)
    every = [n for n in ast.walk(ast.parse(text)) if getattr(n, "end_lineno", None) is not None]
    nodes = [n for n in every if isinstance(n, (ast.Lambda, ast.FunctionDef))]
    nodes += [n.body for n in nodes if isinstance(n, ast.Lambda)] + every[::50]
    assert nodes and any(n.end_lineno > n.lineno for n in nodes)
    for node in nodes:
        assert segment(text, node) == ast.get_source_segment(text, node)


def test_segment_with_non_ascii_columns():
    text = "x = ('σ(z) – é', lambda α, β: α * β)\ny = [\n    'λ',\n  1]\n"
    for node in ast.walk(ast.parse(text)):
        if getattr(node, "end_lineno", None) is not None:
            assert segment(text, node) == ast.get_source_segment(text, node)


def test_functions_at_finds_lambdas_and_decorated_defs(tmp_path, monkeypatch):
    module = tmp_path / "indexed_mod.py"
    module.write_text("import functools\n"
                      "f = lambda a: a + 1; g = lambda a, b: a * b\n"
                      "@functools.lru_cache\n"
                      "def h(x):\n"
                      "    return x - 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("indexed_mod")
    line2 = functions_at(file_of(mod.f), 2)
    assert [type(n).__name__ for n in line2] == ["Lambda", "Lambda"]
    h = mod.h.__wrapped__
    at_decorator = functions_at(file_of(h), h.__code__.co_firstlineno)
    assert [getattr(n, "name", None) for n in at_decorator] == ["h"]
    assert functions_at(file_of(h), 1) == []
    tree, text = parsed(file_of(mod.f))
    assert tree is not None and text.startswith("import functools")


def test_a_file_that_does_not_parse_has_no_functions(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n")
    assert parsed(str(bad))[0] is None and functions_at(str(bad), 1) == []
