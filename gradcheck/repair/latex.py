"""A formula and its repair in the document's own notation: LaTeX from Python expression trees.

The repair search edits Python expressions (``h - y``, ``outer(dJ_dA3 * identity_prime(Z3), At2)``);
a reader of the document knows ``h - y`` as :math:`h - y` and ``Z3`` as :math:`Z^{(3)}`. This module
renders:

* an expression tree with a *symbol table* (``{"Z3": r"Z^{(3)}", "relu_prime": r"\\varphi'\\left(#1\\right)"}``,
  a derivation's ``symbols``): names by their symbol, helper calls by their template, derivative
  names of ``uses`` as :math:`\\partial\\,of / \\partial\\,wrt`; names without a symbol get a default
  (``W2`` -> :math:`W_{2}`, ``delta`` -> :math:`\\delta`);
* helpers that the search inlined are folded back first (``(0 * Z3 + 1)`` is ``identity_prime(Z3)``
  again), so a fix reads like the formula the author wrote;
* the repaired equation ``lhs = rhs``: when every edit applies to the whole formula (sign, transpose,
  scale, batch sum) and the claim's LaTeX has one top-level ``=``, the document's own right-hand side
  is wrapped; otherwise the edited expression is rendered;
* the edits in words, each Python fragment (between backticks) rendered as ``$...$`` math, and a
  sentence saying what the repair reveals (:func:`explanation`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any, Mapping

_GREEK = {"alpha", "beta", "gamma", "delta", "Delta", "epsilon", "eta", "theta", "lambda", "mu", "sigma", "phi",
          "varphi", "psi", "omega", "tau", "rho", "xi", "zeta", "kappa", "nu", "pi", "chi"}
_GREEK_ALIASES = {"lam": "lambda"}

# gradcheck.ops functions -> LaTeX templates ({0}, {1}: rendered arguments)
_FUNCTIONS = {
    "exp": r"\exp\left({0}\right)", "log": r"\log\left({0}\right)", "sqrt": r"\sqrt{{{0}}}",
    "abs": r"\left\vert {0}\right\vert ", "tanh": r"\tanh\left({0}\right)", "sigmoid": r"\sigma\left({0}\right)",
    "relu": r"\max\left(0, {0}\right)", "softmax": r"\mathrm{{softmax}}\left({0}\right)",
    "log_softmax": r"\log\mathrm{{softmax}}\left({0}\right)", "softplus": r"\log\left(1 + e^{{{0}}}\right)",
"diag": r"\mathrm{{diag}}\left({0}\right)", "sign": r"\mathrm{{sign}}\left({0}\right)",
    "sign_of_real": r"\mathrm{{sign}}\left({0}\right)", "eye": r"I_{{{0}}}", "ones": r"\mathbf{{1}}",
    "zeros": r"\mathbf{{0}}", "maximum": r"\max\left({0}, {1}\right)", "minimum": r"\min\left({0}, {1}\right)",
    "where": r"\begin{{cases}} {1} & \text{{if }} {0} \\ {2} & \text{{else}} \end{{cases}}",
    "identity": r"{0}", "logsumexp": r"\log\sum \exp\left({0}\right)",
}


def symbol(name: str, symbols: Mapping[str, str] | None = None,
           uses: Mapping[str, tuple[str, str]] | None = None) -> str:
    """LaTeX for one name: the symbol table, a derivative name of ``uses``, else a default."""
    symbols = symbols or {}
    if name in symbols and "#1" not in symbols[name]:
        return symbols[name]
    if uses and name in uses:
        of, wrt = uses[name]
        return rf"\frac{{\partial {symbol(of, symbols)}}}{{\partial {symbol(wrt, symbols)}}}"
    return default_symbol(name)


def default_symbol(name: str) -> str:
    """``W2`` -> ``W_{2}``, ``delta`` -> ``\\delta``, ``lam`` -> ``\\lambda``, ``yhat`` -> ``\\mathrm{yhat}``."""
    m = re.fullmatch(r"([A-Za-z]+?)_?(\d*)", name)
    if not m:
        escaped = name.replace("_", r"\_")
        return rf"\mathrm{{{escaped}}}"
    base, digits = m.groups()
    base = _GREEK_ALIASES.get(base, base)
    if base in _GREEK:
        base = "\\" + base
    elif len(base) > 1:
        base = rf"\mathrm{{{base}}}"
    return f"{base}_{{{digits}}}" if digits else base


# ------------------------------------------------------------------------------------------- helpers
@dataclass(frozen=True)
class Helper:
    """A module function the search inlines: its name, its parameter count and its inlined body."""

    name: str
    params: tuple[str, ...]
    body: ast.AST  # with parameters named __p0, __p1, ...


def helpers_of(formula: Any) -> tuple[Helper, ...]:
    """The single-return helpers the formula's module defines, with their bodies inlined as the search does."""
    from gradcheck.repair.source import NotSearchable, inline_helpers

    module = getattr(formula, "__globals__", None) or {}
    out = []
    for name, fn in list(module.items()):
        code = getattr(fn, "__code__", None)
        if code is None or getattr(fn, "__module__", None) != module.get("__name__") or name.startswith("__"):
            continue
        params = tuple(f"__p{k}" for k in range(code.co_argcount))
        if not params:
            continue
        call = ast.parse(f"{name}({', '.join(params)})", mode="eval").body
        try:
            body = inline_helpers(call, module, set(params))
        except (NotSearchable, Exception):  # noqa: BLE001 - a helper that cannot be inlined is never folded
            continue
        if isinstance(body, ast.Call) and isinstance(body.func, ast.Name) and body.func.id == name:
            continue
        out.append(Helper(name, params, _normal(body)))
    return tuple(sorted(out, key=lambda h: -_size(h.body)))  # largest first: fold the outermost pattern


def _normal(node: ast.AST) -> ast.AST:
    return ast.parse(ast.unparse(node), mode="eval").body


def _size(node: ast.AST) -> int:
    return sum(1 for _ in ast.walk(node))


def _match(pattern: ast.AST, node: ast.AST, params: tuple[str, ...], bound: dict[str, ast.AST]) -> bool:
    if isinstance(pattern, ast.Name) and pattern.id in params:
        if pattern.id in bound:
            return ast.dump(bound[pattern.id]) == ast.dump(node)
        bound[pattern.id] = node
        return True
    if type(pattern) is not type(node):
        return False
    for fname, pval in ast.iter_fields(pattern):
        if fname == "ctx":
            continue
        nval = getattr(node, fname, None)
        if isinstance(pval, list):
            if not isinstance(nval, list) or len(pval) != len(nval):
                return False
            for p, n in zip(pval, nval):
                if isinstance(p, ast.AST):
                    if not isinstance(n, ast.AST) or not _match(p, n, params, bound):
                        return False
                elif p != n:
                    return False
        elif isinstance(pval, ast.AST):
            if not isinstance(nval, ast.AST) or not _match(pval, nval, params, bound):
                return False
        elif pval != nval:
            return False
    return True


def fold_helpers(node: ast.AST, helpers: tuple[Helper, ...]) -> ast.AST:
    """``node`` with every subtree that is an inlined helper replaced by the helper's call."""
    if not helpers:
        return node

    class Folder(ast.NodeTransformer):
        def visit(self, n):
            if isinstance(n, ast.expr) and not isinstance(n, ast.Name):
                for h in helpers:
                    bound: dict[str, ast.AST] = {}
                    if _match(h.body, n, h.params, bound) and len(bound) == len(h.params):
                        args = [self.visit(bound[p]) for p in h.params]
                        return ast.Call(func=ast.Name(id=h.name, ctx=ast.Load()), args=args, keywords=[])
            return self.generic_visit(n)

    return Folder().visit(_normal(node))


# ------------------------------------------------------------------------------------------- rendering
_PREC = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.MatMult: 2, ast.Div: 2, ast.Pow: 4}


class Renderer:
    """Expression tree -> LaTeX with a symbol table; ``uses`` names render as derivatives."""

    def __init__(self, symbols: Mapping[str, str] | None = None, uses: Mapping[str, tuple[str, str]] | None = None):
        self.symbols = dict(symbols or {})
        self.uses = dict(uses or {})

    def __call__(self, node: ast.AST, parent: int = 0) -> str:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise ValueError(f"no LaTeX for {type(node).__name__}")
        return method(node, parent)

    def _Expression(self, node, parent):
        return self(node.body, parent)

    def _Name(self, node, parent):
        return symbol(node.id, self.symbols, self.uses)

    def _Constant(self, node, parent):
        v = node.value
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return str(v)

    def _Attribute(self, node, parent):
        if node.attr == "T":
            return rf"{{{self(node.value, 5)}}}^\top"
        raise ValueError(f"no LaTeX for the attribute .{node.attr}")

    def _UnaryOp(self, node, parent):
        s = "-" + self(node.operand, 3)
        return rf"\left({s}\right)" if parent > 1 else s

    def _BinOp(self, node, parent):
        p = _PREC[type(node.op)]
        if isinstance(node.op, ast.Div):
            return rf"\frac{{{self(node.left)}}}{{{self(node.right)}}}"
        if isinstance(node.op, ast.Pow):
            return rf"{{{self(node.left, 5)}}}^{{{self(node.right)}}}"
        if isinstance(node.op, ast.Mult) and _is_scalar_literal(node.left):
            s = self(node.left, p) + r"\," + self(node.right, p + 1)
        else:
            op = {ast.Add: " + ", ast.Sub: " - ", ast.Mult: r" \odot ", ast.MatMult: r"\, "}[type(node.op)]
            s = self(node.left, p) + op + self(node.right, p + 1)
        return rf"\left({s}\right)" if p < parent else s

    def _Compare(self, node, parent):
        ops = {ast.Gt: ">", ast.GtE: r"\ge", ast.Lt: "<", ast.LtE: r"\le", ast.Eq: "=", ast.NotEq: r"\ne"}
        return rf"\mathbb{{1}}\left[{self(node.left)} {ops[type(node.ops[0])]} {self(node.comparators[0])}\right]"

    def _Tuple(self, node, parent):
        return ", ".join(self(e) for e in node.elts)

    _List = _Tuple

    def _Subscript(self, node, parent):
        idx = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        parts = [self._index(i) for i in idx]
        parts = [p for p in parts if p is not None]
        base = self(node.value, 5)
        if all(p == ":" for p in parts):  # only broadcasting: the array itself
            return base
        return rf"{{{base}}}_{{{','.join(parts)}}}"

    def _index(self, i: ast.AST) -> str | None:
        if isinstance(i, ast.Constant) and i.value is None:
            return None  # a new axis: broadcasting, no index
        if isinstance(i, ast.Constant) and isinstance(i.value, int):
            return str(i.value + 1)  # documents count from 1
        if isinstance(i, ast.Slice):
            lo = "" if i.lower is None else (str(i.lower.value + 1) if isinstance(i.lower, ast.Constant)
                                             else self(i.lower) + "+1")
            hi = "" if i.upper is None else (str(i.upper.value) if isinstance(i.upper, ast.Constant) else self(i.upper))
            return ":" if not lo and not hi else rf"{lo}{{:}}{hi}"
        if isinstance(i, ast.UnaryOp) and isinstance(i.op, ast.USub) and isinstance(i.operand, ast.Constant):
            return r"\text{last}" if i.operand.value == 1 else rf"\text{{last}}-{i.operand.value - 1}"
        return self(i)

    def _Call(self, node, parent):
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        args = [self(a) for a in node.args]
        kw = {k.arg: k.value for k in node.keywords}
        template = self.symbols.get(name)
        if template is not None and "#1" in template:
            out = fill(template, args)
            return rf"\left({out}\right)" if parent >= 2 and (" + " in out or " - " in out) else out
        if name == "outer" and len(node.args) == 2:
            return rf"{self(node.args[0], 3)}\,{{{self(node.args[1], 5)}}}^\top"
        if name in ("sum", "mean") and node.args:
            axis = kw.get("axis")
            body = self(node.args[0], 5)
            pre = "" if name == "sum" else r"\frac{1}{n}"
            if axis is None:
                return rf"{pre}\sum {body}"
            ax = axis.value if isinstance(axis, ast.Constant) else None
            index = {0: ("i", "{i,:}"), 1: ("j", "{:,j}")}.get(ax, ("k", "k"))
            return rf"{pre}\sum_{{{index[0]}}} {{{body}}}_{index[1]}"
        if name == "transpose" and len(node.args) == 2:
            perm = ast.literal_eval(node.args[1]) if isinstance(node.args[1], (ast.Tuple, ast.List)) else None
            if perm is not None:
                return rf"\left({args[0]}\right)^{{\text{{axes }}({', '.join(str(p + 1) for p in perm)})}}"
            return rf"{{{args[0]}}}^\top"
        if name in ("concatenate", "stack") and node.args and isinstance(node.args[0], (ast.List, ast.Tuple)):
            items = [self(e) for e in node.args[0].elts]
            return r"\left[" + r"\ ".join(items) + r"\right]"
        if name in _FUNCTIONS:
            return _FUNCTIONS[name].format(*args, *([""] * 3))
        return rf"\operatorname{{{default_symbol(name)}}}\left({', '.join(args)}\right)"


def fill(template: str, args) -> str:
    """A symbol-table template with ``#1``, ``#2``, ... (as in a LaTeX macro) replaced by the rendered
    arguments; everything else is plain LaTeX."""
    for k in range(len(args), 0, -1):
        template = template.replace(f"#{k}", args[k - 1])
    return template


def _is_scalar_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) or (isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant))


def to_latex(text_or_tree: Any, symbols: Mapping[str, str] | None = None,
             uses: Mapping[str, tuple[str, str]] | None = None, helpers: tuple[Helper, ...] = ()) -> str:
    """LaTeX of a Python expression (text or tree), helpers folded back."""
    tree = ast.parse(text_or_tree, mode="eval").body if isinstance(text_or_tree, str) else text_or_tree
    if isinstance(tree, ast.Expression):
        tree = tree.body
    return Renderer(symbols, uses)(fold_helpers(tree, helpers))


def lhs(claim: Any, model: Any, symbols: Mapping[str, str] | None = None) -> str:
    """The left-hand side of a claim in the document's symbols: ``\\frac{\\partial J}{\\partial Z^{(3)}} =``."""
    of = symbol(claim.target(model), symbols)
    wrt = symbol(claim.wrt, symbols)
    if claim.kind == "value":
        return f"{of} ="
    if claim.kind == "update":
        return rf"{wrt} \leftarrow"
    frac = rf"\frac{{\partial {of}}}{{\partial {wrt}}}"
    return frac + (r"^\top" if claim.layout == "denominator" else "") + " ="


def wrap_rhs(latex: str, edits) -> str | None:
    """The document's equation with whole-formula edits applied to its right-hand side, or None."""
    depth, eqs = 0, []
    for i, ch in enumerate(latex):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "=" and depth == 0:
            eqs.append(i)
    if len(eqs) != 1 or r"\text" in latex:  # prose inside the equation: rendering it again would mislead
        return None
    left, rhs = latex[: eqs[0]].rstrip(), latex[eqs[0] + 1:].strip()
    for e in edits:
        d = e.description
        if e.kind == "sign":
            rhs = rf"-\left({rhs}\right)"
        elif e.kind == "transpose" and d.startswith("transpose"):
            rhs = rf"\left({rhs}\right)^\top"
        elif e.kind == "scale" and (m := re.match(r"(multiply|divide) the whole formula by `(.+)`", d)):
            f = m.group(2) if m.group(2).isdigit() else default_symbol(m.group(2))
            rhs = rf"{f}\,\left({rhs}\right)" if m.group(1) == "multiply" else rf"\frac{{1}}{{{f}}}\left({rhs}\right)"
        elif e.kind == "batch sum" and d.startswith("sum the whole"):
            rhs = rf"\sum_{{i}} \left({rhs}\right)_{{i,:}}"
        else:
            return None
    return f"{left} = {rhs}"


@dataclass(frozen=True)
class FixText:
    """A repair for readers: the equation (LaTeX), the edits in words (with ``$...$`` math) and what it reveals."""

    latex: str
    words: tuple[str, ...]
    explanation: str


def describe_repair(claim: Any, model: Any, tree: ast.AST, edits, *, symbols: Mapping[str, str] | None = None,
                    uses: Mapping[str, tuple[str, str]] | None = None) -> FixText:
    """The repaired equation and its edits in the document's notation (see the module docstring)."""
    helpers = helpers_of(claim.formula)
    equation = None
    if claim.latex and edits and all(e.root for e in edits):
        equation = wrap_rhs(claim.latex, edits)
    if equation is None:
        try:
            equation = f"{lhs(claim, model, symbols)} {to_latex(tree, symbols, uses, helpers)}"
        except (ValueError, KeyError, IndexError, SyntaxError, AttributeError):
            equation = ""
    if equation and len(set(part.strip() for part in equation.split("=", 1))) == 1:
        equation = ""  # "y^ = y^": the statement itself is what is wrong, no equation to show
    words = tuple(edit_words(e.description, symbols, uses, helpers) for e in edits)
    return FixText(equation, words, explanation([e.kind for e in edits], words))


_BACKTICKS = re.compile(r"`([^`]+)`")
_OPERATOR_WORDS = {"@": "the matrix product", "*": "the elementwise product", "+": "plus", "-": "minus"}
_ACTIVATION_NAMES = {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\mathrm{relu}",
                     "softplus": r"\mathrm{softplus}"}
_LABEL = re.compile(r"\b(sigmoid|tanh|relu|softplus)'\((\w+)\)")


def edit_words(description: str, symbols: Mapping[str, str] | None = None,
               uses: Mapping[str, tuple[str, str]] | None = None, helpers: tuple[Helper, ...] = ()) -> str:
    """An edit's description with every Python fragment rendered as math (operators as words)."""
    def fragment(m: re.Match) -> str:
        text = m.group(1)
        if text in _OPERATOR_WORDS:
            return _OPERATOR_WORDS[text]
        try:
            return f"${to_latex(text, symbols, uses, helpers)}$"
        except (SyntaxError, ValueError, KeyError, IndexError, AttributeError):
            return text
    s = _LABEL.sub(lambda m: f"${_ACTIVATION_NAMES[m.group(1)]}'\\left({symbol(m.group(2), symbols, uses)}\\right)$",
                   description)
    s = _BACKTICKS.sub(fragment, s)
    s = re.sub(r"permute its axes to \(([\d, ]+)\)",
               lambda m: "reorder its indices as " + "(" + ", ".join(str(int(p) + 1) for p in m.group(1).split(","))
               + ")", s)
    s = re.sub(r"axes (\d+) and (\d+)", lambda m: f"indices {int(m.group(1)) + 1} and {int(m.group(2)) + 1}", s)
    s = s.replace("the batch axis (axis 0)", "the samples (rows)").replace("axis 0", "the samples (rows)")
    return s


_REVEALS = {
    "sign": "the sign is wrong",
    "transpose": "two indices are swapped (the result is transposed)",
    "scale": "a constant factor is wrong",
    "batch sum": "the sum over the samples is wrong",
    "name": "the formula uses the wrong quantity",
    "operator": "the wrong kind of product is used",
    "activation": "the activation derivative is wrong or missing",
}


def explanation(kinds, words) -> str:
    """What a repair reveals, from the kinds of its edits and their words."""
    if not kinds:
        return ""
    reveals = []
    for k, w in zip(kinds, words):
        m = re.match(r"replace (\$.+?\$) by (.+?)$", w) if k in ("name", "activation") else None
        if m:
            reveals.append(f"it uses {m.group(1)} where {m.group(2)} belongs")
        elif k == "operator" and w.startswith("swap the operands"):
            reveals.append("the factors of a product are in the wrong order")
        else:
            reveals.append(_REVEALS.get(k, k))
    what = "; ".join(dict.fromkeys(reveals))
    return f"{what[0].upper()}{what[1:]}: the formula is right once you {' and '.join(words)}."
