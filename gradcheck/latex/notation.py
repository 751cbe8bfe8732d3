"""Notation: how LaTeX symbols map to model names, and the ``[notation]`` table.

Matching rules (:func:`stems` and :class:`Notation`):

* a letter is itself (``W``), a Greek command its name and its usual abbreviations
  (``\\lambda`` -> ``lambda``, ``lam``, ``lmbda``), fonts are transparent (``\\mathbf{x}`` -> ``x``),
  accents are suffixes (``\\hat{y}`` -> ``yhat``, ``y_hat``);
* a layer label in ``^{(2)}``, ``^{[2]}``, ``_2`` or a bare ``^2`` is appended (``W^{[2]}`` -> ``W2``);
* the ``[notation]`` table overrides everything: ``"\\\\lambda" = "lam"``, ``"f" = "sigmoid"``
  (a function), and two settings: ``cdot = "matrix" | "elementwise"``, ``prime = "derivative" |
  "transpose"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from gradcheck.latex.grammar import LatexError

GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota",
         "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi",
         "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "ell")
ABBREVIATIONS = {"lambda": ("lam", "lmbda", "lambd"), "epsilon": ("eps",), "varepsilon": ("eps", "epsilon"),
                 "Lambda": ("Lam",), "vartheta": ("theta",), "varphi": ("phi",), "ell": ("l",)}
ACCENT_SUFFIX = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde",
                 "widetilde": "tilde", "dot": "dot"}
TRANSPARENT_FONTS = ("mathbf", "boldsymbol", "bm", "mathit", "mathrm", "textbf", "vec", "mathbfit", "pmb",
                     "mathsf")
#: LaTeX spellings of the objective, used for the numerator of a derivative when the model has no such name
OBJECTIVE_SPELLINGS = ("L", "\\mathcal{L}", "J", "\\mathcal{J}", "C", "E", "\\mathcal{E}", "H", "\\ell", "loss",
                       "\\mathrm{loss}", "\\text{loss}", "l", "\\mathcal{C}")
SETTINGS = {"cdot": ("matrix", "elementwise"), "prime": ("derivative", "transpose")}


@dataclass(frozen=True)
class Notation:
    """A ``[notation]`` table: LaTeX spelling -> model name or function, plus two settings."""

    symbols: Mapping[str, str] = field(default_factory=dict)
    functions: Mapping[str, str] = field(default_factory=dict)
    cdot: str = "matrix"
    prime: str = "derivative"

    def lookup(self, latex: str) -> str | None:
        return self.symbols.get(squash(latex))

    def function(self, latex: str) -> str | None:
        return self.functions.get(squash(latex))


def squash(latex: str) -> str:
    """A spelling without spaces, so that ``\\hat {y}`` and ``\\hat{y}`` are the same key."""
    return "".join(latex.split())


def notation_from_table(table: Mapping, function_names, where: str = "[notation]") -> Notation:
    """Build a :class:`Notation` from a TOML table; bad entries raise :class:`LatexError`."""
    symbols, functions, settings = {}, {}, {}
    for key, value in dict(table or {}).items():
        if not isinstance(value, str):
            raise LatexError(f"{where}: the value of {key!r} must be a string (a model name or a function), "
                             f"got {value!r}")
        if key in SETTINGS:
            if value not in SETTINGS[key]:
                raise LatexError(f"{where}: {key} must be one of {', '.join(map(repr, SETTINGS[key]))}, "
                                 f"got {value!r}")
            settings[key] = value
        elif value in function_names:
            functions[squash(key)] = value
        else:
            symbols[squash(key)] = value
    return Notation(symbols=symbols, functions=functions, **settings)


def greek_stems(command: str) -> tuple[str, ...]:
    if command not in GREEK:
        return ()
    return (command,) + ABBREVIATIONS.get(command, ())


def check_notation(notation: Notation, names, where: str = "[notation]") -> None:
    """Every entry must map to a name the formulas can use (a model name, dim, constant or claim)."""
    import difflib

    known = sorted(map(str, names))
    for key, value in notation.symbols.items():
        if value not in known:
            close = difflib.get_close_matches(value, known, n=3)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else f" (names: {', '.join(known)})"
            raise LatexError(f"{where}: `{key}` maps to {value!r}, which is not a name of the model{hint}")
