"""Test-only documents for tests/test_report_cli.py (loaded with ``gradcheck report --module report_testdocs``).

``T1`` has only claims whose verdict is as expected (exit 0), including one whose formula raises
(not evaluable) and a matrix-valued wrong claim (a figure); ``T2`` has a claim whose verdict is not
the expected one (exit 1); ``T3`` is a maximised log-likelihood with a sign convention.
"""

from gradcheck import Claim, Data, Derivation, Model
from gradcheck.ops import log, sigmoid, sum

MODEL = Model(
    name="linear least squares",
    dims={"m": 3, "d": 2, "k": 3},
    data={"X": Data(("m", "d")), "Y": Data(("m", "k"))},
    params={"W": ("d", "k")},
    steps=[("R", lambda X, W, Y: X @ W - Y), ("loss", lambda R: sum(R * R) / 2)],
)


def _raises(X):
    raise RuntimeError("this formula always fails")


T1 = Derivation(
    id="T1", title="Least squares | a test document", source="test.txt", model=MODEL,
    description="A test document for the report: *least squares* with a pipe | in the title.",
    notation="| symbol | meaning |\n|---|---|\n| W | weights |",
    conventions="Rows are examples.", findings=("One claim has a factor 2.",),
    claims=(
        Claim("dL_dW", wrt="W", formula=lambda X, R: X.T @ R, latex=r"\frac{\partial L}{\partial W} = X^\top R",
              locator="eq. 1", expect="correct"),
        Claim("dL_dW_twice", wrt="W", formula=lambda X, R: 2 * X.T @ R,
              latex=r"\frac{\partial L}{\partial W} = 2 X^\top R, \quad \|R\|^2 = |R|", locator="eq. 2",
              expect="incorrect", expect_diagnosis="scale factor"),
        Claim("dL_dW_raises", wrt="W", formula=_raises, latex=r"\nabla_W L = ?", expect="not evaluable"),
        Claim("dL_dW_shape", wrt="W", formula=lambda X, R: R @ X, latex=r"R X", expect="shape error"),
    ),
)

T2 = Derivation(
    id="T2", title="An unexpected verdict", source="test2.txt", model=MODEL,
    claims=(Claim("dL_dW_neg", wrt="W", formula=lambda X, R: -X.T @ R, latex=r"-X^\top R", expect="correct"),),
)

LOGLIK = Model(
    name="logistic log-likelihood (maximised)",
    dims={"m": 4, "d": 2},
    data={"X": Data(("m", "d")), "y": Data(("m",), kind="binary")},
    params={"w": ("d",)},
    steps=[("p", lambda X, w: sigmoid(X @ w)), ("ll", lambda y, p: sum(y * log(p) + (1 - y) * log(1 - p)))],
    objective="ll", sense="maximise",
)

T3 = Derivation(
    id="T3", title="Gradient ascent", source="test3.txt", model=LOGLIK,
    claims=(Claim("dll_dw", wrt="w", formula=lambda X, y, p: X.T @ (y - p), latex=r"X^\top (y - p)",
                  convention="the log-likelihood is maximised", expect="correct"),),
)

DERIVATIONS = (T1, T2, T3)
