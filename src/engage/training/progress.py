"""A progress display for long training runs (rich), silent when disabled or not a terminal."""

from __future__ import annotations

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
