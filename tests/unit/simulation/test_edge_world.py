"""The ``edge`` family of worlds: its log, its oracle search, its support and its claims."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from engage.cli import main
from engage.contract.spec import load_spec
from engage.contract.validation import validate_log
from engage.simulation.families import (
    EdgeWorld,
    logged_support_quantile,
    make_world,
    parse_world_name,
    world_from_settings,
    world_name,
    world_names,
)
from engage.simulation.oracle import WorldOracle, oracle_for_log
from engage.simulation.search import simplex_lattice
from engage.simulation.world import (
    MIX_COLUMNS,
    OUTCOMES,
    STYLE_PROTOTYPES,
    STYLES,
    Actions,
    SimulatedWorld,
    read_world,
)


@pytest.fixture(scope="module")
def world() -> EdgeWorld:
    return EdgeWorld("hard")


@pytest.fixture(scope="module")
def edge_log(world: EdgeWorld) -> pd.DataFrame:
    return world.simulate(8000, seed=1, with_truth=True)


@pytest.fixture(scope="module")
def profiles(world: EdgeWorld) -> pd.DataFrame:
    return world.sample_profiles(200, np.random.default_rng(12345))


@pytest.fixture(scope="module")
def oracle(world: EdgeWorld, profiles: pd.DataFrame) -> tuple[Actions, np.ndarray]:
    return world.best_actions(profiles)


def logged_draw(world: SimulatedWorld, profiles: pd.DataFrame, seed: int) -> Actions:
    rng = np.random.default_rng(seed)
    prop = world.logging_propensities(profiles)
    style = (prop.cumsum(1) > rng.random(len(profiles))[:, None]).argmax(1)
    mix, cadence = world._logged_mix_and_cadence(profiles, style, rng)
    return Actions(style, mix, cadence)


# ---------------------------------------------------------------------- the log


def test_same_seed_same_log_and_other_seed_differs(world: EdgeWorld) -> None:
    a, b, c = world.simulate(400, seed=7), world.simulate(400, seed=7), world.simulate(400, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a["conversions"].equals(c["conversions"])


def test_schema_is_the_classic_schema_and_satisfies_the_spec(edge_log: pd.DataFrame) -> None:
    classic = SimulatedWorld("hard").simulate(50, seed=1, with_truth=True)
    assert list(edge_log.columns) == list(classic.columns)
    assert (edge_log.dtypes == classic.dtypes).all()
    report = validate_log(edge_log, load_spec())
    assert not report.fatal, report.summary()
    assert len(report.quarantine) == 0
    shares = edge_log[MIX_COLUMNS].to_numpy()
    assert (shares >= 0).all()
    np.testing.assert_allclose(shares.sum(1), 1.0, atol=1e-9)


def test_logged_propensity_is_the_probability_of_the_logged_style(
    world: EdgeWorld, edge_log: pd.DataFrame
) -> None:
    probs = world.logging_propensities(edge_log)
    codes = edge_log["style"].map(STYLES.index).to_numpy()
    np.testing.assert_allclose(probs[np.arange(len(codes)), codes], edge_log["logged_propensity"])
    assert 0.0159 < edge_log["logged_propensity"].min() < 0.025


def test_with_truth_writes_the_oracle_columns(world: EdgeWorld, edge_log: pd.DataFrame) -> None:
    part = edge_log.iloc[:100]
    truth = world.expected_outcomes(part, world.logged_actions(part))
    np.testing.assert_allclose(truth["objective"], part["true_objective"])


def test_confounding_follows_price_and_goal_not_the_classic_habits(edge_log: pd.DataFrame) -> None:
    cheap = edge_log["price_point"] < 30
    dear = edge_log["price_point"] > 300
    sales = edge_log["goal"] == "sales"
    rate = lambda mask: (edge_log.loc[mask, "style"] == "broadcast").mean()  # noqa: E731
    assert rate(cheap & sales) > rate(dear & ~sales) + 0.3
    freq = pd.crosstab(edge_log["industry"], edge_log["style"], normalize="index")
    assert freq.loc["professional_services", "thought_leadership"] > 0.5


def test_noise_is_heavy_tailed_and_heteroscedastic(edge_log: pd.DataFrame) -> None:
    resid = edge_log["conversions"] - edge_log["true_conversions"]
    classic = SimulatedWorld("hard").simulate(4000, seed=1, with_truth=True)
    classic_resid = classic["conversions"] - classic["true_conversions"]
    assert stats.kurtosis(resid) > 3.0 > abs(stats.kurtosis(classic_resid)) + 2.5
    # larger for larger expected values, among accounts of a similar size ...
    band = edge_log["followers"].between(3_000, 30_000)
    truth = edge_log["true_conversions"]
    low, high = truth[band].quantile([0.25, 0.75])
    assert resid[band & (truth > high)].std() > 1.5 * resid[band & (truth < low)].std()
    # ... and, at the same expected value, larger for small accounts
    scaled = resid / (0.5 + 0.5 * truth.abs() / 4.0)
    assert (
        scaled[edge_log["followers"] < 2_000].std()
        > 1.1 * scaled[edge_log["followers"] > 50_000].std()
    )


def test_easy_edge_world_has_less_noise_and_milder_confounding() -> None:
    easy = EdgeWorld("easy").simulate(4000, seed=2, with_truth=True)
    hard = EdgeWorld("hard").simulate(4000, seed=2, with_truth=True)
    spread = lambda log: (log["engagement_rate"] - log["true_engagement_rate"]).std()  # noqa: E731
    assert spread(easy) < 0.5 * spread(hard)
    assert easy["logged_propensity"].min() > 0.05


# ---------------------------------------------------------------------- the oracle


def test_oracle_beats_random_and_logged_actions(
    world: EdgeWorld, profiles: pd.DataFrame, oracle: tuple[Actions, np.ndarray]
) -> None:
    best, value = oracle
    np.testing.assert_allclose(world.expected_outcomes(profiles, best)["objective"], value)
    rng = np.random.default_rng(5)
    for _ in range(5):
        random = Actions(
            rng.integers(0, 5, len(profiles)),
            rng.dirichlet(np.ones(5), len(profiles)),
            np.exp(rng.uniform(0, np.log(60), len(profiles))),
        )
        assert (world.expected_outcomes(profiles, random)["objective"] <= value + 1e-9).all()
    logged = np.mean(
        [world.policy_value(profiles, logged_draw(world, profiles, s)) for s in range(3)]
    )
    assert value.mean() - logged > 1.0  # the marketers leave a lot on the table


def test_oracle_search_beats_a_fine_grid_and_local_moves(
    world: EdgeWorld, profiles: pd.DataFrame, oracle
) -> None:
    best, value = oracle
    part, top = profiles.iloc[:12], value[:12]
    lattice = simplex_lattice(0.1)
    cads = np.geomspace(1, 60, 16)
    s, m, c = np.meshgrid(
        np.arange(5), np.arange(len(lattice)), np.arange(len(cads)), indexing="ij"
    )
    grid = Actions(s.ravel(), lattice[m.ravel()], cads[c.ravel()])
    _, fine = world.best_actions(part, grid)
    assert (top >= fine - 1e-9).all()
    # no small feasible move of mix or cadence improves on the answer by more than a hair
    rng = np.random.default_rng(3)
    for _ in range(20):
        mix = np.clip(best.mix[:12] + rng.normal(0, 0.02, (12, 5)), 0, None)
        mix /= mix.sum(1, keepdims=True)
        cad = np.clip(best.cadence[:12] * np.exp(rng.normal(0, 0.05, 12)), 1, 60)
        moved = world.expected_outcomes(part, Actions(best.style[:12], mix, cad))["objective"]
        assert (moved <= top + 1e-3).all()


def test_optimal_actions_sit_at_the_edge_of_the_logged_support(
    world: EdgeWorld, profiles: pd.DataFrame, oracle
) -> None:
    best, _ = oracle
    q_best = logged_support_quantile(world, profiles, best, draws=300, seed=1)
    q_logged = logged_support_quantile(
        world, profiles, logged_draw(world, profiles, 9), draws=300, seed=1
    )
    assert 0.05 < (q_logged >= 0.9).mean() < 0.17  # the measure is calibrated on logged actions
    assert (q_best >= 0.9).mean() > 0.5  # most optima lie in the outer 10% of the logged density
    assert (q_best >= 1.0).mean() < 0.3  # ... but marketers do play near most of them


def test_no_single_style_is_best_for_everyone(oracle) -> None:
    best, _ = oracle
    shares = np.bincount(best.style, minlength=5) / len(best.style)
    assert shares.max() < 0.5
    assert (shares > 0.05).sum() >= 4


def test_style_track_oracle_picks_among_the_prototypes(profiles: pd.DataFrame) -> None:
    world = EdgeWorld("hard", decisions="style")
    best, value = world.best_actions(profiles.iloc[:50])
    mixes = np.array([STYLE_PROTOTYPES[s][0] for s in STYLES])
    np.testing.assert_allclose(best.mix, mixes[best.style])
    log = world.simulate(300, seed=3)
    for style, (mix, cadence) in STYLE_PROTOTYPES.items():
        part = log[log["style"] == style]
        np.testing.assert_allclose(part[MIX_COLUMNS].to_numpy(), np.tile(mix, (len(part), 1)))
        assert (part["posts_per_week"] == cadence).all()
    assert value.shape == (50,)


# ---------------------------------------------------------------------- names, settings, CLI


def test_world_names_round_trip() -> None:
    assert world_names() == ["easy", "hard", "flat", "edge-easy", "edge-hard"]
    for name in world_names():
        assert world_name(*parse_world_name(name)) == name
    assert parse_world_name("classic-flat") == ("classic", "flat")
    with pytest.raises(ValueError, match="unknown world 'edge-flat'"):
        parse_world_name("edge-flat")


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="family"):
        make_world("wavy")
    with pytest.raises(ValueError, match="edge family"):
        make_world("edge", "flat")
    with pytest.raises(ValueError, match="decisions"):
        make_world("edge", "hard", "mix")


def test_settings_rebuild_the_world() -> None:
    assert isinstance(world_from_settings({"difficulty": "hard"}), SimulatedWorld)
    assert type(world_from_settings({"difficulty": "hard"})) is SimulatedWorld  # old logs: classic
    world = world_from_settings(EdgeWorld("easy", "style").settings())
    assert isinstance(world, EdgeWorld)
    assert (world.difficulty, world.decisions) == ("easy", "style")


def test_simulate_family_edge_writes_a_log_its_oracle_rebuilds(tmp_path, capsys) -> None:
    out = tmp_path / "edge.parquet"
    assert (
        main(["simulate", "--family", "edge", "--rows", "600", "--seed", "4", "--out", str(out)])
        == 0
    )
    assert "family=edge" in capsys.readouterr().out
    assert read_world(out) == {
        "family": "edge",
        "difficulty": "hard",
        "decisions": "full",
        "seed": 4,
        "rows": 600,
    }
    log = pd.read_parquet(out)
    pd.testing.assert_frame_equal(log, EdgeWorld("hard").simulate(600, seed=4), check_dtype=False)
    oracle = oracle_for_log(out)
    assert isinstance(oracle, WorldOracle) and isinstance(oracle.world, EdgeWorld)
    spec = load_spec()
    weights = spec.outcome_weights()
    rows = log.iloc[:40]
    best = oracle.best_value(rows[spec.context_names], weights)
    logged = oracle.policy_value(rows[spec.context_names], rows[spec.decision_names], weights)
    assert best > logged


def test_simulate_refuses_a_difficulty_the_family_lacks(tmp_path, capsys) -> None:
    out = tmp_path / "x.parquet"
    assert (
        main(
            [
                "simulate",
                "--family",
                "edge",
                "--difficulty",
                "flat",
                "--rows",
                "10",
                "--out",
                str(out),
            ]
        )
        == 1
    )
    assert "edge family" in capsys.readouterr().err
    assert not out.exists()


# ---------------------------------------------------------------------- the claims, other forms


def one_profile(world: SimulatedWorld, **overrides: object) -> pd.DataFrame:
    base = world.sample_profiles(1, np.random.default_rng(0)).iloc[[0]].reset_index(drop=True)
    base.loc[0, ["industry", "market", "goal"]] = ["consumer_services", "b2c", "sales"]
    base.loc[0, ["innovation", "shareability", "audience_tech_savviness", "service_load"]] = 0.5
    base.loc[0, ["sales_cycle_days", "followers", "team_hours", "ad_budget", "price_point"]] = [
        10,
        8000,
        20,
        500,
        60,
    ]
    for key, value in overrides.items():
        base.loc[0, key] = value
    return base


def action(style: str, mix=None, cadence=None) -> Actions:
    proto_mix, proto_cad = STYLE_PROTOTYPES[style]
    return Actions(
        np.array([STYLES.index(style)]),
        np.array([mix if mix is not None else proto_mix], dtype=float),
        np.array([cadence if cadence is not None else proto_cad], dtype=float),
    )


def value(
    world: SimulatedWorld, profile: pd.DataFrame, act: Actions, name: str = "objective"
) -> float:
    return float(world.expected_outcomes(profile, act)[name].iloc[0])


def test_c1_niche_short_cycle_seller_does_best_broadcasting_deals(world: EdgeWorld) -> None:
    niche = one_profile(world, industry="niche_consumer", sales_cycle_days=0.0, service_load=0.1)
    values = {s: value(world, niche, action(s)) for s in STYLES}
    assert max(values, key=values.get) == "broadcast"
    best, _ = world.best_actions(niche)
    assert STYLES[best.style[0]] == "broadcast" and best.mix[0, 0] > 0.7


def test_c2_c3_two_way_for_most_brands_broadcast_for_big_news(world: EdgeWorld) -> None:
    brand = one_profile(world, industry="fashion_beauty", sales_cycle_days=20.0, team_hours=40.0)
    assert value(world, brand, action("conversational")) > value(world, brand, action("broadcast"))
    gap = lambda p: value(world, p, action("broadcast")) - value(world, p, action("conversational"))  # noqa: E731
    big = one_profile(world, industry="news_media", followers=3_000_000)
    assert gap(big) > gap(one_profile(world, industry="news_media", followers=2_000)) + 1.0
    assert gap(big) > 0


def test_c4_to_c10_hold_with_the_edge_forms(world: EdgeWorld) -> None:
    spread = lambda p: np.ptp([value(world, p, action(s)) for s in STYLES])  # noqa: E731
    assert spread(
        one_profile(world, innovation=0.05, shareability=0.05, audience_tech_savviness=0.05)
    ) < spread(
        one_profile(world, innovation=0.95, shareability=0.95, audience_tech_savviness=0.95)
    )  # C4
    p = one_profile(world, innovation=0.8)
    edu = value(
        world, p, action("thought_leadership", mix=[0.0, 0.6, 0.1, 0.2, 0.1]), "follower_growth"
    )
    promo = value(
        world, p, action("thought_leadership", mix=[0.6, 0.0, 0.1, 0.2, 0.1]), "follower_growth"
    )
    assert edu > promo + 1.0  # C5

    def care(load: float) -> float:
        profile = one_profile(world, service_load=load)
        return value(world, profile, action("customer_care")) - value(
            world, profile, action("broadcast")
        )

    assert care(0.9) > care(0.1) + 0.5 and care(0.9) > 0  # C6
    small_team = one_profile(world, team_hours=6.0)
    assert value(
        world, small_team, action("conversational", cadence=3.0), "engagement_rate"
    ) > value(world, small_team, action("conversational", cadence=20.0), "engagement_rate")  # C7
    p = one_profile(world)
    heavy, light = (
        action("broadcast", mix=[0.7, 0.05, 0.05, 0.1, 0.1]),
        action("broadcast", mix=[0.1, 0.3, 0.2, 0.2, 0.2]),
    )
    assert value(world, p, heavy, "conversions") > value(world, p, light, "conversions")  # C8
    assert value(world, p, heavy, "retention_30d") < value(world, p, light, "retention_30d") - 5
    visual, plain = [0.1, 0.1, 0.1, 0.6, 0.1], [0.1, 0.35, 0.25, 0.05, 0.25]

    def lift(share: float) -> float:
        profile = one_profile(world, shareability=share)
        return value(world, profile, action("community", mix=visual), "follower_growth") - value(
            world, profile, action("community", mix=plain), "follower_growth"
        )

    assert lift(0.9) > lift(0.1) + 1.0  # C9
    assert (
        value(world, one_profile(world, ad_budget=20_000), action("community"), "follower_growth")
        > value(world, one_profile(world, ad_budget=0), action("community"), "follower_growth")
        + 1.0
    )  # C10


def test_effects_are_multiplicative_in_the_profile_baseline(world: EdgeWorld) -> None:
    """Unlike the classic family, a mix's conversion lift scales with the business's own rate."""
    heavy = action("broadcast", mix=[0.7, 0.05, 0.05, 0.1, 0.1])
    light = action("broadcast", mix=[0.1, 0.3, 0.2, 0.2, 0.2])
    lift = lambda p: value(world, p, heavy, "conversions") / value(world, p, light, "conversions")  # noqa: E731
    diff = lambda p: value(world, p, heavy, "conversions") - value(world, p, light, "conversions")  # noqa: E731
    small, big = one_profile(world, followers=500), one_profile(world, followers=500_000)
    assert lift(small) == pytest.approx(lift(big), rel=0.05)
    assert diff(big) > 1.5 * diff(small)


def test_outcomes_are_all_finite_and_retention_is_a_percentage(
    world: EdgeWorld, profiles: pd.DataFrame
) -> None:
    rng = np.random.default_rng(2)
    n = len(profiles)
    acts = Actions(rng.integers(0, 5, n), rng.dirichlet(np.full(5, 0.3), n), rng.uniform(1, 60, n))
    out = world.expected_outcomes(profiles, acts)
    assert np.isfinite(out[OUTCOMES].to_numpy()).all()
    assert out["retention_30d"].between(0, 100).all()
