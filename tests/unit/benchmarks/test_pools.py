"""Benchmark pool workers die with their parent (issue 11: a killed benchmark left its workers)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.support.pools import tied_to_parent  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux-only")

_PATH = [str(REPO), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(_PATH)}


def _python(code: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _gone(pid: int) -> bool:
    """No such process, or a zombie (its new parent may never reap it: only its exit matters)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    return state.split()[1] in {"Z", "X"}


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_worker_is_armed_and_the_chained_initializer_runs() -> None:
    out = _python(f"""
        import signal
        from benchmarks.support.pools import die_with_parent, parent_death_signal
        signal.signal(signal.SIGTERM, lambda *a: None)  # as if inherited through fork
        die_with_parent({os.getpid()}, print, ("chained", 7))
        print(parent_death_signal(), signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["chained 7", f"{int(signal.SIGTERM)} True"]


def test_a_worker_whose_parent_is_already_gone_kills_itself() -> None:
    out = _python(f"""
        from benchmarks.support.pools import die_with_parent
        die_with_parent({_dead_pid()}, print, ("chained",))
        print("survived")
    """)
    assert out.returncode == -signal.SIGTERM, (out.returncode, out.stderr)
    assert out.stdout == ""


def test_a_worker_of_another_live_process_stays() -> None:
    """The forkserver case: the worker's parent is not ``parent_pid``, which is alive."""
    out = _python(f"""
        from benchmarks.support.pools import die_with_parent
        die_with_parent({os.getppid()})
        print("survived")
    """)
    assert (out.returncode, out.stdout) == (0, "survived\n"), out.stderr


def test_tied_to_parent_names_this_process_and_chains() -> None:
    kwargs = tied_to_parent(print, ["x"])
    assert kwargs["initargs"] == (os.getpid(), print, ("x",))
    assert kwargs["initializer"].__name__ == "die_with_parent"


PARENT = """
import multiprocessing as mp
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.managers import SyncManager

from benchmarks.support.pools import die_with_parent, tied_to_parent


def task(path):
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(path + ".tmp", path)
    time.sleep(600)


if __name__ == "__main__":
    pidfile, method = sys.argv[1], sys.argv[2]
    ctx = mp.get_context(method)
    server = SyncManager(ctx=ctx)  # as policy_quality.py: a manager's server too
    server.start(die_with_parent, (os.getpid(),))
    with open(pidfile + ".manager", "w") as f:
        f.write(str(server._process.pid))
    with server, ProcessPoolExecutor(1, mp_context=ctx, **tied_to_parent()) as pool:
        pool.submit(task, pidfile)
        time.sleep(600)
"""


@pytest.mark.slow
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_killing_the_benchmark_takes_its_workers_with_it(tmp_path: Path, method: str) -> None:
    script, pidfile = tmp_path / "parent.py", tmp_path / "worker.pid"
    script.write_text(PARENT)
    stderr = tmp_path / "parent.err"  # a file: the workers would hold a pipe open
    with stderr.open("w") as err:
        parent = subprocess.Popen(
            [sys.executable, str(script), str(pidfile), method], env=ENV, stderr=err
        )
    children: list[int] = []
    try:
        deadline = time.monotonic() + 60  # a spawned worker imports on a busy machine
        while not pidfile.exists():
            assert parent.poll() is None, stderr.read_text()
            assert time.monotonic() < deadline, "the worker never started its task"
            time.sleep(0.05)
        children = [int(pidfile.read_text()), int(Path(f"{pidfile}.manager").read_text())]
        assert not any(_gone(pid) for pid in children)

        parent.kill()  # SIGKILL: the parent gets no chance to clean up
        parent.wait(timeout=10)

        deadline = time.monotonic() + 10
        while not all(_gone(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [pid for pid in children if not _gone(pid)] == [], "outlived the killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in children:  # never leave an orphan behind, even when the test fails
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)
