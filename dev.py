#!/usr/bin/env python3
"""zoomadmin's two commands, for a fresh clone with nothing but Python 3.12+:

    python3 dev.py run     set up, then start the Zoom sandbox, the dashboard and the worker
    python3 dev.py test    set up, then run the whole test suite (pytest arguments pass through)
    python3 dev.py lock    regenerate requirements/*.txt from pyproject.toml (maintainers)

Setting up means: a virtualenv in .venv, the pinned and hash-checked packages of
requirements/, database migrations. It is repeated only when a lock file changes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
LOCKS = {"run": ROOT / "requirements" / "base.txt", "test": ROOT / "requirements" / "dev.txt"}
MINIMUM_PYTHON = (3, 12)
IN_VENV_MARK = "ZOOMADMIN_DEV_IN_VENV"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "lock"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        run_options(rest)  # a typo fails now, not after the packages are installed
    if os.environ.get(IN_VENV_MARK) != "1":
        return bootstrap(command, rest)
    os.chdir(ROOT)
    if command == "run":
        return run(rest)
    if command == "test":
        return test(rest)
    return lock()


# --- Stage 1, any Python 3.12+: the virtualenv and its packages -------------------


def bootstrap(command: str, rest: list[str]) -> int:
    ensure_python()
    ensure_venv(LOCKS["test" if command in {"test", "lock"} else "run"])
    env = {**os.environ, IN_VENV_MARK: "1"}
    # Hand over to the virtualenv's Python, which has Django.
    return subprocess.call([str(VENV_PYTHON), str(Path(__file__)), command, *rest], env=env)


def ensure_python() -> None:
    if sys.version_info >= MINIMUM_PYTHON:
        return
    for name in ("python3.14", "python3.13", "python3.12"):
        found = shutil.which(name)
        if (
            found
            and subprocess.call([found, "-c", "import sys; sys.exit(sys.version_info < (3, 12))"])
            == 0
        ):
            os.execv(found, [found, *sys.argv])  # noqa: S606 - re-run this script
    sys.exit(
        f"zoomadmin needs Python 3.12 or newer; this is {sys.version.split()[0]}. "
        "Install one (for example with pyenv) and run this command with it."
    )


def ensure_venv(lock_file: Path) -> None:
    if not VENV_PYTHON.exists():
        print(f"Creating the virtualenv in {VENV.relative_to(ROOT)}/ …", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
    stamp = VENV / f".installed-{lock_file.stem}"
    digest = hashlib.sha256(lock_file.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"Installing the pinned packages of {lock_file.relative_to(ROOT)} …", flush=True)
    subprocess.check_call(
        [
            str(VENV_PYTHON),
            "-m",
            "pip",
            "install",
            "-qq",
            "--disable-pip-version-check",
            "--require-hashes",
            "--no-deps",
            "-r",
            str(lock_file),
        ]
    )
    stamp.write_text(digest)


# --- Stage 2, inside the virtualenv --------------------------------------------------


def manage(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.check_call([sys.executable, str(ROOT / "manage.py"), *args], env=env)


def run_options(rest: list[str]) -> argparse.Namespace:
    """``dev.py run``'s options; exits with argparse's message (status 2) on a bad one."""
    parser = argparse.ArgumentParser(
        prog="python3 dev.py run",
        description="Start the Zoom sandbox, the dashboard and the worker.",
    )
    parser.add_argument(
        "--port",
        type=_number_from(1, 65535),
        default=os.environ.get("PORT", "8000"),
        help="the dashboard's port (default: $PORT or 8000)",
    )
    parser.add_argument(
        "--users",
        type=_number_from(1, 1_000_000),
        default=300,
        help="how many users the sandbox seeds (default 300; the directory benchmark uses 100000)",
    )
    return parser.parse_args(rest)


def _number_from(low: int, high: int) -> Callable[[str], int]:
    def number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not from {low} to {high}")
        return value

    return number


def run(rest: list[str]) -> int:
    from zoomadmin.env import load_dotenv

    options = run_options(rest)
    port, users = str(options.port), str(options.users)
    load_dotenv(ROOT / os.environ.get("DOTENV_FILE", ".env"))
    # The embedded defaults: a development server on SQLite and the built-in Zoom
    # sandbox. Anything set in the environment or .env wins.
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("ZOOM_SANDBOX", "1")
    sandbox = os.environ["ZOOM_SANDBOX"] == "1"

    manage("migrate", "--noinput", "--verbosity", "0")
    children: list[subprocess.Popen[bytes]] = []
    try:
        if sandbox:
            children.append(
                subprocess.Popen(
                    [sys.executable, str(ROOT / "manage.py"), "zoom_sandbox", "--users", users]
                )
            )
            wait_for(sandbox_origin() + "/_sandbox/state", "the Zoom sandbox", children[-1])
        url = f"http://127.0.0.1:{port}/"
        server = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "runserver",
                f"127.0.0.1:{port}",
                "--noreload",
            ]
        )
        children.append(server)
        wait_for(url + "healthz", "the dashboard", server)
        print_welcome(url, sandbox, options.users)
        # Background tasks, and the directory sync on its schedule (the first one now).
        # Started after the welcome, so its log lines never split the sign-in details.
        children.append(
            subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), "zoom_worker", "--no-reload"]
            )
        )
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
                try:
                    child.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    child.kill()


def sandbox_origin() -> str:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zoomadmin.settings")
    django.setup()
    from django.conf import settings

    return settings.ZOOM_API_BASE_URL.removesuffix("/v2")


def wait_for(url: str, what: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{what} stopped before it was ready (exit status {process.returncode}).")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback only
                return
        except OSError:  # refused, or an error status: not ready yet (URLError is one)
            time.sleep(0.2)
    sys.exit(f"{what} did not answer at {url} within {seconds:g} seconds.")


def print_welcome(url: str, sandbox: bool, users: int) -> None:
    print("\n" + "=" * 72)
    print(f"zoomadmin is running at {url}   (Ctrl-C stops it)\n")
    if sandbox:
        print("Sign in with one of these demo accounts (new passwords on every run):")
        manage("create_demo_staff")
        from zoomadmin.zoom.sandbox import seed_users

        seeded = seed_users(users)  # the sandbox's users, for the same count and seed
        sso = next(u for u in seeded if 101 in u.login_types and u.status == "active")
        other = next(u for u in seeded if 101 not in u.login_types and u.status == "active")
        print("\nZoom is the built-in sandbox (ZOOM_SANDBOX=1). Users to search for:")
        print(f"  {sso.email}  (SSO)")
        print(f"  {other.email}  (not SSO: Zoom may not sign them out)")
        print(f"  or part of a name, such as {sso.first_name[:3]}: the directory syncs now")
    else:
        print("Sign in with a staff account (create one: python manage.py createsuperuser).")
    print("=" * 72 + "\n", flush=True)


def test(rest: list[str]) -> int:
    return subprocess.call([sys.executable, "-m", "pytest", *rest])


def lock() -> int:
    common = ["--universal", "--generate-hashes", "--python-version", "3.12", "--quiet"]
    uv = [sys.executable, "-m", "uv", "pip", "compile", "pyproject.toml", *common]
    subprocess.check_call([*uv, "-o", "requirements/base.txt"])
    subprocess.check_call(
        [
            *uv,
            "--extra",
            "dev",
            "--constraint",
            "requirements/base.txt",
            "-o",
            "requirements/dev.txt",
        ]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
