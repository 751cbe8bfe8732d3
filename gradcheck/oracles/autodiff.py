"""Autodiff oracle: JAX reverse mode in float64 (x64 enabled before any array is made).

The model's own steps run on JAX arrays (the functions of :mod:`gradcheck.ops` dispatch on the
type) and ``jax.jacrev`` differentiates ``of`` with respect to ``wrt`` by re-running the steps
downstream of it. One jit-compiled function per (model, of, wrt) computes the forward values and
that Jacobian from the model's inputs; it is cached, so every claim and every point that needs the
same derivative reuses one compilation (compiling is what costs: ~0.3-1 s, against microseconds
to run), in memory and on disk (``$GRADCHECK_JAX_CACHE``, default ``~/.cache/gradcheck/jax``; ``off``
disables it). The claim's formula is then evaluated on those values in float64. Error estimate: a few
ulps of the largest entry (reverse mode is exact up to rounding).
"""

from __future__ import annotations

import os
import time
from typing import Callable, Mapping

import numpy as np

from gradcheck.claim import Claim
from gradcheck.model import Model
from gradcheck.oracles.common import (Measurement, PointMeasurement, check_target, evaluate_formula,
                                      to_float, truth_from_jacobian)
from gradcheck.points import Point

EPS = np.finfo(np.float64).eps
_COMPILED: dict[tuple, tuple[Model, Callable]] = {}


def _jax():
    from gradcheck.interrupts import import_held

    jax = import_held("jax")  # Ctrl-C inside jaxlib's initialisation aborts the process

    if not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)
        cache = os.environ.get("GRADCHECK_JAX_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "gradcheck", "jax"))
        if cache and cache.lower() != "off":
            # compiled Jacobians persist across runs: a second `gradcheck report` skips ~80% of JAX's cost
            jax.config.update("jax_compilation_cache_dir", cache)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return jax


def jacobian_at(model: Model, values: Mapping, of: str, wrt: str):
    """Numerator-layout Jacobian d of / d wrt at ``values`` (JAX arrays), not compiled."""
    jax = _jax()
    return jax.jacrev(lambda x: model.rerun_from(values, wrt, x)[of])(values[wrt])


def compiled_jacobian(model: Model, of: str, wrt: str, *, jit: bool = True) -> Callable:
    """``inputs -> (forward values, d of / d wrt)``, jit-compiled once per (model, of, wrt)."""
    key = (id(model), of, wrt, jit)
    hit = _COMPILED.get(key)
    if hit is not None and hit[0] is model:
        return hit[1]

    def values_and_jacobian(inputs):
        values = model.forward(inputs)
        return values, jacobian_at(model, values, of, wrt)

    fn = _Bounded(values_and_jacobian, model.name) if jit else values_and_jacobian
    _COMPILED[key] = (model, fn)
    return fn


_PLANS: dict[int, tuple[Model, tuple[tuple[str, str], ...]]] = {}
_COMBINED_AT: dict[tuple, tuple] = {}  # (model id, point bytes) -> (values, {(of, wrt): Jacobian}); the last few


def plan(model: Model, pairs) -> None:
    """Announce every (of, wrt) derivative that claims on ``model`` will need: they are then
    compiled together as one function (one trace and one XLA compilation instead of one per pair;
    compiling is most of JAX's cost on small models)."""
    old = _PLANS.get(id(model))
    known = old[1] if old is not None and old[0] is model else ()
    _PLANS[id(model)] = (model, tuple(dict.fromkeys(known + tuple(pairs))))


# XLA's compile time grows faster than the program: measured on this project's 2-core machine, a
# traced Jacobian program of 3,000 operations compiled in ~6 s, 10,000 in ~15 s, 30,000 in ~95 s.
# Programs above this bound are not compiled but run operation by operation (time linear in their
# size, no compile); the claims of the documents and examples/ stay far below it (see
# benchmarks/USER_TIMINGS.md). Counted before compiling, so the bound always holds.
MAX_COMPILED_OPERATIONS = 4_000
EAGER_NOTE = "run operation by operation: {n:,} operations, more than the {cap:,} that are compiled"
# The programs run a few times on small arrays, so their compile time is what costs; LLVM's
# optimisations buy nothing here and are ~20% of XLA's compile (measured: the report's four
# programs 6.0 -> 4.8 s of CPU). XLA's own HLO passes (fusion, simplification) still run.
COMPILER_OPTIONS = {"xla_backend_optimization_level": "0"}
_OPTIONS_TAKEN = [True]  # False once XLA refused COMPILER_OPTIONS (another JAX version): its defaults then
COMPILE_LOG: list[tuple[str, int]] = []  # (model name, operations) of each program compiled: for benchmarks


def count_operations(jaxpr) -> int:
    """Equations of a (closed) jaxpr, those of the sub-programs it calls included."""
    inner = getattr(jaxpr, "jaxpr", jaxpr)
    n = 0
    for eqn in inner.eqns:
        n += 1
        for param in eqn.params.values():
            for sub in (param if isinstance(param, (tuple, list)) else (param,)):
                if hasattr(sub, "eqns") or hasattr(getattr(sub, "jaxpr", None), "eqns"):
                    n += count_operations(sub)
    return n


def _compile(lowered):
    """``lowered.compile`` with :data:`COMPILER_OPTIONS`; with XLA's defaults where this JAX or XLA
    does not take them (the options are a debug option of XLA, not a stable API)."""
    if _OPTIONS_TAKEN[0]:
        try:
            return lowered.compile(compiler_options=COMPILER_OPTIONS)
        except Exception:  # noqa: BLE001 - a program that cannot compile fails again just below
            _OPTIONS_TAKEN[0] = False
    return lowered.compile()


class ProgramTooLarge(Exception):
    """A combined program over the compile bound: its derivatives are compiled one by one instead."""


class _Bounded:
    """A jitted function that is traced first and compiled only when its program has at most
    ``MAX_COMPILED_OPERATIONS`` operations; a larger one runs eagerly (``eager`` says why), or with
    ``refuse`` raises :class:`ProgramTooLarge`."""

    def __init__(self, fn: Callable, name: str, refuse: bool = False):
        self.fn, self.name, self.eager, self.refuse = fn, name, "", refuse
        self._compiled: dict = {}

    def __call__(self, inputs):
        jax = _jax()
        leaves, tree = jax.tree_util.tree_flatten(inputs)
        signature = (str(tree), tuple((np.shape(v), str(getattr(v, "dtype", ""))) for v in leaves))
        compiled = self._compiled.get(signature)
        if compiled is None:
            traced = jax.jit(self.fn).trace(inputs)
            n = count_operations(traced.jaxpr)
            if n > MAX_COMPILED_OPERATIONS:
                if self.refuse:
                    raise ProgramTooLarge(EAGER_NOTE.format(n=n, cap=MAX_COMPILED_OPERATIONS))
                self.eager = EAGER_NOTE.format(n=n, cap=MAX_COMPILED_OPERATIONS)
                compiled = self.fn
            else:
                COMPILE_LOG.append((self.name, n))
                compiled = _compile(traced.lower())
            self._compiled[signature] = compiled
        return compiled(inputs)


def _values_and_jacobians(model: Model, pairs, inputs):
    """The forward values and ``{"of\x00wrt": Jacobian}`` for every planned pair (traced by JAX)."""
    values = model.forward(inputs)
    return values, {f"{o}\x00{w}": jacobian_at(model, values, o, w) for o, w in pairs}


def _combined(model: Model, pairs: tuple) -> Callable:
    key = (id(model), "combined", pairs)
    hit = _COMPILED.get(key)
    if hit is not None and hit[0] is model:
        return hit[1]
    fn = _Bounded(lambda inputs: _values_and_jacobians(model, pairs, inputs), model.name, refuse=True)
    _COMPILED[key] = (model, fn)
    return fn


_GROUPS: dict[int, tuple[Model, ...]] = {}  # model id -> the models compiled together with it
_FAILED_GROUPS: set[tuple[int, ...]] = set()


def plan_together(models) -> None:
    """Compile the planned derivatives of these models (the models of one document or file) as one
    XLA program: each compilation has a fixed cost (~0.2 s here) beside the part that grows with the
    program, so one program for a document's 7 models compiled in 1.0 s where 7 took 1.5 s. A
    group that cannot be traced or compiled, or is above the compile bound, falls back to one
    program per model."""
    models = tuple(dict.fromkeys(m for m in models if id(m) in _PLANS and _PLANS[id(m)][0] is m))
    if len(models) < 2:
        return
    for m in models:
        _GROUPS[id(m)] = models


def _template(model: Model) -> dict:
    """Zeros in the shape of every input of ``model``: what the other models of a group are given
    when one of them is evaluated (their results are not read)."""
    # numpy zeros: jnp.zeros compiles a small XLA program for every new shape (~25 ms each)
    return {name: np.zeros(model.shape_of(name), dtype=np.float64) for name in model.inputs}


def _grouped(model: Model, inputs: Mapping):
    """(values, Jacobians) of ``model`` from its group's program, or None (no group, or it failed)."""
    group = _GROUPS.get(id(model))
    if group is None or model not in group:
        return None
    plans = tuple(_PLANS.get(id(m)) for m in group)
    if any(p is None or p[0] is not m for p, m in zip(plans, group)):
        return None
    key = tuple(id(m) for m in group) + tuple(p[1] for p in plans)
    if key in _FAILED_GROUPS:
        return None
    try:
        templates = [_template(m) for m in group]
        here = group.index(model)
        own = templates[here]
        if set(own) != set(inputs) or any(np.shape(inputs[k]) != own[k].shape for k in own):
            return None  # inputs this model's template does not describe: its own program
        hit = _COMPILED.get(("group", key))
        if hit is None:
            def programs(all_inputs):
                out = []
                for m, (_, m_pairs), m_inputs in zip(group, plans, all_inputs):
                    try:
                        out.append(_values_and_jacobians(m, m_pairs, m_inputs))
                    except Exception:  # noqa: BLE001 - this model cannot be traced: it gets its own program
                        out.append(None)
                return out

            hit = _COMPILED[("group", key)] = (model, _Bounded(programs, " + ".join(m.name for m in group),
                                                               refuse=True))
        templates[here] = dict(inputs)
        results = hit[1](templates)
    except Exception:  # noqa: BLE001 - a model of the group cannot be traced, or the group is too large
        _FAILED_GROUPS.add(key)
        return None
    return results[here]


def _planned(model: Model, needed: list[tuple[str, str]], inputs: Mapping):
    """(values, {pair: Jacobian}) from the model's planned combined function, or None if not planned."""
    hit = _PLANS.get(id(model))
    if hit is None or hit[0] is not model or not set(needed) <= set(hit[1]):
        return None
    key = (id(model), hit[1], tuple((k, np.asarray(v).tobytes()) for k, v in sorted(inputs.items())))
    if key not in _COMBINED_AT:
        grouped = _grouped(model, inputs)
        if grouped is not None:
            values, jacs = grouped
        else:
            try:
                values, jacs = _combined(model, hit[1])(inputs)
            except Exception:  # noqa: BLE001 - some pair cannot be differentiated: one function per pair
                _PLANS.pop(id(model), None)
                return None
        if len(_COMBINED_AT) > 16:
            _COMBINED_AT.clear()
        _COMBINED_AT[key] = (values, {tuple(k.split("\x00")): v for k, v in jacs.items()})
    return _COMBINED_AT[key]


def _numpy_values(values: Mapping) -> dict:
    """float64 numpy values; integer values (sizes a code block computed, e.g. N = X.shape[0]) stay integers."""
    def convert(v):
        a = np.asarray(v)
        return a if np.issubdtype(a.dtype, np.integer) else np.asarray(a, dtype=float)

    return {k: (convert(v) if hasattr(v, "shape") else v) for k, v in values.items()}


def autodiff(model: Model, claim: Claim, points: list[Point], uses: Mapping[str, tuple[str, str]], *,
             jit: bool = True) -> Measurement:
    """Measure the claim against ``jax.jacrev`` at every point."""
    t0 = time.perf_counter()
    jax = _jax()
    jnp = jax.numpy
    of = claim.target(model)
    results = []
    for point in points:
        inputs = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in point.values.items()}
        planned = _planned(model, [(of, claim.wrt), *uses.values()], inputs) if jit else None
        if planned is not None:
            values, jacs = planned
            jac = jacs[(of, claim.wrt)]
            derivs = {name: to_float(jacs[pair]) for name, pair in uses.items()}
        else:
            values, jac = compiled_jacobian(model, of, claim.wrt, jit=jit)(inputs)
            derivs = {}
            for name, (o, w) in uses.items():
                derivs[name] = to_float(compiled_jacobian(model, o, w, jit=jit)(inputs)[1])
        values = {**_numpy_values(values), **model.dims, **model.constants}
        jac = to_float(jac)
        wrt_value = values[claim.wrt]
        of_shape, wrt_shape = np.shape(values[of]), np.shape(wrt_value)
        check_target(claim, of_shape, wrt_shape)
        with np.errstate(all="ignore"):
            claimed = to_float(evaluate_formula(claim, model, values, derivs))
        lr = model.constants.get(claim.lr) if claim.lr else None
        truth, off = truth_from_jacobian(claim, jac, of_shape, wrt_shape, wrt_value, lr, values[of])
        truth = to_float(truth)
        scale = float(np.max(np.abs(truth))) if truth.size else 0.0
        results.append(PointMeasurement(claimed, truth, 16 * EPS * max(scale, 1.0), True, off))
    eager = sorted({fn.eager for m, fn in _COMPILED.values() if m is model and isinstance(fn, _Bounded) and fn.eager})
    method = "jax.jacrev" + (f" ({eager[0]})" if eager else " (jit)" if jit else "")
    return Measurement("autodiff", f"{method}, float64 (jax {jax.__version__})", dict(model.dims),
                       tuple(results), seconds=time.perf_counter() - t0)
