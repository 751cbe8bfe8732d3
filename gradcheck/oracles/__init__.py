"""The three oracles. Each answers "what is d(of)/d(wrt) here, and what does the claim say?"

Every oracle is a pure function ``(model, claim, points, uses) -> Measurement``: numbers only,
with the method used and the oracle's own error estimate. Judging them is :mod:`gradcheck.verdict`.
"""

ORACLES = ("finite_difference", "symbolic", "autodiff")


def repair_oracles(oracles=None) -> tuple[str, ...]:
    """The oracles that confirm a repair found by the search: finite differences and JAX (complex
    step and autodiff at every point and at the second size); SymPy only when it is the one oracle
    chosen. SymPy's exact set-up for every candidate cost more than all the rest of a file or report."""
    chosen = tuple(oracles or ORACLES)
    return tuple(o for o in chosen if o != "symbolic") or chosen
