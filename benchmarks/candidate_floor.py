"""Candidate floor: the regret left by the best action of a candidate set, by the oracle.

A policy that picks among candidates can do no better than the best candidate for each profile.
The *candidate floor* of a set is that policy's normalised regret::

    floor = (oracle - best_in_set) / (oracle - logged)

with ``oracle`` the mean true objective of the best action in the whole action space (style x
simplex of mixes x cadence 1-60), ``best_in_set`` the mean true objective of the best candidate
per profile, and ``logged`` the mean true objective of the world's logging policy (mean of 5
draws, as in ``benchmarks/policy_quality.py``), all on the same held-out profiles
(``world.sample_profiles(2000, default_rng(12345))``). 0 = the set contains each profile's optimum;
1 = its best is only as good as what marketers already do.

The oracle is the continuous search of :mod:`engage.simulation.search` (coarse grid + local
refinement) in every family; for the classic family the floor against its lattice grid oracle
(mix step 0.1 x 10 cadences, what ``policy_quality.py`` scores against) is reported beside it.

Generic use (plug in any action search)::

    from benchmarks.candidate_floor import candidate_floor
    result = candidate_floor(world, profiles, candidates)

where ``candidates`` is one of

* a DataFrame of decision columns (``style``, ``mix_*``, ``posts_per_week``): the same set for
  every profile;
* a DataFrame with those columns plus a ``profile`` column (the positional index of the
  profile each row is a candidate for): one set per profile;
* a list of DataFrames, one per profile (row-aligned with ``profiles``);
* a callable ``profiles -> any of the above``.

Run for the product's current candidates (``engage.policy.candidates.build_candidates`` with
training's default settings, on a 20,000-row log of each world, seed 0: one set for all
profiles)::

    .venv/bin/python benchmarks/candidate_floor.py            # every world, writes results/
    .venv/bin/python benchmarks/candidate_floor.py --worlds edge-hard --profiles 500
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engage.simulation.families import make_world, parse_world_name, world_names  # noqa: E402
from engage.simulation.search import search_best_actions  # noqa: E402
from engage.simulation.world import MIX_COLUMNS, STYLES, Actions, SimulatedWorld  # noqa: E402

HELDOUT_N = 2_000
HELDOUT_SEED = 12345
LOGGED_DRAWS = 5
PROFILE = "profile"
WORLDS = ("hard", "easy", "flat", "edge-hard", "edge-easy")
DECISIONS = ["style", *MIX_COLUMNS, "posts_per_week"]

CandidateSets = pd.DataFrame | list[pd.DataFrame]
Candidates = CandidateSets | Callable[[pd.DataFrame], CandidateSets]


# ---------------------------------------------------------------------- the measure


def _value_fn(world: SimulatedWorld, weights: np.ndarray) -> Callable[..., np.ndarray]:
    def values(profiles, style, mix, cadence):
        return world._means(profiles, style, mix, cadence) @ weights

    return values


def _check_columns(frame: pd.DataFrame, what: str) -> None:
    missing = [c for c in DECISIONS if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks the decision column(s) {missing}")
    unknown = sorted(set(frame["style"]) - set(STYLES))
    if unknown:
        raise ValueError(f"{what} has {len(unknown)} unknown style(s): {unknown}")


def _padded(sets: list[pd.DataFrame]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-profile sets as (n, kmax) arrays, short sets padded with their own first row."""
    empty = [i for i, s in enumerate(sets) if len(s) == 0]
    if empty:
        raise ValueError(f"{len(empty)} profile(s) have no candidate (first: profile {empty[0]})")
    kmax = max(len(s) for s in sets)
    n = len(sets)
    style = np.empty((n, kmax), dtype=int)
    mix = np.empty((n, kmax, len(MIX_COLUMNS)))
    cad = np.empty((n, kmax))
    for i, frame in enumerate(sets):
        a = Actions.from_frame(frame)
        pad = np.r_[np.arange(len(a)), np.zeros(kmax - len(a), dtype=int)]
        style[i], mix[i], cad[i] = a.style[pad], a.mix[pad], a.cadence[pad]
    return style, mix, cad, np.array([len(s) for s in sets])


def best_in_set(
    world: SimulatedWorld,
    profiles: pd.DataFrame,
    candidates: Candidates,
    weights: np.ndarray | None = None,
    budget: int = 2_000_000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True objective of the best candidate per profile.

    Args:
        world: the world whose truth scores the candidates.
        profiles: the profiles (context columns).
        candidates: see the module docstring.
        weights: outcome weights; the world's spec's by default.
        budget: (profiles x candidates) actions scored at once.

    Returns:
        The best value (n,), the style code of the best candidate (n,), and the number of
        candidates per profile (n,).
    """
    w = world.weights if weights is None else np.asarray(weights, dtype=float)
    values = _value_fn(world, w)
    sets = candidates(profiles) if callable(candidates) else candidates
    n = len(profiles)
    if isinstance(sets, pd.DataFrame) and PROFILE not in sets.columns:
        _check_columns(sets, "the candidate set")
        if len(sets) == 0:
            raise ValueError("the candidate set is empty")
        a = Actions.from_frame(sets)
        step = max(1, budget // len(a))
        best = np.empty(n)
        style = np.empty(n, dtype=int)
        for start in range(0, n, step):
            v = values(profiles.iloc[start : start + step], a.style, a.mix, a.cadence)
            j = v.argmax(1)
            best[start : start + step] = v[np.arange(len(v)), j]
            style[start : start + step] = a.style[j]
        return best, style, np.full(n, len(a))
    if isinstance(sets, pd.DataFrame):
        _check_columns(sets, "the candidate sets")
        idx = sets[PROFILE].to_numpy()
        bad = (idx < 0) | (idx >= n)
        if bad.any():
            raise ValueError(
                f"{int(bad.sum())} candidate row(s) have a '{PROFILE}' outside 0..{n - 1}"
            )
        groups = dict(tuple(sets.groupby(PROFILE, sort=True)))
        sets = [groups.get(i, sets.iloc[:0]) for i in range(n)]
    if len(sets) != n:
        raise ValueError(f"{len(sets)} candidate sets for {n} profiles")
    for i, s in enumerate(sets[:1]):
        _check_columns(s, f"the candidate set of profile {i}")
    style, mix, cad, counts = _padded(sets)
    step = max(1, budget // style.shape[1])
    best = np.empty(n)
    best_style = np.empty(n, dtype=int)
    for start in range(0, n, step):
        sl = slice(start, start + step)
        v = values(profiles.iloc[sl].reset_index(drop=True), style[sl], mix[sl], cad[sl])
        j = v.argmax(1)
        best[sl] = v[np.arange(len(v)), j]
        best_style[sl] = style[sl][np.arange(len(v)), j]
    return best, best_style, counts


def logged_values(
    world: SimulatedWorld, profiles: pd.DataFrame, draws: int = LOGGED_DRAWS
) -> np.ndarray:
    """True objective of the logging policy per profile, mean of ``draws`` draws (seeds 777+d)."""
    prop = world.logging_propensities(profiles)
    out = np.zeros(len(profiles))
    for d in range(draws):
        rng = np.random.default_rng(777 + d)
        style = (prop.cumsum(1) > rng.random(len(profiles))[:, None]).argmax(1)
        mix, cadence = world._logged_mix_and_cadence(profiles, style, rng)
        out += world.expected_outcomes(profiles, Actions(style, mix, cadence))[
            "objective"
        ].to_numpy()
    return out / draws


@dataclass
class OracleValues:
    """The oracle's best value per profile and the style it picks."""

    value: np.ndarray
    style: np.ndarray


def search_oracle(world: SimulatedWorld, profiles: pd.DataFrame) -> OracleValues:
    """The best action in the continuous action space, for any family.

    In the classic ``flat`` world every profile shares one best action (effects are averages over
    a reference population, only baselines differ), so it is searched once, on the first profile.
    """
    values = _value_fn(world, world.weights)
    if world.family == "classic" and world.difficulty == "flat":
        style, mix, cad, _ = search_best_actions(values, profiles.iloc[:1], len(STYLES))
        n = len(profiles)
        same = Actions(np.repeat(style, n), np.repeat(mix, n, axis=0), np.repeat(cad, n))
        value = world.expected_outcomes(profiles, same)["objective"].to_numpy()
        return OracleValues(value, same.style)
    style, _, _, value = search_best_actions(values, profiles, len(STYLES))
    return OracleValues(value, style)


def grid_oracle(world: SimulatedWorld, profiles: pd.DataFrame) -> OracleValues:
    """The best action of the classic lattice grid (mix step 0.1 x 10 cadences)."""
    best, value = SimulatedWorld.best_actions(world, profiles, world.action_grid())
    return OracleValues(value, best.style)


def candidate_floor(
    world: SimulatedWorld,
    profiles: pd.DataFrame,
    candidates: Candidates,
    *,
    oracle: OracleValues | None = None,
    logged: np.ndarray | None = None,
) -> dict[str, Any]:
    """The candidate floor of a set (or of per-profile sets) on ``profiles``.

    Args:
        world: the world (its truth scores everything).
        profiles: held-out profiles.
        candidates: see the module docstring.
        oracle: precomputed oracle values (the continuous search by default).
        logged: precomputed logging-policy values per profile.

    Returns:
        ``floor`` (normalised regret of the best-in-set policy), the three mean values, the
        per-profile gap quantiles (oracle - best in set, objective units), the share of profiles
        whose best candidate has the oracle's style, and the candidate counts.
    """
    oracle = oracle or search_oracle(world, profiles)
    logged = logged_values(world, profiles) if logged is None else logged
    best, style, counts = best_in_set(world, profiles, candidates)
    gap = oracle.value.mean() - logged.mean()
    per_profile = oracle.value - best
    return {
        "floor": float((oracle.value.mean() - best.mean()) / gap) if gap > 0 else float("nan"),
        "oracle": float(oracle.value.mean()),
        "best_in_set": float(best.mean()),
        "logged": float(logged.mean()),
        "gap_quantiles": {
            f"q{int(q * 100)}": float(np.quantile(per_profile, q)) for q in (0.5, 0.9, 0.99)
        },
        "min_gap": float(per_profile.min()),
        "same_style_as_oracle": float((style == oracle.style).mean()),
        "candidates_per_profile": {"min": int(counts.min()), "max": int(counts.max())},
    }


# ---------------------------------------------------------------------- the product's candidates


def product_candidates(log: pd.DataFrame) -> pd.DataFrame:
    """``build_candidates`` with training's default settings, on the whole log (one set)."""
    from engage.contract.spec import load_spec
    from engage.policy.candidates import build_candidates
    from engage.training.settings import TrainSettings

    fields = TrainSettings.model_fields
    q = fields["decision_quantiles"].default
    quantiles = tuple(np.round(np.linspace(0.1, 0.9, q), 3)) if q > 1 else (0.5,)
    spec = load_spec()
    cands = build_candidates(
        log, spec, n_mix_prototypes=fields["mix_prototypes"].default, quantiles=quantiles, seed=0
    )
    return cands.frame[DECISIONS].reset_index(drop=True)


def searched_candidates(log: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
    """The product's action search (issue 11): each held-out profile's own candidates, as the
    trained policy would score them (training's default settings, no tuning, on ``log``)."""
    from engage.contract.spec import load_spec
    from engage.contract.validation import validate_log
    from engage.training.models import DEFAULT_PARAMS, FitLog
    from engage.training.nuisance import Nuisance, fit_outcome_models, fit_propensity_model
    from engage.training.selection import build_candidate_policy
    from engage.training.settings import TrainSettings
    from engage.training.split import make_split

    spec = load_spec()
    settings = TrainSettings(data=Path("unused.parquet"), trials=0, progress=False)
    clean = validate_log(log, spec).clean
    split = make_split(clean, spec, settings)
    fit_log = FitLog()
    nuisance = Nuisance(
        fit_propensity_model(split, settings, fit_log),
        fit_outcome_models(split, dict(DEFAULT_PARAMS), settings, fit_log),
    )
    policy = build_candidate_policy(spec, split, nuisance, spec.outcome_weights(), settings)
    context = policy.builder.encode_context(profiles)
    index, valid = policy.candidate_index(context)
    rows = [(i, int(j)) for i in range(len(profiles)) for j, ok in zip(index[i], valid[i], strict=True) if ok]
    frame = policy.candidates.frame.iloc[[j for _, j in rows]][DECISIONS].reset_index(drop=True)
    frame["profile"] = [i for i, _ in rows]
    return frame


def search_space_candidates(
    world: SimulatedWorld, log: pd.DataFrame, profiles: pd.DataFrame, clusters: int = 0,
    min_support: float | None = None, rounds: int = 0,
) -> pd.DataFrame:
    """What the action search can return at best: the search of ``engage.training.actions``
    run with the world's TRUE objective in place of the outcome models (training's default
    search settings), each held-out profile getting its cluster's actions. Its floor is the
    regret the search's support region and per-cluster sets leave, whatever the models.
    ``clusters`` > 0 overrides the number of profile clusters (finer clusters: actions closer
    to each profile's own, each cluster's support set still borrowing up to 30 logged
    actions); ``min_support`` overrides ``min_support_rows`` (0: no support constraint, the
    floor of the per-cluster sets alone); ``rounds`` > 0 overrides ``search_rounds``."""
    from engage.contract.spec import load_spec
    from engage.policy.encoding import FeatureBuilder
    from engage.training.actions import SearchSettings, search_actions
    from engage.training.settings import TrainSettings

    spec = load_spec()
    builder = FeatureBuilder(spec)
    n_ctx = len(builder.context_names)
    context = builder.encode_context(log)
    where = {row.tobytes(): i for i, row in enumerate(context)}
    weights = np.array([spec.outcome_weights()[o] for o in spec.outcome_names])
    truth = _value_fn(world, weights)
    ctx_frame = log[spec.context_names].reset_index(drop=True)

    def score(rows: np.ndarray) -> np.ndarray:
        idx = np.array([where[r[:n_ctx].tobytes()] for r in rows])
        dec = rows[:, n_ctx:]
        return truth(  # one action per profile: (n, 1) action arrays
            ctx_frame.iloc[idx].reset_index(drop=True), dec[:, :1].astype(int),
            dec[:, None, 1 : 1 + len(MIX_COLUMNS)], dec[:, 1 + len(MIX_COLUMNS) : 2 + len(MIX_COLUMNS)],
        )[:, 0]

    d = TrainSettings.model_fields
    found = search_actions(
        spec, log.reset_index(drop=True), context, score,
        SearchSettings(
            clusters=clusters or d["action_clusters"].default, profiles=d["search_profiles"].default,
            pool=d["search_pool"].default, rounds=rounds or d["search_rounds"].default,
            support_neighbours=d["support_neighbours"].default,
            min_support_rows=d["min_support_rows"].default if min_support is None else min_support,
        ),
    )
    cluster = found.clusters.assign(builder.encode_context(profiles))
    group = np.asarray(found.candidates.group)
    frames = []
    for i, c in enumerate(cluster):
        f = found.candidates.frame.iloc[np.flatnonzero(group == c)][DECISIONS].copy()
        f[PROFILE] = i
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def run(
    worlds: list[str], rows: int, log_seed: int, n_profiles: int, log=print, kind: str = "grid",
    clusters: int = 0, min_support: float | None = None, rounds: int = 0,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in worlds:
        start = time.perf_counter()
        family, difficulty = parse_world_name(name)
        world = make_world(family, difficulty, "full")
        profiles = world.sample_profiles(n_profiles, np.random.default_rng(HELDOUT_SEED))
        logged_log = world.simulate(rows, seed=log_seed)
        if kind == "search":
            cands = searched_candidates(logged_log, profiles)
        elif kind == "search-space":
            cands = search_space_candidates(world, logged_log, profiles, clusters, min_support, rounds)
        else:
            cands = product_candidates(logged_log)
        logged = logged_values(world, profiles)
        search = search_oracle(world, profiles)
        entry = candidate_floor(world, profiles, cands, oracle=search, logged=logged)
        entry["candidates"] = (
            len(cands) if "profile" not in cands else round(len(cands) / len(profiles), 1)
        )
        if family == "classic":
            grid = grid_oracle(world, profiles)
            vs_grid = candidate_floor(world, profiles, cands, oracle=grid, logged=logged)
            entry["floor_vs_grid_oracle"] = vs_grid["floor"]
            entry["grid_oracle"] = vs_grid["oracle"]
            entry["search_minus_grid_min"] = float((search.value - grid.value).min())
        entry["seconds"] = round(time.perf_counter() - start, 1)
        results[name] = entry
        log(
            f"{name}: floor {entry['floor']:.3f} ({entry['candidates']} candidates,"
            f" {entry['seconds']} s)"
        )
    return results


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def render(payload: dict[str, Any]) -> str:
    meta, res = payload["meta"], payload["results"]
    out = [
        "# Candidate floor: the regret left by the best candidate, per world",
        "",
        "Generated by `benchmarks/candidate_floor.py` (see its docstring for the definitions).",
        "**Floor** = (oracle − best in set) / (oracle − logged), means over "
        f"{meta['profiles']:,} held-out profiles (seed {HELDOUT_SEED});",
        "0 = every profile's optimum is",
        "in the set, 1 = no better than the marketers' logged choices.",
        "",
        f"Candidates: {meta['candidates']}. With the product's fixed candidate grid this is the",
        "*before* figure of issue 11 (the per-profile action search is measured with the same",
        "helper).",
        "Oracle: the continuous search (coarse grid + local refinement) over style x mix simplex x",
        "cadence 1-60; for the classic worlds the floor against their lattice grid oracle",
        "(mix step",
        "0.1 x 10 cadences, the oracle of `policy_quality.py`) is given beside it.",
        "",
        f"- machine: nproc {meta['nproc']}, Python {meta['python']}, {meta['platform']}",
        f"- date {meta['date']}; wall time {meta['wall_seconds']:.0f} s;"
        " load average (1, 5, 15 min) at"
        f" start {meta['loadavg_start']}, at the end {meta['loadavg_end']}",
        "",
        "| world | candidates | floor | floor vs grid oracle | oracle | best in set | logged |"
        " gap per profile q50 / q90 | best candidate has the oracle's style |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in res.items():
        vs_grid = f"{r['floor_vs_grid_oracle']:.3f}" if "floor_vs_grid_oracle" in r else "—"
        q = r["gap_quantiles"]
        out.append(
            f"| {name} | {r['candidates']} | **{r['floor']:.3f}** | {vs_grid} | {r['oracle']:.3f} |"
            f" {r['best_in_set']:.3f} | {r['logged']:.3f} | {q['q50']:.3f} / {q['q90']:.3f} |"
            f" {r['same_style_as_oracle']:.0%} |"
        )
    out += [
        "",
        "Gap per profile = oracle − best candidate for that profile, in objective units.",
    ]
    diffs = [r["search_minus_grid_min"] for r in res.values() if "search_minus_grid_min" in r]
    if diffs:
        out.append(
            "Search oracle − grid oracle, smallest over profiles and classic worlds: "
            f"{min(diffs):+.4f} (>= 0: the search finds at least the lattice's best"
            " for every profile)."
        )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--worlds",
        nargs="+",
        choices=WORLDS,
        default=list(WORLDS),
        help="worlds to measure (default: all)",
    )
    p.add_argument(
        "--rows",
        type=int,
        default=20_000,
        help="rows of the log the candidates are built from (default 20000)",
    )
    p.add_argument("--log-seed", type=int, default=0, help="seed of that log (default 0)")
    p.add_argument(
        "--profiles", type=int, default=HELDOUT_N, help="held-out profiles (default 2000)"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=REPO / "benchmarks" / "results",
        help="folder for candidate_floor.json/.md (default benchmarks/results)",
    )
    p.add_argument(
        "--candidates", choices=("grid", "search", "search-space"), default="grid",
        help="grid: the fixed candidate grid (before issue 11); search: the per-profile action "
        "search (results go to candidate_floor_search.*)",
    )
    p.add_argument(
        "--clusters", type=int, default=0,
        help="search-space only: profile clusters of the search (default 0: training's "
        "sqrt(rows / 25) in [4, 40]); results go to candidate_floor_search_space_c<N>.*",
    )
    p.add_argument(
        "--min-support", type=float, default=None,
        help="search-space only: min_support_rows of the search (default: training's; 0: no "
        "support constraint); results go to candidate_floor_search_space[_c<N>]_s<M>.*",
    )
    p.add_argument(
        "--rounds", type=int, default=0,
        help="search-space only: refinement rounds of the search (default 0: training's "
        "search_rounds); results go to candidate_floor_search_space[...]_r<K>.*",
    )
    a = p.parse_args(argv)
    if (a.clusters or a.min_support is not None or a.rounds) and a.candidates != "search-space":
        p.error("--clusters, --min-support and --rounds apply to --candidates search-space only")
    assert set(WORLDS) == set(world_names())
    started = time.perf_counter()
    load_start = _loadavg()
    results = run(
        a.worlds, a.rows, a.log_seed, a.profiles, log=lambda s: print(s, flush=True),
        kind=a.candidates, clusters=a.clusters, min_support=a.min_support, rounds=a.rounds,
    )
    described = {
        "grid": "engage.policy.candidates.build_candidates with training's defaults "
        "(TrainSettings mix_prototypes / decision_quantiles), one set for all profiles",
        "search": "the product's action search within support (engage.training.actions, "
        "training's defaults, no tuning): each profile's own candidates (mean count per "
        "profile in the table)",
        "search-space": "what the action search can return at best: the same search with "
        "the world's true objective in place of the outcome models (training's default "
        "search settings), each profile getting its cluster's actions"
        + (f"; {a.clusters} clusters instead of training's default" if a.clusters else "")
        + (f"; min_support_rows {a.min_support:g} instead of training's" if a.min_support is not None else "")
        + (f"; {a.rounds} refinement rounds instead of training's" if a.rounds else ""),
    }
    meta = {
        "candidates": f"{described[a.candidates]}, built from "
        f"a {a.rows:,}-row log of each world (seed {a.log_seed})",
        "profiles": a.profiles,
        "rows": a.rows,
        "log_seed": a.log_seed,
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "wall_seconds": time.perf_counter() - started,
        "loadavg_start": load_start,
        "loadavg_end": _loadavg(),
    }
    payload = {"meta": meta, "results": results}
    a.out.mkdir(parents=True, exist_ok=True)
    stem = {"grid": "candidate_floor", "search": "candidate_floor_search",
            "search-space": "candidate_floor_search_space"}[a.candidates]
    if a.clusters:
        stem += f"_c{a.clusters}"
        meta["clusters"] = a.clusters
    if a.min_support is not None:
        stem += f"_s{a.min_support:g}"
        meta["min_support_rows"] = a.min_support
    if a.rounds:
        stem += f"_r{a.rounds}"
        meta["search_rounds"] = a.rounds
    (a.out / f"{stem}.json").write_text(json.dumps(payload, indent=1))
    (a.out / f"{stem}.md").write_text(render(payload))
    print(f"wrote {a.out}/{stem}.{{json,md}}")
    return 0


__all__ = ["OracleValues", "best_in_set", "candidate_floor", "logged_values"]

if __name__ == "__main__":
    sys.exit(main())
