"""gradcheck: verify hand-derived gradient formulas against three independent oracles.

Finite differences (numpy: complex step, central differences with Richardson extrapolation,
random-direction probes), SymPy symbolic differentiation, and JAX autodiff in float64.
"""

from gradcheck.claim import Claim, Derivation
from gradcheck.model import Data, Model, ModelError

__all__ = ["Claim", "Data", "Derivation", "Model", "ModelError", "check_claim", "check_derivation",
           "assert_gradient", "check_function", "assert_function", "check_hessian", "assert_hessian"]
__version__ = "0.1.0"


def __getattr__(name):  # the checker pulls in numpy-heavy modules; load on first use
    if name in ("check_claim", "check_derivation", "assert_gradient"):
        from gradcheck import check

        return getattr(check, name)
    if name in ("check_function", "assert_function"):
        from gradcheck import function

        return getattr(function, name)
    if name in ("check_hessian", "assert_hessian"):
        from gradcheck import second_order

        return getattr(second_order, name)
    raise AttributeError(name)
