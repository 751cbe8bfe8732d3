"""The text of a claim's formula, as an expression the whitelist interpreter evaluates.

* ``claim.source`` (homework files) is used as is;
* a formula made by :mod:`gradcheck.expr` carries its source;
* a Python ``lambda`` or ``def`` (the claims of ``derivations/*.py``) is found in its module's
  source: the whole file is parsed, and the ``lambda`` node is picked by its line, its parameter
  names and the column range of its code (several lambdas may share a line, and a ``Claim(...)``
  call may span several lines); a ``def`` must consist of a single ``return`` (after an optional
  docstring). The expression is then ``ast.unparse``-d and parsed again by :func:`gradcheck.expr.parse`.

Helpers of the formula's module (``formula.__globals__``) are inlined (:func:`inline_helpers`): a
call ``f(a, b)`` to a ``def`` with a single ``return <expr>`` (or a lambda bound to a name) is
replaced by a copy of ``<expr>`` with the arguments substituted for the parameters, recursively (the
helper's own module for its body), at most :data:`MAX_INLINE_DEPTH` deep. Module names bound to
numbers become constants. ``*args`` parameters, ``list``/``tuple``/``len`` of them and list
comprehensions over them are expanded when the arguments are written out (``_row(a, b, c)``).
Calls to :mod:`gradcheck.ops` functions under their own names stay calls. A helper that is not a
single return (statements, loops) leaves the formula not searchable, naming the helper.
"""

from __future__ import annotations

import ast
import copy
import inspect
import linecache
import numbers

from gradcheck.claim import Claim
from gradcheck.expr import FUNCTIONS, Expression, ExpressionError, parse
from gradcheck.model import arg_names


class NotSearchable(ValueError):
    """The formula cannot be turned into an expression the interpreter accepts."""


def formula_expression(claim: Claim) -> Expression:
    """The claim's formula (helpers inlined) as a parsed, whitelisted expression, or :class:`NotSearchable`."""
    text = inlined_text(claim)
    try:
        expr = parse(text, where=f"claim {claim.name}")
    except ExpressionError as exc:
        raise NotSearchable(exc.reason if getattr(exc, "reason", "") else str(exc)) from None
    try:
        params = set(arg_names(claim.formula))
    except Exception:  # noqa: BLE001 - a formula without a readable signature
        params = set(expr.names)
    free = [n for n in expr.names if n not in params]
    if free and not claim.source and not hasattr(claim.formula, "expression"):
        raise NotSearchable(f"the formula reads {', '.join(map(repr, free))} from its module, not from its "
                            "parameters")
    return expr


def formula_text(claim: Claim) -> str:
    if claim.source:
        return claim.source
    fn = claim.formula
    expression = getattr(fn, "expression", None)
    if isinstance(expression, Expression):
        return expression.source
    if isinstance(getattr(fn, "source", None), str):
        return fn.source
    return function_source(fn)


def inlined_text(claim: Claim) -> str:
    """:func:`formula_text`, with the helpers of a Python formula's module inlined."""
    text = formula_text(claim)
    fn = claim.formula
    module = getattr(fn, "__globals__", None)
    if claim.source or isinstance(getattr(fn, "expression", None), Expression) or not module:
        return text
    try:
        body = ast.parse(text, mode="eval").body
    except SyntaxError:
        return text  # reported by parse
    params = set(fn.__code__.co_varnames[:fn.__code__.co_argcount])
    return ast.unparse(inline_helpers(body, module, params))


# ---------------------------------------------------------------------- inlining module helpers
MAX_INLINE_DEPTH = 8
_BUILTIN_SEQ = ("list", "tuple")


_OPS_NAMES = {id(f): n for n, (f, _) in FUNCTIONS.items()}


def _items(node: ast.AST) -> list[ast.AST] | None:
    """The written-out items of a tuple/list literal, or of ``range(<int>)``; None otherwise."""
    if isinstance(node, (ast.Tuple, ast.List)) and not any(isinstance(e, ast.Starred) for e in node.elts):
        return list(node.elts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" \
            and not node.keywords and 1 <= len(node.args) <= 2 \
            and all(isinstance(a, ast.Constant) and type(a.value) is int for a in node.args):
        bounds = [a.value for a in node.args]
        r = range(*bounds)
        return [ast.Constant(i) for i in r] if len(r) <= 64 else None
    return None


_COMPARE = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
            ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b}


def _constant_test(node: ast.AST) -> bool | None:
    """The value of a condition on written-out integers (``j == k`` after unrolling), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (bool, int)):
        return bool(node.value)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        a, b = node.left, node.comparators[0]
        if all(isinstance(x, ast.Constant) and type(x.value) is int for x in (a, b)):
            return _COMPARE[type(node.ops[0])](a.value, b.value)
    return None


def _is_ops(obj, name: str) -> bool:
    """A function the interpreter knows under this name (gradcheck.ops imported as itself)."""
    if name not in FUNCTIONS:
        return False
    return obj is None or obj is FUNCTIONS[name][0] or getattr(obj, "__module__", "") == "gradcheck.ops"


def _number(value) -> ast.AST | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and value != value:  # NaN
        return None
    node = ast.Constant(abs(value))
    return ast.UnaryOp(op=ast.USub(), operand=node) if value < 0 else node


def inline_helpers(node: ast.AST, module: dict, local: set[str], depth: int = 0,
                   chain: tuple[str, ...] = ()) -> ast.AST:
    """``node`` (not changed) with the module's single-return helpers inlined and its numbers as
    constants; ``local`` are names bound by the enclosing function (never looked up in ``module``)."""
    return _Inliner(module, local, depth, chain).visit(copy.deepcopy(node))


class _Inliner(ast.NodeTransformer):
    def __init__(self, module, local, depth, chain):
        self.module, self.local, self.depth, self.chain = module, set(local), depth, chain

    def visit_Name(self, node):
        if node.id in self.local or node.id not in self.module:
            return node
        value = self.module[node.id]
        const = _number(value)
        if const is not None:
            return const
        return node

    def visit_IfExp(self, node):
        node = self.generic_visit(node)
        test = _constant_test(node.test)
        return node if test is None else (node.body if test else node.orelse)

    def visit_ListComp(self, node):
        gens = node.generators
        if len(gens) == 1 and not gens[0].ifs and isinstance(gens[0].target, ast.Name):
            items = _items(self.visit(gens[0].iter))
            if items is not None:  # a comprehension over written-out items: the list itself
                var = gens[0].target.id
                return self.visit(ast.List(elts=[_substitute(node.elt, {var: e}) for e in items], ctx=ast.Load()))
        return self.generic_visit(node)

    def visit_Call(self, node):
        node = self.generic_visit(node)
        if not isinstance(node.func, ast.Name):
            return node
        name = node.func.id
        if any(isinstance(a, ast.Starred) for a in node.args):  # f(*[a, b]) -> f(a, b)
            args = []
            for a in node.args:
                items = _items(a.value) if isinstance(a, ast.Starred) else [a]
                if items is None:
                    break
                args.extend(items)
            else:
                node.args = args
        if name in _BUILTIN_SEQ and name not in self.module and len(node.args) == 1 and not node.keywords \
                and isinstance(node.args[0], (ast.Tuple, ast.List)):
            return ast.List(elts=list(node.args[0].elts), ctx=ast.Load())
        if name == "len" and name not in self.module and len(node.args) == 1 \
                and isinstance(node.args[0], (ast.Tuple, ast.List)):
            return ast.Constant(len(node.args[0].elts))
        if name in self.local or name not in self.module:
            return node
        helper = self.module[name]
        if _is_ops(helper, name):
            return node
        if _OPS_NAMES.get(id(helper)):  # an interpreter function imported under another name
            node.func = ast.Name(id=_OPS_NAMES[id(helper)], ctx=ast.Load())
            return node
        if getattr(helper, "__code__", None) is None:
            return node
        if name in self.chain:
            raise NotSearchable(f"helper {name!r} calls itself")
        if self.depth >= MAX_INLINE_DEPTH:
            raise NotSearchable(f"helpers nested deeper than {MAX_INLINE_DEPTH} ({' -> '.join(self.chain + (name,))})")
        try:
            body, guards = _function_expression(helper, allow_guards=True)
        except NotSearchable as exc:
            raise NotSearchable(f"helper {name!r} cannot be inlined: {exc}") from None
        bindings = _bind(helper, node, name)
        body = _fold(_substitute(body, bindings))
        if guards and not _plain_indices(body):
            raise NotSearchable(f"helper {name!r} cannot be inlined: def {name} checks its arguments before it "
                                "returns, and the indices it returns with are not plain constants")
        # the helper's own module for the rest of its body (its parameters are already replaced)
        return inline_helpers(body, getattr(helper, "__globals__", {}), set(), self.depth + 1, self.chain + (name,))


def _bind(helper, call: ast.Call, name: str) -> dict[str, ast.AST]:
    code = helper.__code__
    if code.co_kwonlyargcount or code.co_flags & inspect.CO_VARKEYWORDS:
        raise NotSearchable(f"helper {name!r} has keyword-only or ** parameters")
    params = list(code.co_varnames[:code.co_argcount])
    star = code.co_varnames[code.co_argcount] if code.co_flags & inspect.CO_VARARGS else None
    if any(isinstance(a, ast.Starred) for a in call.args):
        raise NotSearchable(f"the call of helper {name!r} unpacks its arguments (*)")
    out: dict[str, ast.AST] = {}
    args = list(call.args)
    for p, a in zip(params, args):
        out[p] = a
    extra = args[len(params):]
    if extra and star is None:
        raise NotSearchable(f"helper {name!r} called with too many arguments")
    if star is not None:
        out[star] = ast.Tuple(elts=extra, ctx=ast.Load())
    for kw in call.keywords:
        if kw.arg is None or kw.arg not in params or kw.arg in out:
            raise NotSearchable(f"helper {name!r} called with keyword {kw.arg!r} it cannot take")
        out[kw.arg] = kw.value
    defaults = helper.__defaults__ or ()
    for p, d in zip(params[len(params) - len(defaults):], defaults):
        if p not in out:
            const = _number(d)
            if const is None and d is not None:
                raise NotSearchable(f"helper {name!r}: the default of {p!r} is not a number")
            out[p] = const if const is not None else ast.Constant(None)
    missing = [p for p in params if p not in out]
    if missing:
        raise NotSearchable(f"helper {name!r} called without {', '.join(missing)}")
    return out


def _fold(node: ast.AST) -> ast.AST:
    """Integer arithmetic on written-out integers computed (``3 - 1`` -> ``2``, from 1-based indices)."""

    class Fold(ast.NodeTransformer):
        def visit_BinOp(self, n):
            n = self.generic_visit(n)
            if isinstance(n.op, (ast.Add, ast.Sub, ast.Mult)) and all(
                    isinstance(x, ast.Constant) and type(x.value) is int for x in (n.left, n.right)):
                a, b = n.left.value, n.right.value
                v = a + b if isinstance(n.op, ast.Add) else a - b if isinstance(n.op, ast.Sub) else a * b
                return ast.Constant(v) if v >= 0 else ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-v))
            return n

    return Fold().visit(node)


def _plain_indices(node: ast.AST) -> bool:
    """Every subscript indexes with non-negative integer constants: numpy itself then refuses an
    index out of range (the check a dropped guard made), while a negative one would wrap around."""
    for sub in (n for n in ast.walk(node) if isinstance(n, ast.Subscript)):
        idx = sub.slice.elts if isinstance(sub.slice, ast.Tuple) else [sub.slice]
        if not all(isinstance(i, ast.Constant) and type(i.value) is int and i.value >= 0 for i in idx):
            return False
    return True


def _substitute(body: ast.AST, bindings: dict[str, ast.AST]) -> ast.AST:
    """A copy of ``body`` with the names in ``bindings`` replaced by copies of their nodes
    (a comprehension's own variable shadows a binding of the same name)."""

    class Sub(ast.NodeTransformer):
        def __init__(self, bound):
            self.bound = bound

        def visit_Name(self, n):
            return copy.deepcopy(self.bound[n.id]) if n.id in self.bound and isinstance(n.ctx, ast.Load) else n

        def visit_ListComp(self, n):
            inner = {k: v for k, v in self.bound.items()
                     if k not in {t.id for g in n.generators for t in ast.walk(g.target) if isinstance(t, ast.Name)}}
            for g in n.generators:
                g.iter = self.visit(g.iter)
            n.elt = Sub(inner).visit(n.elt)
            return n

    return Sub(bindings).visit(copy.deepcopy(body))


def function_source(fn) -> str:
    """The expression of a lambda, or of a def with a single return, as text."""
    expr, guards = _function_expression(fn)
    if guards:
        raise NotSearchable(f"def {fn.__name__} is not a single return statement")
    return ast.unparse(expr)


def _function_expression(fn, allow_guards: bool = False) -> tuple[ast.AST, bool]:
    """The returned expression of a lambda or def; with ``allow_guards``, a def may also hold guard
    statements before its return (``if <test>: raise ...`` and assignments read only by them):
    the second item tells whether there were any."""
    code = getattr(fn, "__code__", None)
    if code is None:
        raise NotSearchable(f"{fn!r} is not a Python function")
    from gradcheck.source_index import file_of, functions_at, parsed

    filename = file_of(fn)
    lines = linecache.getlines(filename)
    if not lines:
        raise NotSearchable(f"the source of {getattr(fn, '__name__', fn)!r} is not available")
    if parsed(filename)[0] is None:
        try:
            ast.parse("".join(lines))
        except SyntaxError as exc:
            raise NotSearchable(f"cannot parse {filename}: {exc.msg}") from None
    params = list(code.co_varnames[:code.co_argcount])
    line = code.co_firstlineno
    nodes = functions_at(filename, line)
    if fn.__name__ == "<lambda>":
        found = [n for n in nodes if isinstance(n, ast.Lambda) and n.lineno == line
                 and [a.arg for a in n.args.args] == params]
        if len(found) > 1:
            cols = _code_columns(code)
            if cols:
                inside = [n for n in found if _contains(n.body, cols)]
                found = inside or found
        if len(found) != 1:
            raise NotSearchable(f"cannot locate the lambda on line {line} of {filename} "
                                f"({len(found)} candidates)")
        return found[0].body, False
    defs = [n for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.name == fn.__name__ and line in [n.lineno] + [d.lineno for d in n.decorator_list]]
    if len(defs) != 1:
        raise NotSearchable(f"cannot locate def {fn.__name__} on line {line} of {filename}")
    body = list(defs[0].body)
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None \
            or (len(body) > 1 and not (allow_guards and _only_guards(body[:-1], body[-1].value))):
        raise NotSearchable(f"def {fn.__name__} is not a single return statement")
    return body[-1].value, len(body) > 1


def _only_guards(stmts, returned: ast.AST) -> bool:
    """Statements that only check (raise) and assign names the returned expression never reads."""
    assigned = set()
    for st in stmts:
        if isinstance(st, ast.If) and not st.orelse and all(isinstance(b, ast.Raise) for b in st.body):
            continue
        if isinstance(st, ast.Assign) and all(isinstance(n, (ast.Name, ast.Tuple, ast.Store)) for t in st.targets
                                              for n in ast.walk(t)):
            assigned |= {n.id for t in st.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            continue
        return False
    return not assigned & {n.id for n in ast.walk(returned) if isinstance(n, ast.Name)}


def _code_columns(code) -> tuple[int, int, int] | None:
    """(line, first column, last column) of the instructions on the lambda's first line."""
    try:
        pos = [(l0, c0, c1) for l0, l1, c0, c1 in code.co_positions() if l0 == code.co_firstlineno
               and c0 is not None]
    except AttributeError:
        return None
    if not pos:
        return None
    return pos[0][0], min(p[1] for p in pos), max(p[2] for p in pos)


def _contains(node: ast.AST, cols: tuple[int, int, int]) -> bool:
    line, c0, c1 = cols
    start = (node.lineno, node.col_offset)
    end = (node.end_lineno, node.end_col_offset)
    return start <= (line, c0) and (line, c1) <= end if node.end_lineno == line else start <= (line, c0) <= end
