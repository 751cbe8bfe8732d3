"""Repair search (issue 7): planted mistakes are repaired to the right formula, confirmed by check_claim.

Most confirmations use the finite-difference oracle only (fast); one test confirms with all oracles.
"""

import ast

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck import Claim
from gradcheck.check import check_claim
from gradcheck.expr import _Interpreter, parse
from gradcheck.ops import relu, sigmoid, stack, tanh
from gradcheck.repair import DIAGNOSIS_KIND, find_repair, formula_text
from gradcheck.repair.edits import replaced, sites
from gradcheck.repair.search import _Shared, tree_key
from gradcheck.repair.source import NotSearchable, formula_expression
from tests import conftest

FD = ("finite_difference",)
U = {"dZ2": ("loss", "Z2")}


def mlp(m=3, d=2, h=4, c=3, activation=tanh, mean=False):
    return conftest.mlp(m=m, d=d, h=h, c=c, activation=activation, mean=mean)


RECT = mlp()  # W2 is 4 x 3
SQUARE = mlp(h=3, c=3)  # W2 is 3 x 3: a wrong transpose still evaluates
MEAN = mlp(mean=True)
SIGMOID = mlp(activation=sigmoid)
RELU = mlp(activation=relu)


def claim(text, wrt, uses=U, name="c"):
    return Claim(name, wrt=wrt, formula=parse(text).as_function(), source=text, uses=uses)


def repaired(model, text, wrt, uses=U, **kw):
    out = find_repair(model, claim(text, wrt, uses), oracles=kw.pop("oracles", FD), **kw)
    assert out.repair is not None, out.message
    # the repair is itself a claim that passes
    again = check_claim(model, claim(out.repair.formula, wrt, uses), oracles=FD)
    assert again.verdict == "correct"
    return out


@pytest.mark.parametrize("model, text, wrt, uses, kind, expected", [
    # transpose a name (rectangular: a shape error; square: evaluates, value is not the transposed truth)
    (RECT, "X.T @ ((dZ2 @ W2) * (1 - A1**2))", "W1", U, "transpose", "X.T @ (dZ2 @ W2.T * (1 - A1 ** 2))"),
    (SQUARE, "X.T @ ((dZ2 @ W2) * (1 - A1**2))", "W1", U, "transpose", "X.T @ (dZ2 @ W2.T * (1 - A1 ** 2))"),
    # transpose the whole formula
    (RECT, "dZ2.T @ A1", "W2", U, "transpose", "(dZ2.T @ A1).T"),
    (SQUARE, "dZ2.T @ A1", "W2", U, "transpose", "(dZ2.T @ A1).T"),
    # sign slips: inside a sum, y - yhat for yhat - y, the whole formula
    (RECT, "X.T @ ((dZ2 @ W2.T) * (1 + A1**2))", "W1", U, "sign", "X.T @ (dZ2 @ W2.T * (1 - A1 ** 2))"),
    (MEAN, "(Y - P) / m", "Z2", {}, "sign", "(P - Y) / m"),
    (SQUARE, "-(A1.T @ dZ2)", "W2", U, "sign", "A1.T @ dZ2"),
    # factors: missing 1/m, spurious m, 2 for 1/2
    (MEAN, "A1.T @ (P - Y)", "W2", {}, "scale", "A1.T @ (P - Y) / m"),
    (RECT, "A1.T @ dZ2 * m", "W2", U, "scale", "A1.T @ dZ2"),
    (RECT, "2 * (A1.T @ dZ2)", "W2", U, "scale", "A1.T @ dZ2"),
    # siblings: same quantity of the other layer (shape clash), same layer other quantity
    (RECT, "X.T @ ((dZ2 @ W1.T) * (1 - A1**2))", "W1", U, "name", "X.T @ (dZ2 @ W2.T * (1 - A1 ** 2))"),
    (RECT, "Z1.T @ dZ2", "W2", U, "name", "A1.T @ dZ2"),
    # @ for *
    (RECT, "A1.T * dZ2", "W2", U, "operator", "A1.T @ dZ2"),
    # activation derivatives: replaced (1 - s for s(1 - s); z for relu'), inserted
    (SIGMOID, "X.T @ ((dZ2 @ W2.T) * (1 - A1))", "W1", U, "activation", "X.T @ (dZ2 @ W2.T * (A1 * (1 - A1)))"),
    (RELU, "X.T @ ((dZ2 @ W2.T) * Z1)", "W1", U, "activation", "X.T @ (dZ2 @ W2.T * (Z1 > 0))"),
    (RECT, "X.T @ (dZ2 @ W2.T)", "W1", U, "activation", "X.T @ (dZ2 @ W2.T * (1 - A1 ** 2))"),
    # batch: the missing sum, mean for sum
    (RECT, "dZ2", "b2", U, "batch sum", "sum(dZ2, axis=0)"),
    (RECT, "mean(dZ2, axis=0)", "b2", U, "scale", "sum(dZ2, axis=0)"),
])
def test_each_edit_kind_repairs_a_planted_mistake(model, text, wrt, uses, kind, expected):
    out = repaired(model, text, wrt, uses)
    r = out.repair
    assert r.formula == expected, (r.formula, r.edits)
    assert r.kinds == (kind,), r.edits
    assert len(r.edits) == 1 and r.confirmed_by == FD
    assert out.candidates_tried >= 1 and out.message.startswith("correct if you")


def test_all_oracles_confirm_the_repair_of_the_issue_example():
    out = find_repair(SQUARE, claim("X.T @ ((dZ2 @ W2) * (1 - A1**2))", "W1"), budget=60)
    assert out.repair is not None, out.message
    assert out.repair.formula == "X.T @ (dZ2 @ W2.T * (1 - A1 ** 2))"
    assert out.repair.edits == ("transpose `W2`",)
    assert {"finite_difference", "autodiff"} <= set(out.repair.confirmed_by)
    assert "{W_{2}}^\\top" in out.repair.latex


@pytest.mark.parametrize("model, text, wrt, uses", [
    (RECT, "X.T @ ((dZ2 @ W2.T) * (1 - A1**2))", "W1", U),
    (SQUARE, "A1.T @ dZ2", "W2", U),
    (MEAN, "A1.T @ (P - Y) / m", "W2", {}),
    (RECT, "sum(dZ2, axis=0)", "b2", U),
    (RELU, "X.T @ ((dZ2 @ W2.T) * (Z1 > 0))", "W1", U),
])
def test_a_correct_formula_is_never_repaired(model, text, wrt, uses):
    out = find_repair(model, claim(text, wrt, uses), oracles=FD)
    assert out.repair is None and "already correct" in out.message
    assert out.confirmations == 0


TWO_AWAY = "-(X.T @ ((dZ2 @ W2) * (1 - A1**2)))"


def test_two_edits_need_pairs():
    out = repaired(RECT, TWO_AWAY, "W1", max_edits=2)
    assert out.repair.formula == "X.T @ (dZ2 @ W2.T * (1 - A1 ** 2))"
    assert sorted(out.repair.kinds) == ["sign", "transpose"]
    one = find_repair(RECT, claim(TWO_AWAY, "W1"), max_edits=1, oracles=FD)
    assert one.repair is None and one.message.startswith("no repair within 1 edit")


@pytest.mark.parametrize("model, text, wrt, uses", [
    (SQUARE, "-(A1.T @ dZ2)", "W2", U),  # sign flip
    (RECT, "dZ2.T @ A1", "W2", U),  # transpose (shapes differ)
    (SQUARE, "dZ2.T @ A1", "W2", U),  # transpose (square)
    (RECT, "A1.T @ dZ2 * 2", "W2", U),  # scale factor
    (RECT, "A1.T @ dZ2 / m", "W2", U),  # mean vs sum
    (RECT, "dZ2", "b2", U),  # missing batch sum
])
def test_repair_agrees_with_the_diagnosis(model, text, wrt, uses):
    c = claim(text, wrt, uses)
    result = check_claim(model, c, oracles=FD)
    assert result.verdict == "incorrect" and result.diagnosis.kind in DIAGNOSIS_KIND
    out = find_repair(model, c, oracles=FD)
    assert out.repair is not None, out.message
    assert out.repair.kinds == (DIAGNOSIS_KIND[result.diagnosis.kind],), (result.diagnosis, out.repair.edits)


BUSY = ("A1.T @ (P * Y) + (A1 * tanh(Z1)).T @ (P - Y) * 3 + exp(A1).T @ log(P) - Z1.T @ Y / 7 "
        "+ (A1 ** 2).T @ (Y * P - P ** 2) / m + sigmoid(Z1).T @ (Y + 2 * P)")


def test_budget_and_candidate_cap_are_respected():
    out = find_repair(RECT, claim(BUSY, "W2"), budget=0.5, max_candidates=10**6, oracles=FD)
    assert out.repair is None and "no repair within 2 edits" in out.message
    assert out.seconds <= 0.5 + 2
    capped = find_repair(RECT, claim(BUSY, "W2"), budget=100, max_candidates=40, oracles=FD)
    assert capped.repair is None and capped.candidates_tried <= 40 and "cap" in capped.message


def test_search_is_deterministic():
    a = find_repair(SQUARE, claim(TWO_AWAY, "W1"), oracles=FD)
    b = find_repair(SQUARE, claim(TWO_AWAY, "W1"), oracles=FD)
    assert a.repair.formula == b.repair.formula and a.candidates_tried == b.candidates_tried


# ---------------------------------------------------------------------- formulas written as Python
def _two_on_a_line():
    return (Claim("a", wrt="W2", formula=lambda A1, dZ2: A1.T @ dZ2, uses=U), Claim("b", wrt="b2", formula=lambda dZ2: dZ2, uses=U))  # noqa: E501


def _spanning():
    return Claim(
        "dW1", wrt="W1", uses=U,
        formula=lambda X, dZ2, W2, A1: X.T @ ((dZ2 @ W2)
                                              * (1 - A1 ** 2)),
    )


def grad_w2(A1, dZ2):
    """The gradient, as a def."""
    return A1.T @ dZ2


def _helper(x):
    y = x ** 2  # two statements: cannot be inlined
    return 1 - y


def _tanh_prime(a):
    """A derivation-style helper: a single return, inlined into the formula."""
    return 1 - a ** 2


_backprop = lambda dZ, W, a: (dZ @ W) * _tanh_prime(a)  # noqa: E731 - a lambda bound to a name, calling a helper
ONE = 1
_loops = lambda x: _loops(x)  # noqa: E731


def _entry(W, i, j):
    """w_{i,j}, 1-based, with a guard (dropped when inlined: numpy refuses the index itself)."""
    rows, cols = W.shape
    if not (1 <= i <= rows and 1 <= j <= cols):
        raise IndexError("no such entry")
    return W[i - 1, j - 1]


def test_python_formulas_become_searchable_text():
    a, b = _two_on_a_line()
    assert formula_text(a) == "A1.T @ dZ2" and formula_text(b) == "dZ2"
    assert formula_text(_spanning()) == "X.T @ (dZ2 @ W2 * (1 - A1 ** 2))"
    assert formula_text(Claim("d", wrt="W2", formula=grad_w2)) == "A1.T @ dZ2"
    out = find_repair(RECT, _spanning(), oracles=FD)
    assert out.repair.formula == "X.T @ (dZ2 @ W2.T * (1 - A1 ** 2))"
    out = find_repair(RECT, b, oracles=FD)
    assert out.repair.formula == "sum(dZ2, axis=0)"


def test_not_searchable_is_reported():
    c = Claim("h", wrt="W1", uses=U, formula=lambda X, dZ2, W2, A1: X.T @ ((dZ2 @ W2.T) * _helper(A1)))
    with pytest.raises(NotSearchable):
        formula_expression(c)
    out = find_repair(RECT, c, oracles=FD)
    assert out.repair is None and out.message.startswith("not searchable: ") and "_helper" in out.message
    rec = Claim("r", wrt="W1", uses=U, formula=lambda X, A1: X.T @ _loops(A1))
    with pytest.raises(NotSearchable, match="_loops"):
        formula_expression(rec)


def test_a_formula_calling_module_helpers_is_inlined_and_repaired():
    c = Claim("h", wrt="W1", uses=U, formula=lambda X, dZ2, W2, A1: ONE * X.T @ _backprop(dZ2, W2, a=A1))
    assert formula_text(c) == "ONE * X.T @ _backprop(dZ2, W2, a=A1)"  # as written
    assert formula_expression(c).source == "1 * X.T @ (dZ2 @ W2 * (1 - A1 ** 2))"  # helpers inlined
    out = find_repair(RECT, c, oracles=FD)
    assert out.repair is not None, out.message
    assert out.repair.formula == "1 * X.T @ (dZ2 @ W2.T * (1 - A1 ** 2))"
    assert out.repair.edits == ("transpose `W2`",)


def test_a_guarded_entry_helper_is_inlined_only_with_constant_indices():
    c = Claim("e", wrt="b1", formula=lambda W2, W1: _entry(W2, 2, 1) * _row_of(W1))
    assert formula_expression(c).source == "W2[1, 0] * stack([W1[0, 0], W1[0, 1]])"
    k = Claim("k", wrt="b1", formula=lambda W2, m: _entry(W2, m, 1))
    with pytest.raises(NotSearchable, match="_entry"):
        formula_expression(k)


def _row_of(W):
    return stack([_entry(W, 1, j) for j in range(1, 3)])  # unrolled when inlined


def test_derivation_claim_borrows_a_derivative_name_of_another_claim():
    from derivations import by_id

    doc = by_id("001")
    out = find_repair(doc, doc.claim("dH_db3_1_batch_as_written"), oracles=FD)
    assert out.repair is not None, out.message
    assert out.repair.formula == "sum(delta1[:, 0])" and out.repair.edits == ("replace `delta3` by `delta1`",)
    assert dict(out.repair.uses) == {"delta1": ("H", "z3")}


def test_derivation_claims_calling_helpers_are_repaired():
    from derivations import by_id

    doc = by_id("001")  # _w(W2, 3, 1): W^2 has no row 3, the entry is w^3_{3,1}
    out = find_repair(doc, doc.claim("dz3_1_dh2_3"), oracles=FD)
    assert out.repair is not None, out.message
    assert out.repair.formula == "W3[2, 0]" and out.repair.edits == ("replace `W2` by `W3`",)
    doc = by_id("000")  # a Jacobian written with the W~ axes swapped (exact_eye inlined)
    out = find_repair(doc, doc.claim("dZ2_dWt1_previous_output"), oracles=FD)
    assert out.repair is not None, out.message
    assert out.repair.formula.startswith("transpose(((eye(H) > 0.5) * 1)") and out.repair.kinds == ("transpose",)


# ----------------------------------------------------------- screening: shared keys and values
_RNG = np.random.default_rng(3)
SCOPE = {"X": _RNG.normal(size=(4, 3)), "W": _RNG.normal(size=(3, 2)), "Y": _RNG.normal(size=(4, 2)),
         "b": _RNG.normal(size=2), "m": 4}
BASES = ["X.T @ (tanh(X @ W + b) - Y) / m", "(1 - tanh(X @ W) ** 2) * Y", "sum(X @ W - Y, axis=0)",
         "-X.T @ (Y * (X @ W)) + 2 * W", "X.T @ Y - W * 1.0"]
WRAPS = [lambda n: ast.UnaryOp(op=ast.USub(), operand=n),
         lambda n: ast.Attribute(value=n, attr="T", ctx=ast.Load()),
         lambda n: ast.BinOp(left=ast.Constant(2), op=ast.Mult(), right=n),
         lambda n: ast.BinOp(left=ast.Constant(2.0), op=ast.Mult(), right=n),
         lambda n: ast.Name(id="Y", ctx=ast.Load()),
         lambda n: ast.Call(func=ast.Name(id="sum", ctx=ast.Load()), args=[n],
                            keywords=[ast.keyword(arg="axis", value=ast.Constant(0))])]


def _full_value(tree):
    with np.errstate(all="ignore"):
        return np.asarray(_Interpreter(SCOPE, "", False).visit(tree.body), dtype=float)


def _outcome(f, *args):
    try:
        return f(*args)
    except Exception as exc:  # noqa: BLE001 - compared: both ways must fail alike
        return type(exc)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(BASES), st.lists(st.tuples(st.integers(0, 99), st.integers(0, len(WRAPS) - 1)),
                                        min_size=1, max_size=4))
def test_screening_by_shared_parts_gives_the_values_and_identities_of_whole_trees(base_text, edits):
    # A candidate's value from its new nodes plus the base tree's values must be its whole value, and
    # two candidates get one key exactly when they are the same tree (same text, here).
    base = ast.parse(base_text, mode="eval")
    shared = _Shared(base, SCOPE)
    trees = []
    for where, wrap in edits:
        paths = [p for p, *_ in sites(base)]
        trees.append(replaced(base, paths[where % len(paths)], WRAPS[wrap]))
    for tree in trees:
        ast.fix_missing_locations(tree)
        got, want = _outcome(shared.value, tree), _outcome(_full_value, tree)
        if isinstance(want, np.ndarray):
            assert isinstance(got, np.ndarray) and got.shape == want.shape and np.array_equal(got, want, equal_nan=True)
        else:
            assert got is want
    for a in trees + [base]:
        for b in trees + [base]:
            assert (shared.key(a) == shared.key(b)) == (ast.unparse(a) == ast.unparse(b))


def test_tree_keys_tell_constants_of_different_types_apart():
    keys = {tree_key(ast.parse(t, mode="eval"), {}) for t in ("2 * W", "2.0 * W", "True * W")}
    assert len(keys) == 3
