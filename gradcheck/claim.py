"""Claims: a closed-form formula for the derivative of one named quantity with respect to another.

A claim's ``formula`` is a plain function whose parameter names are names of the model (data,
parameters, steps), dims, constants, or *derivative names*: ``uses={"delta2": ("loss", "z2")}``
makes ``delta2`` the true value of d loss / d z2 when the formula is judged, so an error is
charged to the equation that makes it and not to the ones it builds on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from gradcheck.model import Model, ModelError, arg_names

KINDS = ("gradient", "jacobian", "elementwise", "recursion", "update", "value")
#: numerator / denominator: the shapes of the quantities (``wrt`` for a gradient; ``of + wrt`` or
#: ``wrt + of`` for a Jacobian). The others are a document's own convention, declared on the claim
#: and stated in the report: ``squeezed`` (the numerator shape without its length-1 axes: a document
#: whose 1 x n rows are vectors writes their Jacobian as an n x k matrix), ``row`` (1, N),
#: ``column`` (N, 1) and ``flat`` (N,), N the number of entries. Nothing is ever reshaped unless a
#: claim declares it: a value of another shape is a finding.
LAYOUTS = ("numerator", "denominator", "squeezed", "row", "column", "flat")
VERDICTS = ("correct", "incorrect", "shape error", "not evaluable", "oracles disagree")


@dataclass(frozen=True, eq=False)
class Claim:
    """One equation of a derivation.

    kind:
      * ``gradient``: d(scalar of)/d(wrt), same shape as ``wrt``;
      * ``recursion``: the same, for a backprop recursion (δ of a layer from the next one's);
      * ``jacobian``: numerator layout ``J[i..., j...] = d of_i / d wrt_j`` (shape of + wrt);
        ``layout="denominator"`` for ``wrt + of`` (the transposed convention); see ``LAYOUTS``
        for a document's declared row / column / flat / squeezed convention;
      * ``elementwise``: the diagonal of the Jacobian of an elementwise map (shape of wrt);
      * ``update``: the new value ``wrt - lr * d objective / d wrt`` of a gradient-descent step,
        with ``lr`` the name of a constant;
      * ``value``: no derivative: the formula is a statement about the value of ``of`` itself (a
        definition, or a prose statement such as "sigma(z2) = y^"); ``wrt`` names the quantity the
        statement is written in terms of.
    """

    name: str
    wrt: str
    formula: Callable
    of: str | None = None  # default: the model's objective
    latex: str = ""
    locator: str = ""
    kind: str = "gradient"
    layout: str = "numerator"
    convention: str = ""
    expect: str | None = None
    reason: str = ""
    expect_diagnosis: str | None = None
    uses: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    lr: str | None = None
    model: Model | None = None
    source: str | None = None  # formula text (homework files); else read from the function
    fixed_size: str = ""  # why the formula holds at the model's own sizes only (written entry by entry): no second size

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ModelError(f"claim {self.name!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.layout not in LAYOUTS:
            raise ModelError(f"claim {self.name!r}: layout {self.layout!r} is not one of {', '.join(LAYOUTS)}")
        if self.expect is not None and self.expect not in VERDICTS:
            raise ModelError(f"claim {self.name!r}: expect {self.expect!r} is not one of {', '.join(VERDICTS)}")
        if self.kind == "update" and not self.lr:
            raise ModelError(f"claim {self.name!r}: an update claim needs lr= (the learning-rate constant)")
        object.__setattr__(self, "uses", dict(self.uses))

    @property
    def reads(self) -> tuple[str, ...]:
        return arg_names(self.formula)

    def target(self, model: Model) -> str:
        return self.of or model.objective

    def with_formula(self, formula: Callable, *, name: str | None = None, source: str | None = None) -> "Claim":
        from dataclasses import replace

        return replace(self, formula=formula, name=name or self.name, source=source, expect=None,
                       reason="", expect_diagnosis=None)


@dataclass(frozen=True, eq=False)
class Derivation:
    """A source document: its model(s) and its claims, in document order."""

    id: str
    title: str
    source: str
    model: Model
    claims: tuple[Claim, ...]
    description: str = ""
    notation: str = ""  # markdown table
    conventions: str = ""
    findings: tuple[str, ...] = ()  # document-level findings (inconsistent shapes, ...)
    uses: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # python name -> LaTeX in the document's notation (``"Z3": r"Z^{(3)}"``); a helper function's
    # entry is a template with ``#1``, ``#2`` for its arguments, as in a LaTeX macro (``"relu_prime": r"\varphi'(#1)"``)
    symbols: Mapping[str, str] = field(default_factory=dict)
    # claim name -> what a reader must know about its fix (e.g. a repair that follows an earlier wrong line)
    fix_notes: Mapping[str, str] = field(default_factory=dict)

    def model_of(self, claim: Claim) -> Model:
        return claim.model or self.model

    def derivative_names(self, claim: Claim) -> dict[str, tuple[str, str]]:
        return {**self.uses, **claim.uses}

    def claim(self, name: str) -> Claim:
        for c in self.claims:
            if c.name == name:
                return c
        raise KeyError(f"{self.id}: no claim named {name!r}")


def resolve_args(claim: Claim, model: Model, values: Mapping[str, Any],
                 derivatives: Mapping[str, Any]) -> list[Any]:
    """The formula's arguments, by name, from derivative values then model values."""
    args = []
    for name in claim.reads:
        if name in derivatives:
            args.append(derivatives[name])
        elif name in values:
            args.append(values[name])
        else:
            from gradcheck.model import _suggest

            raise ModelError(f"claim {claim.name!r}: formula reads unknown name {name!r}"
                             f"{_suggest(name, list(values) + list(derivatives))}")
    return args
