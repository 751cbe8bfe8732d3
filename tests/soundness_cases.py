"""A separately generated set of homework files: rectangular dims, planted mistakes (issue 10).

``cases(seed)`` draws the dims of five small networks with a seeded generator (distinct dims, and
on purpose one of them equal to 2, the factor a squared error's derivative carries, so that a
diagnosis or repair that rests on a coincidence of values would show) and plants in each a factor,
a transpose or a shape mistake. Each case says what must be found; nothing here was tuned on the
checker's output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Case:
    id: str
    toml: str
    claim: str
    verdict: str
    diagnosis: str | None = None  # expected diagnosis kind
    factor: float | None = None  # the planted factor (claimed = factor * truth)
    names: tuple[str, ...] = ()  # dims the diagnosis may name (empty: none)
    dims: dict = field(default_factory=dict)


def _dims(rng: np.random.Generator, names: list[str]) -> dict[str, int]:
    """Distinct dims from 3..9, except one (not the batch) set to 2: a coincidence waiting to happen."""
    values = rng.choice(np.arange(3, 10), size=len(names), replace=False).tolist()
    dims = dict(zip(names, (int(v) for v in values)))
    dims[names[1 + int(rng.integers(0, len(names) - 1))]] = 2
    return dims


def _file(title: str, dims: dict, data: str, params: str, forward: str, claims: list[tuple]) -> str:
    out = [f'title = "{title}"', "[dims]"] + [f"{k} = {v}" for k, v in dims.items()]
    out += ["[data]", data.strip(), "[params]", params.strip(), "[forward]", forward.strip()]
    for name, wrt, formula in claims:
        out += ["[[claims]]", f'name = "{name}"', f'wrt = "{wrt}"', f'formula = "{formula}"']
    return "\n".join(out) + "\n"


def cases(seed: int = 20261129) -> list[Case]:
    rng = np.random.default_rng(seed)
    out: list[Case] = []

    # linear regression, column of weights, squared error summed (a factor 2 in every gradient)
    d = _dims(rng, ["m", "nx"])
    claims = [("dw", "w", "2 * X.T @ r"), ("dw_half", "w", "X.T @ r"), ("dw_row", "w", "2 * r.T @ X"),
              ("dw_flat", "w", "2 * sum(X * r, axis=0)"), ("dw_mean", "w", "2 * X.T @ r / m")]
    text = _file("linear regression, summed squared error", d,
                 'X = { shape = ["m", "nx"] }\ny = { shape = ["m", 1] }', 'w = ["nx", 1]',
                 'r = "X @ w - y"\nloss = "sum(r**2)"', claims)
    out += [Case("linreg-correct", text, "dw", "correct", dims=d),
            Case("linreg-factor-2", text, "dw_half", "incorrect", "scale factor", 0.5, dims=d),
            Case("linreg-row", text, "dw_row", "incorrect", "transpose", dims=d),
            Case("linreg-flat", text, "dw_flat", "shape error", "reshape", dims=d),
            Case("linreg-mean", text, "dw_mean", "incorrect", "mean vs sum", None, ("m",), dims=d)]

    # logistic regression, batch mean
    d = _dims(rng, ["m", "d"])
    claims = [("dw", "w", "X.T @ (p - y) / m"), ("dw_sum", "w", "X.T @ (p - y)"),
              ("db_nosum", "b", "(p - y) / m"), ("dw_twice", "w", "X.T @ (p - y) / m / 2")]
    text = _file("logistic regression, mean binary cross-entropy", d,
                 'X = { shape = ["m", "d"] }\ny = { shape = ["m"], kind = "binary" }', 'w = ["d"]\nb = []',
                 'p = "sigmoid(X @ w + b)"\nloss = "-sum(y * log(p) + (1 - y) * log(1 - p)) / m"', claims)
    out += [Case("logreg-correct", text, "dw", "correct", dims=d),
            Case("logreg-sum", text, "dw_sum", "incorrect", "mean vs sum", None, ("m",), dims=d),
            Case("logreg-batch-sum", text, "db_nosum", "incorrect", "missing batch sum", dims=d),
            Case("logreg-half", text, "dw_twice", "incorrect", "scale factor", 0.5, dims=d)]

    # softmax regression
    d = _dims(rng, ["n", "f", "k"])
    claims = [("dW", "W", "X.T @ (P - Y) / n"), ("dW_T", "W", "(P - Y).T @ X / n"),
              ("dW_double", "W", "2 * X.T @ (P - Y) / n")]
    text = _file("softmax regression", d, 'X = { shape = ["n", "f"] }\nY = { shape = ["n", "k"], kind = "one_hot" }',
                 'W = ["f", "k"]', 'P = "softmax(X @ W, axis=1)"\nloss = "-sum(Y * log(P)) / n"', claims)
    out += [Case("softmax-correct", text, "dW", "correct", dims=d),
            Case("softmax-transpose", text, "dW_T", "incorrect", "transpose", dims=d),
            Case("softmax-factor-2", text, "dW_double", "incorrect", "scale factor", 2.0, dims=d)]

    # two-layer tanh MLP, row layout
    d = _dims(rng, ["m", "d", "h", "c"])
    claims = [("dZ2", "Z2", "(P - Y) / m"), ("dW1", "W1", "X.T @ ((dZ2 @ W2.T) * (1 - A1**2))"),
              ("dW1_T", "W1", "((dZ2 @ W2.T) * (1 - A1**2)).T @ X"), ("db1_nosum", "b1", "(dZ2 @ W2.T) * (1 - A1**2)"),
              ("dW2_x2", "W2", "2 * A1.T @ dZ2")]
    text = _file("two-layer tanh MLP, softmax cross-entropy, batch mean", d,
                 'X = { shape = ["m", "d"] }\nY = { shape = ["m", "c"], kind = "one_hot" }',
                 'W1 = ["d", "h"]\nb1 = ["h"]\nW2 = ["h", "c"]',
                 'Z1 = "X @ W1 + b1"\nA1 = "tanh(Z1)"\nZ2 = "A1 @ W2"\nP = "softmax(Z2, axis=1)"\n'
                 'loss = "-sum(Y * log(P)) / m"', claims)
    out += [Case("mlp-correct", text, "dW1", "correct", dims=d),
            Case("mlp-transpose", text, "dW1_T", "incorrect", "transpose", dims=d),
            Case("mlp-batch-sum", text, "db1_nosum", "incorrect", "missing batch sum", dims=d),
            Case("mlp-factor-2", text, "dW2_x2", "incorrect", "scale factor", 2.0, dims=d)]

    # column layout, squared error summed
    d = _dims(rng, ["m", "d", "h"])
    claims = [("dZ1", "Z1", "(w2.T @ (2 * (w2 @ A1 - Y))) * (1 - A1**2)"),
              ("db1", "b1", "sum(dZ1, axis=1, keepdims=True)"), ("db1_nosum", "b1", "dZ1"),
              ("dW1_rowhabit", "W1", "X @ dZ1.T"), ("dw2_half", "w2", "(w2 @ A1 - Y) @ A1.T")]
    text = _file("column layout, tanh layer, summed squared error", d,
                 'X = { shape = ["d", "m"] }\nY = { shape = [1, "m"] }', 'W1 = ["h", "d"]\nb1 = ["h", 1]\nw2 = [1, "h"]',
                 'Z1 = "W1 @ X + b1"\nA1 = "tanh(Z1)"\nloss = "sum((w2 @ A1 - Y)**2)"', claims)
    out += [Case("column-correct", text, "db1", "correct", dims=d),
            Case("column-batch-sum", text, "db1_nosum", "incorrect", "missing batch sum", dims=d),
            Case("column-transpose", text, "dW1_rowhabit", "incorrect", "transpose", dims=d),
            Case("column-factor-2", text, "dw2_half", "incorrect", "scale factor", 0.5, dims=d)]
    return out
