"""MSEL: a scenario's master scenario events list as a spreadsheet (CSV or XLSX), and back.

Columns of the events sheet (one row per inject, in time order):
``id``, ``time`` (ISO 8601 in the scenario's time zone), ``injector`` (the kind of source that
delivers it: HUMINT, SIGINT...), ``recipient`` (the agency that observes it), ``message`` (what it
learns), ``expected action`` (what exercise control expects), ``source`` (the seeds/ fact ids it
cites), then ``tlp``, ``classification``, ``grading``, ``identifiers`` (``kind:value [CC] | ...``),
``indicators`` (kinds), ``named recipients`` and ``historical releases`` (``AGENCY after 1d | ...``).

An XLSX workbook also has ``Scenario``, ``Agencies`` and ``Plots`` sheets, so that importing it
gives a complete scenario; a CSV holds the events only, and its skeleton leaves the agencies'
countries and kinds and the plots for the author (``tearline scenarios validate`` names each).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from tearline.model import (
    Identifier,
    Inject,
    Problem,
    Scenario,
    ScenarioError,
    parse_duration,
    parse_time,
)

EVENT_COLUMNS: tuple[str, ...] = (
    "id", "time", "injector", "recipient", "message", "expected action", "source", "tlp",
    "classification", "grading", "identifiers", "indicators", "named recipients", "historical releases",
)  # fmt: skip
AGENCY_COLUMNS: tuple[str, ...] = ("id", "name", "country", "kind", "jurisdiction", "counterfactual")
PLOT_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "attack at",
    "place",
    "jurisdiction",
    "needs",
    "entities",
    "source",
)
_REQUIRED = ("time", "recipient", "message")
_IDENT = re.compile(r"^(?P<kind>[a-z]+):(?P<value>.+?)(?: \[(?P<where>[A-Z]{2})\])?$")
_RELEASE = re.compile(r"^(?P<to>[A-Z][A-Z0-9-]*)(?: after (?P<after>\S+))?$")


def _local_iso(t: int, offset: str) -> str:
    from datetime import UTC, datetime, timedelta

    sign = 1 if offset[0] == "+" else -1
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    shifted = datetime.fromtimestamp(t, UTC) + sign * timedelta(hours=hours, minutes=minutes)
    return f"{shifted:%Y-%m-%dT%H:%M}{offset}"


def _iso_duration(seconds: int) -> str:
    """``P13DT3H``: exact, and read back by the scenario loader."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "") if seconds else "PT0S"


def _identifiers(idents: Iterable[Identifier]) -> str:
    return " | ".join(f"{i.key}" + (f" [{i.where}]" if i.where else "") for i in idents)


def _expected_action(scenario: Scenario, inject: Inject) -> str:
    entities = {e.key: p.id for p in scenario.plots for e in p.entities}
    plots = sorted({entities[i.key] for i in inject.lead.identifiers if i.key in entities})
    text = f"{inject.observer} assesses it and publishes a lead to partners"
    if plots:
        text += f"; it bears on plot {', '.join(plots)}: partners should link it into a case"
    else:
        text += "; no plot entity: background or context"
    return text


def msel_rows(scenario: Scenario) -> list[dict[str, str]]:
    """The master events list, one row per inject in time order (the events sheet)."""
    tz = scenario.timezone
    rows = []
    for i in sorted(scenario.injects, key=lambda x: (x.at, x.id)):
        lead = i.lead
        rows.append(
            {
                "id": i.id,
                "time": _local_iso(i.at, tz),
                "injector": lead.source.type,
                "recipient": i.observer,
                "message": i.what,
                "expected action": _expected_action(scenario, i),
                "source": ", ".join(i.cites),
                "tlp": lead.tlp,
                "classification": lead.marking.level,
                "grading": lead.grading.code,
                "identifiers": _identifiers(lead.identifiers),
                "indicators": ", ".join(x.kind for x in lead.indicators),
                "named recipients": ", ".join(lead.named_recipients),
                "historical releases": " | ".join(
                    h.to + (f" after {_iso_duration(h.after)}" if h.after else "") for h in i.as_happened
                ),
            }
        )
    return rows


def msel_csv(scenario: Scenario) -> str:
    """The events sheet as CSV (RFC 4180, header row first)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=EVENT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(msel_rows(scenario))
    return buf.getvalue()


def write_msel_xlsx(scenario: Scenario, path: Path) -> None:
    """The MSEL as an XLSX workbook: MSEL, Scenario, Agencies and Plots sheets."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    events = wb.active
    assert events is not None
    events.title = "MSEL"
    tz = scenario.timezone

    def sheet(ws: Any, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        ws.append(list(columns))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(list(row))
        ws.freeze_panes = "A2"

    sheet(events, EVENT_COLUMNS, ([r[c] for c in EVENT_COLUMNS] for r in msel_rows(scenario)))
    sheet(
        wb.create_sheet("Scenario"),
        ("field", "value"),
        [
            ("id", scenario.id), ("title", scenario.title), ("description", scenario.description),
            ("fictional", scenario.fictional or ""),
            ("start", _local_iso(scenario.start, tz)), ("timezone", tz),
            ("transit", _iso_duration(scenario.transit)),
        ],
    )  # fmt: skip
    sheet(
        wb.create_sheet("Agencies"),
        AGENCY_COLUMNS,
        (
            (a.id, a.name, a.country, a.kind, ", ".join(a.jurisdiction), "yes" if a.counterfactual else "")
            for a in scenario.agencies
        ),
    )
    sheet(
        wb.create_sheet("Plots"),
        PLOT_COLUMNS,
        (
            (p.id, p.name, _local_iso(p.attack_at, tz), p.place, ", ".join(p.jurisdiction), "+".join(p.needs),
             _identifiers(p.entities), ", ".join(p.cites))
            for p in scenario.plots
        ),
    )  # fmt: skip
    wb.save(path)


# -- import -----------------------------------------------------------------------------------------
Sheet = list[tuple[int, dict[str, str]]]
"""Rows of one sheet: (line or row number, {column: text})."""


def _split(text: str, sep: str = ",") -> list[str]:
    return [p.strip() for p in text.split(sep) if p.strip()]


def _read_csv(path: Path) -> dict[str, Sheet]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        rows = [
            (reader.line_num, {k.strip().lower(): (v or "").strip() for k, v in r.items() if k})
            for r in reader
        ]
    return {"MSEL": rows}


def _read_xlsx(path: Path) -> dict[str, Sheet]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise ScenarioError(str(path), [Problem("(file)", f"not an XLSX workbook: {exc}")]) from None
    out: dict[str, Sheet] = {}
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        if not rows:
            continue
        header = [str(h).strip().lower() if h is not None else "" for h in rows[0]]
        out[ws.title] = [
            (n, {h: ("" if v is None else str(v)).strip() for h, v in zip(header, row, strict=False) if h})
            for n, row in enumerate(rows[1:], start=2)
        ]
    wb.close()
    return out


def _identifier_list(text: str) -> list[dict[str, str]]:
    out = []
    for part in _split(text, "|"):
        m = _IDENT.match(part)
        if not m:
            raise ValueError(f"{part!r} is not kind:value or kind:value [CC]")
        ident = {"kind": m["kind"], "value": m["value"]}
        if m["where"]:
            ident["where"] = m["where"]
        out.append(ident)
    return out


def skeleton_from_msel(path: Path, scenario_id: str | None = None) -> dict[str, Any]:
    """A scenario skeleton (YAML-ready data) from an MSEL sheet (``.csv`` or ``.xlsx``).

    Cells that cannot be read raise a ScenarioError naming the sheet, row and column; what the sheet
    does not say (a CSV's agencies' countries, the plots) is left out for ``scenarios validate`` to name.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(str(path), [Problem("(file)", "no such MSEL file")])
    if path.suffix.lower() == ".csv":
        sheets = _read_csv(path)
    elif path.suffix.lower() in {".xlsx", ".xlsm"}:
        sheets = _read_xlsx(path)
    else:
        raise ScenarioError(str(path), [Problem("(file)", "an MSEL is a .csv or .xlsx file")])
    events = sheets.get("MSEL") or next(iter(sheets.values()), [])
    problems: list[Problem] = []

    def bad(sheet: str, line: int, column: str, reason: str) -> None:
        problems.append(Problem(f"{sheet} row {line}, column '{column}'", reason, line))

    header = set(events[0][1]) if events else set()
    missing = [c for c in _REQUIRED if c not in header]
    if not events or missing:
        raise ScenarioError(
            str(path),
            [
                Problem(
                    "MSEL header",
                    f"missing column(s): {', '.join(missing or _REQUIRED)} (expected: {', '.join(EVENT_COLUMNS)})",
                    1,
                )
            ],
        )
    meta = {r.get("field", ""): r.get("value", "") for _, r in sheets.get("Scenario", [])}
    injects: list[dict[str, Any]] = []
    offsets: list[str] = []
    for line, r in events:
        if not any(r.values()):
            continue
        inject: dict[str, Any] = {}
        for column in _REQUIRED:
            if not r.get(column):
                bad("MSEL", line, column, "empty; every event needs a time, a recipient and a message")
        try:
            parse_time(r.get("time", ""))
            offsets.append(r["time"][-6:])
        except (ValueError, KeyError) as exc:
            if r.get("time"):
                bad("MSEL", line, "time", str(exc))
        inject["id"] = r.get("id") or f"msel-{line}"
        inject["at"] = r.get("time", "")
        inject["observer"] = r.get("recipient", "")
        inject["what"] = r.get("message", "")
        lead: dict[str, Any] = {}
        if r.get("injector"):
            lead["source"] = {"type": r["injector"]}
        for column, key in (("tlp", "tlp"), ("grading", "grading")):
            if r.get(column):
                lead[key] = r[column]
        if r.get("classification"):
            lead["marking"] = {"level": r["classification"]}
        try:
            if r.get("identifiers"):
                lead["identifiers"] = _identifier_list(r["identifiers"])
        except ValueError as exc:
            bad("MSEL", line, "identifiers", str(exc))
        if r.get("indicators"):
            lead["indicators"] = [{"kind": k} for k in _split(r["indicators"])]
        if r.get("named recipients"):
            lead["named_recipients"] = _split(r["named recipients"])
        inject["lead"] = lead
        inject["cites"] = _split(r.get("source", ""))
        releases = []
        for part in _split(r.get("historical releases", ""), "|"):
            m = _RELEASE.match(part)
            if not m:
                bad("MSEL", line, "historical releases", f"{part!r} is not AGENCY or AGENCY after 1d")
                continue
            release: dict[str, Any] = {"to": m["to"]}
            if m["after"]:
                try:
                    release["after"] = f"{parse_duration(m['after'])}s"
                except ValueError as exc:
                    bad("MSEL", line, "historical releases", str(exc))
            releases.append(release)
        if releases:
            inject["as_happened"] = releases
        injects.append(inject)
    agencies: list[dict[str, Any]] = []
    for _line, r in sheets.get("Agencies", []):
        if not r.get("id"):
            continue
        agency: dict[str, Any] = {k: r[k] for k in ("id", "name", "country", "kind") if r.get(k)}
        if r.get("jurisdiction"):
            agency["jurisdiction"] = _split(r["jurisdiction"])
        if r.get("counterfactual", "").lower() in {"yes", "true", "1"}:
            agency["counterfactual"] = True
        agencies.append(agency)
    if not agencies:  # a bare events sheet: the agencies it names, the rest for the author
        named = sorted({i["observer"] for i in injects if i["observer"]})
        agencies = [{"id": a, "name": a} for a in named]
    plots: list[dict[str, Any]] = []
    for line, r in sheets.get("Plots", []):
        if not r.get("id"):
            continue
        plot: dict[str, Any] = {
            "id": r["id"], "name": r.get("name", ""), "attack_at": r.get("attack at", ""),
            "place": r.get("place", ""), "jurisdiction": _split(r.get("jurisdiction", "")),
            "needs": _split(r.get("needs", ""), "+"), "cites": _split(r.get("source", "")),
        }  # fmt: skip
        try:
            plot["entities"] = _identifier_list(r.get("entities", ""))
        except ValueError as exc:
            bad("Plots", line, "entities", str(exc))
        plots.append(plot)
    if problems:
        raise ScenarioError(str(path), problems)
    times = sorted(parse_time(i["at"]) for i in injects)
    timezone = meta.get("timezone") or (
        offsets[0] if offsets and re.fullmatch(r"[+-]\d{2}:\d{2}", offsets[0]) else "+00:00"
    )
    stem = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "imported"
    out: dict[str, Any] = {
        "id": scenario_id or meta.get("id") or stem,
        "title": meta.get("title") or f"Imported from {path.name}",
        "description": meta.get("description") or f"Scenario skeleton imported from the MSEL {path.name}.",
        "start": meta.get("start") or (_local_iso(times[0] - 86400, timezone) if times else ""),
        "timezone": timezone,
    }
    if meta.get("fictional"):
        out["fictional"] = meta["fictional"]
    if meta.get("transit"):
        out["transit"] = meta["transit"]
    out |= {"agencies": agencies, "plots": plots, "injects": injects}
    return out


def skeleton_yaml(skeleton: dict[str, Any], schema: str | None = None) -> str:
    """The skeleton as a scenario file, naming its JSON Schema for editors when ``schema`` is given."""
    head = f"# yaml-language-server: $schema={schema}\n" if schema else ""
    head += "# Imported from an MSEL. Check it with: tearline scenarios validate FILE\n"
    return head + yaml.safe_dump(skeleton, sort_keys=False, allow_unicode=True, width=110)
