"""Points: concrete, seeded float64 values for a model's data and parameters.

Draws stay away from the kinks of piecewise functions (relu, abs, max): the forward pass runs
under :func:`gradcheck.kinks.watch`, and a point whose smallest distance to a kink is below
``margin`` is drawn again. Points where every piecewise function sees both of its branches are
preferred, so a wrong formula cannot hide behind "all ReLUs off". Each redraw is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from gradcheck import dimexpr, kinks
from gradcheck.model import Model, ModelError

KINK_MARGIN = 1e-2  # |pre-activation| below this is too close to a kink for a step of ~1e-5
MAX_DRAWS = 60


@dataclass(frozen=True)
class Point:
    """Values for every input of a model, and how they were drawn."""

    values: Mapping[str, np.ndarray]
    seed: int
    draws: int  # how many candidates were drawn to find this one
    min_kink_distance: float
    notes: tuple[str, ...] = ()


def draw_value(rng: np.random.Generator, shape: tuple[int, ...], kind: str, scale: float = 1.0) -> np.ndarray:
    """One array of the given kind; labels are exact 0/1, probabilities inside (0, 1)."""
    if kind == "real":
        return scale * rng.standard_normal(shape)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "probability":
        return rng.uniform(0.1, 0.9, shape)
    if kind == "binary":
        if not shape:
            return np.array(float(rng.integers(0, 2)))
        flat = rng.integers(0, 2, int(np.prod(shape))).astype(float)
        if flat.size > 1:  # both labels present, so no branch of the loss goes unexercised
            flat[0], flat[1] = 0.0, 1.0
            rng.shuffle(flat)
        return flat.reshape(shape)
    if kind in ("symmetric", "spd"):
        if len(shape) < 2 or shape[-1] != shape[-2]:
            raise ModelError(f"{kind} data needs a square shape, got {shape}")
        a = rng.standard_normal(shape)
        if kind == "symmetric":
            return (a + np.swapaxes(a, -1, -2)) / 2
        n = shape[-1]  # A A^T / n + I: symmetric, eigenvalues >= 1 (well conditioned)
        return a @ np.swapaxes(a, -1, -2) / n + np.eye(n)
    if kind == "one_hot":
        if not shape:
            raise ModelError("a one_hot value needs at least one axis (the classes)")
        rows = int(np.prod(shape[:-1]))
        out = np.zeros((rows, shape[-1]))
        out[np.arange(rows), rng.integers(0, shape[-1], rows)] = 1.0
        return out.reshape(shape)
    raise ModelError(f"unknown data kind {kind!r}")


def _classes(classes, dims) -> int:
    return dimexpr.value(classes, dims) if isinstance(classes, str) else int(classes)


def draw_labels(rng: np.random.Generator, shape: tuple[int, ...], classes: int) -> np.ndarray:
    """Integer class indices in [0, classes), stored as float64 (integral) like every other value.
    With at least two entries and two classes, at least two different classes appear."""
    flat = rng.integers(0, classes, int(np.prod(shape))).astype(float)
    if flat.size > 1 and classes > 1 and np.all(flat == flat[0]):
        flat[int(rng.integers(0, flat.size))] = (flat[0] + 1) % classes
    return flat.reshape(shape)


def _candidate(model: Model, rng: np.random.Generator, dims: Mapping[str, int]) -> dict[str, np.ndarray]:
    values = {}
    for name, spec in model.data.items():
        shape = model.shape_of(name, dims)
        if spec.value is not None:
            v = np.asarray(spec.value, dtype=float)
            if v.shape != shape:
                raise ModelError(f"{model.name}: literal value of {name!r} has shape {v.shape}, declared {shape}")
            values[name] = v
        elif spec.kind == "labels":
            values[name] = draw_labels(rng, shape, _classes(spec.classes, dims))
        else:
            values[name] = draw_value(rng, shape, spec.kind)
    for name in model.params:
        values[name] = draw_value(rng, model.shape_of(name, dims), "real", model.param_scale)
    return values


def draw_points(model: Model, n: int = 3, *, seed: int = 0, dims: Mapping[str, int] | None = None,
                margin: float = KINK_MARGIN, max_draws: int = MAX_DRAWS) -> list[Point]:
    """``n`` independent points, each away from kinks and with finite forward values."""
    dims = {**model.dims, **(dims or {})}
    rng = np.random.default_rng(seed)
    points: list[Point] = []
    for _ in range(n):
        fallback, last_bad = None, ""
        for draw in range(1, max_draws + 1):
            values = _candidate(model, rng, dims)
            with kinks.watch() as log, np.errstate(all="ignore"):
                out = model.forward(values, dims)
            finite = all(np.all(np.isfinite(np.asarray(v, dtype=float)))
                         for k, v in out.items() if k not in dims and k not in model.constants)
            if not finite:
                last_bad = first_nonfinite(model, values, out, dims)
                continue
            if log.min_distance < margin:
                continue
            if log.both_branches:
                notes = () if draw == 1 else (f"drawn {draw} times to stay {margin:g} away from kinks "
                                               "and see both branches of every piecewise function",)
                points.append(Point(values, seed, draw, log.min_distance, notes))
                break
            fallback = fallback or Point(values, seed, draw, log.min_distance,
                                         ("some piecewise function saw only one branch at this point",))
        else:
            if fallback is None:
                raise ModelError(f"{model.name}: no point with finite values at least {margin:g} away from "
                                 f"every kink in {max_draws} draws" + (f"; {last_bad}" if last_bad else ""))
            points.append(fallback)
    return points


def first_nonfinite(model: Model, values: Mapping[str, np.ndarray], out: Mapping, dims: Mapping[str, int]) -> str:
    """Which input or step is the first to hold NaN or inf at a drawn point (to name it in a message)."""
    for name in list(values) + [s.name for s in model.step_list]:
        v = out.get(name, values.get(name))
        try:
            finite = bool(np.all(np.isfinite(np.asarray(v, dtype=complex))))
        except (TypeError, ValueError):
            continue
        if not finite:
            kind = "step" if name not in values else "input"
            return (f"{kind} {name!r} is the first that is not finite (NaN or inf), e.g. a log of a negative "
                    "value, a division by zero or an exp that overflows")
    return ""
