"""The ``gradcheck`` command line.

    gradcheck report [--out DIR] [--document ID ...] [--oracle NAME ...] [--jobs N] [--quiet]
    gradcheck check FILE [...]          (homework files; see gradcheck.homework)

This module imports nothing heavy (no JAX, SymPy or matplotlib): ``gradcheck --help`` is instant,
and each command loads what it needs when it runs.

Exit codes: 0 every claim has its expected verdict; 1 some claim does not; 2 usage or input error.
Ctrl-C: "gradcheck: interrupted", then the process ends *by* SIGINT (the shell shows 130), as a Unix
program should, so that a shell loop over files stops too (see :func:`run`).
"""

from __future__ import annotations

import _thread
import argparse
import importlib.util
import os
import signal
import sys
import threading
import time
from typing import Any, Sequence

from gradcheck import textsafe

ORACLE_CHOICES = ("finite_difference", "symbolic", "autodiff")
EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # what main() returns after Ctrl-C; run() turns it into death by SIGINT

DESCRIPTION = ("Check hand-derived backpropagation formulas (claims) against three oracles: finite differences, "
               "SymPy and JAX. Each claim gets a verdict (correct, incorrect, shape error, not evaluable, oracles "
               "disagree) and, when wrong, a diagnosis and a fix.")
EPILOG = ("exit codes: 0 every claim has its expected verdict (or none is recorded); 1 some claim does not; "
          "2 usage or input error. Run 'gradcheck COMMAND --help' for the options of a command.")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _homework_cli():
    """``gradcheck.homework.cli`` when it is installed, else None (imported only for ``check``)."""
    try:
        if importlib.util.find_spec("gradcheck.homework") is None or \
                importlib.util.find_spec("gradcheck.homework.cli") is None:
            return None
    except (ImportError, ValueError):
        return None
    return importlib.import_module("gradcheck.homework.cli")


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="DIR", default="reports",
                   help="folder for REPORT.md, report.json and figures/*.png (default: %(default)s)")
    p.add_argument("--document", "-d", metavar="ID", action="append", dest="documents", default=None,
                   help="check only this document id (repeat for several; default: every document "
                        "of the derivations package)")
    p.add_argument("--oracle", "-o", metavar="NAME", action="append", dest="oracles", default=None,
                   choices=ORACLE_CHOICES,
                   help="run only this oracle: finite_difference, symbolic or autodiff (repeat for several; "
                        "default: all three)")
    p.add_argument("--jobs", "-j", metavar="N", type=_positive_int, default=None,
                   help="worker processes that check claims in parallel (default: the number of usable CPU cores; "
                        "1 checks in this process)")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="print nothing but errors (no per-claim progress, no closing summary)")
    p.add_argument("--module", "-m", metavar="MODULE", action="append", dest="modules", default=[],
                   help="also load documents from this importable module (its DERIVATION, or a DERIVATIONS "
                        "sequence); meant for tests and for trying a derivation before it joins the "
                        "derivations package. With --document, its id selects it")
    p.add_argument("--list", action="store_true", help="list the available document ids and exit")
    p.add_argument("--no-cache", action="store_true",
                   help="check every claim anew, without reusing the results of an earlier run with the same "
                        "gradcheck version, documents and options (kept in $GRADCHECK_RESULT_CACHE, default "
                        "~/.cache/gradcheck/results)")


def build_parser(with_check: bool = False) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradcheck", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="store_true", help="print the gradcheck version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    rep = sub.add_parser(
        "report", help="check every document and write REPORT.md, report.json and figures/",
        description="Check the claims of the source documents (the derivations package) and write the "
                    "discrepancy report: DIR/REPORT.md (GitHub markdown), DIR/report.json (its schema is "
                    "gradcheck/report/report.schema.json) and DIR/figures/*.png. The output is deterministic: "
                    "two runs give byte-identical files.",
        epilog=EPILOG)
    add_report_arguments(rep)
    rep.set_defaults(handler=cmd_report)

    chk = sub.add_parser(
        "check", help="check the derivatives in a homework file",
        description="Check the claims of a homework file (see gradcheck.homework). The markdown and JSON output "
                    "share the renderers of 'gradcheck report'.", epilog=EPILOG)
    hw = _homework_cli() if with_check else None
    if hw is not None and hasattr(hw, "add_check_arguments"):
        hw.add_check_arguments(chk)
    else:
        chk.add_argument("file", metavar="FILE", nargs="?", help="the homework file to check")
        chk.add_argument("--report", metavar="OUT.md", help="also write a markdown report to this file")
    chk.set_defaults(handler=cmd_check)
    return parser


# ---------------------------------------------------------------------------------------------- report
class Progress:
    """One line per checked claim on stderr, under a progress bar with an ETA (only on a terminal)."""

    def __init__(self, stream=None, enabled: bool = True):
        self.stream = stream or sys.stderr
        self.enabled = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = None

    def __call__(self, n: int, total: int, s) -> None:
        if not self.enabled:
            return
        from gradcheck.progress import progress_bar, say

        if self.bar is None:
            self.bar = progress_bar(total, self.stream)
        mark = {True: "", None: "", False: f"  <-- expected {s.expect}"}[s.expected_ok]
        width = len(str(total))
        judged = f" [{s.judged_by}]" if s.judged_by else ""
        line = f"[{n:>{width}}/{total}] {s.document}/{s.name}: {s.verdict}{judged} ({s.seconds:.1f} s){mark}"
        say(self.bar, textsafe.terminal(line), self.stream)
        if self.bar is not None:
            self.bar.set_description_str(textsafe.terminal(f"done {s.document}/{s.name}"))
            self.bar.update(1)
            if n >= total:
                self.bar.close()
        self.stream.flush()


def cmd_report(args: argparse.Namespace) -> int:
    from gradcheck.report.run import ReportError, available_documents, report

    from gradcheck.outputs import OutputError, check_output_dir

    t0 = time.perf_counter()
    try:
        if not args.list:
            check_output_dir(args.out, "--out")  # before any check runs, not after an hour of them
        if args.list:
            for doc_id, d in available_documents(args.modules).items():
                print(f"{doc_id}\t{len(d.claims)} claims\t{d.title}")
            return EXIT_OK
        files = report(args.out, documents=args.documents, oracles=tuple(dict.fromkeys(args.oracles or ())) or None,
                       jobs=args.jobs, modules=tuple(args.modules), progress=Progress(enabled=not args.quiet),
                       cache=not args.no_cache)
    except (ReportError, OutputError) as exc:
        print(f"gradcheck report: error: {textsafe.terminal_lines(exc)}", file=sys.stderr)
        return EXIT_USAGE
    wall = time.perf_counter() - t0
    results = [s for _, rs in files.doc_results for s in rs]
    unexpected = [s for s in results if s.expected_ok is False]
    if not args.quiet:
        tally: dict[str, int] = {}
        for s in results:
            tally[s.verdict] = tally.get(s.verdict, 0) + 1
        print(f"gradcheck report: {len(results)} claims in {len(files.doc_results)} documents: "
              + ", ".join(f"{n} {v}" for v, n in tally.items()), file=sys.stderr)
        for s in unexpected:
            print(textsafe.terminal(f"  NOT AS EXPECTED: {s.document}/{s.name}: {s.verdict}"
                                    f"{' (' + s.diagnosis.kind + ')' if s.diagnosis else ''}, expected {s.expect}"
                                    f"{' (' + s.expect_diagnosis + ')' if s.expect_diagnosis else ''}"),
                  file=sys.stderr)
        reused = (f"; {files.reused} of {len(results)} results reused from an earlier run, --no-cache checks anew"
                  if files.reused else "")
        print(f"wrote {files.markdown}, {files.json} and {len(files.figures)} figures in {wall:.1f} s "
              f"(wall time{reused})", file=sys.stderr)
    return EXIT_UNEXPECTED if unexpected else EXIT_OK


# ---------------------------------------------------------------------------------------------- check
def cmd_check(args: argparse.Namespace) -> int:
    hw = _homework_cli()
    if hw is None or not hasattr(hw, "run_check"):
        print("gradcheck check: error: homework checking (gradcheck.homework) is not installed", file=sys.stderr)
        return EXIT_USAGE
    return int(hw.run_check(args) or 0)


# ---------------------------------------------------------------------------------------------- main
def _wants_check(argv: Sequence[str]) -> bool:
    for a in argv:
        if not a.startswith("-"):
            return a == "check"
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code (:data:`EXIT_INTERRUPTED` after Ctrl-C, at any moment)."""
    try:
        return _command(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        print("gradcheck: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. piped into head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_UNEXPECTED


def _command(argv: list[str]) -> int:
    parser = build_parser(with_check=_wants_check(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    if args.version:
        from gradcheck import __version__

        print(f"gradcheck {__version__}")
        return EXIT_OK
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return args.handler(args)


def _silent_on_interrupt(kind: type[BaseException], value: BaseException, tb: object) -> None:
    if not issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)  # type: ignore[arg-type]


_SIGINTS: list[int] = []  # Ctrl-C seen by this program (see run)


def _on_sigint(signum: int, frame: object) -> None:
    _SIGINTS.append(signum)
    raise KeyboardInterrupt


def _interrupt_main() -> None:
    """SIGINT to the main thread: a real signal, which also ends a wait in a system call."""
    if hasattr(signal, "pthread_kill"):
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
    else:  # pragma: no cover - Windows
        _thread.interrupt_main(signal.SIGINT)


def _on_unraisable(unraisable: Any) -> None:
    """Ctrl-C that landed where Python ignores exceptions (a garbage-collection callback of JAX's,
    a fork hook) is delivered again, at the next point where it can stop the run; other
    unraisable exceptions are printed as usual."""
    if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
        # from another thread, a moment later: from this one, the handler would run at once,
        # inside the same callback, and be dropped again
        again = threading.Timer(0.01, _interrupt_main)
        again.daemon = True
        try:
            again.start()
        except RuntimeError:  # the interpreter is shutting down: the run is over
            pass
        return
    sys.__unraisablehook__(unraisable)


def run() -> None:
    """The program (``gradcheck`` and ``python -m gradcheck``): :func:`main`, then its exit code.

    After Ctrl-C, :func:`main` has said "gradcheck: interrupted" and stopped its workers; the
    interrupt is then left unhandled, without a traceback, so that Python finishes as usual (atexit,
    buffers flushed) and ends the process by SIGINT. A shell sees 130 either way, but only a process
    that died of SIGINT stops ``for f in *.toml; do gradcheck check "$f"; done`` (bash stops the loop
    when its child dies of the signal, not when it exits 130). Exiting 130 was not even reliable:
    with Ctrl-C 0.1-0.4 s after the start (while JAX loads), 3 runs in 80 died of SIGINT after
    gradcheck had caught the interrupt and said so (CPython 3.11; the mechanism was not pinned down),
    which is how CI first saw a -2 where the test expected 130.

    Ctrl-C is recorded as it arrives: an interrupt that library code turned into another error (an
    import cut short is reported by numpy as "cannot load module more than once") still ends the
    run as interrupted, not as that error. One that Python itself dropped ("Exception ignored in
    _xla_gc_callback": it landed in a garbage-collection callback) is raised again at once.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)
        sys.unraisablehook = _on_unraisable
    code = main()
    if code == EXIT_INTERRUPTED or _SIGINTS:
        if code != EXIT_INTERRUPTED:
            print("gradcheck: interrupted", file=sys.stderr)
        die_of_interrupt()
    sys.exit(code)


def die_of_interrupt() -> None:
    """Leave a KeyboardInterrupt unhandled and untold: Python ends the process by SIGINT."""
    sys.excepthook = _silent_on_interrupt
    raise KeyboardInterrupt


if __name__ == "__main__":
    run()
