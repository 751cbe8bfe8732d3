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
from gradcheck.diagnose import Diagnosis, diagnose
from gradcheck.model import Model, ModelError
from gradcheck.oracles import ORACLES
from gradcheck.oracles.common import Measurement, ShapeClash, evaluate_formula, expected_shape, traced
from gradcheck.points import Point, draw_points
from gradcheck.verdict import OracleVerdict, judge, truths_agree

N_POINTS = 3


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


def batch_names(model: Model) -> tuple[str, ...]:
    """Dims that index samples: the leading axis of data arrays with two or more axes."""
    names = []
    for spec in model.data.values():
        if len(spec.shape) >= 2 and isinstance(spec.shape[0], str):
            names.append(spec.shape[0])
    return tuple(dict.fromkeys(names))


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
        from gradcheck.oracles.autodiff import plan

        for model, claim, uses in items:
            plan(model, [(claim.target(model), claim.wrt), *uses.values()])
    if "symbolic" in oracles:
        from gradcheck.oracles.symbolic_bounded import prefetch

        prefetch(items, seed=seed, **options.get("symbolic", {}))


def _run(oracle: str, model: Model, claim: Claim, points: list[Point], uses, seed: int, options) -> Measurement:
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
                repair: bool | Mapping = False) -> ClaimResult:
    """Judge one claim with the given oracles at ``n_points`` seeded points.

    With ``repair`` (True, or a dict of :func:`gradcheck.repair.find_repair` options), an incorrect
    claim or shape error also gets the smallest verified edit that makes it correct, if one exists.
    """
    r = _check_claim(source, claim, oracles=tuple(oracles), n_points=n_points, seed=seed, options=options)
    if r.verdict == "correct" and r.model.sense == "maximise":
        from dataclasses import replace

        r = replace(r, convention_only=holds_only_under_sign_convention(source, claim, seed=seed))
    if repair and r.verdict in ("incorrect", "shape error"):
        from dataclasses import replace

        from gradcheck.repair import find_repair

        out = find_repair(source, claim, **(dict(repair) if isinstance(repair, Mapping) else {}))
        r = replace(r, repair=out.repair,
                    notes=r.notes + ((f"repair: {out.message}",) if out.repair is None else ()))
    return r


def _check_claim(source: Derivation | Model, claim: Claim, *, oracles: Iterable[str] = ORACLES,
                 n_points: int = N_POINTS, seed: int = 0, options: Mapping[str, dict] | None = None) -> ClaimResult:
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

    measured = {o: _run(o, model, claim, points, uses, seed, options) for o in oracles}
    verdicts = {o: judge(m) for o, m in measured.items()}
    notes += budget_notes(verdicts)
    reference = _reference(measured)
    claimed = reference.points[0].claimed if reference else None
    truth = reference.points[0].truth if reference else None
    common = dict(oracles=verdicts, claimed=claimed, truth=truth, point=points[0].values, notes=notes)

    statuses = {o: v.status for o, v in verdicts.items()}
    if "shape" in statuses.values():
        diag = diagnose_points(reference, model) if reference else None
        if diag and diag.kind in ("transpose", "missing batch sum"):
            return result("incorrect", diagnosis=diag, **common)
        want = expected_shape(claim, of_shape, wrt_shape)
        return result("shape error", message=f"the formula gives shape {claimed_shape}, but {claim.kind} "
                      f"d {claim.target(model)} / d {claim.wrt} has shape {want}", **common)
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
        diag = diagnose_points(reference, model) if reference else _probe_diagnosis(verdicts)
        return result("incorrect", diagnosis=diag, **common)
    split = ", ".join(f"{o} {s}" for o, s in decisive.items())
    return result("oracles disagree", message=f"the oracles do not agree on this claim: {split}", **common)


ORACLE_NAMES = {"finite_difference": "finite differences", "symbolic": "SymPy", "autodiff": "JAX"}
BUDGET_PHRASES = ("gave up after", "ran out of memory", "failed: the worker process ended")


def budget_notes(verdicts: Mapping[str, OracleVerdict]) -> tuple[str, ...]:
    """A note per oracle stopped by its time or memory budget, and how many oracles judged the claim:
    "judged by 2 of 3 oracles (SymPy: gave up after 10 s)"."""
    stopped = {o: v.message for o, v in verdicts.items() if v.message.startswith(BUDGET_PHRASES)}
    if not stopped:
        return ()
    judged = sum(v.status in ("pass", "fail") for v in verdicts.values())
    why = "; ".join(f"{ORACLE_NAMES.get(o, o)}: {m}" for o, m in stopped.items())
    return (f"judged by {judged} of {len(verdicts)} oracles ({why})",)


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
                renamed.get(model.objective, model.objective), "minimise", model.symbolic_dims, model.param_scale)
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
    if claim.kind == "update" or model.sense != "maximise":
        return False
    point = draw_points(model, 1, seed=seed)[0].values
    targets = {claim.target(model)} | {o for o, _ in uses.values()}
    flip = {model.objective} | {t for t in targets if _objective_like(model, t, point)}
    neg, renamed = _with_negations(model, sorted(flip))
    flipped = replace_claim(claim, of=renamed.get(claim.target(model), claim.target(model)), model=neg,
                            uses={k: (renamed.get(o, o), w) for k, (o, w) in uses.items()})
    return _check_claim(neg, flipped, oracles=("finite_difference",), seed=seed).verdict == "incorrect"


def diagnose_points(reference: Measurement, model: Model) -> Diagnosis:
    """The relation that holds at *every* point (a factor that changes from point to point is none)."""
    found = [diagnose(p.claimed, p.truth, model.dims, batch_names(model)) for p in reference.points]
    first = found[0]
    same = all(d.kind == first.kind and (d.factor is None or first.factor is None
                                         or abs(d.factor - first.factor) <= 1e-6 * abs(first.factor))
               for d in found)
    if same:
        return first
    kinds = ", ".join(dict.fromkeys(d.kind for d in found))
    return Diagnosis("no simple relation", f"no relation holds at every point (per point: {kinds})")


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
    """An assertion message in the style of numpy.testing: verdict, diagnosis, numbers."""
    lines = [f"claim {r.claim.name!r}: d {r.claim.target(r.model)} / d {r.claim.wrt} is {r.verdict.upper()}"]
    if r.diagnosis:
        lines.append(f"diagnosis: {r.diagnosis.kind}: {r.diagnosis.text}"
                     + (f"; fix: {r.diagnosis.fix}" if r.diagnosis.fix else ""))
    if r.repair is not None:
        lines.append(f"repair: {r.repair.text}")
    lines += [n for n in r.notes if n.startswith("repair:")]  # why no repair was found
    if r.message:
        lines.append(r.message)
    for o, v in r.oracles.items():
        nums = f"max abs err {v.max_abs_err:.3g}, max rel err {v.max_rel_err:.3g}, tol {v.tolerance:g}" \
            if v.max_abs_err is not None else v.message
        lines.append(f"  {o:<17} {v.status:<10} {v.method}: {nums}")
    if r.claimed is not None and r.truth is not None and r.claimed.size <= 12 and r.truth.size <= 12:
        lines.append(f"  claimed: {np.array2string(r.claimed, precision=6)}")
        lines.append(f"  true:    {np.array2string(r.truth, precision=6)}")
    return "\n".join(lines)


def assert_gradient(model: Model, *, wrt: str, formula: Callable | str, of: str | None = None, kind: str = "gradient",
                    uses: Mapping[str, tuple[str, str]] | None = None, name: str | None = None,
                    **kwargs) -> ClaimResult:
    """Raise ``AssertionError`` (verdict, diagnosis, repair, numbers) unless ``formula`` is d of / d wrt.

    ``formula`` is a function whose parameter names are names of the model (see :class:`Claim`),
    or an expression string such as ``"X.T @ (P - Y) / m"`` (parsed by :mod:`gradcheck.expr`).
    """
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
