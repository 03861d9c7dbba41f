"""The world's vocabulary, and the names ``engage.simulation.world`` keeps exporting."""

from __future__ import annotations

import numpy as np

from engage.simulation import effects, profiles, vocabulary, world
from engage.simulation.vocabulary import MIX, STYLE_PROTOTYPES, STYLES, prototype_arrays


def test_prototype_arrays_are_the_prototypes_in_style_order() -> None:
    mixes, cadences = prototype_arrays()
    assert mixes.shape == (len(STYLES), len(MIX)) and cadences.shape == (len(STYLES),)
    for i, style in enumerate(STYLES):
        np.testing.assert_array_equal(mixes[i], STYLE_PROTOTYPES[style][0])
        assert cadences[i] == STYLE_PROTOTYPES[style][1]
    np.testing.assert_allclose(mixes.sum(1), 1.0)


def test_the_world_module_still_exports_the_vocabulary() -> None:
    for name in ("INDUSTRIES", "STYLES", "MIX", "MIX_COLUMNS", "GOALS", "OUTCOMES"):
        assert getattr(world, name) is getattr(vocabulary, name), name
    assert world.STYLE_PROTOTYPES is vocabulary.STYLE_PROTOTYPES
    assert world.INDUSTRY_SHARE is profiles.INDUSTRY_SHARE
    assert world.EFFORT_PER_POST is effects.EFFORT_PER_POST
    for name in ("Actions", "SimulatedWorld", "read_world", "write_log", "NOISE_SD"):
        assert hasattr(world, name), name
