"""The directory sync against the sandbox: counts, upserts, gone users, pending users,
paging, a failure part-way, the one-at-a-time lock and the run records."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
import responses
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from zoomadmin.directory import sync
from zoomadmin.directory.models import DirectoryUser, SyncRun, SyncSchedule
from zoomadmin.directory.pages import PagePlan
from zoomadmin.directory.sync import SyncAlreadyRunning, run_sync, start_run
from zoomadmin.directory.tasks import enqueue_if_due
from zoomadmin.zoom import client
from zoomadmin.zoom.sandbox import SandboxUser, ZoomSandbox
from zoomadmin.zoom.sandbox.mock import install

pytestmark = pytest.mark.django_db
COMMAND = SyncRun.Trigger.COMMAND


def list_calls(sandbox: ZoomSandbox) -> list[dict[str, list[str]]]:
    return [r.query for r in sandbox.requests if r.host == "api" and r.endpoint == "list_users"]


def by_status(sandbox: ZoomSandbox) -> dict[str, list[SandboxUser]]:
    found: dict[str, list[SandboxUser]] = {"active": [], "inactive": [], "pending": []}
    for user in sandbox.users:
        found[user.status].append(user)
    return found


def replace_zoom(zoom_http: responses.RequestsMock, users: list[SandboxUser]) -> ZoomSandbox:
    """Point the client at a new sandbox holding exactly ``users`` (as if the others had
    been deleted at Zoom). The new sandbox does not know the cached token: the client
    fetches another on its 401, as with real Zoom."""
    zoom_http.reset()
    fake = ZoomSandbox(
        users=users,
        plan="business",
        account_id=settings.ZOOM_ACCOUNT_ID,
        client_id=settings.ZOOM_CLIENT_ID,
        client_secret=settings.ZOOM_CLIENT_SECRET,
    )
    install(
        fake,
        zoom_http,
        api_base_url=settings.ZOOM_API_BASE_URL,
        oauth_base_url=settings.ZOOM_OAUTH_BASE_URL,
    )
    return fake


def test_a_full_sync_copies_every_user_of_every_status(sandbox: ZoomSandbox) -> None:
    run = run_sync(trigger=COMMAND)

    users = sandbox.users
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.seen, run.created, run.updated, run.gone) == (len(users), len(users), 0, 0)
    assert run.pages == 3  # one page per status at 2,000 a page
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert [q["status"] for q in list_calls(sandbox)] == [["active"], ["inactive"], ["pending"]]
    assert all(q["page_size"] == ["2000"] for q in list_calls(sandbox))
    assert DirectoryUser.objects.count() == len(users)
    for user in users:
        if user.status == "pending":
            # Zoom lists pending users without an id (ZOOM_API.md 2.1).
            row = DirectoryUser.objects.get(key=f"email:{user.email.lower()}")
            assert row.zoom_id == ""
        else:
            row = DirectoryUser.objects.get(key=user.id)
            assert row.zoom_id == user.id
        assert (row.email, row.first_name, row.last_name) == (
            user.email,
            user.first_name,
            user.last_name,
        )
        assert (row.status, row.dept, row.user_type) == (user.status, user.dept, user.type)
        assert row.login_types is None  # list items carry none: unknown until looked up
        assert row.gone_at is None


def test_a_second_sync_of_an_unchanged_zoom_updates_nothing(sandbox: ZoomSandbox) -> None:
    first = run_sync(trigger=COMMAND)
    ids = dict(DirectoryUser.objects.values_list("key", "pk"))

    second = run_sync(trigger=COMMAND)

    assert (second.seen, second.created, second.updated, second.gone) == (first.seen, 0, 0, 0)
    assert dict(DirectoryUser.objects.values_list("key", "pk")) == ids


def test_changes_at_zoom_are_upserted_and_counted(sandbox: ZoomSandbox) -> None:
    run_sync(trigger=COMMAND)
    someone = next(u for u in sandbox.users if u.status == "active" and u.role_id == "2")
    sandbox.set_user(someone.id, first_name="Priyanka", status="inactive", dept="Finance")
    newcomer = sandbox.add_user(email="new.hire@globex.example.com", first_name="New")

    run = run_sync(trigger=COMMAND)

    assert (run.created, run.updated, run.gone) == (1, 1, 0)
    row = DirectoryUser.objects.get(key=someone.id)
    assert (row.first_name, row.status, row.dept) == ("Priyanka", "inactive", "Finance")
    assert " priyanka " in row.search_text
    assert DirectoryUser.objects.get(key=newcomer.id).email == newcomer.email


def test_an_email_change_updates_the_same_row(sandbox: ZoomSandbox) -> None:
    run_sync(trigger=COMMAND)
    someone = next(u for u in sandbox.users if u.status == "active")
    before = DirectoryUser.objects.get(key=someone.id)
    sandbox.set_user(someone.id, email="renamed@globex.example.com")

    run = run_sync(trigger=COMMAND)

    after = DirectoryUser.objects.get(pk=before.pk)
    assert (after.email, after.email_key) == ("renamed@globex.example.com",) * 2
    assert (run.created, run.updated) == (0, 1)


def test_users_zoom_no_longer_lists_are_marked_gone_not_deleted(
    sandbox: ZoomSandbox, zoom_http: responses.RequestsMock
) -> None:
    run_sync(trigger=COMMAND)
    users = sandbox.users
    leaver, pending_leaver = users[5], next(u for u in users if u.status == "pending")
    replace_zoom(zoom_http, [u for u in users if u not in (leaver, pending_leaver)])

    run = run_sync(trigger=COMMAND)

    assert run.gone == 2
    assert DirectoryUser.objects.count() == len(users)  # nothing deleted
    gone = DirectoryUser.objects.filter(gone_at__isnull=False)
    assert set(gone.values_list("email", flat=True)) == {leaver.email, pending_leaver.email}

    # Back at Zoom (a re-hire, a restored account): the same row, no longer gone.
    replace_zoom(zoom_http, users)
    back = run_sync(trigger=COMMAND)
    assert (back.created, back.updated, back.gone) == (0, 2, 0)
    assert not DirectoryUser.objects.filter(gone_at__isnull=False).exists()


def test_a_pending_user_keeps_their_row_when_their_id_appears(sandbox: ZoomSandbox) -> None:
    run_sync(trigger=COMMAND)
    pending = next(u for u in sandbox.users if u.status == "pending")
    row = DirectoryUser.objects.get(key=f"email:{pending.email.lower()}")
    sandbox.set_user(pending.id, status="active")  # they accepted the invitation

    run = run_sync(trigger=COMMAND)

    adopted = DirectoryUser.objects.get(pk=row.pk)
    assert (adopted.key, adopted.zoom_id, adopted.status) == (pending.id, pending.id, "active")
    assert (run.created, run.updated, run.gone) == (0, 1, 0)
    assert DirectoryUser.objects.filter(email_key=pending.email.lower()).count() == 1


def test_a_pending_user_found_by_a_lookup_first_is_not_duplicated_by_the_sync(
    sandbox: ZoomSandbox,
) -> None:
    from zoomadmin.directory.lookups import remember_lookup

    pending = next(u for u in sandbox.users if u.status == "pending")
    remember_lookup(client.get_user(pending.email)[0])  # Zoom's GET /users/{email} has the id

    run = run_sync(trigger=COMMAND)

    rows = DirectoryUser.objects.filter(email_key=pending.email.lower())
    assert rows.count() == 1
    assert rows.get().zoom_id == pending.id
    assert rows.get().login_types == list(pending.login_types)
    assert run.gone == 0


def test_paging_follows_next_page_token_with_a_small_page_size(sandbox: ZoomSandbox) -> None:
    run = run_sync(trigger=COMMAND, page_size=7)

    counts = {status: len(users) for status, users in by_status(sandbox).items()}
    expected_pages = sum(max(1, math.ceil(n / 7)) for n in counts.values())
    assert run.pages == expected_pages
    assert run.seen == run.created == len(sandbox.users)
    calls = list_calls(sandbox)
    assert len(calls) == expected_pages
    assert all(q["page_size"] == ["7"] for q in calls)
    # Each status starts without a token; every later page passes the one Zoom gave.
    firsts = [q for q in calls if "next_page_token" not in q]
    assert [q["status"] for q in firsts] == [["active"], ["inactive"], ["pending"]]
    assert DirectoryUser.objects.count() == len(sandbox.users)


def fail_on_call(sandbox: ZoomSandbox, number: int) -> Callable[..., client.UserPage]:
    """list_users_page, with Zoom refusing the ``number``th call (an expired page token)."""
    real = client.list_users_page
    calls = 0

    def list_users_page(*args: Any, **kwargs: Any) -> client.UserPage:
        nonlocal calls
        calls += 1
        if calls == number:
            sandbox.add_fault(
                endpoint="list_users",
                status=400,
                code=300,
                message="The next page token is invalid or expired.",
            )
        return real(*args, **kwargs)

    return list_users_page


def test_a_failure_part_way_is_recorded_and_the_next_run_completes_the_job(
    sandbox: ZoomSandbox,
) -> None:
    with mock.patch.object(client, "list_users_page", fail_on_call(sandbox, 3)):
        failed = run_sync(trigger=COMMAND, page_size=10)

    assert failed.status == SyncRun.Status.FAILED
    assert failed.finished_at is not None
    assert failed.pages == 2
    assert "page 3 of the active users" in failed.error, failed.error
    assert "HTTP 400" in failed.error
    assert DirectoryUser.objects.count() == 20  # the two pages before are kept
    assert not DirectoryUser.objects.filter(gone_at__isnull=False).exists()

    done = run_sync(trigger=COMMAND, page_size=10)

    assert done.status == SyncRun.Status.SUCCEEDED
    assert (done.seen, done.created, done.gone) == (len(sandbox.users), len(sandbox.users) - 20, 0)
    assert DirectoryUser.objects.count() == len(sandbox.users)


def test_a_failed_run_marks_nobody_gone(sandbox: ZoomSandbox) -> None:
    run_sync(trigger=COMMAND)
    with mock.patch.object(client, "list_users_page", fail_on_call(sandbox, 2)):
        failed = run_sync(trigger=COMMAND)

    assert failed.status == SyncRun.Status.FAILED
    assert "page 1 of the inactive users" in failed.error
    assert not DirectoryUser.objects.filter(gone_at__isnull=False).exists()


def test_each_page_commits_on_its_own(sandbox: ZoomSandbox) -> None:
    depths = []
    real = sync.commit_page

    def commit_page(run: SyncRun, plan: PagePlan) -> PagePlan:
        depths.append(len(connection.atomic_blocks))
        return real(run, plan)

    with mock.patch.object(sync, "commit_page", commit_page):
        run_sync(trigger=COMMAND, page_size=10)

    # Only the test's own transaction is open around each page (none in production).
    assert len(depths) > 3
    assert set(depths) == {len(connection.atomic_blocks)}


def test_a_second_sync_while_one_runs_does_nothing(sandbox: ZoomSandbox) -> None:
    running = start_run(trigger=SyncRun.Trigger.SCHEDULE)

    with pytest.raises(SyncAlreadyRunning) as raised:
        run_sync(trigger=COMMAND)

    assert raised.value.running == running
    assert list_calls(sandbox) == []
    assert SyncRun.objects.count() == 1


def test_a_running_row_left_by_a_dead_worker_does_not_block_for_ever(
    sandbox: ZoomSandbox,
) -> None:
    dead = start_run(trigger=SyncRun.Trigger.SCHEDULE)
    SyncRun.objects.filter(pk=dead.pk).update(
        heartbeat_at=timezone.now() - sync.STALE_AFTER - timedelta(seconds=1)
    )

    run = run_sync(trigger=COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.FAILED
    assert "Abandoned" in dead.error


def test_the_command_prints_the_counts(
    sandbox: ZoomSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("zoom_sync", "--page-size", "25")

    out = capsys.readouterr().out
    assert f"{len(sandbox.users)} users seen, {len(sandbox.users)} new" in out
    run = SyncRun.objects.get()
    assert (run.trigger, run.status) == (COMMAND, SyncRun.Status.SUCCEEDED)


def test_the_command_exits_2_when_a_sync_is_running(sandbox: ZoomSandbox) -> None:
    start_run(trigger=SyncRun.Trigger.SCHEDULE)

    with pytest.raises(CommandError, match="Another directory sync is running") as raised:
        call_command("zoom_sync")

    assert raised.value.returncode == 2


def test_the_command_fails_loudly_when_zoom_fails(sandbox: ZoomSandbox) -> None:
    sandbox.add_fault(endpoint="list_users", status=403, times=5)

    with pytest.raises(CommandError, match="failed: Stopped at page 1 of the active users"):
        call_command("zoom_sync")

    assert SyncRun.objects.get().status == SyncRun.Status.FAILED


def test_the_schedule_enqueues_one_sync_per_slot(sandbox: ZoomSandbox) -> None:
    now = timezone.now()
    every = timedelta(minutes=15)

    first = enqueue_if_due(every, now=now)  # immediate backend in tests: it runs at once
    again = enqueue_if_due(every, now=now + timedelta(minutes=1))
    later = enqueue_if_due(every, now=now + every)

    assert first is not None and later is not None
    assert again is None
    runs = list(SyncRun.objects.order_by("id").values_list("trigger", "status"))
    assert runs == [(SyncRun.Trigger.SCHEDULE, SyncRun.Status.SUCCEEDED)] * 2
    assert SyncSchedule.objects.get().next_due_at == now + 2 * every


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_racing_to_start_get_one_run() -> None:
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def contender() -> None:
        try:
            barrier.wait()
            start_run(trigger=SyncRun.Trigger.SCHEDULE)
            outcomes.append("started")
        except SyncAlreadyRunning:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=contender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused", "refused", "refused", "started"]
    assert SyncRun.objects.filter(status=SyncRun.Status.RUNNING).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_pages_are_fetched_ahead_in_a_thread(sandbox: ZoomSandbox) -> None:
    fetched_in: set[str] = set()
    real = client.list_users_page

    def list_users_page(*args: Any, **kwargs: Any) -> client.UserPage:
        fetched_in.add(threading.current_thread().name)
        return real(*args, **kwargs)

    with mock.patch.object(client, "list_users_page", list_users_page):
        run = run_sync(trigger=COMMAND, page_size=9)

    assert fetched_in == {"directory-sync-fetch"}
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.seen == run.created == DirectoryUser.objects.count() == len(sandbox.users)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_zoom_failure_in_the_fetch_thread_fails_the_run(sandbox: ZoomSandbox) -> None:
    with mock.patch.object(client, "list_users_page", fail_on_call(sandbox, 4)):
        run = run_sync(trigger=COMMAND, page_size=9)

    assert run.status == SyncRun.Status.FAILED
    assert "page 4 of the active users" in run.error
    assert run.pages == 3
    assert not DirectoryUser.objects.filter(gone_at__isnull=False).exists()
