import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def beside_playwright(function: Callable[[], T]) -> T | None:
    """Run a database call from a browser test: Django refuses them inside Playwright's event
    loop, so it runs in a thread of its own (which closes its connection)."""
    result = {}

    def run() -> None:
        try:
            result["value"] = function()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result.get("value")
