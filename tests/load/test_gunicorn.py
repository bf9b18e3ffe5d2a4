"""The production server under an incident's load, with Zoom misbehaving.

gunicorn (the configuration docker-compose runs) against PostgreSQL and the sandbox
over real HTTP. PostgreSQL only: the server is another process and must share the
test database.
"""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from tests.conftest import make_staff
from tests.servers import serving
from zoomadmin.audit.models import Action, AuditEvent
from zoomadmin.zoom.sandbox import ZoomSandbox

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.real_clock,
    pytest.mark.django_db(transaction=True),
]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def zoom() -> Iterator[ZoomSandbox]:
    fake = ZoomSandbox(user_count=80, plan="business")
    with serving(fake) as origin:
        fake.origin = origin  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def gunicorn(zoom: ZoomSandbox) -> Iterator[str]:
    """gunicorn with 1 worker x 4 threads; at most 2 Zoom calls in flight."""
    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "zoomadmin.settings",
        "DOTENV_FILE": "",
        "DEBUG": "0",
        # The test's own key, so sessions made here (force_login) are valid there.
        "SECRET_KEY": settings.SECRET_KEY,
        "TOKEN_ENCRYPTION_KEYS": os.environ["TOKEN_ENCRYPTION_KEYS"],
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "ZOOM_SANDBOX": "0",
        "ZOOM_API_BASE_URL": f"{zoom.origin}/v2",  # type: ignore[attr-defined]
        "ZOOM_OAUTH_BASE_URL": zoom.origin,  # type: ignore[attr-defined]
        "ZOOM_ACCOUNT_ID": "sandbox-account",
        "ZOOM_CLIENT_ID": "sandbox-client",
        "ZOOM_CLIENT_SECRET": "sandbox-secret",
        "ZOOM_PLAN": "business",
        "ZOOM_MAX_CONCURRENCY": "2",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "4",
        "WHITENOISE_AUTOREFRESH": "1",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:zoomadmin.gunicorn_conf",
            "--access-logfile",
            "/dev/null",
            "zoomadmin.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/healthz", timeout=1)
            break
        except requests.ConnectionError:
            if server.poll() is not None:
                pytest.fail(f"gunicorn did not start: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.2)
    yield base
    server.terminate()
    server.wait(timeout=10)
    if server.stderr is not None:
        server.stderr.close()


def signed_in_session(base: str, username: str) -> requests.Session:
    """A browser session of ``username``, made in the shared database (no slow hashing)."""
    django_client = Client()
    django_client.force_login(User.objects.get(username=username))
    session = requests.Session()
    cookie = django_client.cookies[settings.SESSION_COOKIE_NAME]
    session.cookies.set(cookie.key, cookie.value, domain="127.0.0.1")
    assert session.get(f"{base}/", timeout=10).url.rstrip("/") == base
    return session


def force_logout_over_http(base: str, session: requests.Session, email: str) -> requests.Response:
    htmx = {"HX-Request": "true", "Referer": f"{base}/"}
    found = session.get(f"{base}/", params={"q": email}, headers=htmx, timeout=30)
    target = re.search(r'name="target" value="([^"]+)"', found.text)
    assert target, found.text[:500]
    form = session.get(
        f"{base}/force-logout/confirm/",
        params={"target": target.group(1)},
        headers=htmx,
        timeout=30,
    )
    fields = dict(re.findall(r'name="(target|submission_id)" value="([^"]+)"', form.text))
    token = re.search(r'"x-csrftoken": "([^"]+)"', session.get(f"{base}/", timeout=30).text)
    assert token
    # The CSRF cookie is Secure (DEBUG is off); requests, unlike browsers, will not send
    # a Secure cookie to http://127.0.0.1, so hand it over plainly.
    csrf_cookie = next(c for c in session.cookies if c.name == "csrftoken")
    session.cookies.set("csrftoken", csrf_cookie.value, domain="127.0.0.1")
    return session.post(
        f"{base}/force-logout/",
        data={**fields, "reason": "load test"},
        headers={**htmx, "X-CSRFToken": token.group(1)},
        timeout=40,
    )


def test_a_slow_zoom_cannot_stop_the_audit_page_from_answering(
    gunicorn: str, zoom: ZoomSandbox
) -> None:
    for i in range(4):
        make_staff(f"agent{i}", group="Helpdesk")
    make_staff("boss", group="Managers")
    agents = [signed_in_session(gunicorn, f"agent{i}") for i in range(4)]
    manager = signed_in_session(gunicorn, "boss")
    targets = [u.email for u in zoom.users if u.status == "active"][:4]
    zoom.add_fault(endpoint="revoke", delay=30, times=100)  # Zoom hangs on every revoke

    with ThreadPoolExecutor(max_workers=4) as pool:
        pending = [
            pool.submit(force_logout_over_http, gunicorn, agent, email)
            for agent, email in zip(agents, targets, strict=True)
        ]
        time.sleep(2)  # the revokes are now waiting on Zoom
        started = time.monotonic()
        audit = manager.get(f"{gunicorn}/audit/", timeout=30)
        answered_in = time.monotonic() - started
        results = [future.result() for future in pending]

    assert audit.status_code == 200
    assert answered_in < 3, f"the audit page took {answered_in:.1f} s with Zoom hanging"
    for result in results:
        assert result.status_code in (502, 503), result.text[:300]
        assert "Outcome unknown" in result.text or "Nothing was sent" in result.text


def test_twenty_agents_with_zoom_failing_in_every_way_leave_no_intent_without_outcome(
    gunicorn: str, zoom: ZoomSandbox
) -> None:
    for i in range(20):
        make_staff(f"agent{i}", group="Helpdesk")
    agents = [signed_in_session(gunicorn, f"agent{i}") for i in range(20)]
    emails = [u.email for u in zoom.users if u.status == "active" and u.id][:40]
    faults = [
        {"status": 429},
        {"status": 503},
        {"status": 404, "code": 1001},
        {"delay": 2.0},
        {"reset": True},
    ]
    rng = random.Random(7)
    for _ in range(30):
        zoom.add_fault(endpoint="revoke", **rng.choice(faults))  # type: ignore[arg-type]

    def agent_work(index: int) -> list[requests.Response]:
        return [
            force_logout_over_http(gunicorn, agents[index], email)
            for email in emails[index * 2 : index * 2 + 2]
        ]

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = [r for batch in pool.map(agent_work, range(20)) for r in batch]

    assert len(responses) == 40
    assert all(r.status_code != 500 for r in responses)
    assert all("Traceback" not in r.text for r in responses)
    intents = AuditEvent.objects.filter(action=Action.FORCE_LOGOUT_REQUESTED)
    assert intents.count() == 40
    for intent in intents:
        assert intent.results.count() == 1, f"intent #{intent.pk} has {intent.results.count()}"
