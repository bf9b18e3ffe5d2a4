"""manage.py as a deployment starts it: a new process that sees only the environment given."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
_VENV_PYTHON = BASE_DIR / ".venv" / "bin" / "python"
PYTHON = str(_VENV_PYTHON) if _VENV_PYTHON.exists() else sys.executable


def manage_py(*args: str, environ: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """``manage.py *args`` with the production settings module, ``environ`` and PATH only
    (so a developer's shell cannot leak in); stdout and stderr are captured as text."""
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=BASE_DIR,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DJANGO_SETTINGS_MODULE": "zoomadmin.settings",
            **environ,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
