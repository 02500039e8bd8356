"""``tearline links``: which single release (or withholding) would have changed the outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tearline.model import Fact, load_facts, resolve_scenario, seeds_for
from tearline.research import (
    analyse,
    base_jobs,
    candidate_jobs,
    candidates,
    fact_sources,
    pair_jobs,
    pruned,
    run_rows,
    write_batch,
)

from ._batch import (
    DEFAULT_CACHE,
    CacheDir,
    Jobs,
    NoCache,
    Scheduler,
    ShardOption,
    executor,
    run_batch,
    shard_of,
)
from ._common import (
    ExcludeDisputed,
    NoiseScale,
    Policy,
    Seeds,
    clear_errors,
    err,
    fail,
    load,
    out,
    run_config,
)
from .research import _iv


def links(
    scenario: Annotated[str, typer.Argument(help="A scenario name or YAML file.")],
    policy: Policy,
    runs: Annotated[int, typer.Option(min=1, metavar="N", help="Seeded runs per link (seeds 1..N).")] = 3,
    scope: Annotated[
        str,
        typer.Option(help="leads: one (lead, recipient) at a time; channels: one sender → recipient; both."),
    ] = "both",
    pairs: Annotated[
        bool, typer.Option(help="For a plot no single link flips, also try pairs of its strongest links.")
    ] = True,
    top: Annotated[int, typer.Option(min=2, help="How many of the strongest single links to pair.")] = 6,
    show: Annotated[int, typer.Option(min=1, help="Links to print per plot.")] = 10,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write runs and links (CSV, Parquet, JSON) here.")
    ] = None,
    exclude_disputed: ExcludeDisputed = False,
    seeds: Seeds = None,
    noise_scale: NoiseScale = 1.0,
    jobs: Jobs = 0,
    scheduler: Scheduler = None,
    shard: ShardOption = None,
    cache: CacheDir = DEFAULT_CACHE,
    no_cache: NoCache = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="Print only the ranked links (no progress, no counts, no file list)."
        ),
    ] = False,
) -> None:
    """Critical links: for every (lead, recipient) and channel, release at once where the policy
    withheld or delayed, withhold where it released; replay each over N seeds and rank them by how
    often the outcome flips (Wilson 95 %), with the warning gained or lost and the facts behind them."""
    with clear_errors():
        if scope not in ("leads", "channels", "both"):
            fail(f"--scope {scope!r}: choose leads, channels or both")
        path = resolve_scenario(scenario)
        s = load(scenario, seeds)
        seeds_dir = seeds or seeds_for(path)
        facts: dict[str, Fact] = load_facts(seeds_dir) if seeds_dir else {}
        part = shard_of(shard)
        ex = executor(jobs, scheduler, cache, no_cache)
        config = run_config(s, policy, 1, exclude_disputed, None, noise_scale)
        seed_list = range(1, runs + 1)
        base = run_batch(
            ex, base_jobs(config, seed_list), shard_of(None), f"{s.id} {policy}: base runs", quiet=quiet
        )
        found = candidates(config, base, scope, facts)  # type: ignore[arg-type]
        skipped = pruned(s)
        if not quiet:
            err.print(
                f"{len(found)} links to try: background noise is not measured"
                + (
                    f"; {len(skipped)} leads observed at or after the last attack are not either"
                    if skipped
                    else ""
                )
            )
        singles = run_batch(
            ex,
            candidate_jobs(config, found, seed_list),
            part,
            f"{s.id} {policy}: {len(found)} links × {runs} seeds",
            quiet=quiet,
        )
        rows = run_rows(base) + run_rows(singles)
        if pairs and part.count == 1:
            paired = pair_jobs(config, rows, found, seed_list, top)
            if paired:
                rows += run_rows(
                    run_batch(ex, paired, part, f"{s.id} {policy}: {len(paired) // runs} pairs", quiet=quiet)
                )
        elif pairs:
            err.print(
                "pairs are tried only on a whole batch: run links again without --shard (the cache keeps the singles)"
            )
        meta: dict[str, Any] = {
            "kind": "links",
            "scenario": s.id,
            "title": s.title,
            "policy": policy,
            "seeds": runs,
            "scope": scope,
            "exclude_disputed": exclude_disputed,
            "noise_scale": noise_scale,
            "shard": str(part),
            "runs": len(rows),
            "links_tried": len(found),
            "pruned": skipped,
        }
        table = analyse("links", rows)["links"]
        if out_dir is not None:
            tables, written = write_batch(out_dir, meta, rows)
            table = tables["links"]
            _write_json(out_dir / "links.json", meta, table, facts)
            written.append(out_dir / "links.json")
    base_results = run_rows(base)
    for plot in dict.fromkeys(r["plot"] for r in table):
        results = "/".join(sorted({r["result"] for r in base_results if r["plot"] == plot}))
        out.print(
            f"[bold]{s.title} · {policy} · plot {plot}[/]: {results} as is; strongest links over {runs} seeds"
        )
        tried = [r for r in table if r["plot"] == plot]
        moving = [r for r in tried if r["flips"] or r["warning_change_hours"] or r["detection_changed"]]
        if not moving:
            out.print(f"  no link changes this plot's outcome, warning or detection ({len(tried)} tried)")
        for r in moving[:show]:
            out.print(
                f"{r['rank']:>3}. {r['link']}: flips {r['flips']}/{r['seeds']}, p {_iv(r, 'flip_probability', '.0%')}"
                f" (gained {r['gained']}, lost {r['lost']}); Δ warning {_iv(r, 'warning_change_hours', '+.1f')} h",
                soft_wrap=True,
            )
            for fact in fact_sources(facts, r["facts"]):
                out.print(f"       {fact}", soft_wrap=True)
            for doubt in filter(None, str(r.get("uncertain") or "").split("; ")):
                out.print(f"       [yellow]uncertain:[/] {doubt}", soft_wrap=True)
    if out_dir is not None and not quiet:
        out.print(f"wrote {len(written)} files to {out_dir}")


def _write_json(
    path: Path, meta: dict[str, Any], table: list[dict[str, Any]], facts: dict[str, Fact]
) -> None:
    import json

    links_out = [
        {
            **r,
            "facts": [
                {
                    "id": i,
                    "known": facts[i].known,
                    "sources": list(facts[i].sources),
                    "disputed": facts[i].disputed,
                    "uncertain": facts[i].uncertain,
                }
                if i in facts
                else {"id": i}
                for i in str(r["facts"]).split()
            ],
            "leads": str(r.get("leads") or "").split(),
            "uncertain": list(filter(None, str(r.get("uncertain") or "").split("; "))),
        }
        for r in table
    ]
    path.write_text(json.dumps({"batch": meta, "links": links_out}, indent=2, ensure_ascii=False) + "\n")
