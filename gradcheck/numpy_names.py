"""numpy spelling -> gradcheck's plain function names: a rewrite of the parsed tree, nothing executed.

Homework code writes ``np.exp(x)``, ``X.dot(W)``, ``np.linalg.inv(A)``, ``x.sum(axis=0)``,
``x.reshape(N, -1)``, ``x.astype(float)``, ``x.shape[0]``, ``np.newaxis``. :func:`normalize` rewrites
these into calls of the whitelisted functions (``exp(x)``, ``dot(X, W)``, ``inv(A)``,
``sum(x, axis=0)``, ``reshape(x, (N, -1))``, ``x``, ``shape(x)[0]``, ``None``) before the whitelist
check, so the interpreter stays the only thing that evaluates. What cannot be rewritten is returned
as a problem with the node and a message that says what to write instead.

Tables: :data:`NUMPY_FUNCTIONS` (``np.<name>`` and ``numpy.<name>``), :data:`LINALG_FUNCTIONS`
(``np.linalg.<name>``), :data:`METHODS` (``x.<name>(...)``) and :data:`ATTRIBUTES` (``x.<name>``).
"""

from __future__ import annotations

import ast
import difflib

#: np.<name> -> the function called (only names listed here; everything else is reported)
NUMPY_FUNCTIONS = {n: n for n in (
    "exp", "log", "sqrt", "abs", "tanh", "sum", "mean", "var", "std", "max", "min", "maximum", "minimum",
    "clip", "where", "diag", "outer", "eye", "ones", "zeros", "transpose", "reshape", "stack", "concatenate",
    "einsum", "sign", "dot", "multiply", "add", "subtract", "divide", "power", "square", "kron", "trace",
    "hstack", "vstack", "split", "repeat", "tile", "pad", "arange", "cumsum", "triu", "tril", "expand_dims",
    "broadcast_to", "squeeze", "ravel", "copy", "zeros_like", "ones_like", "argmax", "take", "shape", "size",
    "ndim", "matmul")}
NUMPY_FUNCTIONS.update({"array": "asarray", "asarray": "asarray", "absolute": "abs", "amax": "max", "amin": "min", "true_divide": "divide"})
LINALG_FUNCTIONS = {"det": "det", "inv": "inv", "slogdet": "slogdet", "solve": "solve", "norm": "norm"}
NUMPY_CONSTANTS = {"pi": 3.141592653589793, "e": 2.718281828459045}
#: x.<name>(...) -> the function called with x first
METHODS = {"dot": "dot", "sum": "sum", "mean": "mean", "max": "max", "min": "min", "std": "std", "var": "var",
           "reshape": "reshape", "transpose": "transpose", "copy": "copy", "ravel": "ravel", "flatten": "ravel",
           "squeeze": "squeeze", "clip": "clip", "cumsum": "cumsum", "argmax": "argmax", "take": "take"}
ATTRIBUTES = {"shape": "shape", "size": "size", "ndim": "ndim"}
FLOAT_TYPES = {"float", "np.float64", "numpy.float64", "np.float32", "'float64'", "'float'", "np.double"}
INT_TYPES = {"int", "np.int64", "numpy.int64", "np.int32", "'int64'", "'int'", "np.intp"}
ADVICE = {
    "random": "draw it as data: declare it under [data] (kind = \"binary\" for a dropout mask, \"real\" for noise, "
              "\"labels\" for class indices)",
    "inf": "use a large finite constant from [constants]",
    "nan": "NaN has no derivative; remove it",
}


class Problem(Exception):
    """Something :func:`normalize` cannot rewrite: the node, what it is, what to write instead."""

    def __init__(self, node: ast.AST, message: str, construct: str, column: int | None = None):
        super().__init__(message)
        self.node, self.message, self.construct = node, message, construct
        self.column = column if column is not None else getattr(node, "col_offset", 0) + 1


def dotted(node: ast.AST) -> str | None:
    """``np.linalg.inv`` -> "np.linalg.inv"; None for anything that is not a dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id] + parts[::-1])
    return None


def _suggest(name: str, options) -> str:
    close = difflib.get_close_matches(name, sorted(options), n=3)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def numpy_function(path: str, node: ast.AST) -> str | None:
    """The plain name of ``np.X`` / ``numpy.X`` / ``np.linalg.X``; None if ``path`` is not numpy's."""
    head, _, rest = path.partition(".")
    if head not in ("np", "numpy") or not rest:
        return None
    if rest.startswith("linalg."):
        fn = rest[len("linalg."):]
        if fn in LINALG_FUNCTIONS:
            return LINALG_FUNCTIONS[fn]
        raise Problem(node, f"`{path}` is not supported (np.linalg offers {', '.join(sorted(LINALG_FUNCTIONS))})"
                      + _suggest(fn, LINALG_FUNCTIONS), path)
    first = rest.split(".")[0]
    if first in ADVICE:
        raise Problem(node, f"`{path}` is not supported: {ADVICE[first]}", path)
    if rest in NUMPY_FUNCTIONS:
        return NUMPY_FUNCTIONS[rest]
    raise Problem(node, f"`{path}` is not supported{_suggest(rest, list(NUMPY_FUNCTIONS) + list(LINALG_FUNCTIONS))}"
                  " (see docs/numpy_code.md for the supported numpy functions)", path)


class _Normalizer(ast.NodeTransformer):
    def __init__(self, source: str, problems: list[Problem]):
        self.lines = source.splitlines() or [""]
        self.problems = problems

    def visit(self, node):
        try:
            return super().visit(node)
        except Problem as p:
            self.problems.append(p)
            return node

    # ------------------------------------------------------------------ names and attributes
    def visit_Attribute(self, node):
        path = dotted(node)
        if path in ("np.newaxis", "numpy.newaxis"):
            return ast.copy_location(ast.Constant(None), node)
        if path and path.split(".")[0] in ("np", "numpy"):
            name = path.split(".", 1)[1]
            if name in NUMPY_CONSTANTS:
                return ast.copy_location(ast.Constant(NUMPY_CONSTANTS[name]), node)
            numpy_function(path, node)  # raises the specific message for np.random etc.
            raise Problem(node, f"`{path}` is a function: call it, e.g. `{path}(x)`", path)
        if node.attr.startswith("__"):
            raise Problem(node, f"the attribute `.{node.attr}` is not allowed: dunder names are never allowed",
                          f".{node.attr}")
        value = self.visit(node.value)
        if node.attr == "T":
            node.value = value
            return node
        if node.attr in ATTRIBUTES:
            return ast.copy_location(ast.Call(ast.Name(ATTRIBUTES[node.attr], ast.Load()), [value], []), node)
        if node.attr in METHODS:
            raise Problem(node, f"`.{node.attr}` is a method: call it, e.g. `x.{node.attr}()`", f".{node.attr}")
        raise Problem(node, f"the attribute `.{node.attr}` is not supported (arrays offer .T, .shape, .size, .ndim "
                      f"and the methods {', '.join(sorted(METHODS))}){_suggest(node.attr, list(METHODS) + ['T', 'shape'])}",
                      f".{node.attr}")

    # ------------------------------------------------------------------ calls
    def visit_Call(self, node):
        path = dotted(node.func)
        args = [self.visit(a) for a in node.args]
        keywords = [self._keyword(k) for k in node.keywords]
        keywords = [k for k in keywords if k is not None]
        if isinstance(node.func, ast.Name):
            name = {"range": "arange"}.get(node.func.id, node.func.id)
            if name == "pad":
                keywords = self._pad_keywords(node, keywords)
            return self._call(node, name, args, keywords)
        if path in ("np.add.at", "numpy.add.at"):
            return self._call(node, "add_at", args, keywords)
        fn = numpy_function(path, node.func) if path else None
        if fn is not None:
            if fn == "pad":
                keywords = self._pad_keywords(node, keywords)
            if fn == "norm":
                args, keywords = self._norm_order(node, args, keywords)
            return self._call(node, fn, args, keywords)
        if isinstance(node.func, ast.Attribute):
            method, obj = node.func.attr, self.visit(node.func.value)
            if method == "astype":
                return self._astype(node, obj, node.args)
            if method not in METHODS:
                raise Problem(node.func, f"the method `.{method}()` is not supported (arrays offer "
                              f"{', '.join(sorted(METHODS))}, .astype(float), .astype(int))"
                              f"{_suggest(method, METHODS)}", f".{method}()",
                              column=node.func.end_col_offset - len(method) + 1)
            fn = METHODS[method]
            if fn in ("reshape", "transpose") and len(args) > 1:
                args = [ast.Tuple(args, ast.Load())]  # x.reshape(N, -1) is reshape(x, (N, -1))
            return self._call(node, fn, [obj] + args, keywords)
        raise Problem(node, f"calling `{ast.unparse(node.func)}` is not supported: call a function by its name, "
                      "e.g. exp(x) or np.exp(x)", f"call {ast.unparse(node.func)}")

    def _call(self, node, name, args, keywords):
        if name in ("max", "min") and len(args) > 1:
            raise Problem(node, max_min_message(name, args[0], args[1], ast.unparse(node)), f"{name} positional")
        new = ast.Call(ast.Name(name, ast.Load()), args, keywords)
        ast.copy_location(new.func, node.func)
        return ast.copy_location(new, node)

    def _keyword(self, kw):
        if kw.arg == "dtype" and ast.unparse(kw.value) in FLOAT_TYPES:
            return None  # float64 is what every array already is
        kw.value = self.visit(kw.value)
        return kw

    def _pad_keywords(self, node, keywords):
        out = []
        for k in keywords:
            if k.arg == "mode":
                if not (isinstance(k.value, ast.Constant) and k.value.value == "constant"):
                    raise Problem(k.value, "pad supports only mode=\"constant\" (the default)", "pad mode")
                continue
            out.append(k)
        return out

    def _norm_order(self, node, args, keywords):
        """Only the 2-norm of a vector / Frobenius norm of a matrix: ord None, 2 or 'fro' is dropped."""
        order = [k.value for k in keywords if k.arg == "ord"] + args[1:2]
        for o in order:
            if not _is_fro(o):
                raise Problem(o, f"norm(x, {ast.unparse(o)}) is not supported: only the 2-norm of a vector and the "
                              "Frobenius norm of a matrix (ord=None, 2 or 'fro'); write sum(abs(x)) for the 1-norm",
                              "norm ord")
        return args[:1] + args[2:], [k for k in keywords if k.arg != "ord"]

    def _astype(self, node, obj, args):
        kind = ast.unparse(args[0]) if len(args) == 1 else ""
        if kind in FLOAT_TYPES:
            return obj
        if kind in INT_TYPES:
            return self._call(node, "astype_int", [obj], [])
        raise Problem(node, f"`.astype({kind})` is not supported: write .astype(float) or .astype(int) "
                      "(a comparison such as `x > 0` already gives a 0/1 mask)", ".astype")

    # ------------------------------------------------------------------ operators
    def visit_BinOp(self, node):
        if isinstance(node.op, ast.BitXor):
            self.problems.append(Problem(node, "`^` is bitwise xor in Python and numpy: use ** for powers, e.g. x**2",
                                         "the operator ^", column=self._column_of("^", node)))
            node.op = ast.Pow()  # reported once, here, with the column of the `^`
        return self.generic_visit(node)

    def _column_of(self, op: str, node: ast.BinOp) -> int:
        """1-based column of the operator between the operands (same line), else the node's."""
        left, right = node.left, node.right
        if left.end_lineno == right.lineno and 1 <= left.end_lineno <= len(self.lines):
            text = self.lines[left.end_lineno - 1]
            pos = text.find(op, left.end_col_offset, right.col_offset)
            if pos >= 0:
                return pos + 1
        return node.col_offset + 1


def _is_fro(node) -> bool:
    return isinstance(node, ast.Constant) and node.value in ("fro", 2, None)


def normalize(tree: ast.AST, source: str) -> tuple[ast.AST, list[Problem]]:
    """The tree with numpy spellings rewritten, and the problems found (all of them)."""
    problems: list[Problem] = []
    out = _Normalizer(source, problems).visit(tree)
    return ast.fix_missing_locations(out), problems


def max_min_message(fname: str, first: ast.AST, second: ast.AST, written: str) -> str:
    """``max(Z1, 0)``: numpy reads the second argument as an axis, almost never what was meant (ReLU)."""
    a, b = ast.unparse(first), ast.unparse(second)
    array, other = (b, a) if isinstance(first, ast.Constant) else (a, b)
    pairwise = "maximum" if fname == "max" else "minimum"
    hints = [f"`{pairwise}({array}, {other})` (elementwise)"]
    if fname == "max" and other in ("0", "0.0"):
        hints.append(f"`relu({array})`")
    if other.lstrip("-").isdigit():
        hints.append(f"`{fname}({array}, axis={other})` (a reduction over that axis)")
    return (f"`{written}`: {fname} takes one array and reduces it; a second positional argument is ambiguous "
            f"(numpy reads it as an axis); write {' or '.join(hints)}")
