"""Check every claim of a homework file from Python (a notebook, a script): ``check_file(path)``.

The result renders in Jupyter (a verdict table with an "expected" column, and for each wrong claim
its equation, the oracles' numbers and a heatmap of claimed - true). Settings: the file's own
``[check]`` table, then the keyword arguments given here (see :mod:`gradcheck.tolerances`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradcheck.check import ClaimResult, check_claim
from gradcheck.claim import Derivation
from gradcheck.homework.load import HomeworkError, load
from gradcheck.tolerances import CheckSettings, file_settings, validate


@dataclass(frozen=True)
class FileCheck:
    """The results of one homework file, in file order."""

    derivation: Derivation
    results: tuple[ClaimResult, ...]
    settings: CheckSettings

    @property
    def ok(self) -> bool:
        """Every claim is correct, or has the verdict its ``expect`` names."""
        return all(r.expected_ok if r.claim.expect is not None else r.verdict == "correct" for r in self.results)

    def __iter__(self) -> Iterator[ClaimResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def _title(self) -> str:
        return f"{self.derivation.source}: {self.derivation.title} ({'OK' if self.ok else 'PROBLEMS'})"

    def _repr_markdown_(self) -> str:
        from gradcheck.notebook import results_markdown

        return results_markdown(self._title(), list(self.results))

    def _repr_html_(self) -> str:
        from gradcheck.notebook import results_html

        return results_html(self._title(), list(self.results))


def check_file(path: str | Path, **settings: Any) -> FileCheck:
    """Check every claim of the homework file at ``path``; ``settings``: rtol, atol, points, seed, oracles, repair."""
    path = Path(path)
    derivation = load(path)  # HomeworkError with the file, the place and what to do
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:  # load() read it a moment ago
        raise HomeworkError(f"{path}: {exc}") from None
    chosen = CheckSettings().merged(file_settings(doc, path.name)).merged(validate(settings, "check_file"))
    results = tuple(check_claim(derivation, claim, **chosen.claim_kwargs()) for claim in derivation.claims)
    return FileCheck(derivation, results, chosen)
