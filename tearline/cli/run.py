"""``tearline run``: replay one scenario under one policy."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tearline.broker import Keystore
from tearline.model import RunConfig, TransportError
from tearline.report import run_timeline, summary_json
from tearline.run import RunResult, replay

from ._common import (
    CaFile,
    Enable,
    ExcludeDisputed,
    Keys,
    NamespaceOption,
    NoiseScale,
    Policy,
    Quiet,
    SaslPasswordFile,
    SaslUser,
    Seed,
    Seeds,
    WaitOption,
    bootstrap_address,
    check_enable,
    clear_errors,
    err,
    fail,
    kafka_credentials,
    load,
    load_keys,
    out,
    run_config,
)

if TYPE_CHECKING:
    from tearline.broker import KafkaCredentials


def _replay(
    config: RunConfig,
    transport: str,
    bootstrap: str | None,
    progress: bool,
    *,
    remote: bool = False,
    namespace: str | None = None,
    wait: float = 120.0,
    keys: Keystore | None = None,
    credentials: KafkaCredentials | None = None,
    keep_topics: bool = False,
) -> RunResult:
    scenario = config.scenario
    span = max(1, scenario.horizon - scenario.start)
    if transport == "kafka":
        bootstrap = bootstrap_address(bootstrap)

    async def go(on_step: Callable[[int], None] | None) -> RunResult:
        if transport == "memory":
            return await replay(config, on_step=on_step, keys=keys.in_one_process() if keys else None)
        from tearline.broker import kafka_transport
        from tearline.run import Run, drive, scoped_replay

        async with kafka_transport(bootstrap, credentials=credentials) as kafka:
            if remote:  # the gateway and agencies are services elsewhere: drive the clock
                assert keys is not None
                return await drive(
                    config, kafka, keys=keys, namespace=namespace or "tearline", wait=wait, on_step=on_step
                )
            own = namespace or f"tearline-{config.run_id}"
            result = await scoped_replay(config, kafka, namespace=own, on_step=on_step, keys=keys)
            if namespace is None and not keep_topics:  # the run's own topics: drop them
                run = Run(config, namespace=own)
                try:
                    await kafka.delete_topics([spec.name for spec in run.topics.specs(run.agencies)])
                except TransportError as exc:
                    err.print(f"[yellow]warning:[/] the run's topics stay: {exc}", soft_wrap=True)
            return result

    if not progress:
        return asyncio.run(go(None))
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[now]}"),
        TimeElapsedColumn(), console=err, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task(f"{scenario.id} · {config.policy} · seed {config.seed}", total=span, now="")
        return asyncio.run(
            go(lambda t: bar.update(task, completed=t - scenario.start, now=scenario.local(t)))
        )


def run(
    scenario: Annotated[
        str, typer.Argument(help="A scenario name (tearline scenarios list) or a YAML file.")
    ],
    policy: Policy = "as-happened",
    seed: Seed = 1,
    transport: Annotated[
        str,
        typer.Option(
            help="memory (in-process, no server) or kafka (needs --bootstrap or TEARLINE_KAFKA_BOOTSTRAP)."
        ),
    ] = "memory",
    bootstrap: Annotated[
        str | None, typer.Option(metavar="HOST:PORT", help="Kafka bootstrap servers, HOST:PORT.")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="DIR", help="Write record.jsonl, summary.json and audit.json here."
        ),
    ] = None,
    exclude_disputed: ExcludeDisputed = False,
    enable: Enable = None,
    noise_scale: NoiseScale = 1.0,
    noise: Annotated[
        bool, typer.Option("--show-noise", help="Include background noise in the timeline.")
    ] = False,
    quiet: Quiet = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only the summary, as summary.json holds it (for machines).")
    ] = False,
    seeds: Seeds = None,
    remote: Annotated[
        bool,
        typer.Option(
            "--remote",
            help="Kafka only: the gateway and agencies run as their own services (tearline broker, "
            "tearline agency NAME); this process publishes the injects and drives the clock.",
        ),
    ] = False,
    namespace: Annotated[str | None, NamespaceOption] = None,
    wait: Annotated[float, WaitOption] = 120.0,
    keys_dir: Keys = None,
    keep_topics: Annotated[
        bool,
        typer.Option(
            "--keep-topics",
            help="Kafka, one process: keep the run's own topics (tearline-<run id>.*) instead of deleting "
            "them when it ends. Topics of a --namespace you name are always kept.",
        ),
    ] = False,
    sasl_user: SaslUser = None,
    sasl_password_file: SaslPasswordFile = None,
    ca_file: CaFile = None,
) -> None:
    """Replay a scenario under one policy; print who learnt what when, the outcome and the digest.

    Example:  tearline run connect-the-dots --policy fusion-centre --seed 7 --out runs/ctd
    """
    if transport not in {"memory", "kafka"}:
        fail(f"unknown transport {transport!r}", hint="Use --transport memory or --transport kafka.")
    if remote and transport != "kafka":
        fail("--remote needs --transport kafka", hint="Services in other processes meet on Kafka topics.")
    keys = (
        load_keys(keys_dir, ("CLOCK", "WORLD"), "--remote")
        if remote
        else load_keys(keys_dir, None, "--keys")
        if keys_dir is not None
        else None  # in one process: keys made for this run only
    )
    credentials = kafka_credentials(sasl_user, sasl_password_file, ca_file) if transport == "kafka" else None
    with clear_errors():
        loaded = load(scenario, seeds)
        check_enable(loaded, enable)
        config = run_config(loaded, policy, seed, exclude_disputed, enable, noise_scale)
        result = _replay(
            config,
            transport,
            bootstrap,
            progress=not (quiet or as_json) and sys.stderr.isatty(),
            remote=remote,
            namespace=namespace,
            wait=wait,
            keys=keys,
            credentials=credentials,
            keep_topics=keep_topics,
        )
    s = config.scenario
    if as_json:
        if out_dir is not None:
            result.write(out_dir)
        typer.echo(summary_json(result.summary), nl=False)
        return
    if not quiet:
        table = Table(title=f"{s.title} — policy {policy}, seed {seed}", title_justify="left", expand=False)
        table.add_column("sim time", no_wrap=True)
        table.add_column("who", no_wrap=True)
        table.add_column("what")
        for row in run_timeline(s, result.events, show_noise=noise):
            table.add_row(s.local(row.at), row.who, row.what, style=row.style or None)
        out.print(table)
    print_outcomes(result)
    if out_dir is not None:
        result.write(out_dir)
        out.print(
            f"wrote {out_dir / 'record.jsonl'}, {out_dir / 'summary.json'} and {out_dir / 'audit.json'}"
        )


def print_outcomes(result: RunResult) -> None:
    sm = result.summary
    at = result.config.scenario.local
    for o in sm.outcomes:
        removed = f" (removed: {', '.join(o.removed)})" if o.removed else ""
        if o.protected:
            removed += f" (guarded by {o.disrupted_by}: {', '.join(o.protected)})"
        if o.result == "disrupted" and o.warning_hours is not None:
            out.print(
                f"[bold green]DISRUPTED[/] {o.name}: by {o.disrupted_by} at {at(o.disrupted_at or 0)}, "
                f"[bold]{o.warning_hours:g} hours of warning[/] before the attack{removed}",
                soft_wrap=True,
            )
        elif o.result == "partly-disrupted":
            out.print(
                f"[bold yellow]PARTLY DISRUPTED[/] {o.name}: the attack goes ahead at {at(o.attack_at)}"
                f"{removed}",
                soft_wrap=True,
            )
        else:
            seen = (
                f" (the dots were joined by {o.detected_by} {o.detection_hours_before:g} h before, but nobody who could act did)"
                if o.detected_by and o.detection_hours_before is not None
                else ""
            )
            out.print(f"[bold red]ATTACK[/] {o.name} at {at(o.attack_at)}{seen}", soft_wrap=True)
    out.print(
        f"leads published {sm.leads_published} (noise {sm.noise_leads}) · released {sm.released} · withheld {sm.withheld}"
        f" · delayed {sm.delayed} · sanitised {sm.sanitised} · exposure {sm.exposure:g} · false interdictions {sm.false_interdictions}"
    )
    rq = sm.requests
    if rq.sent:
        unanswered = f": {', '.join(rq.unanswered)}" if rq.unanswered else ""
        out.print(
            f"requests sent {rq.sent} · answered {rq.answered} · declined {len(rq.declined)}"
            f" · unanswered {len(rq.unanswered)}{unanswered}",
            soft_wrap=True,
        )
    if sm.disputed_included:
        out.print(
            f"disputed injects included: {', '.join(sm.disputed_included)} (drop them with --exclude-disputed)"
        )
    out.print(f"digest {result.digest}")
