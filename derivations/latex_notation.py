"""Per-document notation tables for reading each claim's LaTeX (:mod:`gradcheck.latex.agreement`).

The keys are the documents' own LaTeX spellings, the values our model names, as a homework file's
``[notation]`` table would write them. Symbols that match automatically (``\\mathbf{z}^3`` -> ``z3``,
``\\hat{y}`` -> ``yhat``, ``W_2`` -> ``W2``) are not listed.
"""

from gradcheck.latex.notation import Notation, squash

NOTATION = {
    # 000: the document writes every rule for a generic layer l; only the repaired, layer-3 forms name a layer
    "000": Notation(symbols={squash(k): v for k, v in {
        "J": "ce", "h_{W,b}(x)": "h", r"\Delta^{(l+1)}": "Delta3", r"\Delta^{(3)}": "Delta3",
    }.items()}),
    # 001: H(\hat y, y) is the loss H; \delta^1, \delta^2, \delta^3 are the document's error signals
    "001": Notation(symbols={squash(k): v for k, v in {
        r"H(\mathbf{\hat{y}},\mathbf{y})": "H", r"\mathbf{H(y, \hat{y})}": "H",
        r"\delta^1": "delta1", r"\delta^2": "delta2", r"\delta^3": "delta3", "w": "W",
        # the claims about single entries differentiate entry models whose inputs are the entries
        "z^3_1": "z3_1", "z^3_2": "z3_2", "h^2_1": "h2_1", "h^2_2": "h2_2", "h^2_3": "h2_3", "h^2_4": "h2_4",
        "{h}^2_1": "h2_1", "{h}^2_2": "h2_2", "{h}^2_3": "h2_3", "{h}^2_4": "h2_4", "z^2_1": "z2_1",
        "w^3_{1,1}": "w3_11", "w^3_{3,2}": "w3_32", "w^3_{2,3}": "w3_23", "b^3_{1}": "b3_1",
    }.items()}),
    # 002: index notation with multi-letter indices (n_l, n_{l+1}) and example superscripts (p, l)
    "002": Notation(symbols={squash(k): v for k, v in {"C": "C"}.items()},
                    functions={"f": "tanh"}),
    # 003: Loss is the model's Loss; the document reads y^ as sigma(z2) ("Since, sigma(z_2) = y^"), our s2
    "003": Notation(symbols={squash(k): v for k, v in {r"\hat{y}": "s2"}.items()}),
}
