"""gunicorn's settings file: its numbers come from the environment (and .env), and a
bad one stops gunicorn with a message that names it."""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

CONF = Path(__file__).resolve().parent.parent / "zoomadmin" / "gunicorn_conf.py"


def load(**environ: str) -> dict[str, Any]:
    with mock.patch.dict(os.environ, {"DOTENV_FILE": "", **environ}, clear=True):
        return runpy.run_path(str(CONF))


def test_the_defaults_are_two_workers_of_eight_threads() -> None:
    conf = load()
    assert (conf["workers"], conf["threads"], conf["worker_class"]) == (2, 8, "gthread")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GUNICORN_WORKERS", "two", "GUNICORN_WORKERS: expected a whole number, got 'two'"),
        ("GUNICORN_THREADS", "0", "GUNICORN_THREADS: expected a number from 1 to 256, got 0"),
        ("ZOOM_MAX_CONCURRENCY", "4x", "ZOOM_MAX_CONCURRENCY: expected a whole number"),
    ],
)
def test_a_bad_number_stops_gunicorn_naming_the_variable(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(SystemExit, match=f"zoomadmin cannot start: {message}"):
        load(**{variable: value})


def test_zoom_calls_must_stay_below_the_threads() -> None:
    with pytest.raises(SystemExit, match=r"ZOOM_MAX_CONCURRENCY \(8\) must be below"):
        load(ZOOM_MAX_CONCURRENCY="8", GUNICORN_THREADS="8")


def test_the_dotenv_file_counts_as_it_does_for_the_settings(tmp_path: Path) -> None:
    dotenv = tmp_path / "prod.env"
    dotenv.write_text("GUNICORN_THREADS=4\nZOOM_MAX_CONCURRENCY=4\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"ZOOM_MAX_CONCURRENCY \(4\) must be below"):
        load(DOTENV_FILE=str(dotenv))
