"""gradcheck.expr: the whitelist interpreter for homework expressions."""

import ast
import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck import kinks, numpy_ops, ops
from gradcheck.expr import FUNCTIONS, Expression, ExpressionError, parse

R = np.random.default_rng(0)
A = R.standard_normal((3, 4))
B = R.standard_normal((4, 2))
V = R.standard_normal(4)
SCOPE = {"A": A, "B": B, "V": V, "m": 3, "eps": 1e-5, "P": ops.softmax(A, axis=1)}

ALLOWED = [
    ("A", A), ("2.5", 2.5), ("A + 1", A + 1), ("A - V", A - V), ("A * V", A * V), ("A / m", A / 3),
    ("A ** 2", A**2), ("A @ B", A @ B), ("-A", -A), ("+A", A), ("A.T", A.T), ("(A > 0) * A", (A > 0) * A),
    ("(A >= 0) + (A < 0) + (A <= 0) + (A == 0)", 1.0 * (A >= 0) + 1.0 * (A < 0) + 1.0 * (A <= 0) + 1.0 * (A == 0)),
    ("A[0]", A[0]), ("A[:, 1:3]", A[:, 1:3]), ("A[-1, ::2]", A[-1, ::2]), ("A[None, 0, :]", A[None, 0, :]),
    ("A[..., 0]", A[..., 0]), ("A[:m-1]", A[:2]),
    ("exp(A)", np.exp(A)), ("log(abs(A))", np.log(np.abs(A))), ("sqrt(abs(A) + eps)", np.sqrt(np.abs(A) + 1e-5)),
    ("tanh(A)", np.tanh(A)), ("sigmoid(A)", 1 / (1 + np.exp(-A))), ("relu(A)", np.maximum(A, 0)),
    ("softplus(A)", np.log1p(np.exp(A))), ("softmax(A, axis=1)", np.exp(A) / np.exp(A).sum(1, keepdims=True)),
    ("log_softmax(A, axis=0)", A - np.log(np.exp(A).sum(0, keepdims=True))),
    ("logsumexp(A, axis=1, keepdims=True)", np.log(np.exp(A).sum(1, keepdims=True))),
    ("sum(A)", A.sum()), ("sum(A, axis=0)", A.sum(0)), ("mean(A, axis=1, keepdims=True)", A.mean(1, keepdims=True)),
    ("var(A, axis=1)", A.var(1)), ("max(A, axis=1)", A.max(1)), ("max(A)", A.max()), ("min(A, axis=0)", A.min(0)),
    ("maximum(A, 0)", np.maximum(A, 0)), ("minimum(A, V)", np.minimum(A, V)), ("clip(A, -0.5, 0.5)", np.clip(A, -.5, .5)),
    ("where(A > 0, A, 2 * A)", np.where(A > 0, A, 2 * A)), ("diag(V)", np.diag(V)), ("diag(A @ A.T)", np.diag(A @ A.T)),
    ("outer(V, V)", np.outer(V, V)), ("eye(m)", np.eye(3)), ("ones((m, 2))", np.ones((3, 2))),
    ("zeros([2, m])", np.zeros((2, 3))), ("transpose(A)", A.T), ("reshape(A, (2, 6))", A.reshape(2, 6)),
    ("stack([V, V], axis=1)", np.stack([V, V], axis=1)), ("concatenate((A, A), axis=0)", np.concatenate([A, A])),
    ("einsum('ij,jk->ik', A, B)", A @ B), ("P - (P > 0.5)", SCOPE["P"] - (SCOPE["P"] > 0.5)),
    ("sum(A, axis=1, keepdims=True)", A.sum(1, keepdims=True)), ("sign(A)", np.sign(A)),
    ("0 < A < 1", ((A > 0) & (A < 1)).astype(float)),
    ("inv(A @ A.T + eye(m))", np.linalg.inv(A @ A.T + np.eye(3))), ("det(A @ A.T)", np.linalg.det(A @ A.T)),
]


@pytest.mark.parametrize("text,want", ALLOWED, ids=[t for t, _ in ALLOWED])
def test_allowed_construct_evaluates(text, want):
    got = parse(text, where="test").evaluate(SCOPE)
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=1e-12, atol=1e-12)


def test_every_whitelisted_function_is_covered():
    used = {n.func.id for t, _ in ALLOWED for n in ast.walk(ast.parse(t, mode="eval")) if isinstance(n, ast.Call)}
    assert set(FUNCTIONS) - used - set(numpy_ops.FUNCTIONS) <= {"identity"}  # numpy's: test_numpy_spelling


FORBIDDEN = [  # text, (line, column), words of the message
    ("np.expp(A)", (1, 1), "`np.expp` is not supported"),
    ("A.shapes", (1, 1), "attribute `.shapes`"),
    ("A.__class__", (1, 1), "attribute `.__class__`"),
    ("__import__('os')", (1, 1), "function '__import__'"),
    ("__builtins__", (1, 1), "dunder"),
    ("lambda x: x", (1, 1), "lambda"),
    ("[a for a in A]", (1, 1), "list comprehension"),
    ("(a for a in A)", (1, 1), "generator expression"),
    ("{'a': A}", (1, 1), "dict"),
    ("open('f')", (1, 1), "unknown function 'open'"),
    ("expp(A)", (1, 1), "did you mean exp"),
    ("A + 'x'", (1, 5), "string 'x'"),
    ("A if m else B", (1, 1), "conditional expression"),
    ("A and B", (1, 1), "and"),
    ("not A", (1, 1), "not"),
    ("A is B", (1, 1), "is"),
    ("sum(A, out=B)", (1, 12), "keyword argument 'out'"),
    ("exp(A,\n  axis=1)", (2, 8), "keyword argument 'axis'"),
    ("sum(*A)", (1, 5), "starred"),
    ("A[1.5]", (1, 3), "index `1.5`"),
    ("A[B]", (1, 1), None),  # a name as index is allowed at parse time, rejected at evaluation (not an int)
    ("einsum(A, B)", (1, 8), "subscripts"),
    ("einsum('ij;os', A)", (1, 8), "einsum subscripts"),
    ("(x := A)", (1, 2), "assignment expression"),
    ("A +", (1, 1), "syntax error"),
    ("f'{A}'", (1, 1), "f-string"),
    ("A ^ B", (1, 3), "use ** for powers"),
]


@pytest.mark.parametrize("text,pos,words", [f for f in FORBIDDEN if f[2]], ids=[f[0] for f in FORBIDDEN if f[2]])
def test_forbidden_construct_rejected_with_position(text, pos, words):
    with pytest.raises(ExpressionError) as info:
        parse(text, where="claim dW1")
    err = info.value
    msg = str(err)
    assert msg.startswith("claim dW1: line ")
    assert (err.line, err.column) == pos, msg
    assert words in msg
    assert err.construct


def test_errors_at_evaluation_name_and_suggest():
    with pytest.raises(ExpressionError, match=r"unknown name 'Aa'; did you mean 'A'"):
        parse("Aa + 1", where="step Z").evaluate(SCOPE)
    with pytest.raises(ExpressionError, match="must hold integers"):
        parse("A[B]").evaluate(SCOPE)
    with pytest.raises(ExpressionError, match="too large"):
        parse("10 ** 10 ** 10").evaluate({})


def test_names_signature_and_function():
    e = parse("X.T @ ((dZ2 @ W2.T) * (1 - A1**2)) + sum(X) * m", where="claim dW1")
    assert e.names == ("X", "dZ2", "W2", "A1", "m")
    f = e.as_function(e.names)
    assert list(inspect.signature(f).parameters) == list(e.names)
    x, dz, w2, a1 = R.standard_normal((4, 3)), R.standard_normal((4, 2)), R.standard_normal((5, 2)), \
        R.standard_normal((4, 5))
    np.testing.assert_allclose(f(x, dz, w2, a1, 4), x.T @ ((dz @ w2.T) * (1 - a1**2)) + x.sum() * 4)
    g = e.as_function(("m", "A1", "W2", "dZ2", "X"))  # any order
    np.testing.assert_allclose(g(4, a1, w2, dz, x), f(x, dz, w2, a1, 4))


def test_tree_copy_edit_unparse():
    e = parse("X.T @ (P - Y)")
    tree = e.copy_tree()
    tree.body = ast.BinOp(tree.body, ast.Div(), ast.Name("m", ast.Load()))
    edited = Expression.from_tree(tree, where="repair")
    assert edited.source == "X.T @ (P - Y) / m"
    assert edited.names == ("X", "P", "Y", "m")
    assert e.source == "X.T @ (P - Y)"  # original untouched
    bad = e.copy_tree()
    bad.body = ast.Attribute(ast.Name("X", ast.Load()), "shape", ast.Load())
    with pytest.raises(ExpressionError, match="shape"):
        Expression.from_tree(bad)


def test_comparisons_use_real_parts_and_record_kinks():
    z = np.array([[0.5, -2.0], [3.0, -0.25]])
    e = parse("sum((Z > 0) * Z * Z)")
    with kinks.watch() as log:
        value = e.evaluate({"Z": z + 1e-20j})  # complex step passes through the comparison
    assert log.calls == ["comparison >"] and log.min_distance == pytest.approx(0.25)
    assert value.imag == pytest.approx(2 * (0.5 + 3.0) * 1e-20)
    with kinks.watch() as log:
        parse("where(Z >= W, Z, W)").evaluate({"Z": z, "W": np.zeros((2, 2))})
    assert log.min_distance == pytest.approx(0.25)


def test_jax_and_sympy_backends():
    import jax
    import jax.numpy as jnp
    import sympy

    jax.config.update("jax_enable_x64", True)
    e = parse("sum(relu(Z) * (Z > 0) + softmax(Z, axis=1)) / m + 1/3")
    z = np.array([[0.5, -2.0], [3.0, -0.25]])
    ref = e.evaluate({"Z": z, "m": 2})
    assert float(e.evaluate({"Z": jnp.asarray(z), "m": 2})) == pytest.approx(ref)
    grad = jax.grad(lambda x: e.evaluate({"Z": x, "m": 2}))(jnp.asarray(z))
    assert grad.shape == (2, 2)
    a = sympy.Symbol("a", real=True)
    zs = np.array([[a, sympy.Rational(-2)], [sympy.Integer(3), sympy.Rational(-1, 4)]], dtype=object)
    with kinks.sympy_substitution({a: sympy.Rational(1, 2)}):
        s = e.evaluate({"Z": zs, "m": sympy.Integer(2)})
    assert abs(float(s.subs(a, sympy.Rational(1, 2))) - ref) < 1e-12
    assert not s.atoms(sympy.Float)  # literals such as 1/3 stay exact rationals


SHAPES = st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5))
EXPRS = [
    ("sum(exp(A) * A, axis=1, keepdims=True) + A @ B @ B.T", lambda A, B: np.sum(np.exp(A) * A, axis=1, keepdims=True) + A @ B @ B.T),
    ("softmax(A, axis=0) - mean(A, axis=0) / (1 + A**2)", lambda A, B: np.exp(A) / np.exp(A).sum(0) - A.mean(0) / (1 + A**2)),
    ("where(A > 0, A, -A) @ tanh(B) + max(A, axis=1, keepdims=True)", lambda A, B: np.abs(A) @ np.tanh(B) + A.max(1, keepdims=True)),
    ("(B.T @ A.T).T - var(A, axis=1, keepdims=True) * sigmoid(A @ B)[:, 0:1]",
     lambda A, B: A @ B - A.var(1, keepdims=True) * (1 / (1 + np.exp(-(A @ B))))[:, 0:1]),
]


@settings(max_examples=25, deadline=None)
@given(shape=SHAPES, seed=st.integers(0, 2**31 - 1), which=st.integers(0, len(EXPRS) - 1))
def test_numpy_evaluation_matches_direct_numpy(shape, seed, which):
    m, n, k = shape
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((m, n)), rng.standard_normal((n, k))
    text, direct = EXPRS[which]
    np.testing.assert_allclose(parse(text).evaluate({"A": a, "B": b}), direct(a, b), rtol=1e-10, atol=1e-12)
