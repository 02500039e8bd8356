"""Writers for research results: tables as CSV and Parquet, and plots (PNG and SVG) with error bars."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Row = dict[str, Any]


def write_csv(rows: Sequence[Row], path: Path) -> Path:
    """Rows as CSV, columns in the order of the first row (others appended as they appear)."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_parquet(rows: Sequence[Row], path: Path) -> Path:
    """Rows as a Parquet table (pyarrow), types inferred per column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = list(dict.fromkeys(k for r in rows for k in r))
    table = pa.table({c: [r.get(c) for r in rows] for c in columns})
    pq.write_table(table, path)
    return path


def read_parquet(path: Path) -> list[Row]:
    import pyarrow.parquet as pq

    rows: list[Row] = pq.read_table(path).to_pylist()
    return rows


def write_table(rows: Sequence[Row], directory: Path, name: str) -> list[Path]:
    """``name.csv`` and ``name.parquet`` in ``directory``."""
    if not rows:
        return []
    return [write_csv(rows, directory / f"{name}.csv"), write_parquet(rows, directory / f"{name}.parquet")]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, stem: Path) -> list[Path]:
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    fig.savefig(paths[0], dpi=110)
    fig.savefig(paths[1])
    return paths


def _bars(ax: Any, aggregate: Sequence[Row], by: str, column: str, scale: float = 1.0) -> None:
    groups = list(dict.fromkeys(str(r[by]) for r in aggregate))
    plots = list(dict.fromkeys(r["plot"] for r in aggregate))
    width = 0.8 / max(1, len(plots))
    for i, plot in enumerate(plots):
        xs, ys, lo, hi = [], [], [], []
        for x, g in enumerate(groups):
            r = next((r for r in aggregate if str(r[by]) == g and r["plot"] == plot), None)
            if r is None or r[column] is None:
                continue
            xs.append(x + i * width)
            ys.append(r[column] * scale)
            lo.append((r[column] - r[f"{column}_low"]) * scale)
            hi.append((r[f"{column}_high"] - r[column]) * scale)
        ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3, label=plot)
    ax.set_xticks([x + width * (len(plots) - 1) / 2 for x in range(len(groups))], groups, rotation=20)


def plot_comparison(aggregate: Sequence[Row], title: str, stem: Path, by: str = "policy") -> list[Path]:
    """Disruption rate per plot (Wilson 95 % bars) and hours of warning when disrupted (bootstrap 95 %)."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.4))
    _bars(ax1, aggregate, by, "disruption_rate", 100)
    ax1.set_ylabel("runs in which the plot was disrupted (%)")
    ax1.set_ylim(0, 105)
    ax1.legend(fontsize="small")
    ax1.set_title("Would the dots have been connected in time? (95 % Wilson)")
    _bars(ax2, aggregate, by, "warning_hours")
    ax2.set_ylabel("hours of warning when disrupted")
    ax2.set_title("How early (95 % bootstrap)")
    fig.suptitle(title)
    fig.tight_layout()
    paths = _save(fig, stem)
    plt.close(fig)
    return paths


def plot_tornado(effects: Sequence[Row], title: str, stem: Path) -> list[Path]:
    """One bar per parameter: the range of an outcome's mean over the parameter's levels."""
    plt = _pyplot()
    outcomes = list(dict.fromkeys(r["outcome"] for r in effects))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(5.2 * len(outcomes), 0.5 + 0.45 * len(effects)))
    axes = axes if len(outcomes) > 1 else [axes]
    for ax, outcome in zip(axes, outcomes, strict=True):
        rs = sorted((r for r in effects if r["outcome"] == outcome), key=lambda r: r["swing"])
        ys = range(len(rs))
        ax.barh(ys, [r["high"] - r["low"] for r in rs], left=[r["low"] for r in rs], color="tab:blue")
        ax.set_yticks(list(ys), [r["parameter"] for r in rs])
        ax.set_title(outcome)
    fig.suptitle(title)
    fig.tight_layout()
    paths = _save(fig, stem)
    plt.close(fig)
    return paths
