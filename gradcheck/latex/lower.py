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
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from gradcheck import expr as ir
from gradcheck.latex import grammar as g
from gradcheck.latex.grammar import LatexError
from gradcheck.latex.notation import (ACCENT_SUFFIX, OBJECTIVE_SPELLINGS, TRANSPARENT_FONTS, Notation,
                                      greek_stems, squash)

ATOM, POW, UNARY, MUL, ADD, CMP = 100, 90, 80, 70, 60, 50
TRANSPOSE_MARKS = ("T", "top", "intercal", "mathsf{T}", "mathrm{T}", "prime")
MAX_GATHER = 4096  # entries of an index-arithmetic reference (x_{i+j-1}) spelled out entry by entry

#: LaTeX function spelling -> (IR template for f, IR template for f'); {0} is the argument
ELEMENTWISE = {
    "sigma": ("sigmoid({0})", "(sigmoid({0}) * (1 - sigmoid({0})))"),
    "sigmoid": ("sigmoid({0})", "(sigmoid({0}) * (1 - sigmoid({0})))"),
    "tanh": ("tanh({0})", "(1 - tanh({0}) ** 2)"),
    "relu": ("relu({0})", "({0} > 0)"), "ReLU": ("relu({0})", "({0} > 0)"), "RELU": ("relu({0})", "({0} > 0)"),
    "log": ("log({0})", "(1 / {0})"), "ln": ("log({0})", "(1 / {0})"),
    "exp": ("exp({0})", "exp({0})"), "sqrt": ("sqrt({0})", "(0.5 / sqrt({0}))"),
    "softplus": ("softplus({0})", "sigmoid({0})"), "abs": ("abs({0})", "sign({0})"),
    "identity": ("{0}", "(0 * {0} + 1)"),
}
MATRIX_FUNCTIONS = {"softmax", "diag", "tr", "trace", "det", "clip", "max", "min", "sum", "mean"}


@dataclass(frozen=True)
class Val:
    """A lowered sub-formula: IR text, its precedence, and its free indices (None: matrix algebra)."""

    text: str
    prec: int = ATOM
    axes: tuple | None = None
    ones: str | None = None  # an unsized \mathbf{1}: "col" or "row", sized by its neighbour


@dataclass(frozen=True)
class Deriv:
    """A derivative written in the LaTeX: d of / d wrt, with the indices written on each."""

    of: str
    wrt: str
    of_indices: tuple = ()
    wrt_indices: tuple = ()
    node: Any = None


@dataclass
class Context:
    """What the lowering may refer to, and what it collects (the derivative names a formula uses)."""

    model: Any
    notation: Notation = field(default_factory=Notation)
    derivatives: dict = field(default_factory=dict)  # name -> (of, wrt): claim names, declared names
    latex: str = ""
    where: str = ""
    sample: dict = field(default_factory=dict)
    uses: dict = field(default_factory=dict)
    index_sizes: dict = field(default_factory=dict)
    spelled: dict = field(default_factory=dict)  # IR name -> how the LaTeX wrote it

    def __post_init__(self):
        if not self.sample:
            self.sample = sample_values(self.model)
        for name, (of, wrt) in self.derivatives.items():
            self.add_derivative_sample(name, of, wrt)

    @property
    def names(self) -> set[str]:
        m = self.model
        return set(m.names) | set(m.dims) | set(m.constants) | set(self.derivatives) | set(self.uses)

    def add_derivative_sample(self, name: str, of: str, wrt: str) -> None:
        if name in self.sample or of not in self.sample or wrt not in self.sample:
            return
        shape = np.shape(self.sample[of]) + np.shape(self.sample[wrt])
        self.sample[name] = np.random.default_rng(len(name)).standard_normal(shape)

    def fail(self, msg: str, node=None, hint: str = "") -> LatexError:
        start, end = (node.start, node.end) if node is not None else (None, None)
        return LatexError(msg, self.latex, start, end, self.where, hint)

    def shape(self, v: Val) -> tuple | None:
        """The shape of ``v`` at the sample point; None when it cannot be evaluated (e.g. a shape clash)."""
        if v.ones:
            return None
        try:
            with np.errstate(all="ignore"):
                return tuple(np.shape(ir.parse(v.text).evaluate(self.sample)))
        except Exception:  # noqa: BLE001 - a clash is the engine's finding, not the parser's
            return None


def sample_values(model) -> dict[str, Any]:
    """Forward values at one seeded point: only their shapes are used."""
    from gradcheck.points import _candidate

    values = _candidate(model, np.random.default_rng(0), model.dims)
    with np.errstate(all="ignore"):
        return dict(model.forward(values))


def wrap(v: Val, prec: int) -> str:
    return v.text if v.prec >= prec else f"({v.text})"


def softmax_axis(model) -> int:
    for step in model.step_list:
        m = re.search(r"softmax\(.*axis\s*=\s*(-?\d+)", getattr(step.fn, "source", "") or "")
        if m:
            return int(m.group(1))
    return -1


def _source(ctx: Context, node) -> str:
    return ctx.latex[node.start:node.end]


# ---------------------------------------------------------------------------------------------- lowering
class Lowerer:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.bound: list[str] = []  # indices bound by an enclosing \sum

    # ----------------------------------------------------------------------------------------- dispatch
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

    # ----------------------------------------------------------------------------------------- products
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
            text = f"ones(({size}, 1))" + (".T" if v.ones == "row" else "")
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
        return Val(f"{wrap(a, MUL)} @ {wrap(b, MUL + 1)}", MUL)

    def size_ones(self, a: Val, b: Val) -> tuple[Val, Val]:
        """An unsized \\mathbf{1} takes its length from the operand it multiplies."""
        if a.ones:
            sb = self.ctx.shape(b)
            if sb:
                a = Val(f"ones(({sb[0]}, 1)).T" if a.ones == "row" else f"ones(({sb[0]}, 1))")
        if b.ones:
            sa = self.ctx.shape(a)
            if sa:
                b = Val(f"ones(({sa[-1]}, 1))" if b.ones == "col" else f"ones(({sa[-1]}, 1)).T")
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

    def indicator(self, rel: g.Relation) -> Val:
        """``\\mathbb{1}[z > 0]`` (a 0/1 array) and ``\\mathbb{1}[k = j]`` (an identity over two indices)."""
        if len(rel.ops) != 1:
            raise self.ctx.fail("an indicator holds one comparison", rel)
        op = {"=": "==", "!=": "!="}.get(rel.ops[0], rel.ops[0])
        a_node, b_node = rel.items
        la, lb = _letter(a_node), _letter(b_node)
        if op == "==" and la is not None and (la in self.bound or la not in self.ctx.names):
            size = self.ctx.index_sizes.get(la)
            if lb is not None and (lb in self.bound or lb not in self.ctx.names):
                size = size or self.ctx.index_sizes.get(lb)
                if size is None:
                    raise self.ctx.fail(f"the ranges of {la} and {lb} are not known here", rel,
                                        "index a symbol with them too")
                return Val(f"eye({size})", ATOM, (la, lb))
            value = _integer(b_node)
            if value is not None and size is not None:
                return Val(f"eye({size})[:, {value - 1}]", ATOM, (la,))
        if op == "!=":
            raise self.ctx.fail("write \\neq indicators as 1 - \\mathbb{1}[k = j]", rel)
        a, b = self.lower(a_node), self.lower(b_node)
        out = self.binary(a, b, op, CMP, rel)
        return Val(f"({out.text})", ATOM, out.axes)

    # ----------------------------------------------------------------------------------------- big operators
    def bigop(self, item: g.BigOp, rest: list, node) -> Val:
        if not rest:
            raise self.ctx.fail(f"\\{item.op} has nothing to apply to", item)
        sub = next((s for s in item.scripts if s.kind == "sub"), None)
        sup = next((s for s in item.scripts if s.kind == "sup"), None)
        if item.op in ("max", "min") and sub is None and isinstance(rest[0], g.Group) and rest[0].kind == "(":
            args = [self.lower(a) for a in rest[0].items]
            if len(args) != 2:
                raise self.ctx.fail(f"\\{item.op}(a, b) takes two arguments; for the largest entry write "
                                    f"\\{item.op}_k x_k", rest[0])
            v = Val(f"{'maximum' if item.op == 'max' else 'minimum'}({args[0].text}, {args[1].text})",
                    axes=self.merge_axes(args, rest[0]))
            return self.product([_Lowered(v)] + rest[1:], node) if len(rest) > 1 else v
        if item.op not in ("sum", "max", "min"):
            raise self.ctx.fail(f"\\{item.op} is not supported", item, "use \\sum, \\max_k or \\min_k")
        if sub is None:
            raise self.ctx.fail(f"\\{item.op} needs the index it runs over: \\{item.op}_{{k}}", item)
        index, lower_bound = self.index_range(sub, item)
        self.bound.append(index)
        try:
            body = self.product(list(rest), node)
        finally:
            self.bound.pop()
        size = self.ctx.index_sizes.get(index)
        if sup is not None and size is not None:
            upper = self.bound_value(sup, item)
            if upper is not None and (lower_bound, upper) != (1, size):
                raise self.ctx.fail(f"this \\{item.op} runs over {index} = {lower_bound}..{upper}, but {index} "
                                    f"indexes an axis of {size} entries", item,
                                    "a sum over a part of an axis cannot be checked; sum over the whole axis")
        if not body.axes or index not in body.axes:
            if item.op == "sum" and sup is not None:
                upper = self.bound_value(sup, item)
                if upper is not None:
                    return Val(f"{upper - lower_bound + 1} * {wrap(body, MUL + 1)}", MUL, body.axes)
            raise self.ctx.fail(f"the body of this \\{item.op} does not use the index {index}", item,
                                f"index the terms it runs over, e.g. x_{{{index}}}")
        pos = body.axes.index(index)
        fn = {"sum": "sum", "max": "max", "min": "min"}[item.op]
        axes = tuple(a for a in body.axes if a != index)
        return Val(f"{fn}({body.text}, axis={pos})", axes=axes)

    def index_range(self, sub: g.Script, node) -> tuple[str, int]:
        entry = sub.items[0] if len(sub.items) == 1 else None
        if isinstance(entry, g.Relation) and entry.ops == ("=",) and len(entry.items) == 2:
            name, start = entry.items
            letter = _letter(name)
            value = _integer(start)
            if letter is None or value is None:
                raise self.ctx.fail("write the range as \\sum_{k=1}^{K}", sub)
            if value != 1:
                raise self.ctx.fail(f"indices are 1-based, as written; this range starts at {value}", sub,
                                    "start the range at 1")
            return letter, 1
        letter = _letter(entry) if entry is not None else None
        if letter is None:
            raise self.ctx.fail("the index of a sum must be one letter (\\sum_k or \\sum_{k=1}^{K})", sub)
        return letter, 1

    def bound_value(self, sup: g.Script, node) -> int | None:
        entry = sup.items[0]
        value = _integer(entry)
        if value is not None:
            return value
        text = _source(self.ctx, entry).strip()
        for key in (text, squash(text)):
            if key in self.ctx.model.dims:
                return int(self.ctx.model.dims[key])
        mapped = self.ctx.notation.lookup(text)
        if mapped in self.ctx.model.dims:
            return int(self.ctx.model.dims[mapped])
        raise self.ctx.fail(f"the upper bound `{text}` is not a dim of the model", entry,
                            f"dims: {', '.join(self.ctx.model.dims)}")

    def merge_axes(self, vals, node):
        axes = [v.axes for v in vals if v.axes]
        if not axes:
            return None
        if any(a != axes[0] for a in axes):
            raise self.ctx.fail("the arguments have different free indices", node)
        return axes[0]

    # ----------------------------------------------------------------------------------------- functions
    def function_of(self, item) -> tuple[str, int] | None:
        """(function name, number of primes) when ``item`` is a function symbol."""
        base, scripts = (item.base, item.scripts) if isinstance(item, g.Factor) else (item, ())
        primes = sum(s.kind == "prime" for s in scripts)
        sup = [s for s in scripts if s.kind == "sup"]
        power = None
        if any(s.kind == "sub" for s in scripts):
            return None
        if sup:
            if len(sup) == 1 and len(sup[0].items) == 1 and isinstance(sup[0].items[0], g.Command) \
                    and sup[0].items[0].text == "prime":
                primes += 1
            elif len(sup) == 1 and len(sup[0].items) == 1 and _integer(sup[0].items[0]) is not None:
                power = _integer(sup[0].items[0])  # \tanh^2 z = (\tanh z)^2
            else:
                return None
        found = self._function_name(base, primes)
        if found is None or power is None:
            return found
        return found[0], found[1], power

    def _function_name(self, base, primes: int):
        spelled = _source(self.ctx, base)
        mapped = self.ctx.notation.function(spelled)
        if mapped is not None:
            return mapped, primes
        if self.ctx.notation.lookup(spelled) is not None:
            return None
        if isinstance(base, g.Command) and base.text in ("sigma", "tanh", "log", "ln", "exp", "det", "tr"):
            return base.text, primes
        if isinstance(base, g.Font) and base.font in ("operatorname", "mathrm", "text"):
            inner = _plain_name(base.body)
            if inner is not None and (inner in ELEMENTWISE or inner.lower() in ("softmax", "diag", "tr", "trace",
                                                                                 "det", "clip", "relu",
                                                                                 "sigmoid")):
                return inner, primes
        if isinstance(base, g.Name) and base.text in ("softmax", "diag", "clip", "ReLU", "relu", "sigmoid") \
                and base.text not in self.ctx.names:
            return base.text, primes
        return None

    def apply(self, fn: tuple, item, arg_node) -> Val:
        if len(fn) == 3:
            v = self.apply(fn[:2], item, arg_node)
            return Val(f"{wrap(v, POW + 1)} ** {fn[2]}", POW, v.axes)
        name, primes = fn
        after = ()
        if isinstance(arg_node, g.Factor) and isinstance(arg_node.base, g.Group) and arg_node.base.kind == "(":
            arg_node, after = arg_node.base, tuple(arg_node.scripts)  # \tanh(z)^2 is (\tanh z)^2
        if after:
            v = self.apply(fn, item, arg_node)
            return self.apply_scripts(v, after, item, None)
        if isinstance(arg_node, g.Group) and arg_node.kind == "(":
            args = [self.lower(a) for a in arg_node.items]
        else:
            args = [self.lower(arg_node)]
        key = name if name in ELEMENTWISE else name.lower()
        if key in ELEMENTWISE:
            if len(args) != 1:
                raise self.ctx.fail(f"{name} takes one argument, got {len(args)}", arg_node)
            if primes > 1:
                raise self.ctx.fail(f"{name} with {primes} primes: only first derivatives are supported", item)
            template = ELEMENTWISE[key][primes]
            text = template.format(wrap(args[0], ATOM) if "{0} " in template or " {0}" in template
                                   else args[0].text)
            return Val(text, ATOM, args[0].axes)
        if primes:
            raise self.ctx.fail(f"the derivative of {name} is not an elementwise function", item)
        for a in args:
            if a.axes:
                raise self.ctx.fail(f"{name} is a matrix function; it cannot take an indexed argument", arg_node)
        if key == "softmax":
            return Val(f"softmax({args[0].text}, axis={softmax_axis(self.ctx.model)})")
        if key in ("tr", "trace"):
            return Val(f"sum(diag({args[0].text}))")
        if key == "diag":
            shape = self.ctx.shape(args[0])
            if shape is not None and len(shape) == 2 and 1 in shape:  # diag of a row or column vector
                return Val(f"diag(reshape({args[0].text}, ({max(shape)},)))")
            return Val(f"diag({args[0].text})")
        if key == "det":
            return Val(f"det({args[0].text})")
        if key == "clip":
            if len(args) != 3:
                raise self.ctx.fail("clip takes three arguments: clip(x, lo, hi)", arg_node)
            return Val(f"clip({args[0].text}, {args[1].text}, {args[2].text})")
        raise self.ctx.fail(f"unknown function {name}", item)

    # ----------------------------------------------------------------------------------------- symbols
    def symbol(self, node) -> Val:
        base, scripts = (node.base, tuple(node.scripts)) if isinstance(node, g.Factor) else (node, ())
        base, scripts = _hoist_scripts(base, scripts)
        special = self.special(base, scripts, node)
        if special is not None:
            return special
        if isinstance(base, g.Number) or not (_single(base) is not None or isinstance(base, g.Group)):
            return self.apply_scripts(self.lower(base), scripts, node, None)
        try:
            name, rest = self.resolve(base, scripts, node)
        except LatexError:
            d = self.d_prefixed(base, scripts, node)
            if d is None:
                d = self.letters(base, scripts, node)
            if d is None:
                raise
            return d
        if name is None:
            return self.apply_scripts(self.lower(base), scripts, node, None)
        self.ctx.spelled.setdefault(name, self.spelling(base, scripts, rest))
        return self.apply_scripts(Val(name), rest, node, name)

    def letters(self, base, scripts, node) -> Val | None:
        """``XV`` read as the product of ``X`` and ``V`` when the run is no name but each letter is
        (the scripts belong to the last letter, as in LaTeX)."""
        if not (isinstance(base, g.Name) and len(base.text) > 1 and all(c in self.ctx.names for c in base.text)):
            return None
        items = [g.Name(base.start + k, base.start + k + 1, text=c) for k, c in enumerate(base.text)]
        if scripts:
            items[-1] = g.Factor(items[-1].start, node.end, base=items[-1], scripts=tuple(scripts))
        return self.product(items, node)

    def d_prefixed(self, base, scripts, node) -> Val | None:
        """``dW_2`` / ``dZ^{[1]}``: the true derivative of the objective with respect to W2 / Z1."""
        if not (isinstance(base, g.Name) and base.text.startswith("d") and len(base.text) > 1):
            return None
        stripped = g.Name(base.start + 1, base.end, text=base.text[1:])
        try:
            name, rest = self.resolve(stripped, scripts, node)
        except LatexError:
            return None
        if name is None or name not in self.ctx.model.names:
            return None
        v = self.derivative_value(Deriv(self.ctx.model.objective, name, node=node))
        self.ctx.spelled.setdefault(v.text, "d" + self.spelling(stripped, scripts, rest))
        return self.apply_scripts(v, rest, node, v.text)

    def special(self, base, scripts, node) -> Val | None:
        """\\mathbf{1}, \\mathbb{1} (an indicator when followed by brackets, handled in apply_scripts)."""
        if isinstance(base, g.Font) and base.font in ("mathbf", "mathbb", "boldsymbol", "bm") \
                and _integer(base.body) == 1:
            sub = next((s for s in scripts if s.kind == "sub"), None)
            rest = tuple(s for s in scripts if s is not sub)
            if sub is not None:
                size = self.bound_value(sub, node)
                v = Val(f"ones(({size}, 1))")
            else:
                v = Val("", ones="col")
            for s in rest:
                if s.kind == "sup" and _is_transpose(s, self.ctx):
                    v = Val(v.text + ".T") if v.text else Val("", ones="row" if v.ones == "col" else "col")
                else:
                    raise self.ctx.fail("only a transpose may follow \\mathbf{1}", node)
            return v
        if isinstance(base, g.Command) and base.text == "partial":
            raise self.ctx.fail("a lone \\partial: write a derivative as \\frac{\\partial L}{\\partial W}", node)
        return None

    def candidates(self, base) -> list[str]:
        """Model-name stems a LaTeX base may stand for."""
        spelled = _source(self.ctx, base)
        mapped = self.ctx.notation.lookup(spelled)
        if mapped is not None:
            return [mapped]
        if isinstance(base, g.Name):
            return [base.text]
        if isinstance(base, g.Number):
            return []
        if isinstance(base, g.Command):
            return list(greek_stems(base.text))
        if isinstance(base, g.Font):
            if base.font in TRANSPARENT_FONTS or base.font == "mathcal" or base.font == "operatorname":
                inner = _single(base.body)
                return self.candidates(inner) if inner is not None else []
            return []
        if isinstance(base, g.Accent):
            inner = _single(base.body)
            suffix = ACCENT_SUFFIX.get(base.accent, base.accent)
            stems = self.candidates(inner) if inner is not None else []
            return [s + suffix for s in stems] + [s + "_" + suffix for s in stems]
        if isinstance(base, g.Group) and base.kind == "{" and len(base.items) == 1:
            inner = _single(base.items[0])
            return self.candidates(inner) if inner is not None else []
        return []

    def resolve(self, base, scripts: tuple, node) -> tuple[str, tuple]:
        """The model name ``base`` with its scripts stands for, and the scripts it did not consume."""
        if isinstance(base, (g.Group, g.Abs, g.Matrix, g.Frac, g.Sqrt)) and not (
                isinstance(base, g.Group) and base.kind == "{" and _single(base.items[0]) is not None):
            return None, scripts  # handled by apply_scripts on the lowered value
        known = self.ctx.names
        for keep in [()] + [(x,) for x in scripts]:  # [notation] for a whole symbol: "z^3_1" = "z3_1"
            used = tuple(x for x in scripts if x not in keep)
            key = _source(self.ctx, base) + "".join(_source(self.ctx, x) for x in used)
            mapped = self.ctx.notation.lookup(key) if used else None
            if mapped is not None and mapped in known:
                return mapped, keep
        stems = self.candidates(base)
        spelled = _source(self.ctx, base)
        if not stems:
            raise self.unknown(spelled, base, known)
        readings: list[tuple[str, tuple, str]] = []  # (name, remaining scripts, description)
        for s in scripts:
            if s.kind == "prime":
                continue
            label, explicit, extra = _label(s)
            if label is None:
                continue
            for stem in stems:
                if stem + label in known:
                    rest = tuple(x for x in scripts if x is not s) + ((extra,) if extra is not None else ())
                    how = f"layer {label}" if explicit or s.kind == "sup" else f"label {label}"
                    readings.append((stem + label, rest, f"{stem + label} ({how})"))
            if explicit and not any(r[0] == stem + label for r in readings for stem in stems):
                raise self.ctx.fail(f"unknown symbol `{_source(self.ctx, node)}`: the model has no "
                                    f"{' or '.join(st + label for st in stems[:2])}", node,
                                    _known_hint(stems[0] + label, known))
        if any(r[2].endswith("(layer " + r[0][len(r[0]) - len(_label(x)[0] or ""):] + ")") for r in readings
               for x in scripts if x.kind == "sup"):
            pass
        sup_layers = [r for r in readings if "(layer" in r[2] and not any(x.kind == "sub" and x not in r[1]
                                                                              for x in scripts)]
        if sup_layers and any(x.kind == "sub" for x in scripts):
            readings = sup_layers  # w^3_{1,1}: the superscript is the layer, the subscript the entry
        plain = [s for s in stems if s in known]
        explicit_label = any(_label(s)[1] for s in scripts if s.kind != "prime")
        if plain and not explicit_label:
            for stem in plain:
                desc = stem
                bare = [s for s in scripts if s.kind != "prime" and _label(s)[0] is not None]
                if bare:
                    s = bare[0]
                    desc = (f"{stem} to the power {_label(s)[0]}" if s.kind == "sup"
                            else f"entry {_label(s)[0]} of {stem}")
                    if not self.indexable(stem) and s.kind == "sub":
                        continue
                readings.append((stem, scripts, desc))
        names = list(dict.fromkeys(r[0] for r in readings))
        if len(readings) > 1 and len({(r[0], r[1]) for r in readings}) > 1:
            listing = "; ".join(r[2] for r in readings)
            raise self.ctx.fail(f"ambiguous symbol `{_source(self.ctx, node)}`: it could be {listing}", node,
                                "write W^{[2]} or W_{(2)} for a layer, {W}^{2} or (W)^2 for a power, "
                                "or add it to [notation]")
        if not names:
            raise self.unknown(_source(self.ctx, node), node, known, stems)
        return readings[0][0], readings[0][1]

    def spelling(self, base, scripts: tuple, rest: tuple) -> str:
        """How the LaTeX names a symbol: its base and the scripts that named it (not indices or ^T)."""
        out = _source(self.ctx, base)
        for s in scripts:
            if s in rest:
                continue
            label, _, extra = _label(s)
            src = _source(self.ctx, s)
            if extra is not None and s.kind == "sup":  # A^{[1]T}: the label without the transpose
                out += "^{" + ("[" + label + "]" if "[" in src else "(" + label + ")") + "}"
            elif extra is not None:  # W_{2,jk}: the label without the indices
                out += "_{" + label + "}"
            else:
                out += src
        return out

    def indexable(self, name: str) -> bool:
        return np.ndim(self.ctx.sample.get(name, 0.0)) > 0

    def unknown(self, spelled: str, node, known, stems=()) -> LatexError:
        hint = _known_hint(stems[0] if stems else spelled.strip("\\"), known)
        return self.ctx.fail(f"unknown symbol `{spelled}`: no model name, dim, constant or derivative name "
                             f"matches it", node, hint + " (map it in [notation]: \"" +
                             spelled.replace("\\", "\\\\") + "\" = \"<name>\")")

    def apply_scripts(self, v: Val, scripts: tuple, node, name: str | None) -> Val:
        subs = [s for s in scripts if s.kind == "sub"]
        for s in subs:
            v = self.index(v, s, node, name)
        for s in scripts:
            if s.kind == "prime":
                if self.ctx.notation.prime != "transpose":
                    raise self.ctx.fail("a prime on a symbol: set [notation] prime = \"transpose\" to read it "
                                        "as a transpose", node, "or write ^\\top")
                v = self.transpose(v, node)
            elif s.kind == "sup":
                v = self.superscript(v, s, node)
        return v

    def superscript(self, v: Val, s: g.Script, node) -> Val:
        items = s.items
        if len(items) == 1 and _is_transpose(s, self.ctx):
            return self.transpose(v, node)
        entry = items[0] if len(items) == 1 else None
        if entry is not None and _integer(_neg(entry)) == 1 and _is_negative(entry):
            shape = self.ctx.shape(v)
            if v.axes is None and shape is not None and len(shape) == 2:
                return Val(f"inv({v.text})")
            return Val(f"1 / {wrap(v, MUL + 1)}", MUL, v.axes)
        if entry is None:
            raise self.ctx.fail("a superscript with commas", s)
        power = self.lower(entry)
        if power.axes:
            raise self.ctx.fail("an indexed exponent", s)
        return Val(f"{wrap(v, POW + 1)} ** {wrap(power, POW)}", POW, v.axes)

    def transpose(self, v: Val, node) -> Val:
        if v.axes is not None:
            raise self.ctx.fail("a transpose of an indexed entry", node, "swap the indices instead")
        if v.ones:
            return Val("", ones="row" if v.ones == "col" else "col")
        return Val(f"{wrap(v, ATOM)}.T")

    # ----------------------------------------------------------------------------------------- indices
    def index(self, v: Val, s: g.Script, node, name: str | None) -> Val:
        if v.axes is not None:
            raise self.ctx.fail("an indexed entry indexed again", s)
        shape = self.ctx.shape(v)
        if shape is None:
            raise self.ctx.fail("cannot index this value", s)
        entries = list(s.items)
        vector_axis = None
        if len(entries) == 1 and len(shape) == 2 and 1 in shape and _letters_run(entries[0]) is None or (
                len(entries) == 1 and len(shape) == 2 and 1 in shape and len(_letters_run(entries[0]) or "") == 1):
            vector_axis = 1 if shape[0] == 1 else 0  # y_1 of a row (1, n) or column (n, 1) vector
        if vector_axis is not None:
            filler = g.Number(s.start, s.start, text="1")
            entries = [entries[0], filler] if vector_axis == 0 else [filler, entries[0]]
        if len(entries) == 1 and len(shape) > 1:
            letters = _letters_run(entries[0])
            if letters is not None and len(letters) == len(shape):
                entries = [g.Name(entries[0].start + k, entries[0].start + k + 1, text=c)
                           for k, c in enumerate(letters)]
        if len(entries) != len(shape):
            raise self.ctx.fail(f"`{_source(self.ctx, node)}` has {len(entries)} index(es), but "
                                f"{name or 'the value'} has {len(shape)} axes (shape {shape})", s)
        specs = []
        for axis, (e, n) in enumerate(zip(entries, shape)):
            specs.append(self.index_spec(e, n, axis, name))
        if all(kind != "affine" for kind, *_ in specs):
            parts, axes = [], []
            for kind, value, _ in specs:
                if kind == "const":
                    parts.append(str(value - 1))
                else:
                    parts.append(":")
                    axes.append(value)
            if len(set(axes)) != len(axes):
                raise self.ctx.fail("the same index twice on one symbol (a diagonal) is not supported", s)
            text = v.text if not any(p != ":" for p in parts) else f"{wrap(v, ATOM)}[{', '.join(parts)}]"
            return Val(text, ATOM, tuple(axes))
        return self.gather(v, specs, s, shape)

    def index_spec(self, entry, size: int, axis: int, name):
        value = _integer(entry)
        if value is not None:
            if not 1 <= value <= size:
                raise self.ctx.fail(f"index {value} is out of range: axis {axis + 1} of {name} has {size} entries "
                                    f"(indices are 1-based)", entry)
            return ("const", value, None)
        letter = _letter(entry)
        if letter is not None:
            self.note_size(letter, size, entry)
            return ("free", letter, None)
        terms = _affine(entry)
        if terms is None:
            raise self.ctx.fail(f"the index `{_source(self.ctx, entry)}` must be a letter, a number or a sum of "
                                f"them (i+j-1)", entry)
        return ("affine", terms, size)

    def note_size(self, letter: str, size: int, node) -> None:
        known = self.ctx.index_sizes.get(letter)
        if known is not None and known != size:
            raise self.ctx.fail(f"the index {letter} ranges over {known} entries elsewhere, but over {size} here",
                                node)
        self.ctx.index_sizes[letter] = size

    def gather(self, v: Val, specs, s, shape) -> Val:
        """A reference with index arithmetic (x_{i+j-1}), spelled out entry by entry."""
        letters = []
        for kind, value, _ in specs:
            names = [value] if kind == "free" else [t for t in (value if kind == "affine" else {}) if t != 1]
            for letter in names:
                if letter not in letters:
                    letters.append(letter)
        free_plain = [value for kind, value, _ in specs if kind == "free"]
        outer = [x for x in letters if x not in free_plain]
        sizes = []
        for letter in outer:
            if letter not in self.ctx.index_sizes:
                raise self.ctx.fail(f"the range of index {letter} is not known here", s,
                                    f"index another symbol with {letter} too, or sum over {letter}=1..K")
            sizes.append(self.ctx.index_sizes[letter])
        if int(np.prod(sizes)) > MAX_GATHER:
            raise self.ctx.fail(f"index arithmetic over {int(np.prod(sizes))} entries is too many", s)

        def entry(values: dict) -> str:
            parts = []
            for axis, (kind, value, size) in enumerate(specs):
                if kind == "const":
                    parts.append(str(value - 1))
                elif kind == "free":
                    parts.append(":")
                else:
                    pos = sum(coef * (1 if term == 1 else values[term]) for term, coef in value.items())
                    if not 1 <= pos <= size:
                        raise self.ctx.fail(f"the index reaches {pos}, outside 1..{size}", s)
                    parts.append(str(pos - 1))
            return f"{wrap(v, ATOM)}[{', '.join(parts)}]"

        def nest(k: int, values: dict) -> str:
            if k == len(outer):
                return entry(values)
            return "stack([" + ", ".join(nest(k + 1, {**values, outer[k]: t})
                                         for t in range(1, sizes[k] + 1)) + "])"

        return Val(nest(0, {}), ATOM, tuple(outer) + tuple(free_plain))

    # ----------------------------------------------------------------------------------------- derivatives
    def derivative(self, node: g.Frac) -> Deriv | None:
        """A ``\\frac{\\partial of}{\\partial wrt}`` (or ``\\frac{d of}{d wrt}``) node, resolved."""
        num, den = _after_d(node.num), _after_d(node.den)
        if num is None or den is None:
            return None
        of, of_idx = self.numerator(num, node)
        wrt, wrt_idx = self.denominator(den, node)
        return Deriv(of, wrt, of_idx, wrt_idx, node)

    def numerator(self, items: list, node) -> tuple[str, tuple]:
        model = self.ctx.model
        if not items:
            raise self.ctx.fail("the numerator of this derivative is empty", node,
                                "write \\frac{\\partial L}{\\partial W}")
        first = items[0]
        spelled = squash(self.ctx.latex[first.start:items[-1].end])
        base_spelled = squash(_source(self.ctx, first.base if isinstance(first, g.Factor) else first))
        mapped = self.ctx.notation.lookup(spelled) or self.ctx.notation.lookup(base_spelled)
        if mapped is not None and mapped in model.names:
            return mapped, ()
        for spelling in (spelled, base_spelled):
            if spelling in OBJECTIVE_SPELLINGS and spelling not in model.names:
                return model.objective, ()
        if len(items) > 1:
            raise self.ctx.fail(f"cannot read the numerator `{spelled}`", first,
                                f"the objective is {model.objective!r}; write \\partial L or map it in [notation]")
        return self.reference(first)

    def denominator(self, items: list, node) -> tuple[str, tuple]:
        if len(items) != 1:
            raise self.ctx.fail("the denominator of a derivative must be one symbol (\\partial W_2)", node)
        return self.reference(items[0])

    def reference(self, node) -> tuple[str, tuple]:
        """A model name with the free indices written on it (``w_{ij}`` -> ("w", ("i", "j")))."""
        base, scripts = (node.base, tuple(node.scripts)) if isinstance(node, g.Factor) else (node, ())
        base, scripts = _hoist_scripts(base, scripts)
        name, rest = self.resolve(base, scripts, node)
        if name is None or name not in self.ctx.model.names:
            raise self.ctx.fail(f"`{_source(self.ctx, node)}` is not a quantity of the model", node,
                                f"derivatives are taken of and with respect to: {', '.join(self.ctx.model.names)}")
        self.ctx.spelled.setdefault(name, self.spelling(base, scripts, rest))
        v = self.apply_scripts(Val(name), rest, node, name)
        if v.text != name and v.axes is None:
            raise self.ctx.fail(f"`{_source(self.ctx, node)}`: only indices may follow the name here", node)
        if v.axes is not None and v.text != name:
            raise self.ctx.fail(f"`{_source(self.ctx, node)}`: the indices of a derivative must be letters, "
                                f"one per axis", node, "a derivative of a single entry cannot be checked as a claim")
        return name, tuple(v.axes or ())

    def derivative_value(self, d: Deriv) -> Val:
        """A derivative inside a formula stands for its TRUE value (like a claim name)."""
        model = self.ctx.model
        if np.shape(self.ctx.sample.get(d.of, 0.0)) != () or d.of_indices:
            raise self.ctx.fail("a derivative of a non-scalar inside a formula is not supported", d.node,
                                "use the derivative of the objective, or name it with \\equiv")
        name = next((n for n, ow in {**self.ctx.derivatives, **self.ctx.uses}.items() if ow == (d.of, d.wrt)),
                    None)
        if name is None:
            name = f"d{d.of}_d{d.wrt}" if d.of != model.objective else f"d_{d.wrt}"
        self.ctx.uses[name] = (d.of, d.wrt)
        self.ctx.add_derivative_sample(name, d.of, d.wrt)
        if d.wrt_indices:
            return Val(name, ATOM, d.wrt_indices)
        return Val(name)


class _Lowered(g.Node):
    """An already lowered operand re-entering :meth:`Lowerer.product`."""

    def __init__(self, v: Val):
        object.__setattr__(self, "start", 0)
        object.__setattr__(self, "end", 0)
        object.__setattr__(self, "v", v)


def _lower_lowered(self, node):
    return node.v


Lowerer.lower__Lowered = _lower_lowered


# ---------------------------------------------------------------------------------------------- helpers
def _single(node):
    """The one symbol-like node inside a trivial Product / brace group, or None."""
    while True:
        if isinstance(node, g.Product) and len(node.items) == 1:
            node = node.items[0]
        elif isinstance(node, g.Group) and node.kind == "{" and len(node.items) == 1:
            node = node.items[0]
        else:
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
            base = replace(base, body=body.base)
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


def _is_transpose(s: g.Script, ctx: Context) -> bool:
    if len(s.items) != 1:
        return False
    node = _single(s.items[0])
    if isinstance(node, (g.Name, g.Command)) and node.text in ("T", "top", "intercal", "mathsf{T}"):
        return not (node.text == "T" and "T" in ctx.names)
    if isinstance(node, g.Font) and node.font in ("mathsf", "mathrm", "mathbf") and _plain_name(node.body) == "T":
        return True
    return False


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
        return [replace(first, base=base, start=first.start + 1)] + items[1:]
    return None


def _known_hint(name: str, known) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(map(str, known)), n=3, cutoff=0.5)
    return f"did you mean {' or '.join(close)}?" if close else f"known names: {', '.join(sorted(map(str, known)))}"


def lower_expression(node, ctx: Context) -> Val:
    """Lower once to learn the index ranges (an indicator may come before the symbols it ranges over),
    then again for the result."""
    try:
        Lowerer(ctx).lower(node)
    except LatexError:
        pass
    return Lowerer(ctx).lower(node)


def order_axes(v: Val, order: tuple, shape: tuple, ctx: Context, node) -> str:
    """The IR text of an indexed result with its axes in ``order`` (the derivative's axes)."""
    axes = v.axes or ()
    extra = [a for a in axes if a not in order]
    if extra:
        raise ctx.fail(f"the free index {extra[0]} is not an index of the left side", node,
                       f"sum over it (\\sum_{{{extra[0]}}}) or use the left side's indices {', '.join(order)}")
    aligned = Lowerer.align(v, order) if axes else v
    if len(axes) < len(order):
        return f"{wrap(aligned, MUL)} * ones({tuple(shape)!r})"
    return aligned.text


def free_index_order(v: Val) -> tuple:
    return tuple(v.axes or ())
