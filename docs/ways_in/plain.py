"""The same computation as softmax.toml, as plain numpy functions."""
import numpy as np


def loss(W, X, Y):
    Z = X @ W
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P = P / P.sum(axis=1, keepdims=True)
    return -np.sum(Y * np.log(P)) / X.shape[0]


def dloss_dW(W, X, Y):
    Z = X @ W
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P = P / P.sum(axis=1, keepdims=True)
    return X.T @ (P - Y)          # forgot the 1/m


rng = np.random.default_rng(0)
W = rng.standard_normal((3, 4))
X = rng.standard_normal((6, 3))
Y = np.eye(4)[rng.integers(0, 4, 6)]
