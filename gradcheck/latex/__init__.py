"""LaTeX front-end: parse a derivation's LaTeX into the formulas (:mod:`gradcheck.expr`) the engine checks.

* :mod:`~gradcheck.latex.grammar`: the Lark grammar, the node tree and :class:`LatexError`;
* :mod:`~gradcheck.latex.notation`: how LaTeX symbols map to model names (``[notation]``);
* :mod:`~gradcheck.latex.lower`: tree -> formula text, resolving symbols, products and indices;
* :mod:`~gradcheck.latex.equations`: an equation's left side (derivative, definition, declaration)
  and each step of a chain ``A = B = C``;
* :mod:`~gradcheck.latex.claims`: equations -> :class:`~gradcheck.claim.Claim` objects.
"""

from gradcheck.latex.grammar import LatexError, parse

__all__ = ["LatexError", "parse"]
