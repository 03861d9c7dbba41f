"""What the data could not support, and the overlap warnings, in plain words.

A campaign log only says how a style does for a kind of profile if marketers used that style
for such profiles. The propensity model estimates that chance for every profile: below the
policy's support floor a style is never recommended, and the rarer it is, the larger the
penalty its estimate carries; below ``RARELY`` (5%) the report calls it "rarely used". These
findings, and the overlap diagnostics of the evaluation (effective sample sizes, capped
weights, where the chances came from, estimators that disagree), are turned into sentences
a marketer can weigh.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from engage.contract.spec import CampaignSpec
from engage.ope import Values
from engage.reporting.record import RARELY, StyleSupport
from engage.training.gate import Evaluation
from engage.training.report.wording import number, other_decisions, share, style_words

MIN_ESS = 100.0  # below this many campaigns' worth of evidence a style's estimates are shaky
_WORTH_SAYING = 0.01  # shares of profiles below this are not worth a sentence
_THIN_WORTH_SAYING = 0.25


def style_support(
    spec: CampaignSpec,
    propensity: np.ndarray,
    recommended: np.ndarray,
    logged: np.ndarray,
    floor: float,
    metrics: Mapping[str, float],
) -> tuple[StyleSupport, ...]:
    """The support of each style.

    Args:
        spec: the contract (its styles, in code order).
        propensity: estimated chance of each style per profile, (n, n_styles).
        recommended: the style code the shipped policy recommends per profile, (n,).
        logged: the style code of each held-out campaign.
        floor: the policy's support floor (``min_propensity``).
        metrics: the propensity model's overlap diagnostics (``overlap.ess.<style>``).
    """
    k = len(spec.styles)
    rec = np.bincount(np.asarray(recommended, dtype=int), minlength=k) / max(len(recommended), 1)
    used = np.bincount(np.asarray(logged, dtype=int), minlength=k) / max(len(logged), 1)
    out = []
    rare = propensity < RARELY
    for j, style in enumerate(spec.styles):
        ess = metrics.get(f"overlap.ess.{style}")
        out.append(
            StyleSupport(
                style=style_words(spec, style),
                recommended=float(rec[j]),
                logged=float(used[j]),
                thin=float(np.mean(rare[:, j])),
                unsupported=float(np.mean(propensity[:, j] < floor)),
                recommended_rarely=float(np.mean((recommended == j) & rare[:, j])),
                evidence=None if ess is None else float(ess),
            )
        )
    return tuple(out)


def support_warnings(support: tuple[StyleSupport, ...], floor: float, rows: str) -> list[str]:
    """Sentences about styles the data covers thinly or not at all (``rows``: what a row of
    the log is, plural, e.g. ``"campaigns"``)."""
    out = []
    risky = sorted(
        (s for s in support if s.recommended_rarely >= _WORTH_SAYING),
        key=lambda s: -s.recommended_rarely,
    )
    if risky:
        total = sum(s.recommended_rarely for s in support)
        if len(risky) == 1:
            what = f"{risky[0].style}, although marketers rarely used it"
        else:
            which = _listing([f"{s.style} for {share(s.recommended_rarely)}" for s in risky])
            what = f"a style that marketers rarely used ({which})"
        out.append(
            f"For {share(total)} of profiles the model recommends {what} for profiles like "
            f"theirs (chance below {RARELY:.0%}). These rest on thin evidence: try them on a "
            "small scale before rolling them out."
        )
    for s in support:
        if s.unsupported >= _WORTH_SAYING:
            out.append(
                f"For {share(s.unsupported)} of profiles, marketers practically never used "
                f"{s.style} (estimated chance below {floor:.1%}). The data cannot say how "
                f"{s.style} would do for them, so the model never recommends it there."
            )
    thin = sorted((s for s in support if s.thin >= _THIN_WORTH_SAYING), key=lambda s: -s.thin)
    if thin:
        which = _listing([f"{s.style} for {share(s.thin)}" for s in thin])
        out.append(
            f"Marketers rarely used (chance below {RARELY:.0%}) {which} of profiles; estimates "
            "for those combinations carry a penalty for thin evidence and are less certain."
        )
    few = [s for s in support if s.evidence is not None and s.evidence < MIN_ESS]
    if few:
        parts = [f"{s.evidence:.0f} for {s.style}" for s in few]
        parts[0] = parts[0].replace(
            " for ", f" {rows} for ", 1
        )  # "68 campaigns for ..., 43 for ..."
        them = "it" if len(few) == 1 else "them"
        out.append(
            f"The held-out data holds the evidence of only about {_listing(parts)}; values "
            f"that depend on {them} are uncertain."
        )
    return out


def _listing(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def evaluation_warnings(
    spec: CampaignSpec, evaluation: Evaluation, values: Values, rows: str
) -> tuple[list[str], list[str]]:
    """Warnings and reassurances about the off-policy evaluation itself (``rows``: what a
    row of the log is, plural)."""
    warnings, notes = [], []
    data, n = evaluation.data, evaluation.data.n
    clipped = int(evaluation.metrics.get("overlap.clipped_rows", 0))
    if clipped:
        cap = float(data.propensity.min())  # the floor every clipped propensity was raised to
        warnings.append(
            f"In {clipped:,} of {n:,} held-out {rows} ({share(clipped / n)}) the style used "
            f"had less than a {cap:.0%} chance of being chosen; their weight in the evaluation "
            "was capped, which makes the estimates steadier but slightly understates "
            "differences between policies."
        )
    if evaluation.params.get("ope_propensity") == "logged":
        notes.append(
            "The log records how likely each style was to be chosen; the evaluation uses "
            "these recorded chances."
        )
    else:
        warnings.append(
            "The log does not record how likely each style was to be chosen; those chances "
            "were estimated from the data, and the evaluation is only as good as that estimate."
        )
    disagreement = _estimator_gap(
        values.get("shipped", {}), other_decisions(spec) or "other choices"
    )
    if disagreement:
        warnings.append(disagreement)
    return warnings, notes


def _estimator_gap(estimates: Mapping[str, tuple[float, float, float]], others: str) -> str | None:
    """A sentence when the shipped policy's SNIPS and DR intervals do not overlap (``others``:
    the decisions besides the style, in words)."""
    if "snips" not in estimates or "dr" not in estimates:
        return None
    (s, s_lo, s_hi), (d, d_lo, d_hi) = estimates["snips"], estimates["dr"]
    if not all(np.isfinite([s, s_lo, s_hi, d, d_lo, d_hi])) or (s_hi >= d_lo and d_hi >= s_lo):
        return None
    return (
        f"Two ways of valuing the recommended policy disagree: {number(s)} when only its "
        f"styles are credited, with the {others} marketers actually chose, against "
        f"{number(d)} for its full plans. Part of the expected gain rests on the model's view "
        f"of {others}, which the data checks less directly."
    )
