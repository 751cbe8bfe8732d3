"""The second size: the same model at other dims and constants, so no relation rests on a coincidence.

A formula that is right only because ``m = 2`` (a literal 2 where ``m`` belongs), a diagnosis
"times 1/k" that is really "times 1/2", a repair "multiply by c" where ``c = 2`` by chance: each
holds at one choice of sizes and fails at another. Every verdict, diagnosis and repair is therefore
also checked at a *second size*:

* dims are redrawn to distinct primes from 5 up, none equal to another dim (at either size), to an
  integer written in the claim's formula, or to a constant's value; a dim of 1 stays 1 (one sample,
  one output unit: structure, not a size that can coincide with a factor); a model whose dims are
  related (``D1 = D + 1``) states its second size (``Model.second_dims``);
* every constant (learning rates, weight decay, keep probabilities, eps) is redrawn: multiplied by
  ``CONSTANT_FACTOR`` when it is in (-1, 1) (so a probability stays a probability), else by
  ``1 / CONSTANT_FACTOR``; a constant equal to 0 stays 0.

There is no second size when the model cannot be resized: data given as literal values fix the
dims of their shapes, a derivation says its document is written for one size (``Model.fixed_size``, with the
reason: formulas written entry by entry for a 2-2-4-3 network), and a model whose steps fail at the
new dims (e.g. a hard-coded slice) is reported as such.
Without a second size no dim is named in a diagnosis (a dim may equal a factor by chance) and
repairs that bring in a dim or constant are not offered; the output says so.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from gradcheck.model import Model

CONSTANT_FACTOR = 0.7368  # an arbitrary factor far from simple ratios (not 1/2, 3/4, 2/3, ...)
SMALL_INTEGERS = frozenset(range(0, 5))  # 0..4: the factors (2, 4, 1/2) a diagnosis can name
_PRIMES = (5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97)


@dataclass(frozen=True)
class SecondSize:
    """The model at its second size, or why there is none (``model`` is None)."""

    model: Model | None
    dims: Mapping[str, int]
    constants: Mapping[str, float]
    unavailable: str = ""

    @property
    def available(self) -> bool:
        return self.model is not None


def integers_in(texts: Iterable[str]) -> set[int]:
    """Integer literals written in formulas (``2 * W``, ``/ 4``): a dim must not equal one of them."""
    found: set[int] = set()
    for text in texts:
        for tok in re.findall(r"(?<![\w.])\d+(?:\.\d*)?(?:[eE][-+]?\d+)?(?![\w.])", text or ""):
            if tok.isdigit():  # 1e-5 and 0.5 are not sizes
                found.add(int(tok))
    return found


def redraw_constant(value: float) -> float:
    """A constant's second value: same sign, a probability stays in (0, 1), 0 stays 0."""
    v = float(value)
    if v == 0.0:
        return 0.0
    return v * CONSTANT_FACTOR if abs(v) < 1 else v / CONSTANT_FACTOR


def second_dims(model: Model, avoid: Iterable[int] = ()) -> dict[str, int]:
    """Distinct primes >= 5, one per dim, none equal to a first-size dim, a constant or ``avoid``.

    A dim of 1 stays 1: it is structural (one sample, one output unit), and a factor 1 is never a
    diagnosis. ``Model.second_dims`` replaces the drawing when the model's dims are related.
    """
    if model.second_dims:
        return {**{k: v for k, v in model.dims.items()}, **dict(model.second_dims)}
    banned = set(SMALL_INTEGERS) | set(int(v) for v in model.dims.values()) | set(avoid)
    for v in list(model.constants.values()) + [redraw_constant(v) for v in model.constants.values()]:
        if float(v).is_integer():
            banned.add(int(v))
    free = (p for p in _PRIMES if p not in banned)
    return {name: (1 if value == 1 else next(free)) for name, value in model.dims.items()}


def second_size(model: Model, formula_texts: Iterable[str] = ()) -> SecondSize:
    """The model at its second size, validated by drawing one point there."""
    from gradcheck.points import draw_points

    if not model.dims and not model.constants:
        return SecondSize(None, {}, {}, "one size only: the model has no dims or constants to redraw")
    if model.fixed_size:
        return SecondSize(None, {}, {}, f"no second size: {model.fixed_size}")
    literal = [name for name, spec in model.data.items()
               if spec.value is not None and any(isinstance(d, str) for d in spec.shape)]
    if literal:
        return SecondSize(None, {}, {}, f"no second size: the data {', '.join(literal)} "
                          f"{'is' if len(literal) == 1 else 'are'} given as literal values of fixed shape")
    dims = second_dims(model, integers_in(formula_texts))
    constants = {k: redraw_constant(v) for k, v in model.constants.items()}
    symbolic = None if model.symbolic_dims is None else {k: v for k, v in dims.items() if k in model.symbolic_dims}
    try:
        resized = Model(model.name, dims, model.steps, model.data, model.params, constants, model.objective,
                        model.sense, symbolic, model.param_scale * fan_in_factor(model.dims, dims), None,
                        "this is the model's second size")
        draw_points(resized, 1, seed=0)
    except Exception as exc:  # noqa: BLE001 - a model that only works at its own dims is reported as such
        return SecondSize(None, dims, constants, f"no second size: the model fails at dims {dims_text(dims)} "
                          f"({type(exc).__name__}: {exc})")
    return SecondSize(resized, dims, constants)


def fan_in_factor(first: Mapping[str, int], second: Mapping[str, int]) -> float:
    """Parameter scale at the second size relative to the first: 1/sqrt(r), r the geometric mean ratio of
    the dims that grew. Larger dims sum more terms per unit (a layer's fan-in), so without it activations
    grow by about sqrt(r) per layer and saturate (sigmoid at 0 or 1, log of ~0), where finite differences
    lose their accuracy; with it the second size sees values of the first size's magnitude."""
    ratios = [second[k] / v for k, v in first.items() if v > 1 and k in second and second[k] > v]
    if not ratios:
        return 1.0
    geometric_mean = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
    return 1.0 / math.sqrt(geometric_mean)


def dims_text(dims: Mapping[str, int], constants: Mapping[str, float] | None = None) -> str:
    """``m=4, d=3`` (and constants with 4 significant digits)."""
    parts = [f"{k}={v}" for k, v in dims.items()]
    parts += [f"{k}={v:.4g}" for k, v in (constants or {}).items()]
    return ", ".join(parts)
