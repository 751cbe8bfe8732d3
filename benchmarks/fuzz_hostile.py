"""Fuzz campaign for issue 16: random expressions, homework files and flags through `gradcheck check`.

    python benchmarks/fuzz_hostile.py [--inputs N] [--seed S] [--out benchmarks/results/fuzz_hostile.md]

Draws inputs from the hypothesis strategies of tests/hostile.py (the same ones the test suite uses,
a few dozen examples each) and runs many more of them: each expression is parsed and evaluated on
small arrays, and each file (with random flags) is checked in this process with the finite-difference
oracle. Every outcome is classified (exit 0 / 1 / 2, or a traceback, or over the time budget), and the
figures are written to ``--out``. An input that escapes with an exception is printed in full.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np
from hostile import EXPRESSIONS, FLAGS, files, run_check
from hypothesis import HealthCheck, given, settings

from gradcheck.expr import parse
from gradcheck.model import ModelError

SMALL = {"X": np.ones((4, 3)), "W": np.ones(3), "Y": np.ones(4), "Z": np.ones(4), "m": 4, "d": 3, "loss": 1.0,
         "Q": 2.0}
EXPECTED_ERRORS = (ModelError, ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError)
PER_INPUT_SECONDS = 60.0  # the per-file budget given to each check (--time-per-file)


def expression_outcome(text: str) -> str:
    try:
        e = parse(text, where="fuzz")
    except ModelError:
        return "refused at parse (message)"
    except BaseException as exc:  # noqa: BLE001
        return f"TRACEBACK at parse: {type(exc).__name__}"
    try:
        with np.errstate(all="ignore"):
            e.evaluate(SMALL)
    except EXPECTED_ERRORS as exc:
        return "refused at evaluation (message)" if isinstance(exc, ModelError) else \
            f"numpy/Python error at evaluation: {type(exc).__name__}"
    except BaseException as exc:  # noqa: BLE001
        return f"TRACEBACK at evaluation: {type(exc).__name__}"
    return "evaluated"


def file_outcome(text: str, flags: list[str], tmp: Path) -> tuple[str, float, str]:
    path = tmp / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    o = run_check(path, "--oracles", "finite_difference", "--no-repair", "--time-per-claim", "20",
                  "--time-per-file", str(PER_INPUT_SECONDS), *flags)
    dt = time.perf_counter() - t0
    if o.code is None:
        return "TRACEBACK", dt, o.exception
    kind = {0: "exit 0 (verdicts as expected)", 1: "exit 1 (some verdict not correct)"}
    label = kind.get(o.code, f"exit {o.code}") if o.code != 2 else f"exit 2: {message_kind(o.err)}"
    if "\x1b" in o.out + o.err:
        label += " WITH RAW ESCAPE"
    if dt > PER_INPUT_SECONDS + 5:
        label += " OVER BUDGET"
    return label, dt, ""


def message_kind(err: str) -> str:
    """A coarse class of an exit-2 message (for the campaign's table)."""
    for needle, label in (("usage:", "a bad flag (argparse)"), ("unknown oracle", "a bad flag (--oracles)"),
                          ("nest more than", "TOML nesting or dotted keys"), ("dotted key", "TOML nesting or dotted keys"), ("--report", "an unwritable --report"),
                          ("TOML syntax", "TOML syntax"), ("limit", "a limit (size, depth, length, bits)"),
                          ("must be", "a field of the wrong type or value"), ("step ", "a step (name, shape, value)"),
                          ("unknown top-level key", "an unknown key"), ("not finite", "a non-finite literal")):
        if needle in err:
            return label
    return "other: " + " ".join(err.split())[:80]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=2000, help="expressions and files each (default 2000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "fuzz_hostile.md"))
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    exprs, file_cases = collections.Counter(), collections.Counter()
    slowest, failures = [0.0, ""], []
    t_start = time.perf_counter()

    @settings(max_examples=args.inputs, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(EXPRESSIONS)
    def fuzz_expressions(text):
        outcome = expression_outcome(text)
        exprs[outcome] += 1
        if outcome.startswith("TRACEBACK"):
            failures.append(("expression", text[:300], outcome))

    t0 = time.perf_counter()
    fuzz_expressions()
    t_expr = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        @settings(max_examples=args.inputs, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(files(), FLAGS)
        def fuzz_files(text, flags):
            outcome, dt, tb = file_outcome(text, flags, Path(tmp))
            file_cases[outcome] += 1
            if dt > slowest[0]:
                slowest[:] = [dt, " ".join(flags)]
            if tb or "RAW" in outcome or "OVER" in outcome:
                failures.append(("file", text[:600] + f"\nflags: {flags}", tb[-1500:] or outcome))

        t0 = time.perf_counter()
        fuzz_files()
        t_files = time.perf_counter() - t0

    lines = ["# Fuzz campaign: hostile and broken input (issue 16)", "",
             (f"`python benchmarks/fuzz_hostile.py --inputs {args.inputs}` (hypothesis, derandomized; "
              f"total {time.perf_counter() - t_start:.0f} s)"), "",
             f"## Expressions: {sum(exprs.values())} tried in {t_expr:.0f} s", "",
             "| outcome | count |", "|---|--:|"]
    lines += [f"| {k} | {v} |" for k, v in exprs.most_common()]
    lines += ["", (f"## Files with random flags through `gradcheck check`: {sum(file_cases.values())} tried in "
                   f"{t_files:.0f} s (slowest {slowest[0]:.1f} s)"), "", "| outcome | count |", "|---|--:|"]
    lines += [f"| {k} | {v} |" for k, v in file_cases.most_common()]
    lines += ["", f"## Inputs that escaped with a traceback, a raw escape or over the budget: {len(failures)}", ""]
    for kind, text, what in failures[:20]:
        lines += [f"### {kind}", "", "```", text, "```", "", "```", what, "```", ""]
    report = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report, encoding="utf-8")
    print(report)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
