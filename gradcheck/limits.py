"""Limits on what an input may ask for: sizes, nesting, integer growth, time. See docs/limits.md.

Homework files come from students and graders run them unattended, so every resource a file can
make gradcheck spend is bounded *before* it is spent, and the message says which limit was hit,
where, and what to write instead (or which flag raises the limit):

* sizes: at most :data:`MAX_ARRAY_ENTRIES` entries in any array a file declares or a formula builds
  (``ones``, ``eye``, ``einsum``, broadcasting), and at most :data:`MAX_CLAIM_ENTRIES` entries in the
  derivative a claim is about (``size(of) * size(wrt)``); both overridable (``--max-entries``);
* expressions: at most :data:`MAX_EXPRESSION_CHARS` characters, :data:`MAX_DEPTH` levels of nesting
  and :data:`MAX_NODES` syntax nodes; integer arithmetic on constants at most
  :data:`MAX_INT_BITS` bits;
* files: regular files of at most :data:`MAX_FILE_BYTES` bytes;
* time: :func:`deadline` stops a computation after a wall-clock budget (per oracle, per claim, per
  file) with :class:`BudgetExceeded` naming the budget.

Every violation raises :class:`LimitError` (a :class:`~gradcheck.model.ModelError`, so front-ends
report it as bad input, exit code 2, or as the verdict of the one claim it concerns).
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Iterator, Sequence

from gradcheck.model import ModelError

MAX_ARRAY_ENTRIES = 1_000_000  # 8 MB in float64, 16 MB as complex (the complex step)
MAX_CLAIM_ENTRIES = 1_000_000  # entries of d of / d wrt: JAX builds all of them at once
MAX_EXPRESSION_CHARS = 10_000
MAX_DEPTH = 100  # nested operations: a sum of 100 terms, 100 unary minuses, 100 chained .T
MAX_NODES = 5_000
MAX_INT_BITS = 4_096  # an integer constant such as 2**4096 (far above any float64)
MAX_FILE_BYTES = 1_000_000
ENTRIES_FLAG = "--max-entries"
CLAIM_SECONDS = 180.0  # per claim: point search, three oracles, judging (the repair search has its own);
# each oracle gets a third of it, so an oracle that never ends (SymPy on X ** 1e308) leaves the others theirs
FILE_SECONDS = 1800.0  # per file: loading and every claim

_oracle_budget: list[float | None] = [None]  # None: no budget (the library default; the CLI sets one)

_override: dict[str, int] = {}


class LimitError(ModelError):
    """An input that asks for more than a documented limit; the message names the limit."""


class BudgetExceeded(BaseException):
    """A wall-clock budget ran out. Like KeyboardInterrupt it is not an Exception, so no ``except
    Exception`` on the way (an oracle's fallback, SymPy's own handlers) swallows it."""

    def __init__(self, what: str, seconds: float):
        self.what, self.seconds = what, seconds
        super().__init__(f"{what} ran out of time: stopped after its budget of {seconds:g} s "
                         "(see docs/limits.md)")


# ------------------------------------------------------------------------------------------ sizes
def max_entries() -> int:
    """The current cap on entries per array (``--max-entries`` overrides it)."""
    return _override.get("array", MAX_ARRAY_ENTRIES)


def max_claim_entries() -> int:
    return _override.get("claim", MAX_CLAIM_ENTRIES)


@contextlib.contextmanager
def entries_cap(n: int | None) -> Iterator[None]:
    """Use ``n`` as the cap on entries per array and per claim inside the block (None: the default)."""
    saved = dict(_override)
    if n is not None:
        if n < 1:
            raise LimitError(f"{ENTRIES_FLAG} must be at least 1, got {n}")
        _override.update(array=n, claim=n)
    try:
        yield
    finally:
        _override.clear()
        _override.update(saved)


def entries(shape: Sequence[int]) -> int:
    """The number of entries of ``shape`` as an exact Python integer (never overflows)."""
    return math.prod(int(s) for s in shape)


def check_shape(shape: Sequence[int], what: str, names: Sequence[str] | None = None) -> tuple[int, ...]:
    """``shape`` as ints, or :class:`LimitError` naming the dims that make it too large."""
    shape = tuple(int(s) for s in shape)
    negative = [s for s in shape if s < 0]
    if negative:
        raise LimitError(f"{_p(what)}shape {shape} has a negative size {negative[0]}")
    n, cap = entries(shape), max_entries()
    if n > cap:
        labels = list(names) if names is not None and len(names) == len(shape) else [None] * len(shape)
        big = max(range(len(shape)), key=lambda i: shape[i])
        size = shape[big] if shape[big] < 10**15 else _count(shape[big])
        dim = f"{labels[big]} = {size}" if labels[big] else f"size {size}"
        shown = "(" + ", ".join(str(s) if s < 10**15 else _count(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise LimitError(f"{_p(what)}shape {shown} has {_count(n)} entries, more than the limit of {_count(cap)} "
                         f"per array (largest dim: {dim}); use smaller dims (a formula that holds at any "
                         f"width is checked as well at a small one), or raise the limit with {ENTRIES_FLAG}")
    return shape


def check_claim_size(of_shape: Sequence[int], wrt_shape: Sequence[int], what: str) -> None:
    """``size(of) * size(wrt)`` entries of a derivative, checked before any oracle builds them."""
    n, cap = entries(of_shape) * entries(wrt_shape), max_claim_entries()
    if n > cap:
        raise LimitError(f"{_p(what)}d of / d wrt has {_count(entries(of_shape))} x {_count(entries(wrt_shape))} = "
                         f"{_count(n)} entries (of shape {tuple(of_shape)}, wrt shape {tuple(wrt_shape)}), more "
                         f"than the limit of {_count(cap)} per claim; use smaller dims or raise the limit "
                         f"with {ENTRIES_FLAG}")


def _p(what: str) -> str:
    return f"{what}: " if what else ""


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"about 1e{len(str(n)) - 1}"


# ------------------------------------------------------------------------------- expressions
def check_source(text: str, what: str) -> None:
    if len(text) > MAX_EXPRESSION_CHARS:
        raise LimitError(f"{_p(what)}the expression has {len(text):,} characters, more than the limit of "
                         f"{MAX_EXPRESSION_CHARS:,}; split it into several steps")


def tree_depth_and_size(root) -> tuple[int, int]:
    """(nesting depth, number of nodes) of an :mod:`ast` tree, computed without recursion."""
    import ast

    depth, nodes, stack = 0, 0, [(root, 1)]
    while stack:
        node, d = stack.pop()
        nodes += 1
        depth = max(depth, d)
        stack.extend((child, d + 1) for child in ast.iter_child_nodes(node))
    return depth, nodes


def check_tree(root, what: str) -> None:
    depth, nodes = tree_depth_and_size(root)
    if depth > MAX_DEPTH:
        raise LimitError(f"{_p(what)}the expression nests {depth} levels deep, more than the limit of {MAX_DEPTH} "
                         "(long chains of +, **, unary minus, .T or indexing); split it into several steps")
    if nodes > MAX_NODES:
        raise LimitError(f"{_p(what)}the expression has {nodes:,} parts, more than the limit of {MAX_NODES:,}; "
                         "split it into several steps")


def check_int_power(base: int, exponent: int, what: str) -> None:
    """An integer power whose result would exceed :data:`MAX_INT_BITS` bits (checked before computing it)."""
    if exponent < 0 or abs(base) <= 1:
        return
    bits = (abs(base).bit_length() - 1) * exponent + 1
    if bits > MAX_INT_BITS:
        hint = f"{base}.0**{exponent}" if base.bit_length() < 64 else "a float"
        raise LimitError(f"{_p(what)}the integer power {_short(base)}**{exponent} is too large: about {bits:,} bits, "
                         f"more than the limit of {MAX_INT_BITS:,}; write a float ({hint}) or a smaller power")


def _short(n: int) -> str:
    return str(n) if n.bit_length() < 64 else f"(an integer of {n.bit_length()} bits)"


# ------------------------------------------------------------------------------------- time
def oracle_seconds() -> float | None:
    """The wall-clock budget of one oracle on one claim (None: none)."""
    return _oracle_budget[0]


@contextlib.contextmanager
def oracle_budget(seconds: float | None) -> Iterator[None]:
    saved = _oracle_budget[0]
    _oracle_budget[0] = seconds
    try:
        yield
    finally:
        _oracle_budget[0] = saved


class _Budget:
    def __init__(self, seconds: float, what: str):
        self.expiry, self.error, self.fired = time.monotonic() + seconds, BudgetExceeded(what, seconds), False


_deadlines: list[_Budget] = []  # outermost first


def _arm() -> None:
    pending = [b.expiry for b in _deadlines if not b.fired]
    if pending:
        signal.setitimer(signal.ITIMER_REAL, max(min(pending) - time.monotonic(), 1e-3))
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _importing(frame) -> bool:
    """Is the interrupted code inside an ``import``? (Interrupted there, a module such as sympy would be
    left half-initialised in ``sys.modules`` for the rest of the process.)"""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _on_alarm(signum, frame):
    if _importing(frame):  # deferred until the import is done
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        return
    now = time.monotonic()
    due = [b for b in _deadlines if not b.fired and b.expiry <= now + 1e-3]
    if due:
        due[0].fired = True  # raised once; blocks that start later inside it are refused (see deadline)
        _arm()
        raise due[0].error  # the outermost budget that ran out
    _arm()


def can_time() -> bool:
    """Deadlines use SIGALRM: only in the main thread of a process on a POSIX system."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def deadline(seconds: float | None, what: str) -> Iterator[None]:
    """Raise :class:`BudgetExceeded` in the block after ``seconds`` of wall time (None: no budget).

    Deadlines nest: an inner one never extends an outer one, and leaving a block re-arms the
    timer for the blocks around it. A budget is raised once, where the time ran out; a budgeted
    block that starts inside a budget already spent raises it at once. Outside the main thread
    the block runs without a budget.
    """
    spent = next((b for b in _deadlines if b.fired), None)
    if spent is not None:
        raise spent.error
    if seconds is None or not can_time():
        yield
        return
    if seconds <= 0:
        raise BudgetExceeded(what, seconds)
    entry = _Budget(seconds, what)
    if not _deadlines:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
    _deadlines.append(entry)
    _arm()
    try:
        yield
    finally:
        _deadlines.remove(entry)
        _arm()
        if not _deadlines:
            signal.signal(signal.SIGALRM, previous)


def remaining() -> float | None:
    """Seconds left before the innermost deadline (None when none is set)."""
    pending = [b.expiry for b in _deadlines if not b.fired]
    return min(pending) - time.monotonic() if pending else None


@contextlib.contextmanager
def inner_timeout(seconds: float) -> Iterator[None]:
    """A short budget that raises :class:`TimeoutError` (for code that catches it and falls back), and
    that respects every :func:`deadline` around it: when an outer one runs out first, that one is raised."""
    if not can_time():
        raise TimeoutError
    try:
        with deadline(seconds, "inner timeout"):
            yield
    except BudgetExceeded as exc:
        if exc.what == "inner timeout":
            raise TimeoutError from None
        raise



# ------------------------------------------------------------------ sizes of operations, predicted
def shape_of(x) -> tuple[int, ...] | None:
    """The (core) shape of an array-like value without converting it; None for other values."""
    shape = getattr(x, "shape", None)
    if shape is not None:
        try:
            return tuple(int(s) for s in shape)
        except TypeError:
            return None
    if isinstance(x, (int, float, complex)):
        return ()
    return None


def broadcast_result(a, b) -> tuple[int, ...] | None:
    """The shape of an elementwise operation of ``a`` and ``b`` (None: unknown, or they do not fit)."""
    sa, sb = shape_of(a), shape_of(b)
    if sa is None or sb is None:
        return None
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    out = []
    for x, y in zip(sa, sb):
        if x != y and 1 not in (x, y):
            return None  # the operation itself reports the clash
        out.append(max(x, y))
    return tuple(out)


def matmul_result(a, b) -> tuple[int, ...] | None:
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        return None
    if len(sa) == 1 or len(sb) == 1:
        return sa[:-1] if len(sb) == 1 else sb[:-2] + sb[-1:]
    batch = broadcast_result(_Shaped(sa[:-2]), _Shaped(sb[:-2]))
    return None if batch is None else batch + (sa[-2], sb[-1])


class _Shaped:
    def __init__(self, shape):
        self.shape = shape


def einsum_sizes(subscripts: str, operands) -> tuple[tuple[int, ...], int] | None:
    """(output shape, work = product of the sizes of every index letter) of an einsum, or None."""
    spec = subscripts.replace(" ", "")
    if "." in spec:
        return None
    inputs, _, output = spec.partition("->")
    terms = inputs.split(",")
    shapes = [shape_of(o) for o in operands]
    if len(terms) != len(shapes) or any(s is None or len(s) != len(t) for s, t in zip(shapes, terms)):
        return None  # numpy reports the mismatch itself
    size: dict[str, int] = {}
    for t, s in zip(terms, shapes):
        for letter, n in zip(t, s):
            size[letter] = max(size.get(letter, 1), n)
    if "->" not in spec:
        letters = "".join(terms)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if any(c not in size for c in output):
        return None
    return tuple(size[c] for c in output), entries(size.values())


def check_result(shape: Sequence[int] | None, what: str) -> None:
    """An operation about to build an array of ``shape``: refuse it before allocating."""
    if shape is not None and entries(shape) > max_entries():
        check_shape(shape, what)


def check_work(work: int, what: str) -> None:
    cap = 100 * max_entries()
    if work > cap:
        raise LimitError(f"{_p(what)}needs {_count(work)} multiply-adds (the product of every index size), more "
                         f"than the limit of {_count(cap)} (100 x the entries per array); use smaller dims or "
                         f"raise the limit with {ENTRIES_FLAG}")
