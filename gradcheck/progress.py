"""A progress bar with the claim at hand and an ETA, on a terminal only (tqdm).

Shown after one second (quick files stay quiet), written to the stream the command talks on
(stderr with ``--json``), and never when the stream is not a terminal: redirected output, pipes
and tests see exactly the lines they saw before.
"""

from __future__ import annotations

from typing import Any, TextIO

BAR_FORMAT = "{desc} {bar} {n_fmt}/{total_fmt} claims [{elapsed} elapsed, {remaining} left]"


def progress_bar(total: int, stream: TextIO, *, enabled: bool = True) -> Any | None:
    """A ``tqdm`` bar over ``total`` claims on ``stream``, or None (not a terminal, disabled, no tqdm)."""
    if not enabled or total <= 0 or not getattr(stream, "isatty", lambda: False)():
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, file=stream, leave=False, delay=1.0, dynamic_ncols=True, bar_format=BAR_FORMAT)


def say(bar: Any | None, line: str, stream: TextIO) -> None:
    """Print a line above the bar (or plainly when there is none)."""
    if bar is not None:
        bar.write(line, file=stream)
    else:
        print(line, file=stream)
