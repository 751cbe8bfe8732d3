"""Hostile and broken homework inputs: a base file, a runner, and hypothesis strategies.

Shared by tests/test_hostile_input.py (a few dozen examples per property) and
benchmarks/fuzz_hostile.py (the larger campaign whose figures are in docs/limits.md).
"""

from __future__ import annotations

import contextlib
import io
import math
import traceback
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

BASE = '''title = "linear model"
[dims]
m = 4
d = 3
[data]
X = {{ shape = ["m", "d"] }}
Y = {{ shape = ["m"] }}
[params]
W = ["d"]
[forward]
Z = "{forward}"
loss = "sum((Z - Y) ** 2) / 2"
[[claims]]
name = "{name}"
wrt = "W"
formula = "{formula}"
{extra}'''

CORRECT = "X.T @ (Z - Y)"


def homework(*, forward: str = "X @ W", formula: str = CORRECT, name: str = "dW", extra: str = "") -> str:
    """The base file with one step, one claim and extra claim keys replaced."""
    esc = lambda s: s.replace("\\", "\\\\").replace('"', '\\"')
    return BASE.format(forward=esc(forward), formula=esc(formula), name=esc(name), extra=extra)


@dataclass(frozen=True)
class Outcome:
    code: int | None  # None: an exception escaped (a traceback)
    out: str
    err: str
    exception: str = ""


def run_check(path: str | Path, *flags: str) -> Outcome:
    """``gradcheck check`` in this process (through gradcheck.cli.main, as the command runs)."""
    from gradcheck.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["check", str(path), *flags])
    except BaseException:  # noqa: BLE001 - what the fuzzing looks for
        return Outcome(None, out.getvalue(), err.getvalue(), traceback.format_exc())
    return Outcome(code, out.getvalue(), err.getvalue())


# ------------------------------------------------------------------------------------ strategies
NAMES = ("X", "W", "Y", "Z", "m", "d", "loss", "Q", "__class__")
FUNCTIONS = ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "sum", "mean", "max", "ones", "eye",
             "einsum", "outer", "diag", "reshape", "transpose", "softmax", "where", "clip", "open", "getattr")
NUMBERS = st.sampled_from(["0", "1", "2", "-1", "0.5", "1e308", "1e-308", "2**64", "10**400", "1e30", "nan",
                           "9223372036854775807", "3"])


def _expressions(leaf):
    def extend(inner):
        return st.one_of(
            st.builds(lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from(["+", "-", "*", "/", "**", "@"]),
                      inner),
            st.builds(lambda a: f"-{a}", inner),
            st.builds(lambda a: f"{a}.T", inner),
            st.builds(lambda a, i: f"{a}[{i}]", inner, st.sampled_from(["0", ":", "0:2", "-1", "None", "m"])),
            st.builds(lambda f, a: f"{f}({a})", st.sampled_from(FUNCTIONS), inner),
            st.builds(lambda f, a, b: f"{f}({a}, {b})", st.sampled_from(FUNCTIONS), inner, inner),
            st.builds(lambda a: f"ones([{a}, {a}])", NUMBERS),
            st.builds(lambda s, a: f"einsum('{s}', {a}, {a})", st.sampled_from(["i,j->ij", "ij,jk->ik", "i,i",
                                                                                 "i,j", "ij->"]), inner),
            st.builds(lambda a, n: a * n, st.sampled_from(["-", "+"]), st.integers(1, 400)).map(lambda p: p + "X"),
            st.builds(lambda n: "+".join(["W"] * n), st.integers(1, 300)),
            st.builds(lambda a, n: a + ".T" * n, inner, st.integers(1, 300)),
        )
    return st.recursive(leaf, extend, max_leaves=12)


EXPRESSIONS = _expressions(st.one_of(st.sampled_from(NAMES), NUMBERS))
GARBAGE = st.one_of(st.text(max_size=40), st.sampled_from(["\x1b[2K\r", "<script>alert(1)</script>",
                                                           "<img src=x onerror=alert(1)>", "\ufeff", "\u202e"]))
RAW_TOML = st.one_of(
    st.text(max_size=60),
    st.integers(1, 3000).map(lambda n: "x = " + "[" * n + "]" * n),
    st.integers(1, 500).map(lambda n: "y = " + "{ a = " * n + "1" + " }" * n),
    st.integers(1, 5000).map(lambda n: "k" + ".k" * n + " = 1"),
    st.sampled_from(["[[claims]]", "[[claims]]\nname = 1", "[forward]\nloss = 1", "[dims]\nm = -1",
                     "[data]\nX = { value = [[1, 2], [3]] }", "claims = 3", '"\\u0000" = 1', "[data.X]"]))
TOML_VALUES = st.one_of(st.integers(-3, 10**20), st.floats(allow_nan=True, allow_infinity=True),
                        st.sampled_from(['"big"', '"x"', "[1, 2]", "{ d = \"x\" }", "true", "5", "-1", "0",
                                         "nan", "inf", "9223372036854775807", '"gradient"', '"loss"', '"W"']))


def toml_value(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else "-inf" if v == -math.inf else repr(v))
    return str(v)


@st.composite
def files(draw) -> str:
    """A homework file: the base with a random step, formula, claim name and one field set to a random value."""
    def sometimes(strategy, default, one_in: int = 3):
        return draw(strategy) if draw(st.integers(1, one_in)) == 1 else default

    forward = sometimes(EXPRESSIONS, "X @ W", 4)
    formula = sometimes(st.one_of(EXPRESSIONS, st.sampled_from(VARIANTS)), CORRECT, 2)
    name = sometimes(GARBAGE, "dW")
    key = sometimes(st.sampled_from(["of", "kind", "expect", "layout", "lr", "latex", "reason"]), "")
    extra = f"{key} = {toml_value(draw(TOML_VALUES))}\n" if key else ""
    text = homework(forward=forward, formula=formula, name=name, extra=extra)
    top = sometimes(st.sampled_from(["param_scale", "symbolic_dims", "sense", "objective", "title"]), "", 4)
    if top:
        text = f"{top} = {toml_value(draw(TOML_VALUES))}\n" + text
    dim = sometimes(st.sampled_from(["m", "d"]), "", 5)
    if dim:
        text = text.replace(f"{dim} = ", f"{dim} = {toml_value(draw(TOML_VALUES))}\n# was ", 1)
    if draw(st.integers(1, 4)) == 1:
        text += draw(RAW_TOML) + "\n"
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text


VARIANTS = ("-X.T @ (Z - Y)", "X @ (Z - Y)", "(Z - Y) @ X", "X.T @ (Z - Y) / m", "sum(X, axis=0)",
            "X.T @ (Z - Y) + 0 * log(W)", "X.T @ Z", "W", "0 * W", "X.T @ (Z - Y) * 2")
FLAGS = st.lists(st.sampled_from([["--quiet"], ["--seed", "3"], ["--points", "2"], ["--ignore-expect"], [],
                                  ["--seed", "-1"], ["--seed", "7"], ["--points", "-1"], ["--points", "0"],
                                  ["--points", "1"], ["--quiet"], ["--json"], ["--ignore-expect"],
                                  ["--max-entries", "0"], ["--max-entries", "1000"], ["--repair-budget", "nan"],
                                  ["--time-per-claim", "-3"], ["--oracles", "finite_difference,nonsense"],
                                  ["--seed", "x"]]), max_size=3).map(lambda fs: [f for pair in fs for f in pair])
