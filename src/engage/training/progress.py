"""A progress display for long training runs (rich), silent when disabled or not a terminal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console


class Progress:
    """Prints each stage as it starts and how long it took."""

    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.enabled = enabled
        self.console = console or Console(stderr=True)
        self._status = None

    def start(self, stage: str) -> None:
        if not self.enabled:
            return
        if self.console.is_terminal:
            self._status = self.console.status(f"[bold]{stage}[/]…")
            self._status.start()
        else:
            self.console.print(f"• {stage}…")

    def done(self, stage: str, seconds: float) -> None:
        if not self.enabled:
            return
        self._stop()
        self.console.print(f"[green]✓[/] {stage:<11} {seconds:7.1f} s")

    def _stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def close(self) -> None:
        self._stop()


class Stages:
    """Times each stage and shows it on the progress display; a context that closes it."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}

    @contextmanager
    def run(self, name: str) -> Iterator[None]:
        self.progress.start(name)
        start = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - start
        self.progress.done(name, self.timings[name])

    def __enter__(self) -> Stages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.close()  # also on failure: a spinner must not outlive the run
