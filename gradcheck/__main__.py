"""``python -m gradcheck``: the same as the ``gradcheck`` command."""

import sys

if __name__ == "__main__":
    try:
        from gradcheck.cli import run
    except KeyboardInterrupt:  # Ctrl-C while the command line loads (a few ms)
        print("gradcheck: interrupted", file=sys.stderr)
        sys.excepthook = lambda kind, value, tb: None  # as gradcheck.cli.run: no traceback, death by SIGINT
        raise
    run()
