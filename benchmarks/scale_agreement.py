"""How often two trainings on the same log recommend the same style: Dask versus one process,
and one process versus itself with another seed (the reference the first is judged against).

Run after ``benchmarks/scale.py --keep DIR`` (whose store holds ``scale-dask`` and
``scale-single``, both trained on the same log when ``--rows`` is 1,000,000)::

    .venv/bin/python benchmarks/scale_agreement.py --work DIR

1. trains the single-machine model again on ``DIR/sample.parquet`` with ``--seed 1``
   (``scale-single-seed1``, same store);
2. loads the three registered models the way ``engage serve`` does and asks each for the
   first recommendation of the same 1,000 simulated profiles (hard world, seed 99);
3. writes ``benchmarks/results/scale_agreement.{json,md}``: the share of profiles with the same
   recommended style for each pair, the retraining time and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.scale import style_agreement  # noqa: E402  (one way to compare the models)

RESULTS = Path(__file__).resolve().parent / "results"
ENGAGE = Path(sys.executable).with_name("engage")
PROFILES = 1_000


def retrain(work: Path, seed: int) -> float:
    """``engage train`` on the kept sample with another seed; seconds taken."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"}
    start = time.perf_counter()
    with (work / f"seed{seed}.log").open("w") as out:
        subprocess.run(
            [str(ENGAGE), "train", "--data", str(work / "sample.parquet"), "--experiment", "scale-single",
             "--model-name", f"scale-single-seed{seed}", "--seed", str(seed), "--no-progress"],
            env=env, cwd=work, check=True, stdout=out, stderr=subprocess.STDOUT,
        )
    return time.perf_counter() - start


def markdown(r: dict) -> str:
    lines = [
        "# Same style, same log: Dask versus one process, and one process versus itself",
        "",
        f"Measured {r['date']} on {r['cpus']} CPUs; load average "
        f"{r['load_start'] or '(not recorded)'} at the start, {r['load_end']} at the end. "
        f"Command: `{r['command']}` on the store of `{r['scale_command']}`."
        + (f" Note: {r['note']}." if r.get("note") else ""),
        f"{PROFILES:,} simulated profiles (hard world, seed 99); each model's first recommendation.",
        "",
        "| models | same recommended style |",
        "|---|---|",
    ]
    lines += [f"| {pair} | {share:.1%} |" for pair, share in r["agreement"].items()]
    lines += [
        "",
        f"`scale-single-seed1` is the single-machine training again with `--seed 1` "
        f"({r['retrain_seconds']:.0f} s): only the seed of splits, subsamples and fits differs. "
        "Compare the Dask model's agreement with the single-machine one to the single-machine "
        "one's agreement with itself: a style choice that changes with the seed cannot be "
        "expected to survive a change of engine. Which profiles flip (presumably those whose "
        "best styles score nearly the same) is not measured here.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="the folder of `benchmarks/scale.py --keep`")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder (default: benchmarks/results)")
    args = parser.parse_args()
    scale = json.loads((args.work.parent / "scale.json").read_text()) if (args.work.parent / "scale.json").exists() else {}
    load_start = [round(x, 2) for x in os.getloadavg()]
    seconds = retrain(args.work, 1)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "command": ".venv/bin/python benchmarks/scale_agreement.py --work DIR",
        "scale_command": scale.get("command", "benchmarks/scale.py --keep DIR"),
        "retrain_seconds": round(seconds, 1),
        "agreement": {
            f"{a} vs {b}": share
            for (a, b), share in style_agreement(
                args.work, ("scale-dask", "scale-single", "scale-single-seed1"), PROFILES
            ).items()
        },
        "load_start": load_start,
        "load_end": [round(x, 2) for x in os.getloadavg()],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale_agreement.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "scale_agreement.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
