"""Array functions that run unchanged on numpy, JAX and SymPy object arrays.

A model and a formula are written once with these functions and the Python operators
(``@``, ``*``, ``.T``, ...); each call dispatches on the type of its argument:

* numpy float or complex arrays (finite differences; complex step),
* JAX arrays and tracers (autodiff),
* numpy object arrays of SymPy expressions, or SymPy scalars (symbolic).

Piecewise functions (``relu``, ``abs``, ``maximum``, ``where`` with a comparison) choose their
branch by the *real part* of the argument, so a complex-step perturbation passes through the
active branch unchanged: the complex step stays exact away from the kink. Every such call also
reports the distance of its argument to the kink to :mod:`gradcheck.kinks`, which the point
sampler uses to stay away from non-differentiable points.
"""

from __future__ import annotations

import builtins
import contextvars
import sys

import numpy as np

from gradcheck import kinks

__all__ = [
    "abs", "clip", "concatenate", "diag", "einsum", "exp", "eye", "identity", "log",
    "log_softmax", "logsumexp", "max", "maximum", "mean", "minimum", "ones", "outer", "relu",
    "reshape", "sigmoid", "softmax", "softplus", "sqrt", "stack", "sum", "tanh", "transpose",
    "var", "where", "zeros", "sign_of_real", "real_part", "inv", "det",
]


# --------------------------------------------------------------------------- backends
def _is_jax(x) -> bool:
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(x, jax.Array)


def _is_sympy(x) -> bool:
    if isinstance(x, np.ndarray):
        return x.dtype == object
    return is_symbolic_scalar(x)


def is_symbolic_scalar(x) -> bool:
    """A SymPy or SymEngine expression (the symbolic oracle builds with either: see :func:`engine`)."""
    for name in ("sympy", "symengine"):
        module = sys.modules.get(name)
        if module is not None and isinstance(x, module.Basic):
            return True
    return False


#: the library that builds new symbolic values: "sympy", or "symengine" (set by the symbolic oracle,
#: whose forward pass it makes 10-100x faster; both are exact, and values of the two mix exactly)
SYMBOLIC_ENGINE: contextvars.ContextVar[str] = contextvars.ContextVar("symbolic_engine", default="sympy")


def engine():
    """The module (``sympy`` or ``symengine``) whose ``exp log sqrt tanh Integer Rational`` build
    symbolic values now; both spell these the same."""
    if SYMBOLIC_ENGINE.get() == "symengine":
        import symengine

        return symengine
    import sympy

    return sympy


def _backend(*xs) -> str:
    if builtins.any(_is_jax(x) for x in xs):
        return "jax"
    if builtins.any(_is_sympy(x) for x in xs):
        return "sympy"
    return "numpy"


class ExactInt(int):
    """An exact integer while SymEngine builds (a dim, a literal, an entry of ``ones``/``eye``, a 0/1
    comparison): an int (a shape, an index, ``range(m)``, truthiness by value), whose quotients,
    negative powers and products with a float are exact SymEngine numbers (``1 / m`` is 1/m, ``m * 0.1``
    is m/10), as a SymPy ``Integer``'s are. (A SymEngine ``Integer`` cannot be a shape and is truthy
    even when 0; a SymPy one turns every SymEngine value it multiplies into a slow SymPy expression.)
    A float on the left (``0.1 * m``) is computed by Python as a float: the symbolic oracle then takes
    it as inexact and lets SymPy build."""

    def _exact(self, other):
        if isinstance(other, (float, np.floating)) or (isinstance(other, (int, np.integer)) and not isinstance(other, bool)):
            import symengine

            from fractions import Fraction

            f = Fraction(int(other)) if isinstance(other, (int, np.integer)) else Fraction(repr(float(other)))
            return symengine.Rational(f.numerator, f.denominator)
        return other if is_symbolic_scalar(other) else None

    def _op(self, other, fn, exact_ints: bool):
        import symengine

        o = self._exact(other)
        if o is None or (not exact_ints and isinstance(other, (int, np.integer))):
            return NotImplemented
        return fn(symengine.Integer(int(self)), o)

    def __truediv__(self, other):
        return self._op(other, lambda a, b: a / b, True)

    def __rtruediv__(self, other):
        return self._op(other, lambda a, b: b / a, True)

    def __pow__(self, other, mod=None):
        if mod is not None or (isinstance(other, (int, np.integer)) and other >= 0):
            return ExactInt(int.__pow__(int(self), int(other), mod))
        return self._op(other, lambda a, b: a ** b, True)

    def __rpow__(self, other):
        if isinstance(other, (int, np.integer)) and not isinstance(other, bool) and self >= 0:
            return ExactInt(int(other) ** int(self))  # 2 ** m is still an int (a size)
        return self._op(other, lambda a, b: b ** a, True)

    def _int_or_exact(self, other, int_op, fn):
        """An ExactDim for int arithmetic (``m - 1`` is still a dim: ``1 / (m - 1)`` stays exact)."""
        if isinstance(other, (int, np.integer)) and not isinstance(other, bool):
            return ExactInt(int_op(int(self), int(other)))
        return self._op(other, fn, False)

    def __mul__(self, other):
        return self._int_or_exact(other, int.__mul__, lambda a, b: a * b)

    def __rmul__(self, other):
        return self._int_or_exact(other, int.__rmul__, lambda a, b: b * a)

    def __add__(self, other):
        return self._int_or_exact(other, int.__add__, lambda a, b: a + b)

    def __radd__(self, other):
        return self._int_or_exact(other, int.__radd__, lambda a, b: b + a)

    def __sub__(self, other):
        return self._int_or_exact(other, int.__sub__, lambda a, b: a - b)

    def __rsub__(self, other):
        return self._int_or_exact(other, int.__rsub__, lambda a, b: b - a)

    def __neg__(self):
        return ExactInt(-int(self))

    def __floordiv__(self, other):
        return ExactInt(int(self) // other) if isinstance(other, (int, np.integer)) else NotImplemented


def truth(c) -> bool:
    """The truth of a condition entry; a symbolic number by its value (``bool`` of SymEngine's
    ``Integer(0)`` is True)."""
    return bool(c != 0) if is_symbolic_scalar(c) and c.is_Number else bool(c)


def exact_integer(n: int):
    """An exact integer of the building engine: a SymPy ``Integer``, or an :class:`ExactInt`."""
    return ExactInt(int(n)) if SYMBOLIC_ENGINE.get() == "symengine" else engine().Integer(int(n))


def _sympy_map(fn, x):
    if isinstance(x, np.ndarray):
        return np.frompyfunc(fn, 1, 1)(x).astype(object) if x.ndim else np.array(fn(x[()]), dtype=object)
    return fn(x)


def _jnp():
    import jax.numpy as jnp

    return jnp


def _as_array(x):
    """``np.asarray``, except for a value that stands for many perturbed arrays at once (the
    finite-difference oracle's :class:`~gradcheck.oracles.batched.Batch`), which passes through."""
    return x if getattr(x, "gradcheck_batch", False) else np.asarray(x)


def real_part(x):
    """The real part (SymPy expressions are taken to be real)."""
    if _backend(x) == "sympy":
        return x
    if _backend(x) == "jax":
        return _jnp().real(x)
    return np.real(x)


# --------------------------------------------------------------------------- elementwise
def exp(x):
    b = _backend(x)
    if b == "jax":
        return _jnp().exp(x)
    if b == "sympy":
        return _sympy_map(engine().exp, x)
    return np.exp(x)


def log(x):
    b = _backend(x)
    if b == "jax":
        return _jnp().log(x)
    if b == "sympy":
        return _sympy_map(engine().log, x)
    return np.log(x)


def sqrt(x):
    b = _backend(x)
    if b == "jax":
        return _jnp().sqrt(x)
    if b == "sympy":
        return _sympy_map(engine().sqrt, x)
    return np.sqrt(x)


def tanh(x):
    b = _backend(x)
    if b == "jax":
        return _jnp().tanh(x)
    if b == "sympy":
        return _sympy_map(engine().tanh, x)
    return np.tanh(x)


def sigmoid(x):
    """Logistic function 1 / (1 + exp(-x)), evaluated stably for real and complex input."""
    b = _backend(x)
    if b == "jax":
        import jax

        return jax.nn.sigmoid(x)
    if b == "sympy":
        e = engine()
        return _sympy_map(lambda v: 1 / (1 + e.exp(-v)), x)
    # 0.5 * (1 + tanh(x / 2)) is exact algebra, never overflows, and is analytic.
    return 0.5 * (1.0 + np.tanh(0.5 * _as_array(x)))


def softplus(x):
    """log(1 + exp(x)), stable for large |x|."""
    b = _backend(x)
    if b == "jax":
        import jax

        return jax.nn.softplus(x)
    if b == "sympy":
        e = engine()
        return _sympy_map(lambda v: e.log(1 + e.exp(v)), x)
    x = _as_array(x)
    r = np.real(x)
    # log(1 + e^x) = max(x, 0) + log(1 + e^{-|x|}), branch chosen on the real part
    pos = np.where(r > 0, x, 0)
    neg = np.where(r > 0, -x, x)
    return pos + np.log1p(np.exp(neg)) if not np.iscomplexobj(x) else pos + np.log(1 + np.exp(neg))


def identity(x):
    return x


def relu(x):
    """max(x, 0), branch chosen on the real part; reports its distance to the kink at 0."""
    b = _backend(x)
    if b == "jax":
        jnp = _jnp()
        return jnp.where(jnp.real(x) > 0, x, 0)
    if b == "sympy":
        return _sympy_map(lambda v: v if _sympy_positive(v) else v * 0, x)
    x = _as_array(x)
    kinks.record("relu", np.real(x))
    return np.where(np.real(x) > 0, x, 0)


def abs(x):  # noqa: A001 - the name users write
    """|x|, branch chosen on the real part (complex-step safe); reports the kink at 0."""
    b = _backend(x)
    if b == "jax":
        jnp = _jnp()
        return jnp.where(jnp.real(x) >= 0, x, -x)
    if b == "sympy":
        return _sympy_map(lambda v: v if _sympy_positive(v) else -v, x)
    x = _as_array(x)
    kinks.record("abs", np.real(x))
    return np.where(np.real(x) >= 0, x, -x)


def _sympy_positive(v) -> bool:
    """Branch choice for a symbolic value: evaluated numerically at the symbols' current values."""
    return symbolic_real(v, "the branch of a piecewise function") > 0


def symbolic_real(v, what: str = "a comparison") -> float:
    """The real part of a SymPy or SymEngine value (or a number) at the symbols' current values
    (:func:`gradcheck.kinks.sympy_values`), as a float; ValueError when a symbol has no value."""
    if SYMBOLIC_ENGINE.get() == "symengine":
        return _symengine_real(v, what)
    import sympy

    value = v.evalf(subs=kinks.sympy_values()) if isinstance(v, sympy.Basic) else v
    try:
        re = sympy.re(value)
        if re.free_symbols:
            raise TypeError
        return float(re)
    except TypeError as exc:  # undecidable comparison: a symbol without a value
        raise ValueError(f"cannot decide {what} at {v}") from exc


_SE_SUBS: list = [None, {}]  # [the kinks.sympy_values() dict last converted, its SymEngine form]


def _symengine_real(v, what: str) -> float:
    """As :func:`symbolic_real`, evaluated by SymEngine with 200 bits (MPFR)."""
    import symengine

    subs = kinks.sympy_values()
    if _SE_SUBS[0] is not subs:  # the same dict object for one substitution context: convert it once
        _SE_SUBS[:] = [subs, {symengine.sympify(k): symengine.sympify(val) for k, val in subs.items()}]
    e = symengine.sympify(v)
    for _ in range(2):  # a value may be given in terms of other symbols that have values (a re-run)
        if not e.free_symbols:
            break
        e = e.xreplace(_SE_SUBS[1])
    if e.free_symbols:
        raise ValueError(f"cannot decide {what} at {v}")
    n = e.n(200)
    return float(n.real_part() if isinstance(n, symengine.ComplexMPC) else n)


def maximum(a, b):
    """Elementwise max, branch chosen on real parts; reports the distance to the tie."""
    bk = _backend(a, b)
    if bk == "jax":
        jnp = _jnp()
        return jnp.where(jnp.real(a) >= jnp.real(b), a, b)
    if bk == "sympy":
        a, b = np.broadcast_arrays(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
        out = np.empty(a.shape, dtype=object)
        for idx in np.ndindex(a.shape):
            out[idx] = a[idx] if _sympy_positive(a[idx] - b[idx]) else b[idx]
        return out if out.ndim else out[()]
    a, b = _as_array(a), _as_array(b)
    kinks.record("maximum", np.real(a) - np.real(b))
    return np.where(np.real(a) >= np.real(b), a, b)


def minimum(a, b):
    return -maximum(-_as_array(a) if not _is_jax(a) else -a, -_as_array(b) if not _is_jax(b) else -b)


def clip(x, lo, hi):
    return minimum(maximum(x, lo), hi)


def where(cond, a, b):
    """Select a where cond else b. A comparison built with ``>``/``<`` on real parts is a cond."""
    bk = _backend(cond, a, b)
    if bk == "jax":
        return _jnp().where(cond, a, b)
    if bk == "sympy":
        cond, a, b = np.broadcast_arrays(np.asarray(cond, dtype=object), np.asarray(a, dtype=object),
                                         np.asarray(b, dtype=object))
        out = np.empty(a.shape, dtype=object)
        for idx in np.ndindex(a.shape):
            out[idx] = a[idx] if truth(cond[idx]) else b[idx]
        return out if out.ndim else out[()]
    return np.where(cond, a, b)


def sign_of_real(x):
    """+1, 0 or -1 by the sign of the real part (the derivative of |x| away from 0)."""
    if _backend(x) == "jax":
        jnp = _jnp()
        return jnp.sign(jnp.real(x))
    if _backend(x) == "sympy":
        return _sympy_map(lambda v: exact_integer(1) if _sympy_positive(v) else exact_integer(-1), x)
    return np.sign(np.real(x))


# --------------------------------------------------------------------------- reductions
def _xp(x):
    return _jnp() if _backend(x) == "jax" else np


def sum(x, axis=None, keepdims=False):  # noqa: A001
    if _backend(x) == "sympy":
        out = np.sum(np.asarray(x, dtype=object), axis=axis, keepdims=keepdims)
        return out
    return _xp(x).sum(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    if _backend(x) == "sympy":
        arr = np.asarray(x, dtype=object)
        n = arr.size if axis is None else np.prod([arr.shape[a] for a in np.atleast_1d(axis)])
        return np.sum(arr, axis=axis, keepdims=keepdims) * engine().Rational(1, int(n))
    return _xp(x).mean(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    mu = mean(x, axis=axis, keepdims=True)
    return mean((x - mu) ** 2, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    """Maximum along an axis, chosen by real part (complex-step safe)."""
    bk = _backend(x)
    if bk == "jax":
        return _jnp().max(x, axis=axis, keepdims=keepdims)
    if bk == "sympy":
        return _sympy_reduce_max(np.asarray(x, dtype=object), axis, keepdims)
    x = _as_array(x)
    if not np.iscomplexobj(x):
        top = np.sort(x, axis=axis).reshape(-1) if axis is None else None
        if top is not None and top.size > 1:
            kinks.record("max", np.array([top[-1] - top[-2]]))
        return np.max(x, axis=axis, keepdims=keepdims)
    idx = np.argmax(np.real(x), axis=axis)
    if axis is None:
        out = x.reshape(-1)[idx]
        return np.reshape(out, (1,) * x.ndim) if keepdims else out
    out = np.take_along_axis(x, np.expand_dims(idx, axis), axis=axis)
    return out if keepdims else np.squeeze(out, axis=axis)


def _sympy_reduce_max(arr, axis, keepdims):
    def pick(vals):
        vals = list(vals)
        best = vals[0]
        for v in vals[1:]:
            if _sympy_positive(v - best):
                best = v
        return best

    if axis is None:
        out = pick(arr.reshape(-1))
        return np.full((1,) * arr.ndim, out, dtype=object) if keepdims else out
    moved = np.moveaxis(arr, axis, -1)
    out = np.empty(moved.shape[:-1], dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = pick(moved[idx])
    return np.expand_dims(out, axis) if keepdims else out


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) along an axis, shifted by the maximum for stability."""
    bk = _backend(x)
    if bk == "jax":
        import jax

        return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims)
    if bk == "sympy":
        return log(sum(exp(x), axis=axis, keepdims=keepdims))
    x = _as_array(x)
    shift = np.max(np.real(x), axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True)) + shift
    return out if keepdims else (np.squeeze(out, axis=axis) if axis is not None else out.reshape(()))


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis`` (default: the last), shifted for stability."""
    bk = _backend(x)
    if bk == "jax":
        import jax

        return jax.nn.softmax(x, axis=axis)
    if bk == "sympy":
        e = exp(x)
        return e / sum(e, axis=axis, keepdims=True)
    x = _as_array(x)
    e = np.exp(x - np.max(np.real(x), axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``: the stable log of softmax."""
    return x - logsumexp(x, axis=axis, keepdims=True)


# --------------------------------------------------------------------------- structure
def diag(x):
    """Vector -> diagonal matrix, matrix -> its diagonal (numpy's convention)."""
    return _xp(x).diag(x) if _backend(x) != "sympy" else np.diag(np.asarray(x, dtype=object))


def outer(a, b):
    if _backend(a, b) == "jax":
        return _jnp().outer(a, b)
    return np.multiply.outer(np.ravel(a), np.ravel(b)) if _backend(a, b) == "numpy" else np.outer(
        np.asarray(a, dtype=object), np.asarray(b, dtype=object))


def transpose(x, axes=None):
    return _xp(x).transpose(x, axes)


def reshape(x, shape):
    return _xp(x).reshape(x, shape)


def stack(xs, axis=0):
    return (_jnp() if builtins.any(_is_jax(x) for x in xs) else np).stack(xs, axis=axis)


def concatenate(xs, axis=0):
    return (_jnp() if builtins.any(_is_jax(x) for x in xs) else np).concatenate(xs, axis=axis)


def einsum(subscripts, *operands):
    return (_jnp() if builtins.any(_is_jax(x) for x in operands) else np).einsum(subscripts, *operands)


#: set by the symbolic oracle: eye/ones/zeros return exact SymPy integers (so ``ones((3, 3)) / 3`` is 1/3)
EXACT_CONSTANT_ARRAYS: contextvars.ContextVar[bool] = contextvars.ContextVar("exact_constant_arrays", default=False)


def _exact(arr: np.ndarray) -> np.ndarray:
    if not EXACT_CONSTANT_ARRAYS.get():
        return arr
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = exact_integer(int(arr[idx]))
    return out


def eye(n):
    return _exact(np.eye(int(n)))


def ones(shape):
    return _exact(np.ones(shape))


def zeros(shape):
    return _exact(np.zeros(shape))


# --------------------------------------------------------------------------- linear algebra
def inv(x):
    """Matrix inverse (``A^{-1}``) on numpy, JAX and SymPy object arrays."""
    b = _backend(x)
    if b == "sympy":
        return np.array(symbolic_matrix(x).inv().tolist(), dtype=object)
    return (_jnp() if b == "jax" else np).linalg.inv(x)


def symbolic_matrix(x):
    """An object array as a ``sympy.Matrix``, or a ``symengine.DenseMatrix`` while SymEngine builds."""
    rows = np.asarray(x, dtype=object).tolist()
    return engine().DenseMatrix(rows) if SYMBOLIC_ENGINE.get() == "symengine" else engine().Matrix(rows)


def det(x):
    """Determinant (``\\det A``) on numpy, JAX and SymPy object arrays."""
    b = _backend(x)
    if b == "sympy":
        return symbolic_matrix(x).det()
    return (_jnp() if b == "jax" else np).linalg.det(x)
