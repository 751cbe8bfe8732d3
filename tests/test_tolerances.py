"""Tolerances, points, seed and oracles as data the user controls; the readable failure's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck import Claim, assert_gradient, check_claim
from gradcheck.failure import worst_entries
from gradcheck.homework.cli import main as check_main
from gradcheck.tolerances import CheckSettings, SettingsError, file_settings, validate

FAST = ("finite_difference",)


def nearly(factor):
    """The true dW2 of the tanh MLP times ``factor``."""
    return lambda A1, P, Y, m: A1.T @ (P - Y) / m * factor


def test_rtol_is_the_users_and_stated_with_the_default(tanh_mlp):
    claim = Claim("dW2", "W2", nearly(1 + 1e-5))
    assert check_claim(tanh_mlp, claim, oracles=FAST).verdict == "incorrect"
    r = check_claim(tanh_mlp, claim, oracles=FAST, rtol=1e-4)
    v = r.oracles["finite_difference"]
    assert r.verdict == "correct" and v.tolerance == 1e-4
    assert "set by the user" in v.tolerance_reason and "default rtol is 1e-08" in v.tolerance_reason


def test_atol_adds_an_absolute_allowance(tanh_mlp):
    claim = Claim("dW2", "W2", lambda A1, P, Y, m: A1.T @ (P - Y) / m + 1e-7)
    assert check_claim(tanh_mlp, claim, oracles=FAST).verdict == "incorrect"
    assert check_claim(tanh_mlp, claim, oracles=FAST, atol=1e-6).verdict == "correct"


def test_a_loosened_tolerance_also_applies_to_sympys_numbers(tanh_mlp):
    claim = Claim("dW2", "W2", nearly(1 + 1e-9))
    assert check_claim(tanh_mlp, claim, oracles=("symbolic",)).verdict == "incorrect"  # exact: a real gap
    assert check_claim(tanh_mlp, claim, oracles=("symbolic",), rtol=1e-6).verdict == "correct"


@pytest.mark.parametrize("kwargs, message", [({"rtol": 1.5}, "rtol must be a number in"),
                                             ({"atol": -1.0}, "atol must be a finite number"),
                                             ({"rtol": "small"}, "rtol must be a number in")])
def test_bad_tolerances_are_refused(tanh_mlp, kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_claim(tanh_mlp, Claim("dW2", "W2", nearly(1)), oracles=FAST, **kwargs)


def test_assert_gradient_takes_tolerances_and_points(tanh_mlp):
    assert_gradient(tanh_mlp, wrt="W2", formula=nearly(1 + 1e-5), oracles=FAST, rtol=1e-4, n_points=1, seed=4,
                    repair=False)
    with pytest.raises(AssertionError, match="rtol 1e-06, atol 0 set by the user|tol 1e-06"):
        assert_gradient(tanh_mlp, wrt="W2", formula=nearly(1 + 1e-5), oracles=FAST, rtol=1e-6, repair=False)


def test_settings_validate_each_key_and_say_where():
    assert validate({"rtol": "1e-3", "points": "2", "oracles": "finite_difference, autodiff", "repair": "false"},
                    "pytest.ini") == {"rtol": 1e-3, "points": 2, "oracles": ("finite_difference", "autodiff"),
                                      "repair": False}
    for raw, message in [({"rtl": 1}, "unknown setting 'rtl'"), ({"points": 0}, "points must be an integer >= 1"),
                         ({"oracles": "fd"}, "unknown oracle(s) fd"), ({"seed": 1.5}, "seed must be an integer"),
                         ({"repair": "maybe"}, "repair must be true or false")]:
        with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
            validate(raw, "hw.toml [check]")
    assert file_settings({"check": {"atol": 1e-9}}, "hw.toml") == {"atol": 1e-9}
    assert CheckSettings().merged({"points": 2}).claim_kwargs()["n_points"] == 2


def test_gradcheck_check_takes_rtol_and_atol(tmp_path, capsys):
    hw = tmp_path / "hw.toml"
    hw.write_text('[dims]\nm = 4\nd = 3\n[data]\nX = { shape = ["m", "d"] }\ny = { shape = ["m"] }\n'
                  '[params]\nw = ["d"]\n[forward]\nr = "X @ w - y"\nloss = "sum(r ** 2) / (2 * m)"\n'
                  '[[claims]]\nname = "dw"\nwrt = "w"\nformula = "X.T @ r / m * 1.00001"\n')
    base = [str(hw), "--oracles", "finite_difference", "--no-repair"]
    assert check_main(base) == 1
    assert check_main(base + ["--rtol", "1e-3"]) == 0
    assert check_main(base + ["--rtol", "2"]) == 2
    assert "--rtol must be in [0, 1)" in capsys.readouterr().err
    hw.write_text(hw.read_text().replace("[dims]", "[check]\nrtol = 1e-3\n[dims]"))
    assert check_main(base) == 0  # the file's own tolerance
    assert check_main(base + ["--rtol", "1e-8"]) == 1  # the flag wins over the file
    hw.write_text(hw.read_text().replace("rtol = 1e-3", "rtol = 1e-3\nspeed = 2"))
    assert check_main(base) == 2
    assert "hw.toml [check]: unknown setting 'speed'" in capsys.readouterr().err


def test_worst_entries_name_indices_in_order_of_the_gap():
    truth = np.arange(12.0).reshape(3, 4)
    claimed = truth.copy()
    claimed[2, 1] += 5
    claimed[0, 3] -= 1
    rows, n_diff, n = worst_entries(claimed, truth)
    assert rows == [((2, 1), 14.0, 9.0), ((0, 3), 2.0, 3.0)] and (n_diff, n) == (2, 12)
    # strict shapes (docs/soundness.md): a value of another shape is never realigned, not even for display
    assert worst_entries(claimed.reshape(12, 1), truth.reshape(12)) == ([], 0, 12)
    assert worst_entries(np.ones(5), truth) == ([], 0, 12)
