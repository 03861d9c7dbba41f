"""The ``edge`` family of worlds: the same businesses and log, other causal machinery.

The ``classic`` family (:mod:`engage.simulation.effects`) adds square-root mix terms and a
quadratic cadence penalty to a profile baseline, with Gaussian noise. A policy tuned only to it
may be tuned to that generator. This family keeps the domain's claims C1-C10 (each term below is
tagged) and the log's schema, but changes how they are built:

* **functional forms** — conversions and follower growth are *multiplicative* (a profile's
  baseline times the exponential of the action's lift, so effects scale with the business);
  retention is *logistic* (bounded percentages); content works by its weekly **dose**
  (share x cadence) through *saturating* curves ``1 - exp(-dose / half)`` whose half-saturation
  depends on the profile; the style's effect grows with the share of its **key content**
  (deals for broadcast, education for thought leadership, conversation for the two-way styles,
  visuals for community), so mix, cadence, style and profile interact;
* **capacity** (C7) is a smooth Gaussian penalty in the team's load and the audience's fatigue
  grows with cadence over a tolerance that big accounts and news outlets raise (C3);
* **optimal actions at the edge of the logged support** — marketers keep close to each style's
  habitual mix and barely adapt cadence to their team, while the best action concentrates on the
  style's key content and scales cadence with team capacity and reach: the logging policy
  plays near the optimum only now and then;
* **other confounding** — marketers pick styles from price point, goal, size and industry
  rather than from the product's nature, with stronger habits at ``hard``; their mixes tilt
  with price, innovation and goal;
* **noise** — heteroscedastic (larger for small accounts and for large expected values) and
  heavy-tailed (Student t with 3 degrees of freedom, scaled to unit variance).

Difficulties: ``hard`` (full noise, propensities down to 0.016, tight habits) and ``easy``
(a third of the noise, propensities down to 0.06, looser habits, so the optimum sits less far
out). The oracle searches the continuous action space (see :mod:`engage.simulation.search`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engage.simulation.effects import EFFORT_PER_POST, ProfileDrivers, profile_drivers
from engage.simulation.vocabulary import INDUSTRIES, STYLES, prototype_arrays

EDGE_DIFFICULTIES: tuple[str, ...] = ("easy", "hard")

#: Mix component each style concentrates on (index in MIX): deals, conversation, conversation,
#: education, visuals.
KEY_CONTENT = np.array([0, 2, 2, 1, 3])

#: Noise scale per outcome at ``hard`` (before the heteroscedastic factors).
EDGE_NOISE = np.array([2.4, 1.1, 1.8, 11.0])
#: Typical expected value per outcome: the noise grows with |mean| / this.
_TYPICAL = np.array([4.0, 2.5, 3.0, 45.0])
#: Degrees of freedom of the Student-t noise (heavy tails, finite variance).
NOISE_DF = 3.0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _saturating(dose: np.ndarray, half: np.ndarray | float) -> np.ndarray:
    return 1.0 - np.exp(-dose / half)


@dataclass(frozen=True)
class EdgeDrivers:
    """The classic drivers plus what this family reads besides."""

    d: ProfileDrivers
    cheap: np.ndarray  # 1 for a 1-dollar product, 0 from 10,000 dollars up
    awareness: np.ndarray  # the goal is awareness


def edge_drivers(profiles: pd.DataFrame) -> EdgeDrivers:
    """Read the profile quantities the edge family's equations use, each (n, 1)."""
    price = np.asarray(profiles["price_point"], dtype=float).reshape(-1, 1)
    return EdgeDrivers(
        d=profile_drivers(profiles),
        cheap=np.clip(1.0 - np.log10(np.maximum(price, 1.0)) / 4.0, 0.0, 1.0),
        awareness=(profiles["goal"].to_numpy() == "awareness").astype(float).reshape(-1, 1),
    )


@dataclass(frozen=True)
class _Terms:
    """What every outcome of :func:`edge_means` is built from: the drivers, the style
    indicators, the content shares and doses, and the shared focus, capacity, fatigue and reach."""

    e: EdgeDrivers
    bro: np.ndarray
    con: np.ndarray
    care: np.ndarray
    tl: np.ndarray
    com: np.ndarray
    promo: np.ndarray
    edu: np.ndarray
    vis: np.ndarray
    cur: np.ndarray
    dose: np.ndarray
    focus: np.ndarray
    cap: np.ndarray
    fatigue: np.ndarray
    reach: np.ndarray


def edge_means(
    e: EdgeDrivers, style: np.ndarray, mix: np.ndarray, cadence: np.ndarray
) -> np.ndarray:
    """Expected outcomes of actions, (n, k, 4) in ``OUTCOMES`` order.

    Args:
        e: the profiles' drivers, (n, 1) columns.
        style: style codes, (k,) for a batch shared by every profile or (n, k) per profile.
        mix: mix shares, the shape of ``style`` plus a trailing axis of 5.
        cadence: posts per week, the shape of ``style``.
    """
    d = e.d
    style = np.asarray(style)
    mix = np.asarray(mix, dtype=float)
    c = np.asarray(cadence, dtype=float)
    bro, con, care, tl, com = ((style == i).astype(float) for i in range(len(STYLES)))
    promo, edu, convo, vis, cur = (mix[..., j] for j in range(5))
    dose = mix * c[..., None]  # posts per week of each content type
    # The style works through its key content, with diminishing returns past about 0.85.
    key = np.take_along_axis(mix, KEY_CONTENT[style][..., None], axis=-1)[..., 0]
    focus = 0.4 + 1.7 * key - key**2
    # C7: two-way styles cost team time per post; past the team's hours they collapse.
    load = c * EFFORT_PER_POST[style] / d.team
    cap = np.exp(-(load**2))
    # C3: big accounts and news outlets' audiences tolerate many more posts.
    tolerance = 4.0 + 30.0 * d.traffic + 12.0 * d.news * d.traffic
    fatigue = (c / tolerance) ** 2
    reach = _saturating(c, 5.0)

    terms = _Terms(
        e, bro, con, care, tl, com, promo, edu, vis, cur, dose, focus, cap, fatigue, reach
    )
    parts = (_conversions(terms), _engagement(terms), _growth(terms), _retention(terms))
    shape = np.broadcast_shapes(*(p.shape for p in parts))
    return np.stack([np.broadcast_to(p, shape) for p in parts], axis=-1)


def _conversions(t: _Terms) -> np.ndarray:
    """Conversions: multiplicative lift on the profile's own rate."""
    e, d, bro, con, care, tl, com = t.e, t.e.d, t.bro, t.con, t.care, t.tl, t.com
    focus, cap, fatigue, reach, dose = t.focus, t.cap, t.fatigue, t.reach, t.dose
    style_conv = (
        bro * (1.0 * d.niche_short + 0.5 * d.news * d.traffic - 0.7 * d.long_b2b - 0.25)  # C1, C3
        + con * (0.25 * (1 - d.niche_short) + 0.25 * d.long_b2b) * cap  # C2
        + care * (1.2 * d.service - 0.45) * (0.4 + 0.6 * cap)  # C6
        + tl * (1.0 * d.long_b2b + 0.35 * d.innovation - 0.6 * d.niche_short - 0.15)  # C5
        + com * (0.5 * d.share * d.tech - 0.15) * cap  # C7
    )
    # C1/C5: deals convert by their weekly dose; short cycles and cheap products most.
    promo_gain = (0.05 + 0.55 * d.short + 0.25 * d.goal_sales + 0.2 * e.cheap) * _saturating(
        dose[..., 0], 3.0 + 6.0 * (1 - d.short)
    )
    base_conv = 1.2 + 2.0 * d.traffic + 0.8 * d.short + 0.6 * d.goal_sales
    return base_conv * np.exp(
        d.fit * style_conv * focus + promo_gain + 0.15 * reach - 0.3 * fatigue
    )


def _engagement(t: _Terms) -> np.ndarray:
    """Engagement: additive, saturating in the dose of conversation and visuals."""
    d, bro, con, care, tl, com = t.e.d, t.bro, t.con, t.care, t.tl, t.com
    focus, cap, fatigue, dose = t.focus, t.cap, t.fatigue, t.dose
    style_eng = (
        bro * (-0.6 + 1.3 * d.traffic + 1.5 * d.news * d.traffic)  # C3: a broadcast mirror
        + con * 1.5 * d.tech * cap  # C2, C4
        + care * 1.1 * d.service * cap  # C6
        + tl * 0.8 * d.innovation
        + com * (2.8 * d.share * (0.5 + 0.5 * d.tech) - 0.6) * cap  # C7: must beat influencers
    )
    return (
        1.0
        + 2.0 * d.fit * d.tech
        + 0.4 * (1 - d.traffic)
        + d.fit * style_eng * focus
        # C7: conversation needs people to answer it
        + 1.4 * _saturating(dose[..., 2], 2.5) * ((con + 0.5 * care) * cap + 0.25)
        + 1.6 * d.share * _saturating(dose[..., 3], 2.0) * (1 + 0.5 * com)  # C9
        - 0.7 * fatigue
    )


def _growth(t: _Terms) -> np.ndarray:
    """Follower growth: a multiplicative style lift on a reach baseline plus content terms."""
    d, bro, con, tl, com = t.e.d, t.bro, t.con, t.tl, t.com
    promo, edu, vis, cur = t.promo, t.edu, t.vis, t.cur
    focus, cap, fatigue, reach = t.focus, t.cap, t.fatigue, t.reach
    style_growth = (
        bro * 0.6 * d.traffic
        + con * 0.2 * cap
        + tl * 1.0 * d.innovation * d.tech  # C5: adding value builds reach
        + com * (2.6 * d.share * d.fit - 0.5) * cap  # C7, C9
    )
    return (
        (0.4 + 1.6 * d.fit + 2.0 * d.ads) * np.exp(0.4 * style_growth * focus)  # C10
        + 2.0 * np.sqrt(edu) * d.innovation  # C5
        + 2.2 * np.sqrt(vis) * d.share * (1 + d.ads)  # C9 x C10
        + 0.8 * np.sqrt(cur) * (1 - d.innovation)
        - 1.4 * promo  # C5: asking to buy does not build reach
        + 0.8 * reach * d.fit
        - 0.4 * fatigue
    )


def _retention(t: _Terms) -> np.ndarray:
    """Retention: logistic, so it stays a percentage."""
    d, bro, con, care, tl, com = t.e.d, t.bro, t.con, t.care, t.tl, t.com
    promo, edu, focus, cap, fatigue = t.promo, t.edu, t.focus, t.cap, t.fatigue
    style_ret = (
        bro * (-0.45 + 0.35 * d.traffic)  # C8: deals lose followers; big sources are exempt
        + con * 0.15 * cap
        + care * (1.0 * d.service - 0.2) * cap  # C6
        + tl * 0.3 * d.innovation
        + com * 0.15 * cap
    )
    ret_logit = (
        -0.2
        + 0.4 * d.goal_loyal
        + 0.35 * d.innovation
        + style_ret * focus
        - 1.0 * promo  # C8 vs C1: deals churn followers
        + 0.3 * np.sqrt(edu)
        - 0.3 * fatigue
    )
    return 100.0 * _sigmoid(ret_logit)


# ---------------------------------------------------------------------- how marketers choose


@dataclass(frozen=True)
class EdgeHabits:
    """How strongly marketers of the edge family follow their habits.

    Attributes:
        temperature: scales the style logits.
        floor: share of style choices made uniformly at random (propensities >= floor / 5).
        concentration: Dirichlet concentration of the mix around the habitual one.
        cadence_sd: log-scale spread of the cadence around the habitual one.
        noise: multiplier of :data:`EDGE_NOISE`.
    """

    temperature: float
    floor: float
    concentration: float
    cadence_sd: float
    noise: float


EDGE_HABITS: dict[str, EdgeHabits] = {
    "easy": EdgeHabits(temperature=0.9, floor=0.3, concentration=7.0, cadence_sd=0.55, noise=1 / 3),
    "hard": EdgeHabits(temperature=1.8, floor=0.08, concentration=15.0, cadence_sd=0.35, noise=1.0),
}


def edge_style_logits(profiles: pd.DataFrame) -> np.ndarray:
    """Marketers' preference for each style, (n, 5): by price, goal, size and industry."""
    e = edge_drivers(profiles)
    d = e.d
    ind = profiles["industry"].to_numpy()
    is_ = {name: (ind == name).astype(float)[:, None] for name in INDUSTRIES}
    b2b = (profiles["market"].to_numpy() == "b2b").astype(float)[:, None]
    broadcast = (
        2.0 * d.goal_sales
        + 1.5 * e.cheap
        + 1.2 * d.traffic
        + 1.5 * is_["news_media"]
        + 1.0 * is_["niche_consumer"]
        - 0.8
    )
    conversational = 1.6 * is_["software"] + 1.0 * d.tech + 0.6 * b2b - 0.4 * e.cheap
    customer_care = 1.8 * is_["consumer_services"] + 1.2 * d.service - 0.6
    thought_leadership = (
        1.8 * b2b * (1 - d.short) + 1.0 * is_["professional_services"] + 0.5 * d.innovation - 0.7
    )
    visual_brand = is_["fashion_beauty"] + is_["food_hospitality"]
    community = 1.6 * visual_brand + 0.8 * d.share + 0.5 * e.awareness - 0.5
    return np.hstack([broadcast, conversational, customer_care, thought_leadership, community])


def edge_propensities(profiles: pd.DataFrame, habits: EdgeHabits) -> np.ndarray:
    """Probability of each style per profile, (n, 5), none below ``habits.floor / 5``."""
    logits = habits.temperature * edge_style_logits(profiles)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return (1 - habits.floor) * p + habits.floor / len(STYLES)


def edge_habitual_mix(profiles: pd.DataFrame, style: np.ndarray) -> np.ndarray:
    """The mix a marketer aims at for a style, (n, 5): the prototype tilted by the profile."""
    e = edge_drivers(profiles)
    mixes, _ = prototype_arrays()
    tilt = mixes[style].copy()
    tilt[:, 0] *= 0.7 + 0.8 * e.cheap[:, 0]  # cheap products push deals
    tilt[:, 1] *= 0.7 + 0.6 * e.d.innovation[:, 0]  # innovators explain
    tilt[:, 3] *= 0.8 + 0.6 * e.awareness[:, 0]  # awareness campaigns go visual
    return tilt / tilt.sum(1, keepdims=True)


def edge_habitual_cadence(profiles: pd.DataFrame, style: np.ndarray) -> np.ndarray:
    """The cadence a marketer aims at, (n,): barely adapted to team or reach."""
    _, cadences = prototype_arrays()
    team = profiles["team_hours"].to_numpy(dtype=float)
    followers = profiles["followers"].to_numpy(dtype=float)
    return cadences[style] * (team / 20.0) ** 0.1 * (followers / 8000.0) ** 0.05


def edge_logged_mix_and_cadence(
    profiles: pd.DataFrame,
    style: np.ndarray,
    rng: np.random.Generator,
    habits: EdgeHabits,
    fixed: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Mixes (Dirichlet around the habit) and cadences (log-normal around it) marketers log."""
    mixes, cadences = prototype_arrays()
    if fixed:
        return mixes[style].copy(), cadences[style].astype(float)
    tilt = edge_habitual_mix(profiles, style)
    mix = rng.gamma(habits.concentration * tilt + 0.05)
    mix /= mix.sum(1, keepdims=True)
    centre = np.log(edge_habitual_cadence(profiles, style))
    cadence = np.exp(centre + habits.cadence_sd * rng.standard_normal(len(style)))
    return mix, np.clip(np.round(cadence, 1), 1, 60)


def edge_noise(
    truth: np.ndarray, profiles: pd.DataFrame, rng: np.random.Generator, scale: float
) -> np.ndarray:
    """Heteroscedastic, heavy-tailed noise for expected outcomes ``truth`` (n, 4)."""
    traffic = profile_drivers(profiles).traffic  # (n, 1)
    sd = EDGE_NOISE * scale * (0.5 + 0.5 * np.abs(truth) / _TYPICAL) * (0.6 + 0.8 * (1 - traffic))
    t = rng.standard_t(NOISE_DF, truth.shape) / np.sqrt(NOISE_DF / (NOISE_DF - 2))
    return t * sd
