"""The pytest plugin, run by pytest itself on a temporary project (pytester).

Each test writes homework files and a conftest-free ``pytest.ini`` into a fresh directory and runs
pytest there with plugin autoloading off and the plugin named with ``-p``, so the test means the same
whether or not gradcheck's ``pytest11`` entry point is installed in this environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ["-p", "gradcheck.pytest_plugin"]

LINREG = '''
title = "Linear regression, mean squared error"
[dims]
m = 5
d = 3
[data]
X = { shape = ["m", "d"] }
y = { shape = ["m"] }
[params]
w = ["d"]
[forward]
r = "X @ w - y"
loss = "sum(r ** 2) / (2 * m)"
[[claims]]
name = "dw"
wrt = "w"
formula = "X.T @ r / m"
[[claims]]
name = "dw_sum"
wrt = "w"
formula = "X.T @ r"
[[claims]]
name = "dw_sign"
wrt = "w"
formula = "-X.T @ r / m"
expect = "incorrect"
'''

# a claim off by a relative 1e-5: wrong at the default tolerances, right at rtol 1e-3
NEARLY = LINREG.split("[[claims]]")[0] + '''
[[claims]]
name = "dw_nearly"
wrt = "w"
formula = "X.T @ r / m * 1.00001"
'''

INI = """[pytest]
gradcheck_files = hw/*.toml
gradcheck_oracles = finite_difference
gradcheck_repair = false
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the subprocess runs (xdist workers) import this checkout
    pytester.makefile(".ini", pytest=INI)
    (pytester.path / "hw").mkdir()
    (pytester.path / "hw" / "linreg.toml").write_text(LINREG)
    (pytester.path / "hw" / "settings.toml").write_text("[tool.other]\nx = 1\n")  # unrelated TOML
    return pytester


def collected_ids(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line]


def test_pyproject_registers_the_plugin_with_the_pytest11_entry_point():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"]["pytest11"] == {"gradcheck": "gradcheck.pytest_plugin"}
    assert "pytest-xdist" in " ".join(meta["project"]["optional-dependencies"]["test"])


def test_each_claim_is_one_item_named_file_and_claim(project):
    result = project.runpytest(*PLUGIN, "--collect-only", "-q")
    assert collected_ids(result) == ["hw/linreg.toml::dw", "hw/linreg.toml::dw_sum", "hw/linreg.toml::dw_sign"]


def test_outcomes_honour_expect_and_the_failure_is_short_and_readable(project):
    result = project.runpytest(*PLUGIN)
    result.assert_outcomes(passed=2, failed=1)  # dw correct; dw_sign expected incorrect; dw_sum wrong
    result.stdout.fnmatch_lines([
        "*_ linreg.toml::dw_sum _*",
        "dw_sum: d loss / d w is INCORRECT  (expected correct)",
        "  why: mean vs sum: the claim is m (m=5) times the true value: it lacks a division by the batch size*",
        "  fix: multiply by 1/m",
        "  formula: X.T @ r",
        "  worst entries (claimed vs true; 3 of 3 entries differ):",
        "    [[]0[]]  claimed * true *",
        "  claimed: [[]*",
        "  true:    [[]*",
        "  oracles:",
        "    finite_difference fail (complex step: max abs err *, max rel err 4, tol 1e-08)",
        "FAILED hw/linreg.toml::dw_sum - *",
    ])
    out = result.stdout.str()
    assert "Model(" not in out and "def runtest" not in out and "gradcheck/check.py" not in out
    assert "Traceback" not in out


def test_the_repair_follows_the_reason(project):
    project.makefile(".ini", pytest=INI.replace("gradcheck_repair = false", "gradcheck_repair = true"))
    result = project.runpytest(*PLUGIN, "-k", "dw_sum")
    result.assert_outcomes(failed=1, deselected=2)
    result.stdout.fnmatch_lines(["  why: mean vs sum*", "  fix: *", ("  repair: correct if you divide the "
                                                                           "whole formula by `m`: `X.T @ r / m`")])


def test_expected_verdict_that_does_not_happen_fails_with_the_expectation(project):
    (project.path / "hw" / "linreg.toml").write_text(LINREG.replace('formula = "-X.T @ r / m"\nexpect',
                                                                    'formula = "X.T @ r / m"\nexpect'))
    result = project.runpytest(*PLUGIN, "-k", "dw_sign")
    result.assert_outcomes(failed=1, deselected=2)
    result.stdout.fnmatch_lines(["dw_sign: d loss / d w is CORRECT  (expected incorrect (the file's `expect`))"])


def test_nothing_is_collected_without_opting_in(project):
    project.makefile(".ini", pytest="[pytest]\n")
    result = project.runpytest(*PLUGIN)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_a_homework_file_named_on_the_command_line_is_collected_without_other_opt_in(project):
    project.makefile(".ini", pytest="[pytest]\ngradcheck_oracles = finite_difference\n")
    result = project.runpytest(*PLUGIN, "hw/linreg.toml::dw", "--collect-only", "-q")
    assert collected_ids(result) == ["hw/linreg.toml::dw"]
    unrelated = project.runpytest(*PLUGIN, "hw/settings.toml", "--collect-only", "-q")
    assert collected_ids(unrelated) == [] and unrelated.ret != pytest.ExitCode.OK  # no [[claims]]: not homework


def test_the_flag_collects_homework_files_and_never_unrelated_toml(project):
    project.makefile(".ini", pytest="[pytest]\ngradcheck_oracles = finite_difference\ngradcheck_repair = false\n")
    result = project.runpytest(*PLUGIN, "--gradcheck", "--collect-only", "-q")
    ids = collected_ids(result)
    assert ids == ["hw/linreg.toml::dw", "hw/linreg.toml::dw_sum", "hw/linreg.toml::dw_sign"]
    assert not any("settings.toml" in i for i in ids)


def test_k_x_and_last_failed_work_as_with_any_test(project):
    project.runpytest(*PLUGIN, "-k", "dw_sign").assert_outcomes(passed=1, deselected=2)
    project.runpytest(*PLUGIN, "-x").assert_outcomes(passed=1, failed=1)  # stops at dw_sum
    project.runpytest(*PLUGIN)
    last = project.runpytest(*PLUGIN, "--lf")
    last.assert_outcomes(failed=1)  # only the failed item is run again
    last.stdout.fnmatch_lines(["run-last-failure: rerun previous 1 failure*", "FAILED hw/linreg.toml::dw_sum - *"])


@pytest.mark.parametrize("where", ["ini", "file"])
def test_tolerances_come_from_the_ini_or_the_files_check_table(project, where):
    (project.path / "hw" / "linreg.toml").write_text(NEARLY)
    project.runpytest(*PLUGIN).assert_outcomes(failed=1)
    if where == "ini":
        project.makefile(".ini", pytest=INI + "gradcheck_rtol = 1e-3\n")
    else:
        (project.path / "hw" / "linreg.toml").write_text(NEARLY.replace("[dims]", "[check]\nrtol = 1e-3\n[dims]"))
    result = project.runpytest(*PLUGIN, "-rA")
    result.assert_outcomes(passed=1)


def test_a_bad_file_is_a_collection_error_with_its_message_and_no_traceback(project):
    (project.path / "hw" / "broken.toml").write_text("[[claims]]\nname = 'a'\nwrt = = 1\n")
    (project.path / "hw" / "badcheck.toml").write_text(LINREG.replace("[dims]", "[check]\nrtol = 2\n[dims]"))
    result = project.runpytest(*PLUGIN)
    result.stdout.fnmatch_lines(["*ERROR collecting hw/badcheck.toml*", "*rtol must be in [[]0, 1), got 2*",
                                 "*ERROR collecting hw/broken.toml*", "*broken.toml: TOML syntax error*"])
    assert "Traceback" not in result.stdout.str() and "tomllib" not in result.stdout.str()


def test_assert_gradient_fails_in_the_same_format_without_gradcheck_internals(project):
    project.makepyfile(test_user='''
        from gradcheck import assert_gradient
        from gradcheck.homework import load

        def test_wrong():
            model = load("hw/linreg.toml").model
            assert_gradient(model, wrt="w", formula="X.T @ r", oracles=("finite_difference",))
    ''')
    result = project.runpytest(*PLUGIN, "test_user.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*assert_gradient(model, wrt=*", ("E * AssertionError: dloss_dw: d loss / d w is "
                                                                   "INCORRECT"), "E * why: mean vs sum*", "E * fix: *",
                                 "E * repair: correct if you divide*", "E * worst entries*"])
    out = result.stdout.str()
    assert "def assert_gradient" not in out and "Model(" not in out and "gradcheck/check.py" not in out


def test_runs_under_xdist_with_two_workers(project):
    result = project.runpytest_subprocess(*PLUGIN, "-p", "xdist", "-n", "2")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*2 workers*", "FAILED hw/linreg.toml::dw_sum - *"])


def _collect_in_repo(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pytest", *PLUGIN, "--collect-only", "-q", "-p", "no:cacheprovider",
                           *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_the_projects_own_runs_never_collect_the_examples_unless_asked():
    quiet = _collect_in_repo("examples")
    assert quiet.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, quiet.stdout
    asked = _collect_in_repo("examples", "--gradcheck")
    # the project's addopts add a -q to ours: one line per file with its number of items (one per claim)
    assert "examples/softmax_regression_ce.toml: 5" in asked.stdout.splitlines(), asked.stdout


def test_loading_the_plugin_imports_no_numerical_library():
    code = "import sys, gradcheck.pytest_plugin; print(sorted({'numpy', 'jax', 'sympy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert out.stdout.strip() == "[]", out.stderr
