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
  The k directional derivatives are one batched evaluation: :class:`batched.Dual` carries the
  real value and the k complex-step tangents (forward mode: the same numbers as ``Im f(x + i h v)/h``
  without complex arithmetic), validated once against a finite difference; on any failure one
  complex step (or central difference) per direction. A failing probe is localised by the binary
  digits of a single wrong index (``ceil(log2 n)`` 0/1 directions, accepted only if that entry
  alone explains all k probes), else by bisection over blocks of entries (one batched evaluation
  per level, re-probing a pair whose parent is known to be wrong, until the entries found explain
  all k probes).

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
                                      to_float, truth_from_jacobian)
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


def central_jacobian(f: Callable, x0: np.ndarray, batch: str | None = None,
                     step: float | None = None) -> tuple[np.ndarray, float, bool]:
    """Richardson-extrapolated central differences; (jacobian, error estimate, smooth).

    ``step``: the relative step (default ``CENTRAL_STEP``); a user's choice, as torch's ``eps``."""
    flat0 = x0.reshape(-1)
    n = flat0.size
    h = (step or CENTRAL_STEP) * np.maximum(1.0, np.abs(flat0))
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


def jacobian(f: Callable, x0: np.ndarray, rng: np.random.Generator, method: str = "auto",
             step: float | None = None) -> tuple[np.ndarray, float, bool, str]:
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
        jac, err, smooth = central_jacobian(f, x0, step=step)
    return jac, err, smooth, "central difference + Richardson" + (f" (step {step:g})" if step else "")


def _target(model: Model, values: Mapping[str, Any], of: str, wrt: str) -> Callable:
    return lambda x: model.rerun_from(values, wrt, x)[of]


def _derivative_values(model: Model, values, uses, rng) -> dict[str, np.ndarray]:
    out = {}
    for name, (of, wrt) in uses.items():
        jac, *_ = jacobian(_target(model, values, of, wrt), values[wrt], rng)
        out[name] = jac
    return out


DIRECTION_ELEMENTS = 1 << 25  # largest tangent array (directions x entries) of one directional batch


def _directions_batched(f: Callable, x0: np.ndarray, V: np.ndarray) -> tuple[np.ndarray, Any]:
    """Directional derivatives of ``f`` along every ``V[b]`` by one forward-mode (complex-step
    equivalent) evaluation per chunk of directions (:class:`batched.Dual`); also ``f(x0)``."""
    per = max(1, DIRECTION_ELEMENTS // max(x0.size, 1))
    chunk = -(-V.shape[0] // -(-V.shape[0] // per))  # balanced chunks of at most ``per`` directions
    parts, base = [], None
    for lo in range(0, V.shape[0], chunk):
        Vc = V[lo:lo + chunk]
        out = f(batched.direction_batch(x0, Vc))
        base = out.re if isinstance(out, batched.Dual) else out
        parts.append(batched.directional_values(out, Vc.shape[0]))
    return np.concatenate(parts, axis=0), base


class _Directions:
    """Directional derivatives along batches of directions: batched forward-mode tangents when the
    model supports them (validated once against finite differences along the first direction),
    otherwise one complex-step (or central) evaluation per direction."""

    def __init__(self, f: Callable, x0: np.ndarray, complex_ok: bool | None):
        self.f, self.x0, self._complex_ok = f, x0, complex_ok
        self.scale = max(1.0, float(np.max(np.abs(x0))))
        self.mode: str | None = None  # "batched" or "loop" once decided
        self.evaluations = 0

    @property
    def complex_ok(self) -> bool:
        if self._complex_ok is None:
            try:
                d = _directional(self.f, self.x0, np.ones(self.x0.shape), 1.0, True)
                self._complex_ok = bool(np.all(np.isfinite(d)))
            except (TypeError, ValueError):
                self._complex_ok = False
        return self._complex_ok

    def label(self) -> str:
        if self.mode == "batched":
            return "complex step as batched forward-mode tangents"
        return "complex step" if self.complex_ok else "central"

    def _validate(self, d: np.ndarray, v: np.ndarray, base) -> None:
        """The batched derivative along ``v`` against a forward difference (one more forward pass,
        ``f(x0)`` being known), then, if they differ, against a central difference (one more)."""
        if not np.all(np.isfinite(d)):
            raise batched.Unsupported("non-finite batched directional derivative")
        h = np.sqrt(EPS) * self.scale
        fwd = (to_float(self.f(self.x0 + h * v)) - to_float(base)) / h

        def close(ref):
            if np.shape(ref) != d.shape:
                return False
            tol = COMPLEX_VALIDATION_RTOL * max(float(np.max(np.abs(ref))) if np.size(ref) else 0.0, 1.0)
            return float(np.max(np.abs(d - ref))) <= tol if np.size(ref) else True

        if close(fwd) or close(_directional(self.f, self.x0, v, self.scale, complex_ok=False)):
            return
        raise batched.Unsupported("batched directional derivative differs from finite differences")

    def __call__(self, V: np.ndarray) -> np.ndarray:
        self.evaluations += V.shape[0]
        if self.mode is None:
            try:
                with np.errstate(all="ignore"):
                    out, base = _directions_batched(self.f, self.x0, V)
                    self._validate(out[0], V[0], base)
                self.mode = "batched"
                STATS["directions batched"] += 1
                return out
            except Exception as exc:  # noqa: BLE001 - any failure means: one evaluation per direction
                self.mode = "loop"
                STATS["fallback"] += 1
                STATS["last_fallback"] = f"{type(exc).__name__}: {exc}"
        if self.mode == "batched":
            with np.errstate(all="ignore"):
                return _directions_batched(self.f, self.x0, V)[0]
        return np.stack([np.asarray(_directional(self.f, self.x0, v, self.scale, self.complex_ok)) for v in V])


def _rademacher(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Independent fair +-1 entries, from random bits (much faster than ``rng.choice``)."""
    size = int(np.prod(shape))
    bits = np.unpackbits(np.frombuffer(rng.bytes(-(-size // 8)), dtype=np.uint8), count=size)
    return (1.0 - 2.0 * bits).reshape(shape)


def _project(claim_value: np.ndarray, V: np.ndarray) -> np.ndarray:
    return V.reshape(V.shape[0], -1) @ claim_value.reshape(-1)


def _single_wrong_entry(claim_value, directions, V, gaps, tol) -> int | None:
    """The index of the one wrong entry, if one wrong entry explains every probe; else None.

    If only entry i is wrong, by e, every Rademacher probe misses by ``e V[j, i]``: all k gaps have
    the magnitude |e|. Then ``ceil(log2 n)`` 0/1 directions, direction b selecting the entries whose
    index has bit b set, in one batched evaluation, miss by e or 0 as bit b of i is 1 or 0: their
    gaps spell i. The index is accepted only if every bit gap is within the tolerance of 0 or e, and
    if removing e at i explains all k probes; another wrong entry would survive those with
    probability at most 2**-k.
    """
    n = claim_value.size
    mag = float(np.mean(np.abs(gaps)))
    if n == 1:
        return 0 if mag > tol else None
    if not mag > tol or float(np.max(np.abs(np.abs(gaps) - mag))) > tol:
        return None
    nbits = int(np.ceil(np.log2(n)))
    idx = np.arange(n)
    V_bits = np.empty((nbits, n))
    for b in range(nbits):
        V_bits[b] = (idx >> b) & 1
    V_bits = V_bits.reshape((nbits,) + claim_value.shape)
    g = _project(claim_value, V_bits) - directions(V_bits).reshape(nbits)
    bits = np.abs(g) > mag / 2
    i = int(np.sum(bits.astype(np.int64) << np.arange(nbits)))
    if i >= n:
        return None
    Vflat = V.reshape(V.shape[0], -1)
    e = float(np.mean(gaps * Vflat[:, i]))
    if float(np.max(np.abs(g - e * bits))) > tol:
        return None
    residual = gaps - e * Vflat[:, i]
    return i if float(np.max(np.abs(residual))) <= tol else None


def _bisect(claim_value, directions, rng, tol, n: int, shape: tuple, limit: int = 64, retries: int = 12) -> list[int]:
    """Bisection over blocks of entries, one batched evaluation per level: a block is wrong if its
    restricted Rademacher probe disagrees. A block with one wrong entry always disagrees; several
    wrong entries in one block cancel with probability at most 1/2, so when both halves of a block
    known to be wrong pass, the pair is probed again with fresh signs (up to ``retries`` times)."""
    if n == 1:
        return [0]
    wrong: list[int] = []
    pairs = [(np.arange(n)[: n // 2], np.arange(n)[n // 2:], 0)]  # the whole is known to be wrong
    while pairs and len(wrong) < limit:
        pairs = pairs[:limit]
        blocks = [blk for p in pairs for blk in p[:2]]
        V = np.zeros((len(blocks), n))
        for r, block in enumerate(blocks):
            if block.size:
                V[r, block] = _rademacher(rng, (block.size,))
        V = V.reshape((len(blocks),) + shape)
        gaps = np.abs(_project(claim_value, V) - directions(V).reshape(len(blocks)))
        nxt = []
        for j, (left, right, tries) in enumerate(pairs):
            bad = [blk for blk, gap in ((left, gaps[2 * j]), (right, gaps[2 * j + 1])) if blk.size and gap > tol]
            if not bad and tries < retries:
                nxt.append((left, right, tries + 1))
            for blk in bad:
                if blk.size == 1:
                    wrong.append(int(blk[0]))
                else:
                    nxt.append((blk[: blk.size // 2], blk[blk.size // 2:], 0))
        pairs = nxt
    return wrong[:limit]


def _localise(claim_value, directions, rng, tol, V, truth, rounds: int = 6, limit: int = 64) -> list[int]:
    """Bisection until the entries found explain every one of the k probes: the claim with those
    entries replaced by their true values (one unit direction each) must pass all k probes;
    otherwise bisect the corrected claim again with fresh signs (up to ``rounds`` times; a round
    misses a group of wrong entries only if they cancel in a block's probe, probability <= 1/2)."""
    work = np.array(claim_value, dtype=float).reshape(-1)
    found: list[int] = []
    for _ in range(rounds):
        new = [i for i in _bisect(work.reshape(claim_value.shape), directions, rng, tol, work.size,
                                  claim_value.shape, limit) if i not in found]
        if new:
            E = np.zeros((len(new), work.size))
            E[np.arange(len(new)), new] = 1.0
            work[new] = directions(E.reshape((len(new),) + claim_value.shape)).reshape(len(new))
            found += new
        if len(found) >= limit:
            break
        if float(np.max(np.abs(_project(work, V.reshape(V.shape[0], -1)) - truth))) <= tol:
            break
    return found[:limit]


def _probe(claim_value: np.ndarray, f: Callable, x0: np.ndarray, rng, k: int, complex_ok: bool | None,
           transform: Callable, info: dict | None = None) -> tuple[np.ndarray, np.ndarray, tuple]:
    """k Rademacher probes: (claimed projections, true directional derivatives, localised entries).

    All k directions are one batched evaluation (forward-mode tangents, see :class:`_Directions`).
    A failing probe is localised first by the binary-digit scheme of :func:`_single_wrong_entry`
    (``ceil(log2 n) + 1`` directions), then, if more than one entry is wrong, by bisection.
    """
    directions = _Directions(f, x0, complex_ok)
    V = _rademacher(rng, (k,) + x0.shape)
    claimed_a = _project(claim_value, V)
    truth_a = np.array([float(transform(t)) for t in directions(V).reshape(k)])
    tol = 1e-6 * max(float(np.max(np.abs(truth_a))), 1e-300)
    wrong: list[int] = []
    if np.max(np.abs(claimed_a - truth_a)) > tol:
        i = _single_wrong_entry(claim_value, directions, V, claimed_a - truth_a, tol)
        wrong = [i] if i is not None else _localise(claim_value, directions, rng, tol, V, truth_a)
    if info is not None:
        info.update(label=directions.label(), evaluations=directions.evaluations)
    return claimed_a, truth_a, tuple(sorted(wrong))


def finite_difference(model: Model, claim: Claim, points: list[Point], uses: Mapping[str, tuple[str, str]], *,
                      seed: int = 0, max_full: int = MAX_FULL, n_probes: int = N_PROBES,
                      method: str = "auto", step: float | None = None) -> Measurement:
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
            if claim.kind == "update":
                transform = lambda g, v=None: g  # noqa: E731 - compared below on the gradient part
                claimed_grad = (x0 - claimed) / lr
            else:
                transform = lambda g: g  # noqa: E731
                claimed_grad = claimed
            info: dict = {}
            c, t, wrong = _probe(claimed_grad, f, x0, rng, n_probes, None, transform, info)
            methods.add(f"{n_probes} random-direction probes ({info['label']})")
            results.append(PointMeasurement(c, t, truth_error=4 * EPS * max(1.0, float(np.max(np.abs(t)))),
                                            localised=wrong, miss_probability=2.0 ** -n_probes))
            continue
        jac, err, smooth, used = jacobian(f, x0, rng, method, step)
        methods.add(used)
        truth, off = truth_from_jacobian(claim, jac, of_shape, x0.shape, x0, lr, to_float(values[of]))
        results.append(PointMeasurement(claimed, to_float(truth), err, smooth, off))
    return Measurement("finite_difference", " / ".join(sorted(methods)), dict(model.dims), tuple(results),
                       seconds=time.perf_counter() - t0)
