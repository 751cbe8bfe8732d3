"""Batched evaluation of a model over many perturbed copies of one input, in one numpy pass.

The finite-difference oracle needs ``f(x0 + s_k e_k)`` for every entry k of ``x0``. Evaluating
them one forward call each costs n calls of Python overhead plus n full forward passes. Here the
perturbed inputs are one :class:`Batch` value that the model's steps run on unchanged: it behaves
like *one* array of the core shape (``.shape``, ``.T``, ``@``, ``axis=``, indexing all refer to the
core axes) while it carries a leading batch axis inside. Two representations:

* **dense**: ``data`` of shape ``(B, *core)``;
* **slab**: ``base`` (the unperturbed core value) with, for batch element b, the hyperplane
  ``idx[b]`` along one core axis replaced by ``vals[b]``. A perturbation of one entry W[i, j] is a
  slab (column j of W). Elementwise steps keep a slab a slab (only column j of ``tanh(x @ W + b)``
  changes), ``x @ W`` maps a column slab of W to a column slab of the product, reductions along
  other axes keep it, and a product that contracts the slab axis becomes a cheap rank-one update
  of the base: so an entry's perturbation costs O(size of the slab), not a full forward pass.

Anything this module does not implement raises :class:`Unsupported` (and any attempt to turn a
Batch into a plain ndarray raises ``TypeError``), so a model that does something unexpected never
gives a silently wrong batch: the caller validates against the one-call-per-perturbation loop
and falls back to it.

:mod:`gradcheck.ops` converts its arguments with ``_as_array``, which returns a value whose
``gradcheck_batch`` attribute is true unchanged (a Batch) and is ``np.asarray`` otherwise.
"""

from __future__ import annotations

from numbers import Number

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin


class Unsupported(TypeError):
    """An operation the batched evaluation does not implement (the caller falls back to the loop)."""


# --------------------------------------------------------------------------- helpers
def _plain(x) -> bool:
    return isinstance(x, (np.ndarray, Number, np.generic, bool))


def _norm_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise Unsupported(f"axis {a} out of range for {ndim} dims")
        out.append(a % ndim)
    return tuple(sorted(out))


def _pad(arr: np.ndarray, ndim: int) -> np.ndarray:
    """Left-pad a batched array ``(B, *core)`` to ``ndim`` core dims."""
    r = arr.ndim - 1
    return arr if r == ndim else arr.reshape((arr.shape[0],) + (1,) * (ndim - r) + arr.shape[1:])


class _ManyValues(NDArrayOperatorsMixin):
    """Many values behind one array interface: never silently collapsed to one plain array."""

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __array__(self, *args, **kwargs):
        raise TypeError("a batch of perturbed values cannot become one plain array")

    def __bool__(self):
        raise TypeError("the truth value of a batch is ambiguous")

    def __float__(self):
        raise TypeError("a batch of perturbed values is not one number")


class Batch(_ManyValues):
    """B values of one core shape (see the module docstring)."""

    __array_priority__ = 1000
    gradcheck_batch = True  # gradcheck.ops passes it through instead of calling np.asarray
    peak = 0  # largest number of elements of one dense batched intermediate (memory planning)

    def __init__(self, *, data=None, base=None, ax=None, idx=None, vals=None):
        if data is not None:
            self.data = data
            self.B = data.shape[0]
            self.shape = tuple(data.shape[1:])
            self.slab = False
            Batch.peak = max(Batch.peak, data.size)
        else:
            self.base, self.ax, self.idx, self.vals = base, ax, idx, vals  # ax: negative core axis
            self.B = idx.shape[0]
            self.shape = tuple(base.shape)
            self.slab = True
            if vals.ndim != base.ndim + 1 or vals.shape[0] != self.B:
                raise Unsupported("inconsistent slab")

    # ---------------------------------------------------------------- basics
    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape))

    @property
    def dtype(self):
        return self.vals.dtype if self.slab else self.data.dtype

    def __repr__(self):
        kind = f"slab axis {self.ax}" if self.slab else "dense"
        return f"Batch(B={self.B}, shape={self.shape}, {kind})"

    def dense(self) -> np.ndarray:
        """The batch as one ``(B, *core)`` array."""
        if not self.slab:
            return self.data
        a = self.ndim + self.ax
        out = np.array(np.broadcast_to(self.base, (self.B,) + self.shape), dtype=np.result_type(self.base, self.vals))
        vals = np.broadcast_to(self.vals, (self.B,) + self.shape[:a] + (1,) + self.shape[a + 1:])
        ind = self.idx.reshape((self.B,) + (1,) * self.ndim)
        np.put_along_axis(out, np.broadcast_to(ind, vals.shape), vals, axis=a + 1)
        return out

    def densified(self) -> "Batch":
        return self if not self.slab else Batch(data=self.dense())

    def gathered_base(self) -> np.ndarray:
        """The base's hyperplanes idx[b] along the slab axis: shape like ``vals``."""
        a = self.ndim + self.ax
        g = np.take(self.base, self.idx, axis=a)  # axis a now has length B
        return np.expand_dims(np.moveaxis(g, a, 0), a + 1)

    def delta(self) -> np.ndarray:
        return self.vals - self.gathered_base()

    # ---------------------------------------------------------------- structure
    @property
    def T(self):
        return self.transpose()

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))) else axes
        axes = () if axes is None else axes
        r = self.ndim
        perm = tuple(reversed(range(r))) if not axes else tuple(int(a) % r for a in axes)
        if self.slab:
            a = r + self.ax
            new_a = perm.index(a)
            return Batch(base=self.base.transpose(perm), ax=new_a - r, idx=self.idx,
                         vals=self.vals.transpose((0,) + tuple(p + 1 for p in perm)))
        return Batch(data=self.data.transpose((0,) + tuple(p + 1 for p in perm)))

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        d = self.dense()
        return Batch(data=d.reshape((self.B,) + tuple(int(s) for s in shape)))

    def ravel(self):
        return self.reshape(-1)

    def flatten(self):
        return self.reshape(-1)

    def sum(self, axis=None, keepdims=False):
        return _reduce(np.sum, self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return _reduce(np.mean, self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return _reduce(np.max, self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return _reduce(np.min, self, axis, keepdims)

    def astype(self, dtype, copy=True):
        if self.slab:
            return Batch(base=self.base.astype(dtype), ax=self.ax, idx=self.idx, vals=self.vals.astype(dtype))
        return Batch(data=self.data.astype(dtype))

    @property
    def real(self):
        return np.real(self)

    @property
    def imag(self):
        return np.imag(self)

    def conj(self):
        return np.conjugate(self)

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        advanced = [k for k in key if not (k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer)))]
        if advanced:
            if len(advanced) > 1:
                raise Unsupported("indexing with more than one index array")
            pos = [i for i, k in enumerate(key) if k is advanced[0]][0]
            if any(isinstance(k, (int, np.integer)) for k in key[:pos]) and pos > 0:
                raise Unsupported("integer and array indices mixed")
            if isinstance(advanced[0], Batch):
                raise Unsupported("indexing with a batched index")
        return Batch(data=self.dense()[(slice(None),) + key])

    # ---------------------------------------------------------------- numpy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs.get("out") is not None:
            raise Unsupported(f"{ufunc.__name__}.{method}")
        if kwargs:
            raise Unsupported(f"{ufunc.__name__} with keyword arguments")
        if ufunc is np.matmul:
            return _matmul(*inputs)
        if ufunc.nout != 1:
            raise Unsupported(f"{ufunc.__name__} with {ufunc.nout} outputs")
        return _elementwise(ufunc, inputs)

    def __array_function__(self, func, types, args, kwargs):
        handler = _FUNCTIONS.get(func)
        if handler is None:
            raise Unsupported(f"np.{func.__name__} on a batch")
        return handler(*args, **kwargs)


# --------------------------------------------------------------------------- elementwise
def _elementwise(fn, inputs):
    batches = [x for x in inputs if isinstance(x, Batch)]
    for x in inputs:
        if not (isinstance(x, Batch) or _plain(x)):
            raise Unsupported(f"operand of type {type(x).__name__}")
    B = batches[0].B
    if any(b.B != B for b in batches):
        raise Unsupported("batches of different sizes")
    R = max(np.ndim(x) if not isinstance(x, Batch) else x.ndim for x in inputs)
    slabs = [b for b in batches if b.slab]
    if slabs and len(slabs) == len(batches):
        s0 = slabs[0]
        same = all(s.ax == s0.ax and (s.idx is s0.idx or np.array_equal(s.idx, s0.idx)) for s in slabs)
        if same and -s0.ax <= R:
            core = np.broadcast_shapes(*[np.shape(x) if not isinstance(x, Batch) else x.shape for x in inputs])
            a = R + s0.ax
            if all(s.shape[s.ndim + s.ax] == core[a] for s in slabs):
                base_args, val_args = [], []
                for x in inputs:
                    if isinstance(x, Batch):
                        base_args.append(x.base)
                        val_args.append(_pad(x.vals, R))
                    else:
                        base_args.append(x)
                        y = np.asarray(x)
                        y = y.reshape((1,) * (R - y.ndim) + y.shape)
                        if y.shape[a] == 1:
                            val_args.append(y[None])
                        else:
                            g = np.moveaxis(np.take(y, s0.idx, axis=a), a, 0)
                            val_args.append(np.expand_dims(g, a + 1))
                base = fn(*base_args)
                vals = fn(*val_args)
                want = (B,) + core[:a] + (1,) + core[a + 1:]
                if vals.shape != want:
                    vals = np.broadcast_to(vals, want)
                return Batch(base=np.asarray(base), ax=s0.ax, idx=s0.idx, vals=vals)
    args = [_pad(x.dense(), R) if isinstance(x, Batch) else x for x in inputs]
    for x in inputs:
        if not isinstance(x, Batch) and np.ndim(x) > 0:
            pass  # right-aligned broadcasting against (B, *core) is correct once cores are padded to R
    return Batch(data=fn(*args))


# --------------------------------------------------------------------------- matmul
def _gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """2-D product; a real matrix times a complex one as two real products (half the flops of
    promoting the real one to complex)."""
    if np.iscomplexobj(a) != np.iscomplexobj(b):
        if np.iscomplexobj(a):
            return a.real @ b + 1j * (a.imag @ b)
        return a @ b.real + 1j * (a @ b.imag)
    return a @ b


def _left(a: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``a @ V[b]`` for every b, with a plain 2-D ``a`` and ``V`` of shape (B, k, n): one GEMM."""
    B, k, n = V.shape
    out = _gemm(a, V.transpose(1, 0, 2).reshape(k, B * n))
    return out.reshape(a.shape[0], B, n).transpose(1, 0, 2)


def _right(V: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``V[b] @ b`` for every b, with ``V`` of shape (B, m, k) and a plain 2-D ``b``: one GEMM."""
    B, m, k = V.shape
    return _gemm(V.reshape(B * m, k), b).reshape(B, m, b.shape[1])


def _matmul(a, b):
    if not (isinstance(a, Batch) or _plain(a)) or not (isinstance(b, Batch) or _plain(b)):
        raise Unsupported("matmul operand")
    na = a.ndim if isinstance(a, Batch) else np.ndim(a)
    nb = b.ndim if isinstance(b, Batch) else np.ndim(b)
    if na == 0 or nb == 0 or na > 2 or nb > 2:
        raise Unsupported("matmul beyond 1-D and 2-D operands")
    # structured cases: one slab operand, the other plain
    if isinstance(b, Batch) and b.slab and not isinstance(a, Batch):
        a = np.asarray(a)
        ab = b.ndim + b.ax
        base = a @ b.base
        if nb == 2 and ab == 1:  # columns of b -> columns of the product
            vals = _left(a, b.vals) if na == 2 else _right(b.vals.transpose(0, 2, 1), a[:, None])[..., 0]
            return Batch(base=base, ax=-1, idx=b.idx, vals=vals)
        d = b.delta()  # (B, 1, n) for a row slab of a matrix, (B, 1) for an entry of a vector
        col = a[..., b.idx]  # (m, B) or (B,)
        if nb == 2:  # rank one: a[:, i] (x) delta_row
            if na == 2:
                return Batch(data=base[None] + col.T[:, :, None] * d)
            return Batch(data=base[None] + col[:, None] * d[:, 0, :])
        if na == 2:
            return Batch(data=base[None] + col.T * d)
        return Batch(data=base[None] + col * d[:, 0])
    if isinstance(a, Batch) and a.slab and not isinstance(b, Batch):
        b = np.asarray(b)
        aa = a.ndim + a.ax
        base = a.base @ b
        if na == 2 and aa == 0:  # rows of a -> rows of the product
            vals = _right(a.vals, b) if nb == 2 else _right(a.vals, b[:, None])[..., 0]
            return Batch(base=base, ax=-base.ndim, idx=a.idx, vals=vals)
        d = a.delta()  # (B, m, 1) for a column slab, (B, 1) for an entry of a vector
        row = b[a.idx]  # (B, n) or (B,)
        if na == 2:
            if nb == 2:
                return Batch(data=base[None] + d * row[:, None, :])
            return Batch(data=base[None] + d[:, :, 0] * row[:, None])
        if nb == 2:
            return Batch(data=base[None] + d * row)
        return Batch(data=base[None] + d[:, 0] * row)
    # dense: expand 1-D cores to matrices, multiply, drop the expanded axes
    B = a.B if isinstance(a, Batch) else b.B
    A = a.dense() if isinstance(a, Batch) else np.asarray(a)
    Bm = b.dense() if isinstance(b, Batch) else np.asarray(b)
    if isinstance(a, Batch) and isinstance(b, Batch) and a.B != b.B:
        raise Unsupported("batches of different sizes")
    if na == 1:
        A = A[..., None, :]
    if nb == 1:
        Bm = Bm[..., :, None]
    if A.ndim == 3 and Bm.ndim == 2:
        out = _right(A, Bm)
    elif A.ndim == 2 and Bm.ndim == 3:
        out = _left(A, Bm)
    else:
        out = np.matmul(A, Bm)
    if nb == 1:
        out = out[..., 0]
    if na == 1:
        out = out[..., 0] if nb == 1 else out[..., 0, :]
    if out.ndim == 0 or out.shape[0] != B:
        out = np.broadcast_to(out, (B,) + out.shape)
    return Batch(data=out)


# --------------------------------------------------------------------------- reductions
def _reduce(fn, x, axis=None, keepdims=False, **kw):
    if kw.get("out") is not None or kw.get("where") is not None or kw.get("dtype") is not None:
        raise Unsupported("reduction with out/where/dtype")
    if not isinstance(x, Batch):
        return fn(x, axis=axis, keepdims=keepdims)
    axes = _norm_axes(axis, x.ndim)
    if x.slab:
        a = x.ndim + x.ax
        if a not in axes:
            vals = fn(x.vals, axis=tuple(d + 1 for d in axes), keepdims=keepdims)
            new_a = a - (0 if keepdims else sum(1 for d in axes if d < a))
            base = np.asarray(fn(x.base, axis=axes, keepdims=keepdims))
            return Batch(base=base, ax=new_a - base.ndim, idx=x.idx, vals=vals)
        if fn in (np.sum, np.mean):  # sum over the changed hyperplane: base total + the change
            base = np.asarray(fn(x.base, axis=axes, keepdims=keepdims))
            change = np.sum(x.delta(), axis=tuple(d + 1 for d in axes), keepdims=keepdims)
            if fn is np.mean:
                change = change / int(np.prod([x.shape[d] for d in axes]))
            return Batch(data=base[None] + change)
        x = x.densified()
    return Batch(data=np.asarray(fn(x.data, axis=tuple(d + 1 for d in axes), keepdims=keepdims)))


def _axis_fn(fn):
    """A numpy function of one array and an integer ``axis`` (default given), batched densely."""

    def run(x, axis=-1, *args, **kwargs):
        if not isinstance(x, Batch):
            return fn(x, axis, *args, **kwargs)
        if axis is None:
            raise Unsupported(f"np.{fn.__name__} with axis=None")
        a = _norm_axes(axis, x.ndim)[0] + 1
        out = fn(x.dense(), a, *args, **kwargs)
        return Batch(data=np.asarray(out))

    return run


def _real(x):
    if not isinstance(x, Batch):
        return np.real(x)
    return _elementwise(np.real, [x])


def _imag(x):
    if not isinstance(x, Batch):
        return np.imag(x)
    return _elementwise(np.imag, [x])


def _where(cond, a=None, b=None):
    if a is None or b is None:
        raise Unsupported("np.where with one argument")
    return _elementwise(np.where, [cond, a, b])


def _iscomplexobj(x):
    return np.issubdtype(x.dtype, np.complexfloating) if isinstance(x, Batch) else np.iscomplexobj(x)


def _transpose(x, axes=None):
    return x.transpose(axes) if isinstance(x, Batch) else np.transpose(x, axes)


def _reshape(x, shape=None, *args, **kwargs):
    if args or kwargs:
        raise Unsupported("np.reshape options")
    return x.reshape(shape) if isinstance(x, Batch) else np.reshape(x, shape)


def _join(fn):
    def run(xs, axis=0, **kwargs):
        if kwargs:
            raise Unsupported(f"np.{fn.__name__} options")
        xs = list(xs)
        batches = [x for x in xs if isinstance(x, Batch)]
        B = batches[0].B
        ndim = batches[0].ndim
        if axis is None:
            raise Unsupported("axis=None")
        parts = [x.dense() if isinstance(x, Batch) else np.broadcast_to(np.asarray(x), (B,) + np.shape(x))
                 for x in xs]
        out_nd = ndim + (1 if fn is np.stack else 0)
        return Batch(data=fn(parts, axis=int(axis) % out_nd + 1))

    return run


def _expand_dims(x, axis):
    if not isinstance(x, Batch):
        return np.expand_dims(x, axis)
    a = int(axis) % (x.ndim + 1)
    return Batch(data=np.expand_dims(x.dense(), a + 1))


def _squeeze(x, axis=None):
    if not isinstance(x, Batch):
        return np.squeeze(x, axis)
    d = x.dense()
    axes = tuple(i + 1 for i, s in enumerate(x.shape) if s == 1) if axis is None else \
        tuple(a + 1 for a in _norm_axes(axis, x.ndim))
    return Batch(data=np.squeeze(d, axis=axes))


def _take_along_axis(arr, indices, axis):
    if axis is None:
        raise Unsupported("take_along_axis with axis=None")
    A = arr.dense() if isinstance(arr, Batch) else None
    I = indices.dense() if isinstance(indices, Batch) else None
    B = (arr if A is not None else indices).B
    if A is None:
        A = np.broadcast_to(np.asarray(arr), (B,) + np.shape(arr))
    if I is None:
        I = np.broadcast_to(np.asarray(indices), (B,) + np.shape(indices))
    return Batch(data=np.take_along_axis(A, I, axis=int(axis) % (A.ndim - 1) + 1))


def _shape(x):
    return x.shape if isinstance(x, Batch) else np.shape(x)


def _ndim(x):
    return x.ndim if isinstance(x, Batch) else np.ndim(x)


def _size(x, axis=None):
    if axis is not None:
        raise Unsupported("np.size with axis")
    return x.size if isinstance(x, Batch) else np.size(x)


def _ravel(x, order="C"):
    if order != "C":
        raise Unsupported("ravel order")
    return x.reshape(-1) if isinstance(x, Batch) else np.ravel(x)


def _sum(x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    return _reduce(np.sum, x, axis, keepdims, dtype=dtype, out=out, **kw)


def _mean(x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    return _reduce(np.mean, x, axis, keepdims, dtype=dtype, out=out, **kw)


def _max(x, axis=None, out=None, keepdims=False, **kw):
    return _reduce(np.max, x, axis, keepdims, out=out, **kw)


def _min(x, axis=None, out=None, keepdims=False, **kw):
    return _reduce(np.min, x, axis, keepdims, out=out, **kw)


def _argmax(x, axis=None, **kw):
    if kw or axis is None:
        raise Unsupported("np.argmax without an axis")
    return _axis_fn(np.argmax)(x, axis)


def _sort(x, axis=-1, **kw):
    if kw:
        raise Unsupported("np.sort options")
    return _axis_fn(np.sort)(x, axis)


_FUNCTIONS = {
    np.sum: _sum, np.mean: _mean, np.max: _max, np.amax: _max, np.min: _min, np.amin: _min,
    np.real: _real, np.imag: _imag, np.where: _where, np.iscomplexobj: _iscomplexobj,
    np.transpose: _transpose, np.reshape: _reshape, np.concatenate: _join(np.concatenate),
    np.stack: _join(np.stack), np.expand_dims: _expand_dims, np.squeeze: _squeeze,
    np.take_along_axis: _take_along_axis, np.shape: _shape, np.ndim: _ndim, np.size: _size,
    np.ravel: _ravel, np.argmax: _argmax, np.sort: _sort,
}


# --------------------------------------------------------------------------- building batches
def entry_batch(x0: np.ndarray, ks: np.ndarray, steps: np.ndarray, structured: bool = True) -> Batch:
    """The batch ``x0 + steps[b] e_{ks[b]}`` (flat entry indices ``ks``), as a slab when possible.

    The slab runs along the longest axis of ``x0`` (the smallest hyperplane per perturbation).
    """
    ks = np.asarray(ks)
    B = ks.size
    if not structured or x0.ndim == 0:
        d = np.broadcast_to(x0, (B,) + x0.shape).astype(np.result_type(x0, steps))
        d.reshape(B, -1)[np.arange(B), ks] += steps
        return Batch(data=d)
    a = int(np.argmax(x0.shape))
    coords = np.unravel_index(ks, x0.shape)
    idx = np.ascontiguousarray(coords[a])
    g = np.moveaxis(np.take(x0, idx, axis=a), a, 0)
    vals = np.expand_dims(g, a + 1).astype(np.result_type(x0, steps))
    where = (np.arange(B),) + tuple(np.zeros(B, dtype=int) if d == a else coords[d] for d in range(x0.ndim))
    vals[where] += steps
    # the unperturbed value stays real for a complex step (its imaginary part is 0): real arithmetic
    # on the base is cheaper, and only the slab carries the imaginary parts
    base = x0.real.copy() if np.iscomplexobj(x0) and not np.any(x0.imag) else x0
    return Batch(base=base, ax=a - x0.ndim, idx=idx, vals=vals)


def stacked(out, B: int) -> np.ndarray:
    """The ``(B, *shape)`` array of the outputs of a batched evaluation."""
    if isinstance(out, Batch):
        if out.B != B:
            raise Unsupported("output batch of the wrong size")
        return out.dense()
    out = np.asarray(out)
    return np.broadcast_to(out, (B,) + out.shape)  # the output does not depend on the input


# --------------------------------------------------------------------------- directional batches
class Dual(_ManyValues):
    """B complex-step perturbations ``re + i h t[b]`` of one real value, with ``h`` infinitesimal.

    This is what a dense complex :class:`Batch` of ``x0 + i h v_b`` computes, carried without the
    complex arithmetic: the real part ``re`` (core shape, shared by the whole batch; with
    ``h = 1e-20`` the complex step's real part equals the unperturbed value to rounding) and the
    tangents ``t`` of shape ``(B, *core)`` (the imaginary parts divided by h). Elementwise
    functions apply their derivative, so a batch of B directions costs one real forward pass plus B
    tangent products, not B complex forward passes. Only the operations below are implemented (the
    analytic ones a complex step passes through, plus the real-part branch selection of
    :mod:`gradcheck.ops`); anything else raises :class:`Unsupported`, and the caller validates
    against a central difference and falls back.
    """

    __array_priority__ = 1000
    gradcheck_batch = True

    def __init__(self, re, t):
        self.re = np.asarray(re)
        self.t = t
        self.B = t.shape[0]
        self.shape = tuple(self.re.shape)
        if t.shape[1:] != self.shape:
            t = np.broadcast_to(t, (self.B,) + self.shape)
            self.t = t

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape)))
    dtype = property(lambda self: np.dtype(complex))
    T = property(lambda self: self.transpose())

    def __repr__(self):
        return f"Dual(B={self.B}, shape={self.shape})"

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))) else axes
        r = self.ndim
        perm = tuple(reversed(range(r))) if not axes else tuple(int(a) % r for a in axes)
        return Dual(self.re.transpose(perm), self.t.transpose((0,) + tuple(p + 1 for p in perm)))

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
        re = self.re.reshape(shape)
        return Dual(re, self.t.reshape((self.B,) + re.shape))

    def ravel(self):
        return self.reshape(-1)

    flatten = ravel

    def sum(self, axis=None, keepdims=False):
        return _dual_linear_reduce(np.sum, self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return _dual_linear_reduce(np.mean, self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        raise Unsupported("max of a complex value (ops.max chooses by the real part)")

    min = max

    def astype(self, dtype, copy=True):
        if np.issubdtype(np.dtype(dtype), np.complexfloating):
            return self
        raise Unsupported("cast of a complex-step value to a real type")

    @property
    def real(self):
        return self.re

    def conj(self):
        raise Unsupported("conjugate (not analytic)")

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        if any(isinstance(k, (Dual, Batch)) for k in key):
            raise Unsupported("indexing with a batched index")
        if any(k is Ellipsis for k in key):
            raise Unsupported("indexing with an ellipsis")
        return Dual(self.re[key], self.t[(slice(None),) + key])

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs:
            raise Unsupported(f"{ufunc.__name__}.{method} with keywords")
        if ufunc is np.matmul:
            return _dual_matmul(*inputs)
        rule = _DUAL_UNARY.get(ufunc)
        if rule is not None and len(inputs) == 1:
            x = inputs[0]
            y = ufunc(x.re)
            return Dual(y, _pad(x.t, y.ndim) * rule(x.re, y))
        if ufunc in _DUAL_COMPARE:  # complex comparisons order by the real part first
            return ufunc(*(_parts(x)[0] for x in inputs))
        if ufunc in _DUAL_BINARY:
            return _DUAL_BINARY[ufunc](*inputs)
        raise Unsupported(f"{ufunc.__name__} on a complex-step batch")

    def __array_function__(self, func, types, args, kwargs):
        handler = _DUAL_FUNCTIONS.get(func)
        if handler is None:
            raise Unsupported(f"np.{func.__name__} on a complex-step batch")
        return handler(*args, **kwargs)


def _parts(x):
    """(real part, tangent or None) of an operand."""
    if isinstance(x, Dual):
        return x.re, x.t
    if isinstance(x, Batch) or not _plain(x):
        raise Unsupported(f"operand of type {type(x).__name__}")
    x = np.asarray(x)
    if np.iscomplexobj(x):
        if np.any(x.imag):
            raise Unsupported("a complex constant")
        x = x.real
    return x, None


def _dual_binary(value, da, db):
    """A binary ufunc with partial derivatives ``da(a, b, y)``, ``db(a, b, y)``."""

    def run(a, b):
        ra, ta = _parts(a)
        rb, tb = _parts(b)
        y = value(ra, rb)
        R = np.ndim(y)
        t = 0
        if ta is not None:
            d = da(ra, rb, y)
            t = _pad(ta, R) * d if d is not None else _pad(ta, R)
        if tb is not None:
            d = db(ra, rb, y)
            tt = _pad(tb, R) * d if d is not None else _pad(tb, R)
            t = tt if ta is None else t + tt
        return Dual(y, t)

    return run


def _neg_one(a, b, y):
    return -1.0


_DUAL_BINARY = {
    np.add: _dual_binary(np.add, lambda a, b, y: None, lambda a, b, y: None),
    np.subtract: _dual_binary(np.subtract, lambda a, b, y: None, _neg_one),
    np.multiply: _dual_binary(np.multiply, lambda a, b, y: b, lambda a, b, y: a),
    np.true_divide: _dual_binary(np.true_divide, lambda a, b, y: 1.0 / b, lambda a, b, y: -y / b),
}


def _power(a, b):
    ra, ta = _parts(a)
    rb, tb = _parts(b)
    if tb is not None:
        raise Unsupported("power with a batched exponent")
    y = np.power(ra, rb)
    return Dual(y, _pad(ta, np.ndim(y)) * (rb * np.power(ra, rb - 1)))


_DUAL_BINARY[np.power] = _power
_DUAL_COMPARE = {np.greater, np.greater_equal, np.less, np.less_equal}
_DUAL_BINARY[np.float_power] = _power

_DUAL_UNARY = {
    np.negative: lambda x, y: -1.0,
    np.positive: lambda x, y: 1.0,
    np.tanh: lambda x, y: 1.0 - y * y,
    np.exp: lambda x, y: y,
    np.expm1: lambda x, y: y + 1.0,
    np.log: lambda x, y: 1.0 / x,
    np.log1p: lambda x, y: 1.0 / (1.0 + x),
    np.sqrt: lambda x, y: 0.5 / y,
    np.square: lambda x, y: 2.0 * x,
    np.reciprocal: lambda x, y: -y * y,
    np.sin: lambda x, y: np.cos(x),
    np.cos: lambda x, y: -np.sin(x),
    np.sinh: lambda x, y: np.cosh(x),
    np.cosh: lambda x, y: np.sinh(x),
    np.arctan: lambda x, y: 1.0 / (1.0 + x * x),
}


def _dual_matmul(a, b):
    ra, ta = _parts(a)
    rb, tb = _parts(b)
    na, nb = np.ndim(ra), np.ndim(rb)
    if na == 0 or nb == 0 or na > 2 or nb > 2:
        raise Unsupported("matmul beyond 1-D and 2-D operands")
    y = ra @ rb
    A = ra if na == 2 else ra[None, :]
    Bm = rb if nb == 2 else rb[:, None]
    t = None
    if ta is not None:  # t_a @ rb: one GEMM when the tangents are contiguous
        TA = ta if na == 2 else ta[:, None, :]
        t = _right(TA, Bm) if TA.flags.c_contiguous else np.matmul(TA, Bm)
    if tb is not None:  # ra @ t_b, batched over the directions (contiguous output)
        TB = tb if nb == 2 else tb[:, :, None]
        tt = np.matmul(A, TB)
        t = tt if t is None else t + tt
    if nb == 1:
        t = t[..., 0]
    if na == 1:
        t = t[:, 0] if nb == 1 else t[:, 0, :]
    return Dual(y, t)


def _dual_linear_reduce(fn, x, axis=None, keepdims=False, **kw):
    if kw.get("out") is not None or kw.get("where") is not None or kw.get("dtype") is not None:
        raise Unsupported("reduction with out/where/dtype")
    if not isinstance(x, Dual):
        return fn(x, axis=axis, keepdims=keepdims)
    axes = _norm_axes(axis, x.ndim)
    return Dual(fn(x.re, axis=axes, keepdims=keepdims), fn(x.t, axis=tuple(d + 1 for d in axes), keepdims=keepdims))


def _dual_where(cond, a=None, b=None):
    if a is None or b is None or isinstance(cond, (Dual, Batch)):
        raise Unsupported("np.where with one argument or a batched condition")
    ra, ta = _parts(a)
    rb, tb = _parts(b)
    y = np.where(cond, ra, rb)
    R = y.ndim
    B = (a if isinstance(a, Dual) else b).B
    za = _pad(ta, R) if ta is not None else np.zeros((1,) * (R + 1))
    zb = _pad(tb, R) if tb is not None else np.zeros((1,) * (R + 1))
    return Dual(y, np.broadcast_to(np.where(np.asarray(cond)[None], za, zb), (B,) + y.shape))


def _dual_take_along_axis(arr, indices, axis):
    if not isinstance(arr, Dual) or isinstance(indices, (Dual, Batch)) or axis is None:
        raise Unsupported("take_along_axis of this kind")
    a = int(axis) % arr.ndim
    idx = np.asarray(indices)
    return Dual(np.take_along_axis(arr.re, idx, axis=a),
                np.take_along_axis(arr.t, np.broadcast_to(idx[None], (arr.B,) + idx.shape), axis=a + 1))


def _dual_expand_dims(x, axis):
    a = int(axis) % (x.ndim + 1)
    return Dual(np.expand_dims(x.re, a), np.expand_dims(x.t, a + 1))


def _dual_squeeze(x, axis=None):
    axes = tuple(i for i, s in enumerate(x.shape) if s == 1) if axis is None else _norm_axes(axis, x.ndim)
    return Dual(np.squeeze(x.re, axis=axes), np.squeeze(x.t, axis=tuple(a + 1 for a in axes)))


def _dual_join(fn):
    def run(xs, axis=0, **kwargs):
        if kwargs or axis is None:
            raise Unsupported(f"np.{fn.__name__} options")
        xs = list(xs)
        B = next(x for x in xs if isinstance(x, Dual)).B
        parts = [_parts(x) for x in xs]
        re = fn([p[0] for p in parts], axis=axis)
        nd = re.ndim
        ts = [np.broadcast_to(p[1], (B,) + np.shape(p[0])) if p[1] is not None else np.zeros((B,) + np.shape(p[0]))
              for p in parts]
        return Dual(re, fn(ts, axis=int(axis) % nd + 1))

    return run


def _dual_real(x):
    return x.re if isinstance(x, Dual) else np.real(x)


def _dual_imag(x):
    raise Unsupported("np.imag inside the model")


_DUAL_FUNCTIONS = {
    np.sum: lambda x, axis=None, dtype=None, out=None, keepdims=False, **kw:
        _dual_linear_reduce(np.sum, x, axis, keepdims, dtype=dtype, out=out, **kw),
    np.mean: lambda x, axis=None, dtype=None, out=None, keepdims=False, **kw:
        _dual_linear_reduce(np.mean, x, axis, keepdims, dtype=dtype, out=out, **kw),
    np.real: _dual_real, np.imag: _dual_imag, np.where: _dual_where,
    np.iscomplexobj: lambda x: True if isinstance(x, Dual) else np.iscomplexobj(x),
    np.transpose: lambda x, axes=None: x.transpose(axes) if isinstance(x, Dual) else np.transpose(x, axes),
    np.reshape: lambda x, shape=None: x.reshape(shape) if isinstance(x, Dual) else np.reshape(x, shape),
    np.ravel: lambda x: x.reshape(-1) if isinstance(x, Dual) else np.ravel(x),
    np.concatenate: _dual_join(np.concatenate), np.stack: _dual_join(np.stack),
    np.expand_dims: _dual_expand_dims, np.squeeze: _dual_squeeze,
    np.take_along_axis: _dual_take_along_axis,
    np.shape: lambda x: x.shape, np.ndim: lambda x: x.ndim,
    np.size: lambda x, axis=None: x.size if axis is None else x.shape[axis],
}


def direction_batch(x0: np.ndarray, V: np.ndarray) -> Dual:
    """The B complex-step perturbations ``x0 + i h V[b]`` (``V`` of shape ``(B, *x0.shape)``)."""
    return Dual(np.asarray(x0, dtype=float), np.asarray(V, dtype=float))


def directional_values(out, B: int) -> np.ndarray:
    """The ``(B, *shape)`` directional derivatives from the output of a :class:`Dual` evaluation."""
    if isinstance(out, Dual):
        if out.B != B:
            raise Unsupported("output batch of the wrong size")
        return np.asarray(out.t)
    if isinstance(out, Batch):
        raise Unsupported("a dense batch came out of a directional evaluation")
    out = np.asarray(out)
    return np.zeros((B,) + out.shape)  # the output does not depend on the input
