"""What a homework file may contain, checked before anything is built from it.

* :func:`read_text`: only a regular file of at most :data:`gradcheck.limits.MAX_FILE_BYTES` bytes is
  read (never ``/dev/zero``, a FIFO or a folder, also behind a symlink); a UTF-8 byte-order mark
  is accepted.
* :func:`check_document`: every field has the type it must have (a number where a number is
  expected, a name where a name is), literal numbers are finite, and declared sizes are within
  :mod:`gradcheck.limits`. Messages name the field, what was found and what to write.
* :func:`claim_problem`: the same for the fields of one ``[[claims]]`` table (a problem there makes
  only that claim not evaluable).
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gradcheck import limits
from gradcheck.model import ModelError

CLAIM_STRINGS = ("name", "wrt", "of", "formula", "kind", "layout", "lr", "expect", "reason", "latex", "locator",
                 "expect_diagnosis", "convention", "upstream")
TOP_STRINGS = ("title", "description", "objective", "sense")


class FileProblem(ModelError):
    """The file cannot be read or one of its fields has the wrong type or value."""


def _type(v: Any) -> str:
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return f"the number {v!r}"
    if isinstance(v, str):
        return f"the string {_clip(v)!r}"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "a table"
    return type(v).__name__


def _clip(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[:n] + "…"


def read_text(path: str | os.PathLike) -> str:
    """The text of a homework file: a regular file (symlinks followed) of a sane size, UTF-8."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileProblem(f"{path}: no such file") from None
    except OSError as exc:
        raise FileProblem(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise FileProblem(f"{path}: is a folder; give the path of a .toml file")
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode) or \
            stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file"
        raise FileProblem(f"{path}: is {kind}, not a regular file; give the path of a .toml file")
    if st.st_size > limits.MAX_FILE_BYTES:
        raise FileProblem(f"{path}: the file has {st.st_size:,} bytes, more than the limit of "
                          f"{limits.MAX_FILE_BYTES:,} for a homework file (see docs/limits.md)")
    try:
        with open(path, "rb") as f:
            data = f.read(limits.MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise FileProblem(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    if len(data) > limits.MAX_FILE_BYTES:
        raise FileProblem(f"{path}: the file is larger than the limit of {limits.MAX_FILE_BYTES:,} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileProblem(f"{path}: is not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r}); "
                          "save it as UTF-8") from None


# ------------------------------------------------------------------------------------ the TOML text
MAX_TOML_DEPTH = 32  # nested [ and { (Python's TOML reader recurses on them)
MAX_KEY_PARTS = 32  # parts of a dotted key (a.b.c); very long ones make the reader take minutes
TOML_SECONDS = 20.0  # a budget for the standard TOML reader on anything the scan lets through


def check_toml_text(text: str) -> None:
    """Refuse TOML that the standard reader would choke on (deep nesting, huge dotted keys), by one
    scan that skips strings and comments; names the line."""
    depth, line, parts, in_key, i, n = 0, 1, 0, True, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line, parts, in_key = line + 1, 0, depth == 0
        elif ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif ch in "\"'":
            quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else ch
            j, i = i + len(quote), i + len(quote)
            while i < n and text[i:i + len(quote)] != quote:
                if text[i] == "\\" and quote[0] == '"':
                    i += 1
                elif text[i] == "\n":
                    line += 1
                    if len(quote) == 1:
                        break
                i += 1
            i += len(quote)
            continue
        elif ch in "[{":
            depth += 1
            if depth > MAX_TOML_DEPTH:
                raise FileProblem(f"line {line}: brackets nest more than {MAX_TOML_DEPTH} levels deep; "
                                  "write arrays of at most a few dimensions")
        elif ch in "]}":
            depth = max(depth - 1, 0)
        elif ch == "=":
            in_key = False
        elif ch == "." and in_key:
            parts += 1
            if parts > MAX_KEY_PARTS:
                raise FileProblem(f"line {line}: a dotted key of more than {MAX_KEY_PARTS} parts; use a table")
        i += 1


# ------------------------------------------------------------------------------------ the document
def check_document(doc: Mapping[str, Any]) -> None:
    """Raise :class:`FileProblem` (without the file name) for the first field of a wrong type or value."""
    for key in TOP_STRINGS:
        if key in doc and not isinstance(doc[key], str):
            raise FileProblem(f"`{key}` must be a string, got {_type(doc[key])}; write {key} = \"...\"")
    if "sense" in doc and doc["sense"] not in ("minimise", "maximise"):
        raise FileProblem(f"`sense` must be \"minimise\" or \"maximise\", got {_type(doc['sense'])}")
    if "param_scale" in doc:
        v = doc["param_scale"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise FileProblem(f"`param_scale` must be a positive finite number, got {_type(v)}; "
                              "write e.g. param_scale = 0.5")
    dims = doc.get("dims", {})
    if isinstance(dims, dict):
        for k, v in dims.items():
            _check_dim(f"dim {k!r}", k, v, "[dims]")
    sym = doc.get("symbolic_dims")
    if sym is not None:
        if not isinstance(sym, dict):
            raise FileProblem(f"`symbolic_dims` must be a table of dim sizes, got {_type(sym)}; "
                              "write [symbolic_dims] with lines such as d = 2")
        for k, v in sym.items():
            if isinstance(dims, dict) and k not in dims:
                raise FileProblem(f"symbolic_dims: {k!r} is not a dim of [dims]")
            _check_dim(f"symbolic_dims {k!r}", k, v, "[symbolic_dims]")
    constants = doc.get("constants", {})
    if isinstance(constants, dict):
        for k, v in constants.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise FileProblem(f"constant {k!r} must be a number, got {_type(v)}; write {k} = 0.1")
            if not math.isfinite(v):
                raise FileProblem(f"constant {k!r} is {v!r}; constants must be finite numbers")
    data = doc.get("data", {})
    if isinstance(data, dict):
        for name, spec in data.items():
            if isinstance(spec, dict):
                for key in ("kind", "classes"):
                    if key in spec and not isinstance(spec[key], str):
                        raise FileProblem(f"data {name!r}: `{key}` must be a string, got {_type(spec[key])}; "
                                          f"write {key} = \"real\"")
                if "value" in spec:
                    check_literal(f"data {name!r}", spec["value"])


def _check_dim(what: str, key: str, v: Any, table: str) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise FileProblem(f"{what} must be a positive integer, got {_type(v)}; write e.g. {key} = 4 "
                          f"in {table}")
    if v > limits.max_entries():
        raise FileProblem(f"{what} = {v} is larger than the limit of {limits.max_entries():,} entries per array "
                          f"(see docs/limits.md); use a smaller size, or raise the limit with {limits.ENTRIES_FLAG}")


def check_literal(what: str, value: Any) -> None:
    """A literal array: nested lists of finite numbers, within the size limit; names the first bad entry."""
    count = 0
    stack = [((), value)]
    while stack:
        index, v = stack.pop()
        if isinstance(v, list):
            count += len(v)
            if count > limits.max_entries():
                raise FileProblem(f"{what}: the literal value has more than {limits.max_entries():,} entries "
                                  f"(the limit per array, see docs/limits.md)")
            stack.extend(((*index, i), x) for i, x in reversed(list(enumerate(v))))
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            at = f" at index {list(index)}" if index else ""
            raise FileProblem(f"{what}: the literal value has {_type(v)}{at}; write numbers only")
        elif not math.isfinite(v):
            at = f" at index {list(index)}" if index else ""
            raise FileProblem(f"{what}: the literal value has {v!r}{at}; data must be finite numbers")


def check_shape_size(what: str, shape: tuple, dims: Mapping[str, int]) -> None:
    """A declared shape whose number of entries is above the limit (before anything is drawn)."""
    from gradcheck import dimexpr

    resolved = tuple((dims[s] if s in dims else dimexpr.value(s, dims)) if isinstance(s, str) else s for s in shape)
    try:
        limits.check_shape(resolved, what, [s if isinstance(s, str) else str(s) for s in shape])
    except limits.LimitError as exc:
        raise FileProblem(str(exc)) from None


# ------------------------------------------------------------------------------------------ claims
def claim_problem(spec: Mapping[str, Any]) -> str | None:
    """What is wrong with the types of one claim's fields (None if nothing)."""
    for key in CLAIM_STRINGS:
        if key in spec and not isinstance(spec[key], str):
            return (f"`{key}` must be a string, got {_type(spec[key])}; write {key} = \"...\""
                    + (" (the name of a quantity of the model)" if key in ("of", "wrt", "lr") else ""))
    return None
