"""Second-order checks: a claimed Hessian or Hessian-vector product of a plain numpy function."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.second_order import assert_hessian, check_hessian, complex_step_gradient, is_analytic_at

RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 4))
X = RNG.standard_normal(4)
ALL = ("finite_difference", "autodiff", "symbolic")


def f(x, A):
    return np.sum(np.tanh(A @ x)) + 0.5 * x @ x


def hess(x, A):
    t = np.tanh(A @ x)
    return A.T @ ((-2 * t * (1 - t ** 2))[:, None] * A) + np.eye(x.size)


def test_a_correct_hessian_is_correct_for_all_three_oracles():
    r = check_hessian(f, hess, X, A)
    assert r.ok and r.oracles_run == ALL and r.kind == "hessian"
    assert {o: v.status for o, v in r[0].oracles.items()} == dict.fromkeys(ALL, "pass")
    assert "central" in r[0].oracles["finite_difference"].method  # differences of the complex-step gradient


@pytest.mark.parametrize("wrong, kind", [
    pytest.param(lambda x, A: -hess(x, A), "sign flip", id="sign"),
    pytest.param(lambda x, A: hess(x, A) / 2, "scale factor", id="half"),
])
def test_planted_errors_in_a_hessian(wrong, kind):
    r = check_hessian(f, wrong, X, A)
    assert r.verdict == "incorrect" and r[0].diagnosis.kind == kind
    assert {o: v.status for o, v in r[0].oracles.items()} == dict.fromkeys(ALL, "fail")


def test_a_hessian_missing_one_mixed_partial_names_that_entry():
    g = lambda x: x[0] * x[1] ** 2 + np.sum(x ** 3)
    H = lambda x: np.array([[6 * x[0], 2 * x[1], 0], [2 * x[1], 2 * x[0] + 6 * x[1], 0], [0, 0, 6 * x[2]]])
    x = np.array([0.7, -1.3, 0.4])
    assert check_hessian(g, H, x).ok
    # d2/dx0 dx1 written in one triangle only: an asymmetric matrix, right in half its off-diagonal entries
    half = lambda x: H(x) * (1 - np.tril(np.ones((3, 3)), -1))
    r = check_hessian(g, half, x)
    assert r.verdict == "incorrect" and r[0].diagnosis.kind == "wrong entries"
    assert r[0].diagnosis.text.startswith(f"1 of 9 entries are wrong ([1, 0] claimed 0, true {2 * x[1]:.6g})")


def test_hessian_vector_products_at_seeded_vectors():
    good = lambda v, x, A: hess(x, A) @ v
    r = check_hessian(f, good, X, A, kind="hvp")
    assert r.ok and r.oracles_run == ALL and len(r[0].oracles["autodiff"].dims) >= 1
    bad = check_hessian(f, lambda v, x, A: hess(x, A) @ v * 2, X, A, kind="hvp")
    assert bad.verdict == "incorrect" and bad[0].diagnosis.kind == "scale factor"


def test_a_function_that_is_not_analytic_is_judged_without_finite_differences_and_says_why():
    g = lambda x: np.sum(np.abs(x) * x ** 2)
    r = check_hessian(g, lambda x: np.diag(6 * np.abs(x)), X)
    assert r.ok and r.oracles_run == ("autodiff", "symbolic")
    assert "not analytic" in r.not_run["finite_difference"]
    assert not is_analytic_at(g, [X], 0) and is_analytic_at(f, [X, A], 0)


def test_complex_step_gradient_is_exact_to_rounding():
    g = complex_step_gradient(f, [X, A], 0)
    t = np.tanh(A @ X)
    assert np.allclose(g, A.T @ (1 - t ** 2) + X, rtol=1e-14, atol=1e-14)


def test_assert_hessian_raises_the_readable_failure():
    with pytest.raises(AssertionError, match=r"(?s)d2f_dx2: d grad_f / d x is INCORRECT.*why: +sign flip"):
        assert_hessian(f, lambda x, A: -hess(x, A), X, A, oracles=("autodiff",))
    with pytest.raises(ValueError, match="a Hessian is of a scalar function"):
        check_hessian(lambda x: x * 2, hess, X)


def test_float32_mode_for_a_hessian_computed_in_float32():
    h32 = lambda x, A: hess(x.astype(np.float32), A.astype(np.float32))
    assert check_hessian(f, h32, X, A, oracles=("autodiff",)).verdict == "incorrect"  # float32 rounding
    relaxed = check_hessian(f, hess, X, A, dtype="float32", oracles=("autodiff",))
    assert relaxed.ok and relaxed[0].oracles["autodiff"].tolerance == 1e-4
    assert check_hessian(f, lambda x, A: hess(x, A) * 1.01, X, A, dtype="float32",
                         oracles=("autodiff",)).verdict == "incorrect"
