"""The numpy functions homework code calls, on every backend (numpy, complex, JAX, SymPy object arrays).

:mod:`gradcheck.ops` holds the activations and reductions a derivation is written with; this module
adds what pasted numpy code needs on top: linear algebra (``trace det inv slogdet solve norm``),
array building (``kron hstack vstack split repeat tile pad arange triu tril expand_dims
broadcast_to``), index functions (``argmax take``, integer casts), the array-method spellings
(``dot copy ravel squeeze``) and shape queries (``shape len``). Each function dispatches on the type
of its arguments exactly as :mod:`gradcheck.ops` does:

* numpy float or complex arrays: numpy itself, with functions that are analytic kept analytic so
  the complex step stays exact (``slogdet`` is ``log(sign * det)``, ``norm`` is ``sqrt(sum(x*x))``);
* JAX arrays and tracers: ``jax.numpy``;
* object arrays of SymPy expressions: numpy on object arrays, or ``sympy.Matrix`` for ``det``,
  ``inv`` and ``solve``.

Integer-valued results (``argmax``, ``astype_int``, ``arange``) are index arrays: piecewise constant,
with zero derivative, as in numpy.
"""

from __future__ import annotations

import builtins

import numpy as np

from gradcheck import kinks, ops
from gradcheck.ops import _backend, _jnp, _sympy_positive, engine, exact_integer, symbolic_matrix, symbolic_real


def _xp(*xs):
    return _jnp() if _backend(*xs) == "jax" else np


def as_int(value, what: str = "a size") -> int:
    """A Python int from an int, an integral float, a numpy or SymPy integer; ValueError otherwise."""
    if isinstance(value, bool):
        return int(value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be an integer, got {value!r}") from None
    if f != int(f):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    return int(f)


def _int_tuple(shape) -> tuple[int, ...]:
    if isinstance(shape, (list, tuple)):
        return tuple(as_int(s, "a shape entry") for s in shape)
    return (as_int(shape, "a shape entry"),)


def _sympy_matrix(x):
    return symbolic_matrix(x)


def _from_matrix(m, shape) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    flat = list(m)
    for k, idx in enumerate(np.ndindex(shape)):
        out[idx] = flat[k]
    return out


def _square(x, name: str):
    if np.ndim(x) != 2 or np.shape(x)[0] != np.shape(x)[1]:
        raise ValueError(f"{name} needs a square matrix, got shape {np.shape(x)}")


# --------------------------------------------------------------------------- products
def dot(a, b):
    """numpy's ``dot`` for scalars, vectors and matrices (``@`` for 1-D/2-D, ``*`` with a scalar)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * b
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise ValueError("dot of arrays with more than 2 axes is not supported: write einsum(...) instead")
    return a @ b


def asarray(x):
    """``np.array([...])``: numbers give a numpy array (integers stay integers, for indices); a list
    of arrays is stacked on their backend."""
    if isinstance(x, (list, tuple)) and any(hasattr(e, "shape") and not isinstance(e, np.ndarray) or
                                            isinstance(e, np.ndarray) and e.dtype == object for e in x):
        return ops.stack(list(x))
    return x if hasattr(x, "shape") and not isinstance(x, (list, tuple)) else np.asarray(x)


def matmul(a, b):
    return a @ b


def multiply(a, b):
    return a * b


def add(a, b):
    return a + b


def subtract(a, b):
    return a - b


def divide(a, b):
    return a / b


def power(a, b):
    return a ** b


def square(x):
    return x * x


def kron(a, b):
    if _backend(a, b) == "jax":
        return _jnp().kron(a, b)
    if _backend(a, b) == "sympy":
        return np.kron(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
    return np.kron(a, b)


# --------------------------------------------------------------------------- linear algebra
def trace(x):
    _square(x, "trace")
    if _backend(x) == "sympy":
        arr = np.asarray(x, dtype=object)
        return builtins.sum(arr[i, i] for i in range(arr.shape[0]))
    return _xp(x).trace(x)


def _det(m):
    """The determinant of a SymPy (Berkowitz: no division) or SymEngine matrix."""
    return m.det() if type(m).__module__.startswith("symengine") else m.det(method="berkowitz")


def det(x):
    _square(x, "det")
    b = _backend(x)
    if b == "sympy":
        return _det(_sympy_matrix(x))
    return _xp(x).linalg.det(x)


def inv(x):
    _square(x, "inv")
    b = _backend(x)
    if b == "sympy":
        m = _sympy_matrix(x)
        return _from_matrix(m.inv() if type(m).__module__.startswith("symengine") else m.inv(method="LU"), np.shape(x))
    return _xp(x).linalg.inv(x)


def slogdet(x):
    """(sign, log|det x|). On numpy, ``log(sign * det)`` with the sign of the real part, which is
    analytic, so a complex step through it stays exact."""
    _square(x, "slogdet")
    b = _backend(x)
    if b == "jax":
        return tuple(_jnp().linalg.slogdet(x))
    if b == "sympy":
        e = engine()
        d = _det(_sympy_matrix(x))
        s = exact_integer(1) if _sympy_positive(d) else exact_integer(-1)
        return s, e.log(s * d)
    d = np.linalg.det(x)
    s = np.sign(np.real(d))
    kinks.record("det", np.array([np.real(d)]))
    return s, np.log(s * d)


def logdet(x):
    """log |det x| (numpy's ``slogdet(x)[1]``)."""
    return slogdet(x)[1]


def solve(a, b):
    _square(a, "solve")
    if _backend(a, b) == "sympy":
        rhs = np.asarray(b, dtype=object)
        col = rhs.reshape(rhs.shape[0], -1)
        out = _sympy_matrix(a).LUsolve(_sympy_matrix(col))
        return _from_matrix(out, rhs.shape)
    return _xp(a, b).linalg.solve(a, b)


def norm(x, axis=None, keepdims=False):
    """The 2-norm of a vector, the Frobenius norm of a matrix (``sqrt(sum(x*x))``, analytic)."""
    return ops.sqrt(ops.sum(x * x, axis=axis, keepdims=keepdims))


def std(x, axis=None, keepdims=False):
    return ops.sqrt(ops.var(x, axis=axis, keepdims=keepdims))


# --------------------------------------------------------------------------- building arrays
def _seq(xs):
    return list(xs)


def hstack(xs):
    return _xp(*xs).hstack(_seq(xs)) if _backend(*xs) != "sympy" else np.hstack([np.asarray(x, dtype=object) for x in xs])


def vstack(xs):
    return _xp(*xs).vstack(_seq(xs)) if _backend(*xs) != "sympy" else np.vstack([np.asarray(x, dtype=object) for x in xs])


def split(x, sections, axis=0):
    idx = as_int(sections, "split's sections") if np.ndim(sections) == 0 else [as_int(s) for s in sections]
    return tuple(_xp(x).split(x, idx, axis=as_int(axis)))


def repeat(x, repeats, axis=None):
    return _xp(x).repeat(x, as_int(repeats, "repeat's count"), axis=None if axis is None else as_int(axis))


def tile(x, reps):
    return _xp(x).tile(x, _int_tuple(reps))


def pad(x, pad_width, constant_values=0):
    """Constant padding (numpy's default mode)."""
    width = np.asarray(pad_width, dtype=object)
    width = np.vectorize(as_int, otypes=[int])(width) if width.size else width.astype(int)
    if _backend(x) == "sympy":
        return np.pad(np.asarray(x, dtype=object), width.tolist(), constant_values=constant_values)
    return _xp(x).pad(x, width.tolist(), constant_values=constant_values)


def arange(*args):
    """Integers ``start <= i < stop`` (step), as an index array; the bounds must be integers."""
    return np.arange(*[as_int(a, "arange's bounds") for a in args])


def cumsum(x, axis=None):
    if _backend(x) == "sympy":
        return np.cumsum(np.asarray(x, dtype=object), axis=axis)
    return _xp(x).cumsum(x, axis=axis)


def triu(x, k=0):
    return _xp(x).triu(x, as_int(k)) if _backend(x) != "sympy" else np.triu(np.asarray(x, dtype=object), as_int(k))


def tril(x, k=0):
    return _xp(x).tril(x, as_int(k)) if _backend(x) != "sympy" else np.tril(np.asarray(x, dtype=object), as_int(k))


def expand_dims(x, axis):
    return _xp(x).expand_dims(x, as_int(axis))


def broadcast_to(x, shape):
    return _xp(x).broadcast_to(x, _int_tuple(shape))


def squeeze(x, axis=None):
    return _xp(x).squeeze(x, axis=None if axis is None else as_int(axis))


def ravel(x):
    return _xp(x).reshape(x, (-1,))


def copy(x):
    """A new array with the same entries (numpy's ``x.copy()``)."""
    if _backend(x) == "jax":
        return x
    return np.array(x, copy=True) if isinstance(x, np.ndarray) else x


def zeros_like(x):
    if _backend(x) == "sympy":
        return np.full(np.shape(x), exact_integer(0), dtype=object)
    return np.zeros(np.shape(x))


def ones_like(x):
    if _backend(x) == "sympy":
        return np.full(np.shape(x), exact_integer(1), dtype=object)
    return np.ones(np.shape(x))


def exact_array(arr: np.ndarray) -> np.ndarray:
    """A float array as exact SymPy numbers (the decimal each float prints as: 0.5 -> 1/2, 1.0 -> 1),
    so that ``zeros``/``ones``/``eye`` mixed with SymPy values keep every product exact."""
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = exact_number(arr[idx])
    return out


def exact_number(v):
    """An int or a finite float as an exact number of the building engine (SymPy or SymEngine): the
    decimal the float prints as (0.1 -> 1/10, 1e-05 -> 1/100000), never a binary float."""
    from fractions import Fraction

    e = engine()
    if isinstance(v, (bool, int, np.integer)):
        return exact_integer(int(v))
    f = Fraction(repr(float(v)))  # ValueError for inf and nan: they have no exact value
    return exact_integer(f.numerator) if f.denominator == 1 else e.Rational(f.numerator, f.denominator)


# --------------------------------------------------------------------------- indices and shapes
def _real_floats(x) -> np.ndarray:
    """Numeric real values (SymPy entries evaluated at the symbols' current values)."""
    if _backend(x) == "sympy":
        return np.vectorize(symbolic_real, otypes=[float])(np.asarray(x, dtype=object))
    return np.real(np.asarray(x))


def argmax(x, axis=None):
    """Index of the largest entry (by real part): piecewise constant, derivative zero."""
    if _backend(x) == "jax":
        jnp = _jnp()
        return jnp.argmax(jnp.real(x), axis=axis)
    r = _real_floats(x)
    if r.size > 1:
        top = np.sort(r, axis=axis)
        gap = top[..., -1] - top[..., -2] if axis is not None or r.ndim == 1 else top[-1] - top[-2]
        kinks.record("argmax", np.array([float(np.min(gap))]))
    return np.argmax(r, axis=None if axis is None else as_int(axis))


def astype_int(x):
    """``x.astype(int)``: truncation toward zero, an index array."""
    if _backend(x) == "jax":
        jnp = _jnp()
        return jnp.real(x).astype(jnp.int64)
    if isinstance(x, (int, np.integer)):
        return int(x)
    r = np.trunc(_real_floats(x))
    return r.astype(np.int64) if np.ndim(r) else int(r)


def to_float(x):
    """``float(x)`` / ``x.astype(float)``: the value itself (exact SymPy numbers stay exact)."""
    if isinstance(x, bool):
        return float(x)
    if isinstance(x, (int, np.integer)):
        return float(x)
    return x


def to_int(x):
    return as_int(x, "int(...)'s argument") if np.ndim(x) == 0 and _backend(x) != "jax" else astype_int(x)


def take(x, indices, axis=None):
    idx = index_array(indices)
    return _xp(x).take(x, idx, axis=None if axis is None else as_int(axis))


def shape(x) -> tuple[int, ...]:
    return tuple(int(s) for s in np.shape(x))


def length(x) -> int:
    s = np.shape(x)
    if not s:
        raise ValueError("len() of a scalar")
    return int(s[0])


def size(x) -> int:
    return int(np.prod(np.shape(x), dtype=int))


def ndim(x) -> int:
    return len(np.shape(x))


def index_array(value):
    """An integer index (array) from labels stored as floats or SymPy numbers; masks stay boolean."""
    if isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if _backend(value) == "jax":
        jnp = _jnp()
        return value if jnp.issubdtype(value.dtype, jnp.integer) or value.dtype == bool else \
            jnp.real(value).astype(jnp.int32)
    arr = np.asarray(value)
    if arr.dtype == bool or np.issubdtype(arr.dtype, np.integer):
        return arr if arr.ndim else int(arr)
    if arr.dtype == object:
        ints = np.vectorize(lambda e: as_int(e, "an index"), otypes=[np.int64])(arr) if arr.size else arr.astype(np.int64)
        return ints if arr.ndim else int(ints)
    r = np.real(arr)
    if not np.all(r == np.round(r)):
        raise ValueError("an index array must hold integers (data of kind \"labels\", arange(...), "
                         "or x.astype(int))")
    ints = r.astype(np.int64)
    return ints if ints.ndim else int(ints)


def mask_array(value):
    """A boolean mask from a 0/1 comparison result."""
    if _backend(value) == "jax":
        return _jnp().real(value) != 0
    arr = np.asarray(value)
    if arr.dtype == object:
        return np.vectorize(lambda e: bool(e != 0), otypes=[bool])(arr)
    return np.real(arr) != 0


#: name -> (function, keyword arguments it accepts); merged into :data:`gradcheck.expr.FUNCTIONS`
FUNCTIONS = {
    "asarray": (asarray, ()), "dot": (dot, ()), "matmul": (matmul, ()), "multiply": (multiply, ()), "add": (add, ()), "subtract": (subtract, ()),
    "divide": (divide, ()), "power": (power, ()), "square": (square, ()), "kron": (kron, ()),
    "trace": (trace, ()), "det": (det, ()), "inv": (inv, ()), "slogdet": (slogdet, ()), "logdet": (logdet, ()),
    "solve": (solve, ()), "norm": (norm, ("axis", "keepdims")), "std": (std, ("axis", "keepdims")),
    "hstack": (hstack, ()), "vstack": (vstack, ()), "split": (split, ("axis",)),
    "repeat": (repeat, ("axis",)), "tile": (tile, ()), "pad": (pad, ("constant_values",)),
    "arange": (arange, ()), "cumsum": (cumsum, ("axis",)), "triu": (triu, ("k",)), "tril": (tril, ("k",)),
    "expand_dims": (expand_dims, ("axis",)), "broadcast_to": (broadcast_to, ()),
    "squeeze": (squeeze, ("axis",)), "ravel": (ravel, ()), "copy": (copy, ()),
    "zeros_like": (zeros_like, ()), "ones_like": (ones_like, ()), "argmax": (argmax, ("axis",)),
    "astype_int": (astype_int, ()), "float": (to_float, ()), "int": (to_int, ()), "take": (take, ("axis",)),
    "shape": (shape, ()), "len": (length, ()), "size": (size, ()), "ndim": (ndim, ()),
}
