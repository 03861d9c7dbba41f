"""How a run left RUNNING by a dead process is told from a live one (engage.registry.runs).

Real processes of this host: this test process (alive), a child that has exited and been
reaped (dead), a child that is a zombie (dead). No MLflow store.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from engage.registry import runs
from engage.registry.runs import BOOT_TAG, HOST_TAG, PID_TAG, START_TAG, killed_reason, owner_tags

linux_only = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc")


def dead_pid() -> int:
    """The pid of a child that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


def test_this_live_process_is_never_called_dead():
    tags = owner_tags()
    assert tags[PID_TAG] == str(os.getpid())
    assert killed_reason(tags) is None


def test_a_gone_process_on_this_host_is_dead():
    tags = {**owner_tags(), PID_TAG: str(dead_pid())}
    reason = killed_reason(tags)
    assert reason is not None and "is gone" in reason and tags[PID_TAG] in reason


@linux_only
def test_a_reused_pid_is_dead_and_its_own_start_time_is_alive():
    tags = owner_tags()
    assert tags[START_TAG].isdigit()
    reused = {**tags, START_TAG: str(int(tags[START_TAG]) + 1)}
    reason = killed_reason(reused)
    assert reason is not None and "belongs to another process" in reason


@linux_only
def test_a_zombie_is_dead():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        while (runs._stat(child.pid) or ("?",))[0] != "Z":  # exited, not yet reaped
            assert time.monotonic() < deadline
            time.sleep(0.05)
        reason = killed_reason({**owner_tags(), PID_TAG: str(child.pid), START_TAG: ""})
        assert reason is not None and "zombie" in reason
    finally:
        child.wait(timeout=30)


@linux_only
def test_a_run_from_before_a_restart_is_dead():
    tags = {**owner_tags(), BOOT_TAG: "another-boot"}
    reason = killed_reason(tags)
    assert reason is not None and "restarted" in reason


@pytest.mark.parametrize(
    "tags",
    [
        {},  # older code, or a run started by hand: no owner recorded
        {HOST_TAG: "another-host", PID_TAG: "1"},  # its processes cannot be seen from here
        {HOST_TAG: "another-host", PID_TAG: "999999999"},
        {HOST_TAG: "HOST", PID_TAG: "not-a-pid"},
    ],
)
def test_what_cannot_be_told_from_here_is_never_called_dead(tags):
    tags = {k: (owner_tags()[HOST_TAG] if v == "HOST" else v) for k, v in tags.items()}
    assert killed_reason(tags) is None
