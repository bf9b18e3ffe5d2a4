#!/usr/bin/env python3
"""The audit log at 1,000,000 rows: review pages, CSV export, concurrent appends.

    .venv/bin/python bench/audit_bench.py [--rows 1000000] [--runs 200] [--writers 8]
        [--appends 500] [--server postgres://postgres@127.0.0.1:5432] [--keep-database]
        [--explain]

Needs PostgreSQL. Creates the database ``zoomadmin_auditbench`` (dropped first if it
exists, and again at the end unless --keep-database), migrates it, then:

1. Load: --rows audit rows over the past year (40 staff, 20,000 Zoom users, the action
   mix of a busy helpdesk, results linked to their intents), hash-chained in Python with
   the application's own chain code and written with COPY in one transaction.
2. Review pages, server time: the /audit/ view in-process (Django's test client, DEBUG
   off, a signed-in manager), --runs times each: the first page; a filtered page (one
   staff member, one month: a different pair each run); page 1,000 through the keyset
   (the ``before`` cursor of the 1,000th page). Each page includes its summary strip.
   p50 and p95. Target: p95 at most 100 ms.
3. Export: /audit/export.csv of the whole log in a subprocess that streams the response
   to a file; rows per second and the process's peak RSS (ru_maxrss). Targets: at least
   50,000 rows/s, under 150 MB. The file is then checked with ``audit_verify --file``.
4. Appends: --writers threads calling ``record()`` --appends times each; appends per
   second, then ``audit_verify`` over the whole chain. Target: a valid chain.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import (  # noqa: E402
    Targets,
    database_exists,
    drop_database,
    environment,
    p50_p95,
    percentile,
    recreate_database,
    setup_django,
)

DATABASE = "zoomadmin_auditbench"
STAFF = 40
ZOOM_USERS = 20_000
PAGE_SIZE = 50
TARGET_PAGE_P95_MS = 100.0
TARGET_EXPORT_ROWS_PER_S = 50_000
TARGET_EXPORT_RSS_MB = 150.0

# (action, outcome, share): roughly what a helpdesk's log holds.
MIX = [
    ("search", "success", 0.46),
    ("search", "not_found", 0.06),
    ("sign_in", "success", 0.10),
    ("sign_out", "success", 0.08),
    ("sign_in_failed", "failed", 0.02),
    ("denied", "denied", 0.04),
    ("force_logout_requested", "", 0.12),  # each followed by its result
]
RESULT_OUTCOMES = [("success", 204, None), ("not_found", 404, 1001), ("failed", 429, 429)]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
]
REASONS = ["Laptop stolen", "Phished account", "Leaver", "Suspicious sign-in", "Shared device"]


def make_staff() -> dict[str, int]:
    from django.contrib.auth.models import Group, User

    helpdesk = Group.objects.get(name="Helpdesk")
    ids = {}
    for n in range(STAFF):
        user = User.objects.create_user(f"agent{n:02d}")
        user.groups.add(helpdesk)
        ids[user.username] = user.pk
    manager = User.objects.create_user("bench.manager")
    manager.groups.add(Group.objects.get(name="Managers"))
    return ids


def zoom_users(rng: random.Random) -> list[tuple[str, str]]:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    first = ["priya", "olivia", "liam", "noah", "emma", "ava", "mia", "lucas", "sofia", "ethan"]
    last = ["sharma", "taylor", "smith", "jones", "garcia", "martin", "chen", "kim", "lee"]
    return [
        (
            "".join(rng.choice(alphabet) for _ in range(22)),
            f"{rng.choice(first)}.{rng.choice(last)}.{n}@globex.example",
        )
        for n in range(ZOOM_USERS)
    ]


def generate(count: int, staff: dict[str, int], rng: random.Random) -> Iterator[dict[str, Any]]:
    """``count`` rows in order, oldest first, over the year before now; no chain yet."""
    users = zoom_users(rng)
    names = list(staff)
    weights = [share for _, _, share in MIX]
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / count
    row_id = 0
    while row_id < count:
        action, outcome, _ = rng.choices(MIX, weights)[0]
        actor = rng.choice(names)
        zoom_id, email = rng.choice(users)
        request_id = f"{rng.getrandbits(64):016x}"
        row_id += 1
        base: dict[str, Any] = {
            "id": row_id,
            "created_at": start + step * row_id,
            "actor_id": staff[actor],
            "actor_username": actor,
            "action": action,
            "outcome": outcome,
            "target_zoom_id": zoom_id if action in ("search", "force_logout_requested") else "",
            "target_email": email if action in ("search", "force_logout_requested") else "",
            "reason": "",
            "detail": f"query: {email}" if action == "search" else "",
            "zoom_status": 200 if action == "search" and outcome == "success" else None,
            "zoom_error_code": None,
            "zoom_message": "",
            "zoom_tracking_id": f"v=2.0;clid=us01;rid=WEB_{rng.getrandbits(128):032x}"
            if action == "search"
            else "",
            "client_ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "user_agent": rng.choice(AGENTS),
            "request_id": request_id,
            "intent_id": None,
            "submission_id": None,
        }
        if action == "denied":
            base["detail"] = "GET /audit/: needs Administrator or Managers"
        if action != "force_logout_requested":
            yield base
            continue
        reason = f"{rng.choice(REASONS)}, INC-{rng.randint(1000, 9999)}"
        base.update(reason=reason, detail="signs in with SSO", submission_id=uuid.uuid4())
        yield base
        if row_id >= count:
            return
        outcome, status, code = rng.choice(RESULT_OUTCOMES)
        row_id += 1
        yield {
            **base,
            "id": row_id,
            "created_at": start + step * row_id,
            "action": "force_logout_result",
            "outcome": outcome,
            "detail": "Zoom revoked the SSO token" if status == 204 else "Zoom refused",
            "zoom_status": status,
            "zoom_error_code": code,
            "zoom_tracking_id": f"v=2.0;clid=us01;rid=WEB_{rng.getrandbits(128):032x}",
            "intent_id": base["id"],
            "submission_id": None,
        }


def load(count: int, staff: dict[str, int]) -> float:
    """Write ``count`` chained rows with COPY in one transaction; the seconds it took."""
    from django.db import connection

    from zoomadmin.audit.chain import GENESIS_HASH, HASHED_FIELDS, row_digest

    started = time.perf_counter()
    rng = random.Random(4)
    prev_hash = GENESIS_HASH
    # The chain's own list of hashed fields, plus the hash: the load cannot drift from it.
    names = [*HASHED_FIELDS, "row_hash"]
    columns = ", ".join(names)
    connection.ensure_connection()
    raw = connection.connection
    if raw is None:
        raise SystemExit("no database connection")
    with raw.transaction(), raw.cursor() as cursor:
        with cursor.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
            for seq, row in enumerate(generate(count, staff, rng), start=1):
                row["seq"], row["prev_hash"] = seq, prev_hash
                row["row_hash"] = prev_hash = row_digest(row)
                copy.write_row([row[name] for name in names])
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), %s)", [count]
        )
    raw.autocommit = True
    with raw.cursor() as cursor:
        # What autovacuum would do soon after such a load: statistics and the visibility
        # map, without which no index-only scan is possible.
        cursor.execute("VACUUM (ANALYZE) audit_auditevent")
    return time.perf_counter() - started


# --- 2. Review pages ------------------------------------------------------------------------


def months() -> list[tuple[date, date]]:
    """The twelve whole months inside the loaded year."""
    today = datetime.now(UTC).date()
    spans = []
    year, month = today.year, today.month
    for _ in range(11):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        first = date(year, month, 1)
        after = date(year + (month == 12), month % 12 + 1, 1)
        spans.append((first, after - timedelta(days=1)))
    return spans


def page_1000_cursor() -> int:
    """The ``before`` cursor of page 1,000: the last row of page 999, in page order."""
    from zoomadmin.audit.models import AuditEvent
    from zoomadmin.audit.paging import NEWEST_FIRST

    ids = AuditEvent.objects.order_by(*NEWEST_FIRST).values_list("id", flat=True)
    return int(ids[PAGE_SIZE * 999 - 1])


def page_kinds(rng: random.Random) -> dict[str, tuple[bool, Callable[[], dict[str, str]]]]:
    """Each kind of page: (has a target, the query of one run). A new pair each run."""
    from zoomadmin.audit.models import AuditEvent

    spans = months()
    before = page_1000_cursor()
    emails = list(
        AuditEvent.objects.filter(seq__lte=5000)
        .exclude(target_email="")
        .values_list("target_email", flat=True)
    )

    def month() -> dict[str, str]:
        first, last = rng.choice(spans)
        return {"date_from": first.isoformat(), "date_to": last.isoformat()}

    return {
        "first page": (True, dict),
        "one staff member, one month": (
            True,
            lambda: {"actor": f"agent{rng.randrange(STAFF):02d}", **month()},
        ),
        "page 1,000 (keyset)": (True, lambda: {"before": str(before)}),
        "everyone, one month": (False, month),
        "one action, one month": (False, lambda: {"action": "force_logout_requested", **month()}),
        "reason contains (rare)": (False, lambda: {"reason": f"INC-{rng.randint(1000, 9999)}"}),
        "one Zoom user": (False, lambda: {"target": rng.choice(emails).upper()}),
    }


def bench_pages(runs: int) -> dict[str, tuple[bool, list[float]]]:
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username="bench.manager"))
    timings: dict[str, tuple[bool, list[float]]] = {}
    for kind, (targeted, query) in page_kinds(random.Random(7)).items():
        for _ in range(10):  # warm the connection and the caches
            client.get("/audit/", query())
        times = []
        for _ in range(runs):
            params = query()
            started = time.perf_counter()
            response = client.get("/audit/", params)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"/audit/ {params} answered {response.status_code}")
        timings[kind] = (targeted, times)
        note = "" if targeted else "  (no target; shown for comparison)"
        print(f"  {kind:28} ({runs} runs): {p50_p95(times)}{note}", flush=True)
    return timings


def explain_pages() -> None:
    """EXPLAIN ANALYZE of each kind of page's main query and of its summary query."""
    from django.db import connection

    from zoomadmin.audit.filters import AuditFilterForm
    from zoomadmin.audit.models import AuditEvent
    from zoomadmin.audit.paging import NEWEST_FIRST, older_than

    for label, (_, query) in page_kinds(random.Random(11)).items():
        data = query()
        before = data.pop("before", None)
        form = AuditFilterForm(data)
        if not form.is_valid():
            raise SystemExit(f"bad filter {data}: {form.errors}")
        events = form.apply(AuditEvent.objects.all())
        page = older_than(events, int(before)) if before else events
        queries = {
            "page": page.order_by(*NEWEST_FIRST)[: PAGE_SIZE + 1],
            "summary": events.order_by(*NEWEST_FIRST).values_list("action", "outcome")[:10_001],
        }
        for name, queryset in queries.items():
            sql, params = queryset.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                plan = "\n    ".join(row[0] for row in cursor.fetchall())
            print(f"\n  EXPLAIN ANALYZE, {label} {data or ''}, {name}:\n    {plan}")


# --- 3. Export ------------------------------------------------------------------------------


def export_child(path: str) -> None:
    """In the subprocess: stream /audit/export.csv to ``path``; print figures as JSON."""
    setup_django()
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username="bench.manager"))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.get("/audit/export.csv")
    written = 0
    with Path(path).open("wb") as handle:
        for chunk in response.streaming_content:  # type: ignore[attr-defined]
            handle.write(chunk)
            written += len(chunk)
    seconds = time.perf_counter() - started
    with Path(path).open("rb") as handle:
        rows = sum(1 for _ in handle) - 1  # the generated rows hold no line breaks
    print(
        json.dumps(
            {
                "status": response.status_code,
                "rows": rows,
                "bytes": written,
                "seconds": seconds,
                "rss_before_kb": rss_before,
                "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


def bench_export() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit.csv"
        done = subprocess.run(
            [sys.executable, __file__, "--export-child", str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        rate = figures["rows"] / figures["seconds"]
        figures["rows_per_s"] = rate
        figures["max_rss_mb"] = figures["max_rss_kb"] / 1024
        print(
            f"  CSV export: {figures['rows']:,} rows, {figures['bytes'] / 1e6:,.0f} MB in "
            f"{figures['seconds']:.1f} s = {rate:,.0f} rows/s; peak RSS "
            f"{figures['max_rss_mb']:.0f} MB (Django loaded: "
            f"{figures['rss_before_kb'] / 1024:.0f} MB)",
            flush=True,
        )
        started = time.perf_counter()
        verified = subprocess.run(
            [sys.executable, "manage.py", "audit_verify", "--file", str(path), "--contiguous"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        figures["file_verified"] = verified.returncode == 0
        summary = verified.stdout.strip().splitlines()[0] if verified.stdout else verified.stderr
        print(
            f"  audit_verify --file on it: exit {verified.returncode} in {seconds:.1f} s: {summary}"
        )
    return figures


# --- 4. Appends -----------------------------------------------------------------------------


def bench_appends(writers: int, each: int) -> dict[str, Any]:
    from django.db import connections

    from zoomadmin.audit.log import record
    from zoomadmin.audit.models import Action, Outcome
    from zoomadmin.audit.verify import verify_database

    gate = threading.Barrier(writers + 1)
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            record(Action.SEARCH, actor_username="warm-up")  # connect before the clock runs
            gate.wait()
            for i in range(each):
                record(
                    Action.SEARCH,
                    actor_username=f"writer{number}",
                    outcome=Outcome.SUCCESS,
                    detail=f"concurrent append {i}",
                )
        except BaseException as error:  # reported below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        sys.exit(f"a writer failed: {failures[0]!r}")
    rate = writers * each / seconds
    print(f"  {writers} writers x {each} appends: {rate:,.0f} appends/s", flush=True)
    started = time.perf_counter()
    report = verify_database()
    verify_seconds = time.perf_counter() - started
    print(
        f"  audit_verify: {'intact' if report.intact else 'NOT INTACT'}, {report.rows:,} rows "
        f"in {verify_seconds:.1f} s ({report.rows / verify_seconds:,.0f} rows/s); head "
        f"{report.head}",
        flush=True,
    )
    for problem in report.problems[:5]:
        print(f"    {problem.kind}: {problem.message}")
    return {"rate": rate, "intact": report.intact, "rows": report.rows}


# --- Main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200, help="requests per kind of page")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--appends", type=int, default=500, help="appends per writer")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="keep the database of an earlier --keep-database run instead of loading again",
    )
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans")
    parser.add_argument("--export-child", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.export_child:  # the export's own process, started by bench_export()
        export_child(args.export_child)
        return 0
    os.environ.update(
        environment(
            ALLOWED_HOSTS="testserver,localhost,127.0.0.1",
            SECURE_SSL_REDIRECT="0",  # the test client speaks http to "testserver"
            DATABASE_URL=f"{args.server}/{DATABASE}",
        )
    )
    if not (args.reuse_database and database_exists(args.server, DATABASE)):
        args.reuse_database = False
        recreate_database(args.server, DATABASE)
    try:
        return run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep_database or args.reuse_database):
            drop_database(args.server, DATABASE)


def run(args: argparse.Namespace) -> int:
    setup_django("django.request", level=logging.ERROR)
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    print(f"Audit benchmark: {args.rows:,} rows, PostgreSQL database {DATABASE}", flush=True)
    if args.reuse_database:
        print("  reusing the rows of an earlier run (--reuse-database)", flush=True)
    else:
        seconds = load(args.rows, make_staff())
        print(f"  loaded {args.rows:,} chained rows in {seconds:.1f} s", flush=True)
    pages = bench_pages(args.runs)
    if args.explain:
        explain_pages()
    connections.close_all()
    export = bench_export()
    appends = bench_appends(args.writers, args.appends)

    targets = Targets()
    for kind, (targeted, times) in pages.items():
        if targeted:
            p95 = percentile(times, 0.95)
            targets.check(
                f"{kind}: p95 {p95:.1f} ms <= {TARGET_PAGE_P95_MS:g} ms",
                p95 <= TARGET_PAGE_P95_MS,
            )
    targets.check(
        f"CSV export {export['rows_per_s']:,.0f} rows/s >= {TARGET_EXPORT_ROWS_PER_S:,}",
        export["rows_per_s"] >= TARGET_EXPORT_ROWS_PER_S,
    )
    targets.check(
        f"CSV export peak RSS {export['max_rss_mb']:.0f} MB < {TARGET_EXPORT_RSS_MB:g} MB",
        export["max_rss_mb"] < TARGET_EXPORT_RSS_MB,
    )
    targets.check("the exported file verifies against the chain", export["file_verified"])
    targets.check(
        f"{args.writers} concurrent writers ({appends['rate']:,.0f} appends/s) leave a valid "
        f"chain of {appends['rows']:,} rows",
        appends["intact"],
    )
    return 0 if targets.met else 1


if __name__ == "__main__":
    sys.exit(main())
