"""The Dask client of a run: a ``LocalCluster`` sized to the machine, or an existing cluster."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psutil

from engage.contract.redaction import redact
from engage.training.split import TrainingError

LOCAL = "local"
#: Share of the machine's memory the local workers may use together (the rest: the client,
#: which holds the samples, and the scheduler).
WORKER_MEMORY_SHARE = 0.6
MAX_LOCAL_WORKERS = 2


@dataclass(frozen=True)
class LocalSizing:
    """How a ``LocalCluster`` is sized: workers, threads each, memory limit each (bytes)."""

    n_workers: int
    threads_per_worker: int
    memory_limit: int


def local_sizing(cpus: int | None = None, memory: int | None = None) -> LocalSizing:
    """Workers for this machine: one per core up to :data:`MAX_LOCAL_WORKERS` (LightGBM's
    network training wants few large workers), one thread each unless cores are spare, and
    :data:`WORKER_MEMORY_SHARE` of the machine's memory split between them."""
    cpus = cpus or os.cpu_count() or 1
    memory = memory or psutil.virtual_memory().total
    n_workers = max(1, min(cpus, MAX_LOCAL_WORKERS))
    return LocalSizing(
        n_workers=n_workers,
        threads_per_worker=max(1, cpus // n_workers),
        memory_limit=int(memory * WORKER_MEMORY_SHARE / n_workers),
    )


@contextmanager
def dask_client(address: str) -> Iterator[object]:
    """A ``distributed.Client``: ``"local"`` starts a ``LocalCluster`` (see
    :func:`local_sizing`), anything else is a scheduler address to join. The client (and a
    cluster it started) is closed on exit, also when the run fails.

    Raises:
        TrainingError: the scheduler cannot be reached (the address is redacted).
    """
    from distributed import Client, LocalCluster

    cluster = None
    if address == LOCAL:
        size = local_sizing()
        cluster = LocalCluster(
            n_workers=size.n_workers,
            threads_per_worker=size.threads_per_worker,
            memory_limit=size.memory_limit,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout=30)
        except (OSError, TimeoutError, ValueError) as exc:
            raise TrainingError(
                f"cannot reach the Dask scheduler at {redact(address)} (--dask): "
                f"{redact(str(exc))}; pass --dask local to start a cluster on this machine"
            ) from exc
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
