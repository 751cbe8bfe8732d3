"""In-place writes as functional updates, the same on every backend.

``a[idx] = v`` and ``a[idx] += v`` in pasted numpy code become ``set_at(a, idx, v)`` (with
``v = a[idx] + v`` for ``+=``), and ``np.add.at(a, idx, v)`` becomes ``add_at(a, idx, v)``. Each returns
a NEW array and never changes ``a``:

* numpy (float, complex, SymPy object arrays): a copy, promoted to the type of ``v`` (a complex step
  or a SymPy expression written into a float array is kept, never truncated), then numpy's own
  ``out[idx] = v`` / ``np.add.at``;
* JAX: ``.at[idx]``. With repeated integer indices numpy's assignment keeps the LAST write
  (``a[[0, 0]] += 1`` adds 1 once) while ``np.add.at`` accumulates (adds 2). JAX's ``.at[].set``
  leaves the winner of repeated indices unspecified, so :func:`set_at` computes which update is the
  last one for each entry (a stable sort of the flat indices, which works on traced indices) and
  drops the earlier writes: exactly numpy's result.
"""

from __future__ import annotations

import numpy as np

from gradcheck import ops
from gradcheck.ops import _backend, _jnp


def _parts(idx) -> tuple:
    return idx if isinstance(idx, tuple) else (idx,)


def _advanced(idx) -> bool:
    """Does the index contain an integer or boolean array (where repeated entries can occur)?"""
    return any(isinstance(p, list) or getattr(p, "ndim", 0) > 0 for p in _parts(idx))


def _numpy_copy(a, v):
    a_arr = a if isinstance(a, np.ndarray) else np.asarray(a)
    v_arr = np.asarray(v) if not isinstance(v, np.ndarray) else v
    if a_arr.dtype == object or v_arr.dtype == object:
        dtype = object
    else:
        dtype = np.result_type(a_arr.dtype, v_arr.dtype, np.float64)
    return np.array(a_arr, dtype=dtype, copy=True, subok=True)


def _jax_last_wins(a, idx, v):
    jnp = _jnp()
    lin = jnp.arange(a.size).reshape(a.shape)[idx]
    vals = jnp.broadcast_to(jnp.asarray(v, dtype=a.dtype), lin.shape).reshape(-1)
    lin = lin.reshape(-1)
    order = jnp.argsort(lin, stable=True)
    ordered = lin[order]
    last_sorted = jnp.concatenate([ordered[1:] != ordered[:-1], jnp.array([True])])
    is_last = jnp.zeros(lin.shape, bool).at[order].set(last_sorted)
    target = jnp.where(is_last, lin, a.size)  # every earlier write goes out of bounds and is dropped
    return a.reshape(-1).at[target].set(vals, mode="drop").reshape(a.shape)


def _on_jax(a, idx, v=None) -> bool:
    return _backend(a, v, *[p for p in _parts(idx) if hasattr(p, "dtype")]) == "jax"


def get_at(a, idx):
    """``a[idx]``, on JAX when the index is traced (a numpy array cannot be indexed by a tracer)."""
    if _on_jax(a, idx) and _backend(a) != "jax":
        return _jnp().asarray(a)[idx]
    return a[idx]


def set_at(a, idx, v):
    """``a`` with ``a[idx] = v`` (numpy's semantics, last write wins), as a new array."""
    if _on_jax(a, idx, v):
        jnp = _jnp()
        a = jnp.asarray(a, dtype=jnp.result_type(a, v))
        if not _advanced(idx):
            return a.at[idx].set(v)
        return _jax_last_wins(a, idx, v)
    out = _numpy_copy(a, v)
    out[idx] = v
    return out


def add_at(a, idx, v):
    """``np.add.at(a, idx, v)`` as a new array: every repeated index accumulates."""
    if _on_jax(a, idx, v):
        jnp = _jnp()
        return jnp.asarray(a, dtype=jnp.result_type(a, v)).at[idx].add(v)
    out = _numpy_copy(a, v)
    np.add.at(out, idx, v)
    return out


def where_mask(mask, new, old):
    """``old[mask] = new`` for a boolean mask over the leading axes and a ``new`` that broadcasts to
    ``old`` (a scalar, or an array of old's shape): ``where(mask, new, old)`` on every backend."""
    m = mask
    while np.ndim(m) < np.ndim(old):
        m = m[..., None]
    return ops.where(m, new, old)
