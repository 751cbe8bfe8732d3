"""Shared small models for the engine's tests."""

import os

import pytest

# No test reuses a result of an earlier run (gradcheck.result_cache): a test that changes the engine's
# behaviour (monkeypatch) must see it, and the user's cache is not touched. tests/test_result_cache.py
# turns the cache on in a temporary directory. Subprocesses inherit this.
os.environ["GRADCHECK_RESULT_CACHE"] = "off"

from gradcheck import Data, Model
from gradcheck.ops import log, relu, softmax, sum, tanh


def mlp(m=4, d=3, h=5, c=2, activation=tanh, mean=True):
    """Two-layer MLP in row layout (X W + b), softmax cross-entropy, batch mean or sum."""
    return Model(
        "mlp",
        {"m": m, "d": d, "h": h, "c": c},
        data={"X": Data(("m", "d")), "Y": Data(("m", "c"), kind="one_hot")},
        params={"W1": ("d", "h"), "b1": ("h",), "W2": ("h", "c"), "b2": ("c",)},
        steps=[
            ("Z1", lambda X, W1, b1: X @ W1 + b1),
            ("A1", lambda Z1: activation(Z1)),
            ("Z2", lambda A1, W2, b2: A1 @ W2 + b2),
            ("P", lambda Z2: softmax(Z2, axis=1)),
            ("loss", (lambda Y, P, m: -sum(Y * log(P)) / m) if mean else (lambda Y, P: -sum(Y * log(P)))),
        ],
    )


@pytest.fixture(scope="session")
def tanh_mlp():
    return mlp()


@pytest.fixture(scope="session")
def relu_mlp():
    return mlp(activation=relu)
