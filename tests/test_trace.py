"""gradcheck.trace: numpy code run on JAX and SymPy values through numpy's dispatch protocols."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck import kinks
from gradcheck.oracles.autodiff import _jax
from gradcheck.trace import TraceError, call

RNG = np.random.default_rng(3)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((4, 2))

# each function uses one group of numpy spellings; all must give f's own value on every backend
FUNCTIONS = {
    "operators": lambda a, b: np.sum((a @ b) ** 2 - 3 * (a @ b) / 2 + 1),
    "ufuncs": lambda a, b: np.sum(np.exp(a) + np.log1p(a ** 2) + np.tanh(a) * np.sin(a) - np.cos(a) + np.sqrt(a * a + 1)),
    "reductions": lambda a, b: np.mean(a, axis=0).sum() + a.max(axis=1).mean() + np.min(a) + np.var(a),
    "shapes": lambda a, b: np.trace(a.T @ a) + np.sum(np.reshape(a, (4, 3))[0]) + a.ravel()[5] + np.squeeze(a[:1]).sum(),
    "methods": lambda a, b: a.dot(b).sum() + a.transpose().sum(axis=1).max() + np.dot(a[0], a[1]) + len(a),
    "where/compare": lambda a, b: np.sum(np.where(a > 0, a, 0.1 * a)) + np.sum(np.maximum(a, 0) * (a <= 0.5)),
    "structure": lambda a, b: np.sum(np.outer(a[0], b[:, 0])) + np.sum(np.stack([a[0], a[1]])) +
    np.sum(np.concatenate([a, a], axis=1)) + np.einsum("ij,jk->", a, b) + np.sum(np.diag(a[:, :3])),
    "in-place": lambda a, b: _inplace(a),
    "norm/abs/clip": lambda a, b: np.linalg.norm(a) + np.sum(np.abs(a)) + np.sum(np.clip(a, -0.5, 0.5)),
    "more": lambda a, b: np.sum(np.cumsum(a, axis=1)) + np.prod(a[0] + 2) + np.sum(np.tensordot(a, b, axes=1)) +
    np.sum(np.triu(a) - np.tril(a)) + np.sum(np.diagonal(a)) + np.sum(np.copy(a) * np.sign(a)) +
    np.sum(np.logaddexp(a, 2 * a)),
}


def _inplace(a):
    out = a.copy()
    out[0] = out[0] * 2
    out += 1
    return np.sum(out ** 2)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_traced_numpy_gives_the_functions_own_value(name):
    f = FUNCTIONS[name]
    assert call(f, [A, B]) == pytest.approx(f(A, B), rel=1e-13)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_jax_differentiates_the_same_computation_as_finite_differences(name):
    jax = _jax()
    f = FUNCTIONS[name]
    grad = np.asarray(jax.grad(lambda a: call(f, [a, B]))(A))
    h = 1e-6
    fd = np.array([(f(A + h * e, B) - f(A - h * e, B)) / (2 * h) for e in np.eye(A.size).reshape(-1, *A.shape)])
    assert np.allclose(grad.reshape(-1), fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_sympy_gets_an_expression_equal_to_the_value(name):
    f = FUNCTIONS[name]
    syms = np.array(sympy.symbols(f"a0:{A.size}"), dtype=object).reshape(A.shape)
    at = {s: sympy.Float(v, 30) for s, v in zip(syms.ravel(), A.ravel())}
    with kinks.sympy_substitution(at):
        expr = sympy.sympify(call(f, [syms, B]))
    assert float(expr.xreplace(at)) == pytest.approx(f(A, B), rel=1e-12)
    assert expr.free_symbols <= set(syms.ravel())


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=2, max_size=6), st.sampled_from(["tanh", "exp", "sin", "square"]))
def test_elementwise_ufuncs_agree_with_numpy(values, ufunc):
    x = np.array(values)
    fn = getattr(np, ufunc)
    assert np.allclose(call(lambda v: fn(v), [x]), fn(x), rtol=1e-14)


@pytest.mark.parametrize("f, message", [
    (lambda a: a.sum() if a.sum() > 0 else -a.sum(), "data-dependent Python control flow"),
    (lambda a: float(a[0, 0]), "converting an array value to a Python number"),
    (lambda a: np.asarray(a).sum(), "converting a traced value to a plain numpy array"),
    (lambda a: np.linalg.det(a[:, :3]), "np.linalg.det cannot be traced"),
    (lambda a: np.sort(a), "np.sort cannot be traced"),
    (lambda a: np.add.accumulate(a), "np.add.accumulate cannot be traced"),
    (lambda a: a[a > 0].sum(), "indexing with an array value"),
    (lambda a: a.astype(int), "leaves the real numbers"),
])
def test_what_cannot_be_traced_is_named_with_the_users_line(f, message):
    with pytest.raises(TraceError, match=message) as info:
        call(f, [A])
    assert "test_trace.py:" in str(info.value)  # the line of the user's code, not gradcheck's
