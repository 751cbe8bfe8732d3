"""Autodiff oracle: JAX reverse mode in float64 (x64 enabled before any array is made).

The model's own steps run on JAX arrays (the functions of :mod:`gradcheck.ops` dispatch on the
type), ``jax.jacrev`` differentiates ``of`` with respect to ``wrt`` by re-running the steps
downstream of it, and the claim's formula is evaluated on JAX arrays too. Error estimate: a few
ulps of the largest entry (reverse mode is exact up to rounding).
"""

from __future__ import annotations

import time
from typing import Mapping

import numpy as np

from gradcheck.claim import Claim
from gradcheck.model import Model
from gradcheck.oracles.common import (Measurement, PointMeasurement, check_target, evaluate_formula,
                                      to_float, truth_from_jacobian)
from gradcheck.points import Point

EPS = np.finfo(np.float64).eps


def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def jacobian_at(model: Model, values: Mapping, of: str, wrt: str):
    """Numerator-layout Jacobian d of / d wrt at ``values`` (JAX arrays)."""
    jax = _jax()
    return jax.jacrev(lambda x: model.rerun_from(values, wrt, x)[of])(values[wrt])


def _compute(model: Model, claim: Claim, uses: Mapping[str, tuple[str, str]], inputs: Mapping):
    """(claimed value, numerator Jacobian of ``of`` w.r.t. ``wrt``) from the model's inputs."""
    values = model.forward(inputs)
    derivs = {name: jacobian_at(model, values, o, w) for name, (o, w) in uses.items()}
    claimed = evaluate_formula(claim, model, values, derivs)
    return claimed, jacobian_at(model, values, claim.target(model), claim.wrt), values[claim.target(model)]


def autodiff(model: Model, claim: Claim, points: list[Point], uses: Mapping[str, tuple[str, str]], *,
             jit: bool = True) -> Measurement:
    """Measure the claim against ``jax.jacrev`` at every point (one jit compilation for all points)."""
    t0 = time.perf_counter()
    jax = _jax()
    jnp = jax.numpy
    of = claim.target(model)
    results = []
    compute = lambda inputs: _compute(model, claim, uses, inputs)  # noqa: E731
    method = "jax.jacrev (jit)"
    if jit:
        compute = jax.jit(compute)
    for point in points:
        inputs = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in point.values.items()}
        wrt_value = inputs.get(claim.wrt)
        try:
            claimed, jac, of_value = compute(inputs)
        except (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError):
            compute, method = (lambda inputs: _compute(model, claim, uses, inputs)), "jax.jacrev (eager)"
            claimed, jac, of_value = compute(inputs)
        if wrt_value is None:
            wrt_value = model.forward(inputs)[claim.wrt]
        of_shape, wrt_shape = tuple(jnp.shape(of_value)), tuple(jnp.shape(wrt_value))
        check_target(claim, of_shape, wrt_shape)
        lr = model.constants.get(claim.lr) if claim.lr else None
        truth, _ = truth_from_jacobian(claim, jac, of_shape, wrt_shape, wrt_value, lr)
        truth, claimed = to_float(truth), to_float(claimed)
        off = 0.0
        if claim.kind == "elementwise":
            sq = to_float(jac).reshape(truth.size, truth.size)
            off = float(np.max(np.abs(sq - np.diag(np.diag(sq))))) if truth.size > 1 else 0.0
        scale = float(np.max(np.abs(truth))) if truth.size else 0.0
        results.append(PointMeasurement(claimed, truth, 16 * EPS * max(scale, 1.0), True, off))
    return Measurement("autodiff", f"{method}, float64 (jax {jax.__version__})", dict(model.dims),
                       tuple(results), seconds=time.perf_counter() - t0)
