#!/usr/bin/env python3
"""Force-logout throughput against the Zoom sandbox over real HTTP, at Zoom's rate limit.

    .venv/bin/python bench/zoom_bench.py [--count 600] [--plan pro] [--threads 8]
                                         [--database-url postgres://postgres@127.0.0.1:5432/x]

Fires ``--count`` force logouts (the full action: audit intent, DELETE /users/{id}/token,
audit result) from one process with ``--threads`` threads, then the same number from two
processes at once, all sharing one database (so one rate limiter) and one sandbox (whose
own limiter answers 429 past the plan's per-second limit). Prints, for each run: requests
per second sent against the limit, the busiest one-second window Zoom saw, 429s received,
retries, failures, and audit intents left without an outcome. Target: at least 95% of the
limit, zero lost actions, zero 429s left unretried, Zoom never above the limit.

Without --database-url it uses a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import (  # noqa: E402
    SANDBOX_CREDENTIALS,
    environment,
    recreate_database,
    setup_django,
)


def fire(targets: list[dict[str, Any]], threads: int, reason: str) -> dict[str, Any]:
    """Force out every target with a thread pool; return what this process saw."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import RequestFactory

    from zoomadmin.helpdesk.actions import do_force_logout
    from zoomadmin.helpdesk.targets import Target

    actor, _ = User.objects.get_or_create(username="bench-agent")
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def one(data: dict[str, Any]) -> None:
        request = RequestFactory().post("/force-logout/", REMOTE_ADDR="127.0.0.1")
        request.user = actor
        result = do_force_logout(
            Target(**data), reason=reason, submission_id=uuid.uuid4(), request=request
        )
        with lock:
            outcomes[str(result.outcome)] = outcomes.get(str(result.outcome), 0) + 1
        connection.close()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, targets))
    return {"seconds": time.monotonic() - started, "outcomes": outcomes}


def worker_main() -> None:
    """A second process: reads its targets as JSON on stdin, prints its figures."""
    setup_django("zoomadmin")
    job = json.loads(sys.stdin.read())
    print(json.dumps(fire(job["targets"], job["threads"], job["reason"])))


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def report(
    name: str, reason: str, sandbox: Any, since: int, count: int, seconds: float, limit: int
) -> dict[str, Any]:
    from zoomadmin.audit.models import Action, AuditEvent

    calls = [r for r in sandbox.requests[since:] if r.endpoint == "revoke"]
    accepted = [r.at for r in calls if r.status == 204]
    rejected = sum(1 for r in calls if r.status == 429)
    intents = AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_REQUESTED, reason=reason)
    lost = intents.filter(results__isnull=True).count()
    unretried = AuditEvent.objects.filter(
        action=Action.FORCE_LOGOUT_RESULT, reason=reason, zoom_status=429
    ).count()
    failed = (
        AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_RESULT, reason=reason)
        .exclude(outcome="success")
        .count()
    )
    # The rate Zoom saw, from its first request to its last: process start-up is not
    # sending. (n - 1) gaps fit in that span.
    span = max(accepted) - min(accepted) if len(accepted) > 1 else 0.0
    rate = (len(accepted) - 1) / span if span else 0.0
    figures = {
        "run": name,
        "force_logouts": count,
        "wall_seconds": round(seconds, 2),
        "seconds_at_zoom": round(span, 2),
        "sent_per_second": round(rate, 2),
        "limit_per_second": limit,
        "percent_of_limit": round(100 * rate / limit, 1),
        "busiest_second_at_zoom": busiest_second(accepted),
        "429s_received": rejected,
        "retries": len(calls) - count,
        "failures": failed,
        "429s_left_unretried": unretried,
        "intents_without_outcome": lost,
    }
    print(f"\n{name}")
    for key, value in figures.items():
        if key != "run":
            print(f"  {key.replace('_', ' '):28} {value}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--plan", choices=["free", "pro", "business"], default="pro")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main()
        return

    workdir = Path(tempfile.mkdtemp(prefix="zoombench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.update(
        environment(
            ALLOWED_HOSTS="localhost",
            DATABASE_URL=database_url,
            ZOOM_PLAN=args.plan,
            **SANDBOX_CREDENTIALS,
        )
    )
    if args.database_url.startswith("postgres"):
        reset_postgres_database(args.database_url)

    from zoomadmin.zoom.sandbox import ZoomSandbox
    from zoomadmin.zoom.sandbox.server import make_server

    sandbox = ZoomSandbox(user_count=max(300, args.count), plan=args.plan)
    server = make_server(sandbox, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["ZOOM_API_BASE_URL"] = f"{server.origin}/v2"
    os.environ["ZOOM_OAUTH_BASE_URL"] = server.origin
    setup_django("zoomadmin")
    from django.core.management import call_command

    from zoomadmin.helpdesk.targets import Target
    from zoomadmin.zoom.ratelimit import per_second

    call_command("migrate", verbosity=0)
    limit = per_second("light")
    users = [u for u in sandbox.users if u.id][: args.count]
    targets = [
        Target(u.id, u.email, u.email, u.status, tuple(u.login_types)).__dict__ for u in users
    ]
    print(f"Zoom sandbox at {server.origin}: plan {args.plan}, Light limit {limit}/s")
    print(f"database: {database_url}")

    since = len(sandbox.requests)
    one = fire(targets, args.threads, "benchmark: one process")
    first = report(
        "one process", "benchmark: one process", sandbox, since, len(targets), one["seconds"], limit
    )
    since = len(sandbox.requests)
    half = len(targets) // 2
    started = time.monotonic()
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker, share in zip(workers, (targets[:half], targets[half:]), strict=True):
        if worker.stdin is None:
            raise RuntimeError("the worker has no stdin")
        job = {"targets": share, "threads": args.threads, "reason": "benchmark: two processes"}
        worker.stdin.write(json.dumps(job))
        worker.stdin.close()
    for worker in workers:
        worker.wait()
    seconds = time.monotonic() - started
    second = report(
        "two processes at once",
        "benchmark: two processes",
        sandbox,
        since,
        len(targets),
        seconds,
        limit,
    )
    server.shutdown()
    ok = all(
        f["percent_of_limit"] >= 95
        and f["busiest_second_at_zoom"] <= limit
        and f["429s_left_unretried"] == 0
        and f["intents_without_outcome"] == 0
        and f["failures"] == 0
        for f in (first, second)
    )
    print("\ntarget met" if ok else "\nTARGET MISSED")
    sys.exit(0 if ok else 1)


def reset_postgres_database(url: str) -> None:
    """Drop and create the benchmark's own database (never the app's)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith(("zoomadmin_bench", "zoombench")):
        sys.exit(
            "--database-url must name a database starting with zoombench or zoomadmin_bench "
            "(it is dropped)"
        )
    recreate_database(parts._replace(path="").geturl(), name)


if __name__ == "__main__":
    main()
