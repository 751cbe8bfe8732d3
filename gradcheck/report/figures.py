"""Heatmaps for matrix-valued claims that are not correct: claimed | true | claimed - true.

The first two panels share one symmetric colour scale, so a sign flip or a factor is visible at a
glance; the difference has its own. PNGs are deterministic: Agg backend, fixed dpi and size, no
"Software" metadata (nothing in the file depends on the time or the matplotlib version string).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

DPI = 80
CMAP = "RdBu_r"


def figure_name(doc_id: str, claim_name: str) -> str:
    """A safe file name from the document id and the claim name."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{doc_id}_{claim_name}").strip("._") or "claim"
    return stem[:120] + ".png"


def as_matrix(a: Any) -> np.ndarray | None:
    """A 2-D float view for display: singleton axes dropped, more than two axes folded as (first, rest)."""
    if a is None:
        return None
    arr = np.asarray(a)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            return None
    arr = np.real(arr).astype(float)
    arr = arr.reshape([s for s in arr.shape if s != 1])
    if arr.ndim < 2:
        return None
    if arr.ndim > 2:
        arr = arr.reshape(arr.shape[0], -1)
    return arr


def wants_figure(s: Any) -> bool:
    return (s.verdict != "correct" and s.claimed is not None and s.truth is not None
            and as_matrix(s.truth) is not None and as_matrix(s.claimed) is not None
            and np.all(np.isfinite(as_matrix(s.claimed))) and np.all(np.isfinite(as_matrix(s.truth))))


def heatmaps(path: str | os.PathLike, claimed: Any, truth: Any, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    c, t = as_matrix(claimed), as_matrix(truth)
    same = c.shape == t.shape
    panels = [("claimed", c), ("true", t)] + ([("claimed - true", c - t)] if same else [])
    fig = Figure(figsize=(3.2 * len(panels), 3.0))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    fig.subplots_adjust(left=0.06, right=0.94, bottom=0.12, top=0.80, wspace=0.45)
    shared = max(float(np.max(np.abs(c))) if c.size else 0.0, float(np.max(np.abs(t))) if t.size else 0.0) or 1.0
    for ax, (label, a) in zip(axes, panels):
        vmax = shared if label != "claimed - true" else (float(np.max(np.abs(a))) or 1.0)
        im = ax.imshow(a, cmap=CMAP, vmin=-vmax, vmax=vmax, interpolation="nearest", aspect="auto")
        ax.set_title(f"{label} {a.shape[0]}x{a.shape[1]}", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04).ax.tick_params(labelsize=7)
    if not same:
        axes[0].set_xlabel("shapes differ: no difference panel", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})


def figure_tasks(doc_results: Sequence[tuple[Any, Sequence[Any]]], figdir: str | os.PathLike
                 ) -> list[tuple[tuple[str, str], Path, Any, Any, str]]:
    """``(key, path, claimed, truth, title)`` for every claim that gets a figure (picklable)."""
    figdir = Path(figdir)
    return [((s.document, s.name), figdir / figure_name(s.document, s.name), s.claimed, s.truth,
             f"{s.document} {s.name}: {s.verdict}")
            for _, results in doc_results for s in results if wants_figure(s)]


def draw_task(task: tuple) -> None:
    _, path, claimed, truth, title = task
    heatmaps(path, claimed, truth, title=title)


def write_figures(doc_results: Sequence[tuple[Any, Sequence[Any]]], figdir: str | os.PathLike,
                  relative_to: str | os.PathLike | None = None, pool: Any = None) -> dict[tuple[str, str], str]:
    """Write a PNG per matrix-valued claim that is not correct; ``{(doc_id, claim): relative path}``.

    ``pool``: an optional ``multiprocessing`` pool to draw the figures in parallel.
    """
    figdir = Path(figdir)
    base = Path(relative_to) if relative_to is not None else figdir.parent
    tasks = figure_tasks(doc_results, figdir)
    if tasks:
        figdir.mkdir(parents=True, exist_ok=True)
    if pool is not None and len(tasks) > 1:
        pool.map(draw_task, tasks, chunksize=1)
    else:
        for t in tasks:
            draw_task(t)
    return {key: Path(os.path.relpath(path, base)).as_posix() for key, path, *_ in tasks}
