"""Writers for a policy comparison: the per-run rows as CSV, and the comparison plot."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tearline.model import Scenario


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
