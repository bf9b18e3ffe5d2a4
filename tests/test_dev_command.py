"""``python3 dev.py run``'s options: a bad one is refused with argparse's message before
anything is installed or started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DEV = Path(__file__).resolve().parent.parent / "dev.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEV), "run", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port"], "argument --port: expected one argument"),
        (["--port", "http"], "argument --port: 'http' is not a whole number"),
        (["--port", "70000"], "argument --port: 70000 is not from 1 to 65535"),
        (["--users"], "argument --users: expected one argument"),
        (["--users", "0"], "argument --users: 0 is not from 1 to 1000000"),
        (["--sandbox"], "unrecognized arguments: --sandbox"),
    ],
)
def test_a_bad_option_is_refused_by_name(args: list[str], message: str) -> None:
    result = run(*args)

    assert result.returncode == 2
    assert message in result.stderr
    assert "usage: python3 dev.py run" in result.stderr
    assert "Traceback" not in result.stderr
