"""Business profiles: the context columns of a simulated campaign log.

A profile is drawn in stages, each reading what the earlier stages drew (industry -> market ->
product -> commerce -> size and service -> goal and budget). The order of the random draws is
part of the world: the same seed must give the same log, so a stage may only be added at the end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engage.simulation.vocabulary import GOALS, INDUSTRIES

#: Share of each industry (in :data:`~engage.simulation.vocabulary.INDUSTRIES` order).
INDUSTRY_SHARE = [0.16, 0.16, 0.08, 0.16, 0.14, 0.15, 0.15]

IndustryMasks = dict[str, np.ndarray]
BetaParams = tuple[float, float]


def draw_categorical(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one category per row by inverting the row's cumulative distribution.

    Args:
        probs: probabilities, shape (n, k), rows summing to 1.
        rng: the generator; exactly ``n`` uniforms are drawn from it.

    Returns:
        Category codes in ``range(k)``, shape (n,).
    """
    n = len(probs)
    return (probs.cumsum(1) > rng.random(n)[:, None]).argmax(1)


def sample_profiles(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``n`` business profiles (the context columns of the log).

    Args:
        n: number of profiles.
        rng: the generator the draws come from, advanced by them.

    Returns:
        One row per profile with the simulated spec's context columns.
    """
    industry = rng.choice(len(INDUSTRIES), size=n, p=INDUSTRY_SHARE)
    is_ = {name: industry == i for i, name in enumerate(INDUSTRIES)}
    b2b = rng.random(n) < np.select(
        [is_["software"], is_["professional_services"]], [0.6, 0.85], default=0.08
    )
    product = _draw_product(is_, rng)
    commerce = _draw_commerce(is_, b2b, rng)
    size = _draw_size_and_service(is_, rng)
    goal, ad_budget = _draw_goal_and_budget(b2b, rng)
    return pd.DataFrame(
        {
            "industry": np.array(INDUSTRIES, dtype=object)[industry],
            "market": np.where(b2b, "b2b", "b2c").astype(object),
            "employees": np.round(size["employees"]),
            "innovation": product["innovation"],
            "shareability": product["shareability"],
            "sales_cycle_days": commerce["sales_cycle_days"],
            "price_point": commerce["price_point"],
            "audience_tech_savviness": product["audience_tech_savviness"],
            "followers": np.round(size["followers"]),
            "service_load": size["service_load"],
            "team_hours": size["team_hours"],
            "goal": np.array(GOALS, dtype=object)[goal],
            "ad_budget": np.round(ad_budget, 2),
        }
    )


def _beta_by_industry(
    is_: IndustryMasks,
    params: dict[str, BetaParams],
    default: BetaParams,
    rng: np.random.Generator,
) -> np.ndarray:
    """One Beta draw per profile, with parameters set per industry (``default`` elsewhere)."""
    n = len(next(iter(is_.values())))
    a = np.full(n, default[0], dtype=float)
    b = np.full(n, default[1], dtype=float)
    for name, (pa, pb) in params.items():
        a[is_[name]] = pa
        b[is_[name]] = pb
    return rng.beta(a, b)


def _draw_product(is_: IndustryMasks, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """How innovative and shareable the product is, and how tech-aware its audience (C4, C9)."""
    n = len(is_["software"])
    innovation = _beta_by_industry(is_, {"software": (5, 2), "niche_consumer": (3, 3)}, (2, 3), rng)
    shareability = _beta_by_industry(
        is_,
        {
            "fashion_beauty": (5, 2),
            "food_hospitality": (5, 2),
            "news_media": (4, 3),
            "niche_consumer": (3, 3),
            "software": (2, 4),
            # Beta(1, 5), not 1.5: the logs the world has always produced drew it with a = 1
            # (an integer array swallowed the .5), and the same seed must keep the same log.
            "professional_services": (1, 5),
        },
        (2, 3),
        rng,
    )
    tech = np.clip(0.5 * innovation + 0.5 * rng.beta(2, 2, n) + 0.15 * is_["software"], 0, 1)
    return {
        "innovation": innovation,
        "shareability": shareability,
        "audience_tech_savviness": tech,
    }


def _draw_commerce(
    is_: IndustryMasks, b2b: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Sales cycle and price: long and dear for B2B, near zero for niche sellers (C1)."""
    n = len(b2b)
    cycle_mu = np.where(b2b, np.log(60), np.where(is_["niche_consumer"], np.log(1.0), np.log(10)))
    sales_cycle = np.clip(np.exp(cycle_mu + 0.8 * rng.standard_normal(n)) - 0.5, 0, 365)
    price_mu = np.where(b2b, np.log(3000), np.log(60))
    price = np.clip(np.exp(price_mu + 0.9 * rng.standard_normal(n)), 1, 1e5)
    return {"sales_cycle_days": sales_cycle, "price_point": price}


def _draw_size_and_service(is_: IndustryMasks, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Following (news outlets are big, C3), headcount, service load (C6) and team hours (C7).

    Headcount grows with the following and team hours with headcount; both read the unrounded
    draws, the frame rounds them afterwards.
    """
    n = len(is_["news_media"])
    follower_mu = np.where(is_["news_media"], np.log(200_000), np.log(8_000))
    followers = np.clip(np.exp(follower_mu + 1.3 * rng.standard_normal(n)), 10, 2e7)
    employees = np.clip(
        np.exp(1.5 + 0.45 * np.log(followers) + 0.9 * rng.standard_normal(n)), 1, 1e5
    )
    service = _beta_by_industry(is_, {"consumer_services": (5, 2), "software": (3, 3)}, (2, 5), rng)
    team_hours = np.clip(
        np.exp(1.2 + 0.35 * np.log(employees) + 0.5 * rng.standard_normal(n)), 1, 400
    )
    return {
        "followers": followers,
        "employees": employees,
        "service_load": service,
        "team_hours": team_hours,
    }


def _draw_goal_and_budget(
    b2b: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The campaign goal (B2B firms mostly want leads) and the paid budget (a third spend none)."""
    n = len(b2b)
    goal_p = np.where(b2b[:, None], [0.15, 0.2, 0.15, 0.5], [0.4, 0.3, 0.2, 0.1])
    goal = draw_categorical(goal_p, rng)
    # Both draws happen whatever the outcome of the first, as np.where evaluates both branches.
    no_budget = rng.random(n) < 0.35
    budget = np.clip(np.exp(np.log(800) + 1.2 * rng.standard_normal(n)), 0, 1e6)
    return goal, np.where(no_budget, 0.0, budget)
