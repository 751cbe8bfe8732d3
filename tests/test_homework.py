"""Homework files: loader, examples with their expected verdicts, bad input, `gradcheck check`, assert_gradient."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gradcheck import assert_gradient
from gradcheck.check import check_claim
from gradcheck.homework import HomeworkError, load, loads

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
FAST = {"oracles": ("finite_difference",)}  # the full three-oracle run is covered by the CLI test below


def test_at_least_six_examples_each_with_a_wrong_claim():
    assert len(EXAMPLES) >= 6
    for path in EXAMPLES:
        d = load(path)
        wrong = [c for c in d.claims if c.expect and c.expect != "correct"]
        assert wrong and all(c.reason for c in wrong), path.name
        assert len(set(d.model.dims.values())) > 1, f"{path.name}: use rectangular dims"


CASES = [(p, c.name) for p in EXAMPLES for c in load(p).claims]


@pytest.mark.parametrize("path,name", CASES, ids=[f"{p.stem}::{n}" for p, n in CASES])
def test_example_claim_has_expected_verdict(path, name):
    d = load(path)
    claim = d.claim(name)
    r = check_claim(d, claim, **FAST)
    assert claim.expect is not None
    assert r.verdict == claim.expect, (r.message, r.diagnosis)


def test_loader_builds_model_and_claims():
    d = load(ROOT / "examples" / "mlp_tanh_softmax.toml")
    assert d.title.startswith("Two-layer MLP")
    assert [s.name for s in d.model.step_list] == ["Z1", "A1", "Z2", "P", "loss"]
    assert d.model.shape_of("W1") == (3, 5) and d.model.data["Y"].kind == "one_hot"
    dw1 = d.claim("dW1")
    assert dw1.uses == {"dZ2": ("loss", "Z2")} and dw1.reads == ("X", "dZ2", "W2", "A1")
    assert dw1.source == "X.T @ ((dZ2 @ W2.T) * (1 - A1**2))"
    assert d.claim("dZ2").latex == r"\frac{1}{m}(\hat{Y} - Y)"


BASE = """
title = "softmax regression"
[dims]
m = 6
d = 3
c = 4
[constants]
eps = 1e-5
[data]
X = { shape = ["m", "d"] }
Y = { shape = ["m", "c"], kind = "one_hot" }
[params]
W = ["d", "c"]
b = ["c"]
[forward]
Z = "X @ W + b"
P = "softmax(Z, axis=1)"
loss = "-sum(Y * log(P)) / m"
"""
GOOD = """
[[claims]]
name = "dW"
wrt = "W"
formula = "X.T @ (P - Y) / m"
"""

MODEL_ERRORS = [  # (edit of the file, words of the message)
    (lambda t: t.replace("[dims]", "[dims"), ["hw.toml", "TOML syntax error", "line 3, column"]),
    (lambda t: t.replace('"X @ W + b"', '"X @ Wt + b"'), ["step 'Z'", "unknown name 'Wt'", "did you mean 'W'"]),
    (lambda t: t.replace('"X @ W + b"', '"X @ W.T + b"'),
     ["step 'Z' (X @ W.T + b)", "`@` cannot combine shapes (6, 3) and (4, 3)"]),
    (lambda t: t.replace('"-sum(Y * log(P)) / m"', '"-sum(Y * log(P), axis=1) / m"'),
     ["the loss 'loss' has shape (6,)", "must be a scalar"]),
    (lambda t: t.replace("c = 4\n", ""), ["data 'Y'", "uses dim 'c', which is not in [dims]", "add `c = <size>`"]),
    (lambda t: t.replace('"X @ W + b"', '"X @ W + b + P"'), ["step 'Z'", "'P', which is defined later", "move 'P'"]),
    (lambda t: t.replace('"X @ W + b"', '"X @ W + Z"'), ["step 'Z'", "uses itself"]),
    (lambda t: t.replace('"X @ W + b"', '"X @ W + b.shap"'), ["step 'Z'", "line 16, column 14", "`.shap`", "did you mean shape"]),
    (lambda t: t.replace('loss = ', 'cost = '), ["[forward] has no step 'loss'"]),
    (lambda t: t.replace('kind = "one_hot"', 'kind = "onehot"'), ["kind 'onehot'", "did you mean 'one_hot'"]),
    (lambda t: t.replace("[params]", "[parms]"), ["unknown top-level key 'parms'", "did you mean 'params'"]),
]


@pytest.mark.parametrize("edit,words", MODEL_ERRORS, ids=[w[0] if i else "toml syntax" for i, (_, w) in
                                                         enumerate(MODEL_ERRORS)])
def test_bad_model_gets_specific_message(edit, words):
    with pytest.raises(HomeworkError) as info:
        loads(edit(BASE + GOOD), name="hw.toml")
    for w in words:
        assert w in str(info.value), str(info.value)


CLAIM_ERRORS = [  # (claim table, verdict, words of the message)
    ('wrt = "W"\nformula = "X.T @ (P - Yy) / m"', "not evaluable", ["unknown name 'Yy'", "did you mean 'Y'"]),
    ('wrt = "Wx"\nformula = "X.T @ (P - Y) / m"', "not evaluable", ["wrt 'Wx' is not a quantity", "did you mean 'W'"]),
    ('wrt = "W"\nformula = "X.T @ (P - Y) / m * log(-1 - W**2)"', "not evaluable", ["NaN or inf"]),
    ('wrt = "W"\nformula = "X.T @ (P - Y).T"', "shape error", ["`@` cannot combine shapes (3, 6) and (4, 6)"]),
    ('wrt = "W"\nformula = "(P - Y) / m"', "shape error", ["gives shape (6, 4)", "d loss / d W has shape (3, 4)"]),
    ('wrt = "W"\nformula = "X.T @@ P"', "not evaluable", ["hw.toml: claim 'bad'", "line 28, column 17", "syntax error"]),
    ('wrt = "W"\nformula = "X.T @ dZ"', "not evaluable", ["claim 'dZ', which comes later"]),
    ('wrt = "W"\nformula = "X.__class__"', "not evaluable", ["line 28, column 12", "`.__class__`"]),
    ('formula = "X"', "not evaluable", ["missing `wrt`"]),
    ('wrt = "W"\nformula = "X.T @ (P - Y) / m"\nexpected = "correct"', "not evaluable",
     ["unknown key 'expected'", "did you mean 'expect'"]),
    ('wrt = "W"\nformula = "X.T @ (P - Y) / m"\nkind = "gradiant"', "not evaluable", ["did you mean 'gradient'"]),
]


@pytest.mark.parametrize("table,verdict,words", CLAIM_ERRORS, ids=[w[0] for _, _, w in CLAIM_ERRORS])
def test_bad_claim_is_reported_and_others_still_checked(table, verdict, words):
    text = BASE + GOOD + f'\n[[claims]]\nname = "bad"\n{table}\n' + \
        '\n[[claims]]\nname = "dZ"\nwrt = "Z"\nformula = "(P - Y) / m"\n'
    d = loads(text, name="hw.toml")
    assert [c.name for c in d.claims] == ["dW", "bad", "dZ"]
    results = {c.name: check_claim(d, c, **FAST) for c in d.claims}
    assert results["dW"].verdict == "correct" and results["dZ"].verdict == "correct"
    r = results["bad"]
    assert r.verdict == verdict
    for w in words:
        assert w in r.message, r.message


def test_where_branch_points_are_avoided_and_noted():
    text = BASE.replace('"X @ W + b"', '"where(X @ W > 0, X @ W, 0.1 * (X @ W)) + b"') + \
        '[[claims]]\nname = "dZ"\nwrt = "Z"\nformula = "(P - Y) / m"\n'
    d = loads(text, name="hw.toml")
    r = check_claim(d, d.claims[0], n_points=3, seed=3, **FAST)
    assert r.verdict == "correct"
    from gradcheck.points import KINK_MARGIN, draw_points
    points = draw_points(d.model, 3, seed=3)
    assert all(KINK_MARGIN <= p.min_kink_distance < float("inf") for p in points)  # the comparison was seen


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "gradcheck.homework.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=240)


def test_cli_full_run_json_exit_0():
    p = _cli(str(ROOT / "examples" / "logistic_regression_bce.toml"), "--json", "--no-repair")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    text = json.dumps(doc)
    for field in ('"verdict"', '"diagnosis"', '"fix"', '"oracles"', '"max_abs_err"'):
        assert field in text
    assert "dw_no_mean" in text and "mean vs sum" in text
    assert "finite_difference" in text and "autodiff" in text and "symbolic" in text
    assert "5 claims" in p.stderr


def test_cli_exit_1_when_a_claim_is_wrong(tmp_path):
    f = tmp_path / "hw.toml"
    f.write_text(BASE + GOOD + '\n[[claims]]\nname = "dW_sum"\nwrt = "W"\nformula = "X.T @ (P - Y)"\n')
    p = _cli(str(f), "--oracles", "finite_difference", "--no-repair")
    assert p.returncode == 1, p.stderr
    assert "dW_sum" in p.stdout and "INCORRECT" in p.stdout and "mean vs sum" in p.stdout and "fix:" in p.stdout


def test_cli_exit_2_for_bad_input(tmp_path):
    f = tmp_path / "hw.toml"
    f.write_text(BASE.replace('"X @ W + b"', '"X @ Wt + b"') + GOOD)
    p = _cli(str(f))
    assert p.returncode == 2
    assert "unknown name 'Wt'" in p.stderr and "Traceback" not in p.stderr
    p = _cli(str(tmp_path / "missing.toml"))
    assert p.returncode == 2 and "no such file" in p.stderr


def test_assert_gradient_accepts_string_formula():
    model = load(ROOT / "examples" / "softmax_regression_ce.toml").model
    assert_gradient(model, wrt="W", formula="X.T @ (P - Y) / m", **FAST)
    with pytest.raises(AssertionError) as info:
        assert_gradient(model, wrt="W", formula="X.T @ (P - Y)", **FAST)
    msg = str(info.value)
    assert "INCORRECT" in msg and "mean vs sum" in msg and "max abs err" in msg
