"""``engage simulate``: write a simulated campaign log (with its world's settings)."""

from __future__ import annotations

import argparse


def _simulate(args: argparse.Namespace) -> int:
    from engage.contract.messages import counted
    from engage.simulation.families import make_world
    from engage.simulation.world import write_log

    world = make_world(args.family, args.difficulty, args.decisions)
    log = world.simulate(args.rows, seed=args.seed, with_truth=args.with_truth)
    # classic logs keep the settings they always had (no family key means classic)
    family = {} if args.family == "classic" else {"family": args.family}
    write_log(
        log,
        args.out,
        world={
            **family,
            "difficulty": args.difficulty,
            "decisions": args.decisions,
            "seed": args.seed,
            "rows": args.rows,
        },
    )
    print(
        f"wrote {counted(len(log), 'campaign')} to {args.out} (family={args.family}, difficulty={args.difficulty}, decisions={args.decisions}, seed={args.seed})"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``engage simulate`` to the ``engage`` parser."""
    from engage.cli import examples
    from engage.simulation.families import FAMILIES, FAMILY_DIFFICULTIES
    from engage.simulation.world import DECISION_MODES, DIFFICULTIES

    p = sub.add_parser(
        "simulate",
        help="write a simulated campaign log",
        description="Write a simulated campaign log (Parquet keeps the world's settings, so training can report true regret).",
        epilog=examples(
            "engage simulate --rows 20000 --seed 0 --out data/campaigns.parquet",
            "engage simulate --difficulty easy --decisions style --with-truth --out easy.csv",
            "engage simulate --family edge --difficulty hard --out edge.parquet",
        ),
    )
    p.add_argument("--rows", type=int, default=20_000, help="campaigns to simulate")
    p.add_argument("--seed", type=int, default=0, help="random seed of the simulation")
    p.add_argument(
        "--family",
        choices=FAMILIES,
        default="classic",
        help="family of worlds: 'edge' has other functional forms, noise and confounding, and optima at the edge of the logged support (difficulties: "
        + "; ".join(f"{f}: {', '.join(d)}" for f, d in FAMILY_DIFFICULTIES.items())
        + ")",
    )
    p.add_argument(
        "--difficulty",
        choices=DIFFICULTIES,
        default="hard",
        help="how hard the world's best policy is to learn",
    )
    p.add_argument(
        "--decisions",
        choices=DECISION_MODES,
        default="full",
        help="'style': mix and cadence fixed per style",
    )
    p.add_argument(
        "--with-truth",
        action="store_true",
        help="also write the oracle's expected outcomes (true_* columns)",
    )
    p.add_argument("--out", required=True, help="file to write, .parquet or .csv (required)")
    p.set_defaults(func=_simulate)
