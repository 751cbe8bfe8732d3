"""Ctrl-C (SIGINT) held back over the few steps that must not be cut in two.

CPython runs its handler for SIGINT between two bytecodes of the main thread and raises
KeyboardInterrupt there. Some places must not see it:

* the renames that publish a report's files together (:mod:`gradcheck.outputs`);
* a fork (:mod:`gradcheck.bounded`, the report's worker pool). CPython runs ``os.register_at_fork``
  hooks (``logging`` has one) right after a fork, and a KeyboardInterrupt raised inside one is printed
  as "Exception ignored" and *lost*: the run went on as if Ctrl-C had not been pressed. Between the
  fork and the caller's bookkeeping, an interrupt would also leave a worker nobody stops.

:func:`sigint_held` puts a handler that only notes the signal in place of the current one, and on
leaving the block puts the old one back and runs it if the signal came. Blocking the signal with
``pthread_sigmask`` would not do: the mask is per thread, and a process with other threads (JAX's)
gets Ctrl-C in any of them. A forked child inherits the noting handler: it sets its own at once.

:func:`import_held` imports a module with Ctrl-C held: jaxlib interrupted while it initialises
aborts the whole process (SIGABRT, a C++ crash report instead of "interrupted").
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import ModuleType


@contextlib.contextmanager
def sigint_held() -> Iterator[None]:
    """Delay Ctrl-C until the block is done (main thread only; elsewhere a no-op, as Python's
    handlers run in the main thread anyway)."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is None:
        yield  # None: a handler not set from Python (an embedding program's), which cannot be put back
        return
    came: list[object] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: came.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if came:
            _deliver(previous)


def _deliver(handler: object) -> None:
    """What SIGINT would have done under ``handler``."""
    if callable(handler):
        handler(signal.SIGINT, None)
    elif handler == signal.SIG_DFL:
        os.kill(os.getpid(), signal.SIGINT)
    # SIG_IGN: nothing


def import_held(name: str) -> ModuleType:
    """``importlib.import_module(name)``, with Ctrl-C held until the import is done (see above)."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    with sigint_held():
        return importlib.import_module(name)
