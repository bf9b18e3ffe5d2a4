"""gunicorn settings for production: ``gunicorn -c python:zoomadmin.gunicorn_conf``."""

import os
from pathlib import Path

from zoomadmin import env

# The .env the settings read too (DOTENV_FILE; empty reads none), so that the check
# below compares the values the application will run with.
if _dotenv := env.get_str("DOTENV_FILE", ".env"):
    env.load_dotenv(Path(__file__).resolve().parent.parent / _dotenv)


def _number(name: str, default: int, maximum: int) -> int:
    """A whole number from the environment; a bad one stops gunicorn, naming it."""
    try:
        return env.get_int(name, default, minimum=1, maximum=maximum)
    except env.ConfigError as error:
        raise SystemExit(f"zoomadmin cannot start: {error}") from None


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Threads, not processes, carry the load: most of a request's time is spent waiting on
# Zoom. The Zoom calls in flight per process are capped below `threads`, so a slow
# Zoom can never take every thread and leave the audit page unanswered.
worker_class = "gthread"
workers = _number("GUNICORN_WORKERS", 2, maximum=64)
threads = _number("GUNICORN_THREADS", 8, maximum=256)
timeout = 60
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
# Request bodies are small forms; refuse absurd header sizes early.
limit_request_field_size = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# The same bounds as settings.ZOOM_MAX_CONCURRENCY.
_zoom_calls = _number("ZOOM_MAX_CONCURRENCY", 4, maximum=64)
if _zoom_calls >= threads:
    raise SystemExit(
        f"ZOOM_MAX_CONCURRENCY ({_zoom_calls}) must be below GUNICORN_THREADS ({threads}), "
        "or a slow Zoom can occupy every thread"
    )
