"""Pull Zoom's user directory into ``DirectoryUser``: every status, every page.

``GET /users`` pages through the account (ZOOM_API.md 2.1), 2,000 users a call, within
the Medium rate limit that the Zoom client paces. Each page is written in its own short
transaction, never one over the whole run; a run that fails part-way is recorded as
failed, and the next run starts from the first page (page tokens expire after 15
minutes, so there is nothing to resume) and completes the job. Only a complete run marks
users that Zoom no longer lists as gone. One run at a time: the running ``SyncRun`` row
is the lock (a partial unique index), across processes and machines.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from queue import Full, Queue
from typing import cast

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from zoomadmin.directory import pages as page_writes
from zoomadmin.directory.models import SyncRun
from zoomadmin.directory.pages import PagePlan, Snapshot, listing_digest
from zoomadmin.zoom import client
from zoomadmin.zoom.client import ZoomUser
from zoomadmin.zoom.errors import ZoomBadResponse, ZoomError

logger = logging.getLogger(__name__)

STATUSES = ("active", "inactive", "pending")
PAGE_SIZE = client.LIST_USERS_MAX_PAGE_SIZE
# A running row whose heartbeat is older than this was left by a worker that died: a page
# takes well under a minute even at Free's 2 requests a second, and Zoom's page tokens
# die after 15 minutes anyway.
STALE_AFTER = timedelta(minutes=10)
# Bounds the paging loop if Zoom ever sent page tokens forever: 20 million users.
MAX_PAGES_PER_STATUS = 10_000


class SyncAlreadyRunning(Exception):
    """Another sync holds the lock; this one did nothing."""

    def __init__(self, running: SyncRun | None) -> None:
        super().__init__("a directory sync is already running")
        self.running = running


def run_sync(
    *,
    trigger: SyncRun.Trigger,
    requested_by: str = "",
    page_size: int = PAGE_SIZE,
) -> SyncRun:
    """Run one full sync and return its finished ``SyncRun``.

    Calls Zoom once per page (about one call per 2,000 users, in each of the three
    statuses) and writes one short transaction per page. On PostgreSQL, pages are
    fetched in one thread, planned in this one and committed in a third, so that the
    rate limit, not the database or Python, sets the pace (about 1.06 x the floor at
    100,000 users, bench/directory_bench.py).
    A ``ZoomError`` ends the run as failed, with the error recorded; any other exception
    does too, and is re-raised. Raises ``SyncAlreadyRunning`` when another sync is
    running. Never holds a transaction over the run.
    """
    run = start_run(trigger=trigger, requested_by=requested_by)
    seen: set[str] = set()
    where = "the start"
    try:
        with ExitStack() as stack:
            stack.enter_context(_collector_paused())
            pages = _pages(page_size)
            # Fetching and committing in threads of their own, on PostgreSQL: not inside
            # a caller's transaction, which they could not see, nor on SQLite, whose
            # writers lock each other out.
            concurrent = connection.vendor == "postgresql" and not connection.in_atomic_block
            if concurrent:
                pages = stack.enter_context(_fetched_ahead(pages))
            # Read while the first page is fetched: from here on, no page reads its
            # unchanged rows back (pages.Snapshot).
            snapshot = Snapshot.load()
            writer = _PageWriter(run, snapshot, threaded=concurrent)
            stack.callback(writer.stop)
            for position, users, digests in pages:
                where = position
                seen.update(writer.write(users, digests))
            where = "the last pages"
            writer.close()
    except _FetchFailed as failed:
        return _finish_failed(run, f"Stopped at {failed.where}: {failed.error.explanation}")
    except BaseException:
        _finish_failed(run, f"Stopped at {where} by an internal error.")
        raise
    return _finish_complete(run, snapshot.live_keys_except(seen))


class _FetchFailed(Exception):
    def __init__(self, where: str, error: ZoomError) -> None:
        super().__init__(where)
        self.where = where
        self.error = error


Page = tuple[str, list[ZoomUser], list[str]]


def _pages(page_size: int) -> Iterator[Page]:
    """Every page of every status, in order, as ("page 3 of the active users", users,
    their ``listing_digest``): computed here, so with the prefetch thread that work
    overlaps the database writes of the page before.

    One Zoom call per page. Raises ``_FetchFailed`` saying which page failed.
    """
    for status in STATUSES:
        token = ""
        for number in range(1, MAX_PAGES_PER_STATUS + 1):
            where = f"page {number} of the {status} users"
            try:
                page = client.list_users_page(status, page_size=page_size, next_page_token=token)
            except ZoomError as error:
                raise _FetchFailed(where, error) from error
            yield where, page.users, [listing_digest(user) for user in page.users]
            token = page.next_page_token
            if not token:
                break
        else:
            too_many = ZoomBadResponse(f"Zoom sent more than {MAX_PAGES_PER_STATUS} pages.")
            raise _FetchFailed(where, too_many)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the sync pages.

    Each user costs a handful of short-lived objects (its JSON, a ``ZoomUser``, its row),
    all freed by reference counting: the collector finds nothing among them, but
    allocation at that rate makes it sweep the whole process over and over, a tenth of
    the sync's CPU (measured), and the CPU is what keeps the sync at Zoom's pace.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _fetched_ahead[T](items: Iterator[T], depth: int = 4) -> Iterator[Iterator[T]]:
    """``items``, produced by a thread that starts now and runs up to ``depth`` ahead.

    Zoom's answer for the next page (and its parsing) then overlaps the database writes
    of this one, so the sync keeps to the rate limiter's pace. Leaving the block stops
    the thread, whether or not everything was consumed; the thread's own database
    connection (the token store, the rate limiter) is closed when it ends.
    """
    done = object()
    queue: Queue[tuple[object, T | BaseException | None]] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: object, value: T | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                queue.put((kind, value), timeout=0.2)
            except Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put("item", item):
                    return
            put(done, None)
        except BaseException as error:  # handed to the consumer, which raises it
            put("error", error)
        finally:
            connection.close()

    def consume() -> Iterator[T]:
        while True:
            kind, value = queue.get()
            if kind is done:
                return
            if isinstance(value, BaseException):
                raise value
            yield cast(T, value)

    thread = threading.Thread(target=produce, name="directory-sync-fetch", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join()


def start_run(*, trigger: SyncRun.Trigger, requested_by: str = "") -> SyncRun:
    """Take the sync lock: insert the one running ``SyncRun``. Writes one or two rows.

    A running row left by a dead worker (no heartbeat for ``STALE_AFTER``) is closed as
    failed first, so a crash never blocks syncing for good.
    Raises ``SyncAlreadyRunning`` when a live sync holds the lock.
    """
    now = timezone.now()
    release_stale_runs(now)
    try:
        with transaction.atomic():
            return SyncRun.objects.create(
                trigger=trigger, requested_by=requested_by, started_at=now, heartbeat_at=now
            )
    except IntegrityError:
        raise SyncAlreadyRunning(running_sync()) from None


def release_stale_runs(now: datetime) -> int:
    """Close running rows whose worker stopped sending heartbeats. Returns how many."""
    return SyncRun.objects.filter(
        status=SyncRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    ).update(
        status=SyncRun.Status.FAILED,
        finished_at=now,
        error=f"Abandoned: no progress for {STALE_AFTER.seconds // 60} minutes "
        "(the worker running it stopped).",
    )


def running_sync() -> SyncRun | None:
    return SyncRun.objects.filter(status=SyncRun.Status.RUNNING).first()


def commit_page(run: SyncRun, plan: PagePlan) -> PagePlan:
    """Write ``plan`` and count it on the run's row, in one transaction; returns the plan
    written. If a row the snapshot took for new exists after all, the page is written
    again, from a plan made without the snapshot."""
    try:
        return _commit(run, plan)
    except IntegrityError:
        if not plan.from_snapshot:
            raise
        return _commit(run, page_writes.plan_page(plan.users, plan.digests, None))


def _commit(run: SyncRun, plan: PagePlan) -> PagePlan:
    with transaction.atomic():
        page_writes.relax_commit()
        page_writes.apply_plan(plan)
        # Counted in the row only, read back into ``run`` when the run ends: pages may
        # commit in another thread than the one holding ``run``.
        SyncRun.objects.filter(pk=run.pk).update(
            pages=F("pages") + 1,
            seen=F("seen") + len(plan.users),
            created=F("created") + len(plan.created),
            updated=F("updated") + len(plan.changed),
            heartbeat_at=timezone.now(),
        )
    return plan


class _PageWriter:
    """Plans each page against the snapshot as it comes, then commits it, in order: in a
    thread of its own (with its own database connection) so that the database writes
    one page while the next is fetched and planned, or, unthreaded, right away.

    A failure to commit is raised by the next ``write`` or by ``close``; the pages after
    it are not written.
    """

    def __init__(self, run: SyncRun, snapshot: Snapshot, *, threaded: bool) -> None:
        self.run = run
        self.snapshot = snapshot
        self.plans: Queue[PagePlan | None] = Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        if threaded:
            self.thread = threading.Thread(
                target=self._work, name="directory-sync-write", daemon=True
            )
            self.thread.start()

    def write(self, users: list[ZoomUser], digests: list[str]) -> list[str]:
        """Plan the page and commit it (now, or in the thread); the keys it lists."""
        self._raise_failure()
        plan = page_writes.plan_page(users, digests, self.snapshot)
        self.snapshot.record(plan)
        if self.thread is None:
            commit_page(self.run, plan)
        else:
            self.plans.put(plan)
        return list(plan.listed)

    def close(self) -> None:
        """Wait for the pages in flight; raise the first failure."""
        self.stop()
        self._raise_failure()

    def stop(self) -> None:
        """Let the thread finish the pages in flight, and end it."""
        if self.thread is not None:
            self.plans.put(None)
            self.thread.join()
            self.thread = None

    def _raise_failure(self) -> None:
        if self.error is not None:
            raise self.error

    def _work(self) -> None:
        try:
            while (plan := self.plans.get()) is not None:
                if self.error is None:
                    try:
                        commit_page(self.run, plan)
                    except BaseException as error:  # handed to the caller, which raises it
                        self.error = error
        finally:
            connection.close()


def _finish_complete(run: SyncRun, unseen: list[str]) -> SyncRun:
    """Every page of every status is in: the rows this run did not see are gone, except
    rows looked up fresh while it paged (Zoom has them, whatever the pages said: a user
    who changed status between the pages of two statuses)."""
    _read_counts(run)
    with transaction.atomic():
        run.gone = page_writes.mark_gone(unseen, unless_refreshed_since=run.started_at)
        run.status = SyncRun.Status.SUCCEEDED
        run.finished_at = run.heartbeat_at = timezone.now()
        run.save(update_fields=["status", "finished_at", "heartbeat_at", "gone"])
    # No ANALYZE here: autovacuum gathers statistics within a minute of a first sync,
    # and the search's plans were measured as fast without them (bench/directory_bench).
    logger.info(
        "directory sync #%s: %s pages, %s seen, %s created, %s updated, %s gone",
        run.pk,
        run.pages,
        run.seen,
        run.created,
        run.updated,
        run.gone,
    )
    return run


def _finish_failed(run: SyncRun, error: str) -> SyncRun:
    _read_counts(run)
    now = timezone.now()
    run.status = SyncRun.Status.FAILED
    run.finished_at = run.heartbeat_at = now
    run.error = error[:2000]
    run.save(update_fields=["status", "finished_at", "heartbeat_at", "error"])
    logger.warning("directory sync #%s failed after %s pages: %s", run.pk, run.pages, error)
    return run


def _read_counts(run: SyncRun) -> None:
    """What the committed pages counted in the run's row."""
    run.refresh_from_db(fields=["pages", "seen", "created", "updated", "heartbeat_at"])
