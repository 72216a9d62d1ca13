#!/usr/bin/env python3
"""WellCheck's two set-up commands, needing only Python 3.11+ on the machine.

    python3 dev.py run     # venv, install, SQLite in ./data, migrate, demo data, worker + web app
    python3 dev.py test    # venv with test tools, browser if missing, the whole test suite

`run` keeps its data between runs (./data, or WELLCHECK_DATA_DIR). `test` runs on SQLite unless
WELLCHECK_DATABASE_URL names another database (CI runs it on SQLite and on PostgreSQL). Extra
arguments after `test` go to pytest, e.g. `python3 dev.py test tests/intake -x`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
CHROMIUM = Path("/usr/bin/chromium")


def say(msg: str) -> None:
    print(f"[wellcheck] {msg}", flush=True)


def run(cmd: list[str], **kw: object) -> None:
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


def ensure_python() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (dev.py may be started by an older python3)
        sys.exit(f"WellCheck needs Python 3.11 or newer; this is {sys.version.split()[0]}.")


def ensure_venv(extras: str) -> None:
    """Create .venv and install WellCheck (editable) with ``extras``; skip when nothing changed."""
    if not PY.exists():
        say("creating the virtual environment in .venv")
        run([sys.executable, "-m", "venv", str(VENV)])
    stamp = VENV / f".installed-{extras or 'base'}"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != want:
        say(f"installing WellCheck{'[' + extras + ']' if extras else ''} and its dependencies")
        run([str(PY), "-m", "pip", "install", "-q", "--upgrade", "pip"])
        target = f".[{extras}]" if extras else "."
        run([str(PY), "-m", "pip", "install", "-q", "-e", target], cwd=ROOT)
        stamp.write_text(want)
    compile_bytecode()


def compile_bytecode() -> None:
    """Compile WellCheck's own modules to bytecode (``__pycache__``), as pip does for the packages
    it installs. The editable install leaves them as source, and where Python may not write its
    cache (``PYTHONDONTWRITEBYTECODE``) every command compiled them again: about 70 ms of each
    ``wellcheck`` command's start. Only changed files are compiled (40 ms when none changed); a
    stale cache is never used (Python checks each source's time and size). Not fatal: where the
    checkout cannot be written, the commands run from source as before."""
    if subprocess.call([str(PY), "-m", "compileall", "-q", "wellcheck", "manage.py"], cwd=ROOT):
        say("could not compile WellCheck's modules to bytecode; they run from source")


def ensure_chromium() -> None:
    """Browser tests drive Debian's chromium (Playwright's own browser download does not work on
    air-gapped machines). Install it with apt when we are root on Debian; otherwise say how."""
    if CHROMIUM.exists():
        return
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        say("installing Debian's chromium for the browser tests (apt-get)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run([apt, "update", "-qq"], env=env)
        run([apt, "install", "-y", "-qq", "chromium"], env=env)
        return
    say(
        "chromium is missing: browser tests will be skipped (install Debian's 'chromium' "
        "package; CI sets WELLCHECK_REQUIRE_BROWSER=1 to fail instead)"
    )


def wellcheck(*args: str, env: dict[str, str] | None = None) -> None:
    run([str(BIN / "wellcheck"), *args], cwd=ROOT, env=env)


def cmd_run() -> None:
    ensure_venv("")
    env = dict(os.environ)
    env.setdefault("WELLCHECK_DATA_DIR", str(ROOT / "data"))
    env.setdefault("WELLCHECK_DEMO", "1")
    env.setdefault("WELLCHECK_MFA_REQUIRED", "0")  # the demo shows a banner saying MFA is off
    Path(env["WELLCHECK_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    say(f"data folder: {env['WELLCHECK_DATA_DIR']}")
    wellcheck("migrate", "--no-input", "-v", "0", env=env)
    wellcheck("seed-demo", env=env)
    say("starting the background worker, the daily-job scheduler and the web app")
    helpers = [
        subprocess.Popen([str(BIN / "wellcheck"), name], cwd=ROOT, env=env)
        for name in ("db_worker", "scheduler")
    ]
    say("WellCheck is at http://127.0.0.1:8000/ (Ctrl-C stops it)")
    try:
        wellcheck("runserver", "--noreload", "--insecure", "127.0.0.1:8000", env=env)
    except (KeyboardInterrupt, subprocess.CalledProcessError):
        pass
    finally:
        for proc in helpers:
            proc.send_signal(signal.SIGTERM)
        for proc in helpers:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def cmd_test(args: list[str]) -> int:
    ensure_venv("dev")
    ensure_chromium()
    env = dict(os.environ)
    if "WELLCHECK_DATA_DIR" not in env:
        env["WELLCHECK_DATA_DIR"] = str(ROOT / "data" / "test")
    Path(env["WELLCHECK_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    db = env.get("WELLCHECK_DATABASE_URL", "sqlite (in-memory test database)")
    say(f"running the test suite on {db.split('@')[-1]}")
    started = time.monotonic()
    code = subprocess.call([str(PY), "-m", "pytest", *args], cwd=ROOT, env=env)
    say(f"test run finished in {time.monotonic() - started:.0f} s with exit code {code}")
    return code


def main(argv: list[str]) -> int:
    ensure_python()
    if len(argv) < 2 or argv[1] not in {"run", "test", "setup"}:
        print(__doc__)
        return 2
    if argv[1] == "run":
        cmd_run()
        return 0
    if argv[1] == "setup":
        ensure_venv("dev")
        ensure_chromium()
        return 0
    return cmd_test(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
