"""A simulated world of social-media campaigns whose causal structure is known exactly.

The world implements the claims C1-C10 of ``shared/domain.md`` (each effect below is tagged
with its claim id). It is built to make recommending hard:

* **confounded logging** — marketers pick styles from the profile (niche sellers broadcast,
  software firms converse), and some style/profile pairs are rare (propensity down to ~0.02);
  marketers' habits are plausible but often not the best choice;
* **heterogeneous effects** with interactions (style x profile, mix x style, cadence x team
  capacity), diminishing returns in the mix (square roots), cadence fatigue;
* **noise** large enough that 5,000 rows do not settle which style is best;
* **trade-offs** between outcomes (deals convert now and lose followers later, C1 vs C8).

The oracle (:meth:`SimulatedWorld.expected_outcomes`) gives the true expected outcomes of any
(profile, style, mix, cadence), so policy value and regret can be computed exactly.

Difficulty:

* ``easy`` — a third of the noise, milder confounding (propensity floor 0.05);
* ``hard`` — full noise, strong confounding (propensity floor 0.02);
* ``flat`` — no profile-specific effects at all: every action's effect is its average over a
  fixed reference population, added to the profile baseline. Personalising can only lose.

Decisions:

* ``full`` — marketers choose style, posting mix and cadence;
* ``style`` — the world fixes mix and cadence per style (:data:`STYLE_PROTOTYPES`), so a
  policy only chooses the style.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec, load_spec

Difficulty = Literal["easy", "hard", "flat"]
DecisionMode = Literal["full", "style"]
DIFFICULTIES: tuple[str, ...] = ("easy", "hard", "flat")
DECISION_MODES: tuple[str, ...] = ("full", "style")

INDUSTRIES = [
    "niche_consumer",
    "software",
    "news_media",
    "consumer_services",
    "professional_services",
    "fashion_beauty",
    "food_hospitality",
]
INDUSTRY_SHARE = [0.16, 0.16, 0.08, 0.16, 0.14, 0.15, 0.15]
STYLES = ["broadcast", "conversational", "customer_care", "thought_leadership", "community"]
MIX = ["promotional", "educational", "conversational", "visual", "curated"]
MIX_COLUMNS = [f"mix_{m}" for m in MIX]
GOALS = ["sales", "awareness", "loyalty", "leads"]
OUTCOMES = ["conversions", "engagement_rate", "follower_growth", "retention_30d"]

#: The posting mix and cadence each style typically uses; in ``--decisions style`` mode the
#: world fixes exactly these.
STYLE_PROTOTYPES: dict[str, tuple[tuple[float, float, float, float, float], float]] = {
    "broadcast": ((0.55, 0.10, 0.05, 0.20, 0.10), 12.0),
    "conversational": ((0.10, 0.20, 0.40, 0.20, 0.10), 7.0),
    "customer_care": ((0.10, 0.25, 0.35, 0.15, 0.15), 8.0),
    "thought_leadership": ((0.08, 0.50, 0.12, 0.15, 0.15), 4.0),
    "community": ((0.10, 0.15, 0.25, 0.35, 0.15), 8.0),
}

#: Hours of team time one post of each style costs (answering, moderating, writing). C7.
EFFORT_PER_POST = np.array([0.3, 1.6, 1.8, 1.2, 1.4])

#: Standard deviation of the outcome noise at difficulty ``hard``.
NOISE_SD = np.array([3.0, 1.4, 2.4, 14.0])


@dataclass(frozen=True)
class Actions:
    """A batch of actions: style codes, mix shares (k x 5) and cadence (posts per week)."""

    style: np.ndarray
    mix: np.ndarray
    cadence: np.ndarray

    def __len__(self) -> int:
        return len(self.style)

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> Actions:
        """Read actions from a frame with ``style``, ``mix_*`` and ``posts_per_week`` columns."""
        style = df["style"].map({s: i for i, s in enumerate(STYLES)}).to_numpy()
        if np.isnan(style.astype(float)).any():
            raise ValueError("unknown style in actions frame")
        return cls(
            style=style.astype(int),
            mix=df[MIX_COLUMNS].to_numpy(dtype=float),
            cadence=df["posts_per_week"].to_numpy(dtype=float),
        )

    def to_frame(self) -> pd.DataFrame:
        """The actions as a frame with the log's decision columns."""
        out = pd.DataFrame({"style": np.array(STYLES, dtype=object)[self.style]})
        for j, col in enumerate(MIX_COLUMNS):
            out[col] = self.mix[:, j]
        out["posts_per_week"] = self.cadence
        return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class SimulatedWorld:
    """The simulated world and its ground-truth oracle.

    Args:
        difficulty: ``easy``, ``hard`` or ``flat`` (see the module docstring).
        decisions: ``full`` or ``style`` (mix and cadence fixed per style).
        spec: the campaign-log contract; the shipped simulated spec by default. Its outcome
            weights define the objective the oracle maximises.
    """

    def __init__(
        self,
        difficulty: Difficulty = "hard",
        decisions: DecisionMode = "full",
        spec: CampaignSpec | None = None,
    ) -> None:
        if difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty must be one of {DIFFICULTIES}, got {difficulty!r}")
        if decisions not in DECISION_MODES:
            raise ValueError(f"decisions must be one of {DECISION_MODES}, got {decisions!r}")
        self.difficulty = difficulty
        self.decisions = decisions
        self.spec = spec or load_spec()
        weights = self.spec.outcome_weights()
        self.weights = np.array([weights[o] for o in OUTCOMES])
        self._reference: pd.DataFrame | None = None

    # ------------------------------------------------------------------ profiles

    def sample_profiles(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """Draw ``n`` business profiles (the context columns of the log)."""
        ind = rng.choice(len(INDUSTRIES), size=n, p=INDUSTRY_SHARE)
        is_ = {name: ind == i for i, name in enumerate(INDUSTRIES)}
        p_b2b = np.select(
            [is_["software"], is_["professional_services"]], [0.6, 0.85], default=0.08
        )
        b2b = rng.random(n) < p_b2b

        def beta_by(params: dict[str, tuple[float, float]], default: tuple[float, float]):
            a = np.full(n, default[0])
            b = np.full(n, default[1])
            for name, (pa, pb) in params.items():
                a[is_[name]] = pa
                b[is_[name]] = pb
            return rng.beta(a, b)

        innovation = beta_by({"software": (5, 2), "niche_consumer": (3, 3)}, (2, 3))
        shareability = beta_by(
            {
                "fashion_beauty": (5, 2),
                "food_hospitality": (5, 2),
                "news_media": (4, 3),
                "niche_consumer": (3, 3),
                "software": (2, 4),
                "professional_services": (1.5, 5),
            },
            (2, 3),
        )
        tech = np.clip(0.5 * innovation + 0.5 * rng.beta(2, 2, n) + 0.15 * is_["software"], 0, 1)
        cycle_mu = np.where(b2b, np.log(60), np.where(is_["niche_consumer"], np.log(1.0), np.log(10)))
        sales_cycle = np.clip(np.exp(cycle_mu + 0.8 * rng.standard_normal(n)) - 0.5, 0, 365)
        price = np.clip(
            np.exp(np.where(b2b, np.log(3000), np.log(60)) + 0.9 * rng.standard_normal(n)), 1, 1e5
        )
        follower_mu = np.where(is_["news_media"], np.log(200_000), np.log(8_000))
        followers = np.clip(np.exp(follower_mu + 1.3 * rng.standard_normal(n)), 10, 2e7)
        employees = np.clip(
            np.exp(1.5 + 0.45 * np.log(followers) + 0.9 * rng.standard_normal(n)), 1, 1e5
        )
        service = beta_by({"consumer_services": (5, 2), "software": (3, 3)}, (2, 5))
        team_hours = np.clip(np.exp(1.2 + 0.35 * np.log(employees) + 0.5 * rng.standard_normal(n)), 1, 400)
        goal_p = np.where(b2b[:, None], [0.15, 0.2, 0.15, 0.5], [0.4, 0.3, 0.2, 0.1])
        goal = (goal_p.cumsum(1) > rng.random(n)[:, None]).argmax(1)
        ad_budget = np.where(
            rng.random(n) < 0.35, 0.0, np.clip(np.exp(np.log(800) + 1.2 * rng.standard_normal(n)), 0, 1e6)
        )
        return pd.DataFrame(
            {
                "industry": np.array(INDUSTRIES, dtype=object)[ind],
                "market": np.where(b2b, "b2b", "b2c").astype(object),
                "employees": np.round(employees),
                "innovation": innovation,
                "shareability": shareability,
                "sales_cycle_days": sales_cycle,
                "price_point": price,
                "audience_tech_savviness": tech,
                "followers": np.round(followers),
                "service_load": service,
                "team_hours": team_hours,
                "goal": np.array(GOALS, dtype=object)[goal],
                "ad_budget": np.round(ad_budget, 2),
            }
        )

    # ------------------------------------------------------------------ the oracle

    @staticmethod
    def _latent(profiles: pd.DataFrame) -> dict[str, np.ndarray]:
        """Profile quantities the structural equations use (column vectors, shape (n, 1))."""

        def col(x: np.ndarray | pd.Series) -> np.ndarray:
            return np.asarray(x, dtype=float).reshape(-1, 1)

        industry = profiles["industry"].to_numpy()
        cycle = col(profiles["sales_cycle_days"])
        innovation = col(profiles["innovation"])
        share = col(profiles["shareability"])
        tech = col(profiles["audience_tech_savviness"])
        followers = col(profiles["followers"])
        short = np.exp(-cycle / 14.0)
        niche = col(industry == "niche_consumer")
        return {
            "niche_short": niche * np.exp(-cycle / 5.0),  # C1
            "short": short,
            "long_b2b": col(profiles["market"] == "b2b") * (1 - short),
            # C3: reach of the account (0 for 10 followers, ~1 for 5M)
            "traffic": np.clip((np.log10(followers) - 1.0) / 5.7, 0, 1),
            "news": col(industry == "news_media"),
            # C4: the channel pays only for innovative, shareable products and a tech-aware audience
            "fit": 0.35 + 0.65 * _sigmoid(6 * (0.4 * innovation + 0.3 * share + 0.3 * tech - 0.45)),
            "innovation": innovation,
            "share": share,
            "tech": tech,
            "service": col(profiles["service_load"]),
            "team": col(profiles["team_hours"]),
            "goal_sales": col(profiles["goal"] == "sales"),
            "goal_loyal": col(profiles["goal"] == "loyalty"),
            "ads": np.log1p(col(profiles["ad_budget"]) / 500.0) / np.log1p(2000.0),  # C10
        }

    @staticmethod
    def _baseline(z: dict[str, np.ndarray]) -> np.ndarray:
        """Outcomes without any style effect (what the profile alone brings), shape (n, 1, 4)."""
        conv = 2.0 + 2.5 * z["traffic"] + 1.2 * z["short"] + 0.8 * z["goal_sales"]
        eng = 1.0 + 2.0 * z["fit"] * z["tech"] + 0.5 * (1 - z["traffic"])
        growth = 0.5 + 2.0 * z["fit"] + 2.5 * z["ads"]  # C10: paid promotion lifts reach
        ret = 45.0 + 10.0 * z["goal_loyal"] + 8.0 * z["innovation"]
        return np.stack([conv, eng, growth, ret], axis=-1)

    @staticmethod
    def _effect(
        z: dict[str, np.ndarray], style: np.ndarray, mix: np.ndarray, cadence: np.ndarray
    ) -> np.ndarray:
        """Effect of the actions on the four outcomes.

        Profile quantities are (n, 1) columns; actions broadcast against them: ``style`` and
        ``cadence`` of shape (k,) or (n, k)... any shape broadcastable to (n, k), ``mix`` of that
        shape plus a trailing axis of 5. Returns shape (n, k, 4).
        """
        s = [(style == i).astype(float) for i in range(len(STYLES))]
        bro, con, care, tl, com = s
        promo, edu, convo, vis, cur = (mix[..., j] for j in range(5))
        c = np.asarray(cadence, dtype=float)
        # C7: a two-way style needs people to answer; above capacity it backfires.
        effort = EFFORT_PER_POST[np.asarray(style)]
        capacity = _sigmoid(3.0 * (z["team"] / (c * effort + 1e-9) - 1.0))
        fit = z["fit"]

        # --- conversions (leads/sales per 1k followers)
        conv = (
            bro * (3.2 * z["niche_short"] + 1.0 * z["traffic"] * z["news"] - 1.2 * z["long_b2b"] - 0.3)  # C1, C3
            + con * (0.5 * (1 - z["niche_short"]) + 0.6 * z["long_b2b"]) * capacity  # C2
            + care * (3.4 * z["service"] - 0.9) * (0.5 + 0.5 * capacity)  # C6
            + tl * (2.6 * z["long_b2b"] + 0.8 * z["innovation"] - 1.0 * z["niche_short"] - 0.5)  # C5
            + com * (0.6 * z["share"] * z["tech"]) * capacity  # C7
        ) * fit
        # C1/C5: asking to buy converts with diminishing returns, much more for short cycles
        conv = conv + 2.4 * np.sqrt(promo) * (0.3 + 1.2 * z["short"] + 0.6 * z["goal_sales"])
        # --- engagement rate (%)
        eng = (
            bro * (-0.8 + 1.4 * z["traffic"] + 1.6 * z["news"] * z["traffic"])  # C3: a broadcast mirror works for very high-traffic sources
            + con * (1.4 * z["tech"]) * capacity  # C2, C4
            + care * 1.2 * z["service"] * capacity
            + tl * 0.9 * z["innovation"]
            + com * (2.6 * z["share"] * z["tech"] - 0.7) * capacity  # C7: must beat influencers
        ) * fit
        # conversation needs conversational posts; a two-way style without them rings hollow
        eng = eng + 1.2 * np.sqrt(convo) * (con + 0.5 * com + 0.2) - 1.8 * con * np.maximum(0.25 - convo, 0)
        eng = eng + 1.6 * np.sqrt(vis) * z["share"] * (1 + com)  # C9: pin-worthy content travels
        # --- follower growth (%)
        growth = (
            bro * 0.9 * z["traffic"]
            + con * 0.3 * capacity
            + tl * 1.6 * z["innovation"] * z["tech"]  # C5: adding value builds reach
            + com * (4.0 * z["share"] * fit - 1.2) * capacity  # C7, C9
        ) * fit
        growth = (
            growth
            + 3.0 * np.sqrt(edu) * z["innovation"]  # C5
            + 3.0 * np.sqrt(vis) * z["share"] * (1 + z["ads"])  # C9 x C10: promoted visuals
            + 1.2 * np.sqrt(cur) * (1 - z["innovation"])  # curation helps those with little new to say
            - 1.5 * promo  # C5: asking to buy does not build reach
        )
        # --- 30-day retention of new followers (%)
        ret = (
            bro * (-7.0 + 5.0 * z["traffic"])  # C8: deals lose followers; big sources are exempt
            + con * 3.0 * capacity
            + care * (22.0 * z["service"] - 5.0) * capacity  # C6
            + tl * 7.0 * z["innovation"]
            + com * 3.0 * capacity
        )
        ret = ret - 18.0 * promo + 6.0 * np.sqrt(edu)  # C8 vs C1: deals churn followers
        # cadence: reach grows with log posts, fatigue grows quadratically; big accounts tolerate more (C3)
        reach = np.log1p(c) / np.log1p(10.0)
        fatigue = (c / (6.0 + 24.0 * z["traffic"])) ** 2
        conv = conv + 0.8 * reach - 0.6 * fatigue
        eng = eng + 0.3 * reach - 0.9 * fatigue
        growth = growth + 1.2 * reach * fit - 0.5 * fatigue
        ret = ret - 6.0 * fatigue
        shape = np.broadcast_shapes(conv.shape, eng.shape, growth.shape, ret.shape)
        return np.stack([np.broadcast_to(x, shape) for x in (conv, eng, growth, ret)], axis=-1)

    def _reference_profiles(self) -> pd.DataFrame:
        if self._reference is None:
            self._reference = self.sample_profiles(256, np.random.default_rng(20261122))
        return self._reference

    def _means(self, profiles: pd.DataFrame, style, mix, cadence) -> np.ndarray:
        """True expected outcomes, (n, k, 4), for actions broadcast against profiles."""
        z = self._latent(profiles)
        base = self._baseline(z)
        if self.difficulty == "flat":
            # No profile-specific effect: each action gets its average effect over a fixed
            # reference population, the same for every profile.
            zr = self._latent(self._reference_profiles())
            style, mix, cadence = (np.asarray(a) for a in (style, mix, cadence))
            if style.ndim == 2:  # per-profile actions (n, k): evaluate action by action
                flat_s, flat_m, flat_c = style.reshape(-1), mix.reshape(-1, 5), cadence.reshape(-1)
                eff = np.concatenate(
                    [
                        self._effect(zr, flat_s[i : i + 2048], flat_m[i : i + 2048], flat_c[i : i + 2048]).mean(0)
                        for i in range(0, len(flat_s), 2048)
                    ]
                )
                effect = eff.reshape(*style.shape, 4)
            else:
                effect = self._effect(zr, style, mix, cadence).mean(0, keepdims=True)
        else:
            effect = self._effect(z, style, mix, cadence)
        return base + effect

    def _objective_weights(self, weights: np.ndarray | None) -> np.ndarray:
        return self.weights if weights is None else np.asarray(weights, dtype=float)

    def expected_outcomes(
        self, profiles: pd.DataFrame, actions: Actions, weights: np.ndarray | None = None
    ) -> pd.DataFrame:
        """True expected outcomes of one action per profile (row-aligned).

        Returns a frame with one column per outcome plus ``objective``: the sum weighted by
        ``weights`` (in :data:`OUTCOMES` order), the spec's weights by default.
        """
        if len(actions) != len(profiles):
            raise ValueError(f"{len(actions)} actions for {len(profiles)} profiles")
        m = self._means(
            profiles, actions.style[:, None], actions.mix[:, None, :], actions.cadence[:, None]
        )[:, 0, :]
        out = pd.DataFrame(m, columns=OUTCOMES)
        out["objective"] = m @ self._objective_weights(weights)
        return out

    def policy_value(
        self, profiles: pd.DataFrame, actions: Actions, weights: np.ndarray | None = None
    ) -> float:
        """True value (mean expected objective) of taking ``actions`` on ``profiles``."""
        return float(self.expected_outcomes(profiles, actions, weights)["objective"].mean())

    # ------------------------------------------------------------------ action grids

    def action_grid(self, mix_step: float = 0.1, cadences: tuple[float, ...] | None = None) -> Actions:
        """The oracle's search space: every style x a simplex lattice of mixes x cadences.

        In ``style`` mode it is the five fixed style prototypes.
        """
        if self.decisions == "style":
            return self.style_prototype_actions()
        steps = round(1 / mix_step)
        lattice = np.array(
            [p for p in itertools.product(range(steps + 1), repeat=5) if sum(p) == steps], dtype=float
        ) / steps
        cads = np.array(cadences or (1, 2, 3, 4, 6, 8, 11, 15, 20, 28), dtype=float)
        s, m, c = np.meshgrid(np.arange(len(STYLES)), np.arange(len(lattice)), np.arange(len(cads)), indexing="ij")
        return Actions(style=s.ravel(), mix=lattice[m.ravel()], cadence=cads[c.ravel()])

    @staticmethod
    def style_prototype_actions() -> Actions:
        """One action per style with the style's fixed mix and cadence."""
        mixes = np.array([STYLE_PROTOTYPES[s][0] for s in STYLES])
        cads = np.array([STYLE_PROTOTYPES[s][1] for s in STYLES])
        return Actions(style=np.arange(len(STYLES)), mix=mixes, cadence=cads)

    def best_actions(
        self,
        profiles: pd.DataFrame,
        grid: Actions | None = None,
        chunk: int = 64,
        weights: np.ndarray | None = None,
    ) -> tuple[Actions, np.ndarray]:
        """The oracle policy: for each profile the grid action with the best true objective
        (weighted by ``weights`` in :data:`OUTCOMES` order, the spec's by default).

        Returns the chosen actions and their true objective values.
        """
        grid = grid or self.action_grid()
        w = self._objective_weights(weights)
        best_idx = np.empty(len(profiles), dtype=int)
        best_val = np.empty(len(profiles))
        if self.difficulty == "flat":  # the same best action for everyone
            vals = self._means(profiles.iloc[:1], grid.style, grid.mix, grid.cadence)[0] @ w
            best_idx[:] = int(np.argmax(vals))
            base = self._baseline(self._latent(profiles))[:, 0, :] @ w
            ref_base = self._baseline(self._latent(profiles.iloc[:1]))[0, 0, :] @ w
            best_val[:] = vals[best_idx[0]] - ref_base + base
        else:
            for start in range(0, len(profiles), chunk):
                part = profiles.iloc[start : start + chunk]
                vals = self._means(part, grid.style, grid.mix, grid.cadence) @ w
                idx = np.argmax(vals, axis=1)
                best_idx[start : start + chunk] = idx
                best_val[start : start + chunk] = vals[np.arange(len(part)), idx]
        chosen = Actions(grid.style[best_idx], grid.mix[best_idx], grid.cadence[best_idx])
        return chosen, best_val

    # ------------------------------------------------------------------ logging policy

    def logging_propensities(self, profiles: pd.DataFrame) -> np.ndarray:
        """Probability that a marketer picks each style for each profile, shape (n, 5)."""
        z = self._latent(profiles)
        ind = profiles["industry"].to_numpy()
        is_ = {name: (ind == name).astype(float)[:, None] for name in INDUSTRIES}
        b2b = (profiles["market"].to_numpy() == "b2b").astype(float)[:, None]
        logits = np.hstack(
            [
                2.8 * z["niche_short"] + 2.5 * is_["news_media"] + 1.2 * z["goal_sales"] + 1.5 * z["traffic"],
                2.4 * is_["software"] + 0.8 * b2b + 0.8 * z["tech"],
                2.4 * z["service"] + 1.2 * is_["consumer_services"] - 0.5,
                1.8 * is_["professional_services"] + 0.8 * z["innovation"] * b2b - 0.6,
                2.2 * (is_["fashion_beauty"] + is_["food_hospitality"]) + 1.0 * z["share"] - 0.6,
            ]
        )
        temperature, floor = (1.6, 0.1) if self.difficulty != "easy" else (0.8, 0.25)
        logits = temperature * logits
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        # a floor keeps every style possible (minimum propensity floor / 5)
        return (1 - floor) * p + floor / len(STYLES)

    def _logged_mix_and_cadence(
        self, profiles: pd.DataFrame, style: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        proto = np.array([STYLE_PROTOTYPES[s][0] for s in STYLES])[style]
        cad = np.array([STYLE_PROTOTYPES[s][1] for s in STYLES])[style]
        if self.decisions == "style":
            return proto.copy(), cad.astype(float)
        share = profiles["shareability"].to_numpy()
        tilt = proto.copy()
        tilt[:, 3] *= 0.5 + share  # visual brands post more visuals
        tilt[:, 0] *= 0.7 + 0.6 * (profiles["goal"].to_numpy() == "sales")  # sales goals push deals
        tilt /= tilt.sum(1, keepdims=True)
        concentration = 14.0 if self.difficulty != "easy" else 8.0
        mix = rng.gamma(concentration * tilt + 0.05)
        mix /= mix.sum(1, keepdims=True)
        team = profiles["team_hours"].to_numpy()
        cadence = np.exp(np.log(cad * (team / 20.0) ** 0.25) + 0.4 * rng.standard_normal(len(style)))
        return mix, np.clip(np.round(cadence, 1), 1, 60)

    # ------------------------------------------------------------------ the log

    def simulate(self, n: int, seed: int = 0, with_truth: bool = False) -> pd.DataFrame:
        """Simulate a campaign log of ``n`` rows that satisfies the simulated spec.

        Args:
            n: number of campaigns.
            seed: random seed; the same seed gives the same log.
            with_truth: also write the oracle's expected outcomes (``true_*`` columns).
        """
        if n < 1:
            raise ValueError(f"rows must be >= 1, got {n}")
        rng = np.random.default_rng(seed)
        profiles = self.sample_profiles(n, rng)
        prop = self.logging_propensities(profiles)
        style = (prop.cumsum(1) > rng.random(n)[:, None]).argmax(1)
        mix, cadence = self._logged_mix_and_cadence(profiles, style, rng)
        actions = Actions(style, mix, cadence)
        truth = self.expected_outcomes(profiles, actions)
        noise_scale = NOISE_SD * (1 / 3 if self.difficulty == "easy" else 1.0)
        observed = truth[OUTCOMES].to_numpy() + rng.standard_normal((n, 4)) * noise_scale
        observed[:, 3] = np.clip(observed[:, 3], 0, 100)  # retention is a percentage
        start = np.datetime64("2024-01-01") + rng.integers(0, 730, n).astype("timedelta64[D]")
        log = pd.DataFrame({"campaign_id": [f"c{seed}-{i:07d}" for i in range(n)], "started_at": start})
        log = pd.concat([log, profiles, actions.to_frame()], axis=1)
        for j, name in enumerate(OUTCOMES):
            log[name] = np.round(observed[:, j], 4)
        log["logged_propensity"] = prop[np.arange(n), style]
        if with_truth:
            for name in OUTCOMES:
                log[f"true_{name}"] = truth[name].to_numpy()
            log["true_objective"] = truth["objective"].to_numpy()
        return log.sort_values("started_at", kind="stable").reset_index(drop=True)

    def logged_actions(self, log: pd.DataFrame) -> Actions:
        """The actions recorded in a log."""
        return Actions.from_frame(log)


WORLD_METADATA_KEY = b"engage.world"


def read_world(path: str | Path) -> dict[str, Any] | None:
    """The world settings :func:`write_log` stored in a Parquet log (None: none, or a CSV)."""
    import json

    import pyarrow.parquet as pq

    path = Path(path)
    if path.suffix.lower() not in {".parquet", ".pq"}:
        return None
    raw = (pq.read_schema(path).metadata or {}).get(WORLD_METADATA_KEY)
    return json.loads(raw) if raw else None


def write_log(log: pd.DataFrame, path: str | Path, world: dict[str, object] | None = None) -> Path:
    """Write a log as Parquet (with the world's settings in the file's metadata) or CSV."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        table = pa.Table.from_pandas(log, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        if world is not None:
            meta[WORLD_METADATA_KEY] = json.dumps(world).encode()
        pq.write_table(table.replace_schema_metadata(meta), path)
    elif suffix in {".csv", ".txt"}:
        log.to_csv(path, index=False)
    else:
        raise ValueError(f"--out must end in .parquet or .csv, got {path.name!r}")
    return path
