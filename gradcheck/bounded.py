"""Work under a time and a memory budget that really fire: jobs run in a forked worker process.

Why a process: SymPy can spend minutes, or tens of gigabytes, inside one call (``factorint`` on
``X ** X``, the nested expressions of a deep MLP), and a timer signal is not delivered while C code
runs and may fire inside an unrelated callback. A child process whose address space is capped
(``RLIMIT_AS``) and which its parent kills when its time is up is always stopped, and the parent
goes on with the next job.

The worker is forked from the caller, so it inherits the models and claims (their formulas are
functions and cannot be pickled): a job names them by :func:`register`-ed id. One persistent worker
runs the jobs in submission order and keeps its own caches from job to job (SymPy set-ups per
model); a job that names an object registered after that worker was forked runs in a one-shot
fork. A worker that hits a budget is killed and replaced by a new fork for the jobs still queued.

Budgets are per job: ``seconds`` from the moment the worker starts it (its ``time.monotonic()``,
the same clock in every process), ``memory_mb`` of address space beyond what the worker had when
it was forked. Neither is used to make a result depend on the clock: callers keep deterministic
size bounds for what they report, and a budget that is hit is reported as such.
"""

from __future__ import annotations

import atexit
import itertools
import os
import signal
import time
import warnings
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from collections.abc import Callable
from typing import Any

from gradcheck.interrupts import sigint_held

__all__ = ["Budget", "Outcome", "available", "register", "run", "shutdown", "submit", "wait"]


@dataclass(frozen=True)
class Budget:
    seconds: float
    memory_mb: int = 1024


@dataclass(frozen=True)
class Outcome:
    """A job's value, or why there is none: ``error`` starts with ``gave up after``, ``ran out of
    memory`` or ``failed`` (the exception, or the signal that ended the worker)."""

    value: Any = None
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class _Ref:
    id: int


_OBJECTS: dict[int, Any] = {}  # id -> object, kept alive so that an id is never reused


def register(*objects: Any) -> None:
    """Make ``objects`` nameable in jobs (a worker forked from now on inherits them)."""
    for obj in objects:
        _OBJECTS[id(obj)] = obj


def _encode(value: Any) -> Any:
    if id(value) in _OBJECTS:
        return _Ref(id(value))
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(_encode(v) for v in value)
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, _Ref):
        return _OBJECTS[value.id]
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(_decode(v) for v in value)
    return value


def _refs(value: Any) -> set[int]:
    if isinstance(value, _Ref):
        return {value.id}
    if isinstance(value, tuple):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


def _address_space() -> int:
    """This process's virtual memory size in bytes (VmSize)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0  # pragma: no cover - always present on Linux


def _cap_memory(memory_mb: int) -> None:
    import resource  # POSIX only, as os.fork

    limit = _address_space() + memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _run_job(conn: Connection, job: tuple) -> bool:
    """Run one job in the worker; False when the worker must stop (its memory is exhausted)."""
    job_id, fn, args, kwargs = job
    conn.send(("start", job_id, time.monotonic()))
    t0 = time.monotonic()
    try:
        value = _decode(fn)(*_decode(args), **{k: _decode(v) for k, v in kwargs.items()})
        message = ("done", job_id, value, None, time.monotonic() - t0)
        try:
            conn.send(message)
        except Exception as exc:  # noqa: BLE001 - a value that cannot be pickled is reported
            conn.send(("done", job_id, None, f"failed: the result cannot be sent ({type(exc).__name__}: {exc})",
                       time.monotonic() - t0))
        return True
    except MemoryError:
        conn.send(("done", job_id, None, "memory", time.monotonic() - t0))
        return False
    except RecursionError as exc:
        conn.send(("done", job_id, None, f"failed: RecursionError: {exc}", time.monotonic() - t0))
        return True
    except Exception as exc:  # noqa: BLE001 - any failure of the job is its outcome
        conn.send(("done", job_id, None, f"failed: {type(exc).__name__}: {exc}", time.monotonic() - t0))
        return True


def _forget_parent_deadlines() -> None:  # pragma: no cover - runs in the child
    """The caller's wall-clock budgets (:mod:`gradcheck.limits`, copied by the fork, whose timer is
    not) are not the worker's: its jobs have their own budget, kept by the caller."""
    from gradcheck import limits

    limits._deadlines.clear()
    limits._oracle_budget[0] = None


def _serve(conn: Connection, memory_mb: int) -> None:  # pragma: no cover - runs in the child
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C in a terminal reaches the worker too
        _forget_parent_deadlines()
        _cap_memory(memory_mb)
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                break
            if job is None or not _run_job(conn, job):
                break
    finally:
        os._exit(0)


class _Worker:
    """One forked worker: the jobs sent to it, their start times and results."""

    def __init__(self, memory_mb: int, one_shot: bool = False):
        parent, child = Pipe()
        self.known = frozenset(_OBJECTS)
        self.memory_mb, self.one_shot = memory_mb, one_shot
        with warnings.catch_warnings():  # JAX warns of fork: the worker never calls into JAX
            warnings.filterwarnings("ignore", message=r".*os\.fork\(\)", category=RuntimeWarning)
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child
                try:  # never return into the caller's code: an exception here (Ctrl-C) ends the child
                    parent.close()
                    _serve(child, memory_mb)
                finally:
                    os._exit(0)
        child.close()
        self.pid, self.conn = pid, parent
        self.queued: list[int] = []  # job ids sent and not finished, in order
        self.started: dict[int, float] = {}

    def alive(self) -> bool:
        return self.pid is not None

    def kill(self) -> str:
        """Stop the worker; how it ended (for a worker that died on its own: the signal)."""
        how = ""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, status = os.waitpid(self.pid, 0)
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) != signal.SIGKILL:
                how = f"signal {os.WTERMSIG(status)}"
            self.pid = None
            self.conn.close()
        return how


@dataclass
class _Job:
    fn: Any
    args: tuple
    kwargs: dict
    budget: Budget
    group: Any = None
    worker: _Worker | None = None


_JOBS: dict[int, _Job] = {}
_RESULTS: dict[int, Outcome] = {}
_COUNTER = itertools.count(1)
_PERSISTENT: list[_Worker] = []  # at most one
_STOPPED_GROUPS: dict[Any, str] = {}  # group -> the budget its first job ran out of


def _worker_for(job: _Job) -> _Worker:
    needed = _refs(job.fn) | _refs(job.args) | set().union(*(_refs(v) for v in job.kwargs.values()))
    live = [w for w in _PERSISTENT if w.alive() and w.memory_mb == job.budget.memory_mb]
    if live and needed <= live[0].known:
        return live[0]
    if not live or not live[0].queued:  # replace an idle worker by one that knows every object
        for w in _PERSISTENT:
            w.kill()
        _PERSISTENT[:] = [_Worker(job.budget.memory_mb)]
        return _PERSISTENT[0]
    return _Worker(job.budget.memory_mb, one_shot=True)


def _send(job_id: int) -> None:
    job = _JOBS[job_id]
    with sigint_held():  # a forked worker is a recorded worker, stopped by shutdown (gradcheck.interrupts)
        job.worker = _worker_for(job)
        job.worker.queued.append(job_id)
    job.worker.conn.send((job_id, job.fn, job.args, job.kwargs))
    if job.worker.one_shot:
        job.worker.conn.send(None)


def submit(fn: Callable, *args: Any, budget: Budget, group: Any = None, **kwargs: Any) -> int:
    """Queue ``fn(*args, **kwargs)`` in a worker; the job id for :func:`wait`. Arguments that are
    registered objects are passed by reference, others are pickled.

    Jobs of one ``group`` (e.g. one model and quantity) share their fate: once one runs out of time
    or memory, the others are not run and get the same outcome, so a hopeless computation costs one
    budget, not one per job.
    """
    job_id = next(_COUNTER)
    if group is not None and group in _STOPPED_GROUPS:
        _RESULTS[job_id] = Outcome(None, _STOPPED_GROUPS[group])
        return job_id
    _JOBS[job_id] = _Job(_encode(fn), _encode(args), {k: _encode(v) for k, v in kwargs.items()}, budget, group)
    _send(job_id)
    return job_id


def _finish(job_id: int, outcome: Outcome) -> None:
    _RESULTS[job_id] = outcome
    job = _JOBS.pop(job_id, None)
    if job is not None and job.worker is not None and job_id in job.worker.queued:
        job.worker.queued.remove(job_id)
        if job.worker.one_shot and not job.worker.queued:
            job.worker.kill()


def _fail_running(worker: _Worker, job_id: int, error: str, seconds: float) -> None:
    """The worker's current job ran out: kill the worker, resend the jobs queued behind it."""
    worker.kill()
    rest = [j for j in worker.queued if j != job_id]
    worker.queued.clear()
    group = _JOBS[job_id].group if job_id in _JOBS else None
    _finish(job_id, Outcome(None, error, seconds))
    if group is not None and not error.startswith("failed"):
        _STOPPED_GROUPS[group] = f"{error} (on an earlier job of the same computation)"
    if worker in _PERSISTENT:
        _PERSISTENT.remove(worker)
    for j in rest:
        if group is not None and _JOBS[j].group == group:
            _finish(j, Outcome(None, _STOPPED_GROUPS[group]))
        else:
            _send(j)


def _receive(worker: _Worker, timeout: float) -> None:
    """Read one message from ``worker`` (or none within ``timeout``); enforce its running job's budget."""
    running = worker.queued[0] if worker.queued else None
    try:
        # messages already sent come first: a job whose result waits in the pipe has finished in time,
        # however long this process was busy elsewhere
        ready = worker.conn.poll(0)
        if not ready and running is not None and running in worker.started:
            budget = _JOBS[running].budget.seconds
            left = worker.started[running] + budget - time.monotonic()
            if left <= 0:
                _fail_running(worker, running, f"gave up after {budget:g} s", budget)
                return
            timeout = min(timeout, left)
        ready = ready or worker.conn.poll(max(timeout, 0.0))
        message = worker.conn.recv() if ready else None
    except (EOFError, OSError):
        how = worker.kill()
        if running is not None:
            _fail_running(worker, running, f"failed: the worker process ended ({how or 'no result'})", 0.0)
        return
    if message is None:
        return
    if message[0] == "start":
        worker.started[message[1]] = message[2]
        return
    _, job_id, value, error, seconds = message
    memory_mb = _JOBS[job_id].budget.memory_mb if job_id in _JOBS else worker.memory_mb
    if error == "memory":
        _fail_running(worker, job_id, f"ran out of memory ({memory_mb} MB)", seconds)
        return
    _finish(job_id, Outcome(value, error, seconds))


def wait(job_id: int) -> Outcome:
    """The outcome of a submitted job (waits for it, and for the jobs queued before it, each within
    its own budget)."""
    while job_id not in _RESULTS:
        job = _JOBS[job_id]
        worker = job.worker
        if worker is None or not worker.alive():
            _send(job_id)
            continue
        _receive(worker, 0.5)
    return _RESULTS.pop(job_id)


def available() -> bool:
    """Can jobs run in forked workers here (POSIX)? Elsewhere callers run them in-process, unbounded."""
    return hasattr(os, "fork") and os.path.exists("/proc/self/status")


def run(fn: Callable, *args: Any, budget: Budget, **kwargs: Any) -> Outcome:
    """``fn(*args, **kwargs)`` in a worker, within ``budget``."""
    return wait(submit(fn, *args, budget=budget, **kwargs))


def shutdown() -> None:
    """Stop every worker (queued jobs are dropped) and forget the groups that ran out."""
    for w in _PERSISTENT:
        w.kill()
    _PERSISTENT.clear()
    for job in _JOBS.values():
        if job.worker is not None:
            job.worker.kill()
    _JOBS.clear()
    _RESULTS.clear()
    _STOPPED_GROUPS.clear()


atexit.register(shutdown)
