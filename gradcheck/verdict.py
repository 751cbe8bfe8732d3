"""Policy: from measurements to a per-oracle status and one overall verdict.

Tolerances are data. An oracle passes a claim at a point when

    max|claimed - truth| <= rtol * max|truth| + SAFETY * truth_error

where ``truth_error`` is the oracle's own estimate of the error in its true value (so a derivative
that is exactly 0, measured with finite differences, is not failed on noise), and ``rtol`` is:
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradcheck.oracles.common import Measurement

SAFETY = 10.0
TOLERANCES: dict[str, tuple[float, str]] = {
    "complex step": (1e-8, "complex-step derivatives are accurate to ~1e-15; 1e-8 leaves room for rounding "
                     "inside the claimed formula, while real errors are O(1e-3) or larger"),
    "central difference + Richardson": (1e-6, "Richardson-extrapolated central differences are accurate to "
                                        "~1e-9 on smooth O(1) functions; 1e-6 leaves a 1000x margin"),
    "probes": (1e-6, "directional derivatives by complex step or central differences; same margin as above"),
    "autodiff": (1e-8, "reverse mode is exact up to float64 rounding (~1e-15); 1e-8 leaves room for "
                 "rounding inside the claimed formula"),
    "symbolic": (1e-25, "50-digit evaluation of claim minus truth: an identity gives ~1e-45"),
}


#: Errors below an oracle's noise floor are rounding noise: their last bits differ between machines
#: (BLAS, libm), so they are reported as "< floor", never as digits. Above the floor an error is real
#: (a wrong formula's error is O(1e-3) or more) and 3 significant digits of it are stable.
NOISE_FLOORS: dict[str, tuple[float, str]] = {
    "complex step": (1e-12, "complex step and the claim's own float64 rounding: ~1e-15, up to ~1e-13 for long sums"),
    "central difference + Richardson": (1e-6, "truncation and rounding of ~1e-9 vary in their leading digits; "
                                        "below the tolerance nothing about the value is stable"),
    "probes": (1e-6, "directional derivatives by complex step or central differences: the cruder of the two"),
    "autodiff": (1e-12, "reverse mode in float64: rounding only"),
    "symbolic": (1e-30, "50-digit evaluation: an identity gives ~1e-45"),
}
ERROR_DIGITS = 3  # significant digits of an error above its floor


def noise_floor(oracle: str, method: str) -> float:
    """The noise floor of an oracle's relative errors (see NOISE_FLOORS)."""
    if oracle in ("autodiff", "symbolic"):
        return NOISE_FLOORS[oracle][0]
    if "probes" in (method or ""):
        return NOISE_FLOORS["probes"][0]
    if "central" in (method or ""):
        return NOISE_FLOORS["central difference + Richardson"][0]
    return NOISE_FLOORS["complex step"][0]


def stable_errors(v: "OracleVerdict") -> tuple[str | None, str | None]:
    """(max abs error, max relative error) as text that rounding noise cannot change.

    Below the oracle's noise floor (judged on the relative error) both read "< 1e-12" (the absolute
    one "< 1e-12 relative"); above it, ``ERROR_DIGITS`` significant digits. None when missing.
    """
    if v.max_rel_err is None or v.max_abs_err is None:
        return None, None
    floor = noise_floor(v.oracle, v.method)
    if not (v.max_rel_err == v.max_rel_err) or v.max_rel_err >= floor:
        return f"{v.max_abs_err:.{ERROR_DIGITS}g}", f"{v.max_rel_err:.{ERROR_DIGITS}g}"
    return f"< {floor:g} relative", f"< {floor:g}"


@dataclass(frozen=True)
class OracleVerdict:
    oracle: str
    status: str  # pass | fail | non-smooth | shape | error | skipped
    method: str
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    tolerance: float | None = None
    tolerance_reason: str = ""
    error_estimate: float | None = None
    dims: dict | None = None
    detail: str = ""  # symbolic: proved / numeric (50 digits) / disproved; probes: miss probability
    message: str = ""
    seconds: float = 0.0


def tolerance_for(m: Measurement) -> tuple[float, str]:
    if m.oracle == "autodiff":
        return TOLERANCES["autodiff"]
    if m.oracle == "symbolic":
        return TOLERANCES["symbolic"]
    if "probes" in m.method:
        return TOLERANCES["probes"]
    if "central" in m.method:
        return TOLERANCES["central difference + Richardson"]
    return TOLERANCES["complex step"]


def user_tolerance(m: Measurement, rtol: float | None, atol: float) -> tuple[float, float, str]:
    """(rtol, atol, reason): the oracle's own rtol unless the user set one; the user's atol (default 0)."""
    own, why = tolerance_for(m)
    if rtol is None:
        return own, atol, why + (f"; plus atol {atol:g} set by the user" if atol else "")
    return rtol, atol, f"rtol {rtol:g}, atol {atol:g} set by the user (this oracle's default rtol is {own:g})"


def judge(m: Measurement, rtol: float | None = None, atol: float = 0.0) -> OracleVerdict:
    """One oracle's status over all its points; ``rtol``/``atol`` override the defaults above."""
    if m.error is not None:
        status = "skipped" if m.method == "skipped" else "error"
        return OracleVerdict(m.oracle, status, m.method, dims=dict(m.dims), message=m.error, seconds=m.seconds)
    user_set = rtol is not None or atol > 0
    rtol, atol, why = user_tolerance(m, rtol, atol)
    worst_abs, worst_rel, worst_est = 0.0, 0.0, 0.0
    status, details, messages = "pass", [], []
    usable = 0
    for k, p in enumerate(m.points):
        claimed = np.asarray(p.claimed)
        if claimed.shape != np.shape(p.truth):  # strict: (n, 1), (1, n) and (n,) are three shapes
            return OracleVerdict(m.oracle, "shape", m.method, dims=dict(m.dims), seconds=m.seconds,
                                 message=f"the claim has shape {p.claimed.shape}, the true value {p.truth.shape}")
        if not np.all(np.isfinite(claimed)):
            messages.append(f"point {k}: the formula gives NaN or inf")
            continue
        usable += 1
        scale = float(np.max(np.abs(p.truth))) if p.truth.size else 0.0
        err = float(np.max(np.abs(claimed - p.truth))) if p.truth.size else 0.0
        worst_abs, worst_est = max(worst_abs, err), max(worst_est, p.truth_error)
        worst_rel = max(worst_rel, err / max(scale, 1e-300))
        if p.decided:
            details.append(p.decided)
        if p.miss_probability is not None:
            details.append(f"P(miss one wrong entry) <= {p.miss_probability:.1e}")
            if p.localised:
                messages.append(f"point {k}: wrong entries (flat indices) {list(p.localised)[:12]}")
        if not p.smooth:
            status = "non-smooth" if status == "pass" else status
            messages.append(f"point {k}: differences at steps h and 2h disagree: non-smooth at this point")
            continue
        off_ok = p.offdiagonal <= rtol * max(scale, 1.0) + atol + SAFETY * p.truth_error
        if not off_ok:
            messages.append(f"point {k}: the Jacobian is not diagonal (off-diagonal entries up to "
                            f"{p.offdiagonal:.3g}): no elementwise derivative describes it")
        within = err <= rtol * scale + atol + SAFETY * p.truth_error
        # SymPy decides exactly; a tolerance the user loosened on purpose also applies to its numbers
        passed = (p.decided in ("proved", "numeric (50 digits)") or (user_set and within)) if p.decided else within
        if not (passed and off_ok):
            status = "fail"
    if usable == 0:
        return OracleVerdict(m.oracle, "error", m.method, dims=dict(m.dims), seconds=m.seconds,
                             message="; ".join(messages) or "no point could be evaluated")
    detail = ", ".join(dict.fromkeys(details))
    return OracleVerdict(m.oracle, status, m.method, worst_abs, worst_rel, rtol, why, worst_est, dict(m.dims),
                         detail, "; ".join(messages), m.seconds)


def truths_agree(a: Measurement, b: Measurement) -> tuple[bool, float]:
    """Do two oracles measured at the same points agree on the true value? (max relative gap)"""
    worst = 0.0
    for pa, pb in zip(a.points, b.points):
        if pa.truth.shape != pb.truth.shape or pa.miss_probability is not None or pb.miss_probability is not None:
            continue
        scale = max(float(np.max(np.abs(pb.truth))) if pb.truth.size else 0.0, 1e-300)
        gap = float(np.max(np.abs(pa.truth - pb.truth))) if pb.truth.size else 0.0
        allowed = TOLERANCES["central difference + Richardson"][0] * scale + SAFETY * (pa.truth_error + pb.truth_error)
        if gap > allowed:
            return False, gap / scale
        worst = max(worst, gap / scale)
    return True, worst
