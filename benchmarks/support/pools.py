"""Worker processes that die with the benchmark that started them.

A benchmark killed by a signal (``kill <pid>``, a CI timeout, an OOM kill) used to leave its
``ProcessPoolExecutor`` workers running until their current cell finished: nothing tells a
worker blocked in a fit that its parent is gone. On Linux, ``die_with_parent`` (run in each
worker as the pool's initializer) asks the kernel to send the worker SIGTERM when its parent
dies (``prctl(PR_SET_PDEATHSIG)``), then closes the race where the parent died between the
worker's fork and that call.

Use::

    from benchmarks.support.pools import tied_to_parent

    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, **tied_to_parent()) as pool:
        ...

    # a pool that already has an initializer keeps it: it runs after the death signal is armed
    ProcessPoolExecutor(jobs, **tied_to_parent(my_init, (a, b)))

The same initializer works for a multiprocessing manager's server process
(``SyncManager(ctx=ctx).start(die_with_parent, (os.getpid(),))``).

Limits (documented, not handled):

- Linux only. Elsewhere (macOS, Windows: no ``prctl``) ``die_with_parent`` only runs the chained
  initializer; workers still outlive a killed parent there.
- The kernel ties the signal to the *thread* that started the worker, not the process: a pool whose
  workers are started from a thread that then ends (e.g. ``submit`` called from a short-lived
  thread with a spawn context, or ``max_tasks_per_child`` replacing workers from the pool's own
  manager thread) sends its workers SIGTERM when that thread ends. The benchmarks start their
  pools from the main thread.
- With the ``forkserver`` start method the workers' parent is the fork server; they get the signal
  when it exits, which it does once the benchmark is gone.

A SIGTERM to the benchmark itself is left to its default action (immediate exit, after which the
kernel signals the workers). Turning it into ``SystemExit`` would be worse: unwinding
``with ProcessPoolExecutor(...)`` calls ``shutdown(wait=True)``, which waits for every queued
task to finish.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterable
from typing import Any

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PR_GET_PDEATHSIG = 2


def _libc() -> ctypes.CDLL | None:
    """The C library, or None where ``prctl`` does not exist (anything but Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl  # noqa: B018 - raises AttributeError on a libc without it
    except (OSError, AttributeError):
        return None
    return libc


def parent_death_signal() -> int:
    """The signal this process gets when its parent dies (0: none, or not on Linux)."""
    libc = _libc()
    if libc is None:
        return 0
    value = ctypes.c_int(0)
    if libc.prctl(PR_GET_PDEATHSIG, ctypes.byref(value), 0, 0, 0) != 0:
        return 0
    return value.value


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def die_with_parent(
    parent_pid: int,
    initializer: Callable[..., Any] | None = None,
    initargs: Iterable[Any] = (),
) -> None:
    """Make this (worker) process get SIGTERM when its parent dies, then run ``initializer``.

    Meant as a pool's or a manager's initializer, with ``parent_pid`` the pid of the process
    that creates the pool (``os.getpid()`` there; ``tied_to_parent`` fills it in). SIGTERM is
    reset to its default action first, so a handler inherited through ``fork`` cannot turn the
    parent's death into an exception that the pool's worker loop catches and survives.

    If the parent is already gone when this runs (it died between the fork and ``prctl``), the
    worker kills itself the same way. A worker whose parent is not ``parent_pid`` (the
    forkserver start method) stays as long as ``parent_pid`` is alive.

    Where ``prctl`` is unavailable (not Linux) only ``initializer`` runs.
    """
    libc = _libc()
    if libc is not None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            err = ctypes.get_errno()
            warnings.warn(
                f"prctl(PR_SET_PDEATHSIG) failed ({os.strerror(err)}): this worker will outlive "
                "a killed parent",
                RuntimeWarning,
                stacklevel=2,
            )
        elif os.getppid() != parent_pid and not _alive(parent_pid):
            os.kill(os.getpid(), signal.SIGTERM)
    if initializer is not None:
        initializer(*initargs)


def tied_to_parent(
    initializer: Callable[..., Any] | None = None,
    initargs: Iterable[Any] = (),
) -> dict[str, Any]:
    """``ProcessPoolExecutor`` keyword arguments whose workers die with this process.

    Call it in the process that creates the pool. An ``initializer`` of the pool's own (with its
    ``initargs``) is chained: it runs in each worker after the death signal is armed. With a
    spawn or forkserver context it must be picklable (a module-level function), as usual.
    """
    return {
        "initializer": die_with_parent,
        "initargs": (os.getpid(), initializer, tuple(initargs)),
    }
