"""Soundness (issue 10): never call a wrong formula correct, never sell a coincidence as a repair.

Each section pins one rule with cases of its own: strict shapes, the second size, an exact
symbolic oracle, semantics that surprise nobody, and a report that rounding noise cannot change.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck import Claim, Data, Model, check_claim
from gradcheck.diagnose import diagnose, diagnose_all
from gradcheck.expr import ExpressionError, parse
from gradcheck.homework import load
from gradcheck.homework.cli import main as check_main
from gradcheck.ops import sum
from gradcheck.repair import find_repair
from gradcheck.sizes import SMALL_INTEGERS, integers_in, redraw_constant, second_dims, second_size
from gradcheck.verdict import OracleVerdict, judge

FD = ("finite_difference",)


def homework(tmp_path, text: str, name: str = "hw.toml"):
    path = tmp_path / name
    path.write_text(text)
    return load(str(path))


def claim_of(derivation, name):
    return derivation.claim(name)


# ------------------------------------------------------------------------------------- 1. shapes
COLUMN_WEIGHTS = """
title = "linear regression with a column of weights"
[dims]
m = 7
nx = 3
[data]
X = { shape = ["m", "nx"] }
y = { shape = ["m", 1] }
[params]
w = ["nx", 1]
[forward]
r = "X @ w - y"
loss = "sum(r**2) / (2 * m)"
[[claims]]
name = "dw"
wrt = "w"
formula = "X.T @ r / m"
[[claims]]
name = "dw_row"
wrt = "w"
formula = "r.T @ X / m"
[[claims]]
name = "dw_flat"
wrt = "w"
formula = "sum(X * r, axis=0) / m"
[[claims]]
name = "dw_no_mean"
wrt = "w"
formula = "r.T @ X"
"""


@pytest.fixture(scope="module")
def column_weights(tmp_path_factory):
    return homework(tmp_path_factory.mktemp("col"), COLUMN_WEIGHTS)


def test_right_values_as_a_row_where_the_gradient_is_a_column_are_not_correct(column_weights):
    r = check_claim(column_weights, claim_of(column_weights, "dw_row"), oracles=FD)
    assert r.verdict == "incorrect"
    assert r.diagnosis.kind == "transpose"
    assert "(1, 3)" in r.diagnosis.text and "(3, 1)" in r.diagnosis.text and "d loss / d w" in r.diagnosis.text
    assert r.diagnosis.fix == "transpose it"


def test_right_values_flat_where_the_gradient_is_a_column_are_a_shape_error_with_the_reshape(column_weights):
    r = check_claim(column_weights, claim_of(column_weights, "dw_flat"), oracles=FD)
    assert r.verdict == "shape error"
    assert r.diagnosis.kind == "reshape" and "reshape it to (3, 1)" in r.diagnosis.fix
    assert "(3,)" in r.message and "(3, 1)" in r.message


def test_the_right_shape_is_correct(column_weights):
    assert check_claim(column_weights, claim_of(column_weights, "dw"), oracles=FD).verdict == "correct"


def test_a_repair_has_the_shape_of_the_derivative(column_weights):
    out = find_repair(column_weights, claim_of(column_weights, "dw_no_mean"), oracles=FD, budget=20)
    assert out.repair is not None, out.message
    model = column_weights.model
    fixed = parse(out.repair.formula, where="repair")
    r = check_claim(model, Claim("fixed", "w", fixed.as_function(fixed.names), source=fixed.source), oracles=FD)
    assert r.verdict == "correct" and np.shape(r.claimed) == (3, 1)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3).filter(lambda s: np.prod(s) > 1), st.data())
def test_an_oracle_never_passes_a_value_of_another_shape(shape, data):
    from gradcheck.oracles.common import Measurement, PointMeasurement

    truth = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    other = data.draw(st.sampled_from([s for s in [(int(np.prod(shape)),), (1, int(np.prod(shape))),
                                                   (int(np.prod(shape)), 1), tuple(shape) + (1,)]
                                       if s != tuple(shape)]))
    m = Measurement("autodiff", "autodiff", {}, (PointMeasurement(truth.reshape(other), truth),))
    assert judge(m).status == "shape"


def test_a_declared_row_layout_is_compared_as_a_row():
    model = Model("bias as a vector", {"m": 5, "h": 3}, data={"X": Data(("m", "h"))}, params={"b": ("h",)},
                  steps=[("Z", lambda X, b: X + b), ("loss", lambda Z: sum(Z ** 2) / 2)])
    as_row = Claim("db_row", "b", lambda Z: sum(Z, axis=0)[None, :], layout="row")
    undeclared = Claim("db_undeclared", "b", lambda Z: sum(Z, axis=0)[None, :])
    assert check_claim(model, as_row, oracles=FD).verdict == "correct"
    r = check_claim(model, undeclared, oracles=FD)
    assert r.verdict == "shape error" and r.diagnosis.kind == "reshape"


def test_no_module_that_judges_reshapes_a_claimed_value_silently():
    import inspect

    import gradcheck.check as check
    import gradcheck.diagnose as diag
    import gradcheck.repair.search as search
    import gradcheck.verdict as verdict

    for module in (check, diag, verdict, search):
        text = inspect.getsource(module)
        assert "squeeze_align" not in text, module.__name__


# ------------------------------------------------------------------------------------- 2. second size
LITERAL_FOUR = """
title = "mean squared error with the batch size written as a number"
[dims]
m = 4
d = 3
[data]
X = { shape = ["m", "d"] }
y = { shape = ["m"] }
[params]
w = ["d"]
[forward]
r = "X @ w - y"
loss = "sum(r**2) / m"
[[claims]]
name = "dw_literal"
wrt = "w"
formula = "2 * X.T @ r / 4"
[[claims]]
name = "dw_missing_two"
wrt = "w"
formula = "X.T @ r / m"
[[claims]]
name = "dw_times_d"
wrt = "w"
formula = "3 * 2 * X.T @ r / m"
"""


@pytest.fixture(scope="module")
def literal_four(tmp_path_factory):
    return homework(tmp_path_factory.mktemp("lit"), LITERAL_FOUR)


def test_a_formula_right_only_at_the_files_size_is_not_correct(literal_four):
    r = check_claim(literal_four, claim_of(literal_four, "dw_literal"), oracles=FD)
    assert r.verdict == "incorrect"
    assert r.diagnosis.kind == "size coincidence"
    assert "m=4" in r.diagnosis.text and "second size" in r.diagnosis.text


def test_a_factor_two_is_not_named_after_a_dim_that_is_two(tmp_path):
    text = LITERAL_FOUR.replace("d = 3", "d = 2")
    doc = homework(tmp_path, text)
    r = check_claim(doc, claim_of(doc, "dw_missing_two"), oracles=FD)
    assert r.verdict == "incorrect" and r.diagnosis.kind == "scale factor"
    assert "1/2" in r.diagnosis.text and "1/d" not in r.diagnosis.text and "d =" not in r.diagnosis.text


def test_a_factor_three_is_not_named_after_a_dim_that_is_three(literal_four):
    r = check_claim(literal_four, claim_of(literal_four, "dw_times_d"), oracles=FD)
    assert r.diagnosis.kind == "scale factor"
    assert r.diagnosis.text.endswith("times 3") and "d" not in r.diagnosis.text.split("times")[-1]


def test_a_dim_factor_is_named_when_it_holds_at_both_sizes():
    t = np.arange(1.0, 7.0)
    cases = [(t * 4, t, {"m": 4, "d": 3}), (t * 11, t, {"m": 11, "d": 7})]
    d = diagnose_all(cases, ("m",))
    assert d.kind == "mean vs sum" and "lacks a division" in d.text
    coincidence = [(t * 3, t, {"m": 4, "d": 3}), (t * 3, t, {"m": 11, "d": 7})]
    assert "d =" not in diagnose_all(coincidence, ("m",)).text
    drifting = [(t * 3, t, {"m": 4, "d": 3}), (t * 5, t, {"m": 11, "d": 7})]
    assert diagnose_all(drifting, ("m",)).kind == "no simple relation"


def test_sizes_are_said_in_the_cli_line_and_the_json(tmp_path, capsys):
    path = tmp_path / "lit.toml"
    path.write_text(LITERAL_FOUR)
    check_main([str(path), "--json", "--no-repair", "--oracles", "finite_difference"])
    captured = capsys.readouterr()
    assert "sizes: m=4, d=3; second size m=" in captured.err
    doc = json.loads(captured.out)
    sizes = [c["sizes"] for d in doc["documents"] for c in d["claims"]]
    assert all("second size m=" in s for s in sizes)


REPAIR_CONSTANT = """
title = "squared error scaled by 3/2, with a constant c that happens to be 3"
[dims]
m = 5
d = 4
[constants]
c = 3.0
reg = 0.1
[data]
X = { shape = ["m", "d"] }
y = { shape = ["m"] }
[params]
w = ["d"]
[forward]
r = "X @ w - y"
loss = "1.5 * sum(r**2) + reg * sum(w**2)"
[[claims]]
name = "dw_missing_three"
wrt = "w"
formula = "X.T @ r + 2 * reg * w"
"""


def test_a_repair_never_uses_a_constant_that_equals_the_factor_by_chance(tmp_path):
    doc = homework(tmp_path, REPAIR_CONSTANT)
    out = find_repair(doc, claim_of(doc, "dw_missing_three"), oracles=FD, budget=20)
    if out.repair is not None:
        assert "c" not in set(parse(out.repair.formula, where="repair").names), out.repair.formula


DROPOUT = """
title = "inverted dropout with m/h = 1/keep_prob by chance"
[dims]
m = 5
h = 4
[constants]
keep_prob = 0.8
[data]
X = { shape = ["m", "h"] }
D = { shape = ["m", "h"], kind = "binary" }
[params]
W = ["h", "h"]
[forward]
A = "(X @ W) * D / keep_prob"
loss = "sum(A**2) / 2"
[[claims]]
name = "dW_no_keep_prob"
wrt = "W"
formula = "X.T @ (A * D)"
"""


def test_a_repair_never_trades_keep_prob_for_a_ratio_of_dims(tmp_path):
    doc = homework(tmp_path, DROPOUT)
    out = find_repair(doc, claim_of(doc, "dW_no_keep_prob"), oracles=FD, budget=20)
    assert out.repair is not None, out.message
    names = set(parse(out.repair.formula, where="repair").names)
    assert "keep_prob" in names and not {"m", "h"} & names, out.repair.formula


def test_without_a_second_size_no_dim_is_named(tmp_path):
    text = LITERAL_FOUR.replace('y = { shape = ["m"] }', 'y = { value = [1.0, -2.0, 0.5, 3.0] }') \
        .replace('X = { shape = ["m", "d"] }', 'X = { value = [[1.0, 2.0, 0.5], [0.0, 1.0, -1.0], '
                 '[2.0, 1.0, 1.0], [-1.0, 0.5, 2.0]] }')
    text += '\n[[claims]]\nname = "dw_times_m"\nwrt = "w"\nformula = "2 * X.T @ r"\n'
    doc = homework(tmp_path, text)
    r = check_claim(doc, claim_of(doc, "dw_times_m"), oracles=FD)
    assert r.verdict == "incorrect" and "no second size" in r.sizes
    assert r.diagnosis.kind == "scale factor" and r.diagnosis.text.endswith("times 4"), r.diagnosis


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from(["m", "n", "d", "h", "k", "c"]), st.integers(1, 30), min_size=1),
       st.lists(st.floats(-5, 5, allow_nan=False).filter(lambda v: v != 0), max_size=3),
       st.sets(st.integers(0, 40), max_size=4))
def test_second_dims_are_distinct_and_avoid_every_coincidence(dims, constants, literals):
    model = Model("m", dims, [("loss", lambda: 0.0)],
                  constants={f"k{i}": v for i, v in enumerate(constants)})
    second = second_dims(model, literals)
    grown = [v for k, v in second.items() if dims[k] != 1]
    assert len(set(grown)) == len(grown)
    assert all(second[k] == 1 for k, v in dims.items() if v == 1)
    banned = set(dims.values()) | set(literals) | set(SMALL_INTEGERS)
    banned |= {int(v) for v in constants if float(v).is_integer()}
    assert not set(grown) & banned


@given(st.floats(-100, 100, allow_nan=False).filter(lambda v: abs(v) > 1e-12))
def test_constants_are_redrawn_keeping_sign_and_probabilities(value):
    new = redraw_constant(value)
    assert new != value and np.sign(new) == np.sign(value)
    if 0 < value < 1:
        assert 0 < new < 1


def test_integers_written_in_formulas_are_found():
    assert integers_in(["2 * X.T @ r / 4", "A[:, 0:3]", "1e-5 * w", "x_2"]) == {2, 4, 0, 3}


def test_a_model_that_fails_at_other_dims_has_no_second_size():
    model = Model("hard-coded slice", {"n": 4}, data={"x": Data(("n",))},
                  steps=[("loss", lambda x: sum(x.reshape(2, 2) ** 2))])
    plan = second_size(model)
    assert not plan.available and "fails at dims" in plan.unavailable


# ------------------------------------------------------------------------------------- 3. symbolic exactness
EXACT = """
title = "scaled centering, Jacobians with eye and ones"
[dims]
n = 3
[constants]
c = 0.3
[data]
x = { shape = ["n"] }
[forward]
mu = "mean(x)"
z = "c * (x - mu)"
loss = "sum(z**2) + 0.1 * sum(z)**2"
[[claims]]
name = "Jz"
of = "z"
wrt = "x"
kind = "jacobian"
formula = "c * eye(n) - c * ones((n, n)) / n"
[[claims]]
name = "dmu"
wrt = "mu"
formula = "-2 * c * sum(z)"
"""


@pytest.fixture(scope="module")
def exact_doc(tmp_path_factory):
    return homework(tmp_path_factory.mktemp("exact"), EXACT)


def test_eye_ones_and_literal_floats_stay_exact_in_sympy(exact_doc):
    r = check_claim(exact_doc, claim_of(exact_doc, "Jz"), oracles=("symbolic",), second=False)
    assert r.oracles["symbolic"].status == "pass", r.oracles["symbolic"]


def test_sympy_points_for_an_intermediate_stay_consistent_with_the_forward_pass(exact_doc):
    # d loss / d mu is -2c sum(z) - 0.2 c n sum(z): the claim drops the second term, which is zero
    # whenever mu is the mean of x; a redrawn mu would make it nonzero and "disprove" the claim
    r = check_claim(exact_doc, claim_of(exact_doc, "dmu"), oracles=("symbolic",), second=False)
    assert r.oracles["symbolic"].status == "pass", r.oracles["symbolic"]
    assert r.oracles["symbolic"].detail in ("proved", "numeric (50 digits)")


def test_an_oracle_that_is_skipped_is_named(tmp_path, capsys):
    text = """
title = "too many symbols for SymPy"
[dims]
a = 5
b = 6
c = 3
[data]
x = { shape = ["a", "b", "c"] }
[forward]
loss = "sum(x**2) / 2"
[[claims]]
name = "dx"
wrt = "x"
formula = "x"
"""
    path = tmp_path / "big.toml"
    path.write_text(text)
    doc = load(str(path))
    r = check_claim(doc, doc.claims[0])
    assert r.verdict == "correct"
    assert r.judged_by.startswith("judged by 2 of 3 oracles (SymPy skipped:")
    check_main([str(path), "--json", "--no-repair"])
    captured = capsys.readouterr()
    assert "judged by 2 of 3 oracles (SymPy skipped" in captured.err
    assert json.loads(captured.out)["documents"][0]["claims"][0]["judged_by"].startswith("judged by 2 of 3")


def test_an_oracle_that_errors_is_named(tmp_path):
    text = """
title = "global max pool"
[dims]
n = 2
c = 3
h = 2
w = 2
[data]
x = { shape = ["n", "c", "h", "w"] }
[forward]
p = "max(x, axis=(2, 3))"
loss = "sum(p**2) / 2"
[[claims]]
name = "dp"
wrt = "p"
formula = "p"
"""
    doc = homework(tmp_path, text)
    r = check_claim(doc, doc.claims[0], oracles=("finite_difference", "symbolic"))
    assert r.verdict == "correct"
    assert r.judged_by.startswith("judged by 1 of 2 oracles (SymPy error:"), r.judged_by


# ------------------------------------------------------------------------------------- 4. semantics
@pytest.mark.parametrize("text,offers", [
    ("max(Z1, 0)", ["maximum(Z1, 0)", "relu(Z1)", "max(Z1, axis=0)"]),
    ("max(0, H)", ["maximum(H, 0)", "relu(H)", "max(H, axis=0)"]),
    ("min(A, 1)", ["minimum(A, 1)", "min(A, axis=1)"]),
    ("max(A, B)", ["maximum(A, B)"]),
], ids=["relu-like", "zero-first", "min", "two-arrays"])
def test_a_second_positional_argument_to_max_or_min_is_a_clear_error(text, offers):
    with pytest.raises(ExpressionError) as info:
        parse(text, where="claim 'x'")
    message = str(info.value)
    assert all(f"`{o}`" in message for o in offers), message
    if text == "max(A, B)":
        assert "axis=" not in message


def test_averaging_twice_is_described_in_its_true_direction():
    model = Model("batch mean", {"m": 6, "d": 4}, data={"X": Data(("m", "d"))}, params={"w": ("d",)},
                  steps=[("r", lambda X, w: X @ w), ("loss", lambda r, m: sum(r ** 2) / m)])
    claim = Claim("dw_twice", "w", lambda X, r, m: 2 * X.T @ r / m / m)
    r = check_claim(model, claim, oracles=FD)
    assert r.diagnosis.kind == "mean vs sum"
    assert "divided by m" in r.diagnosis.text and "once too often" in r.diagnosis.text
    assert "averages over the batch where the objective sums" not in r.diagnosis.text


COLUMN_BIAS = """
title = "column layout, tanh layer"
[dims]
m = 6
d = 3
h = 5
[data]
X = { shape = ["d", "m"] }
Y = { shape = [1, "m"] }
[params]
W1 = ["h", "d"]
b1 = ["h", 1]
w2 = [1, "h"]
[forward]
Z1 = "W1 @ X + b1"
A1 = "tanh(Z1)"
loss = "sum((w2 @ A1 - Y)**2) / m"
[[claims]]
name = "dZ1"
wrt = "Z1"
formula = "(w2.T @ (2 * (w2 @ A1 - Y) / m)) * (1 - A1**2)"
[[claims]]
name = "db1_no_sum"
wrt = "b1"
formula = "dZ1"
"""


def test_a_column_layout_missing_batch_sum_gets_the_diagnosis_and_repair_of_the_row_layout(tmp_path):
    doc = homework(tmp_path, COLUMN_BIAS)
    r = check_claim(doc, claim_of(doc, "db1_no_sum"), oracles=FD, repair={"oracles": FD, "budget": 20})
    assert r.verdict == "incorrect" and r.diagnosis.kind == "missing batch sum"
    assert "axis 1" in r.diagnosis.fix and "keepdims=True" in r.diagnosis.fix
    assert r.repair is not None and r.repair.formula == "sum(dZ1, axis=1, keepdims=True)"


def test_a_claim_that_fails_to_parse_still_names_its_true_derivative(tmp_path, capsys):
    text = COLUMN_BIAS.replace('formula = "(w2.T @ (2 * (w2 @ A1 - Y) / m)) * (1 - A1**2)"',
                               'formula = "(w2.T @ (2 * (w2 @ A1 - Y) / m)) * (1 - A1**2"')
    text += '\n[[claims]]\nname = "db1"\nwrt = "b1"\nformula = "sum(dZ1, axis=1, keepdims=True)"\n'
    doc = homework(tmp_path, text)
    first = check_claim(doc, claim_of(doc, "dZ1"), oracles=FD)
    later = check_claim(doc, claim_of(doc, "db1"), oracles=FD)
    assert first.verdict == "not evaluable" and "syntax" in first.message
    assert later.verdict == "correct", later.message
    assert "did you mean" not in later.message


# ------------------------------------------------------------------------------------- 5. stable report
def _perturbed(v: OracleVerdict, k: int) -> OracleVerdict:
    """Last-bit noise: one ulp up or down, and an exact 0 turned into noise far below the floor."""
    from gradcheck.verdict import noise_floor

    def bump(x):
        if x is None:
            return None
        if x == 0:
            return noise_floor(v.oracle, v.method) * 1e-3 * (k % 3)
        return float(np.nextafter(x, np.inf if k % 2 else -np.inf))

    return replace(v, max_abs_err=bump(v.max_abs_err), max_rel_err=bump(v.max_rel_err),
                   error_estimate=bump(v.error_estimate))


def test_last_bit_noise_cannot_change_a_byte_of_the_report(column_weights):
    from gradcheck.report import build_json, render_markdown
    from gradcheck.report.jsondoc import dumps

    results = [check_claim(column_weights, c) for c in column_weights.claims]
    md, js = render_markdown([(column_weights, results)]), dumps(build_json([(column_weights, results)]))
    # a correct claim's rounding noise is printed as the floor (`<` written as an entity: no HTML can form)
    assert "&lt; 1e-12" in md
    for k in range(1, 4):
        noisy = [replace(r, oracles={o: _perturbed(v, k) for o, v in r.oracles.items()}) for r in results]
        assert render_markdown([(column_weights, noisy)]) == md
        assert dumps(build_json([(column_weights, noisy)])) == js


@given(st.floats(1e-18, 1e-13), st.integers(-4, 4))
def test_errors_below_the_floor_read_the_same_whatever_their_digits(err, ulps):
    from gradcheck.verdict import stable_errors

    v = OracleVerdict("autodiff", "pass", "autodiff", err, err)
    w = replace(v, max_rel_err=err * (1 + ulps * 2.2e-16), max_abs_err=err * (1 - ulps * 2.2e-16))
    assert stable_errors(v) == stable_errors(w) == ("< 1e-12 relative", "< 1e-12")


def test_real_errors_keep_three_significant_digits():
    from gradcheck.verdict import stable_errors

    v = OracleVerdict("finite_difference", "fail", "complex step", 0.123456, 0.0456789)
    assert stable_errors(v) == ("0.123", "0.0457")


def test_diagnose_with_strict_shapes_relates_a_row_to_a_column():
    t = np.arange(1.0, 4.0).reshape(3, 1)
    assert diagnose(t.T, t, {}).kind == "transpose"
    assert diagnose(t.ravel(), t, {}).kind == "reshape"
    assert diagnose(np.repeat(t, 4, axis=1), t / 1.0 * 4, {}).kind == "missing batch sum"


@given(st.lists(st.floats(-1e-14, 1e-14), min_size=1, max_size=5))
def test_printed_arrays_show_rounding_noise_as_zero(noise):
    from gradcheck.report.markdown import array_text

    base = np.array([1.5, -0.25] + [0.0] * len(noise))
    noisy = base + np.array([0.0, 0.0] + noise)
    assert array_text(noisy) == array_text(base)


# ------------------------------------------------------------------ second size: no false alarm from saturation
DEEP_SIGMOID = '''
title = "three sigmoid layers, wide second size"
[dims]
m = 3
d = 4
h = 3
[data]
X = { shape = ["m", "d"] }
Y = { shape = ["m", 1], kind = "binary" }
[params]
W1 = ["d", "h"]
W2 = ["h", "h"]
W3 = ["h", 1]
[forward]
A1 = "tanh(X @ W1)"
A2 = "relu(A1 @ W2)"
P = "sigmoid(A2 @ W3)"
loss = "-sum(Y * log(P) + (1 - Y) * log(1 - P)) / m"
[[claims]]
name = "dW3"
wrt = "W3"
formula = "A2.T @ (P - Y) / m"
'''


def test_a_correct_claim_stays_correct_at_a_wider_second_size(tmp_path):
    """The second size's larger fan-in must not saturate the network into a false "size coincidence"
    (parameters are scaled by the fan-in factor there, and numerically shaky points never overturn)."""
    d = homework(tmp_path, DEEP_SIGMOID)
    r = check_claim(d, d.claims[0], oracles=FD)
    assert r.verdict == "correct", (r.diagnosis, r.message, r.sizes)
    assert "second size" in r.sizes


@pytest.mark.parametrize("first,second,factor", [
    ({"m": 4, "d": 3}, {"m": 16, "d": 12}, 0.5),   # every dim 4x wider: parameters halved
    ({"m": 1, "d": 3}, {"m": 1, "d": 3}, 1.0),     # nothing grew
])
def test_fan_in_factor(first, second, factor):
    from gradcheck.sizes import fan_in_factor

    assert fan_in_factor(first, second) == pytest.approx(factor)


@pytest.mark.parametrize("status,message,verdict,inconclusive", [
    ("non-smooth", "point 0: differences at steps h and 2h disagree: non-smooth at this point", "not evaluable", True),
    ("fail", "point 1: differences at steps h and 2h disagree: non-smooth at this point", "incorrect", True),
    ("fail", "", "incorrect", False),        # a clean failure at the second size may overturn
    ("pass", "", "correct", False),
    ("error", "point 0: the formula gives NaN or inf", "not evaluable", True),
])
def test_only_a_clean_second_size_measurement_overturns_a_verdict(status, message, verdict, inconclusive):
    from gradcheck.check import ClaimResult, _numerically_inconclusive

    fd = OracleVerdict("finite_difference", status, "central differences", message=message)
    r = ClaimResult(None, Claim("c", "w", lambda w: w), None, verdict, oracles={"finite_difference": fd},
                    message=f"finite_difference: {message}" if verdict == "not evaluable" else "")
    assert bool(_numerically_inconclusive(r)) is inconclusive
