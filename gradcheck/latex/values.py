"""The values the lowering passes around: a lowered sub-formula (:class:`Val`), a derivative written in
the LaTeX (:class:`Deriv`), and what a lowering may refer to (:class:`Context`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradcheck import expr as ir
from gradcheck.latex import grammar as g
from gradcheck.latex.grammar import LatexError
from gradcheck.latex.notation import Notation

ATOM, POW, UNARY, MUL, ADD, CMP = 100, 90, 80, 70, 60, 50
TRANSPOSE_MARKS = ("T", "top", "intercal", "mathsf{T}", "mathrm{T}", "prime")
MAX_GATHER = 4096  # entries of an index-arithmetic reference (x_{i+j-1}) spelled out entry by entry


@dataclass(frozen=True)
class Val:
    """A lowered sub-formula: IR text, its precedence, and its free indices (None: matrix algebra)."""

    text: str
    prec: int = ATOM
    axes: tuple | None = None
    ones: str | None = None  # an unsized \mathbf{1}: "col" or "row", sized by its neighbour
    row: bool = False  # a 1-D array written transposed (x^T): a row vector, so x y^T is an outer product


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


def sample_values(model, seed: int = 0) -> dict[str, Any]:
    """Forward values at one seeded point: only their shapes are used."""
    from gradcheck.points import _candidate

    values = _candidate(model, np.random.default_rng(seed), model.dims)
    with np.errstate(all="ignore"):
        return dict(model.forward(values))


def wrap(v: Val, prec: int) -> str:
    return v.text if v.prec >= prec else f"({v.text})"


def _source(ctx: Context, node) -> str:
    return ctx.latex[node.start:node.end]


class _Lowered(g.Node):
    """An already lowered operand re-entering :meth:`Lowerer.product`."""

    def __init__(self, v: Val):
        object.__setattr__(self, "start", 0)
        object.__setattr__(self, "end", 0)
        object.__setattr__(self, "v", v)


def dim_text(model, n) -> str:
    """A size as the dim it is, when exactly one dim of the model has it (``m`` rather than ``4``), so the
    lowered formula holds at any size (the second size); the number when no dim, or several, have it."""
    named = [k for k, v in model.dims.items() if v == n]
    return named[0] if len(named) == 1 else str(n)
