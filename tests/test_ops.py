"""The array functions give the same values on numpy, complex numpy, JAX and SymPy arrays."""

import numpy as np
import pytest
import sympy

from gradcheck import ops
from gradcheck.oracles.autodiff import _jax

jnp = _jax().numpy
RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))

UNARY = [ops.exp, ops.tanh, ops.sigmoid, ops.softplus, ops.relu, ops.abs, ops.identity,
         lambda x: ops.softmax(x, axis=1), lambda x: ops.log_softmax(x, axis=0),
         lambda x: ops.logsumexp(x, axis=1), lambda x: ops.sum(x, axis=0), lambda x: ops.mean(x),
         lambda x: ops.max(x, axis=1), lambda x: ops.var(x, axis=1), lambda x: ops.maximum(x, 0.1)]
IDS = ["exp", "tanh", "sigmoid", "softplus", "relu", "abs", "identity", "softmax", "log_softmax",
       "logsumexp", "sum", "mean", "max", "var", "maximum"]


@pytest.mark.parametrize("fn", UNARY, ids=IDS)
def test_numpy_jax_sympy_agree(fn):
    want = np.asarray(fn(X), dtype=float)
    np.testing.assert_allclose(np.asarray(fn(jnp.asarray(X))), want, rtol=1e-12, atol=1e-14)
    exact = np.vectorize(lambda v: sympy.Rational(v), otypes=[object])(X)
    got = np.vectorize(lambda e: float(sympy.N(e, 30)), otypes=[float])(np.asarray(fn(exact), dtype=object))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("fn", UNARY, ids=IDS)
def test_complex_input_keeps_real_part(fn):
    """With a tiny imaginary perturbation the real part is the real value (complex-step safe)."""
    z = X + 1e-30j
    np.testing.assert_allclose(np.real(fn(z)), fn(X), rtol=1e-13, atol=1e-15)


def test_softmax_is_stable_for_large_inputs():
    big = np.array([[1000.0, 1001.0, 999.0]])
    p = ops.softmax(big, axis=1)
    assert np.all(np.isfinite(p)) and np.isclose(p.sum(), 1.0)
    np.testing.assert_allclose(ops.log_softmax(big, axis=1), np.log(p), rtol=1e-12)


def test_sigmoid_does_not_overflow():
    assert np.all(np.isfinite(ops.sigmoid(np.array([-800.0, 800.0]))))
