"""The symbolic oracle builds its exact forward pass with SymEngine, and with SymPy where SymEngine
cannot build it exactly: both engines must give the same exact values and the same outcomes, a float
literal must never become a 15-digit binary float, and what SymEngine lacks must fall back."""

from __future__ import annotations

import numpy as np
import pytest
import symengine
import sympy
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gradcheck import ops
from gradcheck.claim import Claim
from gradcheck.homework.load import loads
from gradcheck.model import Data, Model
from gradcheck.oracles import symbolic as S

ACTIVATIONS = ["tanh(Z)", "sigmoid(Z)", "exp(Z / 3)", "softplus(Z)", "relu(Z)", "abs(Z)", "Z * Z",
               "maximum(Z, Z / 2)", "sqrt(1 + Z * Z)", "clip(Z, -1 / 2, 1 / 2)", "0.1 * Z + Z ** 3"]
HEADS = ["sum(A * A) / m", "-sum(Y * log(softmax(A)))", "sum(logsumexp(A, axis=1))", "sum(var(A, axis=0))",
         "sum(mean(A, axis=1) ** 2)", "sum(log_softmax(A) * Y) / 3"]


def _model(activation: str, head: str, m: int, h: int) -> str:
    return f"""
title = "random layer"
[dims]
m = {m}
d = 2
h = {h}
[data]
X = {{ shape = ["m", "d"] }}
Y = {{ shape = ["m", "h"], kind = "one_hot" }}
[params]
W = ["d", "h"]
b = ["h"]
[forward]
Z = "X @ W + b"
A = "{activation.replace('Z', '(Z)')}"
loss = "{head}"
[[claims]]
name = "dW_wrong"
wrt = "W"
formula = "X.T @ A"
[[claims]]
name = "dA"
wrt = "A"
formula = "A"
"""


def _point(model, wrt: str, engine: str, monkeypatch):
    monkeypatch.setattr(S, "ENGINE", engine)
    S._CACHE.clear()
    with S.exact_literals():
        return S._point(model, wrt, 0)


def _same_number(a, b) -> bool:
    """Equal to 55 digits (exact values such as tanh(3/7) have no common normal form)."""
    d = (S._to_sympy(a) - S._to_sympy(b)).evalf(60)
    return abs(d) <= 1e-55 * max(1, abs(sympy.sympify(b).evalf(60)))


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(activation=st.sampled_from(ACTIVATIONS), head=st.sampled_from(HEADS), m=st.integers(1, 3),
       h=st.integers(2, 3))
@example(activation="0.1 * Z + Z ** 3", head="-sum(Y * log(softmax(A)))", m=2, h=3)
def test_symengine_and_sympy_forward_passes_agree_exactly(activation, head, m, h, monkeypatch):
    doc = loads(_model(activation, head, m, h), name="random.toml")
    model = doc.model
    se = _point(model, "W", "symengine", monkeypatch)
    sp = _point(model, "W", "sympy", monkeypatch)
    assert se[-1] == "symengine" and sp[-1] == "sympy"  # a TOML literal is exact: SymEngine builds it all
    for name in model.names:
        a, b = np.asarray(se[1][name], dtype=object), np.asarray(sp[1][name], dtype=object)
        assert a.shape == b.shape
        for x, y in zip(a.reshape(-1), b.reshape(-1)):
            assert not S._binary_floats(x), (name, x)
            assert _same_number(x, y), (name, x, y)
    # and from the symbols: the same expressions, at the symbols' values and at other values
    at = {S._to_sympy(k): sympy.Rational(k_i + 3, 7) for k_i, k in enumerate(sp[2].reshape(-1))}
    for x, y in zip(np.asarray(se[4]["loss"], dtype=object).reshape(-1),
                    np.asarray(sp[4]["loss"], dtype=object).reshape(-1)):
        assert _same_number(S._to_sympy(x).xreplace(at), S._to_sympy(y).xreplace(at))


@pytest.mark.parametrize("activation", ["tanh(Z)", "relu(Z)", "0.1 * Z + Z ** 3", "sigmoid(Z)"])
@pytest.mark.parametrize("head", ["-sum(Y * log(softmax(A)))", "sum(var(A, axis=0))"])
def test_both_engines_measure_the_same(activation, head, monkeypatch):
    doc = loads(_model(activation, head, 2, 3), name="random.toml")
    out = {}
    for engine in ("symengine", "sympy"):
        monkeypatch.setattr(S, "ENGINE", engine)
        S._CACHE.clear()
        out[engine] = [S.symbolic(doc.model_of(c), c, [], doc.derivative_names(c)).points[0] for c in doc.claims]
    for a, b in zip(out["symengine"], out["sympy"]):
        np.testing.assert_allclose(a.truth, b.truth, rtol=1e-14, atol=1e-300)  # 50-digit values, rounded
        np.testing.assert_allclose(a.claimed, b.claimed, rtol=1e-14, atol=1e-300)
        assert (a.decided == "disproved") == (b.decided == "disproved")


def _python_model(step) -> Model:
    return Model(name="python steps", dims={"n": 3}, data={"x": Data(("n",))}, params={"w": ("n",)},
                 steps=[("z", step), ("loss", lambda z: ops.sum(z * z))])


@pytest.mark.parametrize("step, exact", [
    pytest.param(lambda x, w: 0.1 * (x * w), lambda x, w: sympy.Rational(1, 10) * x * w, id="0.1*x"),
    pytest.param(lambda x, w: (x * w) / 3.0 + 0.0 * w, lambda x, w: x * w / 3, id="x/3.0"),
    pytest.param(lambda x, w: ops.tanh(x * w) * 0.25, lambda x, w: sympy.tanh(x * w) / 4, id="tanh*0.25"),
])
def test_a_float_literal_in_python_code_stays_exact(step, exact, monkeypatch):
    """A Python float meets SymEngine values: SymEngine would keep a 15-digit float, so SymPy builds."""
    model = _python_model(step)
    _, values, syms, _, sym_values, engine = _point(model, "w", "symengine", monkeypatch)
    assert engine == "sympy"
    for z, x, w in zip(sym_values["z"], values["x"], syms):
        assert not S._binary_floats(z)
        assert sympy.expand(S._to_sympy(z) - exact(x, w)) == 0, z
    claim = Claim("dw", wrt="w", formula=lambda x, w, z: 0 * w)
    assert S.symbolic(model, claim, [], {}).points[0].decided == "disproved"


@pytest.mark.parametrize("formula, decided", [
    pytest.param(lambda x, w: 0.5 * 4.0 * (x * x * w), "proved", id="0.5*4.0*x*x*w"),
    pytest.param(lambda x, w: 0.1 * 20 * (x * x * w) + 1e-20 * w, "disproved", id="off-by-1e-20"),
    # 0.1 * 3 is 0.30000000000000004 in binary; as SymPy reads it, 0.1 * Integer(3) is 3/10
    pytest.param(lambda x, w: 2 * x * x * w + (0.1 * (3 * ops.ones((3,))) - 0.3), "proved", id="0.1*(3*ones)-0.3"),
    pytest.param(lambda x, w: 2 * x * x * w + ops.where(x > 0, 0.1 * (ops.ones((3,)) * 3) - 0.3, 0 * w), "proved",
                 id="where(0.1*3-0.3)"),
])
def test_a_float_literal_in_a_formula_stays_exact(formula, decided, monkeypatch):
    """The point is built by SymEngine; the formula's floats meet its values: SymPy evaluates it."""
    model = _python_model(lambda x, w: x * w)
    monkeypatch.setattr(S, "ENGINE", "symengine")
    S._CACHE.clear()
    m = S.symbolic(model, Claim("dw", wrt="w", formula=formula), [], {})
    assert S._point(model, "w", 0)[-1] == "symengine"
    assert m.points[0].decided == decided


def test_toml_literals_are_exact_symengine_numbers(monkeypatch):
    doc = loads(_model("Z / 3 + 0.1 * Z", "sum(A * A) / m", 2, 2), name="lit.toml")
    *_, sym_values, engine = _point(doc.model, "W", "symengine", monkeypatch)
    assert engine == "symengine"
    for a, z in zip(sym_values["A"].reshape(-1), sym_values["Z"].reshape(-1)):
        assert not S._binary_floats(a)
        assert sympy.expand(S._to_sympy(a) - sympy.Rational(13, 30) * S._to_sympy(z)) == 0


class _SymPyOnly:
    """A step written against SymPy's API (``is_extended_real``), which SymEngine values lack."""

    def __call__(self, x, w):
        z = x * w
        assert all(sympy.sympify(e).is_extended_real is not False for e in z)
        if any(isinstance(e, symengine.Basic) for e in z):
            _ = z[0].is_extended_real  # AttributeError on a SymEngine value
        return z


def test_a_step_symengine_cannot_run_falls_back_to_sympy(monkeypatch):
    model = _python_model(_SymPyOnly())
    *_, engine = _point(model, "w", "symengine", monkeypatch)
    assert engine == "sympy"
    m = S.symbolic(model, Claim("dw", wrt="w", formula=lambda x, w: 2 * x * x * w), [], {})
    assert m.points[0].decided == "proved"


def test_a_derivative_symengine_lacks_is_taken_by_sympy():
    """|x| differentiated by SymEngine is an unevaluated Derivative: SymPy differentiates it."""
    x = symengine.Symbol("_s_x_0")
    jac = S._jacobian(np.array([symengine.Abs(x) * x], dtype=object), np.array([x], dtype=object))
    value = S._to_sympy(jac[0, 0]).xreplace({sympy.Symbol("_s_x_0", real=True): sympy.Rational(-3, 2)})
    assert sympy.simplify(value) == 3  # d(|x| x)/dx = 2|x|


@pytest.mark.parametrize("a, b, zero", [
    ("exp(x)/(exp(x) + exp(y))", "1/(1 + exp(y - x))", True),
    ("1/(1 + exp(1/3 + x/(1 + exp(y))))", "(1 + exp(-(-1/3 - x*(1 + exp(y))**(-1))))**(-1)", True),
    ("(x + y)**2", "x**2 + 2*x*y + y**2", True),
    ("exp(x)/(exp(x) + exp(y))", "1/(1 + exp(x - y))", False),
    ("log(exp(x))", "x", False),  # true for real x only: left to SymPy, which knows x is real
])
def test_symengine_proves_only_identities(a, b, zero):
    got = S._expands_to_zero(symengine.sympify(a), symengine.sympify(b))
    assert bool(got) is zero


def test_x_to_the_x_is_decided_by_symengine():
    """SymPy never finished ``X ** X`` (factorint); SymEngine keeps (3/7)**(2/5) as it is."""
    doc = loads("""
title = "X ** X"
[dims]
m = 2
d = 2
[data]
X = { shape = ["m", "d"], kind = "positive" }
[params]
W = ["d", "d"]
[forward]
A = "X ** X @ W"
loss = "sum(A * A) / m"
[[claims]]
name = "dW"
wrt = "W"
formula = "2 * (X ** X).T @ A / m"
""", name="xx.toml")
    c = doc.claims[0]
    assert S.symbolic(doc.model_of(c), c, [], {}).points[0].decided == "proved"


@pytest.mark.parametrize("expr, exact", [
    pytest.param(lambda m: 1 / m, sympy.Rational(1, 4), id="1/m"),
    pytest.param(lambda m: 1 / (m - 1), sympy.Rational(1, 3), id="1/(m-1)"),
    pytest.param(lambda m: 1 / (2 * m), sympy.Rational(1, 8), id="1/(2m)"),
    pytest.param(lambda m: m * 0.1, sympy.Rational(2, 5), id="m*0.1"),
    pytest.param(lambda m: m / 3, sympy.Rational(4, 3), id="m/3"),
    pytest.param(lambda m: m ** -2, sympy.Rational(1, 16), id="m**-2"),
    pytest.param(lambda m: 2 ** -m, sympy.Rational(1, 16), id="2**-m"),
])
def test_a_dim_under_symengine_is_an_int_with_exact_quotients(expr, exact):
    with S.building_with("symengine"):
        m = S.ExactDim(4)
        assert list(range(m)) == [0, 1, 2, 3] and np.ones((m, 1)).shape == (4, 1)
        value = expr(m)
    assert not S._binary_floats(value) and S._to_sympy(value) == exact


@pytest.mark.parametrize("engine", ["symengine", "sympy"])
def test_an_exact_zero_is_false_whichever_engine_builds(engine):
    """SymEngine's Integer(0) is truthy in Python: exact constants are ints, and conditions are read
    by value."""
    with S.building_with(engine):
        zero, one = ops.exact_integer(0), ops.exact_integer(1)
        cond = np.array([zero, one, ops.eye(2)[0, 1]], dtype=object)
        assert [ops.truth(c) for c in cond] == [False, True, False]
        assert list(ops.where(cond, np.array([1, 2, 3]), np.array([-1, -2, -3]))) == [-1, 2, -3]
        assert ops.truth(ops.engine().Integer(0)) is False
        third = ops.engine().Rational(1, 3)
        assert [ops.truth(third > 0), ops.truth(-third > 0), ops.truth(third - third)] == [True, False, False]
        assert list(ops.sign_of_real(np.array([ops.engine().Rational(-1, 3)], dtype=object))) == [-1]
