"""The `wellcheck` program ends without the interpreter's teardown (``wellcheck.__main__``), and
still ends as ``sys.exit`` would: the status, output written through a pipe, the exit functions,
threads still running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "WELLCHECK_DATA_DIR": str(tmp_path),
        "WELLCHECK_LOG_LEVEL": "ERROR",
    }
    env.pop("WELLCHECK_DATABASE_URL", None)  # nothing here needs a database: SQLite, unopened
    env.pop("PYTHONUNBUFFERED", None)  # buffered output, as a pipe gets by default
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "--no-startup", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_status_and_piped_output_survive(tmp_path: Path) -> None:
    # stdout is a pipe here, so block-buffered: the text is only there if the exit flushed it.
    result = _run("import sys; print('written'); sys.exit(3)", tmp_path)
    assert result.returncode == 3, result.stderr
    assert "written" in result.stdout


def test_a_message_is_printed_with_status_1(tmp_path: Path) -> None:
    result = _run("import sys; sys.exit('cannot go on')", tmp_path)
    assert result.returncode == 1
    assert "cannot go on" in result.stderr


def test_exit_functions_run(tmp_path: Path) -> None:
    result = _run("import atexit; atexit.register(print, 'exit function ran')", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "exit function ran" in result.stdout


def test_a_running_thread_is_waited_for(tmp_path: Path) -> None:
    code = (
        "import threading, time\n"
        "def late():\n"
        "    time.sleep(0.5)\n"
        "    print('thread finished', flush=True)\n"
        "threading.Thread(target=late).start()\n"
    )
    result = _run(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "thread finished" in result.stdout


def test_an_error_still_gives_its_traceback_and_status(tmp_path: Path) -> None:
    result = _run("raise ValueError('boom')", tmp_path)
    assert result.returncode == 1
    assert "ValueError: boom" in result.stderr
