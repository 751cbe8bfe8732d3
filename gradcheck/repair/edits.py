"""Candidate edits of a formula's expression tree (Python :mod:`ast`), in a fixed order.

An :class:`Edit` is one small change at one place of the tree: transpose, negate, scale by a dim or
a small constant (or drop/replace such a factor), replace a name by a sibling of the same shape,
swap ``@`` and ``*`` (or the operands of ``@``), replace or insert an activation derivative, sum
over the batch axis (or mean <-> sum, or drop a sum). Edits never look at values except through
the shapes recorded by one evaluation of the formula (:class:`Context.node_shapes`), which only
prunes edits that cannot fit; whether an edit is *right* is decided by the search.

Every edit has a ``kind`` that matches the engine's diagnosis categories where there is one:
``sign`` (sign flip), ``transpose`` (transpose), ``scale`` (scale factor, mean vs sum),
``batch sum`` (missing batch sum); the others are ``name``, ``operator``, ``activation``.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field
from typing import Iterator, Mapping

#: diagnosis kind (gradcheck.diagnose) -> the edit kind that repairs it
DIAGNOSIS_KIND = {"sign flip": "sign", "transpose": "transpose", "scale factor": "scale",
                  "mean vs sum": "scale", "missing batch sum": "batch sum"}

SMALL_CONSTANTS = (2,)  # multiplied or divided by (so 2 and 1/2)

# calls whose arguments (after the first, or all) are shapes, axes or sizes, never arrays
_SHAPE_ARGS = {"reshape": (1,), "ones": (0,), "zeros": (0,), "eye": (0,), "transpose": (1,), "einsum": (0,)}

# activation -> text of its derivative in terms of (z, a) = (input name, output name)
DERIVATIVE_TEXT = {
    "sigmoid": "{a} * (1 - {a})",
    "tanh": "(1 - {a} ** 2)",
    "relu": "({z} > 0)",
    "softplus": "sigmoid({z})",
}


@dataclass(frozen=True)
class Activation:
    """An elementwise activation step of the model: ``a = kind(z)``."""

    kind: str
    z: str
    a: str

    @property
    def derivative(self) -> str:
        return DERIVATIVE_TEXT[self.kind].format(z=self.z, a=self.a)

    @property
    def label(self) -> str:
        return f"{self.kind}'({self.z})"


@dataclass
class Context:
    """What edits may use: shapes of names and nodes, dims, activations, sibling candidates."""

    name_shapes: Mapping[str, tuple]  # every readable name -> shape (() for dims and constants)
    dims: Mapping[str, int]
    constants: tuple[str, ...] = ()
    batch_sizes: tuple[int, ...] = ()  # lengths of batch axes (see gradcheck.check.batch_names)
    activations: tuple[Activation, ...] = ()
    derivative_names: tuple[str, ...] = ()  # the `uses` names
    node_shapes: dict = field(default_factory=dict)  # path -> shape (None: unknown) for the tree edited

    @property
    def factor_names(self) -> list[str]:
        """Dims usable as scale factors (value > 1), batch dims first."""
        dims = [n for n, v in self.dims.items() if isinstance(v, int) and v > 1]
        return sorted(dims, key=lambda n: (self.dims[n] not in self.batch_sizes, dims.index(n)))


@dataclass(frozen=True)
class Edit:
    kind: str
    description: str
    tree: ast.Expression  # the edited copy
    root: bool = False  # applies to the whole formula


# ---------------------------------------------------------------------- tree positions
Path = tuple  # of (field, index or None)


def get(tree: ast.AST, path: Path) -> ast.AST:
    node = tree
    for fld, idx in path:
        node = getattr(node, fld)
        if idx is not None:
            node = node[idx]
    return node


def replaced(tree: ast.Expression, path: Path, make) -> ast.Expression:
    """``tree`` with the node at ``path`` replaced by ``make(node)``.

    Path copying: the nodes along ``path`` are copied, every other subtree is shared with ``tree``
    (trees are never mutated after they are built; ``make`` must build new nodes around its
    argument, never change it).
    """
    if not path:
        raise ValueError("empty path")

    def rebuild(node, rest):
        fld, idx = rest[0]
        new = copy.copy(node)
        child = getattr(node, fld) if idx is None else getattr(node, fld)[idx]
        repl = make(child) if len(rest) == 1 else rebuild(child, rest[1:])
        if idx is None:
            setattr(new, fld, repl)
        else:
            items = list(getattr(node, fld))
            items[idx] = repl
            setattr(new, fld, items)
        return new

    return rebuild(tree, path)


def sites(tree: ast.Expression) -> Iterator[tuple[Path, ast.AST, ast.AST | None, Path | None]]:
    """Every array-valued position, pre-order: (path, node, parent, parent path).

    Skips function names, keyword values (axis=...), subscripts' indices, and shape/size arguments.
    Tuples and lists themselves are not sites (their elements are).
    """

    def walk(node, path, parent, ppath):
        if not isinstance(node, (ast.Tuple, ast.List)):
            yield path, node, parent, ppath
        if isinstance(node, ast.BinOp):
            yield from walk(node.left, path + (("left", None),), node, path)
            yield from walk(node.right, path + (("right", None),), node, path)
        elif isinstance(node, ast.UnaryOp):
            yield from walk(node.operand, path + (("operand", None),), node, path)
        elif isinstance(node, ast.Attribute):
            yield from walk(node.value, path + (("value", None),), node, path)
        elif isinstance(node, ast.Subscript):
            yield from walk(node.value, path + (("value", None),), node, path)
        elif isinstance(node, ast.Compare):
            yield from walk(node.left, path + (("left", None),), node, path)
            for i, c in enumerate(node.comparators):
                yield from walk(c, path + (("comparators", i),), node, path)
        elif isinstance(node, ast.Call):
            fname = node.func.id if isinstance(node.func, ast.Name) else ""
            skip = _SHAPE_ARGS.get(fname, ())
            for i, a in enumerate(node.args):
                if i not in skip:
                    yield from walk(a, path + (("args", i),), node, path)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for i, e in enumerate(node.elts):
                yield from walk(e, path + (("elts", i),), parent, ppath)

    yield from walk(tree.body, (("body", None),), None, None)


def text(node: ast.AST) -> str:
    return ast.unparse(node)


def what(node: ast.AST, path: Path, limit: int = 48) -> str:
    """How a description names a subexpression: "the whole formula" or its (shortened) text."""
    if len(path) == 1:
        return "the whole formula"
    t = text(node)
    return f"`{t if len(t) <= limit else t[:limit - 3] + '...'}`"


def names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} - _called(node)


def _called(node: ast.AST) -> set[str]:
    return {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def _expr(source: str) -> ast.AST:
    return ast.parse(source, mode="eval").body


def _is_number(node) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _is_number(node.operand)
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def is_factor(node: ast.AST, ctx: Context) -> bool:
    """A scalar written with numbers, dims and constants only (``m``, ``1/m``, ``2``, ``0.5``)."""
    if _is_number(node):
        return True
    if isinstance(node, ast.Name):
        return node.id in ctx.dims or node.id in ctx.constants
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div, ast.Pow)):
        return is_factor(node.left, ctx) and is_factor(node.right, ctx)
    if isinstance(node, ast.UnaryOp):
        return is_factor(node.operand, ctx)
    return False


def _neg(node: ast.AST) -> ast.AST:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return node.operand
    return ast.UnaryOp(op=ast.USub(), operand=node)


def _T(node: ast.AST) -> ast.AST:
    return ast.Attribute(value=node, attr="T", ctx=ast.Load())


def _transpose_axes(node: ast.AST, axes: tuple[int, ...]) -> ast.AST:
    return ast.Call(func=ast.Name(id="transpose", ctx=ast.Load()),
                    args=[node, ast.Tuple(elts=[ast.Constant(a) for a in axes], ctx=ast.Load())], keywords=[])


def _binop(left, op, right) -> ast.AST:
    return ast.BinOp(left=left, op=op, right=right)


def _sum0(node: ast.AST, fname: str = "sum") -> ast.AST:
    return ast.Call(func=ast.Name(id=fname, ctx=ast.Load()), args=[node],
                    keywords=[ast.keyword(arg="axis", value=ast.Constant(0))])


def _sum_axis(node: ast.AST, axis: int, *, keep: bool) -> ast.AST:
    keywords = [ast.keyword(arg="axis", value=ast.Constant(axis))]
    if keep:
        keywords.append(ast.keyword(arg="keepdims", value=ast.Constant(True)))
    return ast.Call(func=ast.Name(id="sum", ctx=ast.Load()), args=[node], keywords=keywords)


def _letters_digits(name: str) -> tuple[str, str]:
    return re.sub(r"\d", "#", name), "".join(re.findall(r"\d", name))


# ---------------------------------------------------------------------- generation
def generate(tree: ast.Expression, ctx: Context) -> Iterator[Edit]:
    """All single edits of ``tree``, kind by kind, each kind in pre-order of the sites."""
    all_sites = list(sites(tree))
    shapes = ctx.node_shapes

    def shape(path):
        return shapes.get(path)

    yield from _transposes(tree, all_sites, shape)
    yield from _negations(tree, all_sites)
    yield from _scales(tree, all_sites, ctx)
    yield from _names(tree, all_sites, ctx)
    yield from _operators(tree, all_sites, shape)
    yield from _activations(tree, all_sites, ctx, shape)
    yield from _batch_sums(tree, all_sites, ctx, shape)


def _transposes(tree, all_sites, shape):
    for path, node, parent, _ in all_sites:
        if isinstance(node, ast.Attribute) and node.attr == "T":
            yield Edit("transpose", f"remove the transpose of {what(node.value, path + (('value', None),))}",
                       replaced(tree, path, lambda n: n.value), root=len(path) == 1)
            continue
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "transpose" and len(node.args) == 1:
            yield Edit("transpose", f"remove the transpose of `{text(node.args[0])}`",
                       replaced(tree, path, lambda n: n.args[0]), root=len(path) == 1)
            continue
        if _is_number(node) or (isinstance(parent, ast.Attribute) and parent.attr == "T"):
            continue
        s = shape(path)
        if s is not None and len(s) >= 3 and len(path) == 1:  # a Jacobian with two axes swapped
            for i in range(len(s) - 1):
                axes = list(range(len(s)))
                axes[i], axes[i + 1] = axes[i + 1], axes[i]
                yield Edit("transpose", f"swap axes {i} and {i + 1} of the whole formula",
                           replaced(tree, path, lambda n, a=tuple(axes): _transpose_axes(n, a)), root=True)
            continue
        if s is not None and len(s) != 2:
            continue
        yield Edit("transpose", f"transpose {what(node, path)}", replaced(tree, path, _T), root=len(path) == 1)


def _negations(tree, all_sites):
    for path, node, parent, _ in all_sites:
        if _is_number(node) and not isinstance(parent, ast.BinOp):
            continue
        if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub):
            continue  # covered by removing the parent's minus
        root = len(path) == 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            yield Edit("sign", f"remove the minus sign of {what(node, path)}", replaced(tree, path, _neg), root=root)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
            yield Edit("sign", f"negate {what(node, path)} (swap the operands of `-`)",
                       replaced(tree, path, lambda n: _binop(n.right, ast.Sub(), n.left)), root=root)
        elif isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Add, ast.Sub)) and path[-1][0] == "right":
            flip = ast.Add() if isinstance(parent.op, ast.Sub) else ast.Sub()
            sym = "+" if isinstance(flip, ast.Add) else "-"
            yield Edit("sign", f"negate the term `{text(node)}` (`{sym}` for `{'-' if sym == '+' else '+'}`)",
                       replaced(tree, path[:-1], lambda p: _binop(p.left, flip, p.right)))
        else:
            yield Edit("sign", f"negate {what(node, path)}", replaced(tree, path, _neg), root=root)


def _scale_sites(all_sites):
    """The whole formula and every term of a sum (scaling a factor of a product is the same value)."""
    for path, node, parent, _ in all_sites:
        if len(path) == 1 or (isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Add, ast.Sub))):
            yield path, node


def _scales(tree, all_sites, ctx: Context):
    # dims, then small numbers, then the model's constants (a keep probability, a learning rate): safe
    # because a repair must hold at the second size, where dims and constants are redrawn
    factors = [(n, ast.Name(id=n, ctx=ast.Load())) for n in ctx.factor_names] + \
              [(str(k), ast.Constant(k)) for k in SMALL_CONSTANTS] + \
              [(n, ast.Name(id=n, ctx=ast.Load())) for n in ctx.constants]
    # drop or replace an existing factor
    for path, node, parent, _ in all_sites:
        if not isinstance(node, ast.BinOp) or not isinstance(node.op, (ast.Mult, ast.Div)):
            continue
        if is_factor(node, ctx):
            continue
        sides = []
        if is_factor(node.right, ctx):
            sides.append(("right", "left"))
        if isinstance(node.op, ast.Mult) and is_factor(node.left, ctx):
            sides.append(("left", "right"))
        for fac_side, keep in sides:
            fac = getattr(node, fac_side)
            shown = ("/ " if isinstance(node.op, ast.Div) else "") + text(fac)
            yield Edit("scale", f"remove the factor `{shown}`",
                       replaced(tree, path, lambda n, keep=keep: getattr(n, keep)), root=len(path) == 1)
            for label, fnode in factors:
                if text(fnode) == text(fac):
                    continue
                for op, sym in ((ast.Mult(), "*"), (ast.Div(), "/")):
                    yield Edit("scale", f"replace the factor `{shown}` by `{sym} {label}`",
                               replaced(tree, path, lambda n, keep=keep, op=op, f=fnode:
                                        _binop(getattr(n, keep), op, copy.deepcopy(f))), root=len(path) == 1)
    for path, node in _scale_sites(all_sites):
        if is_factor(node, ctx):
            continue
        for label, fnode in factors:
            yield Edit("scale", f"multiply {what(node, path)} by `{label}`",
                       replaced(tree, path, lambda n, f=fnode: _binop(n, ast.Mult(), copy.deepcopy(f))),
                       root=len(path) == 1)
            yield Edit("scale", f"divide {what(node, path)} by `{label}`",
                       replaced(tree, path, lambda n, f=fnode: _binop(n, ast.Div(), copy.deepcopy(f))),
                       root=len(path) == 1)


def sibling_names(name: str, ctx: Context) -> list[str]:
    """Names of the same shape, closest first: same letters other digits (W2 -> W3, of any shape:
    the layer may be the wrong one), same digits other letters (z1 -> a1), derivative (`uses`)
    names, then the others; scalars only among dims (or constants)."""
    shapes = ctx.name_shapes
    if name not in shapes:
        return []
    s = shapes[name]
    letters, digits = _letters_digits(name)
    if name in ctx.dims:
        pool = [n for n in ctx.dims if n != name and n in shapes]
    elif name in ctx.constants:
        pool = [n for n in ctx.constants if n != name]
    else:
        pool = [n for n in shapes if n != name and n not in ctx.dims and n not in ctx.constants
                and (shapes[n] == s or (_letters_digits(n)[0] == letters and shapes[n] != ()))]

    def rank(n):
        l2, d2 = _letters_digits(n)
        if digits and l2 == letters:
            return 0
        if digits and d2 == digits:
            return 1
        if n in ctx.derivative_names:
            return 2
        return 3

    return sorted(pool, key=lambda n: (rank(n), list(shapes).index(n)))


def _names(tree, all_sites, ctx: Context):
    for path, node, parent, _ in all_sites:
        if not isinstance(node, ast.Name):
            continue
        for other in sibling_names(node.id, ctx):
            yield Edit("name", f"replace `{node.id}` by `{other}`",
                       replaced(tree, path, lambda n, o=other: ast.Name(id=o, ctx=ast.Load())), root=len(path) == 1)


def _operators(tree, all_sites, shape):
    for path, node, parent, _ in all_sites:
        root = len(path) == 1
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.MatMult, ast.Mult)):
            if isinstance(node.op, ast.MatMult):
                yield Edit("operator", f"use `*` for `@` in {what(node, path)}",
                           replaced(tree, path, lambda n: _binop(n.left, ast.Mult(), n.right)), root=root)
                yield Edit("operator", f"swap the operands of `@` in {what(node, path)}",
                           replaced(tree, path, lambda n: _binop(n.right, ast.MatMult(), n.left)), root=root)
            else:
                ls, rs = shape(path + (("left", None),)), shape(path + (("right", None),))
                if ls is not None and rs is not None and (len(ls) == 0 or len(rs) == 0):
                    continue  # a scalar factor: @ cannot apply
                yield Edit("operator", f"use `@` for `*` in {what(node, path)}",
                           replaced(tree, path, lambda n: _binop(n.left, ast.MatMult(), n.right)), root=root)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "outer" and len(node.args) == 2:
            yield Edit("operator", f"swap the operands of {what(node, path)}",
                       replaced(tree, path, lambda n: ast.Call(func=n.func, args=[n.args[1], n.args[0]], keywords=[])),
                       root=root)


def _activations(tree, all_sites, ctx: Context, shape):
    for act in ctx.activations:
        a_shape = ctx.name_shapes.get(act.a)
        deriv = act.derivative
        # replace a hand-written derivative: a subexpression of a or z (and numbers) only
        for path, node, parent, _ in all_sites:
            used = names_in(node)
            if not used or not used <= {act.z, act.a}:
                continue
            if _is_number(node) or text(node) == text(_expr(deriv)):
                continue
            if isinstance(parent, ast.Attribute) or (parent is not None and names_in(parent) <= {act.z, act.a}):
                continue  # only the largest such subexpression
            s = shape(path)
            if s is not None and a_shape is not None and s != a_shape:
                continue
            yield Edit("activation", f"replace `{text(node)}` by {act.label} = `{deriv}`",
                       replaced(tree, path, lambda n, d=deriv: _expr(d)), root=len(path) == 1)
        # insert a missing derivative: multiply a subexpression of a's shape elementwise by it
        for path, node, parent, _ in all_sites:
            s = shape(path)
            if s is None or a_shape is None or s != a_shape or _is_number(node):
                continue
            if names_in(node) <= {act.z, act.a}:
                continue
            yield Edit("activation", f"multiply {what(node, path)} elementwise by {act.label} = `{deriv}`",
                       replaced(tree, path, lambda n, d=deriv: _binop(n, ast.Mult(), _expr(d))), root=len(path) == 1)


def _batch_sums(tree, all_sites, ctx: Context, shape):
    for path, node, parent, _ in all_sites:
        root = len(path) == 1
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("sum", "mean"):
            other = "mean" if node.func.id == "sum" else "sum"
            yield Edit("scale", f"use `{other}` for `{node.func.id}` in {what(node, path)}",
                       replaced(tree, path, lambda n, o=other: ast.Call(func=ast.Name(id=o, ctx=ast.Load()),
                                                                          args=n.args, keywords=n.keywords)), root=root)
            if node.args:
                yield Edit("batch sum", f"remove the `{node.func.id}` around `{text(node.args[0])}`",
                           replaced(tree, path, lambda n: n.args[0]), root=root)
            continue
        s = shape(path)
        if s is None or len(s) < 1 or _is_number(node):
            continue
        for axis, length in enumerate(s):  # row layout: axis 0; column layout (h, m): the last axis, kept
            if length not in ctx.batch_sizes:
                continue
            if axis == 0:
                yield Edit("batch sum", f"sum {what(node, path)} over the batch axis (axis 0)",
                           replaced(tree, path, _sum0), root=root)
            if len(s) >= 2:
                yield Edit("batch sum", f"sum {what(node, path)} over the batch axis (axis {axis}, keepdims=True)",
                           replaced(tree, path, lambda n, a=axis: _sum_axis(n, a, keep=True)), root=root)
