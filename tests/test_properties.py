"""Property tests: the three oracles agree with each other on random small models."""

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gradcheck import Claim
from gradcheck.check import check_claim
from gradcheck.ops import relu, sigmoid, tanh
from tests.conftest import mlp

ACTIVATIONS = {
    "tanh": (tanh, lambda Z1, A1: 1 - A1**2),
    "sigmoid": (sigmoid, lambda Z1, A1: A1 * (1 - A1)),
    "relu": (relu, lambda Z1, A1: (Z1 > 0) * 1.0),
}
U = {"dZ2": ("loss", "Z2")}

dims = st.fixed_dictionaries({"m": st.integers(1, 3), "d": st.integers(1, 3), "h": st.integers(1, 4),
                              "c": st.integers(2, 3)})


def claims_for(act):
    deriv = ACTIVATIONS[act][1]
    right = Claim("dW1", "W1", lambda X, dZ2, W2, Z1, A1: X.T @ ((dZ2 @ W2.T) * deriv(Z1, A1)), uses=U)
    wrong = Claim("dW1_no_act", "W1", lambda X, dZ2, W2: X.T @ (dZ2 @ W2.T) * 1.5, uses=U)
    return right, wrong


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dims=dims, act=st.sampled_from(sorted(ACTIVATIONS)), seed=st.integers(0, 2**16), mean=st.booleans())
@example(dims={"m": 1, "d": 1, "h": 1, "c": 2}, act="relu", seed=0, mean=False)
def test_oracles_agree_on_random_models(dims, act, seed, mean):
    model = mlp(**dims, activation=ACTIVATIONS[act][0], mean=mean)
    right, wrong = claims_for(act)
    r = check_claim(model, right, seed=seed, n_points=2)
    assert r.verdict == "correct", (r.message, {o: (v.status, v.message) for o, v in r.oracles.items()})
    w = check_claim(model, wrong, seed=seed, n_points=2)
    statuses = {o: v.status for o, v in w.oracles.items()}
    assert w.verdict == "incorrect", (w.message, statuses)
    assert set(statuses.values()) == {"fail"}


@settings(max_examples=25, deadline=None)
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4)), seed=st.integers(0, 2**16))
def test_diagnosis_recovers_planted_relations(shape, seed):
    from gradcheck.diagnose import diagnose

    rng = np.random.default_rng(seed)
    t = rng.standard_normal(shape) + 0.1
    assert diagnose(-t, t, {}).kind == "sign flip"
    assert diagnose(3.0 * t, t, {"m": 3}).kind == "scale factor"
    batch = np.stack([t, 2 * t, -t])
    assert diagnose(batch, 2 * t, {}).kind == "missing batch sum"
    if shape[0] != shape[1] and min(shape) > 1:  # a (1, n) row and its (n, 1) transpose hold the same vector
        assert diagnose(t.T, t, {}).kind == "transpose"
