"""Intent first: a process killed during the Zoom call leaves its intent, and a database
that cannot be written stops the force logout before Zoom is called."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import OperationalError, connection

from tests.browser import conftest as browser_fixtures
from tests.conftest import signed_in
from tests.flows import HTMX, open_confirm_form, text, zoom_deletes
from zoomadmin.audit.models import Action, AuditEvent
from zoomadmin.zoom.sandbox import ZoomSandbox

REPO = Path(__file__).resolve().parents[2]
# The sandbox over real HTTP, from tests/browser (a conftest's fixtures reach its folder).
http_sandbox = browser_fixtures.http_sandbox

# What the killed process runs: the real do_force_logout, against the HTTP sandbox.
CHILD = """
import json, sys, uuid
import django
django.setup()
from django.conf import settings
from django.contrib.auth.models import User
from django.test import RequestFactory
from zoomadmin.helpdesk.actions import do_force_logout
from zoomadmin.helpdesk.targets import Target

origin, target = sys.argv[1], json.loads(sys.argv[2])
settings.ZOOM_API_BASE_URL = origin + "/v2"
settings.ZOOM_OAUTH_BASE_URL = origin
agent, _ = User.objects.get_or_create(username="hana.helpdesk")
request = RequestFactory().post("/force-logout/", REMOTE_ADDR="127.0.0.1")
request.user = agent
print("calling Zoom", flush=True)
do_force_logout(
    Target(**target, status="active", login_types=(101,)),
    reason="Stolen laptop, INC-99",
    submission_id=uuid.uuid4(),
    request=request,
)
print("Zoom answered", flush=True)
"""


def database_url(tmp_path: Path) -> str:
    """A URL a child process can reach: PostgreSQL's test database, or an SQLite file
    (the SQLite test database lives in this process's memory)."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        auth = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return f"sqlite:///{tmp_path / 'audit.sqlite3'}"


def child_env(url: str) -> dict[str, str]:
    """The environment of a child process that uses the database at ``url``."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": url}


def manage(url: str, *args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=child_env(url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **options,
    )


@pytest.fixture
def audit_rows(tmp_path: Path) -> Callable[[], list[dict[str, Any]]]:
    """The audit rows as the child processes left them, read without this test's ORM."""

    def read() -> list[dict[str, Any]]:
        sql = "SELECT id, action, outcome, intent_id, reason FROM audit_auditevent ORDER BY seq"
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(sql)
                names = [c.name for c in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        with sqlite3.connect(tmp_path / "audit.sqlite3") as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql)]

    return read


@pytest.mark.django_db(transaction=True)
def test_a_process_killed_during_the_zoom_call_leaves_the_intent_and_reconcile_resolves_it(
    tmp_path: Path,
    http_sandbox: ZoomSandbox,
    audit_rows: Callable[[], list[dict[str, Any]]],
) -> None:
    url = database_url(tmp_path)
    if connection.vendor == "sqlite":
        migrated = manage(url, "migrate", "--verbosity", "0")
        assert migrated.returncode == 0, migrated.stderr
    victim = next(u for u in http_sandbox.users if u.is_sso and u.status == "active")
    http_sandbox.add_fault(endpoint="revoke", delay=30)  # Zoom takes 30 s to answer
    target = {"zoom_id": victim.id, "email": victim.email, "name": victim.name}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, settings.ZOOM_OAUTH_BASE_URL, json.dumps(target)],
        cwd=REPO,
        env=child_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not [r for r in http_sandbox.requests if r.endpoint == "revoke"]:
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the child never called Zoom"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)  # mid-call: Zoom has the request, no answer yet
        out, _ = child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert "Zoom answered" not in out

    rows = audit_rows()
    intents = [r for r in rows if r["action"] == Action.FORCE_LOGOUT_REQUESTED]
    assert len(intents) == 1, rows
    assert intents[0]["reason"] == "Stolen laptop, INC-99"
    assert not [r for r in rows if r["action"] == Action.FORCE_LOGOUT_RESULT]
    # Zoom did get the revoke: only an honest "unknown" describes what happened.
    assert [r.user_id for r in http_sandbox.revocations] == [victim.id]

    reconciled = manage(url, "audit_reconcile", "--older-than", "0")
    assert reconciled.returncode == 0, reconciled.stderr
    assert f"Marked 1 intents as unknown, check Zoom: #{intents[0]['id']}" in reconciled.stdout
    again = manage(url, "audit_reconcile", "--older-than", "0")
    assert "Every force-logout intent has a result." in again.stdout

    rows = audit_rows()
    results = [r for r in rows if r["action"] == Action.FORCE_LOGOUT_RESULT]
    assert [(r["outcome"], r["intent_id"]) for r in results] == [("unknown", intents[0]["id"])]
    verified = manage(url, "audit_verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


# --- The database cannot be written -------------------------------------------------------


# Transactional: with the database gone even the rollback fails, which would poison the
# transaction an ordinary test runs in, and the rows could not be checked afterwards.
@pytest.mark.django_db(transaction=True)
def test_with_the_database_gone_at_the_intent_force_logout_is_refused_and_zoom_not_called(
    helpdesk: User, sandbox: ZoomSandbox
) -> None:
    client = signed_in(helpdesk)
    victim = next(u for u in sandbox.users if u.is_sso and u.status == "active")
    fields = open_confirm_form(client, victim)
    gone = False

    def database_goes_away(execute: Any, sql: str, params: Any, many: bool, ctx: Any) -> Any:
        # From the first statement of the audit write on, the database is unreachable.
        nonlocal gone
        gone = gone or "audit_auditevent" in sql or "pg_advisory" in sql
        if gone:
            raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")
        return execute(sql, params, many, ctx)

    with connection.execute_wrapper(database_goes_away):
        response = client.post("/force-logout/", {**fields, "reason": "Incident"}, **HTMX)

    assert gone
    assert response.status_code == 503
    assert "Nothing was sent to Zoom" in text(response)
    assert zoom_deletes(sandbox) == []
    assert not AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_REQUESTED).exists()


@pytest.mark.django_db(transaction=True)
def test_with_the_database_unreachable_from_the_start_nothing_reaches_zoom(
    helpdesk: User, sandbox: ZoomSandbox
) -> None:
    client = signed_in(helpdesk, raise_request_exception=False)
    victim = next(u for u in sandbox.users if u.is_sso and u.status == "active")
    fields = open_confirm_form(client, victim)
    zoom_before = len(sandbox.requests)

    def unreachable(*args: Any) -> Any:
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    with connection.execute_wrapper(unreachable):
        response = client.post(
            "/force-logout/", {**fields, "reason": "Incident", "submission_id": str(uuid.uuid4())}
        )

    assert response.status_code >= 500
    assert len(sandbox.requests) == zoom_before
    assert zoom_deletes(sandbox) == []
