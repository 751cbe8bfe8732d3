"""Finite-difference oracle (numpy, float64).

Methods, chosen per quantity:

* **complex step** ``Im f(x + i h e_k) / h`` with ``h = 1e-20 max(1, |x_k|)``: no subtractive
  cancellation, error near machine precision. Used when the forward accepts complex input, and
  *validated* against central differences along two random directions (a non-analytic operation
  on the path, such as ``np.abs`` or a cast to float, makes the two disagree; then it is dropped).
  The piecewise functions of :mod:`gradcheck.ops` pick branches by the real part, so the complex
  step stays exact through relu/abs/max away from their kinks.
* **central differences** with step ``h = EPS**(1/3) max(1, |x_k|)`` (balances the O(h^2)
  truncation against the O(EPS/h) rounding error; scipy's ``_numdiff`` uses the same rule),
  divided by the *representable* step ``(x + h) - x``, and **Richardson extrapolation** over the
  steps h and 2h: ``R = (4 D(h) - D(2h)) / 3``, with ``|R - D(h)|`` as the error estimate. If the
  two steps disagree by far more than smooth truncation allows, the point is reported as
  *non-smooth* instead of giving a verdict.
* **random-direction probes** for a ``wrt`` with more than ``max_full`` entries: ``k`` seeded
  Rademacher directions ``v``; the claim passes a probe when ``<claim, v>`` matches the
  directional derivative. A single wrong entry ``e_i`` changes every probe by exactly ``|e_i|``,
  so it is never missed above the tolerance; several wrong entries cancel in one probe with
  probability at most 1/2, so all ``k`` probes miss them with probability at most ``2**-k``.
  A failing probe is followed by bisection over blocks of entries to localise the wrong ones.

Perturbations never touch the caller's arrays, and only the steps downstream of ``wrt`` are
re-run (:meth:`Model.rerun_from`).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, Callable, Mapping

import numpy as np

from gradcheck.claim import Claim
from gradcheck.model import Model
from gradcheck.oracles import batched
from gradcheck.oracles.common import (Measurement, PointMeasurement, check_target, evaluate_formula,
                                      expected_shape, to_float, truth_from_jacobian)
from gradcheck.points import Point

EPS = np.finfo(np.float64).eps
COMPLEX_STEP = 1e-20
CENTRAL_STEP = EPS ** (1 / 3)
COMPLEX_VALIDATION_RTOL = 1e-5  # complex step vs central difference along a random direction
NONSMOOTH_RTOL = 1e-4  # |D(h) - D(2h)| beyond this (relative to the scale) means a kink in between
MAX_FULL = 10_000
N_PROBES = 16
CHUNK = 256  # perturbations per list in the one-call-each loop
BATCH = "structured"  # how perturbations are evaluated: "structured", "dense" or "loop"
FIRST_CHUNK = 64  # perturbations in the first (validated) batch
VALIDATE = 3  # perturbations of the first batch re-evaluated one call each and compared
MEMORY_ELEMENTS = 1 << 22  # largest batched intermediate (elements) a later chunk may create
STATS: Counter = Counter()  # evaluations by mode, fallbacks and the last fallback's reason


def _directional(f: Callable, x0: np.ndarray, v: np.ndarray, scale: float, complex_ok: bool) -> float | np.ndarray:
    if complex_ok:
        h = COMPLEX_STEP * scale
        return np.imag(f(x0.astype(complex) + 1j * h * v)) / h
    h = CENTRAL_STEP * scale
    return (to_float(f(x0 + h * v)) - to_float(f(x0 - h * v))) / (2 * h)


def evaluate_batch(f: Callable, inputs: list[np.ndarray]) -> np.ndarray:
    """Stack of ``f`` over perturbed inputs, one forward call each (the reference loop)."""
    return np.stack([np.asarray(f(x)) for x in inputs])


def _loop_columns(f: Callable, x0: np.ndarray, ks: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``f(x0 + steps[b] e_{ks[b]})`` for every b, one forward call each."""
    flat = x0.reshape(-1)
    out = []
    for lo in range(0, ks.size, CHUNK):
        batch = []
        for k, s in zip(ks[lo:lo + CHUNK], steps[lo:lo + CHUNK]):
            p = flat.astype(np.result_type(flat, s))
            p[k] += s
            batch.append(p.reshape(x0.shape))
        out.append(evaluate_batch(f, batch))
    return np.concatenate(out, axis=0)


def _batched_columns(f: Callable, x0: np.ndarray, ks: np.ndarray, steps: np.ndarray, structured: bool) -> np.ndarray:
    return batched.stacked(f(batched.entry_batch(x0, ks, steps, structured)), ks.size)


def _agrees(fast: np.ndarray, ref: np.ndarray) -> bool:
    """Batched values equal the loop's up to the rounding of reordered float operations."""
    if fast.shape != ref.shape or not np.array_equal(np.isfinite(fast), np.isfinite(ref)):
        return False
    ok = np.isfinite(ref)
    for part in ((np.real, 1e-13), (np.imag, 1e-11)) if np.iscomplexobj(ref) else ((np.real, 1e-13),):
        get, rtol = part
        a, b = get(fast)[ok], get(ref)[ok]
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        if b.size and float(np.max(np.abs(a - b))) > rtol * scale:
            return False
    return True


def perturbed_values(f: Callable, x0: np.ndarray, ks: np.ndarray, steps: np.ndarray,
                     batch: str | None = None) -> np.ndarray:
    """``f(x0 + steps[b] e_{ks[b]})`` stacked over b: shape ``(len(ks), *f.shape)``.

    ``batch``: "structured" (slab batches, see :mod:`gradcheck.oracles.batched`), "dense" (a leading
    batch axis) or "loop" (one forward call each); default :data:`BATCH`. A batched evaluation is
    validated on the first chunk against the loop at ``VALIDATE`` perturbations spread over it;
    on any exception or mismatch the loop is used for everything, and the reason recorded in
    :data:`STATS`.
    """
    mode = batch or BATCH
    ks, steps = np.asarray(ks), np.asarray(steps)
    if mode == "loop" or ks.size <= 2 * VALIDATE:
        STATS["loop"] += 1
        return _loop_columns(f, x0, ks, steps)
    structured = mode == "structured"
    first = min(ks.size, FIRST_CHUNK)
    batched.Batch.peak = 0
    try:
        head = _batched_columns(f, x0, ks[:first], steps[:first], structured)
        sample = np.unique(np.linspace(0, first - 1, min(VALIDATE, first)).astype(int))
        ref = _loop_columns(f, x0, ks[sample], steps[sample])
        if not _agrees(head[sample], ref):
            raise batched.Unsupported("batched values differ from the loop on the first chunk")
    except Exception as exc:  # noqa: BLE001 - any failure means: use the loop
        STATS["fallback"] += 1
        STATS["last_fallback"] = f"{type(exc).__name__}: {exc}"
        return _loop_columns(f, x0, ks, steps)
    STATS[mode] += 1
    per = max(1, batched.Batch.peak // max(first, 1))
    chunk = int(max(1, min(ks.size, MEMORY_ELEMENTS // per)))
    parts = [head]
    for lo in range(first, ks.size, chunk):
        parts.append(_batched_columns(f, x0, ks[lo:lo + chunk], steps[lo:lo + chunk], structured))
    return np.concatenate(parts, axis=0)


def complex_step_jacobian(f: Callable, x0: np.ndarray, batch: str | None = None) -> np.ndarray:
    """Columns ``Im f(x + i h e_k) / h`` for every entry k; shape ``f.shape + x.shape``."""
    flat = x0.reshape(-1)
    steps = COMPLEX_STEP * np.maximum(1.0, np.abs(flat))
    out = perturbed_values(f, x0.astype(complex), np.arange(flat.size), 1j * steps, batch)
    h = steps.reshape((-1,) + (1,) * (out.ndim - 1))
    return _assemble([np.imag(out) / h], x0.shape)


def _assemble(cols: list[np.ndarray], wrt_shape: tuple) -> np.ndarray:
    stacked = np.concatenate(cols, axis=0)  # (n, *of_shape)
    of_ndim = stacked.ndim - 1
    return np.moveaxis(stacked, 0, -1).reshape(stacked.shape[1:] + tuple(wrt_shape)) if of_ndim else \
        stacked.reshape(tuple(wrt_shape))


def central_jacobian(f: Callable, x0: np.ndarray, batch: str | None = None) -> tuple[np.ndarray, float, bool]:
    """Richardson-extrapolated central differences; (jacobian, error estimate, smooth)."""
    flat0 = x0.reshape(-1)
    n = flat0.size
    h = CENTRAL_STEP * np.maximum(1.0, np.abs(flat0))
    h = (flat0 + h) - flat0  # the representable step
    ks = np.repeat(np.arange(n), 4)
    steps = (h[:, None] * np.array([1.0, -1.0, 2.0, -2.0])).reshape(-1)
    out = to_float(perturbed_values(f, x0, ks, steps, batch))
    vals = out.reshape((n, 4) + out.shape[1:])
    hk = h.reshape((-1,) + (1,) * (vals.ndim - 2))
    d1 = _assemble([(vals[:, 0] - vals[:, 1]) / (2 * hk)], x0.shape)
    d2 = _assemble([(vals[:, 2] - vals[:, 3]) / (4 * hk)], x0.shape)
    rich = (4 * d1 - d2) / 3
    scale = max(float(np.max(np.abs(rich))) if rich.size else 0.0, 1e-300)
    gap = float(np.max(np.abs(d1 - d2))) if rich.size else 0.0
    smooth = gap <= NONSMOOTH_RTOL * max(scale, 1.0)
    err = float(np.max(np.abs(rich - d1))) if rich.size else 0.0
    return rich, err, smooth


def _complex_valid(f: Callable, x0: np.ndarray, jac: np.ndarray, rng: np.random.Generator) -> bool:
    """Cross-check the complex step against central differences along two random directions."""
    for _ in range(2):
        v = rng.standard_normal(x0.shape)
        scale = max(1.0, float(np.max(np.abs(x0))) if x0.size else 1.0)
        central = _directional(f, x0, v, scale, complex_ok=False)
        projected = np.tensordot(jac, v, axes=v.ndim) if v.ndim else jac * v
        ref = max(float(np.max(np.abs(central))) if np.size(central) else 0.0, 1e-8)
        if float(np.max(np.abs(projected - central))) > COMPLEX_VALIDATION_RTOL * max(ref, 1.0):
            return False
    return True


def jacobian(f: Callable, x0: np.ndarray, rng: np.random.Generator, method: str = "auto") -> tuple[np.ndarray, float, bool, str]:
    """Numerator-layout Jacobian of ``f`` at ``x0``: (J, error estimate, smooth, method used)."""
    x0 = to_float(x0)
    if method in ("auto", "complex step"):
        try:
            with np.errstate(all="ignore"):
                jac = complex_step_jacobian(f, x0)
            if np.all(np.isfinite(jac)) and _complex_valid(f, x0, jac, rng):
                scale = float(np.max(np.abs(jac))) if jac.size else 0.0
                return jac, 4 * EPS * max(scale, 1.0), True, "complex step"
        except (TypeError, ValueError, OverflowError):
            pass
    with np.errstate(all="ignore"):
        jac, err, smooth = central_jacobian(f, x0)
    return jac, err, smooth, "central difference + Richardson"


def _target(model: Model, values: Mapping[str, Any], of: str, wrt: str) -> Callable:
    return lambda x: model.rerun_from(values, wrt, x)[of]


def _derivative_values(model: Model, values, uses, rng) -> dict[str, np.ndarray]:
    out = {}
    for name, (of, wrt) in uses.items():
        jac, *_ = jacobian(_target(model, values, of, wrt), values[wrt], rng)
        out[name] = jac
    return out


def _probe(claim_value: np.ndarray, f: Callable, x0: np.ndarray, rng, k: int, complex_ok: bool,
           transform: Callable) -> tuple[np.ndarray, np.ndarray, tuple]:
    """k Rademacher probes: (claimed projections, true directional derivatives, localised entries)."""
    scale = max(1.0, float(np.max(np.abs(x0))))
    claimed, truth = [], []
    vs = []
    for _ in range(k):
        v = rng.choice([-1.0, 1.0], size=x0.shape)
        vs.append(v)
        claimed.append(float(np.sum(claim_value * v)))
        truth.append(float(transform(_directional(f, x0, v, scale, complex_ok))))
    claimed_a, truth_a = np.array(claimed), np.array(truth)
    tol = 1e-6 * max(float(np.max(np.abs(truth_a))), 1e-300)
    if np.max(np.abs(claimed_a - truth_a)) <= tol:
        return claimed_a, truth_a, ()
    # bisection over blocks of entries: a block is wrong if its restricted probe disagrees
    wrong, blocks = [], [np.arange(x0.size)]
    while blocks and len(wrong) < 64:
        block = blocks.pop()
        v = np.zeros(x0.size)
        v[block] = rng.choice([-1.0, 1.0], size=block.size)
        v = v.reshape(x0.shape)
        gap = abs(float(np.sum(claim_value * v)) - float(transform(_directional(f, x0, v, scale, complex_ok))))
        if gap <= tol:
            continue
        if block.size == 1:
            wrong.append(int(block[0]))
        else:
            blocks += [block[block.size // 2:], block[: block.size // 2]]
    return claimed_a, truth_a, tuple(sorted(wrong))


def finite_difference(model: Model, claim: Claim, points: list[Point], uses: Mapping[str, tuple[str, str]], *,
                      seed: int = 0, max_full: int = MAX_FULL, n_probes: int = N_PROBES,
                      method: str = "auto") -> Measurement:
    """Measure the claim against finite differences at every point."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed + 7919)
    of = claim.target(model)
    results, methods = [], set()
    for point in points:
        with np.errstate(all="ignore"):
            values = model.forward(point.values)
        x0 = to_float(values[claim.wrt])
        of_shape = np.shape(values[of])
        check_target(claim, of_shape, x0.shape)
        derivs = _derivative_values(model, values, uses, rng)
        with np.errstate(all="ignore"):
            claimed = to_float(evaluate_formula(claim, model, values, derivs))
        f = _target(model, values, of, claim.wrt)
        lr = values.get(claim.lr) if claim.lr else None
        use_probes = (x0.size > max_full and claim.kind in ("gradient", "recursion", "update")
                      and claimed.shape == x0.shape)
        if use_probes:
            complex_ok = True
            try:
                d = _directional(f, x0, rng.choice([-1.0, 1.0], size=x0.shape), 1.0, True)
                complex_ok = bool(np.isfinite(d))
            except (TypeError, ValueError):
                complex_ok = False
            if claim.kind == "update":
                transform = lambda g, v=None: g  # noqa: E731 - compared below on the gradient part
                claimed_grad = (x0 - claimed) / lr
            else:
                transform = lambda g: g  # noqa: E731
                claimed_grad = claimed
            c, t, wrong = _probe(claimed_grad, f, x0, rng, n_probes, complex_ok, transform)
            methods.add(f"{n_probes} random-direction probes ({'complex step' if complex_ok else 'central'})")
            results.append(PointMeasurement(c, t, truth_error=4 * EPS * max(1.0, float(np.max(np.abs(t)))),
                                            localised=wrong, miss_probability=2.0 ** -n_probes))
            continue
        jac, err, smooth, used = jacobian(f, x0, rng, method)
        methods.add(used)
        truth, off = truth_from_jacobian(claim, jac, of_shape, x0.shape, x0, lr)
        results.append(PointMeasurement(claimed, to_float(truth), err, smooth, off))
    return Measurement("finite_difference", " / ".join(sorted(methods)), dict(model.dims), tuple(results),
                       seconds=time.perf_counter() - t0, fields={"expected_shape": expected_shape})
