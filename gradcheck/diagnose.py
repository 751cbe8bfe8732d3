"""What is wrong with an incorrect value: compare the claimed array with the true one.

Tried in order, each with numbers: sign flip; transpose; scalar factor (least-squares
``k = <c, t> / <t, t>``, named when it is -1, 2, 1/2, a dim or its inverse, ...); transpose
combined with a sign or factor; a missing sum over a batch axis; otherwise "no simple relation".
A factor equal to a batch size (or its inverse) is reported as "mean vs sum".
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import permutations
from typing import Mapping, Sequence

import numpy as np

MATCH_RTOL = 1e-6  # a relation holds when it reproduces the truth to this relative accuracy


@dataclass(frozen=True)
class Diagnosis:
    kind: str  # sign flip | transpose | scale factor | mean vs sum | missing batch sum | no simple relation | ...
    text: str
    fix: str | None = None  # how to change the claimed value, in words
    factor: float | None = None


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    scale = max(float(np.max(np.abs(b))) if b.size else 0.0, 1e-300)
    return float(np.max(np.abs(a - b))) <= MATCH_RTOL * scale


def factor_names(k: float, dims: Mapping[str, int]) -> list[str]:
    """Every readable name of a scale factor: -1, 2, 1/2, m, 1/m, 2/m, ... (empty when none fits)."""
    candidates: list[tuple[str, float]] = [("-1", -1.0), ("2", 2.0), ("1/2", 0.5), ("-2", -2.0), ("-1/2", -0.5),
                                           ("4", 4.0), ("1/4", 0.25)]
    for name, v in dims.items():
        if v in (0, 1, 2):  # 2/m = 1 for m = 2 and the like: ambiguous, and already listed as 2 and 1/2
            continue
        candidates += [(name, v), (f"1/{name}", 1 / v), (f"-1/{name}", -1 / v), (f"-{name}", -v),
                       (f"2/{name}", 2 / v), (f"1/(2{name})", 1 / (2 * v)), (f"2{name}", 2 * v)]
    return list(dict.fromkeys(n for n, v in candidates if abs(k - v) <= 1e-6 * abs(v)))


def _names_dims(name: str) -> bool:
    return any(c.isalpha() for c in name)


def show_factor(names: list[str], k: float) -> str:
    """``m = 4``, ``2``, ``1/m = 1/4 (also ...)``: the first name, its value, the other names."""
    primary = names[0]
    if _names_dims(primary):
        primary = f"{primary} = {Fraction(k).limit_denominator(10**4)}"
    return primary if len(names) == 1 else f"{primary} (also {' = '.join(names[1:])})"


def name_factor(k: float, dims: Mapping[str, int]) -> str | None:
    """A readable name for a scale factor at one size, or None."""
    names = factor_names(k, dims)
    return show_factor(names, k) if names else None


def batch_dims(dims: Mapping[str, int], batch_names: tuple[str, ...]) -> dict[str, int]:
    return {n: dims[n] for n in batch_names if n in dims}


def _shapes_text(c_shape: tuple, t_shape: tuple, truth_name: str) -> str:
    return f"right values, shape {tuple(c_shape)} where {truth_name} has shape {tuple(t_shape)}"


def diagnose(claimed: np.ndarray, truth: np.ndarray, dims: Mapping[str, int],
             batch_names: tuple[str, ...] = (), truth_name: str = "the true value") -> Diagnosis:
    """The simplest relation between the claimed and the true value, or "no simple relation".

    Shapes are strict: (n, 1), (1, n) and (n,) are different shapes. Right values in a transposed
    shape are a ``transpose``; right values in another shape of the same size are a ``reshape``.
    """
    c = np.asarray(claimed, dtype=float)
    t = np.asarray(truth, dtype=float)
    if c.shape == t.shape:
        if _close(-c, t):
            return Diagnosis("sign flip", "the claim is the negative of the true value", "negate it", -1.0)
        if c.ndim == 2 and c.shape[0] == c.shape[1] and c.shape[0] > 1 and _close(c.T, t):
            return Diagnosis("transpose", "the claim is the transpose of the true value", "transpose it")
        tt = float(np.sum(t * t))
        if tt > 0:
            k = float(np.sum(c * t)) / tt
            # one number is always some multiple of another: for a scalar only a named factor counts
            if k != 0 and abs(k - 1) > 1e-6 and _close(c / k, t) and (c.size > 1 or name_factor(k, dims)):
                return factor_diagnosis([k], [dims], batch_names)
    if c.ndim == 2 and t.ndim == 2 and c.T.shape == t.shape and c.shape != t.shape:
        if _close(c.T, t):
            return Diagnosis("transpose", f"{_shapes_text(c.shape, t.shape, truth_name)}: transpose it",
                             "transpose it")
        if _close(-c.T, t):
            return Diagnosis("transpose", f"the claim is the negative transpose of the true value (shape "
                             f"{c.shape} where {truth_name} has shape {t.shape})", "transpose and negate it", -1.0)
    if c.ndim >= 3 and c.ndim == t.ndim and sorted(c.shape) == sorted(t.shape) and c.ndim <= 5:
        for perm in permutations(range(c.ndim)):
            if perm != tuple(range(c.ndim)) and c.transpose(perm).shape == t.shape:
                for sign, word in ((1, ""), (-1, " and negate")):
                    if _close(sign * c.transpose(perm), t):
                        return Diagnosis("transpose", f"the claim's axes are permuted: axes {perm} of it give the "
                                         "true value", f"permute its axes to {perm}{word}", float(sign))
    for axis in range(c.ndim):
        if c.shape[axis] <= 1:
            continue
        for keep in (False, True):
            summed = c.sum(axis=axis, keepdims=keep)
            if _close(summed, t):
                how = f"sum over axis {axis}" + (" with keepdims=True" if keep else "")
                return Diagnosis("missing batch sum",
                                 f"the claim keeps axis {axis} (length {c.shape[axis]}), shape {c.shape}; its "
                                 f"{how} is {truth_name}, shape {t.shape}", how)
    if c.shape != t.shape and c.size == t.size and c.size > 0 and _close(c.reshape(t.shape), t):
        return Diagnosis("reshape", f"{_shapes_text(c.shape, t.shape, truth_name)}: reshape it to {t.shape}",
                         f"reshape it to {t.shape}")
    if c.shape != t.shape:
        return Diagnosis("shape", f"the claim has shape {c.shape}, {truth_name} has shape {t.shape}")
    return Diagnosis("no simple relation", "no sign, transpose, scale or batch-sum relation: " + difference_text(c, t))


def difference_text(claimed: np.ndarray, truth: np.ndarray) -> str:
    """Which entries differ (1-based, as documents count), the largest relative error and, for arrays, the
    correlation: what is known when no simple relation holds."""
    c, t = np.asarray(claimed, dtype=float), np.asarray(truth, dtype=float)
    scale = max(float(np.max(np.abs(t))) if t.size else 0.0, 1e-300)
    rel = float(np.max(np.abs(c - t))) / scale if t.size else 0.0
    if t.size == 1:
        return (f"the claimed value {float(c.reshape(-1)[0]):.4g} is not the true value {float(t.reshape(-1)[0]):.4g} "
                f"(relative error {rel:.3g})")
    wrong = np.squeeze(np.abs(c - t) > MATCH_RTOL * scale)  # positions without singleton axes
    k, n = int(wrong.sum()), int(wrong.size)
    if k == n:
        where = f"all {n} entries differ"
    else:
        where = f"{k} of {n} entries differ ({_positions(wrong)}), the other {n - k} are right"
    return f"{where}; largest relative error {rel:.3g}, correlation with the true value {_correlation(c, t):.3f}"


def _positions(wrong: np.ndarray) -> str:
    """``row 2``, ``rows 2, 3 x columns 1, 4``, or up to 6 entries ``(1, 2), (3, 1)``, 1-based."""
    idx = np.argwhere(wrong)
    if wrong.ndim == 1:
        return "entr" + ("y " if len(idx) == 1 else "ies ") + ", ".join(str(int(i[0]) + 1) for i in idx[:8]) \
            + (", ..." if len(idx) > 8 else "")
    if len(idx) == 1:
        return "entry (" + ", ".join(str(int(x) + 1) for x in idx[0]) + ")"
    if wrong.ndim == 2:
        rows = sorted({int(i[0]) for i in idx})
        cols = sorted({int(i[1]) for i in idx})
        if len(idx) == len(rows) * len(cols):
            r = ("row " if len(rows) == 1 else "rows ") + ", ".join(str(i + 1) for i in rows)
            if len(cols) == wrong.shape[1]:
                return r + " (every column)"
            return r + (" x column " if len(cols) == 1 else " x columns ") + ", ".join(str(j + 1) for j in cols)
    shown = ", ".join("(" + ", ".join(str(int(x) + 1) for x in i) + ")" for i in idx[:6])
    return "entries " + shown + (", ..." if len(idx) > 6 else "")


FACTOR_KINDS = ("scale factor", "mean vs sum")


def factor_diagnosis(ks: Sequence[float], dims_list: Sequence[Mapping[str, int]], batch_names: tuple[str, ...],
                     *, name_dims: bool = True) -> Diagnosis:
    """The claim is ``k`` times the truth, with ``ks[i]`` measured at ``dims_list[i]``.

    A name is given only when it fits at every size (``1/m`` must be ``1/m`` at both sizes, not
    ``1/m`` at one and ``1/2`` at the other); ``name_dims=False`` (no second size was available)
    names no dim at all, since a dim's value may equal the factor by chance.
    """
    k = ks[0]
    same_number = all(abs(x - k) <= 1e-6 * abs(k) for x in ks)
    if name_dims:
        for b in batch_names:
            vals = [d.get(b) for d in dims_list]
            if any(v is None or v <= 1 for v in vals):
                continue
            if all(abs(x * v - 1) < 1e-6 for x, v in zip(ks, vals)):
                return Diagnosis("mean vs sum", f"the claim is the true value divided by {b} ({b}={vals[0]}): it "
                                 f"divides by the batch size once too often (it averages where the objective "
                                 f"sums, or averages twice)", f"multiply by {b}", k)
            if all(abs(x - v) < 1e-6 for x, v in zip(ks, vals)):
                return Diagnosis("mean vs sum", f"the claim is {b} ({b}={vals[0]}) times the true value: it lacks "
                                 f"a division by the batch size (it sums where the objective averages, or drops "
                                 f"a 1/{b})", f"multiply by 1/{b}", k)
    names = _common_names(ks, dims_list, name_dims)
    inverse = _common_names([1 / x for x in ks], dims_list, name_dims)
    if not names and not same_number:
        shown = ", ".join(f"{x:.4g}" for x in dict.fromkeys(round(x, 12) for x in ks))
        return Diagnosis("no simple relation", f"the claim is a multiple of the true value, but the factor "
                         f"changes with the size ({shown}) and is no dim or number that fits at every size")
    fix = f"multiply by {inverse[0]}" if inverse else f"multiply by {number_text(1 / k)}"
    text = (f"the claim is the true value times {show_factor(names, k)}" if names
            else f"the claim is the true value times {number_text(k)}")
    return Diagnosis("scale factor", text, fix, k)


def number_text(x: float) -> str:
    """``6``, ``1/6``, ``-3/2`` for simple fractions (denominator up to 100), else 6 significant digits."""
    fr = Fraction(x).limit_denominator(100)
    return str(fr) if abs(float(fr) - x) <= 1e-9 * abs(x) else f"{x:.6g}"


def _common_names(ks: Sequence[float], dims_list: Sequence[Mapping[str, int]], name_dims: bool) -> list[str]:
    per_size = [factor_names(x, d) for x, d in zip(ks, dims_list)]
    common = [n for n in per_size[0] if all(n in other for other in per_size[1:])]
    return [n for n in common if name_dims or not _names_dims(n)]


def diagnose_all(cases: Sequence[tuple[np.ndarray, np.ndarray, Mapping[str, int]]], batch_names: tuple[str, ...],
                 *, name_dims: bool = True, truth_name: str = "the true value") -> Diagnosis:
    """The relation that holds at *every* case (points, at one or two sizes), or "no simple relation".

    A factor must be the same number, or the same dim expression, at every case.
    """
    found = [diagnose(c, t, d, batch_names, truth_name) for c, t, d in cases]
    kinds = list(dict.fromkeys(d.kind for d in found))
    if all(k in FACTOR_KINDS for k in kinds):
        return factor_diagnosis([d.factor for d in found], [d for _, _, d in cases], batch_names,
                                name_dims=name_dims)
    first = found[0]
    if len(kinds) == 1 and all(d.fix == first.fix and d.factor == first.factor for d in found):
        return first
    shown = ", ".join(dict.fromkeys(d.text for d in found))
    return Diagnosis("no simple relation", f"no relation holds at every point and size (per case: {shown})")


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    den = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / den if den > 0 else 0.0
