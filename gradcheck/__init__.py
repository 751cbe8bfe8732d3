"""gradcheck: verify hand-derived gradient formulas against three independent oracles.

Finite differences (numpy: complex step, central differences with Richardson extrapolation,
random-direction probes), SymPy symbolic differentiation, and JAX autodiff in float64.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradcheck.check import assert_gradient, check_claim, check_derivation
    from gradcheck.claim import Claim, Derivation
    from gradcheck.function import assert_function, check_function
    from gradcheck.model import Data, Model, ModelError
    from gradcheck.second_order import assert_hessian, check_hessian

__all__ = ["Claim", "Data", "Derivation", "Model", "ModelError", "check_claim", "check_derivation",
           "assert_gradient", "check_function", "assert_function", "check_hessian", "assert_hessian"]
__version__ = "0.1.0"

# Loaded on first use: importing the package (as ``python -m gradcheck`` and ``gradcheck --help`` do)
# pulls in no numpy, so the command line starts at once and Ctrl-C meets gradcheck's own handler.
_HOME = {"Claim": "claim", "Derivation": "claim", "Data": "model", "Model": "model", "ModelError": "model",
         "check_claim": "check", "check_derivation": "check", "assert_gradient": "check",
         "check_function": "function", "assert_function": "function",
         "check_hessian": "second_order", "assert_hessian": "second_order"}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'gradcheck' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"gradcheck.{_HOME[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
