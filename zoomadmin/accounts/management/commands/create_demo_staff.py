"""Create (or reset) the demo staff accounts. Sandbox mode only."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from zoomadmin.accounts.roles import Role

DEMO_STAFF = (
    ("helpdesk", "Helpdesk agent", Role.HELPDESK),
    ("manager", "Manager", Role.MANAGERS),
    ("admin", "Administrator (superuser)", Role.ADMINISTRATOR),
)


class Command(BaseCommand):
    help = "Create or reset the demo staff (helpdesk, manager, admin) with new passwords."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.ZOOM_SANDBOX:
            # Known accounts with printed passwords have no place next to real Zoom.
            raise CommandError("demo staff exist only in sandbox mode (ZOOM_SANDBOX=1)")
        user_model = get_user_model()
        for username, title, role in DEMO_STAFF:
            password = secrets.token_urlsafe(12)
            user, _ = user_model.objects.get_or_create(username=username)
            user.set_password(password)
            user.is_active = True
            user.is_staff = role is Role.ADMINISTRATOR
            user.is_superuser = role is Role.ADMINISTRATOR
            user.save()
            if role is not Role.ADMINISTRATOR:
                user.groups.set([Group.objects.get(name=role.value)])
            self.stdout.write(f"  {title:<28} username: {username:<10} password: {password}")
