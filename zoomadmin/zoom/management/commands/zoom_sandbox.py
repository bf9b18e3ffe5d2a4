"""Serve the built-in Zoom sandbox over HTTP on loopback (``python3 dev.py run`` starts it)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zoomadmin.env import is_loopback_host
from zoomadmin.zoom.sandbox import ZoomSandbox
from zoomadmin.zoom.sandbox.server import make_server


class Command(BaseCommand):
    help = "Run the fake Zoom (API and OAuth host) where ZOOM_API_BASE_URL points."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=300, help="seeded users (default 300)")
        parser.add_argument("--seed", type=int, default=7, help="seed of the fake directory")
        parser.add_argument(
            "--plan", choices=["free", "pro", "business"], default=settings.ZOOM_PLAN
        )
        parser.add_argument("--verbose", action="store_true", help="log every request")

    def handle(self, *args: Any, **options: Any) -> None:
        api = urlsplit(settings.ZOOM_API_BASE_URL)
        oauth = urlsplit(settings.ZOOM_OAUTH_BASE_URL)
        host, port = api.hostname or "", api.port or 80
        if api.scheme != "http" or not is_loopback_host(host) or api.path != "/v2":
            raise CommandError(
                "ZOOM_API_BASE_URL must be http://127.0.0.1:<port>/v2 for the sandbox, "
                f"not {settings.ZOOM_API_BASE_URL}"
            )
        if (oauth.hostname, oauth.port) != (api.hostname, api.port) or oauth.path:
            raise CommandError("ZOOM_OAUTH_BASE_URL must be the sandbox's origin, without a path")
        if options["users"] < 1:
            raise CommandError("--users must be at least 1")
        sandbox = ZoomSandbox(
            user_count=options["users"],
            seed=options["seed"],
            plan=options["plan"],
            account_id=settings.ZOOM_ACCOUNT_ID or settings.SANDBOX_ACCOUNT_ID,
            client_id=settings.ZOOM_CLIENT_ID or settings.SANDBOX_CLIENT_ID,
            client_secret=settings.ZOOM_CLIENT_SECRET or settings.SANDBOX_CLIENT_SECRET,
        )
        try:
            server = make_server(sandbox, host=host, port=port, verbose=options["verbose"])
        except OSError as error:
            raise CommandError(f"cannot listen on {host}:{port}: {error.strerror}") from None
        self.stdout.write(
            f"Zoom sandbox ({options['users']} users, {options['plan']} plan limits) at "
            f"http://{host}:{port}: API /v2, OAuth /oauth, controls /_sandbox",
        )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
