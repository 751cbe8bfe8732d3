"""What all oracles share: the measurement types, the layout of a claim's value, shape tracing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from gradcheck.claim import Claim, resolve_args
from gradcheck.model import Model, ModelError


@dataclass(frozen=True)
class PointMeasurement:
    """One oracle at one point: the claim's value and the true one, in the claim's layout.

    ``truth_error`` estimates the absolute error of ``truth`` (0 for exact methods).
    In probe mode ``claimed`` and ``truth`` are directional derivatives ``<value, v_k>``.
    """

    claimed: np.ndarray
    truth: np.ndarray
    truth_error: float = 0.0
    smooth: bool = True
    offdiagonal: float = 0.0  # elementwise claims: largest off-diagonal Jacobian entry
    decided: str = ""  # symbolic: "proved", "numeric (50 digits)" or "disproved"
    localised: tuple = ()  # probe mode: flat indices of the entries that differ
    miss_probability: float | None = None  # probe mode: chance a single wrong entry is missed


@dataclass(frozen=True)
class Measurement:
    oracle: str
    method: str
    dims: Mapping[str, int]
    points: tuple[PointMeasurement, ...] = ()
    error: str | None = None  # the oracle could not run: why
    notes: tuple[str, ...] = ()
    seconds: float = 0.0


class ShapeClash(ModelError):
    """A formula whose array shapes do not fit: the operation and both shapes."""

    def __init__(self, op: str, shapes: list, detail: str = ""):
        self.op, self.shapes, self.detail = op, [tuple(s) for s in shapes], detail
        shown = " and ".join(str(tuple(s)) for s in self.shapes)
        super().__init__(f"`{op}` cannot combine shapes {shown}")


_OPS = {"matmul": "@", "multiply": "*", "add": "+", "subtract": "-", "divide": "/", "true_divide": "/",
        "power": "**"}


class Traced(np.ndarray):
    """An ndarray that turns numpy's shape errors into :class:`ShapeClash` naming the operation."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raw = [np.asarray(x) if isinstance(x, Traced) else x for x in inputs]
        try:
            out = getattr(ufunc, method)(*raw, **kwargs)
        except ValueError as exc:
            raise ShapeClash(_OPS.get(ufunc.__name__, ufunc.__name__), [np.shape(x) for x in raw], str(exc)) from None
        return _wrap(out)

    def __array_function__(self, func, types, args, kwargs):
        def unwrap(a):
            if isinstance(a, Traced):
                return np.asarray(a)
            if isinstance(a, (list, tuple)):
                return type(a)(unwrap(x) for x in a)
            return a

        try:
            out = func(*unwrap(args), **unwrap(kwargs))
        except ValueError as exc:
            shapes = [np.shape(a) for a in args if isinstance(a, np.ndarray)]
            raise ShapeClash(func.__name__, shapes, str(exc)) from None
        return _wrap(out)


def _wrap(out):
    if isinstance(out, np.ndarray) and not isinstance(out, Traced):
        return out.view(Traced)
    if isinstance(out, tuple):
        return tuple(_wrap(o) for o in out)
    return out


def traced(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (np.asarray(v).view(Traced) if isinstance(v, np.ndarray) else v) for k, v in values.items()}


def expected_shape(claim: Claim, of_shape: tuple, wrt_shape: tuple) -> tuple:
    """The shape a correct value of this claim has (its kind and its declared layout)."""
    if claim.kind == "value":
        return tuple(of_shape)
    if claim.kind in ("gradient", "recursion", "update", "elementwise"):
        base = tuple(wrt_shape)
    elif claim.layout == "denominator":
        return tuple(wrt_shape) + tuple(of_shape)
    else:
        base = tuple(of_shape) + tuple(wrt_shape)
    return declared_shape(claim.layout, base)


def declared_shape(layout: str, shape: tuple) -> tuple:
    """The shape under a declared document convention (see ``gradcheck.claim.LAYOUTS``)."""
    n = int(np.prod(shape)) if shape else 1
    if layout == "squeezed":
        return tuple(s for s in shape if s != 1)
    return {"row": (1, n), "column": (n, 1), "flat": (n,)}.get(layout, tuple(shape))


def in_declared_layout(claim: Claim, truth):
    """The true value in the layout the claim declares (the claim's own value is never reshaped)."""
    shape = declared_shape(claim.layout, tuple(np.shape(truth)))
    return truth if shape == tuple(np.shape(truth)) else truth.reshape(shape)


def check_target(claim: Claim, of_shape: tuple, wrt_shape: tuple) -> None:
    """Refuse claims whose kind does not fit the quantities (clear message, no deep traceback)."""
    if claim.kind in ("gradient", "recursion", "update") and tuple(of_shape) != ():
        raise ModelError(f"claim {claim.name!r}: a {claim.kind} claim needs a scalar `of`, but "
                         f"{claim.of!r} has shape {tuple(of_shape)}; use kind='jacobian'")
    if claim.kind == "elementwise" and int(np.prod(of_shape)) != int(np.prod(wrt_shape)):
        raise ModelError(f"claim {claim.name!r}: an elementwise derivative needs `of` and `wrt` of the same "
                         f"size, got {tuple(of_shape)} and {tuple(wrt_shape)}")


def truth_from_jacobian(claim: Claim, jac, of_shape: tuple, wrt_shape: tuple, wrt_value=None, lr=None,
                        of_value=None):
    """The true value in the claim's layout from the numerator-layout Jacobian ``of + wrt``
    (for a ``value`` claim: ``of_value`` itself, the Jacobian unused).

    Works for numpy, JAX and object arrays. Returns (truth, largest off-diagonal magnitude or 0).
    """
    truth, off = _truth_in_kind(claim, jac, of_shape, wrt_shape, wrt_value, lr, of_value)
    return in_declared_layout(claim, truth), off


def _truth_in_kind(claim: Claim, jac, of_shape: tuple, wrt_shape: tuple, wrt_value=None, lr=None, of_value=None):
    n_of, n_wrt = int(np.prod(of_shape)), int(np.prod(wrt_shape))
    if claim.kind == "value":
        if of_value is None:
            raise ValueError(f"claim {claim.name!r}: a value claim needs the value of {claim.of!r}")
        return of_value, 0.0
    if claim.kind in ("gradient", "recursion"):
        return jac.reshape(wrt_shape), 0.0
    if claim.kind == "update":
        return wrt_value - lr * jac.reshape(wrt_shape), 0.0
    if claim.kind == "elementwise":
        square = jac.reshape(n_of, n_wrt)
        d = np.arange(n_wrt)
        diag = square[d, d]
        off = 0.0
        if square.dtype != object:
            mask = ~np.eye(n_wrt, dtype=bool)
            off = float(np.max(np.abs(np.asarray(square)[mask]))) if n_wrt > 1 else 0.0
        return diag.reshape(wrt_shape), off
    if claim.layout == "denominator":
        k = len(of_shape)
        axes = tuple(range(k, k + len(wrt_shape))) + tuple(range(k))
        return jac.transpose(axes) if hasattr(jac, "transpose") else np.transpose(jac, axes), 0.0
    return jac, 0.0


def evaluate_formula(claim: Claim, model: Model, values: Mapping[str, Any], derivatives: Mapping[str, Any]):
    """The claim's formula at these values (true derivative values for the names in ``uses``)."""
    return claim.formula(*resolve_args(claim, model, values, derivatives))


def to_float(x) -> np.ndarray:
    return np.asarray(x, dtype=float)
