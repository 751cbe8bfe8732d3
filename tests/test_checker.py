"""The checker on deliberately wrong formulas: each planted error gets its verdict and diagnosis."""

import numpy as np
import pytest

from gradcheck import Claim, Data, Model, assert_gradient
from gradcheck.check import check_claim
from gradcheck.ops import relu, sigmoid, sum

U = {"dZ2": ("loss", "Z2")}
RIGHT_DW1 = lambda X, dZ2, W2, A1: X.T @ ((dZ2 @ W2.T) * (1 - A1**2))  # noqa: E731

# (name, wrt, formula, expected verdict, expected diagnosis kind, reason)
PLANTED = [
    ("dZ2", "Z2", lambda P, Y, m: (P - Y) / m, "correct", None, "softmax cross-entropy, batch mean"),
    ("dW1", "W1", RIGHT_DW1, "correct", None, "backprop through tanh"),
    ("dW2_sign", "W2", lambda A1, P, Y, m: A1.T @ (Y - P) / m, "incorrect", "sign flip", "y - p for p - y"),
    ("dW1_transposed", "W1", lambda X, dZ2, W2, A1: (X.T @ ((dZ2 @ W2.T) * (1 - A1**2))).T, "incorrect",
     "transpose", "(d, h) gradient returned as (h, d)"),
    ("dW2_times_2", "W2", lambda A1, P, Y, m: 2 * A1.T @ (P - Y) / m, "incorrect", "scale factor", "spurious 2"),
    ("dW2_no_mean", "W2", lambda A1, P, Y: A1.T @ (P - Y), "incorrect", "mean vs sum", "missing 1/m"),
    ("db2_no_batch_sum", "b2", lambda P, Y, m: (P - Y) / m, "incorrect", "missing batch sum",
     "bias gradient keeps the batch axis"),
    ("dW1_shape_clash", "W1", lambda X, dZ2, W2, A1: X @ ((dZ2 @ W2.T) * (1 - A1**2)), "shape error", None,
     "X (m, d) @ (m, h) does not fit"),
    ("dW1_wrong_activation", "W1", lambda X, dZ2, W2, A1: X.T @ ((dZ2 @ W2.T) * (1 + A1**2)), "incorrect",
     "no simple relation", "1 + tanh^2 for 1 - tanh^2"),
    ("dW1_unknown_name", "W1", lambda X, dZ3: X.T @ dZ3, "not evaluable", None, "dZ3 is not defined"),
]


@pytest.mark.parametrize("name,wrt,formula,verdict,diagnosis,reason", PLANTED, ids=[p[0] for p in PLANTED])
def test_planted_errors(tanh_mlp, name, wrt, formula, verdict, diagnosis, reason):
    r = check_claim(tanh_mlp, Claim(name, wrt, formula, uses=U))
    assert r.verdict == verdict, (reason, r.message, r.oracles)
    if diagnosis:
        assert r.diagnosis is not None and r.diagnosis.kind == diagnosis, (reason, r.diagnosis)
    if verdict in ("correct", "incorrect"):
        assert set(r.oracles) == {"finite_difference", "symbolic", "autodiff"}
        assert all(v.status == ("pass" if verdict == "correct" else "fail") for v in r.oracles.values()
                   if v.status not in ("shape",))


def test_shape_error_names_the_operation_and_shapes(tanh_mlp):
    r = check_claim(tanh_mlp, Claim("bad", "W1", lambda X, dZ2, W2, A1: X @ ((dZ2 @ W2.T) * (1 - A1**2)), uses=U))
    assert "`@`" in r.message and "(4, 3)" in r.message and "(4, 5)" in r.message


def test_unknown_name_suggests_the_closest(tanh_mlp):
    r = check_claim(tanh_mlp, Claim("bad", "W1", lambda X, dZ22: X.T @ dZ22, uses=U))
    assert r.verdict == "not evaluable" and "'dZ2'" in r.message


def test_scale_factor_is_named(tanh_mlp):
    r = check_claim(tanh_mlp, Claim("half", "W2", lambda A1, P, Y, m: 0.5 * A1.T @ (P - Y) / m))
    assert r.diagnosis.kind == "scale factor" and "1/2" in r.diagnosis.text and r.diagnosis.fix == "multiply by 2"


def test_relu_network_points_avoid_the_kink_and_see_both_branches(relu_mlp):
    right = Claim("dW1", "W1", lambda X, dZ2, W2, Z1: X.T @ ((dZ2 @ W2.T) * (Z1 > 0)), uses=U)
    wrong = Claim("dW1_no_mask", "W1", lambda X, dZ2, W2: X.T @ (dZ2 @ W2.T), uses=U)
    assert check_claim(relu_mlp, right).verdict == "correct"
    assert check_claim(relu_mlp, wrong).verdict == "incorrect"


def test_elementwise_claim_on_a_non_elementwise_map_fails():
    """sigma(1-sigma) written for softmax: the Jacobian is not diagonal."""
    from gradcheck.ops import softmax

    model = Model("sm", {"c": 3}, params={"z": ("c",)}, steps=[("p", lambda z: softmax(z))], objective="p")
    r = check_claim(model, Claim("dp_dz", "z", lambda p: p * (1 - p), of="p", kind="elementwise"))
    assert r.verdict == "incorrect"
    assert "not diagonal" in r.oracles["autodiff"].message


def test_update_rule_sign():
    model = Model("lin", {"n": 3}, data={"x": Data(("n",))}, params={"w": ("n",)}, constants={"eta": 0.1},
                  steps=[("loss", lambda x, w: sum((x - w) ** 2) / 2)])
    good = check_claim(model, Claim("step", "w", lambda w, x, eta: w - eta * (w - x), kind="update", lr="eta"))
    bad = check_claim(model, Claim("step_up", "w", lambda w, x, eta: w + eta * (w - x), kind="update", lr="eta"))
    assert good.verdict == "correct" and bad.verdict == "incorrect"


def test_gradient_of_a_non_scalar_is_refused_clearly():
    model = Model("v", {"n": 3}, params={"z": ("n",)}, steps=[("s", lambda z: sigmoid(z))], objective="s")
    r = check_claim(model, Claim("ds", "z", lambda s: s * (1 - s)))
    assert r.verdict == "not evaluable" and "kind='jacobian'" in r.message


def test_assert_gradient_passes_and_fails_with_a_diagnosis(tanh_mlp):
    assert_gradient(tanh_mlp, wrt="W2", formula=lambda A1, P, Y, m: A1.T @ (P - Y) / m)
    with pytest.raises(AssertionError, match="sign flip") as err:
        assert_gradient(tanh_mlp, wrt="W2", formula=lambda A1, P, Y, m: A1.T @ (Y - P) / m)
    assert "repair: correct if you" in str(err.value) and "max rel err" in str(err.value)


def test_relu_kink_is_never_sampled():
    """A one-neuron relu model: points keep |z| above the margin."""
    from gradcheck.points import KINK_MARGIN, draw_points

    model = Model("r", {"n": 5}, data={"x": Data(("n",))}, params={"w": ("n",)},
                  steps=[("z", lambda x, w: x * w), ("loss", lambda z: sum(relu(z)))])
    for p in draw_points(model, 5, seed=11):
        z = p.values["x"] * p.values["w"]
        assert np.min(np.abs(z)) >= KINK_MARGIN


def test_random_direction_probes_decide_and_localise(tanh_mlp):
    """Above max_full entries the finite-difference oracle probes; one wrong entry is localised."""
    opts = {"finite_difference": {"max_full": 4}}
    right = Claim("dW1", "W1", RIGHT_DW1, uses=U)
    assert check_claim(tanh_mlp, right, oracles=["finite_difference"], options=opts).verdict == "correct"

    def one_wrong_entry(X, dZ2, W2, A1):
        g = RIGHT_DW1(X, dZ2, W2, A1)
        return g + (np.arange(g.size).reshape(g.shape) == 7) * 0.01 * np.max(np.abs(g))

    r = check_claim(tanh_mlp, Claim("dW1_bad", "W1", one_wrong_entry, uses=U), oracles=["finite_difference"],
                    options=opts)
    fd = r.oracles["finite_difference"]
    assert r.verdict == "incorrect" and "probes" in fd.method and "[7]" in fd.message
    assert "P(miss one wrong entry)" in fd.detail


def test_sign_convention_of_a_maximised_log_likelihood():
    """y - s is right for the log-likelihood only; W-gradients written with the true delta hold for both signs."""
    from gradcheck.ops import log

    model = Model("logistic, log-likelihood", {"m": 4, "d": 3}, data={"X": Data(("m", "d")),
                  "y": Data(("m",), kind="binary")}, params={"w": ("d",)},
                  steps=[("z", lambda X, w: X @ w), ("s", lambda z: sigmoid(z)),
                         ("ll", lambda y, s: sum(y * log(s) + (1 - y) * log(1 - s)))],
                  objective="ll", sense="maximise")
    written_out = check_claim(model, Claim("dll_dz", "z", lambda y, s: y - s))
    through_delta = check_claim(model, Claim("dll_dw", "w", lambda X, d: X.T @ d, uses={"d": ("ll", "z")}))
    assert written_out.verdict == "correct" and written_out.convention_only
    assert through_delta.verdict == "correct" and not through_delta.convention_only
