"""Jupyter renderings, tested by calling the reprs: verdict tables, math, heatmap, escaping."""

from __future__ import annotations

import html

import numpy as np
import pytest
from markdown_it import MarkdownIt

from gradcheck import Claim, check_claim
from gradcheck.function import check_function
from gradcheck.homework import check_file, loads
from gradcheck.notebook import heatmap_html, md

FAST = ("finite_difference",)
HOSTILE = '''
title = "<script>alert(1)</script> | *bold* $x$"
[dims]
m = 4
d = 3
[data]
X = { shape = ["m", "d"] }
y = { shape = ["m"] }
[params]
w = ["d"]
[forward]
r = "X @ w - y"
loss = "sum(r ** 2) / (2 * m)"
[[claims]]
name = "dw"
wrt = "w"
formula = "X.T @ r"
latex = '\\frac{1}{m} X^T r </div><img src=x onerror=alert(1)>'
reason = "a | pipe"
[[claims]]
name = "dw_ok"
wrt = "w"
formula = "X.T @ r / m"
latex = '\\frac{1}{m} X^\\top r'
expect = "correct"
'''


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    path = tmp_path_factory.mktemp("hw") / "hostile.toml"
    path.write_text(HOSTILE)
    return check_file(path, oracles=list(FAST), repair=False)


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of the first table, as markdown-it parses them."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    rows, row = [], None
    for t in tokens:
        if t.type == "tr_open":
            row = []
        elif t.type == "inline" and row is not None:
            row.append(t.content)
        elif t.type == "tr_close":
            rows.append(row)
            row = None
        elif t.type == "table_close":
            break
    return rows


def test_file_check_markdown_has_one_verdict_row_per_claim_and_an_expected_column(hostile):
    text = hostile._repr_markdown_()
    rows = table_rows(text)
    assert rows[0] == ["claim", "derivative", "equation", "verdict", "why", "fix", "expected"]
    assert [r[0] for r in rows[1:]] == ["dw", "dw\\_ok"] and [r[3] for r in rows[1:]] == ["INCORRECT", "CORRECT"]
    assert "mean vs sum" in rows[1][4] and rows[2][6] == "correct: as expected"
    assert rows[2][2] == "$\\frac{1}{m} X^\\top r$"  # inline math for a safe equation
    assert rows[1][2].startswith("\\\\frac") and "&lt;img" in rows[1][2]  # escaped text for an unsafe one


def test_file_provided_text_cannot_inject_markup(hostile):
    for text in (hostile._repr_markdown_(), hostile._repr_html_()):
        assert "<script>" not in text and "<img" not in text
    rendered = MarkdownIt("commonmark").enable("table").render(hostile._repr_markdown_())
    assert "<script>" not in rendered and "<img" not in rendered and "<em>bold</em>" not in rendered
    assert "equation: " in hostile._repr_markdown_()  # LaTeX that could break out of the math is shown as text
    assert html.escape("</div><img src=x onerror=alert(1)>") in hostile._repr_html_()


def test_wrong_claim_gets_math_oracles_and_a_heatmap(hostile):
    r = hostile.results[1]
    assert "$$\\frac{1}{m} X^\\top r$$" in r._repr_markdown_()
    wrong = hostile.results[0]._repr_html_()
    assert "claimed - true" in wrong and wrong.count("<td title=") == 3
    assert "finite_difference" in wrong and "fail" in wrong
    assert "claimed - true" not in r._repr_html_()  # no heatmap for a correct claim


def test_heatmap_colours_are_signed_and_on_one_scale():
    text = heatmap_html(np.array([[1.0, 0.0], [0.0, -0.5]]), np.zeros((2, 2)))
    assert 'title="[0, 0] 1" style="background:rgb(255,0,0)' in text
    assert 'title="[1, 1] -0.5" style="background:rgb(128,128,255)' in text
    assert 'title="[0, 1] 0" style="background:rgb(255,255,255)' in text
    big = heatmap_html(np.ones((40, 3)), np.zeros((40, 3)))
    assert big.count("<tr>") == 16 and "top-left 16x3 of (40, 3)" in big
    assert heatmap_html(np.ones((2, 3)), np.ones((4,))) == ""


def test_claim_result_and_function_check_render(tanh_mlp):
    r = check_claim(tanh_mlp, Claim("dW2", "W2", lambda A1, P, Y: A1.T @ (P - Y)), oracles=FAST)
    assert table_rows(r._repr_markdown_())[1][:3] == ["dW2", "d loss / d W2", "INCORRECT"]
    fc = check_function(lambda x: np.sum(x ** 2), lambda x: -2 * x, np.arange(1.0, 4.0), oracles=FAST)
    text = fc._repr_markdown_()
    assert "oracles run: finite\\_difference" in text and "sign flip" in text
    assert "<table>" in fc._repr_html_() and "claimed - true" in fc._repr_html_()


@pytest.mark.parametrize("raw, safe", [("a|b", "a\\|b"), ("<b>", "&lt;b&gt;"), ("x_1 * y", "x\\_1 \\* y"),
                                       ("two\nlines", "two lines"), ("$x$", "\\$x\\$")])
def test_md_escapes_what_could_start_markup(raw, safe):
    assert md(raw) == safe


def test_loads_keeps_working_for_files_with_a_check_table():
    d = loads(HOSTILE.replace("[dims]", "[check]\nrtol = 1e-6\n[dims]"))
    assert [c.name for c in d.claims] == ["dw", "dw_ok"]
