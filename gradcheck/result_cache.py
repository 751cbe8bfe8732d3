"""Results of earlier runs, reused when nothing they depend on has changed.

Running ``gradcheck check FILE`` or ``gradcheck report`` again gives the same output (every random
draw is seeded; proofs are bounded by sizes, not by the clock), so a claim's result can be kept and
reused. It is reused only when *everything* it was computed from is byte-for-byte the same:

* the code: every file of the ``gradcheck`` package, and the versions of Python, numpy, SymPy,
  SymEngine, mpmath, JAX and jaxlib (:func:`code_fingerprint`);
* the input: the homework file's bytes and path, or the source files of the ``derivations``
  package and of any ``--module`` (:func:`files_fingerprint`);
* the options that can change a result (oracles, tolerances, seed, points, budgets, ...);
* the claim: its position in the run and its name.

A result that depended on the clock is never kept: one where an oracle or the claim ran out of its
time or memory budget, or where the repair search stopped at its time budget (``keep=False`` from
the caller). A damaged or unreadable entry is a miss. Entries are written atomically (a temporary
file renamed into place), so concurrent runs never read half an entry.

Where: ``$GRADCHECK_RESULT_CACHE`` (default ``~/.cache/gradcheck/results``); ``off`` (or ``0``,
``no``, ``false``) disables it, as does ``--no-cache`` on the command line. Entries are pickles of
gradcheck's own result objects, read only from that directory: it must not be writable by others.
When the directory holds more than ``MAX_ENTRIES`` entries or ``MAX_BYTES`` bytes, the oldest
are removed (checked once per run).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable

__all__ = ["ResultCache", "cache_directory", "code_fingerprint", "depends_on_clock", "files_fingerprint",
           "fingerprint", "restored", "storable"]

OFF = {"off", "0", "no", "false", ""}
MAX_ENTRIES = 20_000  # ~152 per report, ~10 per homework file: thousands of runs
MAX_BYTES = 512 * 1024 * 1024  # a report's entries take ~14 MB (two claims with 4-8 MB Jacobians)
FORMAT = 1  # bumped when the layout of an entry changes
_PACKAGES = ("numpy", "sympy", "symengine", "mpmath", "jax", "jaxlib", "matplotlib")


def cache_directory() -> Path | None:
    """The directory of the results cache, or None when it is off."""
    value = os.environ.get("GRADCHECK_RESULT_CACHE")
    if value is None:
        return Path(os.path.expanduser("~")) / ".cache" / "gradcheck" / "results"
    if value.strip().lower() in OFF:
        return None
    return Path(value)


def fingerprint(*parts: Any) -> str:
    """A SHA-256 hex digest of ``parts`` (bytes as they are, everything else by its ``repr``)."""
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else repr(part).encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def files_fingerprint(paths: Iterable[str | os.PathLike]) -> str:
    """The digest of files and directories (recursively; ``__pycache__`` and dot-files left out):
    each file's path relative to the root it was found under, and its bytes."""
    h = hashlib.sha256()
    for root in paths:
        root = Path(root)
        files = [root] if root.is_file() else sorted(
            p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            and not any(part.startswith(".") for part in p.relative_to(root).parts))
        for f in files:
            name = str(f.relative_to(root) if f != root else f.name).encode("utf-8", "surrogatepass")
            data = f.read_bytes()
            h.update(len(name).to_bytes(8, "little") + name + len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def _version(package: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


_CODE: list[str] = []


def code_fingerprint() -> str:
    """The digest of gradcheck's own files and of the versions of Python and the numerical libraries
    (computed once per process: a few milliseconds)."""
    if not _CODE:
        package = Path(__file__).resolve().parent
        _CODE.append(fingerprint(FORMAT, sys.version, files_fingerprint([package]),
                                 [(p, _version(p)) for p in _PACKAGES]))
    return _CODE[0]


class ResultCache:
    """Results of one kind of run (``scope``: the digest of its code, input and options), by key.

    With ``directory=None`` (the cache is off) every lookup is a miss and nothing is written."""

    def __init__(self, scope: str, directory: Path | None = None):
        self.scope = scope
        self.directory = directory
        self.hits = 0
        self.misses = 0
        self._read: dict[str, Any] = {}  # digest -> value read in this process (a second get is free)

    @classmethod
    def for_run(cls, *parts: Any, enabled: bool = True) -> "ResultCache":
        """The cache of a run whose results depend on ``parts`` (and on gradcheck's code)."""
        directory = cache_directory() if enabled else None
        return cls(fingerprint(code_fingerprint(), *parts) if directory else "", directory)

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def _path(self, key: Any) -> Path:
        digest = fingerprint(self.scope, key)
        return self.directory / digest[:2] / f"{digest[2:]}.pickle"

    def get(self, key: Any) -> Any | None:
        """The value kept under ``key``, or None (a miss: never stored, or unreadable)."""
        if self.directory is None:
            return None
        path = self._path(key)
        if path.name in self._read:
            return self._read[path.name]
        try:
            with open(path, "rb") as f:
                stored_key, value = pickle.load(f)
        except Exception:  # noqa: BLE001 - missing, truncated, from another version: recompute
            self.misses += 1
            return None
        if stored_key != repr((self.scope, key)):  # a digest collision or a foreign file: not ours
            self.misses += 1
            return None
        self.hits += 1
        self._read[path.name] = value
        return value

    def put(self, key: Any, value: Any) -> None:
        """Keep ``value`` under ``key`` (silently nothing when the directory cannot be written)."""
        if self.directory is None:
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                pickle.dump((repr((self.scope, key)), value), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except Exception:  # noqa: BLE001 - a read-only or full disk costs speed, never a result
            try:
                os.unlink(tmp)  # type: ignore[possibly-undefined]
            except Exception:  # noqa: BLE001
                pass
            return
        _prune(self.directory)


_PRUNED: set[Path] = set()


def _prune(directory: Path, limit: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
    """Remove the oldest entries beyond ``limit`` entries or ``max_bytes`` bytes (once per process
    and directory)."""
    if directory in _PRUNED:
        return
    _PRUNED.add(directory)
    try:
        entries = []
        for p in directory.glob("*/*.pickle"):
            try:
                st = p.stat()
            except OSError:
                continue
            entries.append((st.st_mtime, st.st_size, p))
        total = sum(size for _, size, _ in entries)
        if len(entries) <= limit and total <= max_bytes:
            return
        entries.sort(key=lambda e: (e[0], str(e[2])))
        count = len(entries)
        for _, size, p in entries:
            if count <= limit and total <= max_bytes:
                break
            p.unlink(missing_ok=True)
            count, total = count - 1, total - size
    except OSError:
        pass


# ------------------------------------------------------------------------- claim results as entries
def depends_on_clock(result: Any) -> bool:
    """Could ``result`` (a :class:`~gradcheck.check.ClaimResult`) differ on a faster or slower
    machine? True when the claim or one of its oracles was stopped by a time or memory budget: its
    messages hold a phrase of :data:`gradcheck.check.BUDGET_PHRASES` anywhere (not only at the
    start, as :func:`~gradcheck.check.stopped_by_budget` asks), or a clock's or memory's words."""
    from gradcheck.check import BUDGET_PHRASES

    words = BUDGET_PHRASES + ("ran out of time", "budget", "MemoryError")
    texts = [getattr(result, "message", "") or ""] + list(getattr(result, "notes", ()) or ())
    for v in (getattr(result, "oracles", None) or {}).values():
        texts += [getattr(v, "message", "") or "", getattr(v, "detail", "") or ""]
    return any(word in text for text in texts for word in words)


def storable(result: Any) -> Any:
    """The result without its claim and model (functions, which cannot be pickled)."""
    from dataclasses import replace

    return replace(result, claim=None, model=None)


def restored(entry: Any, claim: Any, model: Any) -> Any:
    """A kept result given back its claim and model."""
    from dataclasses import replace

    return replace(entry, claim=claim, model=model)
