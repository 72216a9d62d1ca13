"""The `wellcheck` command: Django's manage.py, installed as a console script.

Hyphenated sub-commands (`wellcheck seed-demo`, `wellcheck import-calls`) map to Django command
modules with underscores.
"""

from __future__ import annotations

import os
import sys
import threading


def main(argv: list[str] | None = None) -> None:
    """Run a command. As the program itself (``argv`` None: the console script, manage.py), the
    process then ends without tearing the interpreter down (see :func:`exit_now`)."""
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wellcheck.settings")
    from django.core.management import execute_from_command_line

    if argv is not None:  # called from Python code: an ordinary return or SystemExit
        execute_from_command_line(args)
        return
    try:
        execute_from_command_line(args)
    except SystemExit as exc:
        exit_now(exc.code)
    exit_now(0)


def exit_now(code: str | int | None) -> None:
    """End the process as ``sys.exit(code)`` would, without the interpreter's teardown.

    Python's own exit frees every module and object one by one: after Django has loaded, that
    took 0.1-0.23 s of CPU here (a fifth of a second per `import-calls` run, 5% of a million-row
    import), for memory the operating system takes back at once. What an exit must still do is
    done: the registered exit functions run (logging's flush, multiprocessing's clean-up), the
    database connections are closed (PostgreSQL sees a clean end, not a dropped socket) and the
    standard streams flushed. While any thread the program started is still running, the normal
    exit is taken, which waits for it."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if any(t.is_alive() and not t.daemon for t in others):
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): printed, status 1
        print(code, file=sys.stderr)
        status = 1
    if "django.db" in sys.modules:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 (best effort: the socket closes with the process)
            pass
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing left to flush
            pass
    os._exit(status)


if __name__ == "__main__":
    main()
