"""Re-encrypt the stored Zoom tokens with the first key of TOKEN_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from zoomadmin.audit.log import command_runner, record
from zoomadmin.audit.models import Action, Outcome
from zoomadmin.zoom import tokens
from zoomadmin.zoom.models import ZoomToken


class Command(BaseCommand):
    help = (
        "Re-encrypt the stored Zoom tokens with the first key of TOKEN_ENCRYPTION_KEYS. "
        "Rotate a key: prepend the new one, run this, then remove the old one."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        unreadable: list[str] = []
        rotated = 0
        with transaction.atomic():
            for row in ZoomToken.objects.select_for_update():
                try:
                    for field in ("access_token_encrypted", "refresh_token_encrypted"):
                        value = getattr(row, field)
                        if value:
                            setattr(row, field, tokens.reencrypt(value))
                except InvalidToken:
                    unreadable.append(row.connection)
                    continue
                row.save(update_fields=["access_token_encrypted", "refresh_token_encrypted"])
                rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} stored Zoom token row(s) with the first key.")
        record(
            Action.TOKEN_KEYS_ROTATED,
            outcome=Outcome.FAILED if unreadable else Outcome.SUCCESS,
            detail=(
                f"rotate_token_keys: {rotated} row(s) re-encrypted with the first key"
                + (f"; unreadable with every key: {', '.join(unreadable)}" if unreadable else "")
                + f"; run by {command_runner()}"
            ),
        )
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} row(s) could not be decrypted with any key in "
                f"TOKEN_ENCRYPTION_KEYS ({', '.join(unreadable)}): put the old key back "
                "(after the new one) and run this again, or reconnect Zoom."
            )
