"""Profile clusters: standardisation, assignment and their JSON form."""

from __future__ import annotations

import json

import numpy as np

from engage.policy.support import ONE_HOT_WEIGHT, ProfileClusters


def _clusters() -> ProfileClusters:
    # column 0 numeric, column 1 categorical with 3 codes, column 2 numeric
    context = np.array([[0.0, 0, 10.0], [2.0, 1, 10.0], [4.0, 2, np.nan], [6.0, 0, 30.0]])
    standard = ProfileClusters.standardiser(context, [1], [3])
    z = standard.transform(context)
    return standard.with_centroids(z[[0, 3]])


def test_numeric_columns_are_standardised_and_categories_one_hot() -> None:
    c = _clusters()
    z = c.transform(np.array([[3.0, 2, 20.0]]))
    assert z.shape == (1, 2 + 3)
    assert z[0, 0] == 0.0  # the mean of 0, 2, 4, 6
    np.testing.assert_allclose(z[0, 2:], [0, 0, ONE_HOT_WEIGHT])


def test_missing_and_unknown_values_do_not_break_assignment() -> None:
    c = _clusters()
    odd = np.array([[np.nan, np.nan, np.nan], [1.0, 7, 10.0]])  # 7: not a code
    assert c.assign(odd).shape == (2,)


def test_a_profile_goes_to_its_nearest_centroid() -> None:
    c = _clusters()
    assert c.assign(np.array([[0.5, 0, 11.0], [5.5, 0, 29.0]])).tolist() == [0, 1]


def test_json_round_trip_assigns_alike() -> None:
    c = _clusters()
    again = ProfileClusters.from_json(json.loads(json.dumps(c.to_json())))
    probe = np.random.default_rng(0).normal(size=(50, 3)) * [3, 0, 10] + [3, 1, 20]
    probe[:, 1] = np.random.default_rng(1).integers(0, 3, 50)
    assert (again.assign(probe) == c.assign(probe)).all()
    assert again.n_clusters == 2
