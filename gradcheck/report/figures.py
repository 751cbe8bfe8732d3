"""Heatmaps for matrix-valued claims that are not correct: claimed | true | claimed - true.

The first two panels share one symmetric colour scale, so a sign flip or a factor is visible at a
glance; the difference has its own. The difference is drawn only when the claimed and true arrays
have the same shape (before any folding of a 3-D array to 2-D), so it always subtracts entries that
correspond. An array with more than :data:`MAX_LINES` rows (or columns) shows the rows (columns)
where claimed and true differ most, labelled with their 1-based index, not an unreadable strip.
PNGs are deterministic: Agg backend, fixed dpi and size, no "Software" metadata (nothing in the file
depends on the time or the matplotlib version string).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

DPI = 80
CMAP = "RdBu_r"
MAX_LINES = 24  # rows or columns shown at most


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


def squeezed_shape(a: Any) -> tuple[int, ...]:
    return tuple(n for n in np.shape(a) if n != 1)


def pick(n: int, score: np.ndarray | None) -> np.ndarray:
    """All of ``range(n)`` when it is short, else the :data:`MAX_LINES` indices of largest ``score`` (in order)."""
    if n <= MAX_LINES:
        return np.arange(n)
    if score is None:
        return np.arange(MAX_LINES)
    top = np.argsort(-score, kind="stable")[:MAX_LINES]
    return np.sort(top)


def _ticks(set_ticks, index: np.ndarray, *, small: bool, rotation: int = 0) -> None:
    """1-based labels (as documents count): every shown row (column) when a selection is shown, else about 8."""
    step = 1 if small else max(1, int(np.ceil(len(index) / 8)))
    pos = list(range(0, len(index), step))
    kw = {"rotation": rotation} if rotation and small else {}
    set_ticks(pos, [str(int(index[p]) + 1) for p in pos], fontsize=5 if small else 7, **kw)


def wants_figure(s: Any) -> bool:
    return (s.verdict != "correct" and s.claimed is not None and s.truth is not None
            and as_matrix(s.truth) is not None and as_matrix(s.claimed) is not None
            and np.all(np.isfinite(as_matrix(s.claimed))) and np.all(np.isfinite(as_matrix(s.truth))))


def heatmaps(path: str | os.PathLike, claimed: Any, truth: Any, title: str = "") -> tuple[str, ...]:
    """Write the PNG; returns the panel labels drawn."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    same = squeezed_shape(claimed) == squeezed_shape(truth)
    c, t = as_matrix(claimed), as_matrix(truth)
    diff = np.abs(c - t) if same else None
    rows = pick(t.shape[0], diff.max(axis=1) if same else None)
    cols = pick(t.shape[1], diff.max(axis=0) if same else None)
    crows, ccols = (rows, cols) if same else (pick(c.shape[0], None), pick(c.shape[1], None))
    panels = [("claimed", c[np.ix_(crows, ccols)], crows, ccols), ("true", t[np.ix_(rows, cols)], rows, cols)]
    if same:
        panels.append(("claimed - true", (c - t)[np.ix_(rows, cols)], rows, cols))
    fig = Figure(figsize=(3.2 * len(panels), 3.0 if len(rows) <= 8 else 4.2))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    fig.subplots_adjust(left=0.08, right=0.94, bottom=0.14, top=0.80, wspace=0.5)
    shared = max(float(np.max(np.abs(c))) if c.size else 0.0, float(np.max(np.abs(t))) if t.size else 0.0) or 1.0
    full = {"claimed": c.shape, "true": t.shape, "claimed - true": t.shape}
    for ax, (label, a, r, k) in zip(axes, panels):
        vmax = shared if label != "claimed - true" else (float(np.max(np.abs(a))) or 1.0)
        im = ax.imshow(a, cmap=CMAP, vmin=-vmax, vmax=vmax, interpolation="nearest", aspect="auto")
        shown = "" if a.shape == full[label] else f" ({len(r)} of {full[label][0]} rows" + (
            f", {len(k)} of {full[label][1]} columns)" if len(k) < full[label][1] else ")")
        dims = "x".join(map(str, squeezed_shape(claimed if label == "claimed" else truth)))
        ax.set_title(f"{label} {dims}{shown}", fontsize=8)
        ax.tick_params(labelsize=7)
        _ticks(ax.set_yticks, r, small=len(r) < full[label][0])
        _ticks(ax.set_xticks, k, small=len(k) < full[label][1], rotation=90)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04).ax.tick_params(labelsize=7)
    if same and len(rows) < t.shape[0]:
        fig.text(0.5, 0.02, f"the {len(rows)} rows where claimed and true differ most (1-based row numbers)",
                 ha="center", fontsize=7)
    if not same:
        fig.text(0.5, 0.02, f"shapes {'x'.join(map(str, squeezed_shape(claimed)))} and "
                 f"{'x'.join(map(str, squeezed_shape(truth)))} differ: no difference panel", ha="center",
                 fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    return tuple(p[0] for p in panels)


def figure_title(s: Any) -> str:
    return f"{s.document} {s.name}: {s.verdict}"


def figure_png(s: Any) -> bytes | None:
    """The heatmaps of a claim summary as PNG bytes (None when it gets no figure). The report's
    workers draw them right after checking the claim, while other claims are still being checked."""
    if not wants_figure(s):
        return None
    buffer = io.BytesIO()
    heatmaps(buffer, s.claimed, s.truth, title=figure_title(s))
    return buffer.getvalue()


def figure_tasks(doc_results: Sequence[tuple[Any, Sequence[Any]]], figdir: str | os.PathLike
                 ) -> list[tuple[tuple[str, str], Path, Any, Any, str, bytes | None]]:
    """``(key, path, claimed, truth, title, png)`` for every claim that gets a figure (picklable);
    ``png``: the figure already drawn, or None."""
    figdir = Path(figdir)
    return [((s.document, s.name), figdir / figure_name(s.document, s.name), s.claimed, s.truth,
             figure_title(s), getattr(s, "figure", None))
            for _, results in doc_results for s in results if wants_figure(s)]


def draw_task(task: tuple) -> None:
    _, path, claimed, truth, title, png = task
    if png is not None:
        Path(path).write_bytes(png)
    else:
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
    undrawn = [t for t in tasks if t[-1] is None]
    in_pool = pool is not None and len(undrawn) > 1
    if in_pool:
        pool.map(draw_task, undrawn, chunksize=1)
    for t in tasks:
        if not (in_pool and t[-1] is None):
            draw_task(t)
    return {key: Path(os.path.relpath(path, base)).as_posix() for key, path, *_ in tasks}
