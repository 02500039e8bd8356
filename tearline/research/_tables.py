"""From finished runs to tables: one row per run and plot, and aggregates with their intervals.

Outcomes are categories (strings): ``disrupted`` counts as a disruption; ``partly-disrupted``, where
a model produces it, is counted on its own; anything else counts as neither."""

from __future__ import annotations

import statistics
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from ._batch import Done
from ._stats import Interval, bootstrap_difference, bootstrap_mean, rate_difference, wilson

Row = dict[str, Any]

DISRUPTED = "disrupted"
PARTLY = "partly-disrupted"


def run_rows(done: Iterable[Done]) -> list[Row]:
    """One row per (run, plot): the run's labels, the plot's outcome, and the run's costs."""
    rows: list[Row] = []
    for d in done:
        sm = d.data["summary"]
        load = sm["load"]
        for o in sm["outcomes"]:
            rows.append(
                {
                    "scenario": sm["scenario"],
                    "policy": sm["policy"],
                    "seed": sm["seed"],
                    **d.job.labels,
                    "plot": o["plot"],
                    "result": o["result"],
                    "disrupted": o["result"] == DISRUPTED,
                    "partly_disrupted": o["result"] == PARTLY,
                    "warning_hours": o["warning_hours"],
                    "disrupted_by": o["disrupted_by"],
                    "detected": o["detected_at"] is not None,
                    "detected_by": o["detected_by"],
                    "released": sm["released"],
                    "withheld": sm["withheld"],
                    "delayed": sm["delayed"],
                    "exposure": sm["exposure"],
                    "false_interdictions": sm["false_interdictions"],
                    "received": sum(a["received"] for a in load),
                    "mean_wait_hours": round(statistics.fmean(a["mean_wait_hours"] for a in load), 3)
                    if load
                    else 0.0,
                    "run_id": d.data["run_id"],
                    "digest": d.data["digest"],
                }
            )
    return rows


def seed_of(*parts: Any) -> int:
    """A bootstrap seed fixed by what is being estimated (so every table is reproducible)."""
    return zlib.crc32(repr(parts).encode())


def interval_columns(prefix: str, iv: Interval | None, digits: int = 4) -> Row:
    if iv is None:
        return {prefix: None, f"{prefix}_low": None, f"{prefix}_high": None}
    return {
        prefix: round(iv.estimate, digits),
        f"{prefix}_low": round(iv.low, digits),
        f"{prefix}_high": round(iv.high, digits),
    }


def group(rows: Sequence[Row], by: Sequence[str]) -> dict[tuple[Any, ...], list[Row]]:
    groups: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(*(r[k] for k in by), r["plot"])].append(r)
    return dict(groups)


def aggregate(rows: Sequence[Row], by: Sequence[str] = ("policy",)) -> list[Row]:
    """Per group and plot: the disruption rate (Wilson 95 %), the partly-disrupted rate, hours of
    warning when disrupted and the analysts' mean triage wait (bootstrap 95 %), and mean costs."""
    out = []
    for key, rs in group(rows, by).items():
        n = len(rs)
        k = sum(r["disrupted"] for r in rs)
        warnings = [r["warning_hours"] for r in rs if r["disrupted"] and r["warning_hours"] is not None]
        out.append(
            {
                **dict(zip(by, key[:-1], strict=True)),
                "plot": key[-1],
                "runs": n,
                "disrupted": k,
                **interval_columns("disruption_rate", wilson(k, n)),
                "disrupted_by": "/".join(sorted({r["disrupted_by"] for r in rs if r["disrupted_by"]})),
                "partly_disrupted": sum(r["partly_disrupted"] for r in rs),
                "detected": sum(r["detected"] for r in rs),
                **interval_columns(
                    "warning_hours", bootstrap_mean(warnings, seed=seed_of("warning", key)), 2
                ),
                **interval_columns(
                    "wait_hours",
                    bootstrap_mean([r["mean_wait_hours"] for r in rs], seed=seed_of("wait", key)),
                    3,
                ),
                "received": round(statistics.fmean(r["received"] for r in rs), 1),
                "released": round(statistics.fmean(r["released"] for r in rs), 1),
                "exposure": round(statistics.fmean(r["exposure"] for r in rs), 2),
                "false_interdictions": round(statistics.fmean(r["false_interdictions"] for r in rs), 2),
            }
        )
    return out


def differences(rows: Sequence[Row], by: str = "policy") -> list[Row]:
    """Each group against the first (the baseline), per plot: the difference in disruption rate
    (Newcombe 95 %), in hours of warning when disrupted and in triage wait (bootstrap 95 %)."""
    groups = group(rows, (by,))
    names = list(dict.fromkeys(r[by] for r in rows))
    plots = list(dict.fromkeys(r["plot"] for r in rows))
    out = []
    for name in names[1:]:
        for plot in plots:
            a, b = groups.get((name, plot), []), groups.get((names[0], plot), [])
            if not a or not b:
                continue

            def warn(rs: list[Row]) -> list[float]:
                return [r["warning_hours"] for r in rs if r["disrupted"] and r["warning_hours"] is not None]

            out.append(
                {
                    by: name,
                    "baseline": names[0],
                    "plot": plot,
                    **interval_columns(
                        "rate_difference",
                        rate_difference(
                            sum(r["disrupted"] for r in a), len(a), sum(r["disrupted"] for r in b), len(b)
                        ),
                    ),
                    **interval_columns(
                        "warning_difference",
                        bootstrap_difference(warn(a), warn(b), seed=seed_of("dw", name, plot)),
                        2,
                    ),
                    **interval_columns(
                        "wait_difference",
                        bootstrap_difference(
                            [r["mean_wait_hours"] for r in a],
                            [r["mean_wait_hours"] for r in b],
                            seed=seed_of("dwait", name, plot),
                        ),
                        3,
                    ),
                }
            )
    return out
