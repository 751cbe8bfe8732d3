"""CPU seconds of the symbolic (SymPy/SymEngine) oracle per document and per example file.

    python benchmarks/symbolic_speed.py measure [--repo PATH] --label after
    python benchmarks/symbolic_speed.py compare before after [--out benchmarks/SYMBOLIC_SPEED.md]

``measure`` calls :func:`gradcheck.oracles.symbolic.symbolic` on every claim of the four documents
(``derivations.DOCUMENTS``) and of every file in ``examples/`` (TOML files: their claims; markdown
files: the claims of their display equations), one after another in this process, in document
order, as the report's SymPy worker does (so set-ups cached per model are shared by the claims of a
model, exactly as there). Each claim's CPU time (``time.process_time``) and outcome ("proved",
"numeric (50 digits)", "disproved", or the error) are written to
``benchmarks/results/symbolic_speed_<label>.json``. Importing SymPy and SymEngine is done first and
not counted. ``--repo`` imports ``gradcheck`` from another checkout (an export of an older commit)
to measure "before" the same way.

``checks`` runs ``python -m gradcheck check examples/X`` (all oracles, repairs on, as a user types
it) for every example in the checkout, one after another, and records its wall time and its output
with the timings taken out, to ``benchmarks/results/symbolic_checks_<label>.json``.

``compare`` writes the markdown tables of two such runs (and of the two ``checks`` runs with the
same labels, when there are: wall times, and whether every line of output is the same).
"""

from __future__ import annotations

import argparse
import inspect
import json
import platform
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _outcome(m) -> str:
    if m.error:
        return "error: " + m.error.split(":")[0]
    if not m.points:
        return m.status if hasattr(m, "status") else "skipped"
    return m.points[0].decided or "undecided"


def _measure_claim(symbolic, model, claim, uses) -> tuple[float, str]:
    t0 = time.process_time()
    try:
        m = symbolic(model, claim, [], dict(uses), seed=0)
        outcome = _outcome(m)
    except Exception as exc:  # noqa: BLE001 - recorded, as the oracle's callers do
        outcome = f"error: {type(exc).__name__}"
    return time.process_time() - t0, outcome


def _documents(symbolic) -> dict:
    import derivations

    out = {}
    for doc in derivations.DOCUMENTS:
        out[doc.id] = [(claim.name, *_measure_claim(symbolic, doc.model_of(claim), claim,
                                                     doc.derivative_names(claim))) for claim in doc.claims]
        print(f"document {doc.id}: {sum(c[1] for c in out[doc.id]):.1f} s", flush=True)
    return out


def _examples(symbolic, root: Path) -> dict:
    from gradcheck.check import check_claim
    from gradcheck.homework.load import load
    from gradcheck.homework.markdown import check_markdown

    out = {}
    for path in sorted((root / "examples").iterdir()):
        rows = []
        if path.suffix == ".toml":
            doc = load(path)
            rows = [(c.name, *_measure_claim(symbolic, doc.model_of(c), c, doc.derivative_names(c)))
                    for c in doc.claims]
        elif path.suffix == ".md":
            def hook(derivation, claim, rows=rows, **kwargs):
                rows.append((claim.name, *_measure_claim(symbolic, derivation.model_of(claim), claim,
                                                          derivation.derivative_names(claim))))
                return check_claim(derivation, claim, oracles=("finite_difference",), second=False)

            extra = {"prepare": False} if "prepare" in inspect.signature(check_markdown).parameters else {}
            check_markdown(path, check=hook, **extra)  # prepare=False: no SymPy worker started beside
        else:
            continue
        out[path.name] = rows
        print(f"example {path.name}: {sum(r[1] for r in rows):.1f} s", flush=True)
    return out


def measure(repo: Path, label: str) -> Path:
    sys.path.insert(0, str(repo))
    import symengine  # imported before timing, as is sympy
    import sympy

    from gradcheck.oracles.symbolic import symbolic

    assert Path(sys.modules["gradcheck"].__file__).resolve().is_relative_to(repo.resolve()), "wrong gradcheck"
    data = {"label": label, "repo": str(repo), "python": platform.python_version(),
            "sympy": sympy.__version__, "symengine": symengine.__version__,
            "documents": _documents(symbolic), "examples": _examples(symbolic, repo)}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"symbolic_speed_{label}.json"
    out.write_text(json.dumps(data, indent=1) + "\n")
    return out


_TIMING = re.compile(r"\(?\d+(\.\d+)? s\)?")


def checks(repo: Path, label: str) -> Path:
    out = {}
    for path in sorted((repo / "examples").iterdir()):
        if path.suffix not in (".toml", ".md"):
            continue
        t0 = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "gradcheck", "check", f"examples/{path.name}"], cwd=repo,
                             capture_output=True, text=True, timeout=600, check=False)
        seconds = time.perf_counter() - t0
        lines = [_TIMING.sub("", line).rstrip() for line in run.stdout.splitlines() if line.strip()]
        out[path.name] = {"seconds": seconds, "exit": run.returncode, "lines": lines}
        print(f"check {path.name}: {seconds:.1f} s, exit {run.returncode}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"symbolic_checks_{label}.json"
    target.write_text(json.dumps({"label": label, "repo": str(repo), "examples": out}, indent=1) + "\n")
    return target


def _checks_table(before: dict, after: dict) -> list[str]:
    lines = ["## `gradcheck check examples/X`: wall time and output", "",
             "One run each, all three oracles, repairs on, one after another on the same (shared, 2-core) "
             "machine; the output is compared line by line with every timing taken out.", "",
             "| example | wall s before | wall s after | exit before / after | same output |",
             "|---|---:|---:|---|---|"]
    tb = ta = 0.0
    for name, b in before["examples"].items():
        a = after["examples"].get(name, {"seconds": float("nan"), "exit": None, "lines": []})
        tb, ta = tb + b["seconds"], ta + a["seconds"]
        same = "yes" if a["lines"] == b["lines"] and a["exit"] == b["exit"] else "**no**"
        lines.append(f"| {name} | {b['seconds']:.1f} | {a['seconds']:.1f} | {b['exit']} / {a['exit']} | {same} |")
    lines.append(f"| **all** | **{tb:.1f}** | **{ta:.1f}** | | |")
    return lines + [""]


KINDS = ("proved", "numeric (50 digits)", "disproved")


def _counts(rows) -> Counter:
    return Counter(r[2] if r[2] in KINDS else "other" for r in rows)


def _table(title: str, before: dict, after: dict) -> list[str]:
    lines = [f"## {title}", "", "| | claims | CPU s before | CPU s after | speed-up | "
             "proved / numeric / disproved / other before | after |", "|---|---:|---:|---:|---:|---|---|"]
    tb = ta = 0.0
    cb, ca = Counter(), Counter()
    for name, rb in before.items():
        ra = after.get(name, [])
        sb, sa = sum(r[1] for r in rb), sum(r[1] for r in ra)
        tb, ta = tb + sb, ta + sa
        cb.update(_counts(rb))
        ca.update(_counts(ra))
        lines.append(f"| {name} | {len(rb)} | {sb:.2f} | {sa:.2f} | {sb / max(sa, 1e-9):.1f}x | "
                     f"{_fmt(_counts(rb))} | {_fmt(_counts(ra))} |")
    lines.append(f"| **all** | {sum(len(v) for v in before.values())} | **{tb:.2f}** | **{ta:.2f}** | "
                 f"**{tb / max(ta, 1e-9):.1f}x** | {_fmt(cb)} | {_fmt(ca)} |")
    return lines + [""]


def _fmt(c: Counter) -> str:
    return " / ".join(str(c.get(k, 0)) for k in (*KINDS, "other"))


def _summary(b: dict, a: dict) -> str:
    parts = []
    for key, what in (("documents", "the four documents"), ("examples", "`examples/`")):
        sb = sum(r[1] for rows in b[key].values() for r in rows)
        sa = sum(r[1] for rows in a[key].values() for r in rows)
        cb = Counter(r[2] for rows in b[key].values() for r in rows)
        ca = Counter(r[2] for rows in a[key].values() for r in rows)
        parts.append(f"{what}: {sb:.1f} s -> {sa:.1f} s CPU ({sb / max(sa, 1e-9):.1f}x); proved {cb['proved']} -> "
                     f"{ca['proved']}, numeric {cb['numeric (50 digits)']} -> {ca['numeric (50 digits)']}, "
                     f"disproved {cb['disproved']} -> {ca['disproved']}")
    return "**Summary.** " + "; ".join(parts) + "."


def _changed(before: dict, after: dict) -> list[str]:
    out = []
    for name, rows in before.items():
        new = {r[0]: r[2] for r in after.get(name, [])}
        for claim, _, outcome in rows:
            if new.get(claim) != outcome:
                out.append(f"- {name} / `{claim}`: {outcome} -> {new.get(claim)}")
    return out


def compare(before_label: str, after_label: str, out: Path, before_desc: str = "", after_desc: str = "") -> None:
    b = json.loads((RESULTS / f"symbolic_speed_{before_label}.json").read_text())
    a = json.loads((RESULTS / f"symbolic_speed_{after_label}.json").read_text())
    lines = ["# Symbolic oracle: CPU time before and after", "",
             "Produced by `python benchmarks/symbolic_speed.py compare "
             f"{before_label} {after_label}` from two runs of `measure` on the same machine "
             f"(Python {a['python']}, SymPy {a['sympy']}, SymEngine {a['symengine']}); "
             "each figure is the sum over claims of the CPU seconds (`time.process_time`) of one "
             "`symbolic(model, claim, [], uses, seed=0)` call, claims run one after another in one "
             "process (set-ups cached per model shared, as in the report's SymPy worker), imports "
             "not counted. The machine is shared (2 cores), so figures vary by ~10-20% between runs.",
             "", f"*{before_label}*: {before_desc or b['repo']}; *{after_label}*: {after_desc or a['repo']}.", "",
             _summary(b, a), ""]
    lines += _table("Documents", b["documents"], a["documents"])
    lines += _table("Examples (`examples/`)", b["examples"], a["examples"])
    changed = _changed(b["documents"], a["documents"]) + _changed(b["examples"], a["examples"])
    lines += ["## Outcomes that changed", "",
              "A change from \"numeric (50 digits)\" to \"proved\" is a new proof (claim - truth reduced to 0 "
              "by SymEngine's expansion or over a common denominator: identity tests), not a new verdict.", ""]
    lines += (changed or ["None: every claim has the same outcome."]) + [""]
    cb, ca = RESULTS / f"symbolic_checks_{before_label}.json", RESULTS / f"symbolic_checks_{after_label}.json"
    if cb.exists() and ca.exists():
        lines += _checks_table(json.loads(cb.read_text()), json.loads(ca.read_text()))
    out.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--repo", type=Path, default=HERE.parent)
    m.add_argument("--label", required=True)
    k = sub.add_parser("checks")
    k.add_argument("--repo", type=Path, default=HERE.parent)
    k.add_argument("--label", required=True)
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    c.add_argument("--out", type=Path, default=HERE / "SYMBOLIC_SPEED.md")
    c.add_argument("--before-desc", default="", help="what the first run measured (default: its checkout's path)")
    c.add_argument("--after-desc", default="", help="what the second run measured")
    args = parser.parse_args()
    if args.cmd == "measure":
        print(measure(args.repo, args.label))
    elif args.cmd == "checks":
        print(checks(args.repo, args.label))
    else:
        compare(args.before, args.after, args.out, args.before_desc, args.after_desc)


if __name__ == "__main__":
    main()
