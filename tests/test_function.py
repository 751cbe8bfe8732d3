"""check_function: plain numpy functions with planted errors, judged by all three oracles where
tracing works, and saying which oracles could not run (and why) where it does not."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.function import FunctionCheck, arg_names, assert_function, check_function

RNG = np.random.default_rng(20261129)
W = RNG.standard_normal((3, 4))
X = RNG.standard_normal((5, 3))
S = RNG.standard_normal((4, 4))  # square, so a transposed gradient has the right shape
ALL = ("finite_difference", "autodiff", "symbolic")


def loss(W, X):
    Z = np.tanh(X @ W)
    return np.sum(Z ** 2) / X.shape[0]


def dloss(W, X):
    Z = np.tanh(X @ W)
    return X.T @ (2 * Z * (1 - Z ** 2)) / X.shape[0]


def quad(A):
    """f(A) = sum(A @ c * d) for fixed c, d: the gradient is outer(d, c)... written with np.outer."""
    c, d = np.arange(1.0, 5.0), np.array([0.5, -1.0, 2.0, 1.5])
    return np.sum((A @ c) * d) + np.sum(np.exp(A[0])) / 2


def dquad(A):
    c, d = np.arange(1.0, 5.0), np.array([0.5, -1.0, 2.0, 1.5])
    g = np.outer(d, c)
    return g + np.concatenate([np.exp(A[0])[None, :] / 2, np.zeros((3, 4))], axis=0)


def one_wrong_entry(W, X):
    g = dloss(W, X)
    g[1, 2] += 0.1
    return g


@pytest.mark.parametrize("f, grad, args, kind", [
    pytest.param(loss, lambda W, X: -dloss(W, X), (W, X), "sign flip", id="sign"),
    # a plain function has no second size (its arrays fix the sizes), so a factor 6 = X.shape[0] is not
    # named as the batch size: it could be a coincidence (docs/soundness.md)
    pytest.param(loss, lambda W, X: dloss(W, X) * X.shape[0], (W, X), "scale factor", id="1/m"),
    pytest.param(quad, lambda A: dquad(A).T, (S,), "transpose", id="transpose"),
    pytest.param(loss, lambda W, X: dloss(W, X) * 2, (W, X), "scale factor", id="factor-2"),
    pytest.param(lambda w, X: np.sum((X @ w) ** 2) / 2, lambda w, X: X * (X @ w)[:, None], (W[:, 0], X),
                 "missing batch sum", id="per-sample-gradients"),
])
def test_planted_errors_are_found_by_all_three_oracles_with_the_diagnosis(f, grad, args, kind):
    r = check_function(f, grad, *args, argnums=0)
    assert r.oracles_run == ALL and not r.not_run
    assert r.verdict == "incorrect" and r[0].diagnosis.kind == kind
    # per-sample gradients have another shape: each oracle says "shape", the diagnosis says which sum is missing
    status = "shape" if kind == "missing batch sum" else "fail"
    assert {o: v.status for o, v in r[0].oracles.items()} == dict.fromkeys(ALL, status)


def test_one_wrong_entry_is_named_with_its_index_and_values():
    r = check_function(loss, one_wrong_entry, W, X, argnums=0)
    assert r.oracles_run == ALL and r.verdict == "incorrect"
    d = r[0].diagnosis
    assert d.kind == "wrong entries" and d.text.startswith("1 of 12 entries are wrong ([1, 2] claimed")
    true = dloss(W, X)[1, 2]
    assert f"true {true:.6g}" in d.text and f"claimed {true + 0.1:.6g}" in d.text


@pytest.mark.parametrize("f, grad, args", [
    pytest.param(loss, lambda W, X: (dloss(W, X), (2 * np.tanh(X @ W) * (1 - np.tanh(X @ W) ** 2) @ W.T)
                                     / X.shape[0]), (W, X), id="tanh-mse"),
    pytest.param(quad, dquad, (S,), id="outer-exp"),
    pytest.param(lambda x: np.sum(np.where(x > 0, x, 0.1 * x) ** 2),
                 lambda x: 2 * np.where(x > 0, x, 0.1 * x) * np.where(x > 0, 1.0, 0.1), (X,), id="leaky-relu-where"),
    pytest.param(lambda x: np.mean(np.log1p(np.exp(x))) + np.linalg.norm(x),
                 lambda x: 1 / (1 + np.exp(-x)) / x.size + x / np.linalg.norm(x), (X,), id="softplus-norm"),
])
def test_correct_gradients_are_correct_for_every_oracle(f, grad, args):
    r = check_function(f, grad, *args)
    assert r.ok and r.verdict == "correct" and r.oracles_run == ALL
    assert all(v.status == "pass" for res in r for v in res.oracles.values())


def test_every_argument_is_checked_by_default_in_argnums_order():
    both = lambda W, X: (dloss(W, X), (2 * np.tanh(X @ W) * (1 - np.tanh(X @ W) ** 2) @ W.T) / X.shape[0])
    r = check_function(loss, both, W, X)
    assert [res.claim.wrt for res in r] == ["W", "X"] and r.ok
    swapped = check_function(loss, lambda W, X: both(W, X)[::-1], W, X, argnums=(1, 0))
    assert swapped.ok and [res.claim.wrt for res in swapped] == ["X", "W"]


def test_data_dependent_control_flow_says_which_oracles_ran_and_why_the_others_could_not():
    def branchy(x):
        if x.sum() > 0:
            return np.sum(x ** 2)
        return np.sum(x)

    r = check_function(branchy, lambda x: 2 * x if x.sum() > 0 else np.ones_like(x), X * 0 + 1.0)
    assert r.oracles_run == ("finite_difference",) and r.ok
    for o in ("autodiff", "symbolic"):
        assert "data-dependent Python control flow" in r.not_run[o] and "`if x.sum() > 0:`" in r.not_run[o]
    assert "autodiff could not run" in str(r) and r[0].notes


def test_an_untraceable_call_is_named_and_the_verdict_rests_on_the_oracles_that_ran():
    f = lambda A: np.linalg.det(A)
    wrong = lambda A: np.linalg.det(A) * np.linalg.inv(A)  # missing transpose: d det / dA = det A^-T
    r = check_function(f, wrong, S)
    assert r.oracles_run == ("finite_difference",)
    assert "np.linalg.det cannot be traced" in r.not_run["autodiff"]
    assert r.verdict == "incorrect" and r[0].diagnosis.kind == "transpose"


def test_an_untraceable_gradient_only_stops_sympy():
    def grad(W, X):
        out = np.zeros(W.shape)
        out[:] = dloss(W, X)  # writes into a plain numpy array: fine for numpy, not traceable
        return out

    r = check_function(loss, grad, W, X, argnums=0)
    assert r.oracles_run == ("finite_difference", "autodiff") and r.ok
    assert "SymPy evaluates the claimed gradient" in r.not_run["symbolic"]


def test_jax_numpy_functions_are_checked_by_jax_directly():
    jnp = pytest.importorskip("jax.numpy")
    f = lambda w, X: jnp.sum(jnp.tanh(X @ w) ** 2) / X.shape[0]
    r = check_function(f, lambda w, X: -dloss(w, X), W, X, argnums=0)
    assert r.oracles_run == ("finite_difference", "autodiff")
    assert "jax.numpy" in r.not_run["symbolic"]
    assert r.verdict == "incorrect" and r[0].diagnosis.kind == "sign flip"


def test_jacobian_and_vjp_claims():
    f = lambda x: np.tanh(x) * x.sum()
    jac = lambda x: np.diag(1 - np.tanh(x) ** 2) * x.sum() + np.tanh(x)[:, None]
    x = RNG.standard_normal(4)
    assert check_function(f, jac, x, kind="jacobian").ok
    wrong = check_function(f, lambda x: jac(x).T, x, kind="jacobian")
    assert wrong.verdict == "incorrect" and wrong[0].diagnosis.kind == "transpose"
    vjp = lambda g, x: (1 - np.tanh(x) ** 2) * x.sum() * g + np.sum(g * np.tanh(x))
    good = check_function(f, vjp, x, kind="vjp")
    assert good.ok and good.oracles_run == ALL
    assert check_function(f, lambda g, x: vjp(g, x) * 2, x, kind="vjp")[0].diagnosis.kind == "scale factor"


def test_float32_mode_scales_the_tolerance_and_says_so():
    f32 = lambda W, X: dloss(W.astype(np.float32), X.astype(np.float32))
    strict = check_function(loss, f32, W, X, argnums=0, oracles=("finite_difference",))
    assert strict.verdict == "incorrect"  # float32 rounding fails the float64 tolerance
    relaxed = check_function(loss, dloss, W, X, argnums=0, dtype="float32", oracles=("finite_difference",))
    assert relaxed.ok and relaxed.rtol == 1e-4
    assert any("float32 mode" in n and "rtol 0.0001" in n for n in relaxed[0].notes)
    still_wrong = check_function(loss, lambda W, X: dloss(W, X) * 1.01, W, X, argnums=0, dtype="float32",
                                 oracles=("finite_difference",))
    assert still_wrong.verdict == "incorrect"


def test_rtol_atol_and_eps_are_the_users():
    nearly = lambda W, X: dloss(W, X) * (1 + 1e-5)
    assert not check_function(loss, nearly, W, X, argnums=0, oracles=("finite_difference",)).ok
    r = check_function(loss, nearly, W, X, argnums=0, rtol=1e-3, oracles=("finite_difference",))
    assert r.ok and r[0].oracles["finite_difference"].tolerance == 1e-3
    stepped = check_function(loss, dloss, W, X, argnums=0, eps=1e-4, oracles=("finite_difference",))
    assert stepped.ok and "step 0.0001" in stepped[0].oracles["finite_difference"].method


def test_raise_exception_and_the_assert_twin():
    with pytest.raises(AssertionError, match=r"(?s)dloss_dW: d loss / d W is INCORRECT.*why: +sign flip"
                                             r".*no repair searched"):
        assert_function(loss, lambda W, X: -dloss(W, X), W, X, argnums=0)
    assert isinstance(assert_function(loss, dloss, W, X, argnums=0), FunctionCheck)
    assert not check_function(loss, lambda W, X: -dloss(W, X), W, X, argnums=0, raise_exception=False).ok


def test_the_callers_arrays_are_never_changed():
    w, x = W.copy(), X.copy()
    check_function(loss, one_wrong_entry, w, x, argnums=0)
    assert np.array_equal(w, W) and np.array_equal(x, X)


@pytest.mark.parametrize("call, message", [
    (lambda: check_function(lambda x: np.tanh(x), lambda x: 1 - np.tanh(x) ** 2, X), "kind='jacobian'"),
    (lambda: check_function(loss, dloss, W, X, argnums=5), "argnums 5 is out of range"),
    (lambda: check_function(loss, dloss, W, X, argnums=(0, 1)), "returned one array for 2 arguments"),
    (lambda: check_function(loss, dloss, W, X, oracles=("magic",)), "unknown oracle(s) magic"),
    (lambda: check_function(loss, dloss, W, X, kind="hessian"), "kind must be one of"),
    (lambda: check_function(loss, dloss), "give the point"),
])
def test_bad_calls_are_explained(call, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_argument_names_come_from_the_function_when_they_can():
    assert arg_names(loss, 2) == ("W", "X")
    assert arg_names(lambda *a: 0, 2) == ("x0", "x1")
    assert arg_names(np.sum, 1) == ("a",)
