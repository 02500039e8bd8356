"""Tearline's surveillance-capacity mechanics against Kaplan's terror-queues model.

For each (λ, n) of a grid, with β, μ and ω fixed, it generates ``--seeds`` scenarios of the
terror-queues family (``tearline.research.family``: plots arriving at λ a day, each found by random
search at β a day per free surveillance slot, maturing at μ, an interdiction holding a slot for a
time of rate ω), replays each, and compares the share of counted plots detected before they
matured (with its 95 % interval over runs) with the exact value of the Markov chain and with the
fluid approximation. It prints a Markdown table (the one in docs/model.md).

    .venv/bin/python -m bench.terror_queues [--seeds 12] [--plots 200] [--jobs 2]
        [--arrival 0.5 1 2] [--agents 1 2 4] [--search 0.5] [--maturing 0.2] [--release 1]
"""

from __future__ import annotations

import argparse
import itertools
import time
from concurrent.futures import ProcessPoolExecutor

from tearline.model._log import configure
from tearline.research import Queue, counted, detected_share, family_layout, fluid, solve


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--arrival", type=float, nargs="+", default=[0.5, 1.0, 2.0], help="λ values (a day)")
    parser.add_argument("--agents", type=int, nargs="+", default=[1, 2, 4], help="n values (slots)")
    parser.add_argument("--search", type=float, default=0.5, help="β: a day, per free slot and plot")
    parser.add_argument("--maturing", type=float, default=0.2, help="μ: a day")
    parser.add_argument("--release", type=float, default=1.0, help="ω: a day")
    parser.add_argument("--seeds", type=int, default=12, help="runs per grid point")
    parser.add_argument("--plots", type=float, default=200, help="counted plots per run (about)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    configure(level="error")
    grid = [
        Queue(arrival=lam, agents=n, search=args.search, maturing=args.maturing, release=args.release)
        for lam, n in itertools.product(args.arrival, args.agents)
    ]
    print(
        f"β = {args.search}/day, μ = {args.maturing}/day, ω = {args.release}/day; "
        f"{args.seeds} runs per point, about {args.plots:.0f} counted plots per run\n"
    )
    print("| λ /day | n | exact (chain) | fluid | Tearline (95 % interval) | plots | exact inside |")
    print("| ---: | ---: | ---: | ---: | --- | ---: | :---: |")
    started = time.perf_counter()
    inside = 0
    with ProcessPoolExecutor(args.jobs) as pool:
        for q in grid:
            layout = family_layout(q, plots=args.plots)
            seeds = range(1, args.seeds + 1)
            counts = list(pool.map(counted, [q] * args.seeds, seeds, [layout] * args.seeds))
            e = detected_share(counts)
            exact = solve(q).detected
            ok = e.low <= exact <= e.high
            inside += ok
            print(
                f"| {q.arrival:g} | {q.agents} | {exact:.3f} | {fluid(q).detected:.3f} | "
                f"{e.share:.3f} [{e.low:.3f}, {e.high:.3f}] | {e.plots} | {'yes' if ok else '**no**'} |",
                flush=True,
            )
    print(
        f"\n{inside} of {len(grid)} exact values inside the interval; {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
