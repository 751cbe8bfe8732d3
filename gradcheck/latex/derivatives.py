"""Derivatives written in the LaTeX: ``\\frac{\\partial L}{\\partial W_{ij}}`` as a left side or inside a formula."""

from __future__ import annotations

import numpy as np

from gradcheck.latex import grammar as g
from gradcheck.latex.nodes import _after_d, _hoist_scripts
from gradcheck.latex.notation import OBJECTIVE_SPELLINGS, squash
from gradcheck.latex.values import ATOM, Deriv, Val, _source


class DerivativeRules:
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

