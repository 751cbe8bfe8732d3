"""Lower a LaTeX tree to a formula of :mod:`gradcheck.expr` (the IR every front-end produces).

The lowering knows the model: it resolves symbols to model names (:mod:`gradcheck.latex.notation`),
reads juxtaposition as a matrix product (a scalar times anything is ``*``), ``\\odot`` as ``*``,
and evaluates each sub-formula once at a sample point only to learn its *shape* (which decides
``*`` versus ``@`` and the length of an unsized ``\\mathbf{1}``). It never judges a formula: a
formula whose shapes clash is lowered as written and reported by the engine as a shape error.

Index notation: a reference ``W_{k,j}`` has *free indices* (k, j). Such values are arrays whose
axes are named by their indices; products align the names (broadcasting), ``\\sum_k`` sums the
axis named k, and the free indices left at the end become the axes of the claim. Indices are
1-based, as written.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from gradcheck.latex import grammar as g
from gradcheck.latex.derivatives import DerivativeRules
from gradcheck.latex.functions import FunctionRules
from gradcheck.latex.grammar import LatexError
from gradcheck.latex.indices import IndexRules
from gradcheck.latex.nodes import _is_one
from gradcheck.latex.symbols import SymbolRules
from gradcheck.latex.values import ADD, ATOM, MUL, UNARY, Context, Deriv, Val, _source, dim_text, wrap

__all__ = ["Context", "Deriv", "Lowerer", "Val", "lower_expression", "order_axes", "wrap"]


class Lowerer(SymbolRules, DerivativeRules, FunctionRules, IndexRules):
    """Tree -> :class:`Val`. The rules for symbols, derivatives, functions and indices are mixins."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.bound: list[str] = []  # indices bound by an enclosing \sum

    def lower(self, node) -> Val:
        method = getattr(self, "lower_" + type(node).__name__, None)
        if method is None:
            raise self.ctx.fail(f"cannot lower {type(node).__name__}", node)
        return method(node)

    def lower_Number(self, node: g.Number) -> Val:
        return Val(node.text)

    def lower_Name(self, node) -> Val:
        return self.symbol(node)

    lower_Command = lower_Font = lower_Accent = lower_Name

    def lower_Factor(self, node: g.Factor) -> Val:
        return self.symbol(node)

    def lower_Text(self, node: g.Text) -> Val:
        raise self.ctx.fail(f"text ({node.text}) cannot be part of a formula", node,
                            "move the words out of the equation")

    def lower_Dots(self, node: g.Dots) -> Val:
        raise self.ctx.fail(f"`{node.text}` leaves entries out, so this formula cannot be evaluated", node,
                            "write the whole formula (a matrix expression or index notation)")

    def lower_Relation(self, node: g.Relation) -> Val:
        raise self.ctx.fail(f"a relation ({' '.join(node.ops)}) inside a formula", node,
                            "a comparison belongs in an indicator: \\mathbb{1}[z > 0]")

    def lower_Group(self, node: g.Group) -> Val:
        if len(node.items) != 1:
            raise self.ctx.fail("a list in brackets is not a value", node,
                                "only function arguments may be separated by commas")
        inner = self.lower(node.items[0])
        return replace(inner, prec=ATOM, text=inner.text if inner.prec >= ATOM else f"({inner.text})")

    def lower_Sqrt(self, node: g.Sqrt) -> Val:
        v = self.lower(node.body)
        return Val(f"sqrt({v.text})", axes=v.axes)

    def lower_Abs(self, node: g.Abs) -> Val:
        v = self.lower(node.body)
        return Val(f"abs({v.text})", axes=v.axes)

    def lower_Matrix(self, node: g.Matrix) -> Val:
        rows = []
        for row in node.rows:
            entries = [self.lower(e) for e in row]
            for e, n in zip(entries, row):
                if e.axes or (self.ctx.shape(e) not in ((), None)):
                    raise self.ctx.fail("a bmatrix entry must be a scalar", n,
                                        "write the entries one by one, or the matrix as an expression")
            rows.append(entries)
        widths = {len(r) for r in rows}
        if len(widths) != 1:
            raise self.ctx.fail(f"the rows of this matrix have different lengths ({sorted(widths)})", node)
        body = ", ".join("stack([" + ", ".join(e.text for e in r) + "])" for r in rows)
        return Val(f"stack([{body}])")

    def lower_Frac(self, node: g.Frac) -> Val:
        d = self.derivative(node)
        if d is not None:
            return self.derivative_value(d)
        num, den = self.lower(node.num), self.lower(node.den)
        return self.binary(num, den, "/", MUL, node)

    def lower_Sum(self, node: g.Sum) -> Val:
        out = None
        for sign, term in node.terms:
            v = self.lower(term)
            if out is None:
                out = v if sign == "+" else Val(f"-{wrap(v, MUL)}", UNARY, v.axes)
            else:
                out = self.binary(out, v, sign, ADD, node, right_prec=ADD + 1)
        return out

    def lower_Hadamard(self, node: g.Hadamard) -> Val:
        out = self.lower(node.items[0])
        for item in node.items[1:]:
            out = self.binary(out, self.lower(item), "*", MUL, node)
        return out

    def lower_Product(self, node: g.Product) -> Val:
        return self.product(list(node.items), node)

    def product(self, items: list, node) -> Val:
        operands: list[tuple[str, Val, Any]] = []  # (op, value, node); op "" is juxtaposition
        op = ""
        i = 0
        while i < len(items):
            item = items[i]
            if isinstance(item, g.MulOp):
                if op or not operands:
                    raise self.ctx.fail(f"`{_source(self.ctx, item)}` needs a left and a right operand", item)
                op = {"cdot": "cdot", "times": "", "/": "/", "*": "*"}[item.op]
                i += 1
                continue
            if isinstance(item, g.BigOp):
                v = self.bigop(item, items[i + 1:], node)
                operands.append((op, v, item))
                break
            if _is_one(item) and i + 1 < len(items) and isinstance(items[i + 1], g.Group) \
                    and items[i + 1].kind in ("[", "\\{", "(") and len(items[i + 1].items) == 1 \
                    and isinstance(items[i + 1].items[0], g.Relation):
                operands.append((op, self.indicator(items[i + 1].items[0]), item))
                op = ""
                i += 2
                continue
            fn = self.function_of(item)
            if fn is not None:
                if i + 1 >= len(items) or isinstance(items[i + 1], (g.MulOp, g.BigOp)):
                    raise self.ctx.fail(f"the function `{_source(self.ctx, item)}` has no argument", item,
                                        "write it applied, e.g. \\sigma(z)")
                v = self.apply(fn, item, items[i + 1])
                i += 2
            else:
                v = self.lower(item)
                i += 1
            operands.append((op, v, item))
            op = ""
        if op:
            raise self.ctx.fail("the product ends with an operator", node)
        operands = self.size_all_ones(operands)
        out = operands[0][1]
        for k, (op, v, n) in enumerate(operands[1:], start=1):
            out = self.multiply(out, v, op, n)
        if out.ones:
            raise self.ctx.fail("the length of \\mathbf{1} is unknown here", operands[0][2],
                                "write its size: \\mathbf{1}_m")
        return out

    def size_all_ones(self, operands: list) -> list:
        """Each unsized \\mathbf{1} of a product takes its length from the nearest operand that is not a
        scalar: a row (1^T) from the one on its right, a column (1) from the one on its left."""
        out = list(operands)
        for k, (op, v, n) in enumerate(operands):
            if not v.ones:
                continue
            right = [w for _, w, _ in operands[k + 1:] if not w.ones and self.ctx.shape(w) not in ((), None)]
            left = [w for _, w, _ in operands[:k] if not w.ones and self.ctx.shape(w) not in ((), None)][::-1]
            if v.ones == "row" and right:
                size = self.ctx.shape(right[0])[0]
            elif v.ones == "col" and left:
                size = self.ctx.shape(left[0])[-1]
            else:
                continue
            text = f"ones(({dim_text(self.ctx.model, size)}, 1))" + (".T" if v.ones == "row" else "")
            out[k] = (op, Val(text), n)
        return out

    def multiply(self, a: Val, b: Val, op: str, node) -> Val:
        if op == "/":
            return self.binary(a, b, "/", MUL, node)
        if op == "*" or (op == "cdot" and self.ctx.notation.cdot == "elementwise"):
            return self.binary(a, b, "*", MUL, node)
        a, b = self.size_ones(a, b)
        if a.axes is not None or b.axes is not None:
            return self.binary(a, b, "*", MUL, node)
        sa, sb = self.ctx.shape(a), self.ctx.shape(b)
        if sa == () or sb == ():
            return self.binary(a, b, "*", MUL, node)
        exact = _sum_for_ones(a, b, sa, sb)
        if exact is not None:
            return exact
        if sa is not None and sb is not None and len(sa) == 1 and len(sb) == 1 and not a.row and b.row:
            return Val(f"outer({a.text}, {b.text})")  # 1-D arrays are columns: x y^T is their outer product
        return Val(f"{wrap(a, MUL)} @ {wrap(b, MUL + 1)}", MUL)

    def size_ones(self, a: Val, b: Val) -> tuple[Val, Val]:
        """An unsized \\mathbf{1} takes its length from the operand it multiplies."""
        if a.ones:
            sb = self.ctx.shape(b)
            if sb:
                n = dim_text(self.ctx.model, sb[0])
                a = Val(f"ones(({n}, 1)).T" if a.ones == "row" else f"ones(({n}, 1))")
        if b.ones:
            sa = self.ctx.shape(a)
            if sa:
                n = dim_text(self.ctx.model, sa[-1])
                b = Val(f"ones(({n}, 1))" if b.ones == "col" else f"ones(({n}, 1)).T")
        return a, b

    def binary(self, a: Val, b: Val, op: str, prec: int, node, right_prec: int | None = None) -> Val:
        a, b = self.size_ones(a, b)
        a, b = (replace(v, axes=None) if v.axes == () else v for v in (a, b))  # a full sum is a scalar
        if a.ones or b.ones:
            raise self.ctx.fail("the length of \\mathbf{1} is unknown here", node, "write its size: \\mathbf{1}_m")
        if a.axes is None and b.axes is None:
            return Val(f"{wrap(a, prec)} {op} {wrap(b, right_prec or prec + 1)}", prec)
        for v in (a, b):
            if v.axes is None and self.ctx.shape(v) not in ((), None):
                raise self.ctx.fail("this mixes a matrix expression with index notation", node,
                                    "index the matrix too (W_{k,j}), or write the whole formula without indices")
        axes = tuple(dict.fromkeys((a.axes or ()) + (b.axes or ())))
        ta, tb = self.align(a, axes), self.align(b, axes)
        return Val(f"{wrap(ta, prec)} {op} {wrap(tb, right_prec or prec + 1)}", prec, axes)

    @staticmethod
    def align(v: Val, axes: tuple) -> Val:
        """``v`` with its named axes in the order of ``axes`` and new axes where it has none."""
        if not v.axes:
            return v
        order = [a for a in axes if a in v.axes]
        text, prec = v.text, v.prec
        if order != list(v.axes):
            perm = ", ".join(str(v.axes.index(a)) for a in order)
            text, prec = f"transpose({text}, ({perm},))", ATOM
        if len(order) < len(axes):
            idx = ", ".join(":" if a in v.axes else "None" for a in axes)
            text, prec = f"{text if prec >= ATOM else '(' + text + ')'}[{idx}]", ATOM
        return Val(text, prec, tuple(axes))


def _lower_lowered(self, node):
    return node.v


Lowerer.lower__Lowered = _lower_lowered


_ONES_ROW = re.compile(r"^ones\(\((\d+), 1\)\)\.T$")
_ONES_COL = re.compile(r"^ones\(\((\d+), 1\)\)$")


def _sum_for_ones(a: Val, b: Val, sa, sb) -> Val | None:
    """``1^T A`` and ``A 1`` as sums: the same value, and exact for the symbolic oracle (a float array of
    ones times rationals is not). Only when the sizes fit; a clash stays a product, reported as written."""
    m = _ONES_ROW.match(a.text)
    if m and sb is not None and len(sb) >= 1 and int(m.group(1)) == sb[0]:
        return Val(f"sum({b.text}, axis=0, keepdims=True)")
    m = _ONES_COL.match(b.text)
    if m and sa is not None and len(sa) == 2 and int(m.group(1)) == sa[-1]:
        return Val(f"sum({a.text}, axis=1, keepdims=True)")
    return None


def lower_expression(node, ctx: Context) -> Val:
    """Lower once to learn the index ranges (an indicator may come before the symbols it ranges over),
    then again for the result."""
    try:
        Lowerer(ctx).lower(node)
    except LatexError:
        pass
    v = Lowerer(ctx).lower(node)
    if v.ones:
        raise ctx.fail("the length of \\mathbf{1} is unknown here", node, "write its size: \\mathbf{1}_m")
    return v


def order_axes(v: Val, order: tuple, shape: tuple, ctx: Context, node) -> str:
    """The IR text of an indexed result with its axes in ``order`` (the derivative's axes)."""
    axes = v.axes or ()
    extra = [a for a in axes if a not in order]
    if extra:
        raise ctx.fail(f"the free index {extra[0]} is not an index of the left side", node,
                       f"sum over it (\\sum_{{{extra[0]}}}) or use the left side's indices {', '.join(order)}")
    aligned = Lowerer.align(v, order) if axes else v
    if len(axes) < len(order):
        return f"{wrap(aligned, MUL)} * ones(({''.join(dim_text(ctx.model, n) + ', ' for n in shape)}))"
    return aligned.text

