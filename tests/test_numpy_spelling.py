"""numpy spelling, the numpy functions, dim arithmetic, labels and fancy indexing: every construct on
all three oracles (a correct formula passes each), and a wrong formula fails (finite differences)."""

import numpy as np
import pytest

from gradcheck.check import check_claim
from gradcheck.expr import ExpressionError, parse
from gradcheck.homework import HomeworkError, loads

DIMS = {"N": 3, "D": 2, "C": 4, "H": 2, "V": 5}

# id: (data, params, forward steps, wrt, correct formula, wrong formula)
CASES = {
    "dot_method": ({"X": '["N", "D"]'}, {"W": '["D", "C"]'},
                   [("loss", "np.sum(X.dot(W) ** 2) / X.shape[0]")], "W",
                   "2 * X.T.dot(X.dot(W)) / N", "2 * X.T.dot(X.dot(W))"),
    "mean_keepdims": ({"X": '["N", "D"]'}, {"W": '["D", "C"]'},
                      [("Z", "X.dot(W)"), ("loss", "np.sum(Z.mean(axis=1, keepdims=True) ** 2)")], "Z",
                      "2 * Z.mean(axis=1, keepdims=True) / C * np.ones_like(Z)",
                      "2 * Z.mean(axis=1, keepdims=True) * np.ones_like(Z)"),
    "reshape_ravel_flatten": ({"v": '["D*C"]'}, {"W": '["D", "C"]'},
                              [("loss", "np.dot(W.ravel(), v) + np.sum(W.flatten() * v) + np.sum(W.reshape(-1) * v)")],
                              "W", "3 * v.reshape(D, C)", "3 * v.reshape(C, D).T"),
    "transpose_copy_astype_squeeze": ({"A": '["C", "D"]'}, {"W": '["D", "C"]'},
                                      [("loss", ("np.sum(np.squeeze(np.expand_dims(W.transpose().copy().astype(float),"
                                                " 0), axis=0) * A)"))], "W", "A.T", "A"),
    "shape_len": ({"X": '["N", "D"]'}, {"W": '["D", "C"]'},
                  [("loss", "np.sum(W ** 2) / (len(X) * W.shape[1])")], "W", "2 * W / (N * C)", "2 * W / N"),
    "trace": ({"A": '["C", "D"]'}, {"W": '["D", "C"]'}, [("loss", "np.trace(A.dot(W))")], "W", "A.T", "A"),
    "det": ({}, {"W": '["D", "D"]'}, [("loss", "np.linalg.det(W)")], "W",
            "np.linalg.det(W) * np.linalg.inv(W).T", "np.linalg.det(W) * np.linalg.inv(W)"),
    "inv": ({"A": '["D", "D"]'}, {"W": '["D", "D"]'}, [("loss", "np.sum(np.linalg.inv(W) * A)")], "W",
            "-inv(W).T @ A @ inv(W).T", "-inv(W) @ A @ inv(W)"),
    "slogdet": ({}, {"W": '["C", "C"]'}, [("loss", "np.linalg.slogdet(W)[1]")], "W", "inv(W).T", "inv(W)"),
    "logdet_spd": ({"S": '{ shape = ["D", "D"], kind = "spd" }'}, {"W": '["D", "C"]'},
                   [("loss", "logdet(W @ W.T + S)")], "W", "2 * inv(W @ W.T + S) @ W", "inv(W @ W.T + S) @ W"),
    "solve": ({"b": '["D"]', "c": '["D"]'}, {"W": '["D", "D"]'},
              [("loss", "np.sum(np.linalg.solve(W, b) * c)")], "W",
              "-np.outer(np.linalg.solve(W.T, c), np.linalg.solve(W, b))",
              "np.outer(np.linalg.solve(W.T, c), np.linalg.solve(W, b))"),
    "norm": ({}, {"W": '["D", "C"]'}, [("loss", "np.linalg.norm(W)")], "W", "W / np.linalg.norm(W, 'fro')", "W"),
    "kron": ({"u": '["D"]'}, {"w": '["C"]'}, [("loss", "np.sum(np.kron(u, w) ** 2)")], "w",
             "2 * np.sum(u ** 2) * w", "2 * w"),
    "hstack_vstack": ({}, {"W": '["D", "C"]'}, [("loss", "np.sum(np.hstack((W, 2 * W)) ** 2) + np.sum(np.vstack((W, W)))")],
                      "W", "10 * W + 2", "10 * W"),
    "split": ({}, {"W": '["D", "2*C"]'}, [("loss", "np.sum(np.split(W, 2, axis=1)[1] ** 2)")], "W",
              "np.hstack((np.zeros((D, C)), 2 * W[:, C:]))", "2 * W"),
    "repeat_tile": ({"r": '["3*C"]', "t": '["2*C"]'}, {"w": '["C"]'},
                    [("loss", "np.sum(np.repeat(w, 3) * r) + np.sum(np.tile(w, 2) * t)")], "w",
                    "r.reshape(C, 3).sum(axis=1) + t.reshape(2, C).sum(axis=0)",
                    "r.reshape(3, C).sum(axis=0) + t.reshape(2, C).sum(axis=0)"),
    "pad": ({"P": '["D+2", "C+2"]'}, {"W": '["D", "C"]'}, [("loss", "np.sum(np.pad(W, 1, mode='constant') * P)")],
            "W", "P[1:-1, 1:-1]", "P[:D, :C]"),
    "cumsum": ({"r": '["C"]'}, {"w": '["C"]'}, [("loss", "np.sum(np.cumsum(w) * r)")], "w",
               "np.cumsum(r[::-1])[::-1]", "np.cumsum(r)"),
    "triu_tril": ({"A": '["C", "C"]'}, {"W": '["C", "C"]'},
                  [("loss", "np.sum(np.triu(W) * A) + np.sum(np.tril(W, -1) * 2 * A)")], "W",
                  "np.triu(A) + 2 * np.tril(A, k=-1)", "3 * A"),
    "take_labels": ({"idx": '{ shape = ["N"], kind = "labels", classes = "C" }'}, {"w": '["C"]'},
                    [("loss", "np.sum(np.take(w, idx) ** 2)")], "w",
                    "2 * w * (np.arange(C)[:, np.newaxis] == idx[np.newaxis, :]).sum(axis=1)", "2 * w"),
    "broadcast_to": ({"G": '["N", "C"]'}, {"w": '["C"]'}, [("loss", "np.sum(np.broadcast_to(w, (N, C)) * G)")], "w",
                     "G.sum(axis=0)", "G.mean(axis=0)"),
    "std": ({}, {"w": '["C"]'}, [("loss", "np.std(w)")], "w", "(w - w.mean()) / (C * np.std(w))",
            "(w - w.mean()) / np.std(w)"),
    "argmax": ({"X": '["N", "D"]'}, {"W": '["D", "C"]'},
               [("S", "X.dot(W)"), ("loss", "np.sum(S[np.arange(N), np.argmax(S, axis=1)])")], "S",
               "(np.arange(C) == np.argmax(S, axis=1)[:, None]) * 1.0", "np.ones_like(S)"),
    "where_maximum": ({"X": '["N", "D"]'}, {"W": '["D", "C"]'},
                      [("Z", "X.dot(W)"), ("loss", "np.sum(np.where(Z > 0, Z, 0.1 * Z)) + np.sum(np.maximum(0, Z) ** 2)")],
                      "Z", "np.where(Z > 0, 1, 0.1) + 2 * np.maximum(0, Z)", "np.where(Z > 0, 1, 0.1)"),
    "dim_arithmetic_slices": ({"X": '["N", "D"]'}, {"W": '["D", "4*H"]'},
                              [("loss", "np.sum(np.tanh(X.dot(W)[:, 2*H:3*H]))")], "W",
                              "X.T.dot(np.pad(1 - np.tanh(X.dot(W)[:, 2*H:3*H]) ** 2, ((0, 0), (2*H, H))))",
                              "X.T.dot(np.pad(1 - np.tanh(X.dot(W)[:, 2*H:3*H]) ** 2, ((0, 0), (H, 2*H))))"),
    "labels_range_index": ({"X": '["N", "D"]', "y": '{ shape = ["N"], kind = "labels", classes = "C" }'},
                           {"W": '["D", "C"]'},
                           [("P", "np.exp(X.dot(W)) / np.exp(X.dot(W)).sum(axis=1, keepdims=True)"),
                            ("loss", "-np.sum(np.log(P[range(N), y])) / N")], "W",
                           "X.T.dot(P - (np.arange(C) == y[:, None])) / N", "X.T.dot(P - (np.arange(C) == y[:, None]))"),
    "integer_index_rows": ({"idx": '{ shape = ["N"], kind = "labels", classes = "V" }', "G": '["N", "D"]'},
                           {"W": '["V", "D"]'}, [("loss", "np.sum(W[idx.astype(int)] * G)")], "W",
                           "(np.arange(V)[:, None] == idx[None, :]).dot(G)", "G.sum(axis=0) * np.ones_like(W)"),
    "index_arrays_0d_2d": ({"k": '{ shape = [], kind = "labels", classes = "V" }',
                            "J": '{ shape = ["N", 2], kind = "labels", classes = "V" }'}, {"W": '["V", "D"]'},
                           [("loss", "np.sum(W[J] ** 2) + np.sum(W[k] ** 3)")], "W",
                           ("2 * W * (np.arange(V)[:, None] == J.reshape(-1)[None, :]).sum(axis=1, keepdims=True)"
                           " + 3 * W ** 2 * (np.arange(V) == k)[:, None]"),
                           "2 * W * (np.arange(V)[:, None] == J.reshape(-1)[None, :]).sum(axis=1, keepdims=True)"),
    "floordiv_mod": ({}, {"W": '["D", "C"]'}, [("loss", "np.sum(W[:, C // 2:] ** 2) + np.sum(W[:, :C % 3])")], "W",
                     ("np.hstack((np.zeros((D, C // 2)), 2 * W[:, C // 2:])) + "
                     "np.hstack((np.ones((D, C % 3)), np.zeros((D, C - C % 3))))"),
                     "np.hstack((np.zeros((D, C // 2)), 2 * W[:, C // 2:]))"),
    "np_dot_multiply_reshape_N": ({"X": '["N", "D"]', "M": '["N", "C"]'}, {"W": '["D", "C"]'},
                                  [("loss", "np.sum(np.multiply(np.dot(X, W), M).reshape(N, -1))")], "W",
                                  "X.T @ M", "M.T @ X"),
    "symmetric_data": ({"A": '{ shape = ["C", "C"], kind = "symmetric" }'}, {"x": '["C"]'},
                       [("loss", "x.dot(A).dot(x)")], "x", "2 * A.dot(x)", "A.dot(x)"),
}


def homework(case: str, formula: str) -> str:
    data, params, steps, wrt, _, _ = CASES[case]
    lines = ["[dims]"] + [f"{k} = {v}" for k, v in DIMS.items()]
    lines += ["[data]"] + [f"{k} = {v}" if v.startswith("{") else f"{k} = {{ shape = {v} }}" for k, v in data.items()]
    lines += ["[params]"] + [f"{k} = {v}" for k, v in params.items()]
    lines += ["[forward]"] + [f'{k} = "{v}"' for k, v in steps]
    lines += ["[[claims]]", 'name = "claim"', f'wrt = "{wrt}"', f'formula = "{formula}"']
    return "\n".join(lines)


@pytest.mark.parametrize("case", list(CASES))
def test_correct_formula_passes_every_oracle(case):
    d = loads(homework(case, CASES[case][4]), name=f"{case}.toml")
    r = check_claim(d, d.claims[0])
    statuses = {o: v.status for o, v in r.oracles.items()}
    assert statuses == {"finite_difference": "pass", "symbolic": "pass", "autodiff": "pass"}, \
        (r.verdict, r.message, {o: v.message for o, v in r.oracles.items()})


@pytest.mark.parametrize("case", list(CASES))
def test_wrong_formula_fails(case):
    d = loads(homework(case, CASES[case][5]), name=f"{case}.toml")
    r = check_claim(d, d.claims[0], oracles=("finite_difference",))
    assert r.verdict == "incorrect", (r.verdict, r.message)


def test_symmetric_kind_matters():
    """2 A x is the gradient of x^T A x only for a symmetric A: with kind = "real" it is wrong."""
    text = homework("symmetric_data", "2 * A.dot(x)").replace('kind = "symmetric"', 'kind = "real"')
    d = loads(text, name="general.toml")
    assert check_claim(d, d.claims[0], oracles=("finite_difference",)).verdict == "incorrect"


def test_boolean_mask_read_in_the_forward_pass_jax_says_it_cannot():
    text = homework("where_maximum", "2 * Z * (Z > 0)").replace(
        "np.sum(np.where(Z > 0, Z, 0.1 * Z)) + np.sum(np.maximum(0, Z) ** 2)", "np.sum(Z[Z > 0] ** 2)")
    d = loads(text, name="mask.toml")
    r = check_claim(d, d.claims[0])
    assert r.verdict == "correct"
    assert r.oracles["finite_difference"].status == "pass" and r.oracles["symbolic"].status == "pass"
    assert r.oracles["autodiff"].status != "pass"
    assert "where(" in r.oracles["autodiff"].message


SPELLINGS = [
    ("X.dot(W)", "dot(X, W)"), ("np.sum(X, axis=0)", "sum(X, axis=0)"), ("numpy.exp(X)", "exp(X)"),
    ("np.linalg.inv(A)", "inv(A)"), ("X.sum(axis=1, keepdims=True)", "sum(X, axis=1, keepdims=True)"),
    ("X.reshape(N, -1)", "reshape(X, (N, -1))"), ("X.astype(float)", "X"), ("X.astype(int)", "astype_int(X)"),
    ("X.shape[0]", "shape(X)[0]"), ("X[:, np.newaxis]", "X[:, None]"), ("X.T.copy()", "copy(X.T)"),
    ("x.flatten()", "ravel(x)"), ("P[range(N), y]", "P[arange(N), y]"), ("np.zeros((N, D), dtype=float)", "zeros((N, D))"),
    ("np.linalg.norm(X, ord='fro')", "norm(X)"), ("X.transpose(1, 0)", "transpose(X, (1, 0))"),
]


@pytest.mark.parametrize("text,plain", SPELLINGS)
def test_numpy_spelling_is_rewritten_to_plain_names(text, plain):
    assert parse(text).unparse() == plain


@pytest.mark.parametrize("text,column,words", [
    ("X ^ 2", 3, "use ** for powers"),
    ("a + (X^2)", 7, "use ** for powers"),
    ("np.random.randn(N, D)", 1, "draw it as data"),
    ("X.foo()", 3, "not supported"),
    ("np.linalg.eig(A)", 1, "np.linalg offers"),
    ("np.tracee(A)", 1, "did you mean trace"),
    ("X.astype(bool)", 1, "astype(float)"),
    ("np.max(Z1, 0)", 1, "`maximum(Z1, 0)` (elementwise) or `relu(Z1)`"),
    ("Z1.max(0)", 1, "`max(Z1, axis=0)`"),
    ("min(Z1, 0)", 1, "`minimum(Z1, 0)`"),
])
def test_unsupported_numpy_says_what_to_write(text, column, words):
    with pytest.raises(ExpressionError) as info:
        parse(text, where="step s")
    assert info.value.column == column and words in str(info.value)


def test_fancy_index_must_be_integer():
    with pytest.raises(ExpressionError, match="must hold integers"):
        parse("W[v]").evaluate({"W": np.ones((3, 2)), "v": np.array([0.5, 1.0])})


def test_labels_need_classes():
    text = homework("take_labels", "w").replace(', classes = "C"', "")
    with pytest.raises(HomeworkError, match="classes"):
        loads(text, name="x.toml")


def test_labels_are_integers_in_range_and_show_two_classes():
    from gradcheck.points import draw_labels

    rng = np.random.default_rng(3)
    for _ in range(50):
        y = draw_labels(rng, (4,), 3)
        assert np.all(y == np.round(y)) and y.min() >= 0 and y.max() < 3 and len(set(y)) >= 2


@pytest.mark.parametrize("text,want", [
    ("A[(A > 0) & (A < 2)]", [1.0, 0.5]), ("A[~(A > 0)]", [-2.0]), ("(A != 1) * 1.0", [[0.0, 1.0], [1.0, 1.0]]),
    ("A[(A > 2) | (A < -1)]", [-2.0, 3.0]),
])
def test_mask_operators(text, want):
    A = np.array([[1.0, -2.0], [3.0, 0.5]])
    np.testing.assert_array_equal(parse(text).evaluate({"A": A}), want)


def test_mask_operators_refuse_numbers():
    with pytest.raises(ValueError, match="work on masks"):
        parse("A & A").evaluate({"A": np.array([2.0, 3.0])})
