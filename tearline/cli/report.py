"""``tearline report``: the after-action report of a run, or the research view of a batch, as HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from tearline.report import RunDirError, Summary, read_record, research_report, run_report, write_html
from tearline.research import analyse, read_batch

from ._common import clear_errors, fail, load, out


def report(
    directory: Annotated[
        Path, typer.Argument(help="A run directory (tearline run --out), or a compare, links or sweep one.")
    ],
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="The HTML file (default: DIR/report.html).")
    ] = None,
    links: Annotated[
        Path | None, typer.Option(help="A tearline links output directory for this scenario and policy.")
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            help="The run's scenario, when its name no longer resolves (default: from summary.json)."
        ),
    ] = None,
) -> None:
    """One self-contained HTML page: a lane per agency, the sharing graph, outcomes, critical links,
    HSEEP strengths and areas for improvement — or, for a batch, its rates with intervals and plots."""
    target = out_file or directory / "report.html"
    with clear_errors():
        if (directory / "batch.json").is_file():
            meta, rows = read_batch(directory)
            write_html(research_report(meta, analyse(meta["kind"], rows), directory), target)
            out.print(f"wrote {target} (the research view of a {meta['kind']} batch)")
            return
        try:
            events = read_record(directory)
            summary = Summary.model_validate_json((directory / "summary.json").read_text())
        except RunDirError as exc:
            fail(str(exc), hint=exc.hint)
        except (OSError, ValidationError) as exc:
            fail(
                f"{directory}/summary.json cannot be read: {exc}",
                hint="Write one with: tearline run SCENARIO --out DIR",
            )
        s = load(scenario or summary.scenario)
        link_rows = []
        if links is not None:
            meta, rows = read_batch(links)
            if meta.get("kind") != "links":
                fail(f"{links} is a {meta.get('kind')} batch, not the output of tearline links")
            link_rows = analyse("links", rows)["links"]
        write_html(run_report(s, summary, events, link_rows), target)
    out.print(f"wrote {target}")
