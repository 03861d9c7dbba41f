"""How the serving process waits for the MLflow store without blocking or holding up shutdown.

Calls to the store (:mod:`engage.registry`) block for up to seconds (see
:mod:`engage.registry.connection` for how long MLflow retries): they run in daemon threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def in_daemon_thread(fn: Callable[..., T], *args: object) -> T:
    """Run ``fn(*args)`` in a daemon thread and await its result.

    Not the loop's default executor: Python joins those threads at exit, so a load stuck on
    an unreachable store would hold up shutdown; a daemon thread is simply abandoned.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return  # the awaiting task was cancelled
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            outcome: tuple[T | None, BaseException | None] = (fn(*args), None)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            outcome = (None, exc)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=run, name="engage-model-load", daemon=True).start()
    return await future
