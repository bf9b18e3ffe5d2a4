"""Many requests at once, for the races a tool like this must survive."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def run_at_once(count: int, work: Callable[[], object]) -> list[BaseException]:
    """Run ``work`` in ``count`` threads released together; return what they raised.

    Each thread has its own database connection, closed when it ends.
    """
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            work()
        except BaseException as error:  # collected for the test to assert on
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
