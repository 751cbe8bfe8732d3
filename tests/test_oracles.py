"""Each oracle against derivatives known in closed form."""

import numpy as np
import pytest

from gradcheck import Claim, Data, Model
from gradcheck.oracles.autodiff import autodiff
from gradcheck.oracles.finite_difference import finite_difference, jacobian
from gradcheck.oracles.symbolic import symbolic
from gradcheck.ops import diag, exp, log, outer, sigmoid, softmax, sum, tanh
from gradcheck.points import draw_points

ORACLES = {"finite_difference": finite_difference, "autodiff": autodiff, "symbolic": symbolic}


def scalar_model(fn):
    return Model("scalar", {}, params={"z": ()}, steps=[("f", fn)], objective="f")


SCALAR_CASES = [
    ("exp", lambda z: exp(z), lambda z: exp(z)),
    ("tanh", lambda z: tanh(z), lambda z: 1 - tanh(z) ** 2),
    ("sigmoid", lambda z: sigmoid(z), lambda z: sigmoid(z) * (1 - sigmoid(z))),
    ("log(1+z^2)", lambda z: log(1 + z**2), lambda z: 2 * z / (1 + z**2)),
    ("z^3", lambda z: z**3, lambda z: 3 * z**2),
]


@pytest.mark.parametrize("oracle", ORACLES)
@pytest.mark.parametrize("name,fn,deriv", SCALAR_CASES, ids=[c[0] for c in SCALAR_CASES])
def test_scalar_derivatives(oracle, name, fn, deriv):
    model = scalar_model(fn)
    claim = Claim(name, "z", deriv)
    points = draw_points(model, 3, seed=1)
    m = ORACLES[oracle](model, claim, points, {})
    assert m.error is None
    for p in m.points:
        np.testing.assert_allclose(p.claimed, p.truth, rtol=1e-9, atol=1e-12)
        if oracle == "symbolic":
            assert p.decided == "proved"


def softmax_model(c=4):
    return Model("softmax", {"c": c}, params={"z": ("c",)}, steps=[("p", lambda z: softmax(z))], objective="p")


@pytest.mark.parametrize("oracle", ORACLES)
def test_softmax_jacobian(oracle):
    """d softmax_i / d z_j = p_i (delta_ij - p_j), numerator layout."""
    model = softmax_model()
    claim = Claim("J", "z", lambda p: diag(p) - outer(p, p), of="p", kind="jacobian")
    m = ORACLES[oracle](model, claim, draw_points(model, 2, seed=2), {})
    assert m.error is None
    for p in m.points:
        np.testing.assert_allclose(p.claimed, p.truth, rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("oracle", ORACLES)
def test_matrix_product_gradients(oracle):
    """L = sum(A @ B): dL/dA = 1 B^T, a rectangular case."""
    model = Model("matmul", {"n": 2, "k": 3, "p": 4}, data={"B": Data(("k", "p"))}, params={"A": ("n", "k")},
                  steps=[("L", lambda A, B: sum(A @ B))], objective="L")
    claim = Claim("dA", "A", lambda B, n, p: np.ones((n, p)) @ B.T)
    m = ORACLES[oracle](model, claim, draw_points(model, 2, seed=3), {})
    for p in m.points:
        np.testing.assert_allclose(p.claimed, p.truth, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("oracle", ORACLES)
def test_two_layer_network_backprop(oracle, tanh_mlp):
    uses = {"dZ2": ("loss", "Z2")}
    claim = Claim("dW1", "W1", lambda X, dZ2, W2, A1: X.T @ ((dZ2 @ W2.T) * (1 - A1**2)), uses=uses)
    m = ORACLES[oracle](tanh_mlp, claim, draw_points(tanh_mlp, 2, seed=4), uses)
    assert m.error is None
    for p in m.points:
        np.testing.assert_allclose(p.claimed, p.truth, rtol=1e-8, atol=1e-12)


def test_complex_step_accuracy_on_2_500_2_network():
    """Complex step reaches <= 1e-12 relative error on the 2-500-2 tanh/softmax gradient (vs JAX)."""
    from tests.conftest import mlp

    model = mlp(m=8, d=2, h=500, c=2)
    claim = Claim("dW1", "W1", lambda X, W1: 0 * W1)
    points = draw_points(model, 1, seed=5)
    fd = finite_difference(model, claim, points, {})
    ad = autodiff(model, claim, points, {})
    assert fd.method == "complex step"
    truth_fd, truth_ad = fd.points[0].truth, ad.points[0].truth
    rel = np.max(np.abs(truth_fd - truth_ad)) / np.max(np.abs(truth_ad))
    assert rel <= 1e-12, rel


def test_central_difference_falls_back_when_complex_step_is_invalid():
    """np.abs is not complex-step safe: the validation against central differences rejects it."""
    rng = np.random.default_rng(0)
    f = lambda x: np.abs(x) ** 3  # noqa: E731
    jac, err, smooth, method = jacobian(f, np.array([0.7, -1.3]), rng)
    assert method == "central difference + Richardson"
    np.testing.assert_allclose(np.diag(jac), 3 * np.array([0.7, -1.3]) * np.abs([0.7, -1.3]), rtol=1e-8)
    assert smooth and err < 1e-8


def test_nonsmooth_point_is_detected():
    """A kink between the steps h and 2h: the two central differences disagree."""
    f = lambda x: np.where(x > 0, x, -x) if not np.iscomplexobj(x) else np.abs(x)  # noqa: E731
    jac, err, smooth, method = jacobian(f, np.array([1e-6]), np.random.default_rng(0), method="central")
    assert not smooth


def test_oracles_never_modify_the_callers_arrays(tanh_mlp):
    points = draw_points(tanh_mlp, 1, seed=6)
    before = {k: v.copy() for k, v in points[0].values.items()}
    claim = Claim("dW2", "W2", lambda A1, P, Y, m: A1.T @ (P - Y) / m)
    finite_difference(tanh_mlp, claim, points, {})
    for k, v in before.items():
        np.testing.assert_array_equal(points[0].values[k], v)
