"""Best-effort LaTeX for a repaired formula.

When every edit applies to the whole formula (sign, transpose, scale, batch sum) and the claim's
LaTeX has one top-level ``=``, its right-hand side is wrapped accordingly. Otherwise the edited
expression itself is rendered from its tree (``W2`` -> ``W_{2}``, ``.T`` -> ``^\\top``, ``*`` ->
``\\odot``, ``@`` -> product, ``/`` -> ``\\frac``); ``None`` when that fails.
"""

from __future__ import annotations

import ast
import re

_GREEK = {"delta", "Delta", "sigma", "eta", "lam", "lambda", "theta", "alpha", "beta", "gamma", "mu", "epsilon"}


def repaired_latex(claim, original: str, cand) -> str | None:
    try:
        if claim.latex and all(e.root for e in cand.edits):
            wrapped = _wrap_rhs(claim.latex, cand.edits)
            if wrapped:
                return wrapped
        return render(cand.tree.body)
    except Exception:  # noqa: BLE001 - best effort only
        return None


def _wrap_rhs(latex: str, edits) -> str | None:
    depth, eqs = 0, []
    for i, ch in enumerate(latex):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "=" and depth == 0:
            eqs.append(i)
    if len(eqs) != 1:
        return None
    lhs, rhs = latex[: eqs[0]].rstrip(), latex[eqs[0] + 1:].strip()
    for e in edits:
        d = e.description
        if e.kind == "sign":
            rhs = rf"-\left({rhs}\right)"
        elif e.kind == "transpose" and d.startswith("transpose"):
            rhs = rf"\left({rhs}\right)^\top"
        elif e.kind == "scale" and (m := re.match(r"(multiply|divide) the whole formula by `(.+)`", d)):
            f = _name(m.group(2)) if not m.group(2).isdigit() else m.group(2)
            rhs = rf"{f}\,\left({rhs}\right)" if m.group(1) == "multiply" else rf"\frac{{1}}{{{f}}}\left({rhs}\right)"
        elif e.kind == "batch sum" and d.startswith("sum the whole"):
            rhs = rf"\sum_{{i}} \left({rhs}\right)_i"
        else:
            return None
    return f"{lhs} = {rhs}"


def _name(n: str) -> str:
    m = re.fullmatch(r"([A-Za-z]+?)_?(\d*)", n)
    if not m:
        escaped = n.replace("_", "\\_")
        return rf"\mathrm{{{escaped}}}"
    base, digits = m.groups()
    if base in _GREEK:
        base = "\\" + {"lam": "lambda"}.get(base, base)
    elif len(base) > 1:
        base = rf"\mathrm{{{base}}}"
    return f"{base}_{{{digits}}}" if digits else base


_PREC = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.MatMult: 2, ast.Div: 2, ast.Pow: 4}


def render(node: ast.AST, parent_prec: int = 0) -> str:
    if isinstance(node, ast.Name):
        return _name(node.id)
    if isinstance(node, ast.Constant):
        return repr(node.value)
    if isinstance(node, ast.Attribute):
        return f"{render(node.value, 5)}^\\top"
    if isinstance(node, ast.UnaryOp):
        s = "-" + render(node.operand, 3)
        return rf"\left({s}\right)" if parent_prec > 2 else s
    if isinstance(node, ast.BinOp):
        p = _PREC[type(node.op)]
        if isinstance(node.op, ast.Div):
            s = rf"\frac{{{render(node.left)}}}{{{render(node.right)}}}"
        elif isinstance(node.op, ast.Pow):
            s = f"{render(node.left, 5)}^{{{render(node.right)}}}"
        else:
            op = {ast.Add: " + ", ast.Sub: " - ", ast.Mult: r" \odot ", ast.MatMult: r" \, "}[type(node.op)]
            s = render(node.left, p) + op + render(node.right, p + 1)
        return rf"\left({s}\right)" if p < parent_prec and not isinstance(node.op, ast.Div) else s
    if isinstance(node, ast.Compare):
        return rf"\mathbb{{1}}\left[{render(node.left)} {ast.unparse(node.ops[0])} {render(node.comparators[0])}\right]"
    if isinstance(node, ast.Call):
        name = node.func.id
        args = ", ".join(render(a) for a in node.args)
        if name in ("sum", "mean") and any(k.arg == "axis" for k in node.keywords):
            return (r"\sum_{i}" if name == "sum" else r"\frac{1}{m}\sum_{i}") + rf" \left({args}\right)_i"
        return rf"\operatorname{{{name}}}\left({args}\right)"
    return ast.unparse(node)
