"""How the sync writes pages: the snapshot instead of reading rows back, new users copied
in, the careful rewrite when a row appeared meanwhile, and the commit thread."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
import responses
from django.utils import timezone

from zoomadmin.directory import pages, sync
from zoomadmin.directory.lookups import remember_lookup
from zoomadmin.directory.models import DirectoryUser, SyncRun
from zoomadmin.directory.sync import run_sync
from zoomadmin.zoom import client
from zoomadmin.zoom.sandbox import ZoomSandbox

from .test_sync import replace_zoom

pytestmark = pytest.mark.django_db
COMMAND = SyncRun.Trigger.COMMAND


@contextmanager
def after_the_snapshot(action: Callable[[], None]) -> Iterator[None]:
    """Run ``action`` right after the sync has read its snapshot, before any page is
    written: what a helpdesk lookup racing the sync would do."""
    real = pages.Snapshot.load

    def load() -> pages.Snapshot:
        snapshot = real()
        action()
        return snapshot

    with mock.patch.object(pages.Snapshot, "load", load):
        yield


@contextmanager
def plans_without_snapshot() -> Iterator[list[int]]:
    """Count the pages planned the careful way (rows read back from the database)."""
    careful: list[int] = []
    real = pages.plan_page

    def plan_page(users: Any, digests: Any, snapshot: pages.Snapshot | None) -> pages.PagePlan:
        if snapshot is None:
            careful.append(len(users))
        return real(users, digests, snapshot)

    with mock.patch.object(pages, "plan_page", plan_page):
        yield careful


def test_a_first_sync_reads_no_rows_back(sandbox: ZoomSandbox) -> None:
    with (
        plans_without_snapshot() as careful,
        mock.patch.object(pages, "_known_rows", wraps=pages._known_rows) as reads,
    ):
        run = run_sync(trigger=COMMAND, page_size=10)

    pending = sum(1 for u in sandbox.users if u.status == "pending")
    assert run.created == DirectoryUser.objects.count() == len(sandbox.users)
    assert careful == []
    # Only the pending pages (users listed without an id) are looked up by email.
    assert reads.call_count == -(-pending // 10)


def test_a_row_a_lookup_inserted_meanwhile_is_written_once(sandbox: ZoomSandbox) -> None:
    looked_up = next(u for u in sandbox.users if u.status == "active")

    def lookup() -> None:
        remember_lookup(client.get_user(looked_up.id)[0])

    with after_the_snapshot(lookup), plans_without_snapshot() as careful:
        run = run_sync(trigger=COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED
    # The page holding the looked-up user was copied in, hit its row, and was written
    # again the careful way: nothing twice, nothing lost, the lookup's login types kept.
    assert careful == [sum(1 for u in sandbox.users if u.status == "active")]
    assert DirectoryUser.objects.count() == len(sandbox.users)
    row = DirectoryUser.objects.get(key=looked_up.id)
    assert row.login_types == list(looked_up.login_types)
    assert (run.created, run.updated) == (len(sandbox.users) - 1, 0)


def test_a_lookup_during_the_sync_keeps_its_user_from_being_marked_gone(
    sandbox: ZoomSandbox, zoom_http: responses.RequestsMock
) -> None:
    run_sync(trigger=COMMAND)
    leaving = next(u for u in sandbox.users if u.status == "active")
    replace_zoom(zoom_http, [u for u in sandbox.users if u is not leaving])

    def looked_up_fresh() -> None:
        # Zoom answered a lookup after the sync started: newer than what the pages say.
        DirectoryUser.objects.filter(key=leaving.id).update(refreshed_at=timezone.now())

    with after_the_snapshot(looked_up_fresh):
        run = run_sync(trigger=COMMAND)

    assert run.gone == 0
    assert DirectoryUser.objects.get(key=leaving.id).gone_at is None


def test_rows_written_under_another_digest_are_rewritten_once(sandbox: ZoomSandbox) -> None:
    run_sync(trigger=COMMAND)
    # As rows look after an upgrade that derives the search fields differently.
    DirectoryUser.objects.update(listed_digest="", search_text=" stale ")

    rewrite = run_sync(trigger=COMMAND)
    again = run_sync(trigger=COMMAND)

    assert (rewrite.created, rewrite.updated) == (0, len(sandbox.users))
    assert not DirectoryUser.objects.filter(search_text=" stale ").exists()
    assert (again.created, again.updated) == (0, 0)


def test_the_garbage_collector_is_paused_only_while_the_sync_pages(
    sandbox: ZoomSandbox,
) -> None:
    during: list[bool] = []
    real = pages.plan_page

    def plan_page(*args: Any) -> pages.PagePlan:
        during.append(gc.isenabled())
        return real(*args)

    assert gc.isenabled()
    with mock.patch.object(pages, "plan_page", plan_page):
        run_sync(trigger=COMMAND, page_size=20)

    assert during and not any(during)
    assert gc.isenabled()


# --- Outside a transaction, on PostgreSQL: pages are committed in a thread ------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pages_are_committed_in_a_thread_of_their_own_in_order(sandbox: ZoomSandbox) -> None:
    committed_in: set[str] = set()
    committed: list[str] = []
    real = sync.commit_page

    def commit_page(run: SyncRun, plan: pages.PagePlan) -> pages.PagePlan:
        committed_in.add(threading.current_thread().name)
        committed.append(next(iter(plan.listed)))
        return real(run, plan)

    with mock.patch.object(sync, "commit_page", commit_page):
        run = run_sync(trigger=COMMAND, page_size=9)

    listed = [call.query for call in sandbox.requests if call.endpoint == "list_users"]
    assert committed_in == {"directory-sync-write"}
    assert len(committed) == len(listed) == run.pages
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.seen == run.created == DirectoryUser.objects.count() == len(sandbox.users)
    assert SyncRun.objects.get(pk=run.pk).pages == run.pages


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lookup_racing_a_threaded_sync_is_written_once(sandbox: ZoomSandbox) -> None:
    looked_up = next(u for u in sandbox.users if u.status == "active")

    def lookup() -> None:
        remember_lookup(client.get_user(looked_up.id)[0])

    with after_the_snapshot(lookup), plans_without_snapshot() as careful:
        run = run_sync(trigger=COMMAND, page_size=9)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert careful == [9]
    assert DirectoryUser.objects.count() == len(sandbox.users)
    assert DirectoryUser.objects.get(key=looked_up.id).login_types == list(looked_up.login_types)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_page_that_fails_to_commit_fails_the_run_and_stops_it(sandbox: ZoomSandbox) -> None:
    real = pages.apply_plan
    calls = 0

    def apply_plan(plan: pages.PagePlan) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the database went away")
        real(plan)

    with mock.patch.object(pages, "apply_plan", apply_plan), pytest.raises(RuntimeError):
        run_sync(trigger=COMMAND, page_size=9)

    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.FAILED
    assert "internal error" in run.error
    assert (run.pages, DirectoryUser.objects.count()) == (2, 18)
    assert calls == 3  # nothing committed after the failure
    assert not DirectoryUser.objects.filter(gone_at__isnull=False).exists()
