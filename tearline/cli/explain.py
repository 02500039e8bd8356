"""``tearline explain``: why each agency did or did not get a lead."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tearline.report import RunDirError, explain_lead, render
from tearline.report import as_json as explanation_json

from ._common import fail, out


def explain(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by: tearline run ... --out DIR")],
    lead: Annotated[
        str, typer.Argument(help="A lead id: an inject id, AGENCY-aN (assessment) or AGENCY-nN (noise).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the chain as JSON.")] = False,
) -> None:
    """Why each agency did or did not get a lead: rule, reason, each composed member's verdict, consent, delivery.

    Example:  tearline run connect-the-dots -p tearline:then=bilateral -o runs/ctd && tearline explain runs/ctd what
    """
    try:
        x = explain_lead(run_dir, lead)
    except RunDirError as exc:
        fail(str(exc), hint=exc.hint)
    if as_json:
        out.print_json(json.dumps(explanation_json(x)))
    else:
        out.print(render(x), markup=False, soft_wrap=True)
