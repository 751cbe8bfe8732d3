"""``gradcheck check FILE.toml``: check every claim of a homework file with all three oracles.

Exit codes: 0 when every claim is correct or matches its ``expect``; 1 otherwise; 2 for bad input
(the file cannot be read, parsed or built). ``python -m gradcheck.homework.cli FILE`` works too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

EXIT_OK, EXIT_WRONG, EXIT_BAD_INPUT = 0, 1, 2


def add_check_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("file", metavar="FILE.toml", help="homework file (see README: file format)")
    parser.add_argument("--json", action="store_true", help="write the results as JSON to stdout")
    parser.add_argument("--report", metavar="OUT.md", help="also write a markdown report")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the summary line")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random points (default 0)")
    parser.add_argument("--points", type=int, default=None, help="points per claim (default: the engine's)")
    parser.add_argument("--oracles", default=None,
                        help="comma-separated subset of finite_difference,autodiff,symbolic (default: all)")
    parser.add_argument("--no-repair", action="store_true",
                        help="do not search for a repair of wrong claims (a repair found is confirmed by "
                             "finite differences and JAX)")
    parser.add_argument("--repair-budget", type=float, default=5.0, metavar="SECONDS",
                        help="time for the repair search per wrong claim (default 5)")
    parser.add_argument("--sympy-budget", type=float, default=10.0, metavar="SECONDS",
                        help="time for SymPy per claim; a claim that needs more is judged by the other "
                             "oracles, with a note (default 10; its memory is capped at 1 GB)")
    return parser


def _ok(r) -> bool:
    return r.expected_ok if r.claim.expect is not None else r.verdict == "correct"


def _line(r, width: int = 12) -> str:
    c = r.claim
    expect = ""
    if c.expect is not None:
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
    if r.verdict not in ("incorrect", "shape error") or r.repair is not None or budget <= 0:
        return r
    try:
        from dataclasses import replace

        from gradcheck.repair import find_repair

        outcome = find_repair(derivation, r.claim, budget=budget, oracles=oracles, check_options=options)
        return replace(r, repair=outcome.repair) if outcome.repair is not None else r
    except Exception:  # noqa: BLE001 - the repair is a bonus, the verdict stands without it
        return r


def run_check(args: argparse.Namespace) -> int:
    from gradcheck.bounded import Budget
    from gradcheck.check import check_claim, prepare
    from gradcheck.homework.load import load
    from gradcheck.model import ModelError
    from gradcheck.oracles import ORACLES
    from gradcheck.progress import progress_bar, say

    out, err = sys.stdout, sys.stderr
    try:
        derivation = load(args.file)
    except ModelError as exc:  # HomeworkError, ExpressionError
        print(f"error: {exc}", file=err)
        return EXIT_BAD_INPUT
    oracles = ORACLES if not getattr(args, "oracles", None) else tuple(o.strip() for o in args.oracles.split(","))
    unknown = [o for o in oracles if o not in ORACLES]
    if unknown:
        print(f"error: unknown oracle(s) {', '.join(unknown)}; choose from {', '.join(ORACLES)}", file=err)
        return EXIT_BAD_INPUT
    kwargs = {"oracles": oracles, "seed": getattr(args, "seed", 0)}
    seconds = getattr(args, "sympy_budget", 10.0)
    if seconds <= 0:
        print(f"error: --sympy-budget must be positive, got {seconds:g}", file=err)
        return EXIT_BAD_INPUT
    kwargs["options"] = {"symbolic": {"limit": Budget(seconds=seconds, memory_mb=1024)}}
    if getattr(args, "points", None):
        kwargs["n_points"] = args.points
    quiet, as_json = getattr(args, "quiet", False), getattr(args, "json", False)
    talk = err if as_json else out  # with --json, stdout carries only the JSON
    if not quiet:
        print(f"{derivation.source}: {derivation.title} ({len(derivation.claims)} claims)", file=talk)
    t0 = time.perf_counter()
    prepare(derivation, derivation.claims, oracles=oracles, seed=kwargs["seed"], options=kwargs["options"])
    # A repair is confirmed by finite differences and JAX (complex step and autodiff at every point):
    # SymPy's exact set-up for each candidate cost more than the rest of the file (LSTM step: 10 s of
    # 20 s). `gradcheck report` confirms with all three.
    repair_oracles = tuple(o for o in oracles if o != "symbolic") or oracles
    results, notes_seen = [], set()
    width = max([12] + [len(c.name) for c in derivation.claims])
    bar = progress_bar(len(derivation.claims), talk, enabled=not quiet)
    for claim in derivation.claims:
        if bar is not None:
            bar.set_description_str(f"checking {claim.name}")
        r = _repair(derivation, check_claim(derivation, claim, **kwargs), repair_oracles,
                    0.0 if getattr(args, "no_repair", False) else getattr(args, "repair_budget", 5.0),
                    kwargs["options"])
        results.append(r)
        if not quiet:
            for note in r.notes:
                if note not in notes_seen:
                    notes_seen.add(note)
                    say(bar, f"  note: {note}", talk)
            say(bar, "  " + _line(r, width), talk)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    n_ok = sum(_ok(r) for r in results)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in counts.items())
    n_expected = sum(r.claim.expect is not None for r in results)
    tail = f"; {sum(bool(r.expected_ok) for r in results)}/{n_expected} match their `expect`" if n_expected else ""
    print(f"{len(results)} claims: {summary or 'none'}{tail} ({time.perf_counter() - t0:.1f} s) -> "
          f"{'OK' if n_ok == len(results) else 'PROBLEMS'}", file=talk)
    if as_json:
        json.dump(build_json(derivation, results), out, indent=2, default=str)
        out.write("\n")
    if getattr(args, "report", None):
        try:
            from gradcheck.report import render_markdown

            text = render_markdown([(derivation, results)])
            if not isinstance(text, str):
                text = str(text)
            Path(args.report).write_text(text, encoding="utf-8")
        except (ImportError, AttributeError):
            Path(args.report).write_text(_markdown(derivation, results), encoding="utf-8")
        print(f"report written to {args.report}", file=talk)
    return EXIT_OK if n_ok == len(results) else EXIT_WRONG


def _markdown(derivation, results) -> str:
    lines = [f"# {derivation.title}", "", f"Source: `{derivation.source}`", "",
             "| claim | verdict | diagnosis | fix |", "|---|---|---|---|"]
    for r in results:
        d = r.diagnosis
        lines.append(f"| {r.claim.name} | {r.verdict} | {d.kind + ': ' + d.text if d else r.message} | "
                     f"{(d.fix or '') if d else ''} |".replace("\n", " "))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = add_check_arguments(argparse.ArgumentParser(prog="gradcheck check",
                                                         description="Check the claims of a homework file."))
    return run_check(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
