"""``tearline export`` and ``tearline import``: STIX 2.1, MISP, MSEL spreadsheets and JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml

from tearline.model import Event, Scenario, ScenarioError
from tearline.report import RunDirError

from ._common import EXIT_FAILED, Command, Group, clear_errors, err, fail, load, out

export_app = typer.Typer(
    help="Write a scenario or a run in the field's formats: STIX 2.1, MISP, MSEL, JSON Schema.",
    no_args_is_help=True,
    cls=Group,
)
import_app = typer.Typer(
    help="Read MISP events and MSEL spreadsheets into Tearline's formats.", no_args_is_help=True, cls=Group
)

Source = Annotated[
    str,
    typer.Argument(
        help="A run directory (written by: tearline run ... --out DIR), or a scenario name or file."
    ),
]
OutFile = Annotated[Path | None, typer.Option("--out", "-o", help="Write here (default: standard output).")]


def _source(source: str, scenario: str | None) -> tuple[Scenario, list[Event] | None, str]:
    """A scenario, and for a run directory its record and run id."""
    from tearline.exchange import load_source

    try:
        loaded = load_source(source, scenario)
    except RunDirError as exc:
        fail(str(exc), hint=exc.hint)
    return loaded.scenario, loaded.events, loaded.run_id


def _emit(text: str, to: Path | None) -> None:
    if to is None:
        out.file.write(text)
    else:
        to.parent.mkdir(parents=True, exist_ok=True)
        to.write_text(text, encoding="utf-8")
        err.print(f"wrote {to}")


@export_app.command("stix", cls=Command)
def export_stix(
    source: Source,
    out_file: OutFile = None,
    scenario: Annotated[str | None, typer.Option(help="For a run directory without summary.json.")] = None,
    validate: Annotated[
        bool,
        typer.Option(
            "--validate", help="Check the bundle with the OASIS STIX 2.1 validator; exit 1 if invalid."
        ),
    ] = False,
) -> None:
    """A STIX 2.1 bundle of a scenario or a run: agencies, leads, plots, TLP 2.0 and handling markings.

    For a run it adds releases (relationships), deliveries (sightings) and assessments.

    Example:  tearline export stix mumbai-2008 -o mumbai.stix.json --validate
    """
    from tearline.exchange import stix_bundle, validate_stix

    with clear_errors():
        s, events, run_id = _source(source, scenario)
        bundle = stix_bundle(s, events, run_id)
    _emit(json.dumps(bundle, indent=2, sort_keys=True, ensure_ascii=False) + "\n", out_file)
    if validate:
        problems = validate_stix(bundle)
        for p in problems:
            err.print(f"[red]✗[/] {p}", soft_wrap=True)
        if problems:
            raise typer.Exit(EXIT_FAILED)
        err.print(f"[green]✓[/] valid STIX 2.1: {len(bundle['objects'])} objects")


@export_app.command("misp", cls=Command)
def export_misp(
    source: Source,
    out_file: OutFile = None,
    policy: Annotated[
        str,
        typer.Option(
            "--policy",
            "-p",
            help="The misp-distribution settings for distribution levels and sharing groups.",
        ),
    ] = "misp-distribution",
    scenario: Annotated[str | None, typer.Option(help="For a run directory without summary.json.")] = None,
) -> None:
    """MISP events of a scenario or a run: one per lead, TLP and Admiralty tags, distribution from the policy.

    Writes a JSON list of {"Event": ...}; for a run, deliveries are sightings.

    Example:  tearline export misp connect-the-dots -p misp-distribution:level=community -o ctd.misp.json
    """
    from tearline.exchange import misp_events, misp_json

    with clear_errors():
        s, events, _ = _source(source, scenario)
        text = misp_json(misp_events(s, policy, events))
    _emit(text, out_file)


@export_app.command("msel", cls=Command)
def export_msel(
    scenario: Annotated[str, typer.Argument(help="A scenario name or YAML file.")],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="A .csv or .xlsx file (default: CSV on standard output)."),
    ] = None,
) -> None:
    """The master scenario events list as CSV or XLSX (time, injector, recipient, message, expected action, source...).

    Example:  tearline export msel mumbai-2008 -o mumbai-msel.xlsx
    """
    from tearline.exchange import msel_csv, write_msel_xlsx

    with clear_errors():
        s = load(scenario)
    if out_file is not None and out_file.suffix.lower() == ".xlsx":
        out_file.parent.mkdir(parents=True, exist_ok=True)
        write_msel_xlsx(s, out_file)
        err.print(f"wrote {out_file}")
    elif out_file is None or out_file.suffix.lower() == ".csv":
        _emit(msel_csv(s), out_file)
    else:
        fail(
            f"cannot write an MSEL as {out_file.suffix or 'a file without a suffix'}",
            hint="Use .csv or .xlsx.",
        )


@export_app.command("schema", cls=Command)
def export_schema(
    name: Annotated[
        str, typer.Argument(help="scenario, policy or record-event (printed on standard output).")
    ] = "scenario",
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write every schema into this folder instead.")
    ] = None,
) -> None:
    """JSON Schemas generated from the models: scenario files, policy files, run record events.

    Example:  tearline export schema --out docs/schemas
    """
    from tearline.exchange import SCHEMA_NAMES, schema_text, write_schemas

    if out_dir is not None:
        for path in write_schemas(out_dir):
            err.print(f"wrote {path}")
        return
    if name not in SCHEMA_NAMES:
        fail(f"no schema {name!r}", hint=f"Known: {', '.join(SCHEMA_NAMES)}")
    out.file.write(schema_text(name))


@import_app.command("misp", cls=Command)
def import_misp(
    file: Annotated[
        Path, typer.Argument(help="A MISP event JSON export (one event, a list, or a search response).")
    ],
    out_file: OutFile = None,
    skip_unmapped: Annotated[
        bool,
        typer.Option(
            "--skip-unmapped", help="Leave out attributes and objects with no Tearline meaning (listed)."
        ),
    ] = False,
) -> None:
    """MISP events as scenario injects (YAML, the format of a scenario's injects: and of exercise's inject).

    Example:  tearline import misp event.json -o injects.yaml
    """
    from tearline.exchange import NOT_MAPPED, injects_from_misp, injects_yaml

    try:
        result = injects_from_misp(file, skip_unmapped=skip_unmapped)
    except ScenarioError as exc:
        fail(str(exc), hint="docs/formats.md states what maps to what.")
    for p in result.skipped:
        err.print(f"[yellow]skipped[/] {p.render(str(file))}", soft_wrap=True)
    _emit(
        yaml.safe_dump(injects_yaml(result.injects), sort_keys=False, allow_unicode=True, width=110), out_file
    )
    err.print(
        f"{len(result.injects)} inject(s); MISP carries no {', '.join(NOT_MAPPED)}: add them by hand if needed"
    )


@import_app.command("msel", cls=Command)
def import_msel(
    file: Annotated[
        Path, typer.Argument(help="An MSEL sheet: .csv, or .xlsx (with Agencies and Plots sheets if any).")
    ],
    out_file: OutFile = None,
    scenario_id: Annotated[str | None, typer.Option("--id", help="The new scenario's id.")] = None,
) -> None:
    """A scenario skeleton from an MSEL spreadsheet; check it with: tearline scenarios validate FILE.

    Example:  tearline import msel exercise.xlsx -o scenarios/exercise.yaml && tearline scenarios validate scenarios/exercise.yaml
    """
    from tearline.exchange import skeleton_from_msel, skeleton_yaml

    try:
        skeleton = skeleton_from_msel(file, scenario_id)
    except ScenarioError as exc:
        fail(str(exc), hint="docs/formats.md states what maps to what.")
    schema = None
    if out_file is not None:
        docs = next(
            (p / "docs" / "schemas" for p in out_file.resolve().parents if (p / "docs" / "schemas").is_dir()),
            None,
        )
        if docs is not None:
            import os

            schema = os.path.relpath(docs / "scenario.schema.json", out_file.resolve().parent)
    _emit(skeleton_yaml(skeleton, schema), out_file)
    if out_file is not None:
        err.print(f"next: tearline scenarios validate {out_file}")
