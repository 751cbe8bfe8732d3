"""Read one LaTeX equation: what its left side is, and each right-hand side as an IR formula.

* ``\\frac{\\partial L}{\\partial W_2} = A = B``: a derivative claim with a chain of steps A, B;
* ``dW_2 = A``, ``\\delta^{(2)} = A`` (a declared name): the same;
* ``\\delta^3 \\equiv \\frac{\\partial C}{\\partial z^3}`` (or ``:=``): declares ``delta3`` (and may
  continue ``= A``: claims about it);
* ``z^{[1]} = W^{[1]} x + b^{[1]}``: a definition, checked against the model's step of that name;
* a formula with no left side (a TOML claim's ``latex``): one step for the claim's own ``of``/``wrt``.

Every step is lowered on its own; a step that cannot be lowered carries its error, and the others
are still checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gradcheck.latex import grammar as g
from gradcheck.latex.grammar import LatexError
from gradcheck.latex.lower import MUL, Context, Deriv, Lowerer, Val, lower_expression, order_axes, wrap
from gradcheck.latex.values import dim_text
from gradcheck.latex.nodes import _label, _single
from gradcheck.latex.notation import ACCENT_SUFFIX, OBJECTIVE_SPELLINGS, greek_stems, squash

CHAIN_OPS = ("=", "approx")
DECLARE_OPS = ("equiv", ":=")


@dataclass
class Step:
    """One right-hand side: its LaTeX, the IR formula (or the error), and the derivative names it uses."""

    latex: str
    start: int
    end: int
    formula: str | None = None
    uses: dict = field(default_factory=dict)
    error: LatexError | None = None


@dataclass
class Equation:
    kind: str  # "claim" | "definition" | "declaration" | "other"
    latex: str
    lhs: str = ""
    of: str | None = None
    wrt: str | None = None
    claim_kind: str = "gradient"
    target: str | None = None  # a definition: the step it defines
    declared: dict = field(default_factory=dict)  # name -> (of, wrt)
    steps: list = field(default_factory=list)
    spelled: dict = field(default_factory=dict)  # IR name -> LaTeX spelling


def read_equation(latex: str, make_context, *, where: str = "", of: str | None = None,
                  wrt: str | None = None) -> Equation:
    """Parse and lower ``latex``. ``make_context()`` gives a fresh :class:`Context` per step.

    ``of``/``wrt`` are the claim's own (a TOML claim): required when the LaTeX has no left side,
    and checked against the left side when it has one.
    """
    tree = g.parse(latex, where=where)
    ctx0 = make_context(latex, where)
    if not isinstance(tree, g.Relation) or tree.ops[0] not in CHAIN_OPS + DECLARE_OPS:
        if isinstance(tree, g.Relation):
            raise ctx0.fail(f"an equation whose first relation is `{tree.ops[0]}`", tree)
        if wrt is None:
            raise LatexError("a formula without a left side needs the claim's `wrt`", latex, where=where)
        eq = Equation("claim", latex, of=of or ctx0.model.objective, wrt=wrt)
        eq.claim_kind = _kind(ctx0, eq.of)
        eq.steps.append(_step(tree, latex, make_context, where, eq, None))
        return eq
    lhs_node, rest, ops = tree.items[0], list(tree.items[1:]), list(tree.ops)
    rest, ops = _until_text(rest, ops)
    if not rest:
        raise ctx0.fail("the right side is prose, not a formula", tree.items[1], "write the formula after the `=`")
    eq = Equation("other", latex, lhs=latex[lhs_node.start:lhs_node.end].strip())
    deriv = _as_derivative(lhs_node, ctx0)
    if deriv is not None and ops[0] in DECLARE_OPS and rest:
        same = _as_derivative(rest[0], ctx0)
        if same is None or (same.of, same.wrt) != (deriv.of, deriv.wrt):
            raise ctx0.fail("the right side of \\equiv must be the same derivative as the left", rest[0])
        eq.kind, eq.declared = "declaration", {declared_name(lhs_node, ctx0): (deriv.of, deriv.wrt)}
        eq.of, eq.wrt, eq.claim_kind = deriv.of, deriv.wrt, _kind(ctx0, deriv.of)
        rest, ops = rest[1:], ops[1:]
        if not rest:
            return eq
    elif deriv is None and ops[0] in DECLARE_OPS and rest:
        declared = _as_derivative(rest[0], ctx0)
        if declared is not None:
            name = declared_name(lhs_node, ctx0)
            eq.kind, eq.declared = "declaration", {name: (declared.of, declared.wrt)}
            eq.of, eq.wrt = declared.of, declared.wrt
            eq.claim_kind = _kind(ctx0, declared.of)
            deriv, rest, ops = declared, rest[1:], ops[1:]
            eq.spelled = dict(ctx0.spelled)
            if not rest:
                return eq
    if deriv is not None:
        if eq.kind != "declaration":
            eq.kind, eq.of, eq.wrt = "claim", deriv.of, deriv.wrt
            eq.claim_kind = _kind(ctx0, deriv.of)
        if _elementwise(deriv):
            eq.claim_kind = "elementwise"
        _check_own(eq, of, wrt, latex, where)
        for op, node in zip(ops, rest):
            if op not in CHAIN_OPS:
                eq.steps.append(Step(latex[node.start:node.end].strip(), node.start, node.end,
                                     error=ctx0.fail(f"`{op}` in a chain of equalities", node)))
                continue
            eq.steps.append(_step(node, latex, make_context, where, eq, deriv))
        eq.spelled = {**ctx0.spelled, **eq.spelled}
        return eq
    target = _as_step(lhs_node, ctx0)
    if target is not None:
        eq.kind, eq.target = "definition", target
        for op, node in zip(ops, rest):
            step = Step(latex[node.start:node.end].strip(), node.start, node.end)
            try:
                ctx = make_context(latex, where)
                order = _lhs_indices(lhs_node, ctx)
                v = lower_expression(node, ctx)
                if v.axes or order:
                    if not v.axes or set(v.axes) - set(order):
                        raise ctx.fail("the free indices of the two sides differ", node)
                    text = order_axes(v, order, np.shape(ctx.sample[target]), ctx, node)
                else:
                    text = v.text
                step.formula, step.uses = text, dict(ctx.uses)
            except LatexError as exc:
                step.error = exc
            eq.steps.append(step)
        return eq
    return eq


def _until_text(rest: list, ops: list) -> tuple[list, list]:
    """Prose ends the mathematics: ``= A \\quad \\text{since } B = C`` keeps only ``= A``."""
    out_rest, out_ops = [], []
    for op, node in zip(ops, rest):
        cut = _cut_at_text(node)
        if cut is None:
            break
        out_rest.append(cut)
        out_ops.append(op)
        if cut is not node:
            break
    return out_rest, out_ops


def _has_text(node) -> bool:
    if isinstance(node, g.Text):
        return True
    if isinstance(node, (g.Product, g.Group, g.Hadamard)):
        return any(_has_text(i) for i in node.items)
    if isinstance(node, g.Sum):
        return any(_has_text(t) for _, t in node.terms)
    return False


def _cut_at_text(node):
    """``node`` without the prose that follows it (None when it starts with prose)."""
    if not _has_text(node):
        return node
    if isinstance(node, g.Product):
        keep = []
        for item in node.items:
            if _has_text(item):
                break
            keep.append(item)
        if not keep:
            return None
        return g.Product(node.start, keep[-1].end, items=tuple(keep)) if len(keep) > 1 else keep[0]
    if isinstance(node, g.Sum):
        keep = []
        for sign, term in node.terms:
            cut = _cut_at_text(term)
            if cut is not None:
                keep.append((sign, cut))
            if cut is not term:
                break
        if not keep:
            return None
        return g.Sum(node.start, keep[-1][1].end, terms=tuple(keep))
    return None


def _check_own(eq: Equation, of, wrt, latex, where) -> None:
    if wrt is not None and wrt != eq.wrt:
        raise LatexError(f"the LaTeX's left side is a derivative with respect to {eq.wrt!r}, but the claim's "
                         f"wrt is {wrt!r}", latex, where=where)
    if of is not None and of != eq.of:
        raise LatexError(f"the LaTeX's left side is a derivative of {eq.of!r}, but the claim's of is {of!r}",
                         latex, where=where)


def _elementwise(d: Deriv) -> bool:
    """``\\partial a_j / \\partial z_j``: the same free indices above and below, the diagonal of a Jacobian."""
    return bool(d.of_indices) and d.of_indices == d.wrt_indices and d.of != d.wrt


def _order(d: Deriv) -> tuple:
    return d.wrt_indices if _elementwise(d) else d.of_indices + d.wrt_indices


def _kind(ctx: Context, of: str) -> str:
    return "gradient" if np.shape(ctx.sample.get(of, 0.0)) == () else "jacobian"


def _as_derivative(node, ctx: Context) -> Deriv | None:
    """A derivative written as a fraction, ``dW_2`` or a declared / claim name; None otherwise."""
    inner = node.items[0] if isinstance(node, g.Product) and len(node.items) == 1 else node
    low = Lowerer(ctx)
    if isinstance(inner, g.Frac):
        d = low.derivative(inner)
        if d is not None:
            return d
        return None
    if isinstance(inner, (g.Name, g.Factor, g.Command, g.Accent, g.Font)):
        try:
            v = low.symbol(inner)
        except LatexError:
            v = None
        if v is not None and v.axes is None and v.text in ctx.derivatives:
            of, wrt = ctx.derivatives[v.text]
            return Deriv(of, wrt, node=inner)
        if v is not None and v.text in ctx.model.names:
            return None
        base = inner.base if isinstance(inner, g.Factor) else inner
        if isinstance(base, g.Name) and base.text.startswith("d") and len(base.text) > 1:
            stripped = g.Name(base.start + 1, base.end, text=base.text[1:])
            node2 = g.Factor(inner.start + 1, inner.end, base=stripped, scripts=inner.scripts) \
                if isinstance(inner, g.Factor) else stripped
            try:
                name, idx = low.reference(node2)
            except LatexError:
                return None
            return Deriv(ctx.model.objective, name, (), idx, inner)
    return None


def _lhs_indices(node, ctx: Context) -> tuple:
    inner = node.items[0] if isinstance(node, g.Product) and len(node.items) == 1 else node
    if isinstance(inner, g.Factor) and inner.sub() is not None:
        return Lowerer(ctx).reference(inner)[1]
    return ()


def _as_step(node, ctx: Context) -> str | None:
    inner = node.items[0] if isinstance(node, g.Product) and len(node.items) == 1 else node
    if not isinstance(inner, (g.Name, g.Factor, g.Command, g.Accent, g.Font)):
        return None
    spelled = squash(ctx.latex[inner.start:inner.end])
    if spelled in OBJECTIVE_SPELLINGS and spelled not in ctx.model.names and not ctx.notation.lookup(spelled):
        return ctx.model.objective
    try:
        v = Lowerer(ctx).symbol(inner)
    except LatexError:
        return None
    steps = [s.name for s in ctx.model.step_list]
    if v.axes is None and v.text in steps:
        return v.text
    if v.axes:
        try:
            name, _ = Lowerer(ctx).reference(inner)
        except LatexError:
            return None
        return name if name in steps else None
    return None


def declared_name(node, ctx: Context) -> str:
    """The IR name of a symbol being declared (``\\delta^{(3)}`` -> ``delta3``)."""
    inner = node.items[0] if isinstance(node, g.Product) and len(node.items) == 1 else node
    base, scripts = (inner.base, inner.scripts) if isinstance(inner, g.Factor) else (inner, ())
    mapped = ctx.notation.lookup(ctx.latex[base.start:base.end])
    stems = [mapped] if mapped else _stems(base)
    if not stems:
        raise ctx.fail("this symbol cannot be declared: write a letter or a Greek letter, with an optional "
                       "layer label", inner)
    label = ""
    for s in scripts:
        lab, _, _ = _label(s)
        if lab is None and s.kind == "sub":
            continue  # the indices of an entry: g_{ij} names the whole derivative
        if lab is None:
            raise ctx.fail("a declared name may carry only a layer label (\\delta^{(2)}, \\delta_2)", inner)
        label = lab
    name = stems[0] + label
    if name in ctx.model.names or name in ctx.model.dims or name in ctx.model.constants:
        raise ctx.fail(f"`{ctx.latex[inner.start:inner.end]}` is already the model's {name!r}", inner,
                       "choose another symbol for the derivative")
    return name


def _stems(base) -> list[str]:
    if isinstance(base, g.Name):
        return [base.text]
    if isinstance(base, g.Command):
        return list(greek_stems(base.text))
    if isinstance(base, g.Accent) and isinstance(base.body, (g.Name, g.Command)):
        return [s + ACCENT_SUFFIX.get(base.accent, base.accent) for s in _stems(base.body)]
    if isinstance(base, g.Font):
        inner = _single(base.body)
        return _stems(inner) if inner is not None else []
    return []


def _step(node, latex: str, make_context, where: str, eq: Equation, deriv: Deriv | None) -> Step:
    step = Step(latex[node.start:node.end].strip(), node.start, node.end)
    try:
        ctx = make_context(latex, where)
        ctx.derivatives.update(eq.declared)
        for name, (o, w) in eq.declared.items():
            ctx.add_derivative_sample(name, o, w)
        order = ()
        if deriv is not None and deriv.node is not None and isinstance(deriv.node, g.Frac):
            d = Lowerer(ctx).derivative(deriv.node)  # notes the LHS index ranges in this context
            order = _order(d)
        elif deriv is not None:
            order = _order(deriv)
        v = lower_expression(node, ctx)
        step.formula = finish(v, ctx, eq, order, node)
        step.uses = dict(ctx.uses)
        eq.spelled.update(ctx.spelled)
    except LatexError as exc:
        step.error = exc
    return step


def finish(v: Val, ctx: Context, eq: Equation, order: tuple, node) -> str:
    """The IR text of a right-hand side, in the shape of the claim's value."""
    of_shape = np.shape(ctx.sample.get(eq.of, 0.0))
    wrt_shape = np.shape(ctx.sample[eq.wrt])
    shape = wrt_shape if eq.claim_kind in ("gradient", "elementwise") else of_shape + wrt_shape
    if v.axes:
        if not order:
            order = v.axes
        squeezed = tuple(n for n in shape if n != 1)
        if len(order) != len(shape) and len(order) == len(squeezed) and len(shape) == 2:
            text = order_axes(v, order, squeezed, ctx, node)  # a row / column vector written with one index
            # -1 for the long axis: the formula holds at any size, not only at this one (the second size)
            return f"reshape({text}, {tuple(1 if n == 1 else -1 for n in shape)!r})"
        if len(order) != len(shape):
            raise ctx.fail(f"the free indices ({', '.join(order)}) do not match the {len(shape)} axes of the "
                           f"derivative (shape {shape})", node)
        for letter, n in zip(order, shape):
            known = ctx.index_sizes.get(letter)
            if known is not None and known != n:
                raise ctx.fail(f"the index {letter} ranges over {known} entries, but the derivative's axis has {n}",
                               node)
        return order_axes(v, order, shape, ctx, node)
    if order:
        raise ctx.fail("the left side has indices, but this side is a matrix expression", node,
                       "index the right side too, or drop the indices on the left")
    got = ctx.shape(v)
    if got is not None and len(shape) == 1 and len(got) == 2 and 1 in got and int(np.prod(got)) == shape[0]:
        return f"reshape({v.text}, (-1,))"  # a row/column vector written for a 1-D array
    if got == () and shape != () and _is_literal(v.text):
        if eq.claim_kind in ("gradient", "elementwise"):  # "= 0", "= 1": every entry, at any size
            return f"{wrap(v, MUL)} * ones_like({eq.wrt})"
        return f"{wrap(v, MUL)} * ones(({''.join(dim_text(ctx.model, n) + ', ' for n in shape)}))"
    return v.text


def _is_literal(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
