"""Does a claim's own LaTeX, parsed, give the verdict of its hand-encoded formula?

For each claim of a :class:`~gradcheck.claim.Derivation` the LaTeX is read with a notation table;
the LAST right-hand side of its equation is checked as a claim on the same quantities, and its
verdict is compared with the claim's expected verdict. Rows say why a claim could not be compared:
the LaTeX does not parse or map (with the first line of the error), it states a derivative of other
quantities than the claim encodes (a generic rule, a single entry), or the claim is an update rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from gradcheck.check import check_claim
from gradcheck.claim import Claim, Derivation
from gradcheck.latex.claims import context_factory, equation_claims
from gradcheck.latex.equations import read_equation
from gradcheck.latex.grammar import LatexError
from gradcheck.latex.notation import Notation

STATUSES = ("agree", "disagree", "unreadable", "other derivative", "update rule")


@dataclass(frozen=True)
class Agreement:
    document: str
    claim: str
    status: str  # one of STATUSES
    detail: str = ""
    latex_verdict: str | None = None
    expected: str | None = None
    formula: str | None = None


def _same_kind(a: str, b: str, scalar_of: bool) -> bool:
    """Kinds that ask for the same array (a Jacobian of a scalar is its gradient)."""
    squash = {"recursion": "gradient", "jacobian": "gradient" if scalar_of else "jacobian"}
    return squash.get(a, a) == squash.get(b, b)


def claim_agreement(derivation: Derivation, claim: Claim, notation: Notation, *,
                    check_kwargs: dict | None = None) -> Agreement:
    model = derivation.model_of(claim)
    row = dict(document=derivation.id, claim=claim.name, expected=claim.expect)
    if claim.kind == "update":
        return Agreement(status="update rule", detail="an update rule (\\leftarrow) is not a derivative equation",
                         **row)
    make = context_factory(model, notation, derivation.derivative_names(claim))
    try:
        eq = read_equation(claim.latex, make)
    except LatexError as exc:
        return Agreement(status="unreadable", detail=exc.reason, **row)
    if eq.kind not in ("claim", "declaration") or not eq.steps:
        return Agreement(status="unreadable", detail="no derivative on the left side", **row)
    import numpy as np

    scalar_of = np.shape(make("", "").sample.get(eq.of, 0.0)) == ()
    if (eq.of, eq.wrt) != (claim.target(model), claim.wrt) or not _same_kind(eq.claim_kind, claim.kind, scalar_of):
        return Agreement(status="other derivative",
                         detail=f"the LaTeX states d {eq.of} / d {eq.wrt} ({eq.claim_kind}), the claim encodes "
                                f"d {claim.target(model)} / d {claim.wrt} ({claim.kind})", **row)
    last = eq.steps[-1]
    if last.error is not None:
        return Agreement(status="unreadable", detail=last.error.reason, **row)
    eq.steps = [last]
    latex_claim, = equation_claims(eq, f"{claim.name}.latex", model, derivation.derivative_names(claim))
    latex_claim = Claim(**{**latex_claim.__dict__, "model": claim.model, "kind": claim.kind,
                           "layout": claim.layout})
    r = check_claim(derivation, latex_claim, **(check_kwargs or {}))
    status = "agree" if r.verdict == claim.expect else "disagree"
    return Agreement(status=status, latex_verdict=r.verdict, formula=last.formula,
                     detail="" if status == "agree" else f"the LaTeX is {r.verdict}, the formula {claim.expect}",
                     **row)


def derivation_agreement(derivation: Derivation, notation: Notation, **kwargs) -> list[Agreement]:
    return [claim_agreement(derivation, c, notation, **kwargs) for c in derivation.claims]
