#!/usr/bin/env python3
"""Django's command-line utility for zoomadmin."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zoomadmin.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A bad setting: say which variable, without a traceback in the way.
        sys.stderr.write(f"zoomadmin cannot start: {error}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
