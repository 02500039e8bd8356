"""A batch's directory: ``batch.json`` (what was run and how), the per-run rows (``runs.csv``,
``runs.parquet``), the analysis tables and plots. :func:`merge` joins shards' directories."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tearline.model import RunError
from tearline.report import plot_comparison, plot_tornado, read_parquet, write_table

from ._compare import analyse_comparison
from ._links import analyse_links
from ._sweep import analyse_sweep
from ._tables import Row

BATCH = "batch.json"
RUNS = "runs"

ANALYSES: dict[str, Callable[[Sequence[Row]], dict[str, list[Row]]]] = {
    "compare": analyse_comparison,
    "links": analyse_links,
    "sweep": analyse_sweep,
}


def analyse(kind: str, rows: Sequence[Row]) -> dict[str, list[Row]]:
    return ANALYSES[kind](rows)


def write_batch(
    out: Path, meta: dict[str, Any], rows: Sequence[Row]
) -> tuple[dict[str, list[Row]], list[Path]]:
    """Write the batch's rows, its analysis tables and plots into ``out``; return tables and paths."""
    out.mkdir(parents=True, exist_ok=True)
    (out / BATCH).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    written = [out / BATCH, *write_table(rows, out, RUNS)]
    tables = analyse(meta["kind"], rows)
    for name, table in tables.items():
        written += write_table(table, out, name)
    title = meta.get("title", meta.get("scenario", ""))
    if meta["kind"] == "compare" and tables["aggregate"]:
        written += plot_comparison(tables["aggregate"], title, out / "comparison")
    if meta["kind"] == "sweep" and tables["sensitivity"]:
        effects = [
            {**e, "outcome": f"{e['policy']}: {e['outcome']}"}
            for e in tables["sensitivity"]
            if e["outcome"].startswith(("disrupted", "triage"))
        ]
        written += plot_tornado(effects, f"{title}: sensitivity", out / "tornado")
    return tables, written


def read_batch(directory: Path) -> tuple[dict[str, Any], list[Row]]:
    try:
        meta: dict[str, Any] = json.loads((directory / BATCH).read_text())
    except FileNotFoundError:
        raise RunError(f"{directory} holds no {BATCH}: not the output of compare, links or sweep") from None
    runs = directory / f"{RUNS}.parquet"
    return meta, read_parquet(runs) if runs.exists() else []  # an empty shard writes no rows


def merge(directories: Sequence[Path], out: Path) -> tuple[dict[str, Any], dict[str, list[Row]], list[Path]]:
    """Join the shards of one batch (same kind and design, distinct shards) and analyse the whole."""
    metas, rows = [], []
    for d in directories:
        meta, rs = read_batch(d)
        metas.append(meta)
        rows.extend(rs)
    keys = {
        json.dumps({k: v for k, v in m.items() if k not in ("shard", "runs")}, sort_keys=True) for m in metas
    }
    if len(keys) > 1:
        raise RunError("these directories hold different batches (kind, scenario or design differ)")
    shards = sorted(m.get("shard", "1/1") for m in metas)
    counts = {s.split("/")[1] for s in shards}
    if len(counts) > 1 or len(set(shards)) != len(shards):
        raise RunError(f"shards {', '.join(shards)} do not fit together")
    missing = int(counts.pop()) - len(shards)
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for r in rows:
        key = (
            r["run_id"],
            r["plot"],
            tuple(sorted((k, str(v)) for k, v in r.items() if k.startswith("p:"))),
            r.get("link"),
        )
        if key not in seen:
            seen.add(key)
            unique.append(r)
    meta = {
        **metas[0],
        "shard": f"merged {', '.join(shards)}",
        "missing_shards": missing,
        "runs": len(unique),
    }
    tables, written = write_batch(out, meta, unique)
    return meta, tables, written
