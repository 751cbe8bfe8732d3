"""Run a plain numpy function on JAX or SymPy values, through numpy's dispatch protocols.

``f(x, W)`` written with ``np.exp``, ``@``, ``x.sum(axis=0)``, ``np.where(x > 0, x, 0)``, ... is
called with :class:`Traced` wrappers instead of arrays. numpy hands every ufunc
(``__array_ufunc__``) and every array function (``__array_function__``) it is asked to compute to
the wrapper, which computes it with :mod:`gradcheck.ops` (or the matching ``jax.numpy`` / SymPy
function) on the wrapped value. So JAX and SymPy differentiate the very computation that finite
differences run as is, without a hand copy per framework.

What cannot be traced raises :class:`TraceError`, naming the call and the line of the user's code:
a numpy function without a rule here, Python control flow on an array value (``if x.sum() > 0:``),
converting a value to a Python number or a plain ndarray (``float(x)``, ``np.asarray(x)``), writing a
traced value into a plain numpy array.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from gradcheck import ops

_HERE = os.path.dirname(os.path.abspath(__file__))
_LIBRARIES = tuple(os.path.dirname(os.path.abspath(m.__file__)) for m in (np,))


class TraceError(TypeError):
    """A function that cannot be run on traced values: what it called, and where."""


def _user_line() -> str:
    """' (file.py:12: `code`)' for the innermost frame outside gradcheck and numpy, or ''."""
    for frame in reversed(traceback.extract_stack()):
        path = os.path.abspath(frame.filename)
        if path.startswith(_HERE) or path.startswith(_LIBRARIES) or "jax" in path.split(os.sep)[-3:-1]:
            continue
        if frame.filename.startswith("<frozen"):
            continue
        return f" ({os.path.basename(frame.filename)}:{frame.lineno}: `{(frame.line or '').strip()}`)"
    return ""


def fail(what: str) -> TraceError:
    return TraceError(what + _user_line())


# --------------------------------------------------------------------------- backends
def backend(*xs) -> str:
    """'jax', 'sympy' or 'numpy': the kind of the values (as :mod:`gradcheck.ops` sees them)."""
    return ops._backend(*xs)


def _jnp():
    import jax.numpy as jnp

    return jnp


def _sympy_elementwise(name: str) -> Callable:
    def apply(x):
        sympy = ops.engine()  # SymPy, or SymEngine (same names) while the symbolic oracle builds with it

        fn = {"sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "sinh": sympy.sinh, "cosh": sympy.cosh,
              "arctan": sympy.atan, "log1p": lambda v: sympy.log(1 + v), "expm1": lambda v: sympy.exp(v) - 1,
              "log2": lambda v: sympy.log(v, 2), "log10": lambda v: sympy.log(v, 10),
              "exp2": lambda v: 2 ** v}[name]
        return ops._sympy_map(fn, x)

    return apply


def _elementwise(name: str) -> Callable:
    """A numpy ufunc of one argument on any backend."""
    def apply(x):
        b = backend(x)
        if b == "jax":
            return getattr(_jnp(), name)(x)
        if b == "sympy":
            return _sympy_elementwise(name)(x)
        return getattr(np, name)(x)

    return apply


def _arith(name: str) -> Callable:
    """Arithmetic ufuncs: numpy (also on object arrays of SymPy expressions) or jax.numpy."""
    def apply(*xs):
        if backend(*xs) == "jax":
            return getattr(_jnp(), name)(*xs)
        if backend(*xs) == "sympy":
            xs = tuple(np.asarray(x, dtype=object) if isinstance(x, np.ndarray) else x for x in xs)
        return getattr(np, name)(*xs)

    return apply


def _compare(name: str) -> Callable:
    """Comparisons on real parts; for SymPy, decided numerically at the symbols' values."""
    op = {"greater": np.greater, "greater_equal": np.greater_equal, "less": np.less, "less_equal": np.less_equal}[name]

    def apply(a, b):
        bk = backend(a, b)
        if bk == "jax":
            jnp = _jnp()
            return getattr(jnp, name)(jnp.real(a), jnp.real(b))
        if bk == "sympy":
            a, b = np.broadcast_arrays(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
            first, second = (a, b) if name.startswith("greater") else (b, a)
            integer = ops.exact_integer
            out = np.empty(a.shape, dtype=object)  # exact 0/1, so `(a > 0) * g` stays a SymPy product
            for idx in np.ndindex(a.shape):
                positive = ops._sympy_positive(first[idx] - second[idx])
                out[idx] = integer(int(positive if not name.endswith("equal") else
                                             not ops._sympy_positive(second[idx] - first[idx])))
            return out if out.ndim else out[()]
        return op(np.real(a), np.real(b))

    return apply


def _logaddexp(a, b):
    top = ops.maximum(a, b)
    return top + ops.log(ops.exp(a - top) + ops.exp(b - top))


UFUNCS: dict[str, Callable] = {
    **{n: _arith(n) for n in ("add", "subtract", "multiply", "divide", "true_divide", "negative", "positive",
                              "power", "matmul")},
    **{n: _elementwise(n) for n in ("sin", "cos", "tan", "sinh", "cosh", "arctan", "log1p", "expm1", "log2",
                                    "log10", "exp2")},
    **{n: _compare(n) for n in ("greater", "greater_equal", "less", "less_equal")},
    "exp": ops.exp, "log": ops.log, "tanh": ops.tanh, "sqrt": ops.sqrt, "absolute": ops.abs,
    "maximum": ops.maximum, "minimum": ops.minimum, "square": lambda x: x * x, "reciprocal": lambda x: 1 / x,
    "fabs": ops.abs, "sign": ops.sign_of_real, "logaddexp": _logaddexp,
}


def _dot(a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * b
    return UFUNCS["matmul"](a, b)


def _zeros_like(x, *a, **k):
    return _backend_array(x, np.zeros(np.shape(x)))


def _ones_like(x, *a, **k):
    return _backend_array(x, np.ones(np.shape(x)))


def _backend_array(like, value: np.ndarray):
    if backend(like) == "jax":
        return _jnp().asarray(value)
    return value


def _min(x, axis=None, keepdims=False, **kw):
    return -ops.max(-x, axis=axis, keepdims=keepdims)


def _norm(x, ord=None, axis=None, keepdims=False):
    if ord not in (None, "fro", 2) or (ord == 2 and np.ndim(x) != 1):
        raise fail(f"np.linalg.norm with ord={ord!r} cannot be traced (only the 2-norm / Frobenius norm)")
    return ops.sqrt(ops.sum(x * x, axis=axis, keepdims=keepdims))


def _squeeze(x, axis=None):
    shape = np.shape(x)
    axes = [i for i, s in enumerate(shape) if s == 1] if axis is None else \
        [a % len(shape) for a in np.atleast_1d(axis)]
    return ops.reshape(x, tuple(s for i, s in enumerate(shape) if i not in axes))


def _expand_dims(x, axis):
    shape = list(np.shape(x))
    shape.insert(axis if axis >= 0 else len(shape) + axis + 1, 1)
    return ops.reshape(x, tuple(shape))


def _same_name(func: Callable) -> Callable:
    """A numpy function that jax.numpy also has and that works on object arrays of SymPy expressions."""
    def apply(*args, **kwargs):
        if backend(*args) == "jax":
            return getattr(_jnp(), func.__name__)(*args, **kwargs)
        return func(*args, **kwargs)

    return apply


FUNCTIONS: dict[Any, Callable] = {
    **{f: _same_name(f) for f in (np.cumsum, np.prod, np.tensordot, np.triu, np.tril, np.diagonal)},
    np.copy: lambda x, **kw: x,  # values are never written in place (x[i] = v makes a new value), so no copy
    np.sum: lambda x, axis=None, keepdims=False, **kw: ops.sum(x, axis=axis, keepdims=keepdims),
    np.mean: lambda x, axis=None, keepdims=False, **kw: ops.mean(x, axis=axis, keepdims=keepdims),
    np.var: lambda x, axis=None, keepdims=False, **kw: ops.var(x, axis=axis, keepdims=keepdims),
    np.max: lambda x, axis=None, keepdims=False, **kw: ops.max(x, axis=axis, keepdims=keepdims),
    np.min: _min,
    np.dot: _dot,
    np.transpose: lambda x, axes=None: ops.transpose(x, axes),
    np.reshape: lambda x, shape=None, **kw: ops.reshape(x, shape if shape is not None else kw["newshape"]),
    np.outer: ops.outer,
    np.diag: lambda x, k=0: ops.diag(x) if k == 0 else _unsupported("np.diag with k != 0"),
    np.trace: lambda x: ops.sum(ops.diag(x)),
    np.einsum: lambda subscripts, *operands, **kw: ops.einsum(subscripts, *operands),
    np.stack: lambda xs, axis=0, **kw: ops.stack(list(xs), axis=axis),
    np.concatenate: lambda xs, axis=0, **kw: ops.concatenate(list(xs), axis=axis),
    np.where: lambda cond, a=None, b=None: ops.where(cond, a, b) if a is not None else
    _unsupported("np.where with one argument (data-dependent indices)"),
    np.clip: lambda x, lo, hi, **kw: ops.clip(x, lo, hi),
    np.zeros_like: _zeros_like,
    np.ones_like: _ones_like,
    np.shape: np.shape,
    np.ndim: np.ndim,
    np.size: lambda x, axis=None: int(np.prod(np.shape(x))) if axis is None else np.shape(x)[axis],
    np.squeeze: _squeeze,
    np.expand_dims: _expand_dims,
    np.linalg.norm: _norm,
    np.inner: lambda a, b: ops.sum(a * b, axis=-1) if np.ndim(a) <= 1 else _unsupported("np.inner of matrices"),
    np.vdot: lambda a, b: ops.sum(ops.reshape(a, (-1,)) * ops.reshape(b, (-1,))),
}


def _qualified(func) -> str:
    module = getattr(func, "__module__", "") or "numpy"
    return f"{module.replace('numpy', 'np', 1) if module.startswith('numpy') else module}.{func.__name__}"


def _unsupported(what: str):
    raise fail(f"{what} cannot be traced")


# --------------------------------------------------------------------------- the wrapper
def wrap(x):
    if isinstance(x, Traced):
        return x
    if isinstance(x, (list, tuple)) and any(isinstance(v, Traced) for v in x):
        return type(x)(wrap(v) for v in x)
    return Traced(x)


def unwrap(x):
    if isinstance(x, Traced):
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(unwrap(v) for v in x)
    if isinstance(x, dict):
        return {k: unwrap(v) for k, v in x.items()}
    return x


def _call(fn: Callable, name: str, args, kwargs):
    try:
        return wrap(fn(*unwrap(args), **unwrap(kwargs)))
    except TraceError:
        raise
    except Exception as exc:  # noqa: BLE001 - the backend's own error, with the call named
        raise fail(f"{name} failed on {backend(*unwrap(args))} values: {type(exc).__name__}: {exc}") from None


class Traced(NDArrayOperatorsMixin):
    """An array-like holding a numpy, JAX or SymPy value; numpy calls on it are computed on that value."""

    __slots__ = ("value",)
    __array_priority__ = 1000

    def __init__(self, value):
        self.value = value

    # numpy's protocols ---------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.pop("out", None)
        if out is not None:  # x += y, np.add(x, y, out=x): computed, then written into the Traced x
            target = out[0] if isinstance(out, tuple) and len(out) == 1 else out
            if not isinstance(target, Traced):
                raise fail(f"np.{ufunc.__name__}(..., out=...) writes a traced value into a plain array and "
                           "cannot be traced; assign the result instead")
            target.value = unwrap(self.__array_ufunc__(ufunc, method, *inputs, **kwargs))
            return target
        if method == "reduce" and ufunc is np.add:
            return _call(lambda x, axis=0, keepdims=False, **kw: ops.sum(x, axis=axis, keepdims=keepdims),
                         "np.add.reduce", inputs, kwargs)
        fn = UFUNCS.get(ufunc.__name__)
        if method != "__call__" or fn is None:
            call = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
            raise fail(f"{call} cannot be traced (gradcheck traces: {', '.join(sorted(UFUNCS))})")
        return _call(fn, f"np.{ufunc.__name__}", inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        fn = FUNCTIONS.get(func)
        if fn is None:
            raise fail(f"{_qualified(func)} cannot be traced; write it with functions gradcheck traces "
                       "(np.sum, np.mean, np.dot, np.where, np.exp, ... see docs/ways_in.md)")
        return _call(fn, _qualified(func), args, kwargs)

    def __array__(self, dtype=None, copy=None):
        raise fail("converting a traced value to a plain numpy array (np.asarray, np.array, or writing it into "
                   "an array made with np.zeros) cannot be traced; build the result from array operations")

    # what Python asks of a value ------------------------------------------
    def __bool__(self):
        raise fail("data-dependent Python control flow (`if`, `while`, `and`/`or` on an array value) cannot be "
                   "traced; use np.where(cond, a, b) instead")

    def __float__(self):
        raise fail("converting an array value to a Python number (float(x), x.item()) cannot be traced")

    __int__ = __index__ = __complex__ = __float__

    def item(self, *a):
        return self.__float__()

    def tolist(self):
        raise fail("x.tolist() turns the value into Python numbers and cannot be traced")

    def __len__(self):
        return int(np.shape(self.value)[0])

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return f"Traced({self.value!r})"

    # array attributes ------------------------------------------------------
    @property
    def shape(self):
        return tuple(np.shape(self.value))

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape))

    @property
    def dtype(self):
        return np.dtype(float)

    @property
    def T(self):
        return _call(ops.transpose, "x.T", (self,), {})

    def __getitem__(self, index):
        if any(isinstance(i, Traced) for i in (index if isinstance(index, tuple) else (index,))):
            raise fail("indexing with an array value (a mask or computed indices) cannot be traced; "
                       "use np.where(mask, x, 0)")
        return _call(lambda v: v[index], "x[...]", (self,), {})

    def __setitem__(self, index, new):
        self.value = _set(self.value, index, unwrap(new))

    def sum(self, axis=None, keepdims=False, **kw):
        return _call(ops.sum, "x.sum", (self,), {"axis": axis, "keepdims": keepdims})

    def mean(self, axis=None, keepdims=False, **kw):
        return _call(ops.mean, "x.mean", (self,), {"axis": axis, "keepdims": keepdims})

    def max(self, axis=None, keepdims=False, **kw):
        return _call(ops.max, "x.max", (self,), {"axis": axis, "keepdims": keepdims})

    def min(self, axis=None, keepdims=False, **kw):
        return _call(_min, "x.min", (self,), {"axis": axis, "keepdims": keepdims})

    def reshape(self, *shape, **kw):
        shape = shape[0] if len(shape) == 1 else shape
        return _call(ops.reshape, "x.reshape", (self, shape), {})

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 else (axes or None)
        return _call(ops.transpose, "x.transpose", (self, axes), {})

    def dot(self, other):
        return _call(_dot, "x.dot", (self, other), {})

    def ravel(self):
        return self.reshape(-1)

    flatten = ravel

    def squeeze(self, axis=None):
        return _call(_squeeze, "x.squeeze", (self, axis), {})

    def clip(self, lo, hi):
        return _call(ops.clip, "x.clip", (self, lo, hi), {})

    def copy(self):
        return Traced(self.value.copy() if hasattr(self.value, "copy") else self.value)

    def astype(self, dtype, **kw):
        if np.dtype(dtype).kind not in "fc":
            raise fail(f"x.astype({np.dtype(dtype).name}) leaves the real numbers and cannot be traced")
        return self


def _set(value, index, new):
    """``value[index] = new`` without changing the caller's array: numpy copy, JAX ``.at[]``, object copy."""
    if backend(value, new) == "jax":
        return _jnp().asarray(value).at[index].set(new)
    out = np.array(value, dtype=object if backend(value, new) == "sympy" else None, copy=True)
    out[index] = new
    return out


def call(fn: Callable, values) -> Any:
    """``fn(*values)`` with each value wrapped; the result unwrapped (tuples and lists kept)."""
    return unwrap(fn(*[Traced(v) for v in values]))


def on_backend(fn: Callable, values, *, native_jax: bool = False) -> Any:
    """``fn(*values)``: numpy values run ``fn`` as is; JAX and SymPy values are traced.

    With ``native_jax`` (``fn`` is written with ``jax.numpy``), JAX values run ``fn`` as is too, and
    SymPy values cannot be used.
    """
    kind = backend(*values)
    if kind == "numpy" or (kind == "jax" and native_jax):
        return fn(*values)
    if native_jax:
        raise TraceError("the function is written with jax.numpy, which SymPy cannot trace")
    return call(fn, values)


def is_jax_value(x) -> bool:
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(x, jax.Array)
