"""Safe array expressions: parse with :mod:`ast`, evaluate with a whitelist interpreter.

Homework files write steps and formulas as strings such as ``"X.T @ ((dZ2 @ W2.T) * (1 - A1**2))"``.
They are parsed with ``ast.parse(mode="eval")``, checked node by node against a whitelist, and
evaluated by walking the tree; nothing is ever passed to ``eval`` or ``exec``.

Allowed: names, numbers, ``+ - * / ** @``, unary minus/plus, ``.T``, comparisons (``< <= > >= ==``,
compared on REAL parts so complex-step perturbations pass through; they give 0/1 arrays and report
their distance to the tie to :mod:`gradcheck.kinks`), subscripts with constant bounds (and
``None`` for a new axis), tuples and lists (for shapes and ``stack``), keyword arguments ``axis``
and ``keepdims``, and calls to the functions in :data:`FUNCTIONS` (all from :mod:`gradcheck.ops`,
so an expression runs on numpy, complex numpy, JAX and SymPy object arrays). Strings only as the
subscripts of ``einsum``. Anything else raises :class:`ExpressionError` naming the line, the
column and the construct.

API::

    e = parse("X.T @ (P - Y) / m", where="claim dW")
    e.names                       # ('X', 'P', 'Y', 'm')
    e.evaluate({"X": ..., ...})
    f = e.as_function(e.names)    # inspect.signature(f) has parameters X, P, Y, m
    e.tree                        # the ast.Expression: edit a copy, then Expression.from_tree(...)
"""

from __future__ import annotations

import ast
import copy
import difflib
import inspect
import math
import operator
import re
import sys
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from gradcheck import kinks, limits, numpy_names, numpy_ops, ops
from gradcheck.model import ModelError
from gradcheck.ops import is_symbolic_scalar


class ExpressionError(ModelError):
    """An expression that is not allowed or cannot be evaluated; names where and what."""

    def __init__(self, message: str, *, where: str = "", line: int | None = None, column: int | None = None,
                 construct: str = ""):
        self.where, self.line, self.column, self.construct, self.reason = where, line, column, construct, message
        pos = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"{where + ': ' if where else ''}{pos}{message}")


def _ones(shape):
    return ops.ones(limits.check_shape(_int_shape(shape), "ones(...)"))


def _zeros(shape):
    return ops.zeros(limits.check_shape(_int_shape(shape), "zeros(...)"))


def _eye(n):
    n = _int_shape(n)[0]
    limits.check_shape((n, n), "eye(...)")
    return ops.eye(n)


def _reshape(x, shape):
    return ops.reshape(x, _int_shape(shape))


def _transpose(x, axes=None):
    return ops.transpose(x, None if axes is None else _int_shape(axes))


def _int_shape(shape):
    sizes = shape if isinstance(shape, (list, tuple)) else (shape,)
    out = []
    for s in sizes:
        if isinstance(s, int) and not isinstance(s, bool):
            out.append(s)  # however large: the size limit names it
            continue
        try:
            f = float(s)  # numpy and SymPy numbers alike
        except (TypeError, ValueError, OverflowError):
            f = None
        if f is None or isinstance(s, bool) or not math.isfinite(f) or f != int(f):
            raise limits.LimitError(f"a size must be a whole number, got {s!r}")
        out.append(int(f))
    return tuple(out)


def _min(x, axis=None, keepdims=False):
    return -ops.max(-x, axis=axis, keepdims=keepdims)


#: name -> (function, keyword arguments it accepts)
FUNCTIONS: dict[str, tuple[Callable, tuple[str, ...]]] = {
    "exp": (ops.exp, ()), "log": (ops.log, ()), "sqrt": (ops.sqrt, ()), "abs": (ops.abs, ()),
    "tanh": (ops.tanh, ()), "sigmoid": (ops.sigmoid, ()), "relu": (ops.relu, ()),
    "softplus": (ops.softplus, ()), "softmax": (ops.softmax, ("axis",)),
    "log_softmax": (ops.log_softmax, ("axis",)), "logsumexp": (ops.logsumexp, ("axis", "keepdims")),
    "sum": (ops.sum, ("axis", "keepdims")), "mean": (ops.mean, ("axis", "keepdims")),
    "var": (ops.var, ("axis", "keepdims")), "max": (ops.max, ("axis", "keepdims")),
    "min": (_min, ("axis", "keepdims")),
    "maximum": (ops.maximum, ()), "minimum": (ops.minimum, ()), "clip": (ops.clip, ()),
    "where": (ops.where, ()), "diag": (ops.diag, ()), "outer": (ops.outer, ()), "eye": (_eye, ()),
    "ones": (_ones, ()), "zeros": (_zeros, ()), "transpose": (_transpose, ()), "reshape": (_reshape, ()),
    "stack": (ops.stack, ("axis",)), "concatenate": (ops.concatenate, ("axis",)), "einsum": (ops.einsum, ()),
    "sign": (ops.sign_of_real, ()), "identity": (ops.identity, ()),
}
FUNCTIONS.update(numpy_ops.FUNCTIONS)  # numpy's names: dot, det, inv, trace, arange, argmax, ...

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: operator.pow, ast.MatMult: operator.matmul, ast.FloorDiv: operator.floordiv,
           ast.Mod: operator.mod, ast.BitAnd: lambda a, b: _mask01(a) * _mask01(b),
           ast.BitOr: lambda a, b: _mask01(a) + _mask01(b) - _mask01(a) * _mask01(b)}


def _mask01(v):
    """A 0/1 mask for ``& | ~`` (comparisons give 0/1 arrays); anything else is refused."""
    if isinstance(v, (np.ndarray, float, int)) and not (isinstance(v, np.ndarray) and v.dtype == object):
        r = np.real(np.asarray(v))
        if not np.all((r == 0) | (r == 1)):
            raise ValueError("& | ~ work on masks (comparisons such as x > 0); for numbers write *, maximum or 1 - m")
    return v
_BINOP_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@",
               ast.FloorDiv: "//", ast.Mod: "%", ast.BitAnd: "&", ast.BitOr: "|"}
_CMP = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}
_EINSUM_RE = re.compile(r"^[A-Za-z ,.]*(->[A-Za-z .]*)?$")

_CONSTRUCT = {
    "Lambda": "a lambda (define a helper with def in a code block)",
    "ListComp": "a list comprehension (write it vectorized, or as a for loop in a code block)",
    "SetComp": "a set comprehension", "DictComp": "a dict comprehension",
    "GeneratorExp": "a generator expression (write it vectorized, e.g. sum(x, axis=0))", "IfExp": "a conditional "
    "expression (use where(cond, a, b))", "BoolOp": "`and`/`or` (use * for and, maximum for or)",
    "Dict": "a dict", "Set": "a set", "NamedExpr": "an assignment expression (:=)", "Await": "await",
    "Yield": "yield", "YieldFrom": "yield from", "JoinedStr": "an f-string", "Starred": "a starred argument",
    "LShift": "the operator <<",
    "RShift": "the operator >>", "BitOr": "the operator |", "BitXor": "the operator ^",
    "BitAnd": "the operator & (use * on 0/1 comparisons)", "Not": "`not` (write 1 - mask)", "Invert": "the operator ~",
"Is": "`is` (write ==)", "IsNot": "`is not` (write !=)", "In": "`in`", "NotIn": "`not in`",
}


def _describe(node: ast.AST) -> str:
    return _CONSTRUCT.get(type(node).__name__, type(node).__name__)


class Expression:
    """A parsed, whitelisted expression. ``tree`` is the :class:`ast.Expression`; ``source`` its text."""

    def __init__(self, tree: ast.Expression, source: str, where: str = ""):
        self.tree, self.source, self.where = tree, source, where
        try:
            limits.check_tree(tree, "")
        except limits.LimitError as exc:
            raise ExpressionError(str(exc), where=where, construct="limit") from None
        names: list[str] = []
        _Validator(where, names).visit(tree)
        self._names = tuple(dict.fromkeys(names))

    # ------------------------------------------------------------------ structure
    @classmethod
    def from_tree(cls, tree: ast.AST, *, where: str = "") -> "Expression":
        """Validate an (edited) tree; the source is its ``ast.unparse``."""
        if not isinstance(tree, ast.Expression):
            tree = ast.Expression(body=tree)
        tree = ast.fix_missing_locations(tree)
        return cls(tree, ast.unparse(tree), where)

    @property
    def names(self) -> tuple[str, ...]:
        """The free names, in order of first appearance (function names in calls excluded)."""
        return self._names

    @property
    def functions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n.func.id for n in ast.walk(self.tree) if isinstance(n, ast.Call)))

    def copy_tree(self) -> ast.Expression:
        return copy.deepcopy(self.tree)

    def unparse(self) -> str:
        return ast.unparse(self.tree)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def __str__(self) -> str:
        return self.source

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, scope: Mapping[str, Any]) -> Any:
        missing = [n for n in self._names if n not in scope]
        if missing:
            name = missing[0]
            close = difflib.get_close_matches(name, [str(k) for k in scope], n=3)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            node = next(n for n in ast.walk(self.tree) if isinstance(n, ast.Name) and n.id == name)
            raise ExpressionError(f"unknown name {name!r}{hint}", where=self.where, line=node.lineno,
                                  column=node.col_offset + 1, construct=name)
        symbolic = any(_is_sympy(scope[n]) for n in self._names)
        return _Interpreter(scope, self.where, symbolic).visit(self.tree.body)

    def as_function(self, names: Iterable[str] | None = None) -> Callable:
        """A callable whose parameter names are ``names`` (default: :attr:`names`)."""
        return ExpressionFunction(self, tuple(self._names if names is None else names))


class ExpressionFunction:
    """A callable view of an expression with a real signature (read by ``inspect.signature``)."""

    def __init__(self, expression: Expression, names: tuple[str, ...]):
        for n in names:
            if not n.isidentifier():
                raise ExpressionError(f"{n!r} is not a valid name", where=expression.where)
        self.expression, self.names = expression, names
        self.__signature__ = inspect.Signature(
            [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])
        self.__name__ = self.__qualname__ = expression.where or "expression"
        self.source = expression.source

    def __call__(self, *args, **kwargs):
        bound = self.__signature__.bind(*args, **kwargs)
        return self.expression.evaluate(bound.arguments)

    def __repr__(self) -> str:
        return f"<formula {self.expression.source!r}>"


def parse(text: str, *, where: str = "") -> Expression:
    """Parse and whitelist-check ``text``; raises :class:`ExpressionError` with line and column."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression string, got {type(text).__name__}", where=where)
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        raise ExpressionError("the expression is empty", where=where)
    try:
        limits.check_source(stripped, "")
    except limits.LimitError as exc:
        raise ExpressionError(str(exc), where=where, construct="limit") from None
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.msg}", where=where, line=exc.lineno or 1,
                              column=max(exc.offset or 0, 1), construct="syntax") from None
    except (RecursionError, MemoryError):  # Python's own parser gives up on very deep nesting
        raise ExpressionError(f"the expression nests too deeply to be parsed (more than {limits.MAX_DEPTH} "
                              "levels of +, **, unary minus, .T or indexing); split it into several steps",
                              where=where, construct="limit") from None
    try:  # before any recursive walk of the tree (numpy spelling, validation)
        limits.check_tree(tree, "")
    except limits.LimitError as exc:
        raise ExpressionError(str(exc), where=where, construct="limit") from None
    tree, problems = numpy_names.normalize(tree, stripped)
    if problems:
        raise problem_error(problems[0], where)
    return Expression(tree, stripped, where)


def problem_error(p: "numpy_names.Problem", where: str, line_offset: int = 0) -> ExpressionError:
    """A :class:`numpy_names.Problem` as an :class:`ExpressionError` with its line and column."""
    return ExpressionError(p.message, where=where, line=getattr(p.node, "lineno", 1) + line_offset,
                           column=p.column, construct=p.construct)


# ---------------------------------------------------------------------- validation
class _Validator(ast.NodeVisitor):
    def __init__(self, where: str, names: list[str]):
        self.where, self.names = where, names
        self.einsum_arg: ast.AST | None = None

    def fail(self, node: ast.AST, what: str, hint: str = "") -> None:
        raise ExpressionError(f"{what} is not allowed{': ' + hint if hint else ''}", where=self.where,
                              line=getattr(node, "lineno", None),
                              column=getattr(node, "col_offset", -1) + 1 if hasattr(node, "col_offset") else None,
                              construct=what)

    def generic_visit(self, node):
        self.fail(node, _describe(node))

    def visit_Expression(self, node):
        self.visit(node.body)

    def visit_Name(self, node):
        if node.id.startswith("__"):
            self.fail(node, f"the name {node.id!r}", "dunder names are never allowed")
        self.names.append(node.id)

    def visit_Constant(self, node):
        v = node.value
        if not isinstance(v, (int, float)):  # bool is an int: True/False for keepdims
            if isinstance(v, str) and node is self.einsum_arg:
                if not _EINSUM_RE.match(v):
                    self.fail(node, f"the einsum subscripts {v!r}", "use letters, commas and ->")
                return
            if isinstance(v, str):
                self.fail(node, f"the string {v!r}", "strings are only allowed as einsum's subscripts")
            self.fail(node, f"the constant {v!r}", "only numbers are allowed")

    def visit_BinOp(self, node):
        if isinstance(node.op, (ast.BitAnd, ast.BitOr)) and _is_mask(node, frozenset()):
            self.visit(node.left)
            self.visit(node.right)
            return
        if type(node.op) not in _BINOPS:
            self.fail(node, _describe(node.op))
        self.visit(node.left)
        self.visit(node.right)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, ast.Invert) and (_is_mask(node.operand, frozenset()) or isinstance(node.operand, ast.Name)):
            self.visit(node.operand)
            return
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            self.fail(node, _describe(node.op))
        self.visit(node.operand)

    def visit_Compare(self, node):
        for op in node.ops:
            if type(op) not in _CMP:
                self.fail(node, _describe(op).strip(), "use <, <=, >, >=, == or !=")
        self.visit(node.left)
        for c in node.comparators:
            self.visit(c)

    def visit_Attribute(self, node):
        if node.attr != "T":
            self.fail(node, f"the attribute `.{node.attr}`", "only `.T` (transpose) is allowed")
        self.visit(node.value)

    def visit_Subscript(self, node):
        self.visit(node.value)
        self._index(node.slice)

    def _index(self, node):
        if isinstance(node, ast.Tuple):
            for e in node.elts:
                self._index(e)
        elif isinstance(node, ast.Slice):
            for part in (node.lower, node.upper, node.step):
                if part is not None:
                    self._bound(part)
        elif isinstance(node, ast.Constant) and (node.value is None or node.value is Ellipsis):
            return
        else:
            self._bound(node)

    def _bound(self, node):
        """Indices and slice bounds: integer expressions (dims, ``2*H``, ``x.shape[0]``) or, for an
        index, an integer array (labels, ``arange(N)``) or a comparison (a boolean mask)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            self.fail(node, f"the index `{ast.unparse(node)}`", "indices and slice bounds must be integers")
        self.visit(node)

    def _reduction_with_second_argument(self, node, fname: str):
        """``max(Z1, 0)`` is a reduction over axis 0 in numpy, almost never what was meant (ReLU)."""
        raise ExpressionError(numpy_names.max_min_message(fname, node.args[0], node.args[1], ast.unparse(node)),
                              where=self.where, line=node.lineno, column=node.col_offset + 1,
                              construct=f"function {fname}")

    def visit_Tuple(self, node):
        for e in node.elts:
            self.visit(e)

    visit_List = visit_Tuple

    def visit_Call(self, node):
        if not isinstance(node.func, ast.Name):
            what = f"calling `{ast.unparse(node.func)}`"
            self.fail(node, what, "call the functions by their plain names, e.g. exp(x)")
        fname = node.func.id
        if fname not in FUNCTIONS:
            close = difflib.get_close_matches(fname, list(FUNCTIONS), n=3)
            hint = f"did you mean {' or '.join(close)}?" if close else f"allowed: {', '.join(sorted(FUNCTIONS))}"
            raise ExpressionError(f"unknown function {fname!r} ({hint})", where=self.where, line=node.lineno,
                                  column=node.col_offset + 1, construct=f"function {fname}")
        if fname in ("max", "min") and len(node.args) > 1:
            self._reduction_with_second_argument(node, fname)
        allowed_kw = FUNCTIONS[fname][1]
        for kw in node.keywords:
            if kw.arg is None:
                self.fail(kw, "`**` keyword unpacking")
            if kw.arg not in allowed_kw:
                allowed = f"{fname} accepts {', '.join(allowed_kw)}" if allowed_kw else f"{fname} takes none"
                raise ExpressionError(f"keyword argument {kw.arg!r} is not allowed ({allowed})", where=self.where,
                                      line=kw.value.lineno, column=kw.value.col_offset + 1,
                                      construct=f"keyword {kw.arg}")
            self.visit(kw.value)
        for i, a in enumerate(node.args):
            if isinstance(a, ast.Starred):
                self.fail(a, "a starred argument")
            if fname == "einsum" and i == 0:
                self.einsum_arg = a
                if not (isinstance(a, ast.Constant) and isinstance(a.value, str)):
                    self.fail(a, "einsum without a subscripts string", "write einsum('ij,jk->ik', A, B)")
            self.visit(a)


# ---------------------------------------------------------------------- evaluation
def _is_mask(node: ast.AST, masks) -> bool:
    """A comparison (``h <= 0``), a name bound to one, or ``& | ~`` of those: a boolean mask."""
    if isinstance(node, ast.Compare):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
        return _is_mask(node.left, masks) and _is_mask(node.right, masks)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        return _is_mask(node.operand, masks)
    return isinstance(node, ast.Name) and node.id in masks


def _is_sympy(x) -> bool:
    if isinstance(x, np.ndarray):
        return x.dtype == object
    return is_symbolic_scalar(x)


def _is_jax(x) -> bool:
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(x, jax.Array)


def compare(op: str, a, b):
    """``a op b`` on real parts as a 0/1 float array; records the distance to the tie."""
    if _is_jax(a) or _is_jax(b):
        import jax.numpy as jnp

        ra, rb = jnp.real(a), jnp.real(b)
        res = {">": ra > rb, ">=": ra >= rb, "<": ra < rb, "<=": ra <= rb, "==": ra == rb, "!=": ra != rb}[op]
        return res.astype(jnp.result_type(float))
    if _is_sympy(a) or _is_sympy(b):
        a_, b_ = np.broadcast_arrays(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
        out = np.empty(a_.shape, dtype=object)
        for idx in np.ndindex(a_.shape):
            d = a_[idx] - b_[idx]
            pos, neg = _sympy_sign(d)
            out[idx] = 1 if {">": pos, ">=": not neg, "<": neg, "<=": not pos, "==": not pos and not neg,
                             "!=": pos or neg}[op] else 0
        return out if out.ndim else out[()]
    ra, rb = np.real(np.asarray(a)), np.real(np.asarray(b))
    with np.errstate(invalid="ignore"):
        kinks.record(f"comparison {op}", ra - rb)
        res = {">": ra > rb, ">=": ra >= rb, "<": ra < rb, "<=": ra <= rb, "==": ra == rb, "!=": ra != rb}[op]
    return np.asarray(res, dtype=float)


def _sympy_sign(d) -> tuple[bool, bool]:
    re = ops.symbolic_real(d, "the comparison")
    return re > 0, re < 0


class _Interpreter:
    def __init__(self, scope: Mapping[str, Any], where: str, symbolic: bool):
        self.scope, self.where, self.symbolic = scope, where, symbolic

    def visit(self, node):
        return getattr(self, "visit_" + type(node).__name__)(node)

    def visit_Name(self, node):
        return self.scope[node.id]

    def visit_Constant(self, node):
        v = node.value
        if self.symbolic and isinstance(v, (int, float)) and not isinstance(v, bool):
            return numpy_ops.exact_number(v)
        return v

    def limit(self, node, check, *args) -> None:
        """Run a :mod:`gradcheck.limits` check; its message gets this expression's line and column."""
        try:
            check(*args)
        except limits.LimitError as exc:
            raise ExpressionError(str(exc), where=self.where, line=getattr(node, "lineno", None),
                                  column=getattr(node, "col_offset", -1) + 1, construct="limit") from None

    def visit_BinOp(self, node):
        left, right = self.visit(node.left), self.visit(node.right)
        op = _BINOP_TEXT[type(node.op)]
        if isinstance(node.op, ast.Pow) and isinstance(left, int) and isinstance(right, int):
            self.limit(node, limits.check_int_power, left, right, "")
        shape = limits.matmul_result(left, right) if op == "@" else limits.broadcast_result(left, right)
        self.limit(node, limits.check_result, shape, f"the result of `{op}`")
        if isinstance(node.op, ast.Div) and isinstance(left, int) and isinstance(right, int) \
                and not isinstance(left, bool) and not isinstance(right, bool) and right == 0:
            raise ExpressionError("division by zero", where=self.where, line=node.lineno,
                                  column=node.col_offset + 1, construct="/")
        try:
            return _BINOPS[type(node.op)](left, right)
        except OverflowError:  # Python numbers: 1e308 ** 2, 10**400 / 3
            raise ExpressionError(f"`{op}` gives a number too large for float64 (above 1.8e308); use smaller "
                                  "constants", where=self.where, line=node.lineno, column=node.col_offset + 1,
                                  construct=op) from None

    def visit_UnaryOp(self, node):
        v = self.visit(node.operand)
        if isinstance(node.op, ast.Invert):  # ~mask on a 0/1 comparison
            return 1 - _mask01(v)
        return -v if isinstance(node.op, ast.USub) else +v

    def visit_Compare(self, node):
        result = None
        left = self.visit(node.left)
        for op, comp in zip(node.ops, node.comparators):
            right = self.visit(comp)
            r = compare(_CMP[type(op)], left, right)
            result = r if result is None else result * r
            left = right
        return result

    def visit_Attribute(self, node):  # only .T passes validation
        v = self.visit(node.value)
        return v.T if hasattr(v, "T") else v

    def visit_Subscript(self, node):
        v = self.visit(node.value)
        idx = self._index(node.slice)
        if not hasattr(v, "__getitem__") or isinstance(v, (int, float)):
            v = np.asarray(v)
        if _is_jax(v) and any(_is_jax(i) and i.dtype == bool for i in (idx if isinstance(idx, tuple) else (idx,))):
            raise ExpressionError("JAX cannot run a boolean-mask read x[mask]: its shape depends on the values; "
                                  "write where(mask, x, 0) instead (same derivative)", where=self.where,
                                  line=node.lineno, column=node.col_offset + 1, construct="mask read")
        return v[idx]

    masks: frozenset = frozenset()  # names bound to comparisons (code blocks): indexing with them is a mask

    def _index(self, node):
        if isinstance(node, ast.Tuple):
            return tuple(self._index(e) for e in node.elts)
        if isinstance(node, ast.Slice):
            return slice(*(None if p is None else self._int(p) for p in (node.lower, node.upper, node.step)))
        if isinstance(node, ast.Constant) and (node.value is None or node.value is Ellipsis):
            return node.value
        value = self.visit(node)
        if _is_mask(node, self.masks):
            return numpy_ops.mask_array(value)
        try:
            return numpy_ops.index_array(value)
        except ValueError as exc:
            raise ExpressionError(f"the index `{ast.unparse(node)}`: {exc}", where=self.where, line=node.lineno,
                                  column=node.col_offset + 1, construct="index") from None

    def _int(self, node):
        value = self.visit(node)
        try:
            return numpy_ops.as_int(value, "a slice bound")
        except ValueError:
            raise ExpressionError(f"the slice bound `{ast.unparse(node)}` is not an integer (use dims, integers "
                                  "and + - * // % on them)", where=self.where, line=node.lineno,
                                  column=node.col_offset + 1, construct="slice bound") from None

    def visit_Tuple(self, node):
        return tuple(self.visit(e) for e in node.elts)

    def visit_List(self, node):
        return [self.visit(e) for e in node.elts]

    def visit_Call(self, node):
        fn = FUNCTIONS[node.func.id][0]
        args = [self.visit(a) for a in node.args]
        kwargs = {}
        for kw in node.keywords:
            value = self.visit(kw.value)
            if kw.arg == "axis" and value is not None:
                value = tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else int(value)
            elif kw.arg == "keepdims":
                value = bool(value)
            kwargs[kw.arg] = value
        if node.func.id == "einsum":
            args[0] = node.args[0].value  # the subscripts string, never converted
        self._check_call_size(node, args)
        try:
            out = fn(*args, **kwargs)
            if self.symbolic and isinstance(out, np.ndarray) and out.dtype.kind == "f":
                out = numpy_ops.exact_array(out)  # ones(...), eye(n) among SymPy values: stay exact
            return out
        except limits.LimitError as exc:
            raise ExpressionError(str(exc), where=self.where, line=node.lineno, column=node.col_offset + 1,
                                  construct="limit") from None
        except OverflowError as exc:  # e.g. an axis of 2**64
            raise ExpressionError(f"{node.func.id}(...): a number is too large ({exc})", where=self.where,
                                  line=node.lineno, column=node.col_offset + 1,
                                  construct=f"function {node.func.id}") from None
        except TypeError as exc:
            raise ExpressionError(f"{node.func.id}(...) was called wrongly: {exc}", where=self.where,
                                  line=node.lineno, column=node.col_offset + 1,
                                  construct=f"function {node.func.id}") from None

    def _check_call_size(self, node, args) -> None:
        """Refuse a call whose result (or einsum's work) exceeds the limits, before it allocates."""
        name, what = node.func.id, f"{node.func.id}(...)"
        if name == "einsum" and len(args) > 1:
            sizes = limits.einsum_sizes(args[0], args[1:])
            if sizes is not None:
                self.limit(node, limits.check_result, sizes[0], what)
                self.limit(node, limits.check_work, sizes[1], what)
        elif name == "outer" and len(args) == 2:
            a, b = (limits.shape_of(x) for x in args)
            if a is not None and b is not None:
                self.limit(node, limits.check_result, (limits.entries(a), limits.entries(b)), what)
        elif name == "diag" and args and limits.shape_of(args[0]) is not None and len(limits.shape_of(args[0])) == 1:
            n = limits.shape_of(args[0])[0]
            self.limit(node, limits.check_result, (n, n), what)
        elif name in ("stack", "concatenate") and args and isinstance(args[0], (list, tuple)):
            shapes = [limits.shape_of(x) for x in args[0]]
            if all(s is not None for s in shapes):
                self.limit(node, limits.check_result, (sum(limits.entries(s) for s in shapes),), what)
