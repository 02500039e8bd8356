"""``tearline compare``: many seeded runs per policy, summarised as numbers and a plot."""

from __future__ import annotations

import asyncio
import csv
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from tearline.model import RunConfig, Scenario

from ._driver import replay


def _one(config: RunConfig) -> list[dict[str, Any]]:
    result = asyncio.run(replay(config))
    sm = result.summary
    return [
        {
            "policy": config.policy,
            "seed": config.seed,
            "plot": o.plot,
            "result": o.result,
            "warning_hours": o.warning_hours,
            "detected": o.detected_at is not None,
            "released": sm.released,
            "withheld": sm.withheld,
            "exposure": sm.exposure,
            "false_interdictions": sm.false_interdictions,
            "mean_wait_hours": round(statistics.fmean(a.mean_wait_hours for a in sm.load), 2),
            "digest": result.digest,
        }
        for o in sm.outcomes
    ]


def compare_policies(
    configs: Sequence[RunConfig], *, jobs: int = 1, on_done: Callable[[], None] | None = None
) -> tuple[list[dict[str, Any]], list[list[str]]]:
    """Run every config; return the per-run rows and a summary table (header first)."""
    rows: list[dict[str, Any]] = []
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for part in pool.map(_one, configs):
                rows.extend(part)
                if on_done:
                    on_done()
    else:
        for c in configs:
            rows.extend(_one(c))
            if on_done:
                on_done()
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["policy"], r["plot"])].append(r)
    table = [
        [
            "policy",
            "plot",
            "runs",
            "disrupted",
            "median warning h",
            "detected",
            "released",
            "exposure",
            "false interdictions",
        ]
    ]
    for (policy, plot), rs in groups.items():
        warnings = [r["warning_hours"] for r in rs if r["warning_hours"] is not None]
        table.append(
            [
                policy,
                plot,
                str(len(rs)),
                f"{sum(r['result'] == 'disrupted' for r in rs) / len(rs):.0%}",
                f"{statistics.median(warnings):g}" if warnings else "-",
                f"{sum(r['detected'] for r in rs) / len(rs):.0%}",
                f"{statistics.fmean(r['released'] for r in rs):.0f}",
                f"{statistics.fmean(r['exposure'] for r in rs):.1f}",
                f"{statistics.fmean(r['false_interdictions'] for r in rs):.1f}",
            ]
        )
    return rows, table


def write_csv(rows: Sequence[dict[str, Any]], path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def plot_comparison(rows: Sequence[dict[str, Any]], scenario: Scenario, path: Path) -> Path:
    """Two panels: share of runs disrupting each plot, and leads released (the cost side)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    policies = list(dict.fromkeys(r["policy"] for r in rows))
    plots = [p.id for p in scenario.plots]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    width = 0.8 / max(1, len(plots))
    for i, plot in enumerate(plots):
        rates = []
        for policy in policies:
            rs = [r for r in rows if r["policy"] == policy and r["plot"] == plot]
            rates.append(100 * sum(r["result"] == "disrupted" for r in rs) / max(1, len(rs)))
        ax1.bar([x + i * width for x in range(len(policies))], rates, width, label=plot)
    ax1.set_xticks([x + width * (len(plots) - 1) / 2 for x in range(len(policies))], policies, rotation=20)
    ax1.set_ylabel("runs in which the plot was disrupted (%)")
    ax1.set_ylim(0, 100)
    ax1.legend(fontsize="small")
    ax1.set_title("Would the dots have been connected in time?")
    released = [[r["released"] for r in rows if r["policy"] == p and r["plot"] == plots[0]] for p in policies]
    ax2.boxplot(released, tick_labels=policies)
    ax2.set_ylabel("leads released per run")
    ax2.set_title("What sharing costs: volume to triage")
    ax2.tick_params(axis="x", rotation=20)
    fig.suptitle(scenario.title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
