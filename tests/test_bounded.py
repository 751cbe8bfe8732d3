"""Budgets that really fire: gradcheck.bounded's worker processes, and the symbolic oracle run in them."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from gradcheck import bounded
from gradcheck.check import ClaimResult, check_claim, prepare
from gradcheck.homework.load import loads
from gradcheck.oracles.symbolic_bounded import symbolic_bounded
from gradcheck.verdict import OracleVerdict

QUICK = bounded.Budget(seconds=1.0, memory_mb=256)


@pytest.fixture(autouse=True)
def fresh_workers():
    bounded.shutdown()
    yield
    bounded.shutdown()


def _sleep_forever() -> None:  # a computation that never returns (as SymPy in factorint)
    while True:
        time.sleep(0.05)


def _spin_in_c() -> None:  # a long computation inside C code, where a timer signal would wait
    import math

    math.factorial(10**7)


def _allocate(mb: int) -> int:
    return len(bytearray(mb * 1024 * 1024))


def _pid() -> int:
    return os.getpid()


def _boom() -> None:
    raise ValueError("bad formula")


class Unpicklable:
    def __init__(self):
        self.fn = lambda x: x + 1  # a lambda, as a claim's formula: it cannot be pickled


def _call(obj: Unpicklable, x: int) -> int:
    return obj.fn(x)


def test_a_job_returns_its_value_from_another_process():
    out = bounded.run(_pid, budget=QUICK)
    assert out.error is None and out.value != os.getpid()


@pytest.mark.parametrize("job", [_sleep_forever, _spin_in_c], ids=["python loop", "C code"])
def test_a_job_past_its_time_is_stopped_and_named(job):
    t0 = time.monotonic()
    out = bounded.run(job, budget=bounded.Budget(seconds=0.5, memory_mb=256))
    assert out.value is None and out.error == "gave up after 0.5 s"
    assert time.monotonic() - t0 < 5.0  # stopped, not waited for


def test_a_job_past_its_memory_is_stopped_and_named():
    out = bounded.run(_allocate, 2048, budget=bounded.Budget(seconds=30.0, memory_mb=200))
    assert out.value is None and out.error == "ran out of memory (200 MB)"


def test_jobs_after_a_stopped_one_still_run():
    first = bounded.submit(_sleep_forever, budget=bounded.Budget(seconds=0.3, memory_mb=256))
    second = bounded.submit(_allocate, 1, budget=QUICK)
    assert bounded.wait(first).error == "gave up after 0.3 s"
    assert bounded.wait(second).value == 1024 * 1024


def test_an_exception_is_the_outcome_not_a_crash():
    assert bounded.run(_boom, budget=QUICK).error == "failed: ValueError: bad formula"


def test_registered_objects_are_passed_by_reference_even_when_unpicklable():
    obj = Unpicklable()
    bounded.register(obj)
    assert bounded.run(_call, obj, 41, budget=QUICK).value == 42


def test_the_persistent_worker_serves_consecutive_jobs():
    a, b = bounded.run(_pid, budget=QUICK).value, bounded.run(_pid, budget=QUICK).value
    assert a == b  # one process, so its caches carry over from job to job


def test_a_group_that_ran_out_costs_one_budget():
    budget = bounded.Budget(seconds=0.3, memory_mb=256)
    jobs = [bounded.submit(_sleep_forever, budget=budget, group="g") for _ in range(3)]
    t0 = time.monotonic()
    errors = [bounded.wait(j).error for j in jobs]
    assert errors[0] == "gave up after 0.3 s"
    assert errors[1:] == ["gave up after 0.3 s (on an earlier job of the same computation)"] * 2
    assert time.monotonic() - t0 < 3.0


# ------------------------------------------------------------------------ the symbolic oracle, bounded
HOPELESS = """
title = "A loss whose exact forward pass SymPy cannot finish (X ** X sends it into factorint)"
[dims]
m = 3
d = 2
[data]
X = { shape = ["m", "d"], kind = "positive" }
[params]
W = ["d", "d"]
b = ["d"]
[forward]
A = "X ** X @ W + b"
loss = "sum(A * A) / m"
[[claims]]
name = "dW"
wrt = "W"
formula = "2 * (X ** X).T @ A / m"
expect = "correct"
[[claims]]
name = "db_wrong"
wrt = "b"
formula = "sum(A, axis=0) / m"
expect = "incorrect"
"""

EASY = """
title = "Linear regression"
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
loss = "sum(r * r) / (2 * m)"
[[claims]]
name = "dw"
wrt = "w"
formula = "X.T @ r / m"
expect = "correct"
"""


@pytest.fixture
def sympy_builds(monkeypatch):
    """X ** X is hopeless for SymPy's forward pass, not for SymEngine's: these tests need work that
    cannot finish, so SymPy builds it (the worker is forked from this process and inherits that)."""
    from gradcheck.oracles import symbolic

    monkeypatch.setattr(symbolic, "ENGINE", "sympy")


def test_a_claim_whose_sympy_work_cannot_finish_is_cut_off_and_judged_by_the_others(sympy_builds):
    doc = loads(HOPELESS, name="hopeless.toml")
    limit = bounded.Budget(seconds=2.0, memory_mb=512)
    options = {"symbolic": {"limit": limit}}
    prepare(doc, doc.claims, options=options)  # as `gradcheck check` does: SymPy starts at once
    t0 = time.monotonic()
    results = [check_claim(doc, c, options=options) for c in doc.claims]
    assert time.monotonic() - t0 < 30.0
    assert [r.verdict for r in results] == ["correct", "incorrect"]
    for r in results:
        assert r.oracles["symbolic"].status == "error"
        assert r.oracles["finite_difference"].status in ("pass", "fail")
        assert r.oracles["autodiff"].status in ("pass", "fail")
        assert r.judged_by.startswith("judged by 2 of 3 oracles (SymPy: gave up after 2 s"), r.judged_by
        assert not any("judged by" in n for n in r.notes), r.notes  # said once, by judged_by


def test_a_deep_network_runs_out_of_memory_or_time_not_the_machine():
    depth = 6
    steps = "\n".join(f'A{k} = "tanh(A{k - 1} @ W{k})"' for k in range(1, depth + 1))
    params = "\n".join(f'W{k} = ["h", "h"]' for k in range(1, depth + 1))
    doc = loads(f"""
title = "deep tanh MLP"
[dims]
m = 3
h = 4
[data]
A0 = {{ shape = ["m", "h"] }}
[params]
{params}
[forward]
{steps}
loss = "sum(A{depth} * A{depth})"
[[claims]]
name = "dA{depth}"
wrt = "A{depth}"
formula = "2 * A{depth}"
[[claims]]
name = "dW1"
wrt = "W1"
formula = "A0.T @ (A0 @ W1)"
expect = "incorrect"
""", name="deep.toml")
    options = {"symbolic": {"limit": bounded.Budget(seconds=2.0, memory_mb=300)}}
    results = [check_claim(doc, c, options=options) for c in doc.claims]
    assert [r.verdict for r in results] == ["correct", "incorrect"]
    sym = results[1].oracles["symbolic"]
    assert sym.status == "fail" or sym.message.startswith(("gave up after 2 s", "ran out of memory (300 MB)"))


def test_the_bounded_oracle_measures_what_the_in_process_one_does():
    doc = loads(EASY, name="easy.toml")
    claim = doc.claims[0]
    model, uses = doc.model_of(claim), doc.derivative_names(claim)
    inside = symbolic_bounded(model, claim, uses, limit=None)
    outside = symbolic_bounded(model, claim, uses)
    assert outside.error is None and outside.points[0].decided == inside.points[0].decided == "proved"
    np.testing.assert_array_equal(outside.points[0].truth, inside.points[0].truth)


@pytest.mark.parametrize("message, judged_by", [
    ("gave up after 2 s", "judged by 2 of 3 oracles (SymPy: gave up after 2 s)"),
    ("ran out of memory (1024 MB)", "judged by 2 of 3 oracles (SymPy: ran out of memory (1024 MB))"),
    ("the symbolic oracle ran out of time: stopped after its budget of 60 s (see docs/limits.md)",
     "judged by 2 of 3 oracles (SymPy: the symbolic oracle ran out of time: stopped after its budget of 60 s "
     "(see docs/limits.md))"),
    ("ZeroDivisionError: x", "judged by 2 of 3 oracles (SymPy error: ZeroDivisionError: x)"),  # not a budget
])
def test_judged_by_names_a_budget_stop_as_an_oracle_that_did_not_decide(message, judged_by):
    doc = loads(EASY, name="easy.toml")
    claim = doc.claims[0]
    verdicts = {"finite_difference": OracleVerdict("finite_difference", "pass", "complex step"),
                "symbolic": OracleVerdict("symbolic", "error", "", message=message),
                "autodiff": OracleVerdict("autodiff", "pass", "jax")}
    r = ClaimResult(doc.id, claim, doc.model_of(claim), "correct", oracles=verdicts)
    assert r.judged_by == judged_by


def _nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_a_job_that_finished_in_time_is_not_failed_because_the_caller_was_busy():
    budget = bounded.Budget(seconds=0.5, memory_mb=256)
    jobs = [bounded.submit(_nap, 0.1, budget=budget) for _ in range(3)]
    time.sleep(1.5)  # the caller works on other oracles; the worker finishes all three meanwhile
    assert [bounded.wait(j).error for j in jobs] == [None, None, None]


def test_gradcheck_check_names_the_cut_off_and_judges_the_file(tmp_path, capsys, sympy_builds):
    from gradcheck.homework.cli import main

    path = tmp_path / "hopeless.toml"
    path.write_text(HOPELESS, encoding="utf-8")
    code = main([str(path), "--sympy-budget", "1", "--no-repair"])
    out = capsys.readouterr().out
    assert "judged by 2 of 3 oracles (SymPy: gave up after 1 s" in out
    assert "2 claims: 1 correct, 1 incorrect; 2/2 match their `expect`" in out
    assert code == 0


@pytest.mark.parametrize("value", ["0", "-3"])
def test_gradcheck_check_refuses_a_budget_that_is_not_positive(tmp_path, capsys, value):
    from gradcheck.homework.cli import main

    path = tmp_path / "easy.toml"
    path.write_text(EASY, encoding="utf-8")
    assert main([str(path), "--sympy-budget", value]) == 2
    assert "--sympy-budget must be positive" in capsys.readouterr().err


class _Terminal:
    def __init__(self, tty: bool):
        self.tty, self.text = tty, []

    def isatty(self) -> bool:
        return self.tty

    def write(self, s: str) -> int:
        self.text.append(s)
        return len(s)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("tty, enabled, shown", [(True, True, True), (False, True, False), (True, False, False)])
def test_the_progress_bar_is_for_terminals_only(tty, enabled, shown):
    from gradcheck.progress import progress_bar, say

    stream = _Terminal(tty)
    bar = progress_bar(3, stream, enabled=enabled)
    assert (bar is not None) == shown
    say(bar, "  dW  CORRECT", stream)
    assert "  dW  CORRECT" in "".join(stream.text)
    if bar is not None:
        bar.close()


# ------------------------------------------------------------------------------ JAX's compile bound
def _jax_cases():
    from conftest import mlp

    from gradcheck import Claim, Derivation

    model = mlp(m=3, d=2, h=3, c=2)
    claims = (
        Claim("dZ2", of="loss", wrt="Z2", formula=lambda P, Y, m: (P - Y) / m, expect="correct"),
        Claim("dW2", of="loss", wrt="W2", formula=lambda A1, P, Y, m: A1.T @ (P - Y) / m, expect="correct"),
        Claim("dW2_sum", of="loss", wrt="W2", formula=lambda A1, P, Y: A1.T @ (P - Y), expect="incorrect"),
    )
    return Derivation(id="jaxbound", title="t", source="t", model=model, claims=claims)


def _fresh_autodiff(monkeypatch, **settings):
    """The autodiff oracle with empty caches and ``settings`` set: every program is compiled anew."""
    from gradcheck.oracles import autodiff

    fresh = {"_COMPILED": {}, "_PLANS": {}, "_COMBINED_AT": {}, "_GROUPS": {}, "_FAILED_GROUPS": set(),
             "COMPILE_LOG": []}
    for name, value in {**fresh, **settings}.items():
        monkeypatch.setattr(autodiff, name, value)
    return autodiff


def _judged_by_autodiff(d):
    """Each claim of ``d`` checked by JAX alone, its programs planned first as a report does."""
    prepare(d, d.claims, oracles=("autodiff",))
    return [(claim, check_claim(d, claim, oracles=("autodiff",))) for claim in d.claims]


@pytest.mark.parametrize("cap, words", [
    (10**9, "(jit)"),  # every program compiled
    (20, "run operation by operation"),  # no program compiled: each runs eagerly, and says so
])
def test_programs_over_the_compile_bound_run_eagerly_with_the_same_verdicts(monkeypatch, cap, words):
    _fresh_autodiff(monkeypatch, MAX_COMPILED_OPERATIONS=cap)
    for claim, r in _judged_by_autodiff(_jax_cases()):
        assert r.verdict == claim.expect, (claim.name, r.verdict, r.message)
        assert words in r.oracles["autodiff"].method


def test_a_combined_program_over_the_bound_is_compiled_pair_by_pair(monkeypatch):
    d = _jax_cases()
    autodiff = _fresh_autodiff(monkeypatch)
    prepare(d, d.claims, oracles=("autodiff",))
    check_claim(d, d.claims[0], oracles=("autodiff",))
    ((_, combined),) = autodiff.COMPILE_LOG  # one program for every derivative the claims need
    single = combined - 1  # below the combined program, above a one-derivative program (checked below)
    autodiff = _fresh_autodiff(monkeypatch, MAX_COMPILED_OPERATIONS=single)
    for claim, r in _judged_by_autodiff(d):
        assert r.verdict == claim.expect and "(jit)" in r.oracles["autodiff"].method
    assert len(autodiff.COMPILE_LOG) >= 2 and all(n <= single for _, n in autodiff.COMPILE_LOG)


def test_count_operations_counts_sub_programs():
    import jax
    import jax.numpy as jnp

    from gradcheck.oracles.autodiff import count_operations

    inner = jax.jit(lambda x: jnp.sin(x) * 2)
    flat = jax.make_jaxpr(lambda x: (jnp.sin(x) * 2).sum())(jnp.ones(3))
    nested = jax.make_jaxpr(lambda x: inner(x).sum())(jnp.ones(3))
    assert count_operations(flat) == 3
    assert count_operations(nested) == 1 + 2 + 1  # the call, its two operations, the sum


# ------------------------------------------------------------------------------ models compiled together
def _two_model_document(broken: bool = False):
    from conftest import mlp

    from gradcheck import Claim, Derivation, Model

    tanh_net, relu_net = mlp(m=3, d=2, h=3, c=2), mlp(m=2, d=3, h=2, c=3, mean=False)
    models = [tanh_net, relu_net]
    if broken:  # a model whose forward pass cannot be traced: its shapes do not fit
        models.append(Model("broken", {"m": 2, "d": 3}, params={"W": ("d", "m")},
                            steps=[("Z", lambda W: W @ W), ("loss", lambda Z: Z.sum())]))
    claims = [Claim("dW2_tanh", of="loss", wrt="W2", model=tanh_net,
                    formula=lambda A1, P, Y, m: A1.T @ (P - Y) / m, expect="correct"),
              Claim("dW2_relu", of="loss", wrt="W2", model=relu_net,
                    formula=lambda A1, P, Y: A1.T @ (P - Y), expect="correct"),
              Claim("dW2_relu_mean", of="loss", wrt="W2", model=relu_net,
                    formula=lambda A1, P, Y, m: A1.T @ (P - Y) / m, expect="incorrect")]
    if broken:
        claims.append(Claim("dW_broken", of="loss", wrt="W", model=models[2], formula=lambda W: W, expect=None))
    return Derivation(id="together", title="t", source="t", model=tanh_net, claims=tuple(claims))


def test_the_models_of_a_document_are_compiled_as_one_program_with_the_same_values(monkeypatch):
    autodiff = _fresh_autodiff(monkeypatch)
    d = _two_model_document()
    prepare(d, d.claims, oracles=("autodiff",))
    together = [check_claim(d, c, oracles=("autodiff",)) for c in d.claims]
    assert len(autodiff.COMPILE_LOG) == 1 and " + " in autodiff.COMPILE_LOG[0][0]  # one program, both models
    autodiff = _fresh_autodiff(monkeypatch)
    for c in d.claims:
        autodiff.plan(d.model_of(c), [(c.target(d.model_of(c)), c.wrt)])  # planned alone: one program each
    apart = [check_claim(d, c, oracles=("autodiff",)) for c in d.claims]
    assert len(autodiff.COMPILE_LOG) == 2
    for a, b, c in zip(together, apart, d.claims):
        assert a.verdict == b.verdict == c.expect
        np.testing.assert_array_equal(a.truth, b.truth)


def test_a_model_that_cannot_be_traced_leaves_the_others_compiled_together(monkeypatch):
    autodiff = _fresh_autodiff(monkeypatch)
    d = _two_model_document(broken=True)
    prepare(d, d.claims, oracles=("autodiff",))
    results = {c.name: check_claim(d, c, oracles=("autodiff",)) for c in d.claims}
    for c in d.claims[:3]:
        assert results[c.name].verdict == c.expect
    assert results["dW_broken"].verdict in ("shape error", "not evaluable")
    assert not autodiff._FAILED_GROUPS
    assert sum(" + " in name for name, _ in autodiff.COMPILE_LOG) == 1


@pytest.mark.parametrize("options, taken", [
    ({"xla_backend_optimization_level": "0"}, True),  # what gradcheck asks for
    ({"xla_no_such_option_in_any_version": "1"}, False),  # an XLA that refuses them: its defaults
])
def test_compiler_options_are_used_or_dropped_never_fatal(monkeypatch, options, taken):
    autodiff = _fresh_autodiff(monkeypatch, COMPILER_OPTIONS=options, _OPTIONS_TAKEN=[True])
    for claim, r in _judged_by_autodiff(_jax_cases()):
        assert r.verdict == claim.expect and "(jit)" in r.oracles["autodiff"].method, r.message
    assert autodiff._OPTIONS_TAKEN == [taken]
