"""The benchmark problems: a d-h-c network (tanh hidden layer, softmax cross-entropy, mean over a
batch of m samples), written once as a gradcheck Model, once as plain numpy (the function the
numpy-based peers differentiate), with the hand-derived backprop formulas, their planted errors,
and an exact reference gradient computed in extended precision (np.longdouble)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradcheck import Claim, Data, Model
from gradcheck.ops import log, softmax, sum, tanh
from gradcheck.points import draw_points

PARAMS = ("W1", "b1", "W2", "b2")


def network(m: int, d: int, h: int, c: int) -> Model:
    return Model(
        f"{d}-{h}-{c} tanh / softmax cross-entropy, batch {m}",
        dims={"m": m, "d": d, "h": h, "c": c},
        data={"x": Data(("m", "d")), "y": Data(("m", "c"), kind="one_hot")},
        params={"W1": ("d", "h"), "b1": ("h",), "W2": ("h", "c"), "b2": ("c",)},
        steps=[
            ("z1", lambda x, W1, b1: x @ W1 + b1),
            ("a1", lambda z1: tanh(z1)),
            ("z2", lambda a1, W2, b2: a1 @ W2 + b2),
            ("p", lambda z2: softmax(z2, axis=1)),
            ("loss", lambda y, p, m: -sum(y * log(p)) / m),
        ],
    )


# hand-derived backprop (row-vector convention: z = x W + b)
def _dz2(p, y, m):
    return (p - y) / m


def _dz1(p, y, m, W2, a1):
    return (_dz2(p, y, m) @ W2.T) * (1 - a1 ** 2)


FORMULAS = {
    "W1": lambda x, p, y, m, W2, a1: x.T @ _dz1(p, y, m, W2, a1),
    "b1": lambda p, y, m, W2, a1: sum(_dz1(p, y, m, W2, a1), axis=0),
    "W2": lambda a1, p, y, m: a1.T @ _dz2(p, y, m),
    "b2": lambda p, y, m: sum(_dz2(p, y, m), axis=0),
}


def claims(planted: dict | None = None) -> list[Claim]:
    """One gradient claim per parameter; ``planted`` maps a parameter to a function applied to the
    correct value (a planted error)."""
    out = []
    for name, f in FORMULAS.items():
        g = planted.get(name) if planted else None
        if g is None:
            formula = f
        else:
            formula = _wrap(f, g)
        out.append(Claim(f"dloss_d{name}", name, formula))
    return out


def _wrap(f, g):
    import inspect

    names = list(inspect.signature(f).parameters)
    src = f"lambda {', '.join(names)}: g(f({', '.join(names)}))"
    return eval(src, {"f": f, "g": g})  # noqa: S307 - keeps the parameter names the checker reads


@dataclass
class Problem:
    name: str
    model: Model
    point: dict  # x, y, W1, b1, W2, b2 (float64)
    exact: dict  # exact gradient (longdouble reference, rounded to float64)
    planted: dict  # name -> {param: function of the correct gradient}
    planted_where: dict  # name -> description

    @property
    def n(self) -> int:
        return sum_sizes(self.point)

    def theta(self) -> np.ndarray:
        return np.concatenate([self.point[k].reshape(-1) for k in PARAMS])

    def split(self, theta: np.ndarray) -> list[np.ndarray]:
        out, lo = [], 0
        for k in PARAMS:
            s = self.point[k].size
            out.append(theta[lo:lo + s].reshape(self.point[k].shape))
            lo += s
        return out

    def loss(self, theta: np.ndarray) -> float:
        return numpy_loss(self.point["x"], self.point["y"], *self.split(theta))

    def grad(self, theta: np.ndarray, planted: str | None = None) -> np.ndarray:
        g = numpy_grad(self.point["x"], self.point["y"], *self.split(theta))
        if planted:
            g = {k: self.planted[planted].get(k, lambda v: v)(v) for k, v in g.items()}
        return np.concatenate([g[k].reshape(-1) for k in PARAMS])


def sum_sizes(point) -> int:
    return int(np.sum([point[k].size for k in PARAMS]))


def numpy_loss(x, y, W1, b1, W2, b2):
    a1 = np.tanh(x @ W1 + b1)
    z2 = a1 @ W2 + b2
    z2 = z2 - z2.max(axis=1, keepdims=True)
    logp = z2 - np.log(np.exp(z2).sum(axis=1, keepdims=True))
    return float(-(y * logp).sum() / x.shape[0])


def numpy_grad(x, y, W1, b1, W2, b2, dtype=np.float64):
    x, y, W1, b1, W2, b2 = (np.asarray(v, dtype=dtype) for v in (x, y, W1, b1, W2, b2))
    m = x.shape[0]
    a1 = np.tanh(x @ W1 + b1)
    z2 = a1 @ W2 + b2
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    dz2 = (p - y) / m
    dz1 = (dz2 @ W2.T) * (1 - a1 ** 2)
    return {"W1": x.T @ dz1, "b1": dz1.sum(axis=0), "W2": a1.T @ dz2, "b2": dz2.sum(axis=0)}


def batched_loss(x, y, W1, b1, W2, b2):
    """The loss for parameters with a leading batch axis (B, ...) or none: 2n forward passes as one
    batch is this function on stacked perturbed parameters."""
    z1 = np.matmul(x, W1) + (b1[:, None, :] if b1.ndim == 2 else b1)
    a1 = np.tanh(z1)
    z2 = np.matmul(a1, W2) + (b2[:, None, :] if b2.ndim == 2 else b2)
    z2 = z2 - z2.max(axis=-1, keepdims=True)
    logp = z2 - np.log(np.exp(z2).sum(axis=-1, keepdims=True))
    return -(y * logp).sum(axis=(-2, -1)) / x.shape[0]


def make(name: str, m: int, d: int, h: int, c: int, block: int, seed: int = 0) -> Problem:
    model = network(m, d, h, c)
    point = {k: np.asarray(v, dtype=float) for k, v in draw_points(model, 1, seed=seed)[0].values.items()}
    exact = {k: v.astype(np.float64) for k, v in numpy_grad(*(point[k] for k in ("x", "y") + PARAMS),
                                                             dtype=np.longdouble).items()}
    g1 = exact["W1"]
    i, j = np.unravel_index(int(np.argmax(np.abs(g1))), g1.shape)
    # the square block (of disjoint block-sized tiles of W1) whose transpose changes it the most
    best, where = -1.0, (0, 0)
    for r in range(0, g1.shape[0] - block + 1, block):
        for s in range(0, g1.shape[1] - block + 1, block):
            t = g1[r:r + block, s:s + block]
            gap = float(np.max(np.abs(t - t.T)))
            if gap > best:
                best, where = gap, (r, s)
    r, s = where

    def one_percent(v, i=i, j=j):
        v = np.array(v, dtype=float)
        v[i, j] *= 1.01
        return v

    def transposed(v, r=r, s=s):
        v = np.array(v, dtype=float)
        v[r:r + block, s:s + block] = v[r:r + block, s:s + block].T.copy()
        return v

    planted = {"1% on one entry of dL/dW1": {"W1": one_percent},
               f"transposed {block}x{block} block of dL/dW1": {"W1": transposed},
               "sign flip of dL/db2": {"b2": lambda v: -np.asarray(v, dtype=float)}}
    where_txt = {"1% on one entry of dL/dW1": f"entry ({i}, {j}), the largest |dL/dW1|",
                 f"transposed {block}x{block} block of dL/dW1": f"rows {r}:{r + block}, columns {s}:{s + block} "
                 f"(the {block}x{block} tile whose transpose differs most)",
                 "sign flip of dL/db2": "all of dL/db2"}
    return Problem(name, model, point, exact, planted, where_txt)
