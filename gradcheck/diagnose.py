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
from typing import Mapping

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


def squeeze_align(claimed: np.ndarray, truth: np.ndarray) -> np.ndarray | None:
    """``claimed`` reshaped to ``truth``'s shape when the two differ only by singleton axes."""
    if claimed.shape == truth.shape:
        return claimed
    if tuple(s for s in claimed.shape if s != 1) == tuple(s for s in truth.shape if s != 1):
        return claimed.reshape(truth.shape)
    return None


def name_factor(k: float, dims: Mapping[str, int]) -> str | None:
    """A readable name for a scale factor: -1, 2, 1/2, m, 1/m, 2/m, ... or None."""
    candidates: list[tuple[str, float]] = [("-1", -1.0), ("2", 2.0), ("1/2", 0.5), ("-2", -2.0), ("-1/2", -0.5),
                                           ("4", 4.0), ("1/4", 0.25)]
    for name, v in dims.items():
        if v in (0, 1, 2):  # 2/m = 1 for m = 2 and the like: ambiguous, and already listed as 2 and 1/2
            continue
        candidates += [(name, v), (f"1/{name}", 1 / v), (f"-1/{name}", -1 / v), (f"-{name}", -v),
                       (f"2/{name}", 2 / v), (f"1/(2{name})", 1 / (2 * v)), (f"2{name}", 2 * v)]
    names = list(dict.fromkeys(n for n, v in candidates if abs(k - v) <= 1e-6 * abs(v)))
    if not names:
        return None
    primary = names[0]
    if any(c.isalpha() for c in primary):
        primary = f"{primary} = {Fraction(k).limit_denominator(10**4)}"
    return primary if len(names) == 1 else f"{primary} (also {' = '.join(names[1:])})"


def batch_dims(dims: Mapping[str, int], batch_names: tuple[str, ...]) -> dict[str, int]:
    return {n: dims[n] for n in batch_names if n in dims}


def diagnose(claimed: np.ndarray, truth: np.ndarray, dims: Mapping[str, int],
             batch_names: tuple[str, ...] = ()) -> Diagnosis:
    """The simplest relation between the claimed and the true value, or "no simple relation"."""
    c = np.asarray(claimed, dtype=float)
    t = np.asarray(truth, dtype=float)
    aligned = squeeze_align(c, t)
    if aligned is not None:
        c = aligned
        if _close(-c, t):
            return Diagnosis("sign flip", "the claim is the negative of the true value", "negate it", -1.0)
        if c.ndim == 2 and c.shape[0] == c.shape[1] and c.shape[0] > 1 and _close(c.T, t):
            return Diagnosis("transpose", "the claim is the transpose of the true value", "transpose it")
        tt = float(np.sum(t * t))
        if tt > 0:
            k = float(np.sum(c * t)) / tt
            # one number is always some multiple of another: for a scalar only a named factor counts
            if k != 0 and abs(k - 1) > 1e-6 and _close(c / k, t) and (c.size > 1 or name_factor(k, dims)):
                return _factor_diagnosis(k, dims, batch_names)
    if c.ndim == 2 and t.ndim == 2 and c.T.shape == t.shape and c.shape != t.shape:
        if _close(c.T, t):
            return Diagnosis("transpose", f"the claim has shape {c.shape}; its transpose is the true value",
                             "transpose it")
        if _close(-c.T, t):
            return Diagnosis("transpose", "the claim is the negative transpose of the true value",
                             "transpose and negate it", -1.0)
    if c.ndim >= 3 and c.ndim == t.ndim and sorted(c.shape) == sorted(t.shape) and c.ndim <= 5:
        for perm in permutations(range(c.ndim)):
            if perm != tuple(range(c.ndim)) and c.transpose(perm).shape == t.shape:
                for sign, word in ((1, ""), (-1, " and negate")):
                    if _close(sign * c.transpose(perm), t):
                        return Diagnosis("transpose", f"the claim's axes are permuted: axes {perm} of it give the "
                                         "true value", f"permute its axes to {perm}{word}", float(sign))
    for axis in range(c.ndim):
        summed = squeeze_align(c.sum(axis=axis), t)
        if summed is not None and c.shape[axis] > 1 and _close(summed, t):
            return Diagnosis("missing batch sum",
                             f"the claim keeps axis {axis} (length {c.shape[axis]}); its sum over that axis "
                             "is the true value", f"sum over axis {axis}")
    if aligned is None:
        return Diagnosis("shape", f"the claim has shape {c.shape}, the true value {t.shape}")
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


def _factor_diagnosis(k: float, dims: Mapping[str, int], batch_names: tuple[str, ...]) -> Diagnosis:
    named = name_factor(k, dims)
    fix_k = name_factor(1 / k, dims)
    fix = f"multiply by {fix_k.split(' (also')[0]}" if fix_k else f"multiply by {1 / k:.6g}"
    for b, v in batch_dims(dims, batch_names).items():
        if v > 1 and abs(k * v - 1) < 1e-6:
            return Diagnosis("mean vs sum", f"the claim is the true value times 1/{b} ({b}={v}): it averages over "
                             "the batch where the objective sums", fix, k)
        if v > 1 and abs(k - v) < 1e-6:
            return Diagnosis("mean vs sum", f"the claim is the true value times {b} ({b}={v}): it sums over the "
                             "batch where the objective averages", fix, k)
    text = f"the claim is the true value times {named}" if named else f"the claim is the true value times {k:.6g}"
    return Diagnosis("scale factor", text, fix, k)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    den = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / den if den > 0 else 0.0
