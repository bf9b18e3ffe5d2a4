"""Make the running Zoom sandbox fail on purpose, for demonstrations."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zoomadmin.zoom.sandbox import FAULT_ENDPOINTS


class Command(BaseCommand):
    help = (
        "Inject a fault into the running Zoom sandbox (python3 dev.py run starts it): the "
        "next N calls to an endpoint fail with a status, a delay or a dropped connection."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("endpoint", nargs="?", choices=sorted(FAULT_ENDPOINTS))
        parser.add_argument("--times", type=int, default=1)
        parser.add_argument("--status", type=int, help="HTTP status, e.g. 429, 503, 404")
        parser.add_argument("--code", type=int, help="Zoom error code in the body")
        parser.add_argument("--message", help="Zoom error message in the body")
        parser.add_argument("--delay", type=float, default=0.0, help="seconds before answering")
        parser.add_argument("--reset", action="store_true", help="drop the connection")
        parser.add_argument("--daily", action="store_true", help="a 429 for the daily limit")
        parser.add_argument("--clear", action="store_true", help="remove all pending faults")
        parser.add_argument("--expire-tokens", action="store_true", help="expire every token")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.ZOOM_SANDBOX:
            raise CommandError("this only talks to the built-in sandbox (ZOOM_SANDBOX=1)")
        origin = settings.ZOOM_API_BASE_URL.removesuffix("/v2")
        if options["clear"]:
            self._send("DELETE", f"{origin}/_sandbox/faults", None)
            self.stdout.write("Cleared the sandbox's pending faults.")
            return
        if options["expire_tokens"]:
            self._send("POST", f"{origin}/_sandbox/expire-tokens", {})
            self.stdout.write("Every sandbox access token is now expired.")
            return
        if not options["endpoint"]:
            raise CommandError("name an endpoint, or use --clear / --expire-tokens")
        fault: dict[str, Any] = {"endpoint": options["endpoint"], "times": options["times"]}
        for key in ("status", "code", "message"):
            if options[key] is not None:
                fault[key] = options[key]
        if options["delay"]:
            fault["delay"] = options["delay"]
        if options["reset"]:
            fault["reset"] = True
        if options["daily"]:
            fault.setdefault("status", 429)
            fault["headers"] = {"X-RateLimit-Type": "Daily-limit"}
        self._send("POST", f"{origin}/_sandbox/faults", fault)
        self.stdout.write(f"The next {options['times']} {options['endpoint']} call(s) will fail.")

    def _send(self, method: str, url: str, payload: dict[str, Any] | None) -> None:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(  # noqa: S310 - the sandbox's loopback URL
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5):  # noqa: S310
                pass
        except urllib.error.HTTPError as error:
            raise CommandError(f"the sandbox refused: {error.read().decode()[:500]}") from None
        except OSError as error:
            raise CommandError(f"the sandbox is not running at {url}: {error}") from None
