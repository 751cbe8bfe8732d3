"""Formula -> LaTeX in the document's own notation (for fixes and repairs).

Names are written as the document spelled them (``P`` -> ``\\hat{Y}`` when the LaTeX wrote
``\\hat{Y}``), ``@`` as juxtaposition, ``*`` as juxtaposition when a factor is a scalar and as
``\\odot`` otherwise (shapes from the sample point), ``/`` as ``\\frac``, ``.T`` as ``^\\top``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

import numpy as np

from gradcheck import expr as ir
from gradcheck.repair.latex import Renderer


def plain_render(node: ast.AST, parent: int = 0) -> str:
    """The report's own rendering (:mod:`gradcheck.repair.latex`) for what this module does not spell."""
    try:
        return Renderer()(node, parent)
    except ValueError:  # a construct without LaTeX: shown as code
        return r"\texttt{" + ast.unparse(node).replace("_", r"\_") + "}"

_FUNCTIONS = {"sigmoid": r"\sigma", "tanh": r"\tanh", "log": r"\log", "exp": r"\exp", "relu": r"\mathrm{ReLU}",
              "softmax": r"\operatorname{softmax}", "diag": r"\operatorname{diag}", "det": r"\det",
              "sqrt": r"\sqrt", "abs": r"\operatorname{abs}"}
_PREC = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.MatMult: 2, ast.Div: 2, ast.Pow: 4}


def formula_to_latex(formula: str, spelled: Mapping[str, str], sample: Mapping[str, Any] | None = None) -> str:
    """The LaTeX of an IR formula, in the notation of ``spelled`` (IR name -> LaTeX)."""
    tree = ast.parse(formula, mode="eval")
    return _Renderer(spelled, sample or {}).render(tree.body)


class _Renderer:
    def __init__(self, spelled, sample):
        self.spelled, self.sample = spelled, sample

    def scalar(self, node) -> bool:
        if isinstance(node, ast.Constant):
            return True
        try:
            with np.errstate(all="ignore"):
                return np.ndim(ir.Expression.from_tree(node).evaluate(self.sample)) == 0
        except Exception:  # noqa: BLE001 - unknown shape: not known to be a scalar
            return False

    def name(self, n: str) -> str:
        s = self.spelled.get(n)
        if s is None:
            return plain_render(ast.Name(id=n))
        return s if s.isalnum() or s.startswith("\\") and "_" not in s and "^" not in s else "{" + s + "}"

    def render(self, node, parent: int = 0) -> str:
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Constant):
            return repr(node.value)
        if isinstance(node, ast.Attribute):
            return f"{self.render(node.value, 5)}^\\top"
        if isinstance(node, ast.UnaryOp):
            s = "-" + self.render(node.operand, 3)
            return rf"\left({s}\right)" if parent > 2 else s
        if isinstance(node, ast.BinOp):
            p = _PREC[type(node.op)]
            if isinstance(node.op, ast.Div):
                return rf"\frac{{{self.render(node.left)}}}{{{self.render(node.right)}}}"
            if isinstance(node.op, ast.Pow):
                s = f"{self.render(node.left, 5)}^{{{self.render(node.right)}}}"
            else:
                if isinstance(node.op, ast.Mult):
                    op = " " if self.scalar(node.left) or self.scalar(node.right) else r" \odot "
                else:
                    op = {ast.Add: " + ", ast.Sub: " - ", ast.MatMult: " "}[type(node.op)]
                s = self.render(node.left, p) + op + self.render(node.right, p + 1)
            return rf"\left({s}\right)" if p < parent else s
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            op = {ast.Gt: ">", ast.GtE: r"\geq", ast.Lt: "<", ast.LtE: r"\leq", ast.Eq: "="}[type(node.ops[0])]
            return rf"\mathbb{{1}}\left[{self.render(node.left)} {op} {self.render(node.comparators[0])}\right]"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "ones" \
                and node.args and isinstance(node.args[0], ast.Tuple) and len(node.args[0].elts) == 2:
            rows, cols = (ast.unparse(e) for e in node.args[0].elts)
            return rf"\mathbf{{1}}_{{{rows}}}" if cols == "1" else rf"\mathbf{{1}}_{{{cols}}}^\top"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
            args = ", ".join(self.render(a) for a in node.args)
            return rf"{_FUNCTIONS[node.func.id]}\left({args}\right)"
        return plain_render(node, parent)
