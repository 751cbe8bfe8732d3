"""Check claims: draw points, run the oracles, judge, combine into one verdict with a diagnosis.

Overall verdicts:

* ``shape error``: the formula cannot be evaluated as written (the operation and the clashing
  shapes are named), or its value cannot have the shape of the derivative;
* ``not evaluable``: it raised for another reason, or gave no finite value at any point;
* ``oracles disagree``: the oracles that could decide did not agree (on the claim, or finite
  differences and JAX on the true derivative itself): a loud finding, never averaged away;
* ``correct``: every deciding oracle passed at every point; ``incorrect``: every one failed,
  with a diagnosis.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from dataclasses import replace as replace_claim

from gradcheck.claim import Claim, Derivation
from gradcheck import limits
from gradcheck.diagnose import Diagnosis, diagnose_all
from gradcheck.model import Model, ModelError
from gradcheck.oracles import ORACLES
from gradcheck.oracles.common import Measurement, ShapeClash, evaluate_formula, expected_shape, traced
from gradcheck.points import Point, draw_points
from gradcheck.sizes import SecondSize, dims_text, second_size
from gradcheck.verdict import OracleVerdict, judge, truths_agree

N_POINTS = 3
N_POINTS_SECOND = 2  # points at the second size (finite differences, complex step: cheap and exact to ~1e-15)
SECOND_ORACLES = ("finite_difference",)


@dataclass(frozen=True, eq=False)
class ClaimResult:
    document: str | None
    claim: Claim
    model: Model
    verdict: str
    diagnosis: Diagnosis | None = None
    oracles: Mapping[str, OracleVerdict] = field(default_factory=dict)
    claimed: np.ndarray | None = None  # at the first point (for the report's details and figures)
    truth: np.ndarray | None = None
    point: Mapping[str, np.ndarray] | None = None
    message: str = ""
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    repair: Any = None
    convention_only: bool = False  # correct for the document's maximised objective, wrong for its negation
    sizes: str = ""  # the dims (and constants) the claim was checked at, both sizes, in words
    cases: tuple = field(default=(), repr=False)  # (claimed, truth, dims) per point of the reference oracle

    @property
    def judged_by(self) -> str:
        """Empty when every oracle decided; else "judged by 2 of 3 oracles (SymPy skipped: why)" (never silent)."""
        if not self.oracles or self.verdict in ("shape error", "not evaluable"):
            return ""
        deciding = [o for o, v in self.oracles.items() if v.status in ("pass", "fail", "shape")]
        others = {o: v for o, v in self.oracles.items() if o not in deciding}
        if not others:
            return ""
        why = "; ".join(_why_undecided(o, v) for o, v in others.items())
        return f"judged by {len(deciding)} of {len(self.oracles)} oracles ({why})"

    def _repr_markdown_(self) -> str:  # Jupyter: verdict table, math, oracles (gradcheck.notebook)
        from gradcheck.notebook import claim_markdown

        return claim_markdown(self)

    def _repr_html_(self) -> str:  # the same, with a heatmap of claimed - true for a wrong claim
        from gradcheck.notebook import claim_html

        return claim_html(self)

    @property
    def expected_ok(self) -> bool | None:
        """Does the verdict (and the diagnosis, where one is expected) match the claim's expectation?"""
        if self.claim.expect is None:
            return None
        if self.verdict != self.claim.expect:
            return False
        if self.claim.expect_diagnosis and (self.diagnosis is None or self.diagnosis.kind != self.claim.expect_diagnosis):
            return False
        return True


ORACLE_LABELS = {"finite_difference": "finite differences", "symbolic": "SymPy", "autodiff": "JAX"}
# How an oracle stopped by its time or memory budget says so (gradcheck.bounded, gradcheck.limits).
BUDGET_PHRASES = ("gave up after", "ran out of memory", "failed: the worker process ended")


def stopped_by_budget(message: str) -> bool:
    """Did an oracle not decide because its time or memory budget ran out?"""
    return (message or "").startswith(BUDGET_PHRASES) or " ran out of time: stopped after" in (message or "")


def _why_undecided(oracle: str, v: OracleVerdict) -> str:
    """"SymPy: gave up after 10 s" for a budget stop, "SymPy skipped: why" otherwise."""
    label, why = ORACLE_LABELS.get(oracle, oracle), _first_line(v.message) or "no reason given"
    return f"{label}: {why}" if stopped_by_budget(v.message) else f"{label} {v.status}: {why}"


def _first_line(text: str, limit: int = 160) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[:limit - 3] + "..."


def batch_names(model: Model) -> tuple[str, ...]:
    """Dims that index samples.

    Row layout (``X`` of shape (m, d), ``Y`` (m, c)): the leading axis. Column layout (``X`` (d, m),
    ``Y`` (k, m)): the trailing axis. A dim found at an end (first or last axis) of every data array
    with two or more axes is a batch dim, leading ones preferred; when no dim is shared, the leading
    axis of each such array (as before).
    """
    shapes = [spec.shape for spec in model.data.values() if len(spec.shape) >= 2]
    ends = [{s for s in (shape[0], shape[-1]) if isinstance(s, str)} for shape in shapes]
    shared = set.intersection(*ends) if ends else set()
    leading = [shape[0] for shape in shapes if isinstance(shape[0], str)]
    if shared:
        first = [n for n in leading if n in shared]
        return tuple(dict.fromkeys(first)) if first else tuple(sorted(shared))
    return tuple(dict.fromkeys(leading))


def truth_name(claim: Claim, model: Model) -> str:
    """How a diagnosis names the true value: ``d loss / d W1`` (its kind when not a gradient)."""
    what = f"d {claim.target(model)} / d {claim.wrt}"
    if claim.kind == "update":
        return f"the updated {claim.wrt}"
    return what if claim.kind in ("gradient", "recursion") else f"{claim.kind} {what}"


def _validate_names(model: Model, claim: Claim, uses: Mapping[str, tuple[str, str]]) -> None:
    from gradcheck.model import _suggest

    known = set(model.names)
    for role, name in (("wrt", claim.wrt), ("of", claim.target(model))):
        if name not in known:
            raise ModelError(f"claim {claim.name!r}: {role} {name!r} is not a quantity of model "
                             f"{model.name!r}{_suggest(name, known)}")
    for uname, (o, w) in uses.items():
        for name in (o, w):
            if name not in known:
                raise ModelError(f"claim {claim.name!r}: derivative {uname!r} refers to unknown {name!r}"
                                 f"{_suggest(name, known)}")
    readable = known | set(model.dims) | set(model.constants) | set(uses)
    for name in claim.reads:
        if name not in readable:
            raise ModelError(f"claim {claim.name!r}: formula reads unknown name {name!r}"
                             f"{_suggest(name, readable)}")
    if claim.lr and claim.lr not in model.constants:
        raise ModelError(f"claim {claim.name!r}: learning rate {claim.lr!r} is not a constant of the model")


def _zeros_for_uses(model: Model, values: Mapping, uses) -> dict[str, np.ndarray]:
    out = {}
    for name, (o, w) in uses.items():
        o_shape, w_shape = np.shape(values[o]), np.shape(values[w])
        out[name] = np.zeros(w_shape if o_shape == () else o_shape + w_shape)
    return out


def trace_shapes(model: Model, claim: Claim, point: Point, uses) -> tuple[tuple, tuple, tuple]:
    """Evaluate the formula once on shape-tracing arrays: (claimed shape, of shape, wrt shape).

    Raises :class:`ShapeClash` when an operation's shapes do not fit.
    """
    with np.errstate(all="ignore"):
        values = model.forward(point.values)
        claimed = evaluate_formula(claim, model, traced(values), traced(_zeros_for_uses(model, values, uses)))
    return np.shape(claimed), np.shape(values[claim.target(model)]), np.shape(values[claim.wrt])


def prepare(source: Derivation | Model, claims: Iterable[Claim], *, oracles: Iterable[str] = ORACLES,
            seed: int = 0, options: Mapping[str, dict] | None = None) -> None:
    """Get the oracles ready for these claims before they are checked one by one: JAX compiles one
    function for every derivative they need (per model), and SymPy starts on them in its own
    worker process, so that it runs while finite differences and JAX work here. ``options`` must be
    those that ``check_claim`` will get (the symbolic oracle's ``limit`` applies from here)."""
    oracles = tuple(oracles)
    options = dict(options or {})
    items = []
    for claim in claims:
        if isinstance(source, Derivation):
            model, uses = source.model_of(claim), source.derivative_names(claim)
        else:
            model, uses = claim.model or source, dict(claim.uses)
        try:
            _validate_names(model, claim, uses)
        except ModelError:
            continue
        items.append((model, claim, uses))
    if "autodiff" in oracles:
        from gradcheck.oracles.autodiff import plan, plan_together

        for model, claim, uses in items:
            plan(model, [(claim.target(model), claim.wrt), *uses.values()])
        plan_together(model for model, _, _ in items)
    if "symbolic" in oracles:
        from gradcheck.oracles.symbolic_bounded import prefetch

        prefetch(items, seed=seed, **options.get("symbolic", {}))


def _run(oracle: str, model: Model, claim: Claim, points: list[Point], uses, seed: int, options) -> Measurement:
    t0 = time.perf_counter()
    what = f"the {oracle} oracle"
    try:
        with limits.deadline(limits.oracle_seconds(), what):
            return _run_oracle(oracle, model, claim, points, uses, seed, options)
    except limits.BudgetExceeded as exc:
        if exc.what != what:
            raise  # a budget around the whole claim or file
        return Measurement(oracle, "", dict(model.dims), error=str(exc), seconds=time.perf_counter() - t0)


def _run_oracle(oracle: str, model: Model, claim: Claim, points: list[Point], uses, seed: int, options
                ) -> Measurement:
    t0 = time.perf_counter()
    try:
        if oracle == "finite_difference":
            from gradcheck.oracles.finite_difference import finite_difference

            return finite_difference(model, claim, points, uses, seed=seed, **options.get(oracle, {}))
        if oracle == "autodiff":
            from gradcheck.oracles.autodiff import autodiff

            return autodiff(model, claim, points, uses, **options.get(oracle, {}))
        if oracle == "symbolic":
            from gradcheck.oracles.symbolic_bounded import symbolic_bounded

            return symbolic_bounded(model, claim, uses, seed=seed, **options.get(oracle, {}))
        raise ModelError(f"unknown oracle {oracle!r}; choose from {', '.join(ORACLES)}")
    except ShapeClash as exc:
        return Measurement(oracle, "", dict(model.dims), error=f"shape error: {exc}", seconds=time.perf_counter() - t0)
    except Exception as exc:  # an oracle that cannot run is reported, never dropped
        return Measurement(oracle, "", dict(model.dims), error=f"{type(exc).__name__}: {exc}",
                           seconds=time.perf_counter() - t0)


def check_claim(source: Derivation | Model, claim: Claim, *, oracles: Iterable[str] = ORACLES,
                n_points: int = N_POINTS, seed: int = 0, options: Mapping[str, dict] | None = None,
                repair: bool | Mapping = False, rtol: float | None = None, atol: float = 0.0,
                second: bool = True) -> ClaimResult:
    """Judge one claim with the given oracles at ``n_points`` seeded points, then at a second size.

    The second size (:mod:`gradcheck.sizes`: other dims, other constants) is checked by finite
    differences; a verdict or diagnosis that does not hold there is not reported (``second=False``
    turns this off, for internal re-checks only).

    ``rtol``/``atol`` replace each oracle's default relative tolerance (see :mod:`gradcheck.verdict`)
    and add an absolute one: an oracle passes when ``max|claim - truth| <= rtol * max|truth| + atol``
    (plus its own error estimate). The defaults are right for float64 formulas; loosen them only for a
    claim computed with less precision, and say why.

    With ``repair`` (True, or a dict of :func:`gradcheck.repair.find_repair` options), an incorrect
    claim or shape error also gets the smallest verified edit that makes it correct, if one exists.
    """
    from dataclasses import replace

    _validate_tolerances(rtol, atol)

    model = source.model_of(claim) if isinstance(source, Derivation) else (claim.model or source)
    plan = (SecondSize(None, {}, {}, f"no second size: {claim.fixed_size}") if claim.fixed_size else second_size(model, [claim.source or ""])) if second else None
    r = _check_claim(source, claim, oracles=tuple(oracles), n_points=n_points, seed=seed, options=options,
                     name_dims=plan is None or plan.available, rtol=rtol, atol=atol)
    if plan is not None:
        r = at_second_size(source, claim, r, plan, seed=seed, rtol=rtol, atol=atol)
    if r.verdict == "correct" and r.model.sense == "maximise":
        r = replace(r, convention_only=holds_only_under_sign_convention(source, claim, seed=seed))
    if repair and r.verdict in ("incorrect", "shape error"):
        from gradcheck.repair import find_repair

        out = find_repair(source, claim, **(dict(repair) if isinstance(repair, Mapping) else {}))
        r = replace(r, repair=out.repair,
                    notes=r.notes + ((f"repair: {out.message}",) if out.repair is None else ()))
    return r


def _resized(source: Derivation | Model, claim: Claim, plan: SecondSize) -> tuple[Model, Claim]:
    """The model at its second size, and the claim (with its uses) pointing at it."""
    uses = source.derivative_names(claim) if isinstance(source, Derivation) else dict(claim.uses)
    return plan.model, replace_claim(claim, model=plan.model, uses=uses)


def at_second_size(source: Derivation | Model, claim: Claim, r: ClaimResult, plan: SecondSize, *,
                   seed: int = 0, rtol: float | None = None, atol: float = 0.0) -> ClaimResult:
    """Re-check a correct or incorrect verdict at the second size; keep only what holds at both."""
    from dataclasses import replace

    first = dims_text(r.model.dims, r.model.constants)
    if not plan.available:
        if not r.model.dims and not r.model.constants:
            return replace(r, sizes=plan.unavailable)
        return replace(r, sizes=f"{first}; {plan.unavailable} (no dim is named in a diagnosis, and no "
                       "repair that brings in a dim or constant is offered)")
    how = "finite differences"
    sizes = f"{first}; second size {dims_text(plan.dims, plan.constants)} ({how})"
    if r.verdict not in ("correct", "incorrect"):
        return replace(r, sizes=f"{first}; second size not run (the verdict is {r.verdict} at the first size)")
    model2, claim2 = _resized(source, claim, plan)
    r2 = _check_claim(model2, claim2, oracles=SECOND_ORACLES, n_points=N_POINTS_SECOND, seed=seed + 1,
                      rtol=rtol, atol=atol)
    r = replace(r, sizes=sizes)
    at2 = f"at the second size ({dims_text(plan.dims, plan.constants)})"
    shaky = _numerically_inconclusive(r2)
    if shaky:  # the finite differences could not decide there: the first size's verdict stands, no dim is named
        diag = r.diagnosis
        if r.verdict == "incorrect" and r.cases:
            diag = diagnose_all(r.cases, batch_names(r.model), name_dims=False, truth_name=truth_name(claim, r.model))
        return replace(r, diagnosis=diag, sizes=f"{first}; second size {dims_text(plan.dims, plan.constants)} "
                       f"inconclusive ({shaky}), so no dim is named in a diagnosis")
    if r2.verdict in ("shape error", "not evaluable"):
        return replace(r, verdict=r2.verdict, diagnosis=None, repair=None,
                       message=f"{at2}: {r2.message}; at {first} the formula could be evaluated only because "
                       "of those sizes (a dim written as a number, or two dims that happened to be equal)")
    if r.verdict == "correct" and r2.verdict == "correct":
        return r
    if r.verdict == "correct":  # right at the first size only: a coincidence of values
        inner = r2.diagnosis.text if r2.diagnosis else r2.message
        diag = Diagnosis("size coincidence", f"right at {first} only by a coincidence of values: {at2} it is "
                         f"wrong ({inner}); a number is probably written where a dim or constant belongs")
        return replace(r, verdict="incorrect", diagnosis=diag, message=f"{at2} the claim is {r2.verdict}")
    if r2.verdict == "correct":
        diag = Diagnosis("no simple relation", f"wrong at {first} but right {at2}: the formula's error "
                         "depends on the sizes")
        return replace(r, diagnosis=diag)
    if r.cases and r2.cases:
        return replace(r, diagnosis=diagnose_all(r.cases + r2.cases, batch_names(r.model),
                                                 truth_name=truth_name(claim, r.model)))
    if r.diagnosis is not None and r.diagnosis.kind != "no simple relation":
        return replace(r, diagnosis=Diagnosis("no simple relation", f"{r.diagnosis.text} at {first}; it could not "
                       f"be confirmed {at2}"))
    return r


def _numerically_inconclusive(r: ClaimResult) -> str:
    """Why the finite differences at the second size cannot decide ('' when they can): a point where
    steps h and 2h disagree (a kink or ill-conditioning) or where values are not finite. Only a clean
    measurement there may overturn the first size's verdict."""
    fd = r.oracles.get("finite_difference")
    if fd is None:
        return ""
    text = fd.message or ""
    if fd.status == "non-smooth" or "non-smooth" in text:
        return "finite differences: steps h and 2h disagree at a point"
    if r.verdict == "not evaluable" and "NaN or inf" in (r.message or ""):  # nonfinite_points, judge's wording
        return "values are not finite at a point"
    return ""


def _validate_tolerances(rtol: float | None, atol: float) -> None:
    if rtol is not None and not (isinstance(rtol, (int, float)) and 0 <= rtol < 1):
        raise ValueError(f"rtol must be a number in [0, 1), got {rtol!r}")
    if not (isinstance(atol, (int, float)) and atol >= 0 and np.isfinite(atol)):
        raise ValueError(f"atol must be a finite number >= 0, got {atol!r}")


def _check_claim(source: Derivation | Model, claim: Claim, *, oracles: Iterable[str] = ORACLES,
                 n_points: int = N_POINTS, seed: int = 0, options: Mapping[str, dict] | None = None,
                 name_dims: bool = True, rtol: float | None = None, atol: float = 0.0) -> ClaimResult:
    t0 = time.perf_counter()
    options = dict(options or {})
    if isinstance(source, Derivation):
        model, uses, doc = source.model_of(claim), source.derivative_names(claim), source.id
    else:
        model, uses, doc = claim.model or source, dict(claim.uses), None

    def result(verdict, **kw):
        return ClaimResult(doc, claim, model, verdict, seconds=time.perf_counter() - t0, **kw)

    try:
        _validate_names(model, claim, uses)
        points = draw_points(model, n_points, seed=seed)
    except ModelError as exc:
        return result("not evaluable", message=str(exc))
    notes = tuple(n for p in points for n in p.notes)
    try:
        claimed_shape, of_shape, wrt_shape = trace_shapes(model, claim, points[0], uses)
    except ShapeClash as exc:
        return result("shape error", message=f"the formula cannot be evaluated as written: {exc}",
                      point=points[0].values, notes=notes)
    except IndexError as exc:  # an entry the array's shape does not have
        return result("shape error", message=f"the formula indexes outside an array's shape: {exc}",
                      point=points[0].values, notes=notes)
    except ModelError as exc:  # the user's input, already explained (unknown names, bad expressions)
        return result("not evaluable", message=str(exc), point=points[0].values, notes=notes)
    except Exception as exc:  # noqa: BLE001 - any failure of the user's formula is reported as such
        return result("not evaluable", message=f"the formula raised {type(exc).__name__}: {exc}",
                      point=points[0].values, notes=notes)

    try:
        limits.check_claim_size(of_shape, wrt_shape, f"claim {claim.name!r}")
    except limits.LimitError as exc:
        return result("not evaluable", message=str(exc), point=points[0].values, notes=notes)
    measured = {o: _run(o, model, claim, points, uses, seed, options) for o in oracles}
    verdicts = {o: judge(m, rtol, atol) for o, m in measured.items()}
    reference = _reference(measured)
    claimed = reference.points[0].claimed if reference else None
    truth = reference.points[0].truth if reference else None
    cases = tuple((p.claimed, p.truth, dict(reference.dims)) for p in reference.points) if reference else ()
    common = dict(oracles=verdicts, claimed=claimed, truth=truth, point=points[0].values, notes=notes, cases=cases)

    def diagnosis_here():
        return diagnose_all(cases, batch_names(model), name_dims=name_dims,
                            truth_name=truth_name(claim, model)) if cases else None

    statuses = {o: v.status for o, v in verdicts.items()}
    if "shape" in statuses.values():
        diag = diagnosis_here()
        want = expected_shape(claim, of_shape, wrt_shape)
        what = f"{claim.kind} d {claim.target(model)} / d {claim.wrt}"
        if diag and diag.kind in ("transpose", "missing batch sum"):
            return result("incorrect", diagnosis=diag, **common)
        if diag and diag.kind == "reshape":
            return result("shape error", diagnosis=diag, message=f"right values, but the formula gives shape "
                          f"{claimed_shape} where {what} has shape {want}: {diag.fix}", **common)
        return result("shape error", message=f"the formula gives shape {claimed_shape}, but {what} has shape {want}",
                      **common)
    nonfinite = nonfinite_points(measured)
    if nonfinite:  # no oracle may vouch for a formula that is not finite where the loss is
        return result("not evaluable", message=nonfinite, **common)
    decisive = {o: s for o, s in statuses.items() if s in ("pass", "fail")}
    if not decisive:
        why = "; ".join(f"{o}: {v.message or v.status}" for o, v in verdicts.items())
        return result("not evaluable", message=why, **common)
    if "finite_difference" in measured and "autodiff" in measured and \
            not measured["finite_difference"].error and not measured["autodiff"].error:
        agree, gap = truths_agree(measured["finite_difference"], measured["autodiff"])
        if not agree:
            return result("oracles disagree", message=f"finite differences and JAX differ on the true derivative "
                          f"itself (max relative gap {gap:.3g})", **common)
    if set(decisive.values()) == {"pass"}:
        return result("correct", **common)
    if set(decisive.values()) == {"fail"}:
        diag = diagnosis_here() or _probe_diagnosis(verdicts)
        return result("incorrect", diagnosis=diag, **common)
    split = ", ".join(f"{o} {s}" for o, s in decisive.items())
    return result("oracles disagree", message=f"the oracles do not agree on this claim: {split}", **common)


def nonfinite_points(measured: Mapping[str, Measurement]) -> str:
    """Where the numeric oracles met NaN or inf in the formula or in the true derivative ('' if nowhere).

    The loss is finite at every drawn point, so a formula that is not finite there cannot be
    judged correct, even when SymPy's exact arithmetic (where ``0 * log(w)`` is 0) passes it."""
    found = []
    for o in ("finite_difference", "autodiff"):
        m = measured.get(o)
        if m is None or m.error is not None:
            continue
        for what, attr in (("the formula", "claimed"), ("the true derivative", "truth")):
            at = [str(k) for k, p in enumerate(m.points) if getattr(p, attr) is not None
                  and np.size(getattr(p, attr)) and not np.all(np.isfinite(getattr(p, attr)))]
            if at:
                found.append(f"{o}: {what} gives NaN or inf at point{'s' if len(at) > 1 else ''} {', '.join(at)}")
    if not found:
        return ""
    return ("not finite where the loss is finite (" + "; ".join(found) + "): the formula must give finite "
            "numbers at every point, e.g. no log of a negative value, no exp that overflows")


def _with_negations(model: Model, names: Iterable[str]) -> tuple[Model, dict[str, str]]:
    """The model with one more step per name: its negation (the loss of a maximised log-likelihood)."""
    import inspect

    steps, renamed = list(model.steps), {}
    for name in names:
        def negate(value):
            return -value

        negate.__signature__ = inspect.Signature([inspect.Parameter(name, inspect.Parameter.POSITIONAL_ONLY)])
        renamed[name] = f"negated_{name}"
        steps.append((renamed[name], negate))
    neg = Model(f"{model.name} (signs flipped)", model.dims, steps, model.data, model.params, model.constants,
                renamed.get(model.objective, model.objective), "minimise", model.symbolic_dims, model.param_scale,
                model.second_dims, model.fixed_size)
    return neg, renamed


def _objective_like(model: Model, name: str, point: Mapping[str, np.ndarray]) -> bool:
    """The objective itself, or a quantity whose entries sum to it (the per-sample terms c of C = sum c)."""
    if name == model.objective:
        return True
    with np.errstate(all="ignore"):
        values = model.forward(point)
    total, objective = float(np.sum(values[name])), float(values[model.objective])
    return np.ndim(values[name]) > 0 and abs(total - objective) <= 1e-12 * max(abs(objective), 1.0)


def holds_only_under_sign_convention(source: Derivation | Model, claim: Claim, *, seed: int = 0) -> bool:
    """Is a claim that is correct for a maximised objective wrong once the objective is negated (a loss)?

    The objective and the quantities it sums (the per-sample terms) are negated, and the claim is
    re-checked with every derivative of them, its own and those it reads through ``uses``, taken of
    the negations. A formula linear in the δ it reads stays right (both sides flip); one that writes
    the sign out, such as ``y - h``, does not. Finite differences decide (a sign question).
    """
    model = source.model_of(claim) if isinstance(source, Derivation) else (claim.model or source)
    uses = source.derivative_names(claim) if isinstance(source, Derivation) else dict(claim.uses)
    if claim.kind in ("update", "value") or model.sense != "maximise":
        return False
    point = draw_points(model, 1, seed=seed)[0].values
    targets = {claim.target(model)} | {o for o, _ in uses.values()}
    flip = {model.objective} | {t for t in targets if _objective_like(model, t, point)}
    neg, renamed = _with_negations(model, sorted(flip))
    flipped = replace_claim(claim, of=renamed.get(claim.target(model), claim.target(model)), model=neg,
                            uses={k: (renamed.get(o, o), w) for k, (o, w) in uses.items()})
    return _check_claim(neg, flipped, oracles=("finite_difference",), seed=seed).verdict == "incorrect"


def _probe_diagnosis(verdicts: Mapping[str, OracleVerdict]) -> Diagnosis:
    """Only random-direction probes ran: say which entries they localised."""
    where = "; ".join(v.message for v in verdicts.values() if v.message)
    return Diagnosis("no simple relation", "random-direction probes disagree with the claim"
                     + (f" ({where})" if where else ""))


def _reference(measured: Mapping[str, Measurement]) -> Measurement | None:
    """The measurement whose full true value is used for diagnosis: JAX, else finite differences, else SymPy."""
    for o in ("autodiff", "finite_difference", "symbolic"):
        m = measured.get(o)
        if m is not None and m.error is None and m.points and m.points[0].miss_probability is None:
            return m
    return None


def check_derivation(derivation: Derivation, *, progress: Callable[[ClaimResult], None] | None = None,
                     **kwargs) -> list[ClaimResult]:
    """Check every claim of a derivation, in document order."""
    out = []
    for claim in derivation.claims:
        r = check_claim(derivation, claim, **kwargs)
        out.append(r)
        if progress:
            progress(r)
    return out


def format_failure(r: ClaimResult) -> str:
    """The assertion message: verdict, reason, fix, repair, worst entries (see :mod:`gradcheck.failure`)."""
    from gradcheck.failure import format_failure as readable

    return readable(r)


def assert_gradient(model: Model, *, wrt: str, formula: Callable | str, of: str | None = None, kind: str = "gradient",
                    uses: Mapping[str, tuple[str, str]] | None = None, name: str | None = None,
                    **kwargs) -> ClaimResult:
    """Raise ``AssertionError`` (verdict, diagnosis, repair, numbers) unless ``formula`` is d of / d wrt.

    ``formula`` is a function whose parameter names are names of the model (see :class:`Claim`),
    or an expression string such as ``"X.T @ (P - Y) / m"`` (parsed by :mod:`gradcheck.expr`).
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not gradcheck's source
    name = name or f"d{of or model.objective}_d{wrt}"
    source = None
    if isinstance(formula, str):
        from gradcheck.expr import parse

        expr = parse(formula, where=f"claim {name!r}")
        formula, source = expr.as_function(expr.names), expr.source
    claim = Claim(name, wrt, formula, of=of, kind=kind, uses=uses or {}, source=source)
    kwargs.setdefault("repair", True)  # the message then says which edit makes the formula right
    r = check_claim(model, claim, **kwargs)
    if r.verdict != "correct":
        raise AssertionError(format_failure(r))
    return r
