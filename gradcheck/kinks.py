"""Where the non-differentiable points are.

Piecewise functions in :mod:`gradcheck.ops` (relu, abs, maximum, max) report, on every numpy
call, the signed distance of their argument to the kink. The point sampler runs the forward pass
inside :func:`watch` and redraws a point whose smallest distance is below a margin, and prefers
points where every piecewise function sees both of its branches.

SymPy evaluation needs the numeric value of each symbol to pick a branch; the symbolic oracle
provides them with :func:`sympy_substitution`.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, field

import numpy as np


@dataclass
class KinkLog:
    """What the piecewise functions saw during one forward pass."""

    min_distance: float = float("inf")
    calls: list[str] = field(default_factory=list)
    both_branches: bool = True

    def add(self, op: str, distance: np.ndarray) -> None:
        d = np.asarray(distance, dtype=float).reshape(-1)
        if d.size == 0:
            return
        self.calls.append(op)
        self.min_distance = min(self.min_distance, float(np.min(np.abs(d))))
        if d.size > 1 and not (np.any(d > 0) and np.any(d < 0)):
            self.both_branches = False


_current: contextvars.ContextVar[KinkLog | None] = contextvars.ContextVar("kink_log", default=None)
_sympy_subs: contextvars.ContextVar[dict] = contextvars.ContextVar("sympy_subs", default={})


def record(op: str, distance: np.ndarray) -> None:
    log = _current.get()
    if log is not None:
        log.add(op, distance)


@contextlib.contextmanager
def watch():
    """Collect the kink distances of every piecewise call made inside the block."""
    log = KinkLog()
    token = _current.set(log)
    try:
        yield log
    finally:
        _current.reset(token)


@contextlib.contextmanager
def sympy_substitution(values: dict):
    """Numeric values for SymPy symbols, used to choose the branch of a piecewise function."""
    token = _sympy_subs.set(dict(values))
    try:
        yield
    finally:
        _sympy_subs.reset(token)


def sympy_values() -> dict:
    return _sympy_subs.get()
