"""Give force-logout intents that never got a result an "unknown, check Zoom" one."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from zoomadmin.audit.reconcile import reconcile_age, reconcile_unfinished_intents


class Command(BaseCommand):
    help = (
        "Append an 'unknown, check Zoom' result to every force-logout intent older than "
        "the reconcile age that has no result (the process died during the Zoom call). "
        "Idempotent, never deletes; run it from cron every few minutes."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            metavar="SECONDS",
            help=(
                "resolve intents at least this old "
                f"(default AUDIT_RECONCILE_AFTER_SECONDS, {int(reconcile_age().total_seconds())})"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seconds: int | None = options["older_than"]
        if seconds is not None and seconds < 0:
            raise CommandError("--older-than must not be negative")
        age = None if seconds is None else timedelta(seconds=seconds)
        added = reconcile_unfinished_intents(older_than=age)
        if not added:
            self.stdout.write("Every force-logout intent has a result.")
            return
        ids = ", ".join(f"#{row.intent_id}" for row in added)
        self.stdout.write(f"Marked {len(added)} intents as unknown, check Zoom: {ids}")
