"""The oracle's search of the continuous action space: a coarse grid, then local refinement.

An action is a style, a posting mix on the simplex and a cadence in [``CADENCE_MIN``,
``CADENCE_MAX``] posts per week. For each profile the search scores a coarse lattice (every
style x mixes on a simplex lattice x log-spaced cadences), keeps the best action of *each*
style as a start, and improves every start by a pattern search whose moves stay in the action
space: move a share ``step`` from one content type to another (20 directions), scale the
cadence by ``exp(+-step)``, and both at once. The step halves when no move improves, down to
``min_step``. The best refined action over the styles is the answer, so a profile whose best
style is second on the coarse grid is still found.

The search only needs the world's true objective of actions broadcast against profiles,
``values(profiles, style, mix, cadence) -> (n, k)``, so it serves every family.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd

CADENCE_MIN = 1.0
CADENCE_MAX = 60.0
#: Coarse cadences, log-spaced over the action space's range.
COARSE_CADENCES = (1.0, 1.6, 2.5, 4.0, 6.0, 9.0, 14.0, 21.0, 32.0, 45.0, 60.0)

Values = Callable[[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def simplex_lattice(step: float, parts: int = 5) -> np.ndarray:
    """Every mix whose shares are multiples of ``step`` (rows sum to 1)."""
    steps = round(1 / step)
    points = [p for p in itertools.product(range(steps + 1), repeat=parts) if sum(p) == steps]
    return np.array(points, dtype=float) / steps


def _moves(parts: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Unit moves: (mix direction (m, parts), log-cadence direction (m,))."""
    transfers = []
    for i, j in itertools.permutations(range(parts), 2):
        v = np.zeros(parts)
        v[i], v[j] = 1.0, -1.0
        transfers.append(v)
    transfers_arr = np.array(transfers)
    zero = np.zeros((1, parts))
    mix_dirs = [transfers_arr, zero, zero]
    cad_dirs = [np.zeros(len(transfers_arr)), np.ones(1), -np.ones(1)]
    for sign in (1.0, -1.0):
        mix_dirs.append(transfers_arr)
        cad_dirs.append(np.full(len(transfers_arr), sign))
    return np.vstack(mix_dirs), np.concatenate(cad_dirs)


def search_best_actions(
    values: Values,
    profiles: pd.DataFrame,
    n_styles: int,
    *,
    mix_step: float = 0.2,
    cadences: tuple[float, ...] = COARSE_CADENCES,
    first_step: float = 0.1,
    min_step: float = 0.002,
    max_rounds: int = 12,
    chunk: int = 128,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The best action per profile in the continuous action space.

    Args:
        values: true objective of actions broadcast against profiles, (n, k).
        profiles: the profiles.
        n_styles: number of styles (codes ``0 .. n_styles - 1``).
        mix_step: spacing of the coarse mix lattice.
        cadences: coarse cadences.
        first_step: first refinement step (share moved; log-cadence change).
        min_step: the search stops when the step falls below it.
        max_rounds: improving moves tried per step size at most.
        chunk: profiles searched at once.

    Returns:
        Style codes (n,), mixes (n, 5), cadences (n,) and their true objective values (n,).
    """
    lattice = simplex_lattice(mix_step)
    cads = np.asarray(cadences, dtype=float)
    s, m, c = np.meshgrid(
        np.arange(n_styles), np.arange(len(lattice)), np.arange(len(cads)), indexing="ij"
    )
    g_style, g_mix, g_cad = s.ravel(), lattice[m.ravel()], cads[c.ravel()]
    moves = _moves(lattice.shape[1])  # directions of the mix and the log-cadence
    n = len(profiles)
    out_style = np.empty(n, dtype=int)
    out_mix = np.empty((n, lattice.shape[1]))
    out_cad = np.empty(n)
    out_val = np.empty(n)
    for start in range(0, n, chunk):
        part = profiles.iloc[start : start + chunk].reset_index(drop=True)
        vals = values(part, g_style, g_mix, g_cad)  # (p, grid)
        # best coarse action of each style, as the starts of the refinement
        per_style = vals.reshape(len(part), n_styles, -1)
        idx = per_style.argmax(2) + np.arange(n_styles) * per_style.shape[2]  # (p, styles)
        style = np.broadcast_to(np.arange(n_styles), idx.shape).copy()
        mix = g_mix[idx]  # (p, styles, 5)
        cad = g_cad[idx]
        best = np.take_along_axis(vals, idx, axis=1)
        mix, cad, best = _refine(
            values,
            part,
            style,
            mix,
            cad,
            best,
            moves,
            first_step=first_step,
            min_step=min_step,
            max_rounds=max_rounds,
        )
        win = best.argmax(1)
        rows = np.arange(len(part))
        sl = slice(start, start + len(part))
        out_style[sl] = style[rows, win]
        out_mix[sl] = mix[rows, win]
        out_cad[sl] = cad[rows, win]
        out_val[sl] = best[rows, win]
    return out_style, out_mix, out_cad, out_val


def _refine(
    values: Values,
    part: pd.DataFrame,
    style: np.ndarray,
    mix: np.ndarray,
    cad: np.ndarray,
    best: np.ndarray,
    moves: tuple[np.ndarray, np.ndarray],
    *,
    first_step: float,
    min_step: float,
    max_rounds: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local refinement of each profile's and style's start, (p, styles): improving moves of
    the mix and the log-cadence, with the step halved until it falls below ``min_step``.

    Returns:
        The refined mixes, cadences and their values.
    """
    mix_dirs, cad_dirs = moves
    step = first_step
    while step >= min_step:
        for _ in range(max_rounds):
            cand_mix = mix[:, :, None, :] + step * mix_dirs[None, None]
            cand_cad = np.clip(cad[:, :, None] * np.exp(step * cad_dirs), CADENCE_MIN, CADENCE_MAX)
            ok = (cand_mix >= -1e-12).all(-1)
            cand_mix = np.clip(cand_mix, 0.0, None)
            p, st, mv, _ = cand_mix.shape
            cand_style = np.broadcast_to(style[:, :, None], (p, st, mv))
            v = _values_per_profile(values, part, cand_style, cand_mix, cand_cad)
            v = np.where(ok, v, -np.inf)
            j = v.argmax(2)
            gain = np.take_along_axis(v, j[..., None], 2)[..., 0]
            better = gain > best + 1e-12
            if not better.any():
                break
            pick_mix = np.take_along_axis(cand_mix, j[..., None, None], 2)[:, :, 0, :]
            pick_cad = np.take_along_axis(cand_cad, j[..., None], 2)[..., 0]
            mix = np.where(better[..., None], pick_mix, mix)
            cad = np.where(better, pick_cad, cad)
            best = np.where(better, gain, best)
        step /= 2
    return mix, cad, best


def _values_per_profile(
    values: Values, profiles: pd.DataFrame, style: np.ndarray, mix: np.ndarray, cadence: np.ndarray
) -> np.ndarray:
    """``values`` for per-profile actions of shape (p, a, b): flattened to (p, a*b) and back."""
    p = style.shape[0]
    flat = values(
        profiles, style.reshape(p, -1), mix.reshape(p, -1, mix.shape[-1]), cadence.reshape(p, -1)
    )
    return flat.reshape(style.shape)
