"""``gradcheck check FILE.toml``: check every claim of a homework file with all three oracles.

Exit codes: 0 when every claim is correct or matches its ``expect``; 1 otherwise; 2 for bad input
(the file cannot be read, parsed or built). ``python -m gradcheck.homework.cli FILE`` works too.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import tomllib
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from gradcheck import limits, textsafe
from gradcheck.oracles import repair_oracles

EXIT_OK, EXIT_WRONG, EXIT_BAD_INPUT = 0, 1, 2


def _whole(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least {low}, got {value}")
        return value
    return parse


def _seconds(low: float):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
        if not math.isfinite(value) or value < low:
            raise argparse.ArgumentTypeError(f"expected a finite number of seconds of at least {low:g}, got {text}")
        return value
    return parse


def add_check_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("file", metavar="FILE.toml", help="homework file (see README: file format)")
    parser.add_argument("--json", action="store_true", help="write the results as JSON to stdout")
    parser.add_argument("--report", metavar="OUT.md", help="also write a markdown report")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the summary line")
    parser.add_argument("--seed", type=_whole(0), default=None,
                        help="seed of the random points (default: the file's [check] seed, else 0)")
    parser.add_argument("--points", type=_whole(1), default=None, help="points per claim (default: the engine's)")
    parser.add_argument("--oracles", default=None,
                        help="comma-separated subset of finite_difference,autodiff,symbolic (default: all)")
    parser.add_argument("--rtol", type=float, default=None,
                        help="relative tolerance for every oracle (default: each oracle's own, 1e-8 for complex "
                        "step and JAX, 1e-6 for central differences; see docs/ways_in.md)")
    parser.add_argument("--atol", type=float, default=None, help="absolute tolerance added to rtol * max|truth| "
                        "(default 0: every derivative is compared relative to its own size)")
    parser.add_argument("--no-repair", action="store_true",
                        help="do not search for a repair of wrong claims (a repair found is confirmed by "
                             "finite differences and JAX)")
    parser.add_argument("--repair-budget", type=_seconds(0.0), default=5.0, metavar="SECONDS",
                        help="time for the repair search per wrong claim (default 5)")
    parser.add_argument("--sympy-budget", type=float, default=10.0, metavar="SECONDS",
                        help="time for SymPy per claim; a claim that needs more is judged by the other "
                             "oracles, with a note (default 10; its memory is capped at 1 GB)")
    parser.add_argument("--ignore-expect", action="store_true",
                        help="for graders: ignore every claim's `expect`; exit 0 only when every claim is correct")
    parser.add_argument(limits.ENTRIES_FLAG, type=_whole(1), default=None, metavar="N", dest="max_entries",
                        help=f"most entries per array and per claim (default {limits.MAX_ARRAY_ENTRIES:,}; "
                             "see docs/limits.md)")
    parser.add_argument("--time-per-claim", type=_seconds(0.001), default=limits.CLAIM_SECONDS, metavar="SECONDS",
                        help=f"wall-clock budget of one claim (default {limits.CLAIM_SECONDS:g}); each oracle gets "
                             "a third of it")
    parser.add_argument("--time-per-file", type=_seconds(0.001), default=limits.FILE_SECONDS, metavar="SECONDS",
                        help=f"wall-clock budget of the whole file (default {limits.FILE_SECONDS:g})")
    parser.add_argument("--no-cache", action="store_true",
                        help="check every claim anew, without reusing the results of an earlier run of the same "
                             "file, flags and gradcheck version (kept in $GRADCHECK_RESULT_CACHE, default "
                             "~/.cache/gradcheck/results; see docs/performance.md)")
    return parser


def _ok(r, ignore_expect: bool = False) -> bool:
    if ignore_expect or r.claim.expect is None:
        return r.verdict == "correct"
    return bool(r.expected_ok)


def _line(r, width: int = 12, ignore_expect: bool = False) -> str:
    c = r.claim
    expect = ""
    if c.expect is not None and ignore_expect:
        expect = "  [expect ignored]"
    elif c.expect is not None:
        expect = f"  [expected {c.expect}: {'as expected' if r.expected_ok else 'NOT as expected'}]"
    parts = [f"{c.name:<{width}} {r.verdict.upper():<16}"]
    if r.diagnosis is not None:
        parts.append(f"{r.diagnosis.kind}: {r.diagnosis.text}")
        if r.diagnosis.fix:
            parts.append(f"fix: {r.diagnosis.fix}")
    elif r.verdict != "correct" and r.message:
        parts.append(r.message)
    if r.repair is not None and getattr(r.repair, "formula", None):
        parts.append(f"repair: {getattr(r.repair, 'text', None) or r.repair.formula}")
    if getattr(r, "judged_by", ""):
        parts.append(r.judged_by)
    return " | ".join(parts) + expect


def _num(x):
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else str(x)


def result_json(r) -> dict[str, Any]:
    """The claim fields of ``--json`` (the report helper's builder is used when available)."""
    d = r.diagnosis
    return {
        "id": r.claim.name, "of": r.claim.target(r.model), "wrt": r.claim.wrt, "kind": r.claim.kind,
        "formula": r.claim.source, "verdict": r.verdict,
        "diagnosis": None if d is None else {"kind": d.kind, "text": d.text},
        "fix": None if d is None else d.fix, "expected": r.claim.expect, "expected_ok": r.expected_ok,
        "reason": r.claim.reason, "message": r.message, "notes": list(r.notes),
        "repair": getattr(r.repair, "formula", None) if r.repair is not None else None,
        "oracles": {o: {"status": v.status, "max_abs_err": _num(v.max_abs_err), "max_rel_err": _num(v.max_rel_err),
                        "method": v.method, "dims": dict(v.dims or {})} for o, v in r.oracles.items()},
        "seconds": round(r.seconds, 3),
    }


def build_json(derivation, results) -> dict[str, Any]:
    try:
        from gradcheck.report import build_json as report_json

        return report_json([(derivation, results)])
    except (ImportError, AttributeError):
        return {"document": derivation.id, "title": derivation.title, "source": derivation.source,
                "claims": [result_json(r) for r in results]}


def _repair(derivation, r, oracles, budget: float, options=None):
    """The repair search (:mod:`gradcheck.repair`) for a wrong claim; never fatal."""
    return repaired(derivation, r, oracles, budget, options)[0]


def repaired(derivation, r, oracles, budget: float, options=None):
    """(the result with its repair when one is found, whether the outcome is free of the clock):
    a search stopped by its time budget might have found a repair on a faster machine."""
    if r.verdict not in ("incorrect", "shape error") or r.repair is not None or budget <= 0:
        return r, True
    try:
        from dataclasses import replace

        from gradcheck.repair import find_repair

        outcome = find_repair(derivation, r.claim, budget=budget, oracles=oracles, check_options=options)
        if outcome.repair is not None:
            return replace(r, repair=outcome.repair), True
        return r, "time budget" not in outcome.message
    except (Exception, limits.BudgetExceeded):  # noqa: BLE001 - the repair is a bonus, the verdict stands
        return r, False


# Flags that change how results are shown, not what they are: left out of the results cache's key.
_SHOWING_ONLY = frozenset({"quiet", "json", "report", "ignore_expect", "handler", "no_cache"})


def results_cache(args: argparse.Namespace, kind: str, path) -> "ResultCache":
    """The cache of this command's claim results (:mod:`gradcheck.result_cache`): keyed by the
    file's path and bytes and every flag that can change a result (after the file's own settings)."""
    from gradcheck.result_cache import ResultCache

    enabled = not getattr(args, "no_cache", False)
    flags = sorted((k, v) for k, v in vars(args).items() if k not in _SHOWING_ONLY and not callable(v))
    try:
        data = Path(path).read_bytes()
    except OSError:
        enabled, data = False, b""
    return ResultCache.for_run(kind, str(Path(path).resolve()), data, flags, enabled=enabled)


def reused_text(cache) -> str:
    """'; 3 results reused from an earlier run, --no-cache checks anew', or '' when none was."""
    if not cache.hits:
        return ""
    return f"; {cache.hits} result{'s' if cache.hits != 1 else ''} reused from an earlier run, --no-cache checks anew"


def cached_judgement(cache, key, derivation, claim, judge):
    """``judge()`` -> (result, clock_free), or the result kept under ``key`` by an earlier run with the
    same code, file and flags; a result is kept only when no clock or budget decided any of it."""
    from gradcheck.result_cache import depends_on_clock, restored, storable

    kept = cache.get(key)
    if kept is not None:
        return restored(kept, claim, derivation.model_of(claim))
    r, clock_free = judge()
    if clock_free and not depends_on_clock(r):
        cache.put(key, storable(r))
    return r


def say(text: str, stream) -> None:
    """Print a line we composed from file-provided text: control characters shown escaped."""
    print(textsafe.terminal_lines(text), file=stream)


def _say_above(bar, text: str, stream) -> None:
    """:func:`say`, above the progress bar when there is one."""
    from gradcheck.progress import say as say_above_bar

    say_above_bar(bar, textsafe.terminal_lines(text), stream)


def sympy_options(seconds: float) -> dict:
    """``check_claim``'s options giving SymPy ``seconds`` per claim and 1 GB of memory."""
    from gradcheck.bounded import Budget

    return {"symbolic": {"limit": Budget(seconds=seconds, memory_mb=1024)}}


def run_check(args: argparse.Namespace) -> int:
    """Check a homework file under the limits of :mod:`gradcheck.limits` (no warnings printed)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"), \
            limits.entries_cap(getattr(args, "max_entries", None)):
        warnings.simplefilter("ignore", RuntimeWarning)
        return _run_check(args, time.monotonic() + (getattr(args, "time_per_file", None) or math.inf))


def _validate_flags(args: argparse.Namespace) -> str:
    """Problems with the options, found before any work starts ('' if none)."""
    from gradcheck.outputs import OutputError, check_output_file

    seconds = getattr(args, "sympy_budget", 10.0)
    if not (math.isfinite(seconds) and seconds > 0):
        return f"--sympy-budget must be positive and finite, got {seconds:g}"
    _, problem = check_options(args)  # the flags alone; again once the file's [check] table is read
    if problem:
        return problem
    if getattr(args, "report", None):
        try:
            check_output_file(args.report, "--report")
        except OutputError as exc:
            return str(exc)
    return ""


def apply_file_settings(args: argparse.Namespace, chosen: dict) -> None:
    """The file's ``[check]`` table (:mod:`gradcheck.tolerances`) where no flag was given: the flags win."""
    for key in ("rtol", "atol", "seed", "points"):
        if getattr(args, key, None) is None and key in chosen:
            setattr(args, key, chosen[key])
    if chosen.get("repair") is False:
        args.no_repair = True
    if not getattr(args, "oracles", None) and "oracles" in chosen:
        args.oracles = ",".join(chosen["oracles"])


def check_options(args: argparse.Namespace) -> tuple[dict, str]:
    """(keyword arguments of :func:`gradcheck.check.check_claim`, '') from the flags and the file's
    settings, or ({}, what is wrong) for an unknown oracle or a tolerance out of range."""
    from gradcheck.oracles import ORACLES

    oracles = ORACLES if not getattr(args, "oracles", None) else tuple(o.strip() for o in args.oracles.split(","))
    unknown = [o for o in oracles if o not in ORACLES]
    if unknown:
        return {}, f"unknown oracle(s) {', '.join(unknown)}; choose from {', '.join(ORACLES)}"
    rtol, atol = getattr(args, "rtol", None), getattr(args, "atol", None) or 0.0
    if (rtol is not None and not 0 <= rtol < 1) or not (atol >= 0 and np.isfinite(atol)):
        return {}, f"--rtol must be in [0, 1) and --atol a finite number >= 0, got {rtol} and {atol}"
    kwargs = {"oracles": oracles, "seed": getattr(args, "seed", None) or 0, "rtol": rtol, "atol": atol,
              "options": sympy_options(getattr(args, "sympy_budget", 10.0))}
    if getattr(args, "points", None):
        kwargs["n_points"] = args.points
    return kwargs, ""


def _left(file_end: float) -> float | None:
    """Seconds left of the file's budget (None: no budget)."""
    return None if math.isinf(file_end) else file_end - time.monotonic()


def _run_check(args: argparse.Namespace, file_end: float) -> int:
    """Load and check under the file's budget: only the loading and the claims are timed, so the
    summary, the JSON and the report are always written."""
    from gradcheck.check import check_claim, prepare
    from gradcheck.homework.load import load
    from gradcheck.model import ModelError
    from gradcheck.progress import progress_bar

    out, err = sys.stdout, sys.stderr
    problem = _validate_flags(args)
    if problem:
        say(f"error: {problem}", err)
        return EXIT_BAD_INPUT
    if str(args.file).lower().endswith((".md", ".markdown")):
        from gradcheck.homework.markdown import run_markdown

        return run_markdown(args, file_end)
    try:
        with limits.deadline(_left(file_end), "the file"):
            derivation = load(args.file)
    except ModelError as exc:  # HomeworkError, ExpressionError
        say(f"error: {exc}", err)
        return EXIT_BAD_INPUT
    except limits.BudgetExceeded as exc:
        say(f"error: {args.file}: loading {exc}; raise it with --time-per-file", err)
        return EXIT_BAD_INPUT
    from gradcheck.homework.validate import read_text
    from gradcheck.tolerances import SettingsError, file_settings

    try:  # the file's [check] table: what its author chose; the flags given here win
        chosen = file_settings(tomllib.loads(read_text(args.file)), derivation.source)
    except (SettingsError, ModelError, tomllib.TOMLDecodeError) as exc:
        say(f"error: {exc}", err)
        return EXIT_BAD_INPUT
    apply_file_settings(args, chosen)
    kwargs, problem = check_options(args)
    if problem:
        say(f"error: {problem}", err)
        return EXIT_BAD_INPUT
    oracles = kwargs["oracles"]
    quiet, as_json = getattr(args, "quiet", False), getattr(args, "json", False)
    ignore = getattr(args, "ignore_expect", False)
    talk = err if as_json else out  # with --json, stdout carries only the JSON
    if not quiet:
        say(f"{derivation.source}: {derivation.title} ({len(derivation.claims)} claims)", talk)
        if ignore:
            say("expectations ignored (--ignore-expect): a claim counts as OK only when it is correct", talk)
    t0 = time.perf_counter()
    cache = results_cache(args, "check", args.file)
    keys = [(k, claim.name) for k, claim in enumerate(derivation.claims)]
    to_check = [c for key, c in zip(keys, derivation.claims) if cache.get(key) is None]
    if to_check:  # nothing to import or prepare when every result is kept from an earlier run
        _import_oracles(oracles, heavy=False)
        t0 = time.perf_counter()
        try:
            with limits.deadline(_left(file_end), "the file"):
                prepare(derivation, to_check, oracles=oracles, seed=kwargs["seed"], options=kwargs["options"])
        except limits.BudgetExceeded:
            pass  # the claims say that the file ran out of time
        _import_oracles(oracles)  # before any claim's budget starts: imports are not charged to the first claim
    confirming = repair_oracles(oracles)  # finite differences and JAX (LSTM step: SymPy was 10 s of 20 s)
    results, notes_seen = [], set()
    width = max([12] + [len(textsafe.terminal(c.name)) for c in derivation.claims])
    repair_budget = 0.0 if getattr(args, "no_repair", False) else getattr(args, "repair_budget", 5.0)
    bar = progress_bar(len(derivation.claims), talk, enabled=not quiet)

    def judge(claim):
        r = _check_within_budget(derivation, claim, check_claim, kwargs, getattr(args, "time_per_claim", None),
                                 _left(file_end), getattr(args, "time_per_file", None))
        left = _left(file_end)
        return repaired(derivation, r, confirming, repair_budget if left is None else min(repair_budget, left),
                        kwargs["options"])

    for key, claim in zip(keys, derivation.claims):
        if bar is not None:
            bar.set_description_str(f"checking {textsafe.terminal(claim.name)}")
        r = cached_judgement(cache, key, derivation, claim, lambda: judge(claim))
        results.append(r)
        if not quiet:
            sizes = getattr(r, "sizes", "")
            if sizes and f"sizes: {sizes}" not in notes_seen:
                notes_seen.add(f"sizes: {sizes}")
                _say_above(bar, f"  sizes: {sizes}", talk)
            for note in r.notes:
                if note not in notes_seen:
                    notes_seen.add(note)
                    _say_above(bar, f"  note: {note}", talk)
            _say_above(bar, "  " + _line(r, width, ignore), talk)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    for line in derivation.findings:  # a claim's LaTeX not read, or disagreeing with its formula
        say(f"  LaTeX: {line}", talk)
    n_ok = sum(_ok(r, ignore) for r in results)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in counts.items())
    n_expected = sum(r.claim.expect is not None for r in results)
    tail = f"; {sum(bool(r.expected_ok) for r in results)}/{n_expected} match their `expect`" if n_expected else ""
    if ignore:
        tail = f"; {n_expected} `expect` ignored (--ignore-expect)"
    say(f"{len(results)} claims: {summary or 'none'}{tail} ({time.perf_counter() - t0:.1f} s{reused_text(cache)}) -> "
        f"{'OK' if n_ok == len(results) else 'PROBLEMS'}", talk)
    if as_json:
        json.dump(build_json(derivation, results), out, indent=2, default=str)
        out.write("\n")
    if getattr(args, "report", None):
        from gradcheck.outputs import write_together
        from gradcheck.report import render_markdown

        write_together({args.report: str(render_markdown([(derivation, results)]))})
        say(f"report written to {args.report}", talk)
    return EXIT_OK if n_ok == len(results) else EXIT_WRONG


def _import_oracles(oracles, heavy: bool = True) -> None:
    """Import the oracles' modules; with ``heavy``, also the libraries they need in this process
    (JAX; SymPy only where it cannot run in its own worker process), so that their import time is
    not charged to the first claim's budget. Call it without ``heavy`` before :func:`prepare`, which
    forks the SymPy worker: the worker then imports SymPy while this process imports JAX."""
    import importlib

    from gradcheck import bounded

    for name in oracles:
        importlib.import_module(f"gradcheck.oracles.{name}")
    if not heavy:
        return
    if "symbolic" in oracles and not bounded.available():
        import sympy  # noqa: F401 - the symbolic oracle runs in this process
    if "autodiff" in oracles:
        from gradcheck.interrupts import import_held

        import_held("jax")  # Ctrl-C inside jaxlib's initialisation aborts the process


def _check_within_budget(derivation, claim, check_claim, kwargs, seconds: float | None, file_left: float | None,
                         file_seconds: float | None = None):
    """One claim under its wall-clock budget (each oracle gets a third of it) and what is left of the
    file's; a claim that runs out of either is ``not evaluable`` with the budget and its flag named."""
    from gradcheck.check import ClaimResult

    def not_evaluable(message):
        return ClaimResult(derivation.id, claim, derivation.model_of(claim), "not evaluable", message=message)

    file_spent = (f"the file ran out of time: its budget of {file_seconds:g} s is spent (see docs/limits.md); "
                  "raise it with --time-per-file")
    if file_left is not None and file_left <= 0:
        return not_evaluable(f"not checked: {file_spent}")
    what, timed = f"claim {claim.name!r}", seconds
    if file_left is not None and (seconds is None or file_left < seconds):
        what, timed = "the file", file_left
    try:
        with limits.deadline(timed, what), limits.oracle_budget(None if seconds is None else seconds / 3):
            return check_claim(derivation, claim, **kwargs)
    except limits.BudgetExceeded as exc:
        return not_evaluable(file_spent if exc.what == "the file" else f"{exc}; raise it with --time-per-claim")
    except Exception as exc:  # noqa: BLE001 - RecursionError, MemoryError, ...: reported, never a traceback
        return not_evaluable(f"the check raised {type(exc).__name__}: {exc}")


def main(argv: list[str] | None = None) -> int:
    parser = add_check_arguments(argparse.ArgumentParser(prog="gradcheck check",
                                                         description="Check the claims of a homework file."))
    return run_check(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
