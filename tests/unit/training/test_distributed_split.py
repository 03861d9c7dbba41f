"""The split, folds and samples of ``engage train --dask``, without a cluster: what each
worker computes for its partition."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from engage.contract.spec import load_spec
from engage.contract.validation import validate_log
from engage.policy.encoding import FeatureBuilder
from engage.simulation.world import SimulatedWorld
from engage.training.distributed.cluster import local_sizing
from engage.training.distributed.outcomes import stopping_iteration
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
from engage.training.models import CORRECTION_MAX_ROWS
from engage.training.nuisance import TUNING_ROWS
from engage.training.oracle import ORACLE_ROWS
from engage.training.split import CONSTANT_ROWS, MAX_METRIC_ROWS, PROPENSITY_ROWS


@pytest.fixture(scope="module")
def spec():
    return load_spec(None)


@pytest.fixture(scope="module")
def clean(spec) -> pd.DataFrame:
    return validate_log(SimulatedWorld("hard").simulate(2_000, seed=2), spec).clean


def tag(part: pd.DataFrame, spec, cut=None, seed=0) -> pd.DataFrame:
    return tag_rows(part, spec, seed=seed, folds=3, eval_fraction=0.25, cut=cut)


def test_a_rows_side_fold_and_draw_do_not_depend_on_the_partitioning(clean, spec) -> None:
    whole = tag(clean, spec)
    parts = pd.concat(
        [tag(clean.iloc[rows], spec) for rows in np.array_split(np.arange(len(clean)), 7)]
    )
    pd.testing.assert_frame_equal(whole, parts)


def test_the_hashed_split_is_seeded_and_near_its_fraction(clean, spec) -> None:
    a, b = tag(clean, spec, seed=0), tag(clean, spec, seed=1)
    assert a[EVAL].mean() == pytest.approx(0.25, abs=0.04)
    assert (a[EVAL] != b[EVAL]).any()
    assert set(a[FOLD]) == {0, 1, 2}
    assert a[DRAW].between(0, 1, inclusive="left").all()
    assert a[FOLD].value_counts().min() > 0.28 * len(a)


def test_the_time_split_evaluates_what_comes_after_the_cut(clean, spec) -> None:
    ns = timestamps_ns(clean[spec.timestamp])
    cut = int(np.quantile(ns, 0.75))
    tagged = tag(clean, spec, cut=cut)
    assert (ns[tagged[EVAL].to_numpy()] > cut).all()
    assert (ns[~tagged[EVAL].to_numpy()] <= cut).all()


def test_the_features_on_a_worker_are_the_single_machine_encoding(clean, spec) -> None:
    tagged = tag(clean, spec)
    features = feature_frame(tagged, spec)
    builder = FeatureBuilder(spec)
    n = len(builder.feature_names)
    np.testing.assert_array_equal(
        features[[f"x{j}" for j in range(n)]].to_numpy(), builder.build(clean)
    )
    assert list(features.columns) == list(feature_meta(spec).columns)
    assert (features.dtypes == feature_meta(spec).dtypes).all()
    side = encode_side(tagged, spec, builder)
    np.testing.assert_array_equal(side.X, builder.build(clean))
    assert EVAL not in side.log.columns


def test_a_sampled_side_counts_the_whole_side(clean, spec) -> None:
    side = encode_side(clean.head(100), spec, FeatureBuilder(spec))
    sampled = SampledSide(**vars(side), rows=5_000, fold=np.zeros(100, dtype=np.int8))
    assert len(sampled) == 5_000 and len(sampled.log) == 100


def test_a_sampled_split_logs_the_whole_sides_and_its_samples(clean, spec) -> None:
    builder = FeatureBuilder(spec)
    train = encode_side(clean.head(150), spec, builder)
    train = SampledSide(**vars(train), rows=9_000, fold=np.zeros(150, dtype=np.int8))
    split = SampledSplit(
        train=train,
        eval=encode_side(clean.tail(50), spec, builder),
        how="hash",
        styles=spec.styles,
        categorical=[],
        context_categorical=[],
        samples=None,  # type: ignore[arg-type]
        dask_params={
            "rows_eval": 3_000,
            "dask.sample_rows.train": 150,
            "dask.sample_rows.eval": 50,
        },
    )
    assert split.params == {
        "split": "hash",
        "rows_train": 9_000,
        "rows_eval": 3_000,
        "dask.sample_rows.train": 150,
        "dask.sample_rows.eval": 50,
    }


def test_the_samples_cover_every_cap_of_their_side() -> None:
    train_caps = (PROPENSITY_ROWS, TUNING_ROWS, CONSTANT_ROWS, CORRECTION_MAX_ROWS)
    assert sample_caps() == (max(train_caps), max(MAX_METRIC_ROWS, ORACLE_ROWS))


def test_a_local_cluster_fits_the_machine() -> None:
    size = local_sizing(cpus=2, memory=24 << 30)
    assert (size.n_workers, size.threads_per_worker) == (2, 1)
    assert size.memory_limit * size.n_workers < 24 << 30
    assert local_sizing(cpus=16, memory=64 << 30).n_workers == 2
    assert local_sizing(cpus=1, memory=8 << 30).n_workers == 1


def test_stopping_after_the_fit_keeps_lightgbms_early_stopping_iteration() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    y = X[:, 0] + 0.5 * rng.normal(size=600)
    params = {
        "objective": "regression",
        "learning_rate": 0.5,
        "num_leaves": 7,
        "verbose": -1,
        "num_threads": 1,
    }
    fit, valid = slice(0, 400), slice(400, None)
    stopped = lgb.train(
        params,
        lgb.Dataset(X[fit], y[fit]),
        num_boost_round=120,
        valid_sets=[lgb.Dataset(X[valid], y[valid])],
        callbacks=[lgb.early_stopping(30, verbose=False)],
    )
    full = lgb.train(params, lgb.Dataset(X[fit], y[fit]), num_boost_round=120)
    assert stopped.best_iteration < 90  # the test means something: it did stop early
    assert stopping_iteration(full, X[valid], y[valid], patience=30) == stopped.best_iteration
