"""docs/ways_in.md shows real output: its example files still give what the page prints."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from gradcheck.function import check_function
from gradcheck.homework import check_file

WAYS = Path(__file__).resolve().parents[1] / "docs" / "ways_in"
PAGE = (WAYS.parent / "ways_in.md").read_text()


def _plain():
    spec = importlib.util.spec_from_file_location("ways_in_plain", WAYS / "plain.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_plain_function_gives_the_diagnosis_the_page_shows():
    p = _plain()
    text = str(check_function(p.loss, p.dloss_dW, p.W, p.X, p.Y, argnums=0))
    for line in text.splitlines()[:5]:
        assert line in PAGE, line


def test_the_homework_file_gives_the_diagnosis_the_page_shows():
    r = check_file(WAYS / "softmax.toml", repair=False).results[0]
    assert r.verdict == "incorrect" and r.diagnosis.kind == "mean vs sum"
    assert f"why: {r.diagnosis.kind}: {r.diagnosis.text}" in PAGE and f"fix: {r.diagnosis.fix}" in PAGE
