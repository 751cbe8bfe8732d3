"""The three oracles. Each answers "what is d(of)/d(wrt) here, and what does the claim say?"

Every oracle is a pure function ``(model, claim, points, uses) -> Measurement``: numbers only,
with the method used and the oracle's own error estimate. Judging them is :mod:`gradcheck.verdict`.
"""

ORACLES = ("finite_difference", "symbolic", "autodiff")
