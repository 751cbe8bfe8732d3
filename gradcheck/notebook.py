"""Jupyter renderings of results: a verdict table, the claim's math, a small heatmap for a wrong claim.

``ClaimResult``, ``FunctionCheck`` and ``FileCheck`` have ``_repr_markdown_`` and ``_repr_html_``,
which call the functions here. Every text that comes from a user's file or function (names, formulas,
LaTeX, messages) is escaped, so a file cannot inject markup. The heatmap is an HTML table of
``claimed - true`` (no image library, so it renders anywhere HTML does), coloured on one symmetric
scale: red where the claim is too large, blue where it is too small, white where it is right.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import numpy as np


HEATMAP_MAX = 16  # rows and columns shown; larger arrays show their top-left corner and say so
_MD_SPECIAL = "\\`*_[]|$#~"  # what could start markup in a table cell (<, >, & become entities)


def md(text: Any) -> str:
    """Markdown-escaped text (one line): no markup, no HTML, no table breaks from a user's string."""
    out = []
    for ch in str(text).replace("\r", " ").replace("\n", " "):
        out.append(html.escape(ch) if ch in "<>&" else ("\\" + ch if ch in _MD_SPECIAL else ch))
    return "".join(out)


def _math_md(latex: str) -> str:
    """The claim's LaTeX as display math, or as escaped text when it could break out of the math."""
    if not latex:
        return ""
    if any(bad in latex for bad in ("$", "<", ">", "&", "\n", "`")):
        return f"equation: {md(latex)}"
    return f"$${latex}$$"


def _verdict_row(r: Any) -> list[str]:
    d = r.diagnosis
    why = f"{d.kind}: {d.text}" if d is not None else (r.message if r.verdict != "correct" else "")
    fix = (d.fix or "") if d is not None else ""
    if r.repair is not None:
        fix = (fix + "; " if fix else "") + f"repair: {getattr(r.repair, 'text', None) or r.repair}"
    return [r.claim.name, f"d {r.claim.target(r.model)} / d {r.claim.wrt}", r.verdict.upper(), why, fix]


def _oracle_rows(r: Any) -> list[list[str]]:
    rows = []
    for v in r.oracles.values():
        err = f"{v.max_rel_err:.3g}" if v.max_rel_err is not None else ""
        tol = f"{v.tolerance:g}" if v.tolerance is not None else ""
        rows.append([v.oracle, v.status, v.method or (v.message or "").split("\n")[0][:120], err, tol])
    return rows


VERDICT_HEAD = ["claim", "derivative", "verdict", "why", "fix"]
ORACLE_HEAD = ["oracle", "status", "method", "max rel err", "tolerance"]


class Math(str):
    """A LaTeX cell: inline math in markdown, escaped text in HTML (MathJax typesets both in Jupyter)."""


def _math_cell(latex: str) -> str:
    safe = latex and not any(bad in latex for bad in ("$", "<", ">", "&", "\n", "`", "|"))
    return Math(f"${latex}$") if safe else latex


def _md_table(head: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c if isinstance(c, Math) else md(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def claim_markdown(r: Any) -> str:
    """A ClaimResult as markdown: verdict table, oracle table, the equation, the notes."""
    parts = [_md_table(VERDICT_HEAD, [_verdict_row(r)])]
    math = _math_md(r.claim.latex)
    if math:
        parts.append(math)
    if r.claim.source:
        parts.append(f"formula: `{r.claim.source.replace('`', chr(39))}`")
    if r.oracles:
        parts.append(_md_table(ORACLE_HEAD, _oracle_rows(r)))
    parts += [f"note: {md(n)}" for n in r.notes]
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------- HTML
def _html_table(head: list[str], rows: Iterable[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _colour(x: float, scale: float) -> str:
    """White at 0, red for positive, blue for negative, saturating at ``scale``."""
    a = 0.0 if scale <= 0 or not np.isfinite(x) else min(abs(x) / scale, 1.0)
    fade = round(255 * (1 - a))
    return f"rgb(255,{fade},{fade})" if x > 0 else f"rgb({fade},{fade},255)"


def heatmap_html(claimed: np.ndarray, truth: np.ndarray) -> str:
    """An HTML table of ``claimed - true`` (vectors as one row), or '' when the shapes differ."""
    c = np.asarray(claimed, dtype=float)
    t = np.asarray(truth, dtype=float)
    if c.shape != t.shape or t.size == 0:  # strict shapes: a value of another shape is never realigned
        return ""
    diff = c - t
    grid = diff.reshape(1, -1) if diff.ndim < 2 else diff.reshape(diff.shape[0], -1)
    shown = grid[:HEATMAP_MAX, :HEATMAP_MAX]
    scale = float(np.max(np.abs(grid[np.isfinite(grid)]), initial=0.0))
    cells = "".join(
        "<tr>" + "".join(f'<td title="[{i}, {j}] {v:.4g}" style="background:{_colour(v, scale)};width:14px;'
                         f'height:14px;padding:0"></td>' for j, v in enumerate(row)) + "</tr>"
        for i, row in enumerate(shown))
    cut = "" if shown.shape == grid.shape else f" (top-left {shown.shape[0]}x{shown.shape[1]} of {grid.shape})"
    return (f'<div><b>claimed - true</b>{html.escape(cut)}: red too large, blue too small, largest |gap| '
            f'{scale:.3g}<table style="border-collapse:collapse">{cells}</table></div>')


def claim_html(r: Any) -> str:
    """A ClaimResult as HTML: verdict table, the equation, oracle table, a heatmap when it is wrong."""
    parts = [_html_table(VERDICT_HEAD, [_verdict_row(r)])]
    if r.claim.latex:
        parts.append(f"<div>$${html.escape(r.claim.latex)}$$</div>")
    if r.claim.source:
        parts.append(f"<div>formula: <code>{html.escape(r.claim.source)}</code></div>")
    if r.oracles:
        parts.append(_html_table(ORACLE_HEAD, _oracle_rows(r)))
    if r.verdict != "correct" and r.claimed is not None and r.truth is not None:
        parts.append(heatmap_html(r.claimed, r.truth))
    parts += [f"<div>note: {html.escape(n)}</div>" for n in r.notes]
    return "<div>" + "".join(parts) + "</div>"


def _expected(r: Any) -> str:
    if r.claim.expect is None:
        return ""
    return f"{r.claim.expect}: {'as expected' if r.expected_ok else 'NOT as expected'}"


def _table_of(results: list) -> tuple[list[str], list[list[str]]]:
    """The verdict table, with an "equation" column when some claim has LaTeX and an "expected" column
    when some claim has an ``expect``."""
    head, rows = list(VERDICT_HEAD), [_verdict_row(r) for r in results]
    if any(r.claim.latex for r in results):
        head.insert(2, "equation")
        for row, r in zip(rows, results):
            row.insert(2, _math_cell(r.claim.latex))
    if any(r.claim.expect is not None for r in results):
        head.append("expected")
        for row, r in zip(rows, results):
            row.append(_expected(r))
    return head, rows


def results_markdown(title: str, results: list, header_notes: Iterable[str] = ()) -> str:
    """Many results: one verdict table, then the details of each claim that is not correct."""
    parts = [f"**{md(title)}**", *[md(n) for n in header_notes], _md_table(*_table_of(results))]
    for r in results:
        if r.verdict != "correct":
            parts.append(f"**{md(r.claim.name)}**\n\n" + claim_markdown(r))
    return "\n\n".join(parts) + "\n"


def results_html(title: str, results: list, header_notes: Iterable[str] = ()) -> str:
    parts = [f"<h4>{html.escape(title)}</h4>", *[f"<div>{html.escape(n)}</div>" for n in header_notes],
             _html_table(*_table_of(results))]
    for r in results:
        if r.verdict != "correct":
            parts.append(f"<details open><summary>{html.escape(r.claim.name)}</summary>{claim_html(r)}</details>")
    return "<div>" + "".join(parts) + "</div>"


def _function_notes(fc: Any) -> list[str]:
    return [f"oracles run: {', '.join(fc.oracles_run) or 'none'}"] + list(fc.notes)


def function_markdown(fc: Any) -> str:
    return results_markdown(f"{fc.function}: {fc.kind} {fc.verdict}", list(fc.results), _function_notes(fc))


def function_html(fc: Any) -> str:
    return results_html(f"{fc.function}: {fc.kind} {fc.verdict}", list(fc.results), _function_notes(fc))
