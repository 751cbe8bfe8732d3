"""The results cache (gradcheck.result_cache): a claim's result is reused only when its code, input and
options are byte-for-byte those of the run that kept it, never when a clock or budget decided it, and
the output with reused results is the output without them."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from gradcheck import result_cache
from gradcheck.check import ClaimResult
from gradcheck.homework.cli import main as check_main
from gradcheck.homework.cli import repaired
from gradcheck.homework.load import load
from gradcheck.result_cache import ResultCache, depends_on_clock, files_fingerprint, fingerprint
from gradcheck.verdict import OracleVerdict

TESTS = Path(__file__).parent
ROOT = TESTS.parent

SMALL = """title = "Least squares"
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
loss = "sum(r**2) / 2"
[[claims]]
name = "dw"
wrt = "w"
formula = "X.T @ r"
expect = "correct"
[[claims]]
name = "dw_half"
wrt = "w"
formula = "X.T @ r / 2"
expect = "incorrect"
"""


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("GRADCHECK_RESULT_CACHE", str(d))
    return d


# ------------------------------------------------------------------------------------------ the store
def test_put_then_get_gives_the_value_back(tmp_path):
    cache = ResultCache("scope", tmp_path)
    cache.put(("a", 1), {"x": [1, 2]})
    again = ResultCache("scope", tmp_path)  # a new run: read from disk
    assert again.get(("a", 1)) == {"x": [1, 2]} and again.hits == 1


@pytest.mark.parametrize("other_scope, other_key", [("scope2", ("a", 1)), ("scope", ("a", 2)), ("scope", ("b", 1))])
def test_another_scope_or_key_is_a_miss(tmp_path, other_scope, other_key):
    ResultCache("scope", tmp_path).put(("a", 1), "value")
    other = ResultCache(other_scope, tmp_path)
    assert other.get(other_key) is None and other.misses == 1


@pytest.mark.parametrize("damage", [b"", b"not a pickle", pickle.dumps(("someone else's key", "value"))])
def test_a_damaged_or_foreign_entry_is_a_miss(tmp_path, damage):
    cache = ResultCache("scope", tmp_path)
    cache.put("key", "value")
    (entry,) = list(tmp_path.glob("*/*.pickle"))
    entry.write_bytes(damage)
    assert ResultCache("scope", tmp_path).get("key") is None


def test_off_means_no_reads_and_no_writes(tmp_path, monkeypatch):
    for value in ("off", "OFF", "0", "no", "false"):
        monkeypatch.setenv("GRADCHECK_RESULT_CACHE", value)
        assert result_cache.cache_directory() is None
        cache = ResultCache.for_run("x")
        cache.put("k", 1)
        assert not cache.enabled and cache.get("k") is None
    monkeypatch.setenv("GRADCHECK_RESULT_CACHE", str(tmp_path / "c"))
    assert result_cache.cache_directory() == tmp_path / "c"
    assert ResultCache.for_run("x", enabled=False).directory is None


def test_an_unwritable_directory_costs_speed_not_a_result(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    cache = ResultCache("scope", blocker)
    cache.put("key", "value")  # no exception
    assert cache.get("key") is None


def test_oldest_entries_are_pruned_beyond_the_limit(tmp_path):
    cache = ResultCache("scope", tmp_path)
    for k in range(5):
        cache.put(k, k)
        os.utime(cache._path(k), (1000 + k, 1000 + k))
    result_cache._PRUNED.discard(tmp_path)
    result_cache._prune(tmp_path, limit=2)
    assert [ResultCache("scope", tmp_path).get(k) for k in range(5)] == [None, None, None, 3, 4]


def test_oldest_entries_are_pruned_beyond_the_byte_limit(tmp_path):
    cache = ResultCache("scope", tmp_path)
    for k in range(4):
        cache.put(k, b"x" * 10_000)
        os.utime(cache._path(k), (1000 + k, 1000 + k))
    size = cache._path(0).stat().st_size
    result_cache._PRUNED.discard(tmp_path)
    result_cache._prune(tmp_path, max_bytes=2 * size + 1)
    assert [ResultCache("scope", tmp_path).get(k) is not None for k in range(4)] == [False, False, True, True]


# ------------------------------------------------------------------------------------------ fingerprints
def test_fingerprint_separates_parts():
    assert fingerprint("ab", "c") != fingerprint("a", "bc")
    assert fingerprint(1, 2) == fingerprint(1, 2)


def test_files_fingerprint_changes_with_any_byte_or_name(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "a.pyc").write_bytes(b"compiled")
    first = files_fingerprint([pkg])
    (pkg / "__pycache__" / "a.pyc").write_bytes(b"recompiled")  # byte code is not source
    assert files_fingerprint([pkg]) == first
    (pkg / "sub" / "b.py").write_text("y = 3\n")
    second = files_fingerprint([pkg])
    assert second != first
    (pkg / "sub" / "b.py").rename(pkg / "sub" / "c.py")
    assert files_fingerprint([pkg]) != second


def test_code_fingerprint_covers_the_package_and_versions():
    fp = result_cache.code_fingerprint()
    assert fp == result_cache.code_fingerprint() and len(fp) == 64


# ------------------------------------------------------------------------------------------ what is kept
def _result(message="", oracle_message="") -> ClaimResult:
    oracles = {"symbolic": OracleVerdict("symbolic", "skipped", "sympy.diff", message=oracle_message)} if oracle_message else {}
    return ClaimResult("doc", None, None, "correct", oracles=oracles, message=message)


@pytest.mark.parametrize("message, oracle_message, clock", [
    ("", "", False),
    ("", "gave up after 2 s", True),
    ("", "ran out of memory (1024 MB)", True),
    ("not checked: the file ran out of time: its budget of 5 s is spent", "", True),
    ("the check raised MemoryError: ", "", True),
    ("", "skipped: 80 entries in 'W' at dims {...}: more than 64 symbols; set Model.symbolic_dims", False),
])
def test_depends_on_clock(message, oracle_message, clock):
    assert depends_on_clock(_result(message, oracle_message)) is clock


def test_a_repair_search_stopped_by_its_time_budget_is_not_clock_free(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    d = load(path)
    from gradcheck.check import check_claim

    wrong = check_claim(d, d.claim("dw_half"), oracles=("finite_difference",))
    assert wrong.verdict == "incorrect"
    _, clock_free = repaired(d, wrong, ("finite_difference",), budget=1e-9)
    assert clock_free is False  # stopped by the clock: on a faster machine it might have found one
    found, clock_free = repaired(d, wrong, ("finite_difference",), budget=60.0)
    assert found.repair is not None and clock_free is True


# ------------------------------------------------------------------------------------------ gradcheck check
def _check(path, capsys, *flags):
    code = check_main([str(path), "--oracles", "finite_difference,autodiff", *flags])
    out = capsys.readouterr().out
    return code, out


def _without_summary(out: str) -> list[str]:
    return [line for line in out.splitlines() if not line.endswith(("-> OK", "-> PROBLEMS"))]


def test_check_reuses_results_and_prints_the_same(tmp_path, capsys, cache_dir):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    code1, out1 = _check(path, capsys)
    code2, out2 = _check(path, capsys)
    assert code1 == code2 == 0
    assert "reused" not in out1
    assert "2 results reused from an earlier run, --no-cache checks anew" in out2
    assert _without_summary(out1) == _without_summary(out2)
    assert "INCORRECT" in out2 and "repair" in out2  # the repair is kept with the result


def test_check_json_is_the_same_with_reused_results(tmp_path, capsys, cache_dir):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    _, first = _check(path, capsys, "--json")
    _, second = _check(path, capsys, "--json")
    assert first == second  # the summary goes to stderr with --json


def test_an_edited_file_is_checked_anew(tmp_path, capsys, cache_dir):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    _check(path, capsys)
    path.write_text(SMALL.replace('formula = "X.T @ r"\n', 'formula = "-X.T @ r"\n'))
    code, out = _check(path, capsys)
    assert "reused" not in out
    assert code == 1 and "sign" in out  # the edited claim is judged again: now wrong


@pytest.mark.parametrize("flags", [("--seed", "3"), ("--rtol", "1e-5"), ("--no-repair",), ("--points", "2")])
def test_other_flags_are_checked_anew(tmp_path, capsys, cache_dir, flags):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    _check(path, capsys)
    _, out = _check(path, capsys, *flags)
    assert "reused" not in out


@pytest.mark.parametrize("flags", [("--quiet",), ("--ignore-expect",)])
def test_flags_that_only_show_results_reuse_them(tmp_path, capsys, cache_dir, flags):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    _check(path, capsys)
    _, out = _check(path, capsys, *flags)
    assert "2 results reused" in out


def test_no_cache_checks_anew(tmp_path, capsys, cache_dir):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    _check(path, capsys)
    _, out = _check(path, capsys, "--no-cache")
    assert "reused" not in out


def test_a_result_cut_off_by_its_time_budget_is_not_kept(tmp_path, capsys, cache_dir):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    _, out = _check(path, capsys, "--time-per-claim", "0.001", "--no-repair")
    assert "ran out of time" in out or "NOT EVALUABLE" in out
    _, out = _check(path, capsys, "--time-per-claim", "0.001", "--no-repair")
    assert "reused" not in out


def test_a_markdown_file_reuses_its_results(tmp_path, capsys, cache_dir):
    source = ROOT / "examples" / "chain_wrong_middle_step.md"
    path = tmp_path / source.name
    path.write_bytes(source.read_bytes())
    code1, out1 = _check(path, capsys)
    code2, out2 = _check(path, capsys)
    assert code1 == code2
    assert "reused from an earlier run" in out2 and "reused" not in out1
    assert _without_summary(out1) == _without_summary(out2)


# ------------------------------------------------------------------------------------------ gradcheck report
def _report(out: Path, env: dict, *extra: str) -> subprocess.CompletedProcess:
    env = {**env, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT), env.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "gradcheck", "report", "--out", str(out), "--module", "report_testdocs",
                           "--document", "T1", "--oracle", "finite_difference", *extra],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_report_reuses_results_byte_identically(tmp_path):
    env = {**os.environ, "GRADCHECK_RESULT_CACHE": str(tmp_path / "cache")}
    first = _report(tmp_path / "a", env)
    second = _report(tmp_path / "b", env)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "reused" not in first.stderr
    assert "4 of 4 results reused from an earlier run" in second.stderr
    for name in ("REPORT.md", "report.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    third = _report(tmp_path / "c", env, "--no-cache")
    assert "reused" not in third.stderr
    assert (tmp_path / "a" / "REPORT.md").read_bytes() == (tmp_path / "c" / "REPORT.md").read_bytes()


def test_report_checks_anew_when_a_document_changes(tmp_path):
    mod = tmp_path / "mods"
    mod.mkdir()
    (mod / "report_testdocs.py").write_text((TESTS / "report_testdocs.py").read_text())
    env = {**os.environ, "GRADCHECK_RESULT_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(mod), str(ROOT)])}

    def run(out):
        return subprocess.run([sys.executable, "-m", "gradcheck", "report", "--out", str(out), "--module",
                               "report_testdocs", "--document", "T1", "--oracle", "finite_difference"],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)

    run(tmp_path / "a")
    (mod / "report_testdocs.py").write_text((TESTS / "report_testdocs.py").read_text()
                                            .replace("formula=lambda X, R: 2 * X.T @ R", "formula=lambda X, R: 3 * X.T @ R"))
    changed = run(tmp_path / "b")
    assert "reused" not in changed.stderr
    assert (tmp_path / "a" / "REPORT.md").read_text() != (tmp_path / "b" / "REPORT.md").read_text()
    assert "3 * X.T @ R" in (tmp_path / "b" / "REPORT.md").read_text()
