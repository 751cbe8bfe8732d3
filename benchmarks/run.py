"""Benchmark gradcheck's finite-difference oracle against torch.autograd.gradcheck,
jax.test_util.check_grads, scipy.optimize.check_grad and numdifftools, in one process and run.

    pip install -e ".[bench]"
    python benchmarks/run.py            # full run (~10 minutes on 2 cores), writes benchmarks/RESULTS.md
    python benchmarks/run.py --quick    # fewer repeats and sizes, for a smoke test

All checks are float64 and check the same gradient (all four parameter arrays of the network) at
the same point. See RESULTS.md for what each column means.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import peers  # noqa: E402
from benchmarks.problems import PARAMS, batched_loss, claims, make, network  # noqa: E402
from gradcheck.check import check_claim  # noqa: E402
from gradcheck.oracles import finite_difference as fd  # noqa: E402
from gradcheck.points import draw_points  # noqa: E402

HERE = Path(__file__).resolve().parent
GC_MODES = {
    "gradcheck complex step (full)": {"method": "complex step", "max_full": 10 ** 9},
    "gradcheck central+Richardson (full)": {"method": "central", "max_full": 10 ** 9},
    "gradcheck 16 probes": {"max_full": 0, "n_probes": 16},
}


BUDGET = [20.0]  # seconds of repeats per measurement: slow tools get fewer repeats (reported)


def timed(fn, repeats: int, budget: float | None = None) -> list[float]:
    """Up to ``repeats`` timings, stopping once their total exceeds the budget (at least one)."""
    budget = BUDGET[0] if budget is None else budget
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
        if sum(out) > budget:
            break
    return out


# --------------------------------------------------------------------------- gradcheck
ENGINE_ERRORS: list[str] = []


class _Judged:
    """check_claim's result when check_claim itself raised (see ENGINE_ERRORS): the oracle's verdict."""

    def __init__(self, verdict):
        self.verdict = "correct" if verdict.status == "pass" else "incorrect"
        self.oracles = {"finite_difference": verdict}


def _check(model, claim, options):
    try:
        return check_claim(model, claim, oracles=("finite_difference",), n_points=1, seed=0,
                           options={"finite_difference": options})
    except Exception as exc:  # noqa: BLE001 - an engine bug: judge the oracle's measurement directly
        from gradcheck.oracles.finite_difference import finite_difference
        from gradcheck.verdict import judge

        ENGINE_ERRORS.append(f"check_claim raised {type(exc).__name__}: {exc}")
        return _Judged(judge(finite_difference(model, claim, draw_points(model, 1, seed=0), {}, seed=0, **options)))


def gc_check(prob, options, planted=None):
    """Check all four claims; (caught, results)."""
    results = [_check(prob.model, c, options) for c in claims(prob.planted.get(planted))]
    return any(r.verdict != "correct" for r in results), results


def gc_numerical(prob, options):
    """The oracle's numerical gradient (full modes) from its measurements."""
    from gradcheck.oracles.finite_difference import finite_difference

    pts = draw_points(prob.model, 1, seed=0)
    out = {}
    for c in claims():
        m = finite_difference(prob.model, c, pts, {}, seed=0, **options)
        out[c.wrt] = (m.points[0].truth, m.points[0].claimed)
    return out


def elementwise_error(num: np.ndarray, exact: np.ndarray) -> tuple[float, float]:
    """(max elementwise relative error over nonzero exact entries, max|err| / max|exact|)."""
    nz = exact != 0
    rel = float(np.max(np.abs(num[nz] - exact[nz]) / np.abs(exact[nz]))) if np.any(nz) else 0.0
    return rel, float(np.max(np.abs(num - exact)) / np.max(np.abs(exact)))


def two_n_batch(prob, max_chunks: int | None = None) -> tuple[float, bool]:
    """Time of 2n full forward passes (+-h on every entry) evaluated as batches of stacked
    parameters (chunks bounded to 2**22 elements); extrapolated when ``max_chunks`` cuts it short."""
    p = prob.point
    h = fd.CENTRAL_STEP
    total, extrapolated = 0.0, False
    m, hid = p["x"].shape[0], p["W1"].shape[1]
    for k in PARAMS:
        size = p[k].size
        per = max(size, m * hid) * 2
        B = max(2, min(2 * size, (1 << 22) // per) // 2 * 2)
        n_chunks = -(-2 * size // B)
        run = n_chunks if max_chunks is None else min(n_chunks, max_chunks)
        t0 = time.perf_counter()
        for c in range(run):
            ks = np.arange(c * B // 2, min(size, (c + 1) * B // 2))
            stack = np.repeat(p[k].reshape(1, -1), 2 * ks.size, axis=0)
            stack[np.arange(0, 2 * ks.size, 2), ks] += h
            stack[np.arange(1, 2 * ks.size, 2), ks] -= h
            args = {q: p[q] for q in PARAMS}
            args[k] = stack.reshape((-1,) + p[k].shape)
            batched_loss(p["x"], p["y"], *(args[q] for q in PARAMS))
        dt = time.perf_counter() - t0
        if run < n_chunks:
            extrapolated = True
            dt *= n_chunks / run
        total += dt
    return total, extrapolated


# --------------------------------------------------------------------------- one problem
def bench_problem(prob, cfg, log):
    n = prob.n
    log(f"== {prob.name}: n = {n}")
    theta = prob.theta()
    fwd = statistics.median(timed(lambda: prob.loss(theta), 50))
    rows = []
    exact = np.concatenate([prob.exact[k].reshape(-1) for k in PARAMS])

    def record(tool, times, acc, caught, note=""):
        rows.append({"tool": tool, "median": statistics.median(times) if times else None,
                     "min": min(times) if times else None, "repeats": len(times), "acc": acc,
                     "caught": caught, "note": note})
        med = f"{statistics.median(times):.4g}s" if times else "-"
        log(f"  {tool:<40} median {med} caught {caught} acc {acc} {note}")

    # 2n forwards as one batch (reference cost)
    wide = n > 100_000
    t2n, extra = two_n_batch(prob, max_chunks=3 if wide else None)
    t2n_list = [t2n]
    while not wide and len(t2n_list) < 5 and sum(t2n_list) < BUDGET[0]:
        t2n_list.append(two_n_batch(prob)[0])
    record("2n forward passes as one batch (reference)", t2n_list, None, {},
           "extrapolated from 3 chunks per parameter" if extra else "")

    for mode, opts in GC_MODES.items():
        reps = cfg["gc_repeats"] if not wide or "probes" in mode else cfg["wide_repeats"]
        fd.STATS.clear()
        times = timed(lambda: gc_check(prob, opts), reps)
        if "probes" in mode:
            _, res = gc_check(prob, opts)
            errs = [v.max_rel_err for r in res for v in r.oracles.values()]
            acc = {"directional rel err": max(errs)}
        else:
            numg = gc_numerical(prob, opts)
            num = np.concatenate([numg[k][0].reshape(-1) for k in PARAMS])
            rel, norm = elementwise_error(num, exact)
            acc = {"elementwise rel": rel, "max abs / max": norm}
        caught, where = {}, {}
        for name in prob.planted:
            c, res = gc_check(prob, opts, name)
            caught[name] = c
            loc = [tuple(v.message for v in r.oracles.values()) for r in res if r.verdict != "correct"]
            where[name] = loc
        note = f"batched evaluation: {dict(fd.STATS)}" if "probes" not in mode else ""
        if "probes" in mode:
            note = "; ".join(f"{k}: {' / '.join(m for loc in v for m in loc if m)[:160]}" for k, v in where.items())
        record(mode, times, acc, caught, note)

    # torch
    big = n * 2 * fwd > cfg["slow_budget"]
    if not wide:
        reps = cfg["peer_repeats"]
        times = timed(lambda: peers.check_torch(prob, None), reps)
        num = peers.torch_numerical_gradient(prob)
        rel, norm = elementwise_error(num, exact)
        record("torch.autograd.gradcheck (default)", times, {"elementwise rel": rel, "max abs / max": norm},
               {k: peers.check_torch(prob, k)[0] for k in prob.planted})
    else:
        tf = peers.torch_forward(prob)
        tfwd = statistics.median(timed(tf, 5))
        record("torch.autograd.gradcheck (default)", [], None, {},
               f"not run: 2n = {2 * n} torch forwards would take ~{2 * n * tfwd:.0f} s (one forward {tfwd * 1e3:.2f} ms)")
    if not wide:
        times = timed(lambda: peers.check_torch(prob, None, fast_mode=True), cfg["peer_repeats"])
        record("torch.autograd.gradcheck (fast_mode)", times, None,
               {k: peers.check_torch(prob, k, fast_mode=True)[0] for k in prob.planted})
    else:
        record("torch.autograd.gradcheck (fast_mode)", [], None, {},
               "not run: in a trial full run one fast_mode check on this problem was still running (inside "
               "torch dense matrix products) after 5 minutes, so it was left out to keep the run near 12 minutes")
    # jax
    peers.check_jax(prob, None)  # compile / warm up
    times = timed(lambda: peers.check_jax(prob, None), cfg["peer_repeats"])
    record("jax.test_util.check_grads (rev)", times, {"directional rel err": peers.jax_directional_error(prob)},
           {k: peers.check_jax(prob, k)[0] for k in prob.planted})
    # scipy
    if not big:
        times = timed(lambda: peers.check_scipy(prob, None), cfg["peer_repeats"])
        rel, norm = elementwise_error(peers.scipy_numerical_gradient(prob), exact)
        record("scipy.optimize.check_grad", times, {"elementwise rel": rel, "max abs / max": norm},
               {k: peers.check_scipy(prob, k)[0] for k in prob.planted})
    else:
        record("scipy.optimize.check_grad", [], None, {},
               f"not run: n = {n} forward differences would take ~{n * fwd:.0f} s")
    # numdifftools (slow: fewer repeats; the numerical gradient is reused for the planted errors)
    if n <= cfg["nd_max_n"] and prob.point["x"].shape[0] <= cfg["nd_max_batch"]:
        num_holder = {}

        def nd_run():
            num_holder["g"] = peers.numdifftools_gradient(prob)

        times = timed(nd_run, cfg["nd_repeats"])
        rel, norm = elementwise_error(num_holder["g"], exact)
        record("numdifftools.Gradient", times, {"elementwise rel": rel, "max abs / max": norm},
               {k: peers.check_numdifftools(prob, k, num_holder["g"])[0] for k in prob.planted},
               f"{cfg['nd_repeats']} repeat(s); the comparison with each planted error reuses one gradient")
    else:
        record("numdifftools.Gradient", [], None, {}, f"not run: only on n <= {cfg['nd_max_n']} and batch <= {cfg['nd_max_batch']} (minutes per gradient)")
    return {"problem": prob, "forward": fwd, "rows": rows, "t2n": t2n_list}


# --------------------------------------------------------------------------- scaling
def scaling(cfg, log):
    out = []
    for hid in cfg["scaling_h"]:
        model = network(8, 2, hid, 2)
        n = hid * 5 + 2
        row = {"n": n, "h": hid}
        for mode, opts in GC_MODES.items():
            if "central" in mode and n > cfg["central_max_n"]:
                row[mode] = None
                continue
            reps = 3 if n <= 10_000 else 1
            ts = timed(lambda: [_check(model, c, opts) for c in claims()], reps)
            row[mode] = statistics.median(ts)
        log(f"  scaling n={n}: " + ", ".join(f"{k}: {v if v is None else round(v, 3)}" for k, v in row.items()))
        out.append(row)
    return out


def probe_1e6(log, seed=0):
    """A 1e6-entry gradient (W1 of a 4-250000-2 network) checked by probes: correct, one wrong entry
    (binary-digit localisation) and two wrong entries (bisection)."""
    model = network(8, 4, 250_000, 2)
    from benchmarks.problems import FORMULAS
    from gradcheck import Claim

    pt = draw_points(model, 1, seed=seed)[0]
    vals = model.forward(pt.values)
    g = np.asarray(FORMULAS["W1"](vals["x"], vals["p"], vals["y"], 8, vals["W2"], vals["a1"]))
    k = int(np.argmax(np.abs(g)))
    k2 = int(np.argsort(np.abs(g).reshape(-1))[-2])
    fwd = statistics.median(timed(lambda: model.forward(pt.values), 5))

    def planted(entries):
        def wrong(x, p, y, m, W2, a1):
            v = np.array(FORMULAS["W1"](x, p, y, m, W2, a1), dtype=float)
            v.reshape(-1)[entries] *= 1.01  # entries from the enclosing scope (not a default argument)
            return v
        return wrong

    opts = {"max_full": 0, "n_probes": 16}
    out = {}
    cases = (("correct dL/dW1", FORMULAS["W1"], 3), (f"1% on one entry ({k})", planted([k]), 3),
             (f"1% on two entries ({k}, {k2})", planted([k, k2]), 1))
    for name, formula, reps in cases:
        claim = Claim("dW1", "W1", formula)
        runs = []

        def one():
            fd.STATS.clear()
            runs.append(_check(model, claim, opts))

        ts = timed(one, reps)
        r = runs[-1]
        v = r.oracles.get("finite_difference")
        oracle = statistics.median(x.oracles["finite_difference"].seconds for x in runs)
        out[name] = (statistics.median(ts), oracle, r.verdict, v.message if v else r.message,
                     v.detail if v else "", len(ts), v.method if v else "")
        log(f"  probes {name}: check {statistics.median(ts):.3f}s oracle {oracle:.3f}s {r.verdict} {v.message} "
            f"{v.detail} {dict(fd.STATS)}")
    return out, k, fwd


# --------------------------------------------------------------------------- report
def versions():
    import jax
    import matplotlib
    import numdifftools
    import scipy
    import torch

    cpu = ""
    try:
        cpu = [ln.split(":", 1)[1].strip() for ln in subprocess.run(["lscpu"], capture_output=True, text=True).stdout
               .splitlines() if ln.startswith("Model name")][0]
    except Exception:  # noqa: BLE001
        cpu = platform.processor()
    return {"machine": f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
            "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
            "jax": jax.__version__, "scipy": scipy.__version__, "numdifftools": numdifftools.__version__,
            "matplotlib": matplotlib.__version__}


def fmt_t(t):
    if t is None:
        return "-"
    return f"{t * 1e3:.3g} ms" if t < 1 else f"{t:.3g} s"


HEADLINE_TOOLS = [("gradcheck complex step (full)", "gradcheck complex step, every entry"),
                  ("gradcheck 16 probes", "gradcheck 16 probes"),
                  ("jax.test_util.check_grads (rev)", "jax.test_util.check_grads"),
                  ("torch.autograd.gradcheck (fast_mode)", "torch gradcheck fast_mode"),
                  ("torch.autograd.gradcheck (default)", "torch gradcheck default")]


def headline(results) -> list[str]:
    """The peers side by side with gradcheck's modes, per problem (median times of this run)."""
    lines = ["## Headline: gradcheck's modes and the peers, side by side", "",
             "| problem | " + " | ".join(label for _, label in HEADLINE_TOOLS) + " |",
             "|---|" + "---|" * len(HEADLINE_TOOLS)]
    for res in results:
        by = {r["tool"]: r for r in res["rows"]}
        cells = []
        for tool, _ in HEADLINE_TOOLS:
            r = by.get(tool)
            if r is None or not r["median"]:
                cells.append("not run" if r is not None else "not installed")
                continue
            missed = [k for k, v in r["caught"].items() if not v]
            cells.append(fmt_t(r["median"]) + (f" (missed: {', '.join(missed)})" if missed else ""))
        lines.append(f"| {res['problem'].name} (n = {res['problem'].n}) | " + " | ".join(cells) + " |")
    lines += ["", "What each gives for its time: *gradcheck complex step* computes every entry of the gradient",
              "(relative error ~1e-12) and so says which entries are wrong and how (the diagnoses and repairs",
              "rest on it); *gradcheck 16 probes* compares 16 random directional derivatives (exact to ~1e-15),",
              "localises the wrong entries and bounds the chance of missing one; *jax.test_util.check_grads*",
              "compares a few random directional derivatives by finite differences (relative error ~1e-7) and",
              "answers pass/fail; *torch fast_mode* compares one random projection of the Jacobian, pass/fail;",
              "*torch default* computes every entry by central differences, pass/fail. JAX's check_grads and",
              "torch's fast_mode are faster than gradcheck's full complex step on every problem here: they",
              "check a few directions, not every entry. Only gradcheck's probe mode is in their range (see",
              "the table for which is faster on which problem).", ""]
    return lines


def write_report(results, scale, probe, info, cmd, wall, path):
    lines = ["# Benchmarks: gradcheck's finite-difference oracle vs its peers", "",
             f"Produced by `{cmd}` in {wall:.0f} s (one process, one run).", "",
             "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info.items() if k != "repeats"]
    lines += [""] + headline(results)[:-1]
    lines += ["", f"The load is the load average (1, 5, 15 min) at the start of the run (2 cores; other processes "
              "may run on the machine, so times are noisy).", "", f"Repeats: {info.get('repeats', '')}", ""]
    lines += ["Every tool checks the same gradient (all four parameter arrays of the network) at the same float64",
              "point. *ratio* = median check time / one numpy forward pass of the loss measured in the same run.",
              "*accuracy* = the numerical gradient against the exact one (hand-derived backprop in extended",
              "precision, `np.longdouble`): the largest elementwise relative error over nonzero entries, and",
              "max|error| / max|gradient|; for tools that only compare directional derivatives, the relative error",
              "of that directional derivative. *caught* = the check reports the planted error (gradcheck: the",
              "verdict is not `correct`; scipy: `check_grad` > 1e-5 ||g||; numdifftools: max|claim - numerical| >",
              "1e-6 max|numerical|; torch and jax: their own pass/fail).", ""]
    for res in results:
        prob = res["problem"]
        lines += [f"## {prob.name}: n = {prob.n} parameters", "",
                  f"One numpy forward pass: {fmt_t(res['forward'])}. Planted errors: "
                  + "; ".join(f"{k} ({v})" for k, v in prob.planted_where.items()) + ".", "",
                  "| tool | median | min | repeats | ratio to 1 forward | accuracy | "
                  + " | ".join(prob.planted) + " | note |",
                  "|---|---|---|---|---|---|" + "---|" * len(prob.planted) + "---|"]
        for r in res["rows"]:
            acc = ", ".join(f"{k} {v:.2g}" for k, v in (r["acc"] or {}).items()) or "-"
            ratio = f"{r['median'] / res['forward']:.3g}" if r["median"] else "-"
            caught = " | ".join(("yes" if r["caught"][k] else "**no**") if k in r["caught"] else "-"
                                for k in prob.planted)
            lines.append(f"| {r['tool']} | {fmt_t(r['median'])} | {fmt_t(r['min'])} | {r['repeats']} | {ratio} | "
                         f"{acc} | {caught} | {r['note']} |")
        by = {r["tool"]: r for r in res["rows"]}
        cs = by["gradcheck complex step (full)"]
        tor = by["torch.autograd.gradcheck (default)"]
        ref = by["2n forward passes as one batch (reference)"]
        lines.append("")
        if tor["median"]:
            lines.append(f"- torch default / gradcheck complex step (median): **{tor['median'] / cs['median']:.1f}x** "
                         f"(min: {tor['min'] / cs['min']:.1f}x)")
        lines.append(f"- gradcheck complex step / 2n forwards as one batch: **{cs['median'] / ref['median']:.2f}x**; "
                     f"central+Richardson (4n evaluations): "
                     f"{by['gradcheck central+Richardson (full)']['median'] / ref['median']:.2f}x")
        lines.append("")
    lines += ["## Scaling: check time against the number of parameters (2-h-2 network, batch 8, all four claims)", "",
              "| n | h | " + " | ".join(GC_MODES) + " |", "|---|---|" + "---|" * len(GC_MODES)]
    for row in scale:
        lines.append(f"| {row['n']} | {row['h']} | " + " | ".join(fmt_t(row[m]) for m in GC_MODES) + " |")
    lines += ["", "![scaling](scaling.png)", ""]
    if probe:
        out, k, fwd = probe
        lines += ["## Random-direction probes on a 1e6-scale gradient", "",
                  "dL/dW1 of a 4-250000-2 network, batch 8 (W1 has 1,000,000 entries), 16 Rademacher probes "
                  "evaluated as one batched forward-mode (complex-step equivalent) pass, validated by one forward "
                  f"difference. One numpy forward pass of this model: {fmt_t(fwd)}. *check* = the whole "
                  "`check_claim` (point drawing, shape tracing, forward pass, formula, probes, verdict); "
                  "*oracle* = the finite-difference oracle alone (probes, validation, localisation). "
                  "Median over the repeats shown.", "",
                  "| claim | check | oracle | oracle / 1 forward | repeats | verdict | localised | detail |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, (t, o, verdict, msg, detail, reps, method) in out.items():
            lines.append(f"| {name} | {fmt_t(t)} | {fmt_t(o)} | {o / fwd:.3g} | {reps} | {verdict} | {msg or '-'} "
                         f"| {detail} |")
        lines += ["", f"Method: {method}.", "",
                  "A single wrong entry changes every Rademacher probe by exactly its error, so above the "
                  "tolerance (1e-6 of the largest directional derivative) it is never missed; several wrong "
                  "entries cancel in one probe with probability at most 1/2, so in all 16 with probability at most "
                  "2^-16 = 1.5e-5 (the stated bound). A failing check is localised by ceil(log2 n) = 20 0/1 "
                  "directions spelling the binary digits of one wrong index (one more batched pass), accepted only "
                  "if that entry alone explains all 16 probes; otherwise by bisection (one batched pass per level, "
                  "repeated until the entries found explain all 16 probes).", ""]
    if ENGINE_ERRORS:
        lines += ["## Engine errors met during the run", "",
                  "`check_claim` raised on these checks; the benchmark then judged the oracle's measurement",
                  "directly (`verdict.judge(finite_difference(...))`), which is what `check_claim` does for one oracle:", ""]
        lines += [f"- {e} ({ENGINE_ERRORS.count(e)} times)" for e in dict.fromkeys(ENGINE_ERRORS)]
    path.write_text("\n".join(lines) + "\n")


def plot(scale, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for mode in GC_MODES:
        pts = [(r["n"], r[mode]) for r in scale if r[mode] is not None]
        ax.loglog([p[0] for p in pts], [p[1] for p in pts], "o-", label=mode)
    ax.set_xlabel("number of parameters n")
    ax.set_ylabel("check time (s), all four claims")
    ax.set_title("gradcheck finite-difference oracle, 2-h-2 tanh/softmax, batch 8")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = ap.parse_args(argv)
    cfg = dict(gc_repeats=7, wide_repeats=1, peer_repeats=5, nd_repeats=1, nd_max_n=3000, nd_max_batch=8, slow_budget=120,
               scaling_h=[20, 200, 2000, 20000, 200000], central_max_n=2_000_000)
    if args.quick:
        cfg.update(gc_repeats=5, wide_repeats=1, peer_repeats=5, scaling_h=[20, 200, 2000, 20000, 200000],
                   central_max_n=200_000)
    t0 = time.perf_counter()
    log = lambda s: print(s, flush=True)  # noqa: E731
    info = versions()
    info["load"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    info["repeats"] = (f"each measurement repeats up to {cfg['gc_repeats']} times (gradcheck; {cfg['wide_repeats']} for the "
                       f"full-coordinate modes on the 64-4096-10 problem) or {cfg['peer_repeats']} times (peers), and stops "
                       f"once the repeats total more than {BUDGET[0]:.0f} s, so slow tools have fewer repeats (the *repeats* "
                       f"column); numdifftools runs {cfg['nd_repeats']} time(s). Checks a tool would need more than "
                       f"{cfg['slow_budget']} s for (e.g. > 600k forward passes) are not run and their time is given as an "
                       "estimate, marked *not run*.")
    problems = [make("2-500-2 tanh / softmax CE, batch 8", 8, 2, 500, 2, block=2),
                make("2-500-2 tanh / softmax CE, batch 256", 256, 2, 500, 2, block=2)]
    if args.quick:  # the headline problem only
        problems = problems[:1]
    else:
        problems.append(make("64-4096-10 tanh / softmax CE, batch 32", 32, 64, 4096, 10, block=8))
    results = [bench_problem(p, cfg, log) for p in problems]
    log("== scaling")
    scale = scaling(cfg, log)
    log("== probes at 1e6")
    probe = probe_1e6(log) if not args.quick else None
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    plot(scale, Path(args.out).with_name("scaling.png"))
    cmd = "python benchmarks/run.py" + (" --quick" if args.quick else "")
    write_report(results, scale, probe, info, cmd, time.perf_counter() - t0, Path(args.out))
    log(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
