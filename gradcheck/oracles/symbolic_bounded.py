"""The symbolic oracle under a time and memory budget: it runs in a :mod:`gradcheck.bounded` worker.

A claim whose SymPy work does not finish within ``LIMIT`` (``X ** X`` sends SymPy into ``factorint``;
a deep MLP builds expressions that grow without end) gets a measurement that says so, ``SymPy: gave
up after 10 s``, and is judged by the other oracles; the claims after it go on in a new worker.

:func:`prefetch` queues the claims of a file or document in the worker before the other oracles
start, so that SymPy runs on one core while finite differences and JAX run on the other.
"""

from __future__ import annotations

import time
from typing import Mapping

from gradcheck import bounded
from gradcheck.claim import Claim
from gradcheck.model import Model
from gradcheck.oracles.common import Measurement, ShapeClash

# A safety net, not a bound the results depend on: the claims of the four documents and of
# examples/ take at most a few seconds of SymPy each on a quiet machine; the deterministic bounds are
# in oracles/symbolic.py. `gradcheck check` uses a shorter one (--sympy-budget, default 10 s).
LIMIT = bounded.Budget(seconds=60.0, memory_mb=1024)

_PREFETCHED: dict[tuple, int] = {}


def _key(model: Model, claim: Claim, uses: Mapping, seed: int, options: Mapping) -> tuple:
    return (id(model), id(claim), tuple(sorted(uses.items())), seed, repr(sorted(options.items())))


def _measure(model: Model, claim: Claim, uses: Mapping, seed: int, options: Mapping) -> Measurement:
    """The symbolic measurement; an exception becomes its ``error``, as in :func:`gradcheck.check._run`."""
    from gradcheck.oracles.symbolic import symbolic, symbolic_dims

    t0 = time.perf_counter()
    try:
        return symbolic(model, claim, [], dict(uses), seed=seed, **options)
    except MemoryError:
        raise  # the worker reports its budget
    except ShapeClash as exc:
        return Measurement("symbolic", "", symbolic_dims(model), error=f"shape error: {exc}",
                           seconds=time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - an oracle that cannot run is reported, never dropped
        return Measurement("symbolic", "", symbolic_dims(model), error=f"{type(exc).__name__}: {exc}",
                           seconds=time.perf_counter() - t0)


def _submit(model: Model, claim: Claim, uses: Mapping, seed: int, options: Mapping,
            limit: bounded.Budget) -> int:
    bounded.register(model, claim)
    return bounded.submit(_measure, model, claim, dict(uses), seed, dict(options), budget=limit,
                          group=("symbolic", id(model), claim.wrt, seed))


def prefetch(items, *, seed: int = 0, limit: bounded.Budget | None = LIMIT, **options) -> None:
    """Queue ``(model, claim, uses)`` items in the worker now; :func:`symbolic_bounded` collects them
    (given the same ``seed`` and ``options``). Nothing to queue with ``limit=None`` (in-process SymPy)."""
    items = list(items)
    if limit is None or not bounded.available():
        return
    for model, claim, _ in items:  # registered before the worker is forked, so it knows them all
        bounded.register(model, claim)
    for model, claim, uses in items:
        key = _key(model, claim, uses, seed, options)
        if key not in _PREFETCHED:
            _PREFETCHED[key] = _submit(model, claim, uses, seed, options, limit)


def symbolic_bounded(model: Model, claim: Claim, uses: Mapping, *, seed: int = 0,
                     limit: bounded.Budget | None = LIMIT, **options) -> Measurement:
    """The symbolic measurement of ``claim``, or one whose ``error`` says which budget ran out.

    ``limit=None`` runs SymPy in this process, without a budget.
    """
    if limit is None or not bounded.available():  # no fork (Windows): SymPy in this process, unbounded
        return _measure(model, claim, uses, seed, options)
    key = _key(model, claim, uses, seed, options)
    job = _PREFETCHED.pop(key, None)
    if job is None:
        job = _submit(model, claim, uses, seed, options, limit)
    outcome = bounded.wait(job)
    if outcome.error is None:
        return outcome.value
    from gradcheck.oracles.symbolic import symbolic_dims

    return Measurement("symbolic", "", symbolic_dims(model), error=outcome.error, seconds=outcome.seconds)
