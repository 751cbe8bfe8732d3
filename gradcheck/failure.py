"""The text of a failed check, as a person reads it in a test run: short, most important first.

    dW: d loss / d W is INCORRECT
      why: mean vs sum: the claim is the true value times m (m=6): it sums over the batch ...
      fix: multiply by 1/m = 1/6
      repair: correct if you divide the whole formula by `m`: `X.T @ (P - Y) / m`
      formula: X.T @ (P - Y)
      worst entries (claimed vs true; 12 of 12 entries differ):
        [1, 0]    claimed  0.5321     true  0.08868
      claimed: [[...]]
      true:    [[...]]
      oracles:
        finite_difference fail (complex step: max abs err 2.07, max rel err 5, tol 1e-08)

Used by ``assert_gradient``, ``assert_function`` and the pytest plugin. No gradcheck source, no
``Model(...)`` repr: the verdict, the reason, then the fix and the repair, then the numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np


SHOW_ARRAYS_UP_TO = 36  # entries: a 6x6 matrix still reads at a glance
WORST = 5
DEFAULT_RTOL = 1e-6  # an entry "differs" above this relative gap when no oracle's tolerance is known


def _threshold(r) -> float:
    tols = [v.tolerance for v in r.oracles.values()
            if v.tolerance is not None and v.status in ("pass", "fail") and v.oracle != "symbolic"]
    return max(tols) if tols else DEFAULT_RTOL


def worst_entries(claimed: np.ndarray, truth: np.ndarray, rtol: float = DEFAULT_RTOL,
                  k: int = WORST) -> tuple[list[tuple[tuple[int, ...], float, float]], int, int]:
    """The ``k`` entries where claim and truth differ most: ([(index, claimed, true)], n differing, n total).

    An entry differs when ``|claimed - true| > rtol * max|true|``. Empty when the shapes differ.
    """
    c = np.asarray(claimed, dtype=float)
    t = np.asarray(truth, dtype=float)
    if c.shape != t.shape or t.size == 0:  # strict shapes: a value of another shape is never realigned
        return [], 0, int(t.size)
    gap = np.abs(c - t)
    gap = np.where(np.isfinite(gap), gap, np.inf)
    scale = float(np.max(np.abs(t)))
    differing = gap > rtol * scale
    order = np.argsort(-gap, axis=None, kind="stable")[:k]
    rows = [(tuple(int(i) for i in np.unravel_index(j, t.shape)), float(c.reshape(-1)[j]), float(t.reshape(-1)[j]))
            for j in order if differing.reshape(-1)[j]]
    return rows, int(np.sum(differing)), int(t.size)


def _index(ix: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, ix)) + "]" if ix else "(scalar)"


def _oracle_line(v) -> str:
    if v.max_abs_err is not None:
        nums = f"{v.method}: max abs err {v.max_abs_err:.3g}, max rel err {v.max_rel_err:.3g}, tol {v.tolerance:g}"
        if v.detail:
            nums += f", {v.detail}"
    else:
        nums = (v.message or v.method).split("\n")[0]
        if len(nums) > 160:
            nums = nums[:157] + "..."
    return f"{v.oracle} {v.status} ({nums})"


def _array(a: np.ndarray, indent: str) -> str:
    text = np.array2string(np.asarray(a, dtype=float), precision=5, suppress_small=True, max_line_width=100)
    return text.replace("\n", "\n" + indent)


def _headline(r: Any) -> str:
    claim = r.claim
    return f"{claim.name}: d {claim.target(r.model)} / d {claim.wrt} is {r.verdict.upper()}"


def format_failure(r: Any, *, expectation: str | None = None) -> str:
    """A short readable account of a claim that is not as it should be (a :class:`ClaimResult`)."""
    lines = [_headline(r) + (f"  ({expectation})" if expectation else "")]
    d = r.diagnosis
    if d is not None:
        lines.append(f"  why: {d.kind}: {d.text}")
        if d.fix:
            lines.append(f"  fix: {d.fix}")
    elif r.message:
        lines.append(f"  why: {r.message}")
    if r.repair is not None:
        lines.append(f"  repair: {getattr(r.repair, 'text', None) or getattr(r.repair, 'formula', r.repair)}")
    lines += [f"  {n}" for n in r.notes if n.startswith(("repair:", "no repair"))]
    if r.claim.source:
        lines.append(f"  formula: {r.claim.source}")
    if r.claimed is not None and r.truth is not None and r.verdict != "correct":
        lines += _values(r)
    if r.oracles:
        lines.append("  oracles:")
        lines += [f"    {_oracle_line(v)}" for v in r.oracles.values()]
    lines += [f"  note:    {n}" for n in r.notes if not n.startswith(("repair:", "no repair"))]
    return "\n".join(lines)


def _values(r: Any) -> list[str]:
    claimed, truth = np.asarray(r.claimed), np.asarray(r.truth)
    rows, n_diff, n = worst_entries(claimed, truth, _threshold(r))
    out = []
    if rows:
        out.append(f"  worst entries (claimed vs true; {n_diff} of {n} entries differ):")
        width = max(len(_index(ix)) for ix, _, _ in rows)
        out += [f"    {_index(ix):<{width}}  claimed {c:>12.6g}   true {t:>12.6g}" for ix, c, t in rows]
    if claimed.size <= SHOW_ARRAYS_UP_TO and truth.size <= SHOW_ARRAYS_UP_TO:
        out.append(f"  claimed: {_array(claimed, ' ' * 11)}")
        out.append(f"  true:    {_array(truth, ' ' * 11)}")
    else:
        out.append(f"  (claimed shape {claimed.shape}, true shape {truth.shape}: arrays above "
                   f"{SHOW_ARRAYS_UP_TO} entries are not printed)")
    return out


def format_function_check(fc: Any) -> str:
    """All arguments of a :class:`gradcheck.function.FunctionCheck`, the wrong ones in full."""
    ran = ", ".join(fc.oracles_run) or "none"
    lines = [f"{fc.function}: {fc.kind} {fc.verdict.upper()} (oracles run: {ran})"]
    for o, why in fc.not_run.items():
        lines.append(f"  {o} could not run: {why}")
    for r in fc.results:
        if r.verdict == "correct":
            lines.append(f"{_headline(r)}")
        else:
            notes = tuple(n for n in r.notes if not n.endswith(tuple(fc.not_run.values())))
            lines.append(format_failure(_without_notes(r, notes)))
    return "\n".join(lines)


def _without_notes(r: Any, notes: tuple[str, ...]) -> Any:
    from dataclasses import replace

    return replace(r, notes=notes)
