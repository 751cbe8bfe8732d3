"""Symbolic oracle: SymPy differentiation of explicit entries.

The quantity differentiated (``wrt``) becomes a matrix of real SymPy symbols; data and the other
parameters take exact rational values (so a one-hot label sums to exactly 1, and dims such as
``1/m`` stay rational). The model's own steps build ``of`` from them, ``sympy.diff`` differentiates
every entry (never ``MatrixSymbol.diff``, which returns 0 for softmax cross-entropy: sympy issue
27406), and the claim's formula is evaluated on the same expressions.

The difference ``claim - truth`` is decided in this order:

1. evaluated with 50 significant digits at the drawn point: a difference above ``1e-25`` (relative
   to the scale) is a *disproof*, with numbers;
2. otherwise simplified entry by entry within a time budget (default 10 s per claim): every entry
   reaching 0 is a *proof*, for all values of the ``wrt`` entries at these data and dims;
3. when simplification does not decide in time, evaluated at 3 further random points with 50
   digits: "numeric (50 digits)", never "proved".

Large models are checked at reduced dims (``Model.symbolic_dims``, or every dim above 3 cut to 3 or
2); the measurement says which dims were used.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from fractions import Fraction
from typing import Mapping

import numpy as np

from gradcheck import kinks
from gradcheck.claim import Claim
from gradcheck.model import Model
from gradcheck.oracles.common import (Measurement, PointMeasurement, check_target, evaluate_formula,
                                      truth_from_jacobian)
from gradcheck.points import draw_points

DIGITS = 50
ZERO_TOL = 1e-25  # a 50-digit evaluation of an identity is zero to ~1e-45; anything above 1e-25 is not
BUDGET_SECONDS = 10.0
MAX_SYMBOLS = 64
AUTO_DIM_CAP = 3  # without Model.symbolic_dims, dims above this are cut to 3 or 2 (alternating)


def symbolic_dims(model: Model) -> dict[str, int]:
    """The dims this oracle uses: the model's ``symbolic_dims``, else dims above 4 cut down."""
    if model.symbolic_dims:
        return {**model.dims, **model.symbolic_dims}
    small, widths = {}, iter([3, 2] * len(model.dims))
    for name, value in model.dims.items():
        small[name] = value if value <= AUTO_DIM_CAP else next(widths)
    return small


def rational(x) -> np.ndarray:
    """Exact rationals close to the float values (1e-6), as a SymPy object array."""
    import sympy

    arr = np.asarray(x, dtype=float)
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        f = Fraction(float(arr[idx])).limit_denominator(10**6)
        out[idx] = sympy.Rational(f.numerator, f.denominator)
    return out


def _symbols(name: str, shape: tuple) -> np.ndarray:
    import sympy

    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        out[idx] = sympy.Symbol(f"{name}[{','.join(map(str, idx))}]" if idx else name, real=True)
    return out


def _as_obj(x) -> np.ndarray:
    return np.asarray(x, dtype=object)


def _jacobian(of_value, syms: np.ndarray) -> np.ndarray:
    import sympy

    of_arr = _as_obj(of_value)
    out = np.empty(of_arr.shape + syms.shape, dtype=object)
    for i in np.ndindex(of_arr.shape):
        expr = sympy.sympify(of_arr[i])
        for j in np.ndindex(syms.shape):
            out[i + j] = sympy.diff(expr, syms[j])
    return out


def _derivative(model: Model, values: dict, of: str, wrt: str, tag: str):
    """d of / d wrt as expressions of the current values: fresh symbols, diff, substitute back."""
    import sympy

    current = _as_obj(values[wrt])
    fresh = _symbols(f"{tag}{wrt}", current.shape)
    subs_now = dict(kinks.sympy_values())
    back = {}
    for idx in np.ndindex(current.shape):
        back[fresh[idx]] = current[idx]
        subs_now[fresh[idx]] = sympy.sympify(current[idx]).evalf(DIGITS, subs=kinks.sympy_values())
    with kinks.sympy_substitution(subs_now):
        rerun = model.rerun_from(values, wrt, fresh)
        jac = _jacobian(rerun[of], fresh)
    return np.vectorize(lambda e: sympy.sympify(e).xreplace(back), otypes=[object])(jac) if jac.size else jac


@contextlib.contextmanager
def _deadline(seconds: float):
    """Raise TimeoutError after ``seconds`` (main thread only; elsewhere no proof is attempted)."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        raise TimeoutError
    def handler(signum, frame):
        raise TimeoutError

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _mp(value):
    """A SymPy number (possibly an expression such as tanh(3/7)) as a 60-digit mpmath float."""
    import mpmath
    import sympy

    with mpmath.workdps(DIGITS + 10):
        return mpmath.mpf(sympy.N(value, DIGITS + 10))


def _compile(syms: np.ndarray, arrays: list[np.ndarray]):
    """One mpmath function of the symbols returning every entry of ``arrays`` (fast 50-digit evaluation)."""
    import sympy

    flat = [sympy.sympify(e) for a in arrays for e in a.reshape(-1)]
    return sympy.lambdify(list(syms.reshape(-1)), flat, modules="mpmath", cse=True)


def _evaluate(fn, values: list, shapes: list[tuple]) -> list[np.ndarray]:
    import mpmath

    with mpmath.workdps(DIGITS):
        flat = fn(*values)
        out, at = [], 0
        for shape in shapes:
            n = int(np.prod(shape))
            out.append(np.array([float(mpmath.re(v)) for v in flat[at:at + n]], dtype=float).reshape(shape))
            at += n
    return out


def _gap(fn, values: list, shapes: list[tuple]) -> tuple[float, list[np.ndarray]]:
    """Max |claimed - truth| computed at 50 digits (before rounding to float64)."""
    import mpmath

    with mpmath.workdps(DIGITS):
        flat = fn(*values)
        n = int(np.prod(shapes[0]))
        gap = max((abs(flat[i] - flat[n + i]) for i in range(n)), default=mpmath.mpf(0))
        floats = [np.array([float(mpmath.re(v)) for v in flat[:n]], dtype=float).reshape(shapes[0]),
                  np.array([float(mpmath.re(v)) for v in flat[n:]], dtype=float).reshape(shapes[1])]
    return float(gap), floats


PROOF_MAX_OPS = 400  # simplify is attempted on entries up to this size (keeps the report deterministic)


def _prove_zero(diff: np.ndarray, seconds: float) -> bool:
    import sympy

    try:
        with _deadline(seconds):
            for idx in np.ndindex(diff.shape):
                e = sympy.sympify(diff[idx])
                if e == 0 or sympy.expand(e) == 0:
                    continue
                if sympy.count_ops(e) > PROOF_MAX_OPS or sympy.simplify(e) != 0:
                    return False
        return True
    except TimeoutError:
        return False


def symbolic(model: Model, claim: Claim, points, uses: Mapping[str, tuple[str, str]], *, seed: int = 0,
             budget: float = BUDGET_SECONDS) -> Measurement:
    """Measure the claim with SymPy at one exact point (reduced dims when the model is large)."""
    import sympy

    t0 = time.perf_counter()
    dims = symbolic_dims(model)
    small = model.with_dims(dims)
    n_wrt = int(np.prod(small.shape_of(claim.wrt))) if claim.wrt in small.inputs else None
    point = draw_points(small, 1, seed=seed)[0]
    exact = {k: rational(v) for k, v in point.values.items()}
    exact.update({k: sympy.nsimplify(v, rational=True) for k, v in model.constants.items()})
    sym_dims = {k: sympy.Integer(v) for k, v in dims.items()}
    with kinks.sympy_substitution({}):
        values = small.forward(exact, sym_dims)
    wrt_value = _as_obj(values[claim.wrt])
    n_wrt = wrt_value.size if n_wrt is None else n_wrt
    if n_wrt > MAX_SYMBOLS:
        return Measurement("symbolic", "skipped", dims, error=f"{n_wrt} entries in {claim.wrt!r} at dims {dims}: "
                           f"more than {MAX_SYMBOLS} symbols; set Model.symbolic_dims")
    syms = _symbols(claim.wrt, wrt_value.shape)
    subs = {syms[i]: wrt_value[i] for i in np.ndindex(syms.shape)}
    of = claim.target(small)
    with kinks.sympy_substitution(subs):
        sym_values = small.rerun_from(values, claim.wrt, syms)
        of_value = _as_obj(sym_values[of])
        check_target(claim, of_value.shape, syms.shape)
        derivs = {name: _derivative(small, sym_values, o, w, f"_{name}_") for name, (o, w) in uses.items()}
        derivs = {k: (v.reshape(_as_obj(sym_values[uses[k][1]]).shape) if _as_obj(sym_values[uses[k][0]]).shape == ()
                      else v) for k, v in derivs.items()}
        claimed = _as_obj(evaluate_formula(claim, small, sym_values, derivs))
        jac = _jacobian(of_value, syms)
    lr = values.get(claim.lr) if claim.lr else None
    truth, _ = truth_from_jacobian(claim, jac, of_value.shape, syms.shape, syms, lr)
    truth = _as_obj(truth)
    values_at = [_mp(subs[x]) for x in syms.reshape(-1)]
    if claimed.shape != truth.shape:
        fn = _compile(syms, [claimed, truth])
        claimed_f, truth_f = _evaluate(fn, values_at, [claimed.shape, truth.shape])
        decided = ""
    else:
        fn = _compile(syms, [claimed, truth])
        gap, (claimed_f, truth_f) = _gap(fn, values_at, [claimed.shape, truth.shape])
        scale = max(float(np.max(np.abs(truth_f))) if truth_f.size else 0.0, 1.0)
        if gap > ZERO_TOL * scale:
            decided = "disproved"
        elif _prove_zero(claimed - truth, budget - (time.perf_counter() - t0)):
            decided = "proved"
        else:
            rng = np.random.default_rng(seed + 104729)
            ok = True
            for _ in range(3):
                alt = [_mp(sympy.Rational(int(rng.integers(-2000, 2000)), 1000)) for _ in values_at]
                alt_gap, _ = _gap(fn, alt, [claimed.shape, truth.shape])
                ok &= bool(alt_gap <= ZERO_TOL * scale)
            decided = "numeric (50 digits)" if ok else "disproved"
    truth_error = 0.0 if decided == "proved" else 10.0 ** (-DIGITS + 5)
    result = PointMeasurement(claimed_f, truth_f, truth_error, True, 0.0, decided)
    return Measurement("symbolic", f"sympy.diff {sympy.__version__}, {DIGITS}-digit evaluation", dims, (result,),
                       seconds=time.perf_counter() - t0)
