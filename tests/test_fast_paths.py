"""The fast paths give what the slow ones give: SymEngine's 50-digit evaluation and differentiation
against SymPy's, and JAX's one-function-per-model compilation against one function per derivative."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.homework.load import load
from gradcheck.oracles import autodiff as ad
from gradcheck.oracles import symbolic as sym
from gradcheck.points import draw_points

X, Y = sympy.symbols("_s_x _s_y", real=True)
EXPRESSIONS = [
    sympy.tanh(X) * Y**2 / 3 + sympy.log(1 + sympy.exp(-X)),
    1 / (1 + sympy.exp(-X * Y)) - sympy.Rational(1, 7) * X,
    sympy.sqrt(X**2 + 1) * sympy.exp(Y) / (2 + sympy.tanh(Y)),
]


def _lambdify_at(exprs, values):
    fn = sympy.lambdify([X, Y], exprs, modules="mpmath")
    with mpmath.workdps(sym.DIGITS):
        return list(fn(*values))


@settings(max_examples=25, deadline=None)
@given(st.integers(-3000, 3000), st.integers(-3000, 3000))
def test_symengine_evaluates_to_50_digits_as_lambdify_does(a, b):
    values = [sym._mp(sympy.Rational(a, 1000)), sym._mp(sympy.Rational(b, 1000))]
    fast = sym._symengine_evaluator(np.array([X, Y], dtype=object), EXPRESSIONS)
    assert fast is not None
    with mpmath.workdps(sym.DIGITS):
        gaps = [abs(p - q) for p, q in zip(fast(values), _lambdify_at(EXPRESSIONS, values))]
    assert max(gaps) < mpmath.mpf(10) ** -45


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=["tanh-log", "sigmoid", "sqrt-exp"])
def test_symengine_differentiates_as_sympy_does(expr):
    grad = sym._gradient_symengine(expr, [X, Y])
    assert grad is not None
    for g, s in zip(grad, (X, Y)):
        assert sympy.simplify(g - sympy.diff(expr, s)) == 0
        assert g.free_symbols <= {X, Y}  # the real symbols, not SymEngine's assumption-free copies


def test_what_symengine_cannot_differentiate_is_left_to_sympy():
    assert sym._gradient_symengine(sympy.Abs(X) * Y, [X, Y]) is None
    jac = sym._jacobian(np.array(sympy.Abs(X) * Y, dtype=object), np.array([X, Y], dtype=object))
    assert sympy.simplify(jac[0] - sympy.sign(X) * Y) == 0


@pytest.mark.parametrize("example", ["mlp_tanh_softmax", "lstm_step"])
def test_one_compiled_function_per_model_gives_each_derivative(example):
    doc = load(f"examples/{example}.toml")
    model = doc.model
    pairs = [(c.target(model), c.wrt) for c in doc.claims]
    pairs += [p for c in doc.claims for p in doc.derivative_names(c).values()]
    point = draw_points(model, 1, seed=3)[0]
    jax = ad._jax()
    inputs = {k: jax.numpy.asarray(v, dtype=jax.numpy.float64) for k, v in point.values.items()}
    ad.plan(model, pairs)
    _, together = ad._planned(model, pairs, inputs)
    for of, wrt in dict.fromkeys(pairs):
        alone = ad.compiled_jacobian(model, of, wrt, jit=False)(inputs)[1]
        np.testing.assert_allclose(np.asarray(together[(of, wrt)]), np.asarray(alone), rtol=1e-12, atol=1e-14)
