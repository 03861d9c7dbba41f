"""Runs left ``RUNNING`` by a killed training process, told apart from live ones and marked ``FAILED``.

A process killed with SIGKILL (or by the OOM killer, or a power cut) never ends its MLflow run,
which then stays ``RUNNING`` forever. Every training run therefore records who runs it, in the
same call that creates it (:func:`owner_tags`): the host name, the machine's boot id, the process
id and the process's start time (in clock ticks since boot, from ``/proc``). Before a new
training run starts, :func:`mark_killed_runs` looks at the experiment's ``RUNNING`` runs and
marks ``FAILED`` (with the tag ``engage.killed_reason``) those whose process is known dead:

- recorded on this host, and the machine has restarted since (another boot id); or
- recorded on this host and boot, and the process id is gone, a zombie, or now belongs to a
  process that started at another time (pid reuse).

Everything else is left alone: a run recorded on another host (its processes cannot be seen
from here), a run without these tags (older code, or a run started by hand), a run whose process
is alive. So another live training's run is never marked, wherever it runs; the cost is that a
run killed on another machine stays ``RUNNING`` until a training on that machine looks. The host
is identified by its name: containers sharing one store must not share a host name (Docker
gives each its own by default). A ``RUNNING`` run is refused by serving and export anyway
(:mod:`engage.registry.servable`); the mark makes the run's fate visible in the UI.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path

from mlflow import MlflowClient

HOST_TAG = "engage.host"
BOOT_TAG = "engage.boot_id"
PID_TAG = "engage.pid"
START_TAG = "engage.pid_start"
KILLED_TAG = "engage.killed_reason"
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def _boot_id() -> str:
    try:
        return _BOOT_ID.read_text().strip()
    except OSError:  # not Linux
        return ""


def _stat(pid: int) -> tuple[str, str] | None:
    """``(state, start time)`` of a process from ``/proc/<pid>/stat``, None if unreadable."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return fields[0], fields[19]  # fields 3 (state) and 22 (starttime) of proc(5)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def owner_tags(pid: int | None = None) -> dict[str, str]:
    """Tags naming this process (or process ``pid`` of this host), for the run it starts (see
    the module docstring)."""
    pid = os.getpid() if pid is None else pid
    stat = _stat(pid)
    return {
        HOST_TAG: socket.gethostname(),
        BOOT_TAG: _boot_id(),
        PID_TAG: str(pid),
        START_TAG: "" if stat is None else stat[1],
    }


def killed_reason(tags: Mapping[str, str]) -> str | None:
    """Why the process that owns a ``RUNNING`` run with these tags is known dead, or None
    (it is alive, or it cannot be told from here)."""
    host, pid_text = tags.get(HOST_TAG), tags.get(PID_TAG, "")
    if host is None or not pid_text.isdigit() or host != socket.gethostname():
        return None  # not recorded, or another machine's process: cannot tell
    boot, recorded_boot = _boot_id(), tags.get(BOOT_TAG, "")
    if boot and recorded_boot and boot != recorded_boot:
        return f"its process {pid_text} on {host} ran before the machine restarted"
    pid = int(pid_text)
    stat = _stat(pid)
    if stat is None:
        if _alive(pid):
            return None  # no /proc (not Linux) but the pid exists: assume it is the run's
        return f"its process {pid} on {host} is gone"
    state, start = stat
    if state == "Z":
        return f"its process {pid} on {host} is gone (a zombie)"
    recorded_start = tags.get(START_TAG, "")
    if recorded_start and start != recorded_start:
        return f"its process {pid} on {host} is gone (the pid now belongs to another process)"
    return None


def mark_killed_runs(client: MlflowClient, experiment_id: str) -> list[str]:
    """Mark ``FAILED`` the experiment's ``RUNNING`` runs whose process is known dead; one note
    per run marked."""
    notes: list[str] = []
    token = None
    while True:
        page = client.search_runs(
            [experiment_id],
            filter_string="attributes.status = 'RUNNING'",
            max_results=1000,
            page_token=token,
        )
        for run in page:
            reason = killed_reason(run.data.tags)
            if reason is None:
                continue
            client.set_tag(run.info.run_id, KILLED_TAG, reason)
            client.set_terminated(run.info.run_id, "FAILED")
            notes.append(f"run {run.info.run_id} was left RUNNING and marked FAILED: {reason}")
        token = page.token
        if not token:
            return notes
