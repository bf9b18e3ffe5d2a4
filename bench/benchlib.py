"""What the benchmark scripts share: the environment they run the app under, Django's
set-up, percentiles, the closing list of targets, and a throwaway PostgreSQL database."""

from __future__ import annotations

import logging
import os
import statistics

import psycopg

# What the sandbox accepts (settings.SANDBOX_*), for a benchmark whose Zoom is one.
SANDBOX_CREDENTIALS = {
    "ZOOM_ACCOUNT_ID": "sandbox-account",
    "ZOOM_CLIENT_ID": "sandbox-client",
    "ZOOM_CLIENT_SECRET": "sandbox-secret",
}


def environment(**values: str) -> dict[str, str]:
    """This process's environment plus production settings (DEBUG off, no .env,
    throwaway keys, no built-in sandbox), then ``values``: the database, the hosts and
    the Zoom of this benchmark. Child processes are given the same."""
    return {
        **os.environ,
        "DOTENV_FILE": "",
        "DEBUG": "0",
        "SECRET_KEY": "bench-secret-key-" + "b" * 48,
        "TOKEN_ENCRYPTION_KEYS": "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktMDA=",
        "ZOOM_SANDBOX": "0",
        "DJANGO_SETTINGS_MODULE": "zoomadmin.settings",
        **values,
    }


def setup_django(*quiet: str, level: int = logging.WARNING) -> None:
    """``django.setup()`` under the environment already in place, then raise the
    ``quiet`` loggers to ``level``: a benchmark's output is its figures."""
    import django

    django.setup()
    for name in quiet:
        logging.getLogger(name).setLevel(level)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def p50_p95(values: list[float]) -> str:
    return f"p50 {statistics.median(values):6.1f} ms   p95 {percentile(values, 0.95):6.1f} ms"


class Targets:
    """The closing checklist: each target printed as met or MISSED; ``met`` if all were."""

    def __init__(self) -> None:
        self.met = True
        print("\nTargets:")

    def check(self, line: str, passed: bool) -> None:
        self.met = self.met and passed
        print(f"  [{'ok' if passed else 'MISSED'}] {line}")


def _admin(server: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(f"{server}/postgres", autocommit=True)


def recreate_database(server: str, name: str) -> None:
    """Drop (if any) and create the benchmark's own database ``name`` on ``server``."""
    with _admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_exists(server: str, name: str) -> bool:
    with _admin(server) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return found.fetchone() is not None


def drop_database(server: str, name: str) -> None:
    with _admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
