"""LaTeX front-end: every construct of issue 15, parse -> formula -> verdict, and the error messages."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.check import check_claim
from gradcheck.homework import loads
from gradcheck.latex import LatexError, parse
from gradcheck.latex.equations import read_equation
from gradcheck.latex.lower import Context
from gradcheck.latex.notation import Notation

FAST = {"oracles": ("finite_difference",), "n_points": 1}

MODEL = """
title = "constructs"
[dims]
m = 4
d = 3
h = 5
c = 2
n = 4
k = 2
[constants]
lam = 0.1
[data]
X = { shape = ["m", "d"] }
Y = { shape = ["m", "c"], kind = "one_hot" }
G = { shape = ["d", "d"] }
x = { shape = ["n"] }
[params]
W1 = ["d", "h"]
b1 = ["h"]
W2 = ["h", "c"]
b2 = ["c"]
V = ["d", "c"]
u = ["d"]
A = ["d", "d"]
w = ["k"]
[forward]
Z1 = "X @ W1 + b1"
H1 = "tanh(Z1)"
S = "relu(X @ V)"
Z2 = "H1 @ W2 + b2 + S"
Yhat = "softmax(Z2, axis=1)"
N = "sqrt(sum(W2**2))"
conv = "stack([w[0] * x[0] + w[1] * x[1], w[0] * x[1] + w[1] * x[2], w[0] * x[2] + w[1] * x[3]])"
Dt = "det(A)"
Tr = "sum(diag(A))"
Dg = "diag(A)"
M = "sum(abs(b1))"
mx = "max(Z2, axis=1)"
mn = "minimum(Z2, 0.5)"
cl = "clip(Z2, -1, 1)"
penalty = "0.5 * lam * sum(W2**2) + 0.1 * sum(sigmoid(X @ u))"
extra = "0.01 * sum(G * inv(A)) + sum(conv**2)"
loss = "-sum(Y * log(Yhat)) / m + penalty + extra"
[notation]
"\\\\mathcal{L}" = "loss"

[[claims]]
name = "delta2"
wrt = "Z2"
formula = "(Yhat - Y) / m"
"""

# (id, wrt, LaTeX, expected verdict)
CLAIMS = [
    ("juxtaposition", "W2", r"\frac{\partial L}{\partial W_2} = H_1^\top \frac{\partial L}{\partial Z_2} + \lambda W_2",
     "correct"),
    ("cdot", "W2", r"\frac{\partial L}{\partial W_2} = H_1^\top \cdot \delta_2 + \lambda \cdot W_2", "correct"),
    ("times", "W2", r"\frac{\partial L}{\partial W_2} = \lambda \times W_2 + H_1^T \delta^{(2)}", "correct"),
    ("mathsf_T", "W2", r"\frac{\partial L}{\partial W^{[2]}} = H_1^{\mathsf{T}} \delta_2 + \lambda W_2",
     "correct"),
    ("intercal", "W2", r"\frac{\partial L}{\partial W_2} = (H_1)^{\intercal} \delta_2 + \lambda W_2", "correct"),
    ("ng_A1T", "W2", r"\frac{\partial \mathcal{L}}{\partial W^{[2]}} = H^{[1]T} dZ^{[2]} + \lambda W^{[2]}",
     "correct"),
    ("transpose_wrong", "W2", r"\frac{\partial L}{\partial W_2} = \delta_2^\top H_1 + \lambda W_2", "shape error"),
    ("odot", "Z1", r"\frac{\partial L}{\partial Z_1} = (\delta_2 W_2^\top) \odot (1 - H_1^2)", "correct"),
    ("circ", "Z1", r"\frac{\partial L}{\partial Z_1} = \delta_2 W_2^\top \circ \tanh'(Z_1)", "correct"),
    ("ast", "Z1", r"\frac{\partial L}{\partial Z_1} = \delta_2 W_2^\top \ast (1 - \tanh(Z_1)^2)", "correct"),
    ("odot_missing", "Z1", r"\frac{\partial L}{\partial Z_1} = \delta_2 W_2^\top", "incorrect"),
    ("frac", "Z2", r"\frac{\partial L}{\partial Z_2} = \frac{1}{m}(\hat{Y} - Y)", "correct"),
    ("slash", "Z2", r"\frac{\partial L}{\partial Z_2} = (\hat Y - Y)/m", "correct"),
    ("tfrac_dfrac", "Z2", r"\frac{\partial L}{\partial Z_2} = \tfrac{1}{m}\hat{Y} - \dfrac{Y}{m}", "correct"),
    ("dfrac_wrong_scale", "Z2", r"\frac{\partial L}{\partial Z_2} = \hat{Y} - Y", "incorrect"),
    ("softmax", "Z2", r"\frac{\partial L}{\partial Z_2} = \frac{1}{m}(\operatorname{softmax}(Z_2) - Y)", "correct"),
    ("sum_named_axis", "b2", r"\frac{\partial L}{\partial b_{2,j}} = \sum_{i=1}^{m} \delta_{2,ij}", "correct"),
    ("ones_row", "b2", r"\frac{\partial L}{\partial b_2} = \mathbf{1}^\top \delta_2", "correct"),
    ("ones_sized", "b2", r"\frac{\partial L}{\partial b_2} = \mathbf{1}_m^\top \delta_2", "correct"),
    ("ones_wrong", "b2", r"\frac{\partial L}{\partial b_2} = \frac{1}{m}\mathbf{1}_m^\top \delta_2", "incorrect"),
    ("indicator_brackets", "V", r"\frac{\partial L}{\partial V} = X^\top (\delta_2 \odot \mathbb{1}[X V > 0])",
     "correct"),
    ("indicator_braces", "V",
     r"\frac{\partial L}{\partial V} = X^\top \left(\delta_2 \odot \mathbb{1}\{XV > 0\}\right)", "correct"),
    ("indicator_missing", "V", r"\frac{\partial L}{\partial V} = X^\top \delta_2", "incorrect"),
    ("sigma_prime", "u", r"\frac{\partial L}{\partial u} = 0.1 X^\top \sigma'(X u)", "correct"),
    ("sigma", "u", r"\frac{\partial L}{\partial u} = 0.1 X^\top (\sigma(X u) \odot (1 - \sigma(X u)))", "correct"),
    ("inverse", "A", r"\frac{\partial L}{\partial A} = -0.01 (A^{-1})^\top G (A^{-1})^\top", "correct"),
    ("inverse_wrong", "A", r"\frac{\partial L}{\partial A} = -0.01 A^{-1} G A^{-1}", "incorrect"),
    ("sizing_spacing", "Z2",
     r"\frac{\partial L}{\partial Z_2} = \frac{1}{m}\,\Big(\hat{Y} \; - \bigl[ Y \bigr]\Big)\quad", "correct"),
    ("left_right_big", "Z2", r"\frac{\partial L}{\partial Z_2} = \frac{1}{m}\left(\big(\hat{Y}\big) - Y\right)",
     "correct"),
    ("bmatrix", "b2", r"\frac{\partial L}{\partial b^{[2]}} = \begin{bmatrix} \sum_{i} \delta_{2,i,1} & \sum_{i} "
     r"\delta_{2,i,2} \end{bmatrix}", "correct"),
    ("bmatrix_wrong", "b2", r"\frac{\partial L}{\partial b^{[2]}} = \begin{bmatrix} \sum_{i} \delta_{2,i,2} & "
     r"\sum_{i} \delta_{2,i,1} \end{bmatrix}", "incorrect"),
    ("index_notation", "W2", r"\frac{\partial L}{\partial W^{[2]}_{jk}} = \sum_{i=1}^{m} H^{[1]}_{ij} "
     r"\delta^{(2)}_{ik} + \lambda W^{[2]}_{jk}", "correct"),
    ("single_letter_indices", "W2", r"\frac{\partial L}{\partial W^2_{jk}} = \sum_i H^1_{ij} \delta^{(2)}_{ik} "
     r"+ \lambda W^2_{jk}", "correct"),
    ("index_order_lhs", "W2", r"\frac{\partial L}{\partial W^{[2]}_{kj}} = \sum_{i=1}^{m} H^{[1]}_{ij} "
     r"\delta^{(2)}_{ik} + \lambda W^{[2]}_{jk}", "not evaluable"),  # k and j swap ranges
    ("indicator_kj", "Z2", r"\frac{\partial L}{\partial Z_{2,ij}} = \frac{1}{m}\sum_{k=1}^{c} Y_{ik}"
     r"(\hat{Y}_{ij} - \mathbb{1}[k = j])", "correct"),
    ("index_arithmetic", "w", r"\frac{\partial L}{\partial w_j} = \sum_{i=1}^{3} 2\, conv_i\, x_{i+j-1}", "correct"),
    ("index_arithmetic_wrong", "w", r"\frac{\partial L}{\partial w_j} = \sum_{i=1}^{3} 2\, conv_i\, x_{i+j}",
     "not evaluable"),  # reaches x_5 of 4 entries
    ("scalar_step_numerator", "W2", r"\frac{\partial N}{\partial W_2} = \frac{W_2}{N}", "correct"),
    ("sqrt", "W2", r"\frac{\partial N}{\partial W_2} = W_2 / \sqrt{\sum_{j}\sum_{k} (W^{[2]}_{jk})^2}", "correct"),
]

TOML = MODEL + "".join(f"""
[[claims]]
name = "{cid}"
wrt = "{wrt}"
latex = '''{latex}'''
""" for cid, wrt, latex, _ in CLAIMS)


@pytest.fixture(scope="module")
def derivation():
    return loads(TOML, name="constructs.toml")


@pytest.mark.parametrize("cid,wrt,latex,expect", CLAIMS, ids=[c[0] for c in CLAIMS])
def test_construct_verdict(derivation, cid, wrt, latex, expect):
    claim = derivation.claim(cid)
    r = check_claim(derivation, claim, **FAST)
    assert r.verdict == expect, (claim.source, r.message, r.diagnosis)


def _make(derivation, notation=Notation()):
    return lambda latex, where: Context(derivation.model, notation, {"delta2": ("loss", "Z2")}, latex=latex,
                                        where=where)


DEFINITIONS = [
    ("relu", r"S = \mathrm{ReLU}(X V)"),
    ("exp_index", r"\hat{Y}_{ij} = \frac{\exp(Z_{2,ij})}{\sum_{k=1}^{c} \exp(Z_{2,ik})}"),
    ("log_ln", r"\mathcal{L} = -\frac{1}{m}\sum_i\sum_k Y_{ik} \ln \hat{Y}_{ik} + \frac{\lambda}{2}\sum_j\sum_k "
     r"(W^{[2]}_{jk})^2 + 0.1\sum_i \sigma(X u)_i + 0.01\operatorname{tr}(G^\top A^{-1}) + \sum_{t=1}^{3} conv_t^2"),
    ("det", r"Dt = \det A"),
    ("tr", r"Tr = \operatorname{tr}(A)"),
    ("diag", r"Dg = \operatorname{diag}(A)"),
    ("abs", r"M = \sum_j |b_{1,j}|"),
    ("max_k", r"mx_i = \max_k Z^{[2]}_{ik}"),
    ("min", r"mn = \min(Z_2, 0.5)"),
    ("clip", r"cl = \operatorname{clip}(Z_2, -1, 1)"),
    ("index_arithmetic", r"conv_i = \sum_{j=1}^{k} w_j x_{i+j-1}"),
]


@pytest.mark.parametrize("latex", [d[1] for d in DEFINITIONS], ids=[d[0] for d in DEFINITIONS])
def test_definition_agrees_with_the_forward_step(derivation, latex):
    from gradcheck.homework.markdown import _check_definition

    eq = read_equation(latex, _make(derivation))
    assert eq.kind == "definition"
    verdict, message = _check_definition(derivation.model, eq.target, eq.steps[0])
    assert verdict == "agrees", (eq.steps[0].formula, eq.steps[0].error, message)


def test_a_wrong_definition_is_reported(derivation):
    from gradcheck.homework.markdown import _check_definition

    eq = read_equation(r"\hat{Y} = \operatorname{softmax}(H_1 W_2 + b_2)", _make(derivation))
    verdict, message = _check_definition(derivation.model, eq.target, eq.steps[0])
    assert verdict == "disagrees" and "Yhat" in message


def test_ones_column_times_row_is_square(derivation):
    eq = read_equation(r"\frac{\partial L}{\partial Z_2} = \frac{1}{m^2}\mathbf{1}_m\mathbf{1}_m^\top (\hat{Y} - Y)",
                       _make(derivation))
    assert eq.steps[0].formula.count("ones((4, 1))") == 2
    ctx = _make(derivation)("", "")
    from gradcheck.expr import parse as parse_formula

    value = parse_formula("ones((4, 1)) @ ones((4, 1)).T").evaluate(ctx.sample)
    assert value.shape == (4, 4)


def test_free_indices_in_order_of_first_appearance(derivation):
    from gradcheck.latex.claims import claims_from_toml

    spec = {"wrt": "W2", "latex": r"\sum_i \delta^{(2)}_{ik} H^{[1]}_{ij}"}  # (k, j): the transpose of dW2
    claim, = claims_from_toml(spec, "dW2_free", derivation.model, Notation(), {"delta2": ("loss", "Z2")},
                              file="t.toml", index=0)
    spec2 = {"wrt": "W2", "latex": r"\sum_i H^{[1]}_{ij} \delta^{(2)}_{ik} + \lambda W^{[2]}_{jk}"}
    claim2, = claims_from_toml(spec2, "dW2_free2", derivation.model, Notation(), {"delta2": ("loss", "Z2")},
                               file="t.toml", index=0)
    r = check_claim(derivation, claim, **FAST)
    assert r.verdict == "not evaluable" and "ranges over 2 entries" in r.message  # k (2) on W2's 5-axis
    assert check_claim(derivation, claim2, **FAST).verdict == "correct"


def test_declaration_names_a_true_derivative(derivation):
    eq = read_equation(r"\delta^{3} \equiv \frac{\partial \mathcal{L}}{\partial Z^{[1]}} = \delta_2 W_2^\top "
                       r"\odot (1 - H_1^2)", _make(derivation))
    assert eq.kind == "declaration" and eq.declared == {"delta3": ("loss", "Z1")}
    assert eq.steps[0].formula is not None


def test_greek_by_notation_table(derivation):
    notation = Notation(symbols={r"\eta": "lam"})
    eq = read_equation(r"\frac{\partial L}{\partial W_2} = H_1^\top \delta_2 + \eta W_2", _make(derivation, notation))
    assert "lam * W2" in eq.steps[0].formula


def test_both_formula_and_latex_are_checked_and_disagreement_reported():
    """With both, the LaTeX is compared with the formula: agreeing steps share its verdict, a differing
    step becomes a claim of its own, and the disagreement (or an unreadable LaTeX) is a finding."""
    toml = MODEL + """
[[claims]]
name = "dZ2"
wrt = "Z2"
formula = "(Yhat - Y) / m"
latex = '\\frac{\\partial L}{\\partial Z_2} = \\frac{1}{m}(\\hat{Y} - Y) = \\hat{Y} - Y'
[[claims]]
name = "dW2"
wrt = "W2"
formula = "H1.T @ delta2 + lam * W2"
latex = 'H_1^\\top \\delta_2 + \\lambda W_2'
[[claims]]
name = "dZ1"
wrt = "Z1"
formula = "(delta2 @ W2.T) * (1 - H1**2)"
latex = '\\text{see the notes}'
"""
    d = loads(toml, name="both.toml")
    names = [c.name for c in d.claims]
    assert names[-4:] == ["dZ2", "dZ2.latex", "dW2", "dZ1"]  # only the differing step is a claim of its own
    assert d.claim("dZ2.latex").latex == r"\hat{Y} - Y"
    assert check_claim(d, d.claim("dZ2.latex"), **FAST).verdict == "incorrect"
    assert check_claim(d, d.claim("dZ2"), **FAST).verdict == "correct"
    assert len(d.findings) == 2
    assert "dZ2" in d.findings[0] and "disagree" in d.findings[0] and "largest relative difference" in d.findings[0]
    assert "dZ1" in d.findings[1] and "not checked, only its formula" in d.findings[1]


# ---------------------------------------------------------------------------------------------- errors
def _error(derivation, latex) -> str:
    eq = read_equation(latex, _make(derivation))
    errors = [s.error for s in eq.steps if s.error is not None]
    assert errors, [s.formula for s in eq.steps]
    return str(errors[0])


def test_unknown_symbol_quotes_and_points(derivation):
    msg = _error(derivation, r"\frac{\partial L}{\partial W_2} = H_1^\top \Xi")
    lines = msg.splitlines()
    assert "unknown symbol `\\Xi`" in lines[0]
    assert lines[1].strip() == r"\frac{\partial L}{\partial W_2} = H_1^\top \Xi"
    caret = lines[2].index("^")
    assert lines[1][caret:caret + 3] == r"\Xi"
    assert "[notation]" in msg


def test_ambiguous_superscript_lists_candidates():
    toml = MODEL.replace('V = ["d", "c"]', 'V = ["d", "c"]\nW = ["h", "h"]')
    d = loads(toml, name="amb.toml")
    msg = _error(d, r"\frac{\partial L}{\partial W^{[2]}} = W^2 \delta_2")
    assert "ambiguous symbol `W^2`" in msg and "W2 (layer 2)" in msg and "W to the power 2" in msg


def test_unbalanced_brace_points_at_the_brace():
    with pytest.raises(LatexError) as info:
        parse(r"\frac{\partial L}{\partial W_2 = X")
    lines = str(info.value).splitlines()
    assert "unbalanced brace" in lines[0]
    assert lines[1][lines[2].index("^")] == "{"


def test_syntax_error_points_at_the_token():
    with pytest.raises(LatexError) as info:
        parse(r"a + ) b")
    lines = str(info.value).splitlines()
    assert "cannot read the LaTeX at" in lines[0]
    assert lines[1][lines[2].index("^")] == ")"


def test_ellipsis_is_not_a_formula(derivation):
    assert "leaves entries out" in _error(derivation, r"\frac{\partial L}{\partial b_2} = \begin{bmatrix} 1 & "
                                                      r"\cdots \end{bmatrix}")


@pytest.mark.parametrize("latex,fragment", [
    (r"\frac{\partial L}{\partial W_2} = \sum_{i=0}^{m} H_{1,ij}", "1-based"),
    (r"\frac{\partial L}{\partial W_{2,jk}} = H_{1,ij}", "not an index of the left side"),
    (r"\frac{\partial L}{\partial W_2} = H_1^\top W_{2,jk}", "mixes a matrix expression with index notation"),
    (r"\frac{\partial L}{\partial W_2} = \sigma", "has no argument"),
])
def test_index_and_function_errors(derivation, latex, fragment):
    assert fragment in _error(derivation, latex)


def test_lowering_is_seed_independent(derivation):
    """The IR formula depends on shapes only, not on the values of the sample point."""
    make = _make(derivation)
    a = read_equation(CLAIMS[0][2], make).steps[0].formula
    rng = np.random.default_rng(7)
    ctx = make(CLAIMS[0][2], "")
    ctx.sample = {k: (rng.standard_normal(np.shape(v)) if np.ndim(v) else v) for k, v in ctx.sample.items()}
    b = read_equation(CLAIMS[0][2], lambda latex, where: ctx).steps[0].formula
    assert a == b


def test_inverse_and_determinant_on_every_backend():
    """inv and det (for ^{-1} and \\det) run on numpy, JAX and SymPy values alike."""
    import jax
    import jax.numpy as jnp
    import sympy

    from gradcheck import ops

    jax.config.update("jax_enable_x64", True)  # as the autodiff oracle runs it

    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    exact = np.array([[sympy.Integer(2), sympy.Integer(1)], [sympy.Rational(1, 2), sympy.Integer(3)]], dtype=object)
    want_inv, want_det = np.linalg.inv(a), np.linalg.det(a)
    for value in (a, jnp.asarray(a), exact):
        np.testing.assert_allclose(np.asarray(ops.inv(value), dtype=float), want_inv, rtol=1e-12)
        assert abs(float(ops.det(value)) - want_det) < 1e-12
    assert ops.det(exact) == sympy.Rational(11, 2)


@pytest.mark.parametrize("notation,latex,formula", [
    (Notation(prime="transpose"), r"\frac{\partial L}{\partial W_2} = H_1' \delta_2 + \lambda W_2",
     "H1.T @ delta2 + lam * W2"),
    (Notation(cdot="elementwise"), r"\frac{\partial L}{\partial Z_1} = \delta_2 W_2^\top \cdot (1 - H_1^2)",
     "delta2 @ W2.T * (1 - H1 ** 2)"),
    (Notation(), r"\frac{\partial L}{\partial Z_1} = \delta_2 W_2^\top \cdot W_2", "delta2 @ W2.T @ W2"),
    (Notation(), r"dW_2 = H_1^\top \delta_2 + \lambda W_2", "H1.T @ delta2 + lam * W2"),
])
def test_notation_settings_and_d_names(derivation, notation, latex, formula):
    eq = read_equation(latex, _make(derivation, notation))
    assert eq.kind == "claim" and eq.steps[0].formula == formula, eq.steps[0].error


def test_a_prime_on_a_symbol_needs_the_setting(derivation):
    assert 'prime = "transpose"' in _error(derivation, r"\frac{\partial L}{\partial W_2} = H_1' \delta_2")


def test_coloneq_declares_like_equiv(derivation):
    eq = read_equation(r"\Delta := \frac{\partial L}{\partial Z_2}", _make(derivation))
    assert eq.kind == "declaration" and eq.declared == {"Delta": ("loss", "Z2")}


SOFTMAX_TEMPLATE = """
[dims]
m = {m}
d = {d}
c = {c}
[data]
X = {{ shape = ["m", "d"] }}
Y = {{ shape = ["m", "c"], kind = "one_hot" }}
[params]
W = ["d", "c"]
b = ["c"]
[forward]
Z = "X @ W + b"
P = "softmax(Z, axis=1)"
loss = "-sum(Y * log(P)) / m"
[notation]
"\\\\hat{{Y}}" = "P"
"""

PROPERTY_CLAIMS = [  # LaTeX, verdict at every size (None: correct only when the shapes happen to allow it)
    (r"\frac{\partial L}{\partial W} = \frac{1}{m} X^\top (\hat{Y} - Y)", "correct"),
    (r"\frac{\partial L}{\partial W_{jk}} = \frac{1}{m}\sum_{i=1}^{m} X_{ij}(\hat{Y}_{ik} - Y_{ik})", "correct"),
    (r"\frac{\partial L}{\partial b} = \frac{1}{m}\mathbf{1}^\top (\hat{Y} - Y)", "correct"),
    (r"\frac{\partial L}{\partial b_k} = \frac{1}{m}\sum_i (\hat{Y}_{ik} - Y_{ik})", "correct"),
    (r"\frac{\partial L}{\partial W} = X^\top (\hat{Y} - Y)", "incorrect"),
]


@settings(max_examples=6, deadline=None, derandomize=True)
@given(m=st.integers(2, 5), d=st.integers(1, 4), c=st.integers(2, 4))
def test_latex_verdicts_hold_at_every_size(m, d, c):
    """The lowering reads shapes, never values: the same LaTeX gets the same verdict at any dims."""
    body = "".join(f"\n[[claims]]\nname = \"c{k}\"\nlatex = '''{latex}'''\n" for k, (latex, _) in
                   enumerate(PROPERTY_CLAIMS))
    d_ = loads(SOFTMAX_TEMPLATE.format(m=m, d=d, c=c) + body, name="sizes.toml")
    for k, (_, want) in enumerate(PROPERTY_CLAIMS):
        r = check_claim(d_, d_.claim(f"c{k}"), **FAST)
        assert r.verdict == want, (m, d, c, d_.claim(f"c{k}").source, r.message)


FUZZ_TOKENS = [r"\frac{", "}{", "}", "{", r"\partial ", "L", "W_2", "W^{[2]}", "H_1", r"^\top", "^T", "_{ij}", "_i",
               "^2", "^{-1}", r"\sum_{i=1}^{m}", r"\sum_k", r"\odot ", r"\cdot ", "+", "-", "=", "(", ")", "[", "]",
               r"\left(", r"\right)", r"\sigma", r"\tanh", "'", r"\mathbf{1}", r"\mathbb{1}", ">", "0", "1", "m",
               r"\hat{Y}", "Y", "X", r"\lambda", r"\delta_2", "|", "&", r"\\", r"\begin{bmatrix}", r"\end{bmatrix}",
               ",", r"\max_k", r"\min", r"\operatorname{softmax}", r"\det", r"\text{so}", r"\cdots", "x_{i+j-1}",
               r"\equiv", ":=", "dZ_2", "/"]
FUZZ_LEFT = [r"\frac{\partial L}{\partial W_2} = ", r"\frac{\partial L}{\partial W^{[2]}_{jk}} = ", "dW_2 = ",
             r"\delta \equiv \frac{\partial L}{\partial Z_2} = ", r"\hat{Y}_{ij} = ", "S = ", ""]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(left=st.sampled_from(FUZZ_LEFT), tokens=st.lists(st.sampled_from(FUZZ_TOKENS), min_size=1, max_size=9))
def test_any_latex_gives_a_latex_error_or_a_valid_formula(derivation, left, tokens):
    """Never a traceback: bad LaTeX raises LatexError; what is read lowers to a formula expr.py accepts."""
    from gradcheck.expr import parse as parse_formula

    latex = left + " ".join(tokens)
    try:
        eq = read_equation(latex, _make(derivation), wrt="W2")
    except LatexError as exc:
        assert str(exc)
        return
    for step in eq.steps:
        assert (step.formula is None) != (step.error is None)
        if step.formula is not None:
            parse_formula(step.formula)


def test_one_dimensional_arrays_are_columns():
    """x^T y is an inner product and x y^T an outer product, for 1-D arrays as for column vectors."""
    claims = {"outer": r"(g \odot \tanh'(z)) x^\top", "inner": r"x^\top (g \odot \tanh'(z))",
              "scalar": r"g^\top \tanh'(z)"}
    text = ('[dims]\nd = 3\nh = 4\n[data]\nx = ["d"]\ng = ["h"]\n[params]\nW = ["h", "d"]\n[forward]\n'
            'z = "W @ x"\nloss = "sum(g * tanh(z))"\n'
            + "".join(f"[[claims]]\nname = \"{n}\"\nlatex = '''\\frac{{\\partial L}}{{\\partial W}} = {rhs}'''\n"
                      for n, rhs in claims.items()))
    d = loads(text, name="columns.toml")
    assert d.claim("outer").source.startswith("outer(")
    assert check_claim(d, d.claim("outer"), **FAST).verdict == "correct"
    assert check_claim(d, d.claim("inner"), **FAST).verdict == "shape error"
    assert check_claim(d, d.claim("scalar"), **FAST).verdict == "shape error"  # a scalar is never spread out


def test_toml_notation_entry_must_name_something():
    from gradcheck.homework import HomeworkError

    with pytest.raises(HomeworkError, match="maps to 'Yhatt', which is not a name of the model; did you mean 'Yhat'"):
        loads(MODEL.replace('"loss"', '"Yhatt"', 1) + "[[claims]]\nname = 'q'\nwrt = 'Z2'\nlatex = 'Y'\n",
              name="n.toml")


def test_cli_prints_a_latex_disagreement(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    f = tmp_path / "both.toml"
    f.write_text(MODEL + "[[claims]]\nname = 'dZ2'\nwrt = 'Z2'\nformula = '(Yhat - Y) / m'\n"
                 "latex = '\\hat{Y} - Y'\n", encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "gradcheck", "check", str(f), "--oracles", "finite_difference",
                        "--no-repair"], capture_output=True, text=True, timeout=300,
                       cwd=Path(__file__).resolve().parents[1])
    assert p.returncode == 1, p.stderr
    assert "LaTeX: claim 'dZ2': its LaTeX `\\hat{Y} - Y` and its formula `(Yhat - Y) / m` disagree" in p.stdout
    assert "dZ2.latex" in p.stdout and "INCORRECT" in p.stdout
