"""Run the checks of a report (in a process pool) and write REPORT.md, report.json and figures/.

Workers receive ``(doc_id, claim_index)`` tasks; each worker finds the document by id (the
``derivations`` registry, or an extra module named with ``--module``), checks the claim and sends
back a picklable :class:`ClaimSummary`. Results are put back in document order, so the output does
not depend on the number of workers or on which claim finished first.
"""

from __future__ import annotations

import importlib
import math
import multiprocessing
import contextlib
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from gradcheck.interrupts import sigint_held
from gradcheck.outputs import write_together
from gradcheck.report.summary import ClaimSummary, DocInfo, doc_info, failed_summary, summarize

SEED = 0


class ReportError(Exception):
    """A usage or input error (unknown document id, unimportable module): exit code 2."""


@dataclass(frozen=True)
class Block:
    """Consecutive claims of one document, checked by one worker (the engine caches per model: JAX
    compilations and SymPy set-ups are shared by the claims of a block)."""

    doc_id: str
    indices: tuple[int, ...]
    oracles: tuple[str, ...]
    modules: tuple[str, ...]


# ----------------------------------------------------------------------------------- finding documents
_CACHE: dict[tuple[str, ...], dict[str, Any]] = {}


def available_documents(modules: Sequence[str] = ()) -> dict[str, Any]:
    """Document id -> Derivation: the ``derivations`` registry, then ``DERIVATION`` of each extra module."""
    key = tuple(modules)
    if key in _CACHE:
        return _CACHE[key]
    from gradcheck.claim import Derivation

    docs: dict[str, Any] = {}
    try:
        import derivations

        for d in derivations.DOCUMENTS:
            docs[d.id] = d
    except ModuleNotFoundError as exc:  # run outside the project: its own documents are not there
        if exc.name != "derivations":
            raise ReportError(f"cannot import the derivations package: {exc}") from exc
    except Exception as exc:  # noqa: BLE001
        raise ReportError(f"cannot import the derivations package: {type(exc).__name__}: {exc}") from exc
    for name in modules:
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001
            raise ReportError(f"cannot import module {name!r}: {type(exc).__name__}: {exc}") from exc
        found = getattr(module, "DERIVATION", None)
        extra = list(getattr(module, "DERIVATIONS", ()) or ())
        if isinstance(found, Derivation):
            extra.insert(0, found)
        if not extra:
            raise ReportError(f"module {name!r} defines no DERIVATION (a gradcheck.Derivation)")
        for d in extra:
            docs[d.id] = d
    _CACHE[key] = docs
    return docs


def select_documents(ids: Sequence[str] | None, modules: Sequence[str] = ()) -> list[Any]:
    docs = available_documents(modules)
    if not ids:
        return list(docs.values())
    unknown = [i for i in ids if i not in docs]
    if unknown:
        known = ", ".join(docs) or "(none)"
        raise ReportError(f"unknown document id {', '.join(map(repr, unknown))}; known documents: {known}")
    return [docs[i] for i in dict.fromkeys(ids)]


# The repair search for wrong claims is bounded by its candidate cap, not the clock (a budget far above
# the ~2 s the cap takes), so the report does not depend on the machine's speed.
REPAIR = {"budget": 120.0, "max_candidates": 2000}
# SymPy's time budget per claim: far above the few seconds any claim of the documents takes, so it
# never decides what the report says (it only stops a runaway computation, and says so).
def _check_options() -> dict:
    from gradcheck.bounded import Budget

    return {"symbolic": {"limit": Budget(seconds=120.0, memory_mb=1024)}}


# ------------------------------------------------------------------------------------------ one claim
def check_document(doc_id: str, claim_index: int, oracles: Sequence[str] | None = None,
                   modules: Sequence[str] = ()) -> ClaimSummary:
    """Check claim ``claim_index`` of document ``doc_id``; a picklable summary (never raises)."""
    from gradcheck.check import check_claim
    from gradcheck.oracles import ORACLES, repair_oracles

    doc = available_documents(modules)[doc_id]
    claim = doc.claims[claim_index]
    try:
        result = check_claim(doc, claim, oracles=tuple(oracles or ORACLES), seed=SEED, options=_check_options(),
                             repair={**REPAIR, "oracles": repair_oracles(oracles),
                                     "check_options": _check_options()})
        return with_figure(summarize(result, claim_index, doc_id))
    except Exception as exc:  # noqa: BLE001 - a check that raises is reported, not dropped
        try:
            model = doc.model_of(claim)
        except Exception:  # noqa: BLE001
            model = doc.model
        return failed_summary(claim, model, doc_id, claim_index,
                              f"the check raised {type(exc).__name__}: {exc}")


def with_figure(s: ClaimSummary) -> ClaimSummary:
    """The summary with its heatmaps PNG (drawn here, in the worker that checked the claim, while the
    other workers still check theirs; never fatal: the report draws a missing figure itself)."""
    from dataclasses import replace

    from gradcheck.report.figures import figure_png

    try:
        png = figure_png(s)
    except Exception:  # noqa: BLE001
        return s
    return replace(s, figure=png) if png is not None else s


_PROGRESS: Any = None  # in a worker: the queue that carries per-claim progress to the parent


def _init_worker(queue: Any = None) -> None:
    """Workers ignore Ctrl-C: the parent alone handles it and stops them (see :func:`stop_pool`)."""
    global _PROGRESS
    _PROGRESS = queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _light(s: ClaimSummary) -> ClaimSummary:
    """The summary without arrays (for progress messages)."""
    from dataclasses import replace

    return replace(s, claimed=None, truth=None, point=None, oracles={}, figure=None)


def _prepare(doc_id: str, indices: Sequence[int], oracles: Sequence[str] | None, modules: Sequence[str]) -> None:
    """Queue the claims' SymPy work in its bounded worker and plan JAX's compilation (never fatal)."""
    from gradcheck.check import prepare
    from gradcheck.oracles import ORACLES

    doc = available_documents(modules)[doc_id]
    try:
        prepare(doc, [doc.claims[k] for k in indices], oracles=tuple(oracles or ORACLES), seed=SEED,
                options=_check_options())
    except Exception:  # noqa: BLE001 - each claim is then checked (and its failure reported) on its own
        pass


def _work(block: Block) -> list[ClaimSummary]:
    _prepare(block.doc_id, block.indices, block.oracles, block.modules)
    out = []
    for k in block.indices:
        s = check_document(block.doc_id, k, block.oracles, block.modules)
        out.append(s)
        if _PROGRESS is not None:
            _PROGRESS.put(_light(s))
    return out


def make_blocks(docs: Sequence[Any], jobs: int, oracles: Sequence[str] = (), modules: Sequence[str] = (),
                todo: Mapping[str, Sequence[int]] | None = None) -> list[Block]:
    """Each document's claims (those in ``todo[doc.id]``, default all) cut into consecutive blocks of
    at most about ``total / jobs`` claims (at least 4): a document that fits in one worker's share is
    one block, so that no model is compiled by two workers (JAX's compilations are most of a cold
    report: finer blocks, 3 per worker, measured 12.8 s against 11.3 s). Largest blocks first."""
    todo = {d.id: list(range(len(d.claims))) for d in docs} if todo is None else todo
    total = sum(len(todo.get(d.id, ())) for d in docs)
    target = max(4, math.ceil(total / max(1, jobs)))
    blocks = []
    for d in docs:
        indices = list(todo.get(d.id, ()))
        n = len(indices)
        if n == 0:
            continue
        pieces = math.ceil(n / target)
        bounds = [round(i * n / pieces) for i in range(pieces + 1)]
        blocks += [Block(d.id, tuple(indices[lo:hi]), tuple(oracles), tuple(modules))
                   for lo, hi in zip(bounds, bounds[1:]) if hi > lo]
    return sorted(blocks, key=lambda b: -len(b.indices))  # stable: document order among equals


def _context() -> multiprocessing.context.BaseContext:
    """fork when nothing multithreaded (JAX) is loaded in the parent, else spawn."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and "jax" not in sys.modules:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def make_pool(jobs: int, queue: Any = None):
    return _context().Pool(jobs, initializer=_init_worker, initargs=(queue,))


def stop_pool(pool: Any, grace: float = 5.0) -> None:
    """Stop a pool after an interrupt without hanging: ``terminate`` runs in a helper thread; workers
    still alive after ``grace`` seconds are killed (SIGKILL, by their own process objects) and reaped.

    ``Pool.terminate`` alone can block for ever when a worker died holding the task queue's lock."""
    stopper = threading.Thread(target=pool.terminate, daemon=True)
    stopper.start()
    stopper.join(grace)
    workers = list(getattr(pool, "_pool", ()))
    for p in workers:
        if p.is_alive():
            p.kill()
    for p in workers:
        p.join(grace)
    stopper.join(grace)


@contextlib.contextmanager
def pool_of(jobs: int, queue: Any = None):
    """A worker pool closed normally, or stopped by :func:`stop_pool` on any exception or interrupt."""
    pool = None
    try:
        with sigint_held():  # no Ctrl-C lost in a fork hook, no worker forked and not stopped
            pool = make_pool(jobs, queue)
        yield pool
    except BaseException:
        if pool is not None:
            stop_pool(pool)
        raise
    pool.close()
    pool.join()


# ------------------------------------------------------------------------------------ results cache
def source_files(modules: Sequence[str] = ()) -> list[Path]:
    """The files the documents are read from: the ``derivations`` package and each extra module
    (its package directory when it is a package)."""
    import importlib.util

    paths = []
    for name in ("derivations", *modules):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
            continue
        origin = Path(spec.origin)
        paths.append(origin.parent if spec.submodule_search_locations else origin)
    return paths


def results_cache(oracles: Sequence[str] | None, modules: Sequence[str] = (), *, enabled: bool = True):
    """The cache of claim summaries (:mod:`gradcheck.result_cache`): keyed by gradcheck's code, the
    documents' source files, the oracles and every setting of the checks."""
    from gradcheck.oracles import ORACLES
    from gradcheck.result_cache import ResultCache, files_fingerprint

    if not enabled:
        return ResultCache("", None)
    return ResultCache.for_run("report", files_fingerprint(source_files(modules)), tuple(modules),
                               tuple(oracles or ORACLES), SEED, sorted(REPAIR.items()), repr(_check_options()))


def _kept(docs: Sequence[Any], cache: Any) -> dict[tuple[str, int], ClaimSummary]:
    """The summaries an earlier run with the same code, documents and settings left in ``cache``."""
    kept = {}
    for d in docs:
        for k, claim in enumerate(d.claims):
            s = cache.get((d.id, k, claim.name))
            if s is not None:
                kept[(d.id, k)] = s
    return kept


def _keep(cache: Any, docs: Sequence[Any], done: Mapping[tuple[str, int], ClaimSummary]) -> None:
    from gradcheck.result_cache import depends_on_clock

    names = {(d.id, k): c.name for d in docs for k, c in enumerate(d.claims)}
    for (doc_id, k), s in done.items():
        if not depends_on_clock(s):
            cache.put((doc_id, k, names[(doc_id, k)]), s)


def run_checks(docs: Sequence[Any], *, oracles: Sequence[str] | None = None, jobs: int | None = None,
               modules: Sequence[str] = (), progress: Callable[[int, int, ClaimSummary], None] | None = None,
               pool: Any = None, queue: Any = None, cache: Any = None) -> list[tuple[DocInfo, list[ClaimSummary]]]:
    """Check every claim of ``docs``; ``[(DocInfo, [ClaimSummary, ...]), ...]`` in document order.

    ``pool``: an open pool (from :func:`make_pool`, with ``queue`` for progress) to use; else a pool of
    ``jobs`` processes is made, or with ``jobs=1`` the claims are checked in this process.
    ``cache``: a :class:`~gradcheck.result_cache.ResultCache` (see :func:`results_cache`): the claims
    it holds are not checked again (no pool is made when it holds them all), the others are checked
    and kept in it.
    """
    total = sum(len(d.claims) for d in docs)
    done = _kept(docs, cache) if cache is not None and cache.enabled else {}
    if progress:
        for n, key in enumerate(done, 1):
            progress(n, total, done[key])
    todo = {d.id: [k for k in range(len(d.claims)) if (d.id, k) not in done] for d in docs}
    left = sum(len(v) for v in todo.values())
    if left:
        step = (lambda n, _, s: progress(len(done) + n, total, s)) if progress else None
        fresh = _check_claims(docs, todo, left, oracles=oracles, jobs=jobs, modules=modules, progress=step,
                              pool=pool, queue=queue)
        if cache is not None:
            _keep(cache, docs, fresh)
        done.update(fresh)
    return [(doc_info(d), [done[(d.id, k)] for k in range(len(d.claims))]) for d in docs]


def _check_claims(docs: Sequence[Any], todo: Mapping[str, Sequence[int]], total: int, *, oracles, jobs, modules,
                  progress, pool, queue) -> dict[tuple[str, int], ClaimSummary]:
    """Check the claims ``todo[doc.id]`` of each document: ``{(doc id, index): summary}``."""
    jobs = max(1, min(jobs or default_jobs(), total or 1))
    done: dict[tuple[str, int], ClaimSummary] = {}
    if pool is None and jobs == 1:
        n = 0
        for d in docs:
            if not todo.get(d.id):
                continue
            _prepare(d.id, todo[d.id], oracles, modules)
            for k in todo[d.id]:
                s = check_document(d.id, k, oracles, modules)
                done[(d.id, k)] = s
                n += 1
                if progress:
                    progress(n, total, s)
    elif pool is None:
        queue = _context().Queue() if progress else None
        with pool_of(jobs, queue) as own:
            return _check_claims(docs, todo, total, oracles=oracles, jobs=jobs, modules=modules, progress=progress,
                                 pool=own, queue=queue)
    else:
        blocks = make_blocks(docs, getattr(pool, "_processes", jobs) or jobs, oracles or (), modules, todo)
        listener = None
        if progress and queue is not None:
            def listen():
                for n in range(1, total + 1):
                    s = queue.get()
                    if s is None:
                        return
                    progress(n, total, s)

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
        try:
            for summaries in pool.imap_unordered(_work, blocks, chunksize=1):
                for s in summaries:
                    done[(s.document, s.index)] = s
        finally:
            if listener is not None:
                if len(done) < total:
                    queue.put(None)
                listener.join(timeout=5)
        if progress and queue is None:
            for n, s in enumerate((done[(d.id, k)] for d in docs for k in todo.get(d.id, ())), 1):
                progress(n, total, s)
    return done


# ------------------------------------------------------------------------------------------- writing
@dataclass(frozen=True)
class ReportFiles:
    markdown: Path
    json: Path
    figures: tuple[Path, ...]
    doc_results: list
    reused: int = 0  # results taken from the results cache (gradcheck.result_cache)


def write_report(out: str | os.PathLike, doc_results: Sequence[tuple[Any, Sequence[Any]]], *,
                 oracles: Sequence[str] | None = None, title: str = "gradcheck discrepancy report",
                 pool: Any = None) -> ReportFiles:
    """Write ``out/REPORT.md``, ``out/report.json`` and ``out/figures/*.png``; stale figures are removed."""
    from gradcheck.report.figures import write_figures
    from gradcheck.report.jsondoc import build_json, dumps
    from gradcheck.report.markdown import render_markdown

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figdir = out / "figures"
    normal = [(doc_info(d), [summarize(r, k, doc_info(d).id) for k, r in enumerate(rs)]) for d, rs in doc_results]
    figures = write_figures(normal, figdir, relative_to=out, pool=pool)
    keep = {out / rel for rel in figures.values()}
    md = render_markdown(normal, figures=figures, oracles=oracles, title=title)
    # both files replaced together at the end: an interrupt leaves the old pair or the new pair
    write_together({out / "REPORT.md": md,
                    out / "report.json": dumps(build_json(normal, figures=figures, oracles=oracles))})
    if figdir.is_dir():  # stale figures go only once the report that no longer shows them is in place
        for old in figdir.glob("*.png"):
            if old not in keep:
                old.unlink()
    return ReportFiles(out / "REPORT.md", out / "report.json", tuple(sorted(keep)), normal)


def all_as_expected(doc_results: Sequence[tuple[Any, Sequence[ClaimSummary]]]) -> bool:
    return all(r.expected_ok is not False for _, rs in doc_results for r in rs)


def report(out: str | os.PathLike = "reports", *, documents: Sequence[str] | None = None,
           oracles: Sequence[str] | None = None, jobs: int | None = None, modules: Sequence[str] = (),
           progress: Callable[[int, int, ClaimSummary], None] | None = None, cache: bool = True) -> ReportFiles:
    """Check and write a report (the ``gradcheck report`` command without its argument parsing).

    ``cache``: reuse the results of an earlier run with the same code, documents and settings
    (:mod:`gradcheck.result_cache`), and keep the new ones."""
    docs = select_documents(documents, modules)
    kept = results_cache(oracles, modules, enabled=cache)
    n_left = sum(len(d.claims) for d in docs) - len(_kept(docs, kept))  # run_checks reads them again from memory
    jobs = max(1, min(jobs or default_jobs(), n_left or 1))
    from dataclasses import replace

    if jobs == 1:
        results = run_checks(docs, oracles=oracles, jobs=1, modules=modules, progress=progress, cache=kept)
        return replace(write_report(out, results, oracles=oracles), reused=kept.hits)
    queue = _context().Queue() if progress else None
    with pool_of(jobs, queue) as pool:
        results = run_checks(docs, oracles=oracles, modules=modules, progress=progress, pool=pool, queue=queue,
                             cache=kept)
        return replace(write_report(out, results, oracles=oracles, pool=pool), reused=kept.hits)

