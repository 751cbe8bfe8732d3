"""Function application: ``\\sigma(z)``, ``\\tanh' z``, ``\\operatorname{softmax}``, ``\\det A``, ..."""

from __future__ import annotations

import re

from gradcheck.latex import grammar as g
from gradcheck.latex.nodes import _integer, _plain_name
from gradcheck.latex.values import ATOM, POW, Val, _source, wrap

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


def softmax_axis(model) -> int:
    for step in model.step_list:
        m = re.search(r"softmax\(.*axis\s*=\s*(-?\d+)", getattr(step.fn, "source", "") or "")
        if m:
            return int(m.group(1))
    return -1


class FunctionRules:
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
        if any(a.ones for a in args):
            raise self.ctx.fail("the length of \\mathbf{1} is unknown here", arg_node, "write its size: \\mathbf{1}_m")
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
                return Val(f"diag(reshape({args[0].text}, (-1,)))")
            return Val(f"diag({args[0].text})")
        if key == "det":
            return Val(f"det({args[0].text})")
        if key == "clip":
            if len(args) != 3:
                raise self.ctx.fail("clip takes three arguments: clip(x, lo, hi)", arg_node)
            return Val(f"clip({args[0].text}, {args[1].text}, {args[2].text})")
        raise self.ctx.fail(f"unknown function {name}", item)

