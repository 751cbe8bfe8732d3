"""What a user waits for: `gradcheck check` of every example file and `gradcheck report`, cold and warm.

    python benchmarks/user_timings.py [--repo PATH] [--out benchmarks/USER_TIMINGS.md] [--only NAME ...]

Each command runs as a new process, exactly as a user types it (`python -m gradcheck ...`, all three
oracles, repairs on). *cold*: fresh, empty cache directories (`GRADCHECK_JAX_CACHE`,
`GRADCHECK_RESULT_CACHE`), so nothing compiled or checked by an earlier run is reused; *warm*: the
same command again with those caches filled (the results of the first run are reused: what a user
who runs the same command again waits for); *recheck*: the same command with `--no-cache`, so every
claim is checked again with JAX's compilation cache warm (what a user who edits the file waits for,
at worst).
Peak memory is the largest resident set of the process tree, sampled every 50 ms from /proc (the
sum over the command and its worker processes), and the largest single process (from `wait4`).
A run that exceeds ``--limit-gb`` of resident memory or ``--timeout`` seconds is killed and
reported as such. The goals of issue 11 are printed beside the figures; the load average of the
machine at the start and end is recorded, since other processes share its 2 cores.

``--repo`` runs another checkout (e.g. an export of an older commit) to get "before" figures.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOALS = {"check": (1.5, 4.0), "lstm": (None, 10.0), "report": (5.0, 10.0)}  # (warm s, cold s)
LSTM = "lstm_step.toml"
LSTM_MEMORY_GOAL_GB = 1.5
SAMPLE_SECONDS = 0.05  # memory sampling period


@dataclass
class Run:
    seconds: float
    tree_peak_mb: float
    process_peak_mb: float
    exit_code: int
    killed: str = ""
    cpu: float = 0.0  # user + system seconds of the command and the processes it waited for


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process, from one pass over /proc."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                out[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    return out


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants (one scan of /proc per sample: a scan per
    process, as an earlier version did, cost a good part of a core at 50 samples a second and slowed
    the 2-core runs it measured)."""
    parents = _parents()
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
        todo += children.get(p, [])
    return total / 1024


def run(cmd: list[str], cwd: Path, env: dict, timeout: float, limit_gb: float) -> Run:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    peak, killed, status, usage = 0.0, "", None, None
    while status is None:
        pid, st, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            status, usage = st, ru
            break
        peak = max(peak, _tree_rss_mb(proc.pid))
        elapsed = time.perf_counter() - t0
        if not killed and (peak > limit_gb * 1024 or elapsed > timeout):
            killed = f"killed at {peak / 1024:.1f} GB" if peak > limit_gb * 1024 else f"killed after {timeout:.0f} s"
            os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(SAMPLE_SECONDS)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, max(peak, usage.ru_maxrss / 1024), usage.ru_maxrss / 1024, proc.returncode, killed,
               usage.ru_utime + usage.ru_stime)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def fmt(r: Run) -> str:
    if r.killed:
        return f"> {r.seconds:.0f} s ({r.killed})"
    return f"{r.seconds:.1f} s (cpu {r.cpu:.1f} s)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=HERE.parent, help="checkout to time (default: this one)")
    ap.add_argument("--out", type=Path, default=HERE / "USER_TIMINGS.md")
    ap.add_argument("--only", nargs="*", default=None, help="example file names (and/or 'report') to time")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--limit-gb", type=float, default=4.0)
    ap.add_argument("--label", default="", help="a label for the results file (e.g. the commit)")
    ap.add_argument("--modes", nargs="+", default=["cold", "warm", "recheck"], choices=["cold", "warm", "recheck"],
                    help="which runs of each command (recheck passes --no-cache, which versions before the results "
                         "cache do not know: time them with --modes cold warm)")
    args = ap.parse_args(argv)
    repo = args.repo.resolve()
    examples = sorted(p.name for p in (repo / "examples").iterdir() if p.suffix in (".toml", ".md"))
    if args.only:
        examples = [e for e in examples if e in args.only]
    do_report = args.only is None or "report" in args.only
    rows, load_start = [], load()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True,
                            text=True, check=False).stdout.strip() or args.label
    with tempfile.TemporaryDirectory(prefix="gradcheck-timings-") as tmp:
        tmp = Path(tmp)
        for i, name in enumerate(examples + (["report"] if do_report else [])):
            cache = tmp / f"cache-{i}"
            env = {**os.environ, "GRADCHECK_JAX_CACHE": str(cache / "jax"), "GRADCHECK_RESULT_CACHE": str(cache / "results"),
                   "PYTHONDONTWRITEBYTECODE": "1"}
            if name == "report":
                cmd = [sys.executable, "-m", "gradcheck", "report", "--quiet"]
            else:
                cmd = [sys.executable, "-m", "gradcheck", "check", f"examples/{name}", "--quiet"]
            results = {}
            for mode in args.modes:
                extra = ["--out", str(tmp / f"report-{mode}")] if name == "report" else []
                extra += ["--no-cache"] if mode == "recheck" else []
                r = run(cmd + extra, repo, env, args.timeout, args.limit_gb)
                results[mode] = r
                print(f"{name:<32} {mode}: {fmt(r)}, peak {r.tree_peak_mb:.0f} MB, exit {r.exit_code}, "
                      f"load {load()}",
                      flush=True)
                if r.killed:
                    break
            same = ""
            if name == "report" and not results["cold"].killed and "warm" in results:
                a, b, c = tmp / "report-cold", tmp / "report-warm", tmp / "report-recheck"
                files = ["REPORT.md", "report.json"]
                same_runs = all(filecmp.cmp(a / f, b / f, shallow=False) and (not c.exists() or filecmp.cmp(
                    a / f, c / f, shallow=False)) for f in files)
                same_repo = all(filecmp.cmp(a / f, repo / "reports" / f, shallow=False) for f in files)
                same = f"cold == warm == recheck: {'yes' if same_runs else 'NO'}; == committed reports/: " \
                       f"{'yes' if same_repo else 'NO'}"
            rows.append((name, results, same))
            shutil.rmtree(cache, ignore_errors=True)
    write(args.out, rows, repo, commit, load_start, load())
    return 0


def _goal(name: str) -> str:
    if name == "report":
        return "≤ 10 s cold, ≤ 5 s warm"
    if name == LSTM:
        return f"≤ 10 s cold, ≤ {LSTM_MEMORY_GOAL_GB} GB"
    return "≤ 4 s cold, ≤ 1.5 s warm"


def _met(name: str, res: dict) -> str:
    """Which of the issue's goals this row meets (cold time, warm time, memory)."""
    cold, warm = res["cold"], res.get("warm")
    kind = "report" if name == "report" else "lstm" if name == LSTM else "check"
    warm_goal, cold_goal = GOALS[kind]
    marks = [f"cold {'yes' if not cold.killed and cold.seconds <= cold_goal else 'NO'}"]
    if warm_goal is not None:
        marks.append(f"warm {'yes' if warm and not warm.killed and warm.seconds <= warm_goal else 'NO'}")
    peaks = [r.tree_peak_mb for r in res.values()]
    limit_mb = (LSTM_MEMORY_GOAL_GB if kind == "lstm" else 2.0) * 1024
    marks.append(f"memory {'yes' if max(peaks) <= limit_mb else 'NO'}")
    return ", ".join(marks)


def write(out: Path, rows, repo: Path, commit: str, load_start: str, load_end: str) -> None:
    lines = ["# What a user waits for: `gradcheck check` and `gradcheck report`", "",
             f"Produced by `python benchmarks/user_timings.py` on commit `{commit}`.", "",
             "| | |", "|---|---|",
             f"| machine | {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"{platform.system()} {platform.release()} |",
             f"| python | {platform.python_version()} |",
             f"| load average (1, 5, 15 min) | start {load_start}; end {load_end} |", "",
             "Each command is a new process, as a user runs it: all three oracles, repairs on. *cold*: empty "
             "cache directories (JAX's compilations and gradcheck's results); *warm*: the same command again, "
             "which reuses the first run's results (`gradcheck.result_cache`); *recheck*: the same command with "
             "`--no-cache`, so every claim is checked again, with JAX's compilation cache warm (what a user who "
             "edits a file waits for, at worst). Each cell: wall time, and in brackets the CPU "
             "time (user + system) of the command and the worker processes it waited for, which depends less "
             "on what else runs on the machine (the report's pool workers are not waited for, so their CPU time "
             "is missing). *peak*: the largest resident memory of the command and its worker processes "
             "together (sampled every 50 ms; shared pages of forked workers are counted once per process, so "
             "this over-counts). A command over the memory or time limit is killed. Goals (issue 11): "
             "memory ≤ 2 GB for every command (≤ 1.5 GB for the LSTM step).", "",
             "| command | cold | warm | recheck | peak (cold / warm / recheck) | goal | met | exit | note |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, res, same in rows:
        cmd = "`gradcheck report`" if name == "report" else f"`gradcheck check examples/{name}`"
        cells = [fmt(res[m]) if m in res else "-" for m in ("cold", "warm", "recheck")]
        peaks = " / ".join(f"{res[m].tree_peak_mb:.0f}" if m in res else "-" for m in ("cold", "warm", "recheck"))
        codes = "/".join(str(res[m].exit_code) if m in res else "-" for m in ("cold", "warm", "recheck"))
        lines.append(f"| {cmd} | {' | '.join(cells)} | {peaks} MB | {_goal(name)} | {_met(name, res)} | {codes} | "
                     f"{same} |")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    sys.exit(main())
