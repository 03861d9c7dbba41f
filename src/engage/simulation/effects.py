"""The outcome model: what a profile brings on its own and what each action adds (claims C1-C10).

Expected outcomes are :func:`baseline_outcomes` plus :func:`action_effects`, in
:data:`~engage.simulation.vocabulary.OUTCOMES` order. Each outcome has its own function, and each
term is tagged with the claim of ``shared/domain.md`` it implements.

The terms of every sum keep one fixed order: floating-point addition is not associative, and the
oracle's numbers (and the ``true_*`` columns of a log) must not move when this code is rearranged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engage.simulation.vocabulary import STYLES

#: Hours of team time one post of each style costs (answering, moderating, writing). C7.
EFFORT_PER_POST = np.array([0.3, 1.6, 1.8, 1.2, 1.4])

#: Rows of per-profile actions averaged at once over the reference population (flat world);
#: bounds memory at (reference profiles x chunk x 4) floats.
_AVERAGE_CHUNK = 2048


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class ProfileDrivers:
    """The profile quantities the structural equations read, each a column of shape (n, 1).

    Columns broadcast against actions of shape (k,) or (n, k), giving (n, k) outcomes.

    Attributes:
        niche_short: a niche consumer seller with a near-zero sales cycle (C1).
        short: how short the sales cycle is (1 for zero days).
        long_b2b: a B2B seller with a long sales cycle.
        traffic: reach of the account, 0 for 10 followers to about 1 for 5M (C3).
        news: a news outlet (C3).
        fit: how much the channel pays at all (C4), between 0.35 and 1.
        innovation: how innovative the product is.
        share: how shareable and visual the product is (C9).
        tech: the audience's tech-savviness.
        service: customer-service load (C6).
        team: team hours available per week (C7).
        goal_sales: the campaign's goal is sales.
        goal_loyal: the campaign's goal is loyalty.
        ads: paid budget on a log scale, about 1 at 1M (C10).
    """

    niche_short: np.ndarray
    short: np.ndarray
    long_b2b: np.ndarray
    traffic: np.ndarray
    news: np.ndarray
    fit: np.ndarray
    innovation: np.ndarray
    share: np.ndarray
    tech: np.ndarray
    service: np.ndarray
    team: np.ndarray
    goal_sales: np.ndarray
    goal_loyal: np.ndarray
    ads: np.ndarray


def profile_drivers(profiles: pd.DataFrame) -> ProfileDrivers:
    """Read the structural equations' profile quantities from profile rows.

    Args:
        profiles: frame with the simulated spec's context columns.

    Returns:
        The quantities as (n, 1) columns.
    """

    def col(x: np.ndarray | pd.Series) -> np.ndarray:
        return np.asarray(x, dtype=float).reshape(-1, 1)

    industry = profiles["industry"].to_numpy()
    cycle = col(profiles["sales_cycle_days"])
    innovation = col(profiles["innovation"])
    share = col(profiles["shareability"])
    tech = col(profiles["audience_tech_savviness"])
    short = np.exp(-cycle / 14.0)
    # C4: the channel pays only for innovative, shareable products and a tech-aware audience.
    fit = 0.35 + 0.65 * _sigmoid(6 * (0.4 * innovation + 0.3 * share + 0.3 * tech - 0.45))
    return ProfileDrivers(
        niche_short=col(industry == "niche_consumer") * np.exp(-cycle / 5.0),
        short=short,
        long_b2b=col(profiles["market"] == "b2b") * (1 - short),
        traffic=np.clip((np.log10(col(profiles["followers"])) - 1.0) / 5.7, 0, 1),
        news=col(industry == "news_media"),
        fit=fit,
        innovation=innovation,
        share=share,
        tech=tech,
        service=col(profiles["service_load"]),
        team=col(profiles["team_hours"]),
        goal_sales=col(profiles["goal"] == "sales"),
        goal_loyal=col(profiles["goal"] == "loyalty"),
        ads=np.log1p(col(profiles["ad_budget"]) / 500.0) / np.log1p(2000.0),
    )


def baseline_outcomes(d: ProfileDrivers) -> np.ndarray:
    """Outcomes without any action effect (what the profile alone brings), shape (n, 1, 4)."""
    conv = 2.0 + 2.5 * d.traffic + 1.2 * d.short + 0.8 * d.goal_sales
    eng = 1.0 + 2.0 * d.fit * d.tech + 0.5 * (1 - d.traffic)
    growth = 0.5 + 2.0 * d.fit + 2.5 * d.ads  # C10: paid promotion lifts reach
    ret = 45.0 + 10.0 * d.goal_loyal + 8.0 * d.innovation
    return np.stack([conv, eng, growth, ret], axis=-1)


@dataclass(frozen=True)
class _ActionTerms:
    """An action batch as the equations read it: indicators, shares and cadence terms."""

    bro: np.ndarray  # one indicator per style, in STYLES order
    con: np.ndarray
    care: np.ndarray
    tl: np.ndarray
    com: np.ndarray
    promo: np.ndarray  # one share per mix component, in MIX order
    edu: np.ndarray
    convo: np.ndarray
    vis: np.ndarray
    cur: np.ndarray
    capacity: np.ndarray  # C7: near 1 while the team can keep up with the cadence, near 0 above
    reach: np.ndarray  # grows with the log of the cadence
    fatigue: np.ndarray  # grows with its square; big accounts tolerate more (C3)


def _action_terms(
    d: ProfileDrivers, style: np.ndarray, mix: np.ndarray, cadence: np.ndarray
) -> _ActionTerms:
    bro, con, care, tl, com = ((style == i).astype(float) for i in range(len(STYLES)))
    c = np.asarray(cadence, dtype=float)
    # C7: a two-way style needs people to answer; above capacity it backfires.
    effort = EFFORT_PER_POST[np.asarray(style)]
    return _ActionTerms(
        bro=bro,
        con=con,
        care=care,
        tl=tl,
        com=com,
        promo=mix[..., 0],
        edu=mix[..., 1],
        convo=mix[..., 2],
        vis=mix[..., 3],
        cur=mix[..., 4],
        capacity=_sigmoid(3.0 * (d.team / (c * effort + 1e-9) - 1.0)),
        reach=np.log1p(c) / np.log1p(10.0),
        fatigue=(c / (6.0 + 24.0 * d.traffic)) ** 2,
    )


def _conversions(d: ProfileDrivers, a: _ActionTerms) -> np.ndarray:
    """Leads or sales per 1k followers."""
    by_style = (
        a.bro * (3.2 * d.niche_short + 1.0 * d.traffic * d.news - 1.2 * d.long_b2b - 0.3)  # C1, C3
        + a.con * (0.5 * (1 - d.niche_short) + 0.6 * d.long_b2b) * a.capacity  # C2
        + a.care * (3.4 * d.service - 0.9) * (0.5 + 0.5 * a.capacity)  # C6
        + a.tl * (2.6 * d.long_b2b + 0.8 * d.innovation - 1.0 * d.niche_short - 0.5)  # C5
        + a.com * (0.6 * d.share * d.tech) * a.capacity  # C7
    ) * d.fit
    # C1/C5: asking to buy converts with diminishing returns, much more for short cycles.
    conv = by_style + 2.4 * np.sqrt(a.promo) * (0.3 + 1.2 * d.short + 0.6 * d.goal_sales)
    return conv + 0.8 * a.reach - 0.6 * a.fatigue


def _engagement(d: ProfileDrivers, a: _ActionTerms) -> np.ndarray:
    """Engagement rate (%)."""
    by_style = (
        # C3: a broadcast mirror works for very high-traffic sources
        a.bro * (-0.8 + 1.4 * d.traffic + 1.6 * d.news * d.traffic)
        + a.con * (1.4 * d.tech) * a.capacity  # C2, C4
        + a.care * 1.2 * d.service * a.capacity
        + a.tl * 0.9 * d.innovation
        + a.com * (2.6 * d.share * d.tech - 0.7) * a.capacity  # C7: must beat influencers
    ) * d.fit
    # Conversation needs conversational posts; a two-way style without them rings hollow.
    hollow = 1.8 * a.con * np.maximum(0.25 - a.convo, 0)
    eng = by_style + 1.2 * np.sqrt(a.convo) * (a.con + 0.5 * a.com + 0.2) - hollow
    eng = eng + 1.6 * np.sqrt(a.vis) * d.share * (1 + a.com)  # C9: pin-worthy content travels
    return eng + 0.3 * a.reach - 0.9 * a.fatigue


def _growth(d: ProfileDrivers, a: _ActionTerms) -> np.ndarray:
    """Follower growth (%)."""
    by_style = (
        a.bro * 0.9 * d.traffic
        + a.con * 0.3 * a.capacity
        + a.tl * 1.6 * d.innovation * d.tech  # C5: adding value builds reach
        + a.com * (4.0 * d.share * d.fit - 1.2) * a.capacity  # C7, C9
    ) * d.fit
    growth = (
        by_style
        + 3.0 * np.sqrt(a.edu) * d.innovation  # C5
        + 3.0 * np.sqrt(a.vis) * d.share * (1 + d.ads)  # C9 x C10: promoted visuals
        + 1.2 * np.sqrt(a.cur) * (1 - d.innovation)  # curating suits those with little new to say
        - 1.5 * a.promo  # C5: asking to buy does not build reach
    )
    return growth + 1.2 * a.reach * d.fit - 0.5 * a.fatigue


def _retention(d: ProfileDrivers, a: _ActionTerms) -> np.ndarray:
    """30-day retention of new followers (%)."""
    by_style = (
        a.bro * (-7.0 + 5.0 * d.traffic)  # C8: deals lose followers; big sources are exempt
        + a.con * 3.0 * a.capacity
        + a.care * (22.0 * d.service - 5.0) * a.capacity  # C6
        + a.tl * 7.0 * d.innovation
        + a.com * 3.0 * a.capacity
    )
    ret = by_style - 18.0 * a.promo + 6.0 * np.sqrt(a.edu)  # C8 vs C1: deals churn followers
    return ret - 6.0 * a.fatigue


def action_effects(
    d: ProfileDrivers, style: np.ndarray, mix: np.ndarray, cadence: np.ndarray
) -> np.ndarray:
    """Effect of actions on the four outcomes, in ``OUTCOMES`` order.

    Args:
        d: the profiles' drivers, (n, 1) columns.
        style: style codes, any shape broadcastable to (n, k): (k,) for one action batch shared
            by every profile, (n, k) for actions per profile.
        mix: mix shares, the shape of ``style`` plus a trailing axis of 5.
        cadence: posts per week, the shape of ``style``.

    Returns:
        Effects of shape (n, k, 4).
    """
    a = _action_terms(d, style, mix, cadence)
    parts = (_conversions(d, a), _engagement(d, a), _growth(d, a), _retention(d, a))
    shape = np.broadcast_shapes(*(p.shape for p in parts))
    return np.stack([np.broadcast_to(p, shape) for p in parts], axis=-1)


def average_effects(
    reference: ProfileDrivers, style: np.ndarray, mix: np.ndarray, cadence: np.ndarray
) -> np.ndarray:
    """Each action's effect averaged over a reference population (the ``flat`` world).

    Args:
        reference: drivers of the reference profiles.
        style: style codes, shape (k,) for one batch or (n, k) for actions per profile.
        mix: mix shares, the shape of ``style`` plus a trailing axis of 5.
        cadence: posts per week, the shape of ``style``.

    Returns:
        Shape (1, k, 4) for a (k,) batch, (n, k, 4) for per-profile actions.
    """
    style, mix, cadence = (np.asarray(x) for x in (style, mix, cadence))
    if style.ndim != 2:
        return action_effects(reference, style, mix, cadence).mean(0, keepdims=True)
    # Per-profile actions: flatten them to one batch and average it a chunk at a time.
    flat_s, flat_m, flat_c = style.reshape(-1), mix.reshape(-1, 5), cadence.reshape(-1)
    step = _AVERAGE_CHUNK
    chunks = [
        action_effects(
            reference, flat_s[i : i + step], flat_m[i : i + step], flat_c[i : i + step]
        ).mean(0)
        for i in range(0, len(flat_s), step)
    ]
    return np.concatenate(chunks).reshape(*style.shape, 4)
