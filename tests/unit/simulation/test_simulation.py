"""The simulated world: log properties, confounding, heterogeneity, and the domain claims."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engage.contract.spec import load_spec
from engage.contract.validation import validate_log
from engage.simulation.world import (
    MIX_COLUMNS,
    OUTCOMES,
    STYLE_PROTOTYPES,
    STYLES,
    Actions,
    SimulatedWorld,
)


@pytest.fixture(scope="module")
def hard_log() -> pd.DataFrame:
    return SimulatedWorld("hard").simulate(20_000, seed=1, with_truth=True)


@pytest.fixture(scope="module")
def world() -> SimulatedWorld:
    return SimulatedWorld("hard")


def one_profile(world: SimulatedWorld, **overrides: object) -> pd.DataFrame:
    """A typical profile with chosen fields overridden."""
    base = world.sample_profiles(1, np.random.default_rng(0)).iloc[[0]].reset_index(drop=True)
    base.loc[0, "industry"] = "consumer_services"
    base.loc[0, "market"] = "b2c"
    base.loc[0, ["innovation", "shareability", "audience_tech_savviness", "service_load"]] = 0.5
    base.loc[0, ["sales_cycle_days", "followers", "team_hours", "ad_budget"]] = [10, 8000, 20, 500]
    base.loc[0, "goal"] = "sales"
    for key, value in overrides.items():
        base.loc[0, key] = value
    return base


def action(style: str, mix=None, cadence=None) -> Actions:
    proto_mix, proto_cad = STYLE_PROTOTYPES[style]
    return Actions(
        style=np.array([STYLES.index(style)]),
        mix=np.array([mix if mix is not None else proto_mix], dtype=float),
        cadence=np.array([cadence if cadence is not None else proto_cad], dtype=float),
    )


def objective(world: SimulatedWorld, profile: pd.DataFrame, act: Actions) -> float:
    return float(world.expected_outcomes(profile, act)["objective"].iloc[0])


def outcome(world: SimulatedWorld, profile: pd.DataFrame, act: Actions, name: str) -> float:
    return float(world.expected_outcomes(profile, act)[name].iloc[0])


# ---------------------------------------------------------------------- the log


def test_log_satisfies_the_shipped_spec(hard_log: pd.DataFrame) -> None:
    report = validate_log(hard_log, load_spec())
    assert not report.fatal, report.summary()
    assert len(report.quarantine) == 0
    assert len(report.clean) == 20_000


def test_shares_sum_to_one_and_are_non_negative(hard_log: pd.DataFrame) -> None:
    shares = hard_log[MIX_COLUMNS].to_numpy()
    assert (shares >= 0).all()
    np.testing.assert_allclose(shares.sum(1), 1.0, atol=1e-9)


def test_same_seed_same_log_and_other_seed_differs() -> None:
    w = SimulatedWorld("hard")
    a, b, c = w.simulate(500, seed=7), w.simulate(500, seed=7), w.simulate(500, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a["conversions"].equals(c["conversions"])


def test_profile_has_enough_mixed_features(world: SimulatedWorld) -> None:
    spec = world.spec
    assert len(spec.context) >= 10
    kinds = {c.type for c in spec.context}
    assert kinds == {"numeric", "categorical"}
    assert len(spec.styles) == 5 and len(spec.mix_columns) >= 5 and len(spec.outcomes) >= 3


def test_logging_is_confounded(hard_log: pd.DataFrame) -> None:
    """Style frequencies differ strongly across profile segments."""
    freq = pd.crosstab(hard_log["industry"], hard_log["style"], normalize="index")
    assert freq.loc["niche_consumer", "broadcast"] > 0.5
    assert freq.loc["software", "conversational"] > 0.4
    assert freq.loc["software", "broadcast"] < 0.15
    # total-variation distance between the two segments' style distributions
    tv = 0.5 * (freq.loc["niche_consumer"] - freq.loc["software"]).abs().sum()
    assert tv > 0.5


def test_propensities_reach_down_to_about_two_percent(hard_log: pd.DataFrame) -> None:
    p = hard_log["logged_propensity"]
    assert 0.0199 < p.min() < 0.025
    assert (p < 0.03).sum() > 20  # rare style/profile pairs do occur in the log


def test_logged_propensity_is_the_probability_of_the_logged_style(
    world: SimulatedWorld, hard_log: pd.DataFrame
) -> None:
    probs = world.logging_propensities(hard_log)
    codes = hard_log["style"].map(STYLES.index).to_numpy()
    np.testing.assert_allclose(probs[np.arange(len(codes)), codes], hard_log["logged_propensity"])
    np.testing.assert_allclose(probs.sum(1), 1.0)


def test_no_single_style_is_best_for_everyone(
    world: SimulatedWorld, hard_log: pd.DataFrame
) -> None:
    profiles = hard_log[world.spec.context_names].iloc[:400]
    best, _ = world.best_actions(profiles, world.action_grid(mix_step=0.2))
    shares = np.bincount(best.style, minlength=5) / len(best.style)
    assert shares.max() < 0.5
    assert (shares > 0.05).sum() >= 4


def test_logged_policy_is_far_from_the_oracle(
    world: SimulatedWorld, hard_log: pd.DataFrame
) -> None:
    sample = hard_log.iloc[:400]
    profiles = sample[world.spec.context_names]
    _, oracle = world.best_actions(profiles, world.action_grid(mix_step=0.2))
    logged = world.policy_value(profiles, world.logged_actions(sample))
    # the best single action for everyone
    grid = world.action_grid(mix_step=0.2)
    const = (
        (world._means(profiles, grid.style, grid.mix, grid.cadence) @ world.weights).mean(0).max()
    )
    assert oracle.mean() - logged > 0.8
    assert oracle.mean() - const > 0.5  # personalising is worth a lot


def test_noise_is_large_relative_to_effects(hard_log: pd.DataFrame, world: SimulatedWorld) -> None:
    observed = hard_log[OUTCOMES].to_numpy() @ world.weights
    noise = observed - hard_log["true_objective"].to_numpy()
    assert noise.std() > 1.5 * hard_log["true_objective"].std()


def test_easy_world_has_less_noise_and_milder_confounding() -> None:
    easy = SimulatedWorld("easy").simulate(5000, seed=2, with_truth=True)
    hard = SimulatedWorld("hard").simulate(5000, seed=2, with_truth=True)

    def resid(log):
        return (log["conversions"] - log["true_conversions"]).std()

    assert resid(easy) < 0.5 * resid(hard)
    assert easy["logged_propensity"].min() > 0.05


def test_flat_world_has_no_profile_specific_effects() -> None:
    flat = SimulatedWorld("flat")
    profiles = flat.sample_profiles(50, np.random.default_rng(4))
    a = Actions(
        np.zeros(50, int), np.tile(STYLE_PROTOTYPES["broadcast"][0], (50, 1)), np.full(50, 12.0)
    )
    b = Actions(
        np.ones(50, int), np.tile(STYLE_PROTOTYPES["conversational"][0], (50, 1)), np.full(50, 7.0)
    )
    diff = (
        flat.expected_outcomes(profiles, a)["objective"]
        - flat.expected_outcomes(profiles, b)["objective"]
    )
    assert diff.std() < 1e-9  # the same difference for every profile
    best, _ = flat.best_actions(profiles, flat.action_grid(mix_step=0.2))
    assert len(np.unique(best.style)) == 1


def test_style_mode_fixes_mix_and_cadence_per_style() -> None:
    log = SimulatedWorld("hard", decisions="style").simulate(2000, seed=5)
    for style, (mix, cadence) in STYLE_PROTOTYPES.items():
        part = log[log["style"] == style]
        np.testing.assert_allclose(part[MIX_COLUMNS].to_numpy(), np.tile(mix, (len(part), 1)))
        assert (part["posts_per_week"] == cadence).all()


def test_with_truth_writes_oracle_columns(hard_log: pd.DataFrame, world: SimulatedWorld) -> None:
    truth = world.expected_outcomes(hard_log.iloc[:100], world.logged_actions(hard_log.iloc[:100]))
    np.testing.assert_allclose(truth["objective"], hard_log["true_objective"].iloc[:100])


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="difficulty"):
        SimulatedWorld("medium")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="decisions"):
        SimulatedWorld("hard", decisions="mix")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rows"):
        SimulatedWorld().simulate(0)


# ---------------------------------------------------------------------- the claims


def test_c1_niche_short_cycle_seller_does_best_broadcasting(world: SimulatedWorld) -> None:
    niche = one_profile(world, industry="niche_consumer", sales_cycle_days=0.0, service_load=0.1)
    values = {s: objective(world, niche, action(s)) for s in STYLES}
    assert max(values, key=values.get) == "broadcast"


def test_c2_most_other_brands_gain_from_two_way_conversation(world: SimulatedWorld) -> None:
    brand = one_profile(world, industry="fashion_beauty", sales_cycle_days=20.0, team_hours=40.0)
    assert objective(world, brand, action("conversational")) > objective(
        world, brand, action("broadcast")
    )


def test_c3_high_traffic_news_source_broadcasts_well(world: SimulatedWorld) -> None:
    small = one_profile(world, industry="news_media", followers=2_000)
    big = one_profile(world, industry="news_media", followers=3_000_000)

    def gap(p):
        return objective(world, p, action("broadcast")) - objective(
            world, p, action("conversational")
        )

    assert gap(big) > gap(small) + 0.5


def test_c4_channel_pays_little_for_non_innovative_unshareable_products(
    world: SimulatedWorld,
) -> None:
    dull = one_profile(world, innovation=0.05, shareability=0.05, audience_tech_savviness=0.05)
    bright = one_profile(world, innovation=0.95, shareability=0.95, audience_tech_savviness=0.95)

    def spread(p):
        return np.ptp([objective(world, p, action(s)) for s in STYLES])

    assert spread(dull) < spread(bright)


def test_c5_educational_content_builds_reach_promotion_does_not(world: SimulatedWorld) -> None:
    p = one_profile(world, innovation=0.8)
    edu = outcome(
        world, p, action("thought_leadership", mix=[0.0, 0.6, 0.1, 0.2, 0.1]), "follower_growth"
    )
    promo = outcome(
        world, p, action("thought_leadership", mix=[0.6, 0.0, 0.1, 0.2, 0.1]), "follower_growth"
    )
    assert edu > promo + 1.0


def test_c6_customer_care_pays_for_service_heavy_businesses(world: SimulatedWorld) -> None:
    def gap(load):
        return objective(
            world, one_profile(world, service_load=load), action("customer_care")
        ) - objective(world, one_profile(world, service_load=load), action("broadcast"))

    assert gap(0.9) > gap(0.1) + 0.5
    assert gap(0.9) > 0


def test_c7_two_way_styles_need_team_capacity(world: SimulatedWorld) -> None:
    p = one_profile(world, team_hours=6.0)
    sustainable = outcome(world, p, action("conversational", cadence=3.0), "engagement_rate")
    overloaded = outcome(world, p, action("conversational", cadence=20.0), "engagement_rate")
    assert sustainable > overloaded


def test_c8_deals_convert_now_and_lose_followers(world: SimulatedWorld) -> None:
    p = one_profile(world)
    heavy = action("broadcast", mix=[0.7, 0.05, 0.05, 0.1, 0.1])
    light = action("broadcast", mix=[0.1, 0.3, 0.2, 0.2, 0.2])
    assert outcome(world, p, heavy, "conversions") > outcome(world, p, light, "conversions")
    assert outcome(world, p, heavy, "retention_30d") < outcome(world, p, light, "retention_30d") - 5


def test_c9_visual_content_travels_for_shareable_products(world: SimulatedWorld) -> None:
    visual = [0.1, 0.1, 0.1, 0.6, 0.1]
    plain = [0.1, 0.35, 0.25, 0.05, 0.25]

    def lift(share):
        return outcome(
            world,
            one_profile(world, shareability=share),
            action("community", mix=visual),
            "follower_growth",
        ) - outcome(
            world,
            one_profile(world, shareability=share),
            action("community", mix=plain),
            "follower_growth",
        )

    assert lift(0.9) > lift(0.1) + 1.0


def test_c10_paid_promotion_lifts_reach(world: SimulatedWorld) -> None:
    act = action("community")
    assert (
        outcome(world, one_profile(world, ad_budget=20_000), act, "follower_growth")
        > outcome(world, one_profile(world, ad_budget=0), act, "follower_growth") + 1.0
    )


def test_diminishing_returns_in_the_mix(world: SimulatedWorld) -> None:
    p = one_profile(world)
    conv = [
        outcome(world, p, action("broadcast", mix=[s, 0.9 - s, 0.0, 0.1, 0.0]), "conversions")
        for s in (0.0, 0.3, 0.6, 0.9)
    ]
    gains = np.diff(conv)
    assert (gains > 0).all() and gains[0] > gains[1] > gains[2]


def test_cadence_fatigue_gives_an_interior_optimum(world: SimulatedWorld) -> None:
    p = one_profile(world, team_hours=60.0)
    values = [objective(world, p, action("broadcast", cadence=c)) for c in (1, 6, 40)]
    assert values[1] > values[0] and values[1] > values[2]
