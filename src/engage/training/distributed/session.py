"""The seam ``train()`` uses with ``--dask``: one object holding the client and the
distributed log between the validate, split and outcomes stages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec
from engage.policy.encoding import FeatureBuilder
from engage.training.distributed.cluster import dask_client
from engage.training.distributed.intake import (
    DistributedReport,
    aggregate_reports,
    clean_of,
    log_parts,
    quarantine_sample_per_partition,
    read_partitioned,
    refuse_untrainable,
    summary_of,
    validate_partition,
)
from engage.training.distributed.outcomes import fit_outcomes_dask
from engage.training.distributed.split import (
    DRAW,
    EVAL,
    FOLD,
    SampledSide,
    SampledSplit,
    encode_side,
    feature_frame,
    feature_meta,
    sample_caps,
    tag_rows,
    timestamps_ns,
)
from engage.training.intake import MAX_QUARANTINE_ROWS_WRITTEN
from engage.training.models import FitLog
from engage.training.nuisance import (
    FOLDS,
    Outcomes,
    _corrected_oof,
    _predictive_metrics,
    fit_corrections,
    fit_intervals,
)
from engage.training.settings import TrainSettings
from engage.training.split import EVAL_FRACTION, Split, TrainingError, _draw_samples

__all__ = ["DaskTraining", "dask_training", "log_parts"]


@contextmanager
def dask_training(settings: TrainSettings) -> Iterator[DaskTraining | None]:
    """A :class:`DaskTraining` on the cluster ``settings.dask`` names (None without one); the
    client is closed when the block ends, also on failure."""
    if not settings.dask:
        yield None
        return
    with dask_client(settings.dask) as client:
        yield DaskTraining(client, settings)


class DaskTraining:
    """The distributed validate, split and outcomes stages of one run (see the package doc)."""

    def __init__(self, client: Any, settings: TrainSettings) -> None:
        self.client = client
        self.settings = settings
        self._clean: Any = None  # the clean rows, on the workers
        self._keep: list[Any] = []  # futures the clean rows are made of
        self._features: Any = None  # the training side's encoded rows, on the workers
        self.params: dict[str, Any] = {}

    # ------------------------------------------------------------------ validate

    def validate(self, spec: CampaignSpec) -> DistributedReport:
        """Validate every partition on the workers; the aggregated report.

        Raises:
            LogValidationError, TrainingError: as :func:`engage.training.intake.validate_input`.
        """
        import dask
        import dask.dataframe as dd

        log = read_partitioned(self.settings.data)
        parts = log.to_delayed()
        cap = quarantine_sample_per_partition(MAX_QUARANTINE_ROWS_WRITTEN, len(parts))
        results = self.client.compute(
            [dask.delayed(validate_partition)(p, i, spec, cap) for i, p in enumerate(parts)]
        )
        summaries = self.client.gather(self.client.map(summary_of, results))
        report = aggregate_reports(summaries, spec, MAX_QUARANTINE_ROWS_WRITTEN)
        refuse_untrainable(report, spec, self.settings.input)
        cleans = self.client.map(clean_of, results)
        first = next(i for i, s in enumerate(summaries) if s["n_clean"])
        meta = self.client.submit(lambda df: df.head(0), cleans[first]).result()
        self._keep = cleans
        self._clean = dd.from_delayed(cleans, meta=meta, verify_meta=False)
        if spec.id:
            self._warn_duplicate_ids(report, spec.id)
        self.params = {
            "dask.partitions": len(parts),
            "dask.workers": len(self.client.scheduler_info()["workers"]),
        }
        return report

    def _warn_duplicate_ids(self, report: DistributedReport, column: str) -> None:
        ids = self._clean[column]
        duplicated = int(report.n_clean - ids.nunique().compute())
        if duplicated:
            from engage.contract.report import Problem

            report.problems.append(
                Problem(
                    "warning",
                    column,
                    duplicated,
                    f"column {column!r}: {duplicated:,} clean rows repeat an id of another partition "
                    "(duplicates within a partition are quarantined; across partitions they are kept)",
                )
            )

    # ------------------------------------------------------------------ split

    def split(self, spec: CampaignSpec) -> Split:
        """Split on the workers, collect the seeded samples, keep the training side's encoded
        rows on the workers for the outcome models.

        Raises:
            TrainingError: a declared style has no training row, or a side is empty.
        """
        s = self.settings
        cut = None
        if spec.timestamp:
            ns = self._clean[spec.timestamp].map_partitions(
                timestamps_ns_series, meta=(spec.timestamp, "int64")
            )
            cut = int(ns.quantile(1 - EVAL_FRACTION).compute())
        tagged = self._clean.map_partitions(
            tag_rows,
            spec,
            seed=s.seed,
            folds=FOLDS,
            eval_fraction=EVAL_FRACTION,
            cut=cut,
        ).persist()
        sides = tagged[EVAL].value_counts().compute()
        n_eval, n_train = int(sides.get(True, 0)), int(sides.get(False, 0))
        if n_train == 0 or n_eval == 0:
            raise TrainingError(f"the split left {n_train} training and {n_eval} evaluation rows")
        train_styles = tagged[~tagged[EVAL]][spec.style.name].unique().compute()
        missing = sorted(set(spec.styles) - {str(x) for x in train_styles})
        if missing:
            raise TrainingError(f"styles {missing} have no rows in the training split")
        cap_train, cap_eval = sample_caps()
        train_rows = self._sample(tagged[~tagged[EVAL]], n_train, cap_train)
        eval_rows = self._sample(tagged[tagged[EVAL]], n_eval, cap_eval)
        self._features = (
            tagged[~tagged[EVAL]]
            .map_partitions(feature_frame, spec, meta=feature_meta(spec))
            .persist()
        )
        self._clean, self._keep = None, []  # the tagged and encoded rows replace them
        del tagged
        builder = FeatureBuilder(spec)
        train = encode_side(train_rows, spec, builder)
        train = SampledSide(**vars(train), rows=n_train, fold=train_rows[FOLD].to_numpy(np.int8))
        evaluation = encode_side(eval_rows, spec, builder)
        n_context = len(builder.context_names)
        return SampledSplit(
            train=train,
            eval=evaluation,
            how="time" if cut is not None else "hash",
            styles=spec.styles,
            categorical=list(builder.categorical_indices),
            context_categorical=[i for i in builder.categorical_indices if i < n_context],
            samples=_draw_samples(len(train.log), len(evaluation), s.seed),
            dask_params={
                **self.params,
                "rows_eval": n_eval,  # the whole side (``len(eval)`` is its sample's)
                "dask.sample_rows.train": len(train.log),
                "dask.sample_rows.eval": len(evaluation),
            },
        )

    def _sample(self, side: Any, n: int, cap: int) -> pd.DataFrame:
        """About ``cap`` rows of ``side`` (all when ``n <= cap``), chosen by the seeded draw."""
        rate = min(1.0, cap / n)
        rows = side if rate >= 1.0 else side[side[DRAW] < rate]
        return rows.compute().reset_index(drop=True)

    # ------------------------------------------------------------------ outcomes

    def fit_outcomes(self, split: Split, params: dict[str, Any], fit_log: FitLog) -> Outcomes:
        """:func:`engage.training.nuisance.fit_outcome_models` with the outcome models fitted
        on every training row of the cluster (see :mod:`.outcomes`)."""
        assert isinstance(split, SampledSplit) and self._features is not None
        s, train, names = self.settings, split.train, list(split.train.y)
        models = fit_outcomes_dask(
            self.client,
            self._features,
            split,
            names,
            params=params,
            folds=FOLDS,
            seed=s.seed,
            fit_log=fit_log,
        )
        residuals = {o: train.y[o] - models.oof[o] for o in names}
        corrections = fit_corrections(split, residuals, s.learning, fit_log)
        observed, predicted, metrics = _predictive_metrics(split, models)
        self._features = None
        halfwidth = {o: float(np.quantile(np.abs(residuals[o]), 0.9)) for o in names}
        # the interval model on the sampled training rows (their out-of-fold predictions)
        intervals = fit_intervals(
            split, models, corrections, halfwidth, s.learning, fit_log, metrics
        )
        return Outcomes(
            models=models,
            corrections=corrections,
            oof_corrected=_corrected_oof(models, corrections, split),
            halfwidth=halfwidth,
            eval_observed=observed,
            eval_predicted=predicted,
            metrics=metrics,
            params={
                **{f"lgbm.{k}": v for k, v in params.items() if k != "verbose"},
                "rows_eval_metrics": len(split.samples.metrics),
                "dask.outcome_rows": len(train),
            },
            interval_model=intervals,
        )


def timestamps_ns_series(values: pd.Series) -> pd.Series:
    """A datetime column as int64 nanoseconds, per partition."""
    return pd.Series(timestamps_ns(values), index=values.index, name=values.name)
