"""Micro-batching of single-profile requests: concurrent callers share one policy call.

Each ``POST /v1/recommendations`` scores one profile, and most of its cost is a handful of
LightGBM calls over the profile's candidate rows. Under concurrent traffic the
:class:`MicroBatcher` gathers the requests that are waiting, groups those that ask the same
question of the same model (objective, constraints, top_k, explain), and answers each group
with one ``Policy.recommend`` call on a worker thread. A profile's answer does not depend on
its batch (LightGBM scores rows independently and the policy sums in a fixed order; tested).

There is no timer: a worker takes what is queued the moment it is free, so a lone request is
never held back waiting for company (latency at concurrency 1 is unchanged) and batches grow
only when requests arrive faster than they are answered (throughput under load).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Job:
    """One request waiting for its answer."""

    key: Hashable  # requests with equal keys can share a policy call
    rows: list[Any]  # the request's profiles
    params: Any  # what the batch function needs besides the rows (same for equal keys)
    future: asyncio.Future[list[Any]] = field(repr=False)


BatchFn = Callable[[list[Any], Any], list[Any]]  # one answer per row, of any type


class MicroBatcher:
    """Answer jobs in batches of at most ``max_batch`` profiles on ``workers`` threads.

    ``fn(rows, params)`` answers the concatenated profiles of a group of jobs, one answer per
    row; an exception it raises is raised to every job of that group (they asked the same
    question).
    """

    def __init__(
        self,
        fn: BatchFn,
        *,
        max_batch: int = 16,
        workers: int = 2,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.fn = fn
        self.max_batch = max_batch
        self.workers = workers
        self.on_batch = on_batch
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Job] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def submit(self, key: Hashable, rows: list[Any], params: Any) -> list[Any]:
        """The answers for ``rows``, computed in a batch with other waiting jobs."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first call, or an app driven by another event loop
            self._queue, self._tasks = None, []
            self.start()
        assert self._queue is not None
        job = Job(key, rows, params, loop.create_future())
        self._queue.put_nowait(job)
        return await job.future

    def start(self) -> None:
        """Start the worker tasks on the running event loop (idempotent)."""
        if self._queue is None:
            self._loop = asyncio.get_running_loop()
            self._queue = asyncio.Queue()
            self._tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]

    async def stop(self) -> None:
        """Cancel the workers; jobs still queued are cancelled too."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._queue is not None:
            while not self._queue.empty():
                self._queue.get_nowait().future.cancel()
        self._loop, self._queue, self._tasks = None, None, []

    async def _work(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            jobs = [await queue.get()]
            size = len(jobs[0].rows)
            while size < self.max_batch and not queue.empty():
                job = queue.get_nowait()
                jobs.append(job)
                size += len(job.rows)
            for group in _groups(jobs):
                await self._answer(group)

    async def _answer(self, jobs: list[Job]) -> None:
        live = [job for job in jobs if not job.future.done()]  # a caller may have gone away
        if not live:
            return
        rows = [row for job in live for row in job.rows]
        if self.on_batch is not None:
            self.on_batch(len(rows))
        try:
            answers = await asyncio.to_thread(self.fn, rows, live[0].params)
        except Exception as exc:  # noqa: BLE001 - handed to every caller of the group
            for job in live:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        start = 0
        for job in live:
            if not job.future.done():
                job.future.set_result(answers[start : start + len(job.rows)])
            start += len(job.rows)


def _groups(jobs: list[Job]) -> list[list[Job]]:
    """Jobs grouped by key, in order of first arrival."""
    groups: dict[Hashable, list[Job]] = {}
    for job in jobs:
        groups.setdefault(job.key, []).append(job)
    return list(groups.values())
