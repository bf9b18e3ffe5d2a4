"""gunicorn settings for production: ``gunicorn -c python:zoomadmin.gunicorn_conf``."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Threads, not processes, carry the load: most of a request's time is spent waiting on
# Zoom. The Zoom calls in flight per process are capped below `threads`, so a slow
# Zoom can never take every thread and leave the audit page unanswered.
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 60
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
# Request bodies are small forms; refuse absurd header sizes early.
limit_request_field_size = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

_zoom_calls = int(os.environ.get("ZOOM_MAX_CONCURRENCY", "4"))
if _zoom_calls >= threads:
    raise SystemExit(
        f"ZOOM_MAX_CONCURRENCY ({_zoom_calls}) must be below GUNICORN_THREADS ({threads}), "
        "or a slow Zoom can occupy every thread"
    )
