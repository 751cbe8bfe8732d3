"""Symbolic oracle: SymPy differentiation of explicit entries.

The quantity differentiated (``wrt``) becomes a matrix of real SymPy symbols; data and the other
parameters take exact rational values (so a one-hot label sums to exactly 1, and dims such as
``1/m`` stay rational). The model's own steps build ``of`` from them, ``sympy.diff`` differentiates
every entry (never ``MatrixSymbol.diff``, which returns 0 for softmax cross-entropy: sympy issue
27406), and the claim's formula is evaluated on the same expressions.

Building: SymEngine, SymPy where needed. The forward pass, the formula and the derivatives are built
with SymEngine (a C++ core with SymPy's operations; :data:`ENGINE`), 10-30x faster than SymPy, whose
assumption queries (``exp(x).is_positive`` on every new term) made the oracle slow. Exactness is
kept as with SymPy: data are exact rationals, literals in homework files exact numbers, dims,
``ones``/``eye`` entries and 0/1 comparisons ints whose quotients are exact
(:class:`gradcheck.ops.ExactInt`). A Python float that meets a SymEngine value (``0.5 * x`` in a
derivation module's code) becomes a 15-digit SymEngine float, never an exact decimal as
:func:`exact_literals` makes it for SymPy (and ``0.1 * m`` is the Python float 0.30000000000000004,
where SymPy read 3/10): every value built is checked for floats (:func:`_binary_floats`), and one
that holds any is built again by SymPy (the whole forward pass, or only the claim's formula, on its
values converted). So does anything SymEngine cannot run (a step written against SymPy's own API).
One case escapes the check: floats that cancel to exactly 0.0 in binary but not as decimals
(``x + 0.1 + 0.2 - 0.30000000000000004``: three or more literals summed into one coefficient) are
dropped by SymEngine, and so their exact decimal sum (~1e-17) is lost; no model of the documents or examples
writes such sums.

The difference ``claim - truth`` is decided in this order:

1. evaluated with 50 significant digits at the drawn point: a difference above ``1e-25`` (relative
   to the scale) is a *disproof*, with numbers;
2. otherwise expanded entry by entry by SymEngine (function arguments too, then over a common
   denominator: softmax and sigmoid derivatives are rational functions of ``exp`` terms), then by
   SymPy (``expand``, and ``simplify`` on small entries) where that does not reach 0, within size
   bounds (``EXPAND_MAX_TERMS``, ``NUMERATOR_MAX_OPS``, ``SYMENGINE_MAX_OPS``, ``PROOF_MAX_OPS``,
   ``SIMPLIFY_MAX_OPS``, ``SIMPLIFY_OPS_PER_CLAIM``: sizes, not times, so the outcome does not depend
   on the machine's speed): every entry reaching 0 is a *proof*, for all values of the ``wrt``
   entries at these data and dims;
3. when that does not decide, evaluated at 3 further points with 50 digits: "numeric (50
   digits)", never "proved". When ``wrt`` is an input the points are new values of its symbols;
   when it is an intermediate (a δ, a mean ``mu``) they are whole new exact forward passes (other
   seeds), so ``mu`` stays the mean of ``x`` and identities such as ``sum(x - mu) = 0``, on which a
   correct formula may rely, still hold.

The time and memory this takes are bounded from outside: :mod:`gradcheck.oracles.symbolic_bounded`
runs it in a worker process that is stopped when its budget runs out.

Large models are checked at reduced dims (``Model.symbolic_dims``, or every dim above 3 cut to 3 or
2); the measurement says which dims were used.
"""

from __future__ import annotations

import contextlib
import time
from fractions import Fraction
from typing import Mapping

import numpy as np

from gradcheck import kinks, ops
from gradcheck.claim import Claim
from gradcheck.model import Model
from gradcheck.oracles.common import (Measurement, PointMeasurement, check_target, evaluate_formula,
                                      truth_from_jacobian)
from gradcheck.points import draw_points

DIGITS = 50
ZERO_TOL = 1e-25  # a 50-digit evaluation of an identity is zero to ~1e-45; anything above 1e-25 is not
MAX_SYMBOLS = 64
EXTRA_POINTS = 3
AUTO_DIM_CAP = 6  # without Model.symbolic_dims, a model with a dim above this is cut down


def symbolic_dims(model: Model) -> dict[str, int]:
    """The dims this oracle uses: the model's ``symbolic_dims``; else, for a model with a dim above
    ``AUTO_DIM_CAP``, every such dim cut to 3 or 2 (alternating); else the model's own dims."""
    if model.symbolic_dims:
        return {**model.dims, **model.symbolic_dims}
    if all(v <= AUTO_DIM_CAP for v in model.dims.values()):
        return dict(model.dims)
    widths = iter([3, 2] * len(model.dims))
    return {name: (value if value <= 3 else next(widths)) for name, value in model.dims.items()}


def rational(x) -> np.ndarray:
    """Exact rationals close to the float values (1e-6), as an object array of the building engine's
    numbers (:func:`gradcheck.ops.engine`: SymPy unless SymEngine builds)."""
    e = ops.engine()
    arr = np.asarray(x, dtype=float)
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        f = Fraction(float(arr[idx])).limit_denominator(10**6)
        out[idx] = e.Rational(f.numerator, f.denominator)
    return out


def _symbols(name: str, shape: tuple) -> np.ndarray:
    import sympy

    se = ops.SYMBOLIC_ENGINE.get() == "symengine"
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        # a Python identifier (`W_0_1`, never a user's name: those cannot start with `_s_`), so that
        # lambdify need not rename the symbols (its renaming pass was ~40% of the compile time).
        # SymEngine symbols have no assumptions: converted to SymPy they become real (`_to_sympy`).
        label = f"_s_{name}" + "".join(f"_{i}" for i in idx)
        out[idx] = ops.engine().Symbol(label) if se else sympy.Symbol(label, real=True)
    return out


@contextlib.contextmanager
def building_with(name: str):
    """Build symbolic values with ``"symengine"`` or ``"sympy"`` (:data:`gradcheck.ops.SYMBOLIC_ENGINE`)."""
    token = ops.SYMBOLIC_ENGINE.set(name)
    try:
        yield
    finally:
        ops.SYMBOLIC_ENGINE.reset(token)


class InexactValue(Exception):
    """A binary float met a SymEngine value (``0.5 * x`` in a model's Python code): SymEngine keeps it
    as a 15-digit float, so the oracle builds that model with SymPy instead (whose float conversion
    :func:`exact_literals` makes exact)."""


def _binary_floats(e, clean: set | None = None) -> bool:
    """Does the SymEngine or SymPy expression hold a binary (inexact) floating-point number?

    SymEngine's own ``atoms`` walks the expression as a tree in Python (a forward pass's expressions
    share subexpressions: exponential); this walks each distinct subexpression once, skips those in
    ``clean`` (already found exact) and adds to it what it found exact."""
    import symengine
    import sympy

    if isinstance(e, sympy.Basic):
        return bool(e.atoms(sympy.Float))
    if not isinstance(e, symengine.Basic):
        return False
    clean = set() if clean is None else clean
    floats = _symengine_float_types()
    seen, stack = set(), [e]
    while stack:
        x = stack.pop()
        if x in clean or x in seen:
            continue
        if isinstance(x, floats):
            return True
        seen.add(x)
        stack.extend(x.args)
    clean |= seen
    return False


def _symengine_float_types() -> tuple:
    import symengine

    return symengine.RealDouble, symengine.RealMPFR, symengine.ComplexDouble, symengine.ComplexMPC


def _plain_float(v) -> bool:
    """A Python or numpy float or complex number (not a SymPy or SymEngine one)."""
    return isinstance(v, (float, complex, np.floating, np.complexfloating))


def exact_entries(x, what: str, clean: set | None = None) -> np.ndarray:
    """``x`` (SymEngine-built) as an object array of exact values (integers as exact integers); an
    entry that is or holds a binary float raises :class:`InexactValue`. (With SymPy, a float that met
    an exact number became the decimal it prints as, ``0.1 * Integer(3)`` is 3/10; here ``0.1 * 3``
    may already be the float 0.30000000000000004, so SymPy must redo it.)"""
    from gradcheck.numpy_ops import exact_number

    arr = _as_obj(x)
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        v = arr[idx]
        if _plain_float(v):
            raise InexactValue(f"{what}: the float {v!r}")
        if isinstance(v, (bool, int, np.integer)):
            v = exact_number(v)
        elif _binary_floats(v, clean):
            raise InexactValue(f"{what}: a binary float in {str(v)[:80]}")
        out[idx] = v
    return out


ExactDim = ops.ExactInt  # a dim while SymEngine builds: an int whose quotients are exact


def _to_sympy(e):
    """A SymEngine (or SymPy) expression as SymPy, its symbols real (as SymPy-built symbols are)."""
    import sympy

    t = sympy.sympify(e)
    return t.xreplace({x: sympy.Symbol(x.name, real=True) for x in t.free_symbols if not x.is_real})


def _as_obj(x) -> np.ndarray:
    return np.asarray(x, dtype=object)


def exact_floats(x) -> np.ndarray:
    """Float literals (``0.5 * x``, ``ones(...)``) replaced by the decimal they print as (1/2, 1)."""
    import sympy

    def fix(e):
        e = sympy.sympify(e)
        floats = e.atoms(sympy.Float)
        return e.xreplace({f: sympy.Rational(repr(float(f))) for f in floats}) if floats else e

    arr = _as_obj(x)
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = fix(arr[idx])
    return out


def _exact_float(f):
    """A Python/numpy float as the decimal it prints as (0.1 -> 1/10); inf and nan stay floats."""
    import math

    import sympy

    f = float(f)
    return sympy.Rational(repr(f)) if math.isfinite(f) else sympy.Float(f)


@contextlib.contextmanager
def exact_literals():
    """While active, every Python or numpy float that meets a SymPy number becomes an exact rational.

    Literal floats (``0.5 * x``), ``eye``/``ones``/``zeros`` (float arrays) and float constants
    would otherwise become 15-digit ``sympy.Float`` the moment they multiply a rational (``c *
    eye(n)`` with c = 1/3 gives 0.333333333333333), and a correct claim would be "disproved" by
    an error of 1e-17. Converting at the source keeps the oracle exact (SymPy's own converter table
    for ``float`` is swapped for the duration; this oracle runs in one thread per process).
    """
    from sympy.core.sympify import _sympy_converter

    from gradcheck.ops import EXACT_CONSTANT_ARRAYS

    old = _sympy_converter.get(float)
    _sympy_converter[float] = _exact_float
    token = EXACT_CONSTANT_ARRAYS.set(True)
    try:
        yield
    finally:
        EXACT_CONSTANT_ARRAYS.reset(token)
        if old is None:
            _sympy_converter.pop(float, None)
        else:
            _sympy_converter[float] = old


def _gradient_symengine(expr, syms: list, to_sympy: bool = True) -> list | None:
    """d expr / d s for every symbol, differentiated by SymEngine (a C++ core, 10-100x faster than
    SymPy on the large expressions of a layer's forward pass); converted back to SymPy with the
    original (real) symbols when ``to_sympy`` (converting back costs more than differentiating: a
    true value that is only evaluated and compared stays in SymEngine); None when SymEngine is
    missing or cannot take the expression whole."""
    try:
        import symengine
        import sympy
    except ImportError:  # pragma: no cover - symengine is a dependency
        return None
    try:
        se_expr = symengine.sympify(expr)
        back = ({sympy.Symbol(x.name): x for x in expr.free_symbols if isinstance(x, sympy.Symbol)}
                if to_sympy and isinstance(expr, sympy.Basic) else {})
        out = []
        for x in syms:
            d = se_expr.diff(symengine.Symbol(x.name))
            if d.atoms(symengine.Derivative, symengine.Subs):  # |x|, max: SymPy knows their derivatives
                return None
            out.append(sympy.sympify(d).xreplace(back) if to_sympy else d)
        return out
    except Exception:  # noqa: BLE001 - a function SymEngine does not know: SymPy differentiates
        return None


def _jacobian(of_value, syms: np.ndarray, to_sympy: bool = True) -> np.ndarray:
    """The numerator-layout Jacobian of ``of_value`` in ``syms``, entry by entry (SymPy expressions;
    without ``to_sympy`` its entries may be SymEngine expressions in the same symbols' names)."""
    import sympy

    of_arr = _as_obj(of_value)
    out = np.empty(of_arr.shape + syms.shape, dtype=object)
    flat_syms = list(syms.reshape(-1))
    for i in np.ndindex(of_arr.shape):
        expr = of_arr[i] if ops.is_symbolic_scalar(of_arr[i]) else sympy.sympify(of_arr[i])
        grad = _gradient_symengine(expr, flat_syms, to_sympy)
        if grad is None:  # |x|, max or a function SymEngine lacks: SymPy differentiates
            expr = _to_sympy(expr)
            grad = [sympy.diff(expr, _to_sympy(x)) for x in flat_syms]
        for k, j in enumerate(np.ndindex(syms.shape)):
            out[i + j] = grad[k]
    return out


def _derivative(model: Model, values: dict, of: str, wrt: str, tag: str, clean: set | None = None):
    """d of / d wrt as expressions of the current values: fresh symbols, diff, substitute back."""
    import sympy

    current = _as_obj(values[wrt])
    fresh = _symbols(f"{tag}{wrt}", current.shape)
    subs_now = dict(kinks.sympy_values())
    back = {}
    se = ops.SYMBOLIC_ENGINE.get() == "symengine"
    for idx in np.ndindex(current.shape):
        back[fresh[idx]] = current[idx]
        # SymEngine evaluates a value given through other symbols itself (ops.symbolic_real)
        subs_now[fresh[idx]] = current[idx] if se else sympy.sympify(current[idx]).evalf(
            DIGITS, subs=kinks.sympy_values())
    with kinks.sympy_substitution(subs_now):
        rerun = model.rerun_from(values, wrt, fresh)
        of_value = exact_entries(rerun[of], f"d {of} / d {wrt}", clean) if se else exact_floats(rerun[of])
        jac = _jacobian(of_value, fresh, to_sympy=not se)
    if se:
        import symengine

        back = {symengine.sympify(k): symengine.sympify(v) for k, v in back.items()}
        return np.vectorize(lambda e: symengine.sympify(e).xreplace(back), otypes=[object])(jac) if jac.size else jac
    return np.vectorize(lambda e: sympy.sympify(e).xreplace(back), otypes=[object])(jac) if jac.size else jac


def _mp(value):
    """A SymPy or SymEngine number (possibly an expression such as tanh(3/7)) as a 60-digit mpmath float."""
    import mpmath
    import symengine
    import sympy

    with mpmath.workdps(DIGITS + 10):
        if isinstance(value, symengine.Basic):
            try:
                return mpmath.mpf(str(value.n(BITS, real=True)))
            except (RuntimeError, ValueError, TypeError):  # complex or unknown to SymEngine: SymPy evaluates
                value = sympy.sympify(value)
        return mpmath.mpf(sympy.N(value, DIGITS + 10))


BITS = 200  # SymEngine's MPFR precision: 60 significant digits, 10 more than DIGITS


def _compile(syms: np.ndarray, arrays: list[np.ndarray]):
    """One function of the symbols returning every entry of ``arrays`` as 50-digit mpmath numbers.

    SymEngine substitutes and evaluates with MPFR (milliseconds); where it cannot (a function it
    does not know, a complex value), SymPy's lambdify to mpmath does it (compiling costs ~0.1-1 s).
    """
    import mpmath
    import sympy

    flat = [e for a in arrays for e in a.reshape(-1)]
    slow: list = []

    def by_lambdify(values):
        if not slow:
            args = [sympy.Symbol(x.name, real=True) for x in syms.reshape(-1)]
            exprs = [_to_sympy(e) for e in flat]  # SymEngine drops `real=True`: give it back
            slow.append(sympy.lambdify(args, exprs, modules="mpmath", cse=True, dummify=False))
        with mpmath.workdps(DIGITS):
            return list(slow[0](*values))

    fast = _symengine_evaluator(syms, flat)

    def at_50_digits(*values):
        if fast is not None:
            try:
                return fast(values)
            except Exception:  # noqa: BLE001 - SymEngine could not evaluate: lambdify does
                pass
        return by_lambdify(values)

    return at_50_digits


def _symengine_evaluator(syms: np.ndarray, flat: list):
    """values -> the entries of ``flat`` at ``syms = values`` as mpmath numbers, by SymEngine; or None."""
    try:
        import mpmath
        import symengine

        se_syms = [symengine.Symbol(x.name) for x in syms.reshape(-1)]
        exprs = [symengine.sympify(e) for e in flat]
    except Exception:  # noqa: BLE001 - SymEngine missing or an expression it cannot take
        return None

    def evaluate(values):
        with mpmath.workdps(DIGITS + 10):
            point = {s: symengine.RealMPFR(mpmath.nstr(v, DIGITS + 10, min_fixed=-1, max_fixed=-1), BITS)
                     for s, v in zip(se_syms, values)}
            out = []
            for e in exprs:
                v = e.xreplace(point).evalf(BITS, real=True)
                if not v.is_Number:
                    raise ValueError(f"not a number: {v}")
                out.append(mpmath.mpf(str(v)))
        return out

    return evaluate


def _floats(values: list, shape: tuple) -> np.ndarray:
    import mpmath

    return np.array([float(mpmath.re(v)) for v in values], dtype=float).reshape(shape)


def _gap(a: list, b: list) -> float:
    """max |a - b| over entries, computed at 50 digits before any rounding to float64."""
    import mpmath

    with mpmath.workdps(DIGITS):
        return float(max((abs(x - y) for x, y in zip(a, b)), default=mpmath.mpf(0)))


def _truth(model: Model, claim: Claim, seed: int):
    """The true value in the claim's layout and its compiled 50-digit function (cached per derivative)."""
    def build():
        small, values, syms, subs, sym_values, of_value, jac = _setup(model, claim.wrt, claim.target(model), seed)
        lr = values.get(claim.lr) if claim.lr else None
        truth, _ = truth_from_jacobian(claim, jac, of_value.shape, syms.shape, syms, lr, of_value)
        truth = _as_obj(truth)
        return truth, _compile(syms, [truth])

    key = ("truth", id(model), claim.wrt, claim.target(model), claim.kind, claim.layout, claim.lr, seed)
    return _cached(key, model, build)


PROOF_MAX_OPS = 150  # entries larger than this are not proved (keeps the work bounded and deterministic)
SIMPLIFY_MAX_OPS = 60  # sympy.simplify is tried on entries up to this size (expand on all up to PROOF_MAX_OPS)
SIMPLIFY_OPS_PER_CLAIM = 600  # and on at most this many operations per claim in all


NUMERATOR_MAX_OPS = 8 * PROOF_MAX_OPS  # a common numerator is expanded up to this size
EXPAND_MAX_TERMS = 20_000  # nothing is expanded into more terms than this (products of sums grow fast)
SYMENGINE_MAX_OPS = 2 * PROOF_MAX_OPS  # larger in SymEngine's form: not converted to SymPy (converting costs
# more than everything else; SymPy's own form of an entry is smaller, rarely by more than 2x)


def _deep_expand(e, memo: dict):
    """``e`` with every function argument, base and exponent expanded (SymEngine's ``expand`` leaves
    them as they are: ``exp(-(a + b))`` next to ``exp(-a - b)`` would not cancel). An equal expression."""
    import symengine

    if not e.args:
        return e
    hit = memo.get(e)
    if hit is not None:
        return hit
    args = [_deep_expand(a, memo) for a in e.args]
    out = e.func(*args) if isinstance(e, (symengine.Add, symengine.Mul)) else e.func(*map(symengine.expand, args))
    memo[e] = out
    return out


def _expanded_terms(e, memo: dict) -> int:
    """An upper bound on the number of terms ``expand`` makes of ``e`` (a product of sums: the product
    of their lengths); ``memo`` also gets the bound of every function argument, base and exponent,
    which :func:`_deep_expand` expands too."""
    import symengine

    hit = memo.get(e)
    if hit is not None:
        return hit
    args = e.args
    sizes = [_expanded_terms(a, memo) for a in args]
    if isinstance(e, symengine.Add):
        n = sum(sizes)
    elif isinstance(e, symengine.Mul):
        n = 1
        for k in sizes:
            n = min(n * k, EXPAND_MAX_TERMS + 1)
    elif isinstance(e, symengine.Pow) and args[1].is_Integer and int(args[1]) > 0:
        n = min(sizes[0] ** min(int(args[1]), 64), EXPAND_MAX_TERMS + 1)
    else:
        n = 1
    memo[e] = n
    return n


def _expands_within_bounds(e) -> bool:
    memo: dict = {}
    _expanded_terms(e, memo)
    return max(memo.values(), default=1) <= EXPAND_MAX_TERMS


def _expands_to_zero(a, b) -> bool | None:
    """a - b expanded by SymEngine (arguments of functions too; also over a common denominator) is 0:
    True (a sound identity); None when the difference is too large to try SymPy on
    (:data:`SYMENGINE_MAX_OPS`); False when SymPy should try (or SymEngine cannot take the expressions)."""
    try:
        import symengine

        memo: dict = {}
        d = symengine.sympify(a) - symengine.sympify(b)
        if _expands_within_bounds(d):
            d = symengine.expand(_deep_expand(d, memo))
            if d == 0:
                return True
            # over a common denominator (the product of d's denominators, none 0 where d is defined:
            # the 50-digit evaluation was finite), a numerator that expands to 0 makes d = 0 there
            numerator = d.as_numer_denom()[0]
            if symengine.count_ops(numerator) <= NUMERATOR_MAX_OPS and _expands_within_bounds(numerator) and \
                    symengine.expand(_deep_expand(numerator, memo)) == 0:
                return True
        return None if symengine.count_ops(d) > SYMENGINE_MAX_OPS else False
    except Exception:  # noqa: BLE001 - SymPy decides
        return False


def _prove_zero(claimed: np.ndarray, truth: np.ndarray) -> bool:
    """Does every entry of ``claimed - truth`` reduce to 0? ``expand`` first (cheap: SymEngine, then
    SymPy), then ``simplify`` on small entries. The bounds are sizes, not times, so that the same
    claim is proved on every machine; the worker's time budget
    (:mod:`gradcheck.oracles.symbolic_bounded`) is only a safety net."""
    import sympy

    simplify_left = SIMPLIFY_OPS_PER_CLAIM
    for idx in np.ndindex(claimed.shape):
        zero = _expands_to_zero(claimed[idx], truth[idx])
        if zero:
            continue
        if zero is None:
            return False
        e = _to_sympy(claimed[idx]) - _to_sympy(truth[idx])  # SymEngine's symbols lost `real=True`
        if e == 0:
            continue
        size = sympy.count_ops(e)
        if size > PROOF_MAX_OPS:
            return False
        if sympy.expand(e) == 0:
            continue
        if size > SIMPLIFY_MAX_OPS or size > simplify_left:
            return False
        simplify_left -= size
        if sympy.simplify(e) != 0:
            return False
    return True


_CACHE: dict[tuple, tuple] = {}  # (id(model), ...) -> (model, result): shared by claims of one model


def _cached(key: tuple, model: Model, build):
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is model:
        return hit[1]
    value = build()
    _CACHE[key] = (model, value)
    return value


#: the library that builds the exact forward pass: "symengine" (a C++ core: 5-10x faster on the
#: documents), or "sympy" (the slow reference; SymEngine falls back to it by itself where needed)
ENGINE = "symengine"

#: what SymEngine may raise on a value it cannot take (a SymPy-only function, a float it folded):
#: the computation is then done by SymPy, whose own errors are the model's
SYMENGINE_FAILURES = (InexactValue, TypeError, RuntimeError, NotImplementedError, AttributeError)


def _point(model: Model, wrt: str, seed: int):
    """The exact point, symbols for ``wrt``, and every value recomputed from them (cached), built by
    SymEngine, or by SymPy where SymEngine cannot build it exactly (:data:`SYMENGINE_FAILURES`)."""
    def build():
        try:
            with building_with(ENGINE):
                return _point_at_dims(model, wrt, seed)
        except MemoryError:
            raise
        except Exception:  # noqa: BLE001 - SymPy builds it; an error of the model's own, SymPy raises again
            if ENGINE == "sympy":
                raise
            with building_with("sympy"):
                return _point_at_dims(model, wrt, seed)

    return _cached(("point", id(model), wrt, seed), model, build)


def _point_at_dims(model: Model, wrt: str, seed: int):
    dims = symbolic_dims(model)
    try:
        return _build_point(model, dims, wrt, seed)
    except (IndexError, ValueError) as exc:  # the model does not work at the reduced dims
        if dims == dict(model.dims):
            raise
        reduced = f"at reduced dims {dims} the model fails ({exc}); "
    out = _build_point(model, dict(model.dims), wrt, seed)
    return reduced + out if isinstance(out, str) else out


def _check_exact(values: Mapping, what: str, clean: set) -> None:
    """Raise :class:`InexactValue` when a SymEngine-built value holds a binary float."""
    if ops.SYMBOLIC_ENGINE.get() != "symengine":
        return
    for name, v in values.items():
        if isinstance(v, np.ndarray) and v.dtype.kind in "fc" or _plain_float(v):
            raise InexactValue(f"{what}: {name!r} holds binary floats")
        for e in (_as_obj(v).reshape(-1) if isinstance(v, np.ndarray) and v.dtype == object else [v]):
            if _plain_float(e) or _binary_floats(e, clean):
                raise InexactValue(f"{what}: {name!r} holds a binary float")


def _clean(model: Model, wrt: str, seed: int) -> set:
    """The SymEngine subexpressions of this point found free of binary floats (shared by its checks)."""
    return _cached(("clean", id(model), wrt, seed), model, set)


def _build_point(model: Model, dims: dict, wrt: str, seed: int):
    """(model at dims, values, symbols, their values, values recomputed from the symbols, engine)."""
    import sympy

    e = ops.engine()
    small = model.with_dims(dims)
    point = draw_points(small, 1, seed=seed)[0]
    exact = {k: rational(v) for k, v in point.values.items()}
    exact.update({k: e.sympify(sympy.nsimplify(v, rational=True)) for k, v in model.constants.items()})
    sym_dims = {k: (ExactDim(v) if ops.SYMBOLIC_ENGINE.get() == "symengine" else e.Integer(v)) for k, v in dims.items()}
    with kinks.sympy_substitution({}):
        values = small.forward(exact, sym_dims)
    clean = _clean(model, wrt, seed)
    _check_exact(values, "the forward pass", clean)
    wrt_value = _as_obj(values[wrt])
    if wrt_value.size > MAX_SYMBOLS:
        return (f"{wrt_value.size} entries in {wrt!r} at dims {dims}: more than {MAX_SYMBOLS} symbols; "
                "set Model.symbolic_dims")
    syms = _symbols(wrt, wrt_value.shape)
    subs = {syms[i]: wrt_value[i] for i in np.ndindex(syms.shape)}
    with kinks.sympy_substitution(subs):
        sym_values = small.rerun_from(values, wrt, syms)
    _check_exact(sym_values, f"the forward pass from {wrt!r}", clean)
    return small, values, syms, subs, sym_values, ops.SYMBOLIC_ENGINE.get()


def _setup(model: Model, wrt: str, of: str, seed: int):
    """:func:`_point` plus ``of`` and its Jacobian w.r.t. the symbols (cached per derivative)."""
    def build():
        point = _point(model, wrt, seed)
        if isinstance(point, str):
            return point
        small, values, syms, subs, sym_values, engine = point
        with building_with(engine):
            of_value = (exact_entries(sym_values[of], of, _clean(model, wrt, seed)) if engine == "symengine"
                        else exact_floats(sym_values[of]))
            with kinks.sympy_substitution(subs):
                jac = _jacobian(of_value, syms, to_sympy=False)
        return small, values, syms, subs, sym_values, of_value, jac

    return _cached(("setup", id(model), wrt, of, seed), model, build)


def _value_to_sympy(v):
    """A value (object array, expression, or anything else) with its SymEngine expressions as SymPy."""
    if isinstance(v, np.ndarray) and v.dtype == object and v.size:
        return np.vectorize(_to_sympy, otypes=[object])(v)
    return _to_sympy(v) if ops.is_symbolic_scalar(v) else v


def _in_sympy(model: Model, wrt: str, seed: int, names=None):
    """The point's symbols' values and the values recomputed from them (all, or those ``names``),
    converted to SymPy, for a formula or a derivative that SymEngine cannot build exactly (converting
    costs more than building: each value is converted once, when first needed)."""
    *_, subs, sym_values, engine = _point(model, wrt, seed)
    if engine == "sympy":
        return subs, sym_values
    sympy_subs = _cached(("subs in sympy", id(model), wrt, seed), model,
                         lambda: {_to_sympy(k): _to_sympy(v) for k, v in subs.items()})
    names = sym_values if names is None else [n for n in names if n in sym_values]
    return sympy_subs, {n: _cached(("in sympy", id(model), wrt, seed, n), model,
                                   lambda n=n: _value_to_sympy(sym_values[n])) for n in names}


def _use(model: Model, wrt: str, seed: int, of2: str, wrt2: str):
    """A true derivative d of2 / d wrt2 that a formula reads, as expressions of the ``wrt`` symbols."""
    small, _, _, _, sym_values, engine = _point(model, wrt, seed)

    def derivative(sym_values, engine):
        with building_with(engine):
            d = _derivative(small, sym_values, of2, wrt2, f"_{of2}_{wrt2}_", _clean(model, wrt, seed))
        return d.reshape(_as_obj(sym_values[wrt2]).shape) if _as_obj(sym_values[of2]).shape == () else d

    def build():
        if engine == "symengine":
            try:
                return derivative(sym_values, engine)
            except SYMENGINE_FAILURES:
                pass
        sympy_subs, sympy_values = _in_sympy(model, wrt, seed)
        with kinks.sympy_substitution(sympy_subs):
            return derivative(sympy_values, "sympy")

    return _cached(("use", id(model), wrt, seed, of2, wrt2), model, build)


def _claimed(model: Model, claim: Claim, uses: Mapping[str, tuple[str, str]], seed: int, small: Model) -> np.ndarray:
    """The claim's formula on the symbolic values, exact: built by SymEngine when the point is, by
    SymPy (on the values converted) when a float in the formula meets a SymEngine value."""
    import symengine

    *_, subs, sym_values, engine = _point(model, claim.wrt, seed)
    if engine == "symengine":
        try:
            with building_with(engine), kinks.sympy_substitution(subs):
                derivs = {name: _use(model, claim.wrt, seed, o, w) for name, (o, w) in uses.items()}
                clean = _clean(model, claim.wrt, seed)
                for d in derivs.values():  # derivatives of exact values, by SymEngine: exact
                    clean.update(e for e in d.reshape(-1) if isinstance(e, symengine.Basic))
                return exact_entries(evaluate_formula(claim, small, sym_values, derivs), claim.name, clean)
        except SYMENGINE_FAILURES:
            pass
    sympy_subs, sympy_values = _in_sympy(model, claim.wrt, seed, claim.reads)
    with building_with("sympy"), kinks.sympy_substitution(sympy_subs):
        derivs = {name: _value_to_sympy(_use(model, claim.wrt, seed, o, w))
                  for name, (o, w) in uses.items() if name in claim.reads}
        return exact_floats(evaluate_formula(claim, small, sympy_values, derivs))


def symbolic(model: Model, claim: Claim, points, uses: Mapping[str, tuple[str, str]], *, seed: int = 0,
             budget: float | None = None) -> Measurement:
    """Measure the claim with SymPy at one exact point (reduced dims when the model is large).

    ``budget`` is accepted for callers of the old API and unused: time and memory are bounded by
    :mod:`gradcheck.oracles.symbolic_bounded`, the proof by sizes."""
    with exact_literals():
        return _symbolic(model, claim, uses, seed=seed)


def _symbolic(model: Model, claim: Claim, uses: Mapping[str, tuple[str, str]], *, seed: int,
              decide: bool = True) -> Measurement:
    """``decide=False``: only the 50-digit comparison at this point ("disproved" or "agrees")."""
    import sympy

    t0 = time.perf_counter()
    dims = symbolic_dims(model)
    setup = _setup(model, claim.wrt, claim.target(model), seed)
    if isinstance(setup, str):
        return Measurement("symbolic", "skipped", dims, error=setup)
    small, values, syms, subs, sym_values, of_value, jac = setup
    check_target(claim, of_value.shape, syms.shape)
    claimed = _claimed(model, claim, uses, seed, small)
    truth, truth_fn = _truth(model, claim, seed)
    values_at = [_mp(subs[x]) for x in syms.reshape(-1)]
    claimed_fn = _compile(syms, [claimed])
    claimed_mp, truth_mp = claimed_fn(*values_at), truth_fn(*values_at)
    claimed_f, truth_f = _floats(claimed_mp, claimed.shape), _floats(truth_mp, truth.shape)
    decided = ""
    if claimed.shape == truth.shape:
        scale = max(float(np.max(np.abs(truth_f))) if truth_f.size else 0.0, 1.0)
        if _gap(claimed_mp, truth_mp) > ZERO_TOL * scale:
            decided = "disproved"
        elif not decide:
            decided = "agrees"
        elif _prove_zero(claimed, truth):
            decided = "proved"
        elif claim.wrt in model.data or claim.wrt in model.params:
            rng = np.random.default_rng(seed + 104729)
            ok = True
            for _ in range(EXTRA_POINTS):
                alt = [_mp(sympy.Rational(int(rng.integers(-2000, 2000)), 1000)) for _ in values_at]
                ok &= bool(_gap(claimed_fn(*alt), truth_fn(*alt)) <= ZERO_TOL * scale)
            decided = "numeric (50 digits)" if ok else "disproved"
        else:  # an intermediate (a δ, a mean): new values must come from a whole new forward pass
            ok = all(_symbolic(model, claim, uses, seed=seed + 7919 * (k + 1), decide=False)
                     .points[0].decided != "disproved" for k in range(EXTRA_POINTS))
            decided = "numeric (50 digits)" if ok else "disproved"
    off = 0.0
    if claim.kind == "elementwise" and truth.size > 1:
        square = _floats(_compile(syms, [jac])(*values_at), jac.shape).reshape(truth.size, truth.size)
        off = float(np.max(np.abs(square - np.diag(np.diag(square)))))
    truth_error = 0.0 if decided == "proved" else 10.0 ** (-DIGITS + 5)
    result = PointMeasurement(claimed_f, truth_f, truth_error, True, off, decided)
    return Measurement("symbolic", f"sympy.diff {sympy.__version__}, {DIGITS}-digit evaluation", dims, (result,),
                       seconds=time.perf_counter() - t0)
