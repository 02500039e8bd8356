"""What every command shares: consoles, exit codes, clear errors, scenario and run options."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console, ConsoleDimensions
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from tearline.model import (
    NOISE_SCALE_MAX,
    PolicyError,
    RunConfig,
    Scenario,
    ScenarioError,
    TearlineError,
    load_scenario,
    resolve_scenario,
)
from tearline.policies import read_policy

if TYPE_CHECKING:
    from tearline.broker import KafkaCredentials, Keystore

_UNBOUNDED = 100_000
"""Columns a console has when it is not a terminal: enough that no line is wrapped or cut."""


class _Console(Console):
    """A terminal's width on a terminal; elsewhere (CI logs, pipes, files) lines are never wrapped or cut.

    Rich otherwise takes the width of whichever standard stream is a terminal, or $COLUMNS, or 80.
    """

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        return size if self.is_terminal else ConsoleDimensions(_UNBOUNDED, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


out = _Console(highlight=False)
err = _Console(stderr=True, highlight=False)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_RUNTIME = 0, 1, 2, 3


class _HelpArgument(TyperArgument):
    """An argument in help: its name says what it takes (no ``<str>`` beside it)."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


class _HelpOption(TyperOption):
    """An option in help: nothing beside a flag, its metavar (or its name, upper case) beside a value."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag:
            return None
        return self.metavar or (self.name or "value").upper()


def _plain_help(params: list[Any]) -> None:
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = _HelpArgument
        elif type(param) is TyperOption:
            param.__class__ = _HelpOption


class Command(TyperCommand):
    """A command whose help names each value (``--seed SEED``) instead of showing types (``<int>``)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _plain_help(self.get_params(ctx))
        super().format_help(ctx, formatter)


class Group(TyperGroup):
    """A command group with the same help as :class:`Command`."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _plain_help(self.get_params(ctx))
        super().format_help(ctx, formatter)


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


def load(name: str, seeds: Path | None = None) -> Scenario:
    """A scenario by name or file; its citations resolve against ``seeds`` (default: as load_scenario says)."""
    return load_scenario(resolve_scenario(name), seeds)


def check_enable(scenario: Scenario, enable: list[str] | None) -> None:
    """Exit 2 naming any ``--enable`` id that is not an agency of the scenario."""
    known = [a.id for a in scenario.agencies]
    unknown = [a for a in enable or () if a not in known]
    if unknown:
        counterfactual = [a.id for a in scenario.agencies if a.counterfactual]
        fail(
            f"--enable: {', '.join(map(repr, unknown))} is not an agency of {scenario.id} "
            f"(its agencies: {', '.join(known)})",
            hint=f"Counterfactual agencies to enable: {', '.join(counterfactual) or 'none in this scenario'}",
        )


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
    typer.Option(
        "--enable", metavar="AGENCY", help="Switch on a counterfactual agency (e.g. NIA). Repeatable."
    ),
]
NoiseScale = Annotated[
    float,
    typer.Option(
        "--noise-scale",
        min=0.0,
        max=NOISE_SCALE_MAX,
        help="Multiply the scenario's background noise (1 = as written).",
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print only outcomes and the digest.")]
Seeds = Annotated[
    Path | None,
    typer.Option(
        "--seeds",
        metavar="DIR",
        help="Resolve citations against this seeds folder (default: the nearest seeds/ above the "
        "scenario file, else the seeds installed with Tearline).",
    ),
]


NamespaceOption = typer.Option(
    "--namespace",
    help="Topic prefix: <ns>.<agency>.inbox, <ns>.audit.<service>, <ns>.clock... The driver and its services must agree "
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


Keys = Annotated[
    Path | None,
    typer.Option(
        "--keys",
        envvar="TEARLINE_KEYS",
        help="Keystore directory (tearline keys init): the key registry and this seat's private keys.",
    ),
]


def load_keys(directory: Path | None, holding: tuple[str, ...] | None, why: str) -> Keystore:
    """The keystore at ``directory`` with the private keys of ``holding`` (None: all it has), or exit 2."""
    from tearline.broker import Keystore, KeystoreError

    if directory is None:
        fail(
            f"{why} needs a keystore: --keys DIR or TEARLINE_KEYS",
            hint="Create one per exercise: tearline keys init DIR --scenario SCENARIO; give each seat "
            "DIR/registry.json and its own DIR/<PRINCIPAL>/.",
        )
    try:
        return Keystore.load(directory, holding=holding)
    except KeystoreError as exc:
        fail(str(exc), hint=exc.hint)


def bootstrap_address(bootstrap: str | None) -> str:
    from tearline.broker import KafkaSetupError, resolve_bootstrap

    try:
        return resolve_bootstrap(bootstrap)
    except KafkaSetupError as exc:
        fail(str(exc), hint="scripts/kafka start   # a local broker without Docker: prints BOOTSTRAP=...")


SaslUser = Annotated[
    str | None,
    typer.Option(
        "--sasl-user",
        metavar="USER",
        help="Kafka principal to authenticate as with SASL/SCRAM-SHA-512 (default: $TEARLINE_KAFKA_USERNAME).",
    ),
]
SaslPasswordFile = Annotated[
    Path | None,
    typer.Option(
        "--sasl-password-file",
        metavar="FILE",
        help="File holding that principal's password (default: $TEARLINE_KAFKA_PASSWORD_FILE or $TEARLINE_KAFKA_PASSWORD).",
    ),
]
CaFile = Annotated[
    Path | None,
    typer.Option(
        "--ca-file",
        metavar="FILE",
        help="CA certificate (PEM) to trust for TLS to the brokers (default: $TEARLINE_KAFKA_CA_FILE).",
    ),
]


def kafka_credentials(user: str | None, password_file: Path | None, ca_file: Path | None) -> KafkaCredentials:
    """The client's credentials from the options or the environment; a clear usage error if unusable."""
    from tearline.broker import CredentialsError, KafkaCredentials

    try:
        credentials = KafkaCredentials.resolve(user, password_file, ca_file)
        credentials.client_settings()  # fails now, not mid-run, on a missing password or a bad CA file
    except CredentialsError as exc:
        fail(str(exc), hint="docs/kafka.md#a-secured-cluster explains the credentials options.")
    return credentials
