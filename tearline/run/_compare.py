"""``tearline compare``: many seeded runs per policy, summarised as numbers and a plot."""

from __future__ import annotations

import asyncio
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from tearline.model import RunConfig

from ._driver import replay

RUNS_MAX = 10_000
"""Most seeded runs per policy ``compare`` accepts: beyond it the rows alone outgrow memory."""


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
