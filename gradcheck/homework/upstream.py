"""Upstream-gradient claims: ``dx = f_backward(dout, cache)`` checked as a vector-Jacobian product.

A claim with ``upstream = "dout"`` and ``of = "out"`` (a non-scalar step) says that its formula equals
``dout · d out / d wrt``, i.e. ``sum_i dout[i] * d out[i] / d wrt``. The loader adds

* ``dout`` as data (real, drawn at random at every point, once per file, so the backward block and
  every claim see the same value), with the shape of ``out`` written in dims (inferred here);
* a step ``dout·out = sum(dout * out)``, a scalar whose gradient with respect to ``wrt`` is exactly
  that product,

and the claim becomes an ordinary gradient claim of ``dout·out``: all three oracles, the diagnoses
(transpose, missing batch sum, scale) and the repairs work on it unchanged.
"""

from __future__ import annotations

import inspect
from typing import Mapping

import numpy as np

from gradcheck import dimexpr, ops
from gradcheck.model import Model, ModelError
from gradcheck.oracles.common import traced
from gradcheck.points import _candidate

_PRIMES = (11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71)


def vjp_name(upstream: str, of: str) -> str:
    return f"{upstream}·{of}"


def vjp_step(upstream: str, of: str):
    """The step ``sum(upstream * of)`` reading ``upstream`` and ``of`` by name."""
    def contract(*args):
        u, value = args
        if np.shape(u) != np.shape(value):
            raise ModelError(f"the upstream gradient {upstream!r} has shape {np.shape(u)} but {of!r} has shape "
                             f"{np.shape(value)}; declare {upstream!r} with the shape of {of!r}")
        return ops.sum(u * value)

    contract.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in (upstream, of)])
    contract.__name__ = vjp_name(upstream, of)
    return contract


def _shape_at(model: Model, name: str, dims: Mapping[str, int]) -> tuple[int, ...]:
    small = model.with_dims(dims)
    values = _candidate(small, np.random.default_rng(0), small.dims)
    with np.errstate(all="ignore"):
        out = small.forward(traced(values))
    return tuple(int(s) for s in np.shape(out[name]))


def _candidates(dims: Mapping[str, int]) -> list[str]:
    names = list(dims)
    out = list(names)
    out += [f"{k}*{d}" for k in range(2, 9) for d in names]
    out += [f"{a}*{b}" for i, a in enumerate(names) for b in names[i:]]
    out += [f"{d}+{k}" for k in (1, 2) for d in names] + [f"{d}-{k}" for k in (1, 2) for d in names]
    return out


def infer_shape(model: Model, name: str) -> tuple:
    """The shape of step ``name`` written in dims (``("N", "4*H")``), found by evaluating the forward
    pass at the model's dims and at distinct prime dims; raises ModelError when it cannot tell."""
    at_model = _shape_at(model, name, model.dims)
    primes = {d: p for d, p in zip(model.dims, _PRIMES[:len(model.dims)])}
    try:
        at_primes = _shape_at(model, name, primes)
    except Exception as exc:  # noqa: BLE001 - e.g. literal data values fix the dims
        raise ModelError(f"cannot tell which dims make up the shape {at_model} of {name!r} (the forward pass "
                         f"does not run at other dims: {exc})") from None
    if len(at_primes) != len(at_model):
        raise ModelError(f"the number of axes of {name!r} changes with the dims")
    shape = []
    for a, b in zip(at_model, at_primes):
        if a == b:
            shape.append(a)
            continue
        match = next((c for c in _candidates(model.dims)
                      if dimexpr.value(c, model.dims) == a and _safe_value(c, primes) == b), None)
        if match is None:
            raise ModelError(f"cannot tell which dims make up the axis of length {a} of {name!r}")
        shape.append(match)
    return tuple(shape)


def _safe_value(text: str, dims) -> int | None:
    try:
        return dimexpr.value(text, dims)
    except dimexpr.DimError:
        return None
