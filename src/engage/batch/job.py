"""Run a batch job: load the model, score every piece of the input, write the manifest.

The model URI is resolved once, by the caller's process: an alias (``@champion``) becomes the
version it points to now, and every Dask worker loads that pinned version, so an alias moved
mid-job cannot mix two models in one output. A worker loads it once per process
(:func:`cached_model`) and keeps it for every task it runs.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from engage.batch.inputs import (
    ROW,
    Piece,
    check_columns,
    count_input_rows,
    find_files,
    plan_pieces,
    read_piece,
    stream_chunks,
)
from engage.batch.scoring import (
    QUARANTINE,
    RECOMMENDATIONS,
    ChunkCounts,
    manifest_units,
    sum_counts,
    write_chunk,
)
from engage.contract.messages import counted
from engage.contract.redaction import redact
from engage.serving.model import LoadedModel, ModelLoader

MANIFEST = "_manifest.json"

_MODELS: dict[tuple[str, str], LoadedModel] = {}
_MODELS_LOCK = threading.Lock()


@dataclass(frozen=True)
class BatchSettings:
    """One batch job.

    Attributes:
        model_uri: ``models:/NAME@ALIAS``, ``models:/NAME/VERSION`` or an exported directory.
        input: a Parquet file, a folder of them or a glob.
        output: the directory to write (must not exist, or be empty).
        tracking_uri: the MLflow store the model URI refers to.
        top_k: recommendations per profile.
        explain: add the first choice's explanation (summary and factors); costs ~2x time.
        chunk_rows: rows per chunk (one process) or per task (Dask, in whole row groups).
        dask: None for one process; ``"local"`` for a LocalCluster; else a scheduler address.
        workers: workers of a ``"local"`` cluster.
        id_column: an input column copied to every output row (e.g. an account id).
    """

    model_uri: str
    input: str
    output: str
    tracking_uri: str
    top_k: int = 3
    explain: bool = False
    chunk_rows: int = 10_000
    dask: str | None = None
    workers: int = 2
    id_column: str | None = None


@dataclass(frozen=True)
class BatchResult:
    """What a job did: counts, where it wrote, which model version answered."""

    rows: int
    scored: int
    recommendations: int
    quarantined: int
    output: str
    model_uri: str
    model_version: str | None
    engine: str
    seconds: float
    parts: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """Counts in one sentence, with where the quarantined rows are when there are some."""
        rate = self.rows / self.seconds if self.seconds > 0 else float("nan")
        text = (
            f"scored {self.scored:,} of {counted(self.rows, 'profile')} with {self.model_uri} "
            f"(version {self.model_version}) on {self.engine} in {self.seconds:.1f} s "
            f"({rate:,.0f} profiles/s); {counted(self.recommendations, 'recommendation')} in "
            f"{Path(self.output) / RECOMMENDATIONS}"
        )
        if self.quarantined:
            text += (
                f"; {counted(self.quarantined, 'row')} quarantined with their reasons in "
                f"{Path(self.output) / QUARANTINE}"
            )
        return text


def cached_model(tracking_uri: str, uri: str) -> LoadedModel:
    """The policy behind ``uri``, loaded once per process (the API's loader)."""
    key = (tracking_uri, uri)
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = ModelLoader(tracking_uri).load(uri)
        return _MODELS[key]


def pinned_uri(model: LoadedModel) -> str:
    """``models:/NAME/VERSION`` of a registered model, else the URI it was loaded from."""
    if model.name and model.version:
        return f"models:/{model.name}/{model.version}"
    return model.uri


class Progress:
    """A progress line on stderr: rewritten in place on a terminal, a line every 10% elsewhere."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.monotonic()
        self.done = self.quarantined = 0
        self._shown_tenth = -1

    def add(self, counts: ChunkCounts) -> None:
        """Count a finished chunk and show the line."""
        self.done += counts.rows
        self.quarantined += counts.quarantined
        rate = self.done / max(time.monotonic() - self.start, 1e-9)
        line = (
            f"scored {self.done:,}/{self.total:,} profiles ({self.done / self.total:.0%}), "
            f"{rate:,.0f}/s, {self.quarantined:,} quarantined"
        )
        if self.tty:
            self.stream.write("\r" + line)
        elif (tenth := 10 * self.done // self.total) != self._shown_tenth:
            self._shown_tenth = tenth
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the line (on a terminal)."""
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _prepare_output(output: Path) -> None:
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise FileExistsError(
            f"output {output} exists and is not an empty directory; choose a new one "
            "(nothing is overwritten)"
        )
    output.mkdir(parents=True, exist_ok=True)


def _score_partition(
    frame: pd.DataFrame,
    tracking_uri: str,
    uri: str,
    output: str,
    top_k: int,
    explain: bool,
    id_column: str | None,
) -> pd.DataFrame:
    """Dask task: score and write one partition; return its counts as a one-row frame."""
    model = cached_model(tracking_uri, uri)
    counts = write_chunk(model, frame, output, top_k=top_k, explain=explain, id_column=id_column)
    return pd.DataFrame([asdict(counts)])


_COUNTS_META = pd.DataFrame(
    {
        "rows": pd.Series(dtype="int64"),
        "scored": pd.Series(dtype="int64"),
        "recommendations": pd.Series(dtype="int64"),
        "quarantined": pd.Series(dtype="int64"),
    }
)


@contextmanager
def dask_client(address: str, workers: int) -> Iterator[tuple[Any, str]]:
    """A client of a new LocalCluster (``"local"``: ``workers`` processes, one thread each) or
    of the scheduler at ``address``; closed (and the local cluster stopped) on exit."""
    from distributed import Client, LocalCluster

    if address == "local":
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        with cluster, Client(cluster) as client:
            yield client, f"Dask LocalCluster ({workers} workers)"
    else:
        with Client(address) as client:
            yield client, f"Dask scheduler {redact(address)}"


def _run_dask(
    client: Any,
    settings: BatchSettings,
    pieces: list[Piece],
    columns: list[str],
    uri: str,
    progress: Progress,
) -> list[ChunkCounts]:
    import dask.dataframe as dd
    from distributed import as_completed

    meta = pd.DataFrame({c: pd.Series(dtype="object") for c in [ROW, *columns]})
    frames = dd.from_map(read_piece, pieces, columns=columns, meta=meta, enforce_metadata=False)
    counts_frame = frames.map_partitions(
        _score_partition,
        settings.tracking_uri,
        uri,
        str(Path(settings.output).resolve()),
        settings.top_k,
        settings.explain,
        settings.id_column,
        meta=_COUNTS_META,
        enforce_metadata=False,
    )
    counts = []
    for future in as_completed(client.compute(counts_frame.to_delayed())):
        for record in future.result().to_dict("records"):
            chunk = ChunkCounts(**{k: int(v) for k, v in record.items()})
            counts.append(chunk)
            progress.add(chunk)
    return counts


def run_batch(settings: BatchSettings, progress_stream: TextIO | None = None) -> BatchResult:
    """Score every profile of ``settings.input`` and write the output directory.

    Raises:
        BatchInputError: the input cannot be read as profiles of the model's spec.
        FileExistsError: the output directory exists and is not empty.
        ModelLoadError: the model URI does not give a servable policy.
    """
    with ExitStack() as stack:
        client, engine = None, "one process"
        if settings.dask is not None:
            client, engine = stack.enter_context(dask_client(settings.dask, settings.workers))
        return _run(settings, client, engine, progress_stream)


def _run(
    settings: BatchSettings, client: Any, engine: str, progress_stream: TextIO | None
) -> BatchResult:
    start = time.monotonic()
    model = cached_model(settings.tracking_uri, settings.model_uri)
    files = find_files(settings.input)
    columns = list(model.policy.spec.context_names)
    if settings.id_column and settings.id_column not in columns:
        columns.append(settings.id_column)
    check_columns(files, columns)
    output = Path(settings.output)
    _prepare_output(output)
    progress = Progress(count_input_rows(files), progress_stream)
    uri = pinned_uri(model)
    options = dict(top_k=settings.top_k, explain=settings.explain, id_column=settings.id_column)
    if client is None:
        counts = []
        for chunk in stream_chunks(files, columns, settings.chunk_rows):
            counts.append(write_chunk(model, chunk, output, **options))  # type: ignore[arg-type]
            progress.add(counts[-1])
    else:
        pieces = plan_pieces(files, settings.chunk_rows)
        counts = _run_dask(client, settings, pieces, columns, uri, progress)
    progress.close()
    total = sum_counts(counts)
    result = BatchResult(
        rows=total.rows,
        scored=total.scored,
        recommendations=total.recommendations,
        quarantined=total.quarantined,
        output=str(output),
        model_uri=uri,
        model_version=model.version,
        engine=engine,
        seconds=time.monotonic() - start,
        parts=len(counts),
    )
    manifest = {
        **asdict(result),
        "input": redact(settings.input),
        "top_k": settings.top_k,
        "explain": settings.explain,
        "run_id": model.run_id,
        "outcome_units": manifest_units(model),
        "policy_mode": model.policy.mode,
    }
    (output / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return result
