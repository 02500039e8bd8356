"""What every command shares: consoles, exit codes, clear errors, scenario and run options."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from tearline.model import (
    PolicyError,
    RunConfig,
    Scenario,
    ScenarioError,
    TearlineError,
    load_scenario,
    resolve_scenario,
)
from tearline.policies import read_policy

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_RUNTIME = 0, 1, 2, 3


def fail(message: str, code: int = EXIT_BAD_INPUT, hint: str | None = None) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    if hint:
        err.print(f"[dim]{hint}[/]", soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn Tearline's own errors into one clear message and an exit code, never a traceback."""
    try:
        yield
    except ScenarioError as exc:
        fail(str(exc), hint="Fix the field named above; docs/scenarios.md describes every field.")
    except PolicyError as exc:
        fail(str(exc), hint="See: tearline policies list")
    except TearlineError as exc:
        fail(str(exc), code=EXIT_RUNTIME)


def load(name: str) -> Scenario:
    return load_scenario(resolve_scenario(name))


def run_config(
    scenario: Scenario,
    policy: str,
    seed: int,
    exclude_disputed: bool,
    enable: list[str] | None,
    noise_scale: float,
) -> RunConfig:
    policy_data: dict[str, Any] | None = None
    path = Path(policy)
    if path.suffix in {".yaml", ".yml"}:
        policy_data, _ = read_policy(path)  # every problem as file:line: field: problem
    return RunConfig(
        scenario=scenario,
        policy=policy,
        policy_data=policy_data,
        seed=seed,
        exclude_disputed=exclude_disputed,
        enable=tuple(enable or ()),
        noise_scale=noise_scale,
    )


Policy = Annotated[
    str,
    typer.Option("--policy", "-p", help="A policy name (see: tearline policies list) or a policy YAML file."),
]
Seed = Annotated[int, typer.Option("--seed", "-s", help="Seed for noise and chance; same seed, same record.")]
ExcludeDisputed = Annotated[
    bool, typer.Option("--exclude-disputed", help="Leave out injects whose facts are disputed on the record.")
]
Enable = Annotated[
    list[str] | None,
    typer.Option("--enable", help="Switch on a counterfactual agency (e.g. NIA). Repeatable."),
]
NoiseScale = Annotated[
    float,
    typer.Option("--noise-scale", min=0.0, help="Multiply the scenario's background noise (1 = as written)."),
]


NamespaceOption = typer.Option(
    "--namespace",
    help="Topic prefix: <ns>.<agency>.inbox, <ns>.audit, <ns>.clock... The driver and its services must agree "
    "(default for services and --remote: tearline).",
)
WaitOption = typer.Option(
    "--wait", min=0.0, help="Seconds to wait for services to join, and for each to report on each window."
)
ServiceWaitOption = typer.Option(
    "--wait",
    min=0.0,
    help="Give up if no run is announced within this many seconds (default: wait for ever).",
)
Bootstrap = Annotated[
    str | None, typer.Option(help="Kafka bootstrap servers, HOST:PORT (default: $TEARLINE_KAFKA_BOOTSTRAP).")
]


def bootstrap_address(bootstrap: str | None) -> str:
    from tearline.broker import KafkaSetupError, resolve_bootstrap

    try:
        return resolve_bootstrap(bootstrap)
    except KafkaSetupError as exc:
        fail(str(exc), hint="scripts/kafka start   # a local broker without Docker: prints BOOTSTRAP=...")
