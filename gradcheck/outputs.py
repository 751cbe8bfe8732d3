"""Output files: checked before any work starts, written to temporary files and renamed together.

A command that would fail to write its report after an hour of checks fails at once instead:
:func:`check_output_file` and :func:`check_output_dir` raise :class:`OutputError` naming the flag, the
path and what is wrong (a folder where a file is wanted, a missing or read-only folder).
:func:`write_together` writes every file of one result beside its final name and renames them all at
the end, with SIGINT held back during the renames, so an interrupted run leaves either the old
outputs or the new ones, never a new REPORT.md beside an old report.json.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from gradcheck.interrupts import sigint_held


class OutputError(ValueError):
    """An output path that cannot be written; the message names the flag and the path."""


def _probe_writable(folder: Path, flag: str, path: Path) -> None:
    try:
        fd, probe = tempfile.mkstemp(prefix=".gradcheck-probe-", dir=folder)
    except OSError as exc:
        raise OutputError(f"{flag} {path}: cannot write in folder {folder}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)


def _existing_ancestor(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_output_file(path: str | os.PathLike, flag: str) -> Path:
    """A file that will be (over)written: not a folder, in an existing folder we can write in."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{flag} {path}: is a folder; give a file name, e.g. {path / 'report.md'}")
    folder = path.absolute().parent
    if not folder.exists():
        raise OutputError(f"{flag} {path}: folder {folder} does not exist; create it first or choose another path")
    if not folder.is_dir():
        raise OutputError(f"{flag} {path}: {folder} is not a folder")
    if path.exists() and not path.is_file():
        raise OutputError(f"{flag} {path}: exists and is not a regular file")
    _probe_writable(folder, flag, path)
    return path


def check_output_dir(path: str | os.PathLike, flag: str) -> Path:
    """A folder that will hold outputs: an existing writable folder, or creatable under one."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{flag} {path}: is an existing file, not a folder; give a folder (it is created "
                          "if missing)")
    base = _existing_ancestor(path)
    if not base.is_dir():
        raise OutputError(f"{flag} {path}: {base} is a file, so the folder cannot be created")
    _probe_writable(base, flag, path)
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_together(files: Mapping[str | os.PathLike, str | bytes]) -> None:
    """Write every file to a temporary file beside it, then rename them all (SIGINT held meanwhile)."""
    temps: list[tuple[str, Path]] = []
    try:
        for target, content in files.items():
            target = Path(target)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            temps.append((tmp, target))
            with os.fdopen(fd, "wb") as f:
                f.write(content.encode("utf-8") if isinstance(content, str) else content)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is as readable as any file
        with sigint_held():
            for tmp, target in temps:
                os.replace(tmp, target)
            temps = []
    finally:
        for tmp, _ in temps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
