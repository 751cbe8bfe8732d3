"""Check settings as data the user controls: tolerances, points, seed, oracles.

Defaults, and why (an oracle passes when ``max|claim - truth| <= rtol * max|truth| + atol`` plus
``SAFETY`` times its own error estimate; see :mod:`gradcheck.verdict`):

* ``rtol``: ``None`` means each oracle's own: 1e-8 for the complex step and JAX (both exact up to
  float64 rounding, ~1e-15, so 1e-8 leaves room for rounding inside the claimed formula while real
  errors are O(1e-3) or larger), 1e-6 for Richardson central differences (accurate to ~1e-9).
* ``atol``: 0. Every derivative is compared relative to its own size, so a gradient whose entries
  are all ~1e-6 is judged as strictly as one of size 1; set ``atol`` only for a derivative that is
  exactly zero in theory and noisy in your code.
* float32: a claim computed in float32 carries float32 rounding (eps 1.2e-7 per operation, growing
  with the length of the computation), so ``FLOAT32`` uses rtol 1e-4 (~840 ulps of float32 relative to
  the largest entry) and atol 0. Real mistakes (sign, transpose, 1/m, one wrong entry) are still
  O(1e-2) or larger and are caught.
* ``points``: 3 seeded points (a claim is correct only if it holds at every one, so no relation rests
  on one lucky draw); ``seed``: 0 (reproducible); ``oracles``: all three.

A homework file may set these in a ``[check]`` table. The pytest plugin reads it over its ini options,
``gradcheck check`` under its flags (``--rtol``, ``--atol``, ``--points``, ``--seed``, ``--oracles``,
``--no-repair`` win over the file), and ``check_file`` under its keyword arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

ORACLE_NAMES = ("finite_difference", "autodiff", "symbolic")
FLOAT32_RTOL = 1e-4
CHECK_KEYS = ("rtol", "atol", "points", "seed", "oracles", "repair")


class SettingsError(ValueError):
    """A tolerance, point count, seed or oracle list that cannot be used: what and where."""


@dataclass(frozen=True)
class CheckSettings:
    """What :func:`gradcheck.check.check_claim` is asked to do; ``None`` means the engine's default."""

    rtol: float | None = None
    atol: float = 0.0
    points: int | None = None
    seed: int = 0
    oracles: tuple[str, ...] = ORACLE_NAMES
    repair: bool = True

    def claim_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``check_claim``."""
        out: dict[str, Any] = {"rtol": self.rtol, "atol": self.atol, "seed": self.seed, "oracles": self.oracles,
                               "repair": self.repair}
        if self.points is not None:
            out["n_points"] = self.points
        return out

    def merged(self, overrides: Mapping[str, Any]) -> CheckSettings:
        """These settings with the given (already validated) values replacing them."""
        known = {f.name for f in fields(self)}
        return CheckSettings(**{**{k: getattr(self, k) for k in known},
                                **{k: v for k, v in overrides.items() if k in known}})


def validate(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check a mapping of settings (a ``[check]`` table, ini values); raise :class:`SettingsError`."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in CHECK_KEYS:
            raise SettingsError(f"{where}: unknown setting {key!r} (allowed: {', '.join(CHECK_KEYS)})")
        out[key] = _one(key, value, where)
    return out


def _one(key: str, value: Any, where: str) -> Any:
    if key in ("rtol", "atol"):
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{where}: {key} must be a number, got {value!r}") from None
        if not (0 <= x < 1 if key == "rtol" else 0 <= x < float("inf")):
            raise SettingsError(f"{where}: {key} must be {'in [0, 1)' if key == 'rtol' else '>= 0 and finite'}, "
                                f"got {value!r}")
        return x
    if key in ("points", "seed"):
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{where}: {key} must be an integer, got {value!r}") from None
        if isinstance(value, float) or n < (1 if key == "points" else 0):
            raise SettingsError(f"{where}: {key} must be an integer >= {1 if key == 'points' else 0}, got {value!r}")
        return n
    if key == "oracles":
        names = [s.strip() for s in (value.split(",") if isinstance(value, str) else value)]
        bad = [n for n in names if n not in ORACLE_NAMES]
        if bad or not names:
            raise SettingsError(f"{where}: unknown oracle(s) {', '.join(bad) or '(none given)'}; "
                                f"choose from {', '.join(ORACLE_NAMES)}")
        return tuple(names)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise SettingsError(f"{where}: {key} must be true or false, got {value!r}")


def file_settings(doc: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The validated ``[check]`` table of a parsed homework file (empty when it has none)."""
    table = doc.get("check", {})
    if not isinstance(table, Mapping):
        raise SettingsError(f"{where}: [check] must be a table such as `[check]\\nrtol = 1e-6`")
    return validate(table, f"{where} [check]")
