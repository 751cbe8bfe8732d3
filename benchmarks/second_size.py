"""What checking at a second size costs: every claim of the examples and the four documents,
checked with all three oracles with and without the second size (no repair search).

    python benchmarks/second_size.py            # -> benchmarks/SECOND_SIZE.md

Each claim is checked twice per setting, the settings interleaved claim by claim, and the smaller
time is kept (the machine is shared);
the SymPy and JAX caches are warmed by a first untimed pass, so both settings pay the same
one-time costs.
"""

from __future__ import annotations

import glob
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from derivations import DOCUMENTS  # noqa: E402
from gradcheck.check import check_claim  # noqa: E402
from gradcheck.homework import load  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def sources():
    for path in sorted(glob.glob(str(ROOT / "examples" / "*.toml"))):
        yield os.path.basename(path), load(path)
    for doc in DOCUMENTS:
        yield f"document {doc.id}", doc


def best_of(fn, repeats: int = 2) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    rows, totals = [], [0.0, 0.0]
    for name, source in sources():
        for claim in source.claims:  # warm every cache once
            check_claim(source, claim, second=False)
        without = with_second = 0.0
        for c in source.claims:  # interleaved claim by claim, so a change of load hits both settings alike
            without += best_of(lambda c=c: check_claim(source, c, second=False))
            with_second += best_of(lambda c=c: check_claim(source, c))
        totals[0] += without
        totals[1] += with_second
        rows.append(f"| {name} | {len(source.claims)} | {without:.2f} | {with_second:.2f} | "
                    f"{with_second / without:.2f}x |")
        print(rows[-1], flush=True)
    load_avg = os.getloadavg()[0]
    text = ["# Cost of the second size", "",
            "`python benchmarks/second_size.py`: every claim checked with all three oracles, without and with "
            "the second size (finite differences at 2 points of the redrawn dims and constants), no repair "
            "search; best of 2 after a warm-up pass, the two settings interleaved claim by claim.", f"Load average at the end: {load_avg:.2f} (2 shared cores).", "",
            "| source | claims | without (s) | with (s) | ratio |", "|---|---|---|---|---|", *rows,
            f"| **total** | | {totals[0]:.2f} | {totals[1]:.2f} | {totals[1] / totals[0]:.2f}x |", ""]
    (ROOT / "benchmarks" / "SECOND_SIZE.md").write_text("\n".join(text))


if __name__ == "__main__":
    main()
