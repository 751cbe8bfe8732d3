"""Equations -> claims: each step of a chain becomes a :class:`~gradcheck.claim.Claim`.

A step that cannot be read becomes a claim that the engine reports as ``not evaluable`` with the
LaTeX error (quoted, with the place marked), so one bad step never hides the others.
"""

from __future__ import annotations

from typing import Mapping

from gradcheck.claim import Claim
from gradcheck.expr import ExpressionError, parse
from gradcheck.latex.equations import Equation, read_equation
from gradcheck.latex.grammar import LatexError
from gradcheck.latex.lower import Context
from gradcheck.latex.notation import Notation


ENTRYWISE = ("the LaTeX writes its entries one by one (a matrix of entries, or an index sum unrolled over "
             "the example's ranges), so it is read at these sizes only")


class _Unreadable:
    """A formula with no arguments that raises the LaTeX error when the engine evaluates it."""

    def __init__(self, message: str):
        self.message = message
        self.__name__ = "unreadable_latex"

    def __call__(self):
        raise ExpressionError(self.message)

    def __repr__(self):
        return "<unreadable LaTeX>"


def context_factory(model, notation: Notation, derivatives: Mapping[str, tuple[str, str]]):
    """``make_context(latex, where)`` for :func:`read_equation`, sharing one sample point."""
    shared = {}

    def make(latex: str, where: str) -> Context:
        if not shared:
            shared["sample"] = Context(model, notation, dict(derivatives)).sample
        return Context(model, notation, dict(derivatives), latex=latex, where=where,
                       sample=dict(shared["sample"]))

    return make


def step_names(base: str, n: int) -> list[str]:
    """A chain's claims: ``base`` for the last (the final result), ``base.k`` for the step k before it."""
    return [base if k == n else f"{base}.{k}" for k in range(1, n + 1)]


def equation_claims(eq: Equation, base: str, model, derivatives: Mapping[str, tuple[str, str]], *,
                    locator: str = "", expect: str | None = None, reason: str = "", where: str = "",
                    names: list[str] | None = None) -> list[Claim]:
    """One claim per step of a derivative equation (``eq.kind`` "claim" or "declaration")."""
    out = []
    names = names or step_names(base, len(eq.steps))
    of = None if eq.of == model.objective else eq.of
    for name, step in zip(names, eq.steps):
        common = dict(of=of, latex=step.latex, locator=locator, kind=eq.claim_kind, reason=reason,
                      expect=expect if name == names[-1] else None)
        if step.error is not None:
            msg = step.error.located(where) if where and not step.error.where else step.error
            claim = Claim(name, eq.wrt, _Unreadable(str(msg)), source="", **common)
            object.__setattr__(claim, "_placeholder", True)
            out.append(claim)
            continue
        expr = parse(step.formula, where=f"{where}: claim {name!r}" if where else f"claim {name!r}")
        uses = {r: derivatives[r] for r in expr.names if r in derivatives}
        uses.update({r: ow for r, ow in step.uses.items() if r in expr.names})
        fixed = ENTRYWISE if "stack([" in expr.source else ""
        out.append(Claim(name, eq.wrt, expr.as_function(expr.names), uses=uses, source=expr.source,
                         fixed_size=fixed, **common))
    return out


def claims_from_toml(spec: Mapping, name: str, model, notation: Notation,
                     derivatives: Mapping[str, tuple[str, str]], *, file: str, index: int) -> list[Claim]:
    """The claims of a TOML ``[[claims]]`` entry's ``latex``: named ``name`` (``name.latex`` when the
    entry also has a ``formula``), chain steps ``name.1``, ``name.2``, ... before the last."""
    base = f"{name}.latex" if "formula" in spec else name
    where = f"{file}: claim {name!r} (latex)"
    locator = str(spec.get("locator", f"{file.split('/')[-1]}, claim {index + 1}"))
    make = context_factory(model, notation, derivatives)
    wrt = spec.get("wrt") if isinstance(spec.get("wrt"), str) else None
    of = spec.get("of") if isinstance(spec.get("of"), str) else None
    expect = spec.get("expect")  # with a formula too: the LaTeX is expected to agree with it
    try:
        eq = read_equation(str(spec["latex"]), make, where=where, of=of, wrt=wrt)
    except LatexError as exc:
        claim = Claim(base, wrt if wrt in model.names else model.objective, _Unreadable(str(exc)),
                      latex=str(spec["latex"]), locator=locator, expect=expect, source="")
        object.__setattr__(claim, "_placeholder", True)
        return [claim]
    if eq.kind not in ("claim", "declaration") or not eq.steps:
        msg = LatexError("the LaTeX of a claim must be a formula or an equation with a derivative on the left",
                         str(spec["latex"]), where=where)
        claim = Claim(base, wrt if wrt in model.names else model.objective, _Unreadable(str(msg)),
                      latex=str(spec["latex"]), locator=locator, expect=expect, source="")
        object.__setattr__(claim, "_placeholder", True)
        return [claim]
    kind = spec.get("kind")
    if isinstance(kind, str) and kind in ("recursion", "elementwise") and eq.claim_kind == "gradient":
        eq.claim_kind = "recursion" if kind == "recursion" else eq.claim_kind
    return equation_claims(eq, base, model, derivatives, locator=locator, expect=expect,
                           reason=str(spec.get("reason", "")), where=where)


AGREEMENT_RTOL = 1e-9  # two spellings of one formula agree up to rounding at random inputs
AGREEMENT_SEEDS = (0, 1)


def against_formula(formula_claim: Claim, latex_claims: list[Claim], model,
                    derivatives: Mapping[str, tuple[str, str]]) -> tuple[list[Claim], list[str]]:
    """Compare each LaTeX step with the formula at random inputs (derivative names random too).

    Steps that agree need no check of their own (they are the same function as the formula, so they
    get its verdict); a step that differs is returned as a claim to check, with a finding. An
    unreadable LaTeX is a finding, and the formula is checked alone.
    """
    name = formula_claim.name
    extra, notes = [], []
    for claim in latex_claims:
        if getattr(claim, "_placeholder", False):
            reason = str(claim.formula.message).splitlines()[0] if hasattr(claim.formula, "message") else ""
            notes.append(f"claim {name!r}: its LaTeX was not checked, only its formula: {reason}")
            continue
        differs = _differs(formula_claim, claim, model, derivatives)
        if differs:
            extra.append(Claim(**{**claim.__dict__, "expect": None, "reason": ""}))
            notes.append(f"claim {name!r}: its LaTeX `{claim.latex}` and its formula `{formula_claim.source}` "
                         f"disagree ({differs}); the LaTeX is checked as the claim {claim.name!r}")
    return extra, notes


def _differs(a: Claim, b: Claim, model, derivatives) -> str:
    """Why two claims' formulas differ at random inputs ("" when they agree)."""
    import numpy as np

    from gradcheck.latex.values import sample_values

    for seed in AGREEMENT_SEEDS:
        rng = np.random.default_rng(seed)
        scope = dict(sample_values(model, seed))
        for dname, (of, wrt) in {**derivatives, **a.uses, **b.uses}.items():
            if of in scope and wrt in scope:
                scope[dname] = rng.standard_normal(np.shape(scope[of]) + np.shape(scope[wrt]))
        values = []
        for claim in (a, b):
            try:
                with np.errstate(all="ignore"):
                    values.append(np.asarray(claim.formula(*[scope[n] for n in claim.reads]), dtype=float))
            except Exception as exc:  # noqa: BLE001 - a formula that cannot be evaluated is compared as such
                values.append(f"{type(exc).__name__}")
        x, y = values
        if isinstance(x, str) or isinstance(y, str):
            if isinstance(x, str) and isinstance(y, str):
                continue
            return "one of them cannot be evaluated"
        if x.shape != y.shape:
            return f"shapes {x.shape} and {y.shape}"
        scale = max(float(np.max(np.abs(x))) if x.size else 0.0, 1e-300)
        gap = float(np.max(np.abs(x - y))) / scale if x.size else 0.0
        if not gap <= AGREEMENT_RTOL:
            return f"largest relative difference {gap:.2g}"
    return ""

