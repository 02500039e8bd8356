"""MSEL spreadsheets: a scenario's events out as CSV and XLSX, and a sheet back in as a scenario skeleton."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from tearline import Scenario, ScenarioError, load_scenario
from tearline.exchange import EVENT_COLUMNS, msel_csv, skeleton_from_msel, skeleton_yaml, write_msel_xlsx

from ..conftest import ROOT


def essentials(s: Scenario) -> dict[str, tuple[object, ...]]:
    """What an MSEL must keep of each inject: time, agencies and text (and its sources)."""
    return {
        i.id: (
            i.at,
            i.observer,
            i.what,
            i.cites,
            i.lead.named_recipients,
            tuple((h.to, h.after) for h in i.as_happened),
        )
        for i in s.injects
    }


def skeleton_file(tmp_path: Path, sheet: Path) -> Path:
    (tmp_path / "seeds").symlink_to(ROOT / "seeds")
    path = tmp_path / "imported.yaml"
    path.write_text(skeleton_yaml(skeleton_from_msel(sheet), "../docs/schemas/scenario.schema.json"))
    return path


class TestExport:
    def test_csv_has_the_msel_columns_in_time_order(self, teaching: Scenario) -> None:
        """One row per inject, in time order, under the MSEL header (time, injector, recipient, message...)."""
        rows = list(csv.DictReader(io.StringIO(msel_csv(teaching))))
        assert tuple(rows[0]) == EVENT_COLUMNS
        assert [r["id"] for r in rows] == [i.id for i in sorted(teaching.injects, key=lambda i: i.at)]
        assert {"time", "injector", "recipient", "message", "expected action", "source"} <= set(EVENT_COLUMNS)

    def test_times_are_in_the_scenarios_time_zone(self, historical: dict[str, Scenario]) -> None:
        """Mumbai's sheet shows IST, with the offset written so the time is exact."""
        rows = list(csv.DictReader(io.StringIO(msel_csv(historical["mumbai-2008"]))))
        assert all(r["time"].endswith("+05:30") for r in rows)

    def test_xlsx_has_events_agencies_and_plots(
        self, historical: dict[str, Scenario], tmp_path: Path
    ) -> None:
        """The workbook holds the MSEL sheet and the Scenario, Agencies and Plots sheets."""
        path = tmp_path / "mumbai.xlsx"
        write_msel_xlsx(historical["mumbai-2008"], path)
        wb = load_workbook(path, read_only=True)
        assert wb.sheetnames == ["MSEL", "Scenario", "Agencies", "Plots"]
        assert wb["MSEL"].max_row == len(historical["mumbai-2008"].injects) + 1


class TestRoundTrip:
    @pytest.mark.parametrize("name", ["mumbai-2008", "paris-2015"])
    def test_xlsx_to_skeleton_keeps_every_inject(
        self, historical: dict[str, Scenario], tmp_path: Path, name: str
    ) -> None:
        """scenario → MSEL XLSX → skeleton: a valid scenario keeping each inject's time, agencies and text."""
        s = historical[name]
        write_msel_xlsx(s, tmp_path / "msel.xlsx")
        back = load_scenario(skeleton_file(tmp_path, tmp_path / "msel.xlsx"))
        assert essentials(back) == essentials(s)
        assert [(a.id, a.country, a.kind) for a in back.agencies] == [
            (a.id, a.country, a.kind) for a in s.agencies
        ]
        assert [(p.id, p.attack_at, p.entities) for p in back.plots] == [
            (p.id, p.attack_at, p.entities) for p in s.plots
        ]

    def test_csv_skeleton_names_what_the_author_must_add(self, teaching: Scenario, tmp_path: Path) -> None:
        """A bare CSV gives a skeleton whose validation names the missing countries, kinds and plots, with lines."""
        (tmp_path / "msel.csv").write_text(msel_csv(teaching))
        path = skeleton_file(tmp_path, tmp_path / "msel.csv")
        with pytest.raises(ScenarioError) as exc:
            load_scenario(path)
        fields = {p.field for p in exc.value.problems}
        assert {"agencies[0].country", "agencies[0].kind", "plots"} <= fields
        assert all(p.line for p in exc.value.problems)

    def test_a_fictional_scenario_stays_fictional(self, teaching: Scenario, tmp_path: Path) -> None:
        """The teaching scenario's 'fictional' note travels in the Scenario sheet, so its skeleton needs no citations."""
        assert teaching.fictional
        write_msel_xlsx(teaching, tmp_path / "msel.xlsx")
        back = load_scenario(skeleton_file(tmp_path, tmp_path / "msel.xlsx"))
        assert back.fictional == teaching.fictional
        assert essentials(back) == essentials(teaching)


class TestImportErrors:
    def test_a_bad_time_names_sheet_row_and_column(self, tmp_path: Path) -> None:
        """A time without an offset is an error naming the row and the column."""
        path = tmp_path / "msel.csv"
        path.write_text("time,recipient,message,source\n2008-11-19 12:00,IB,a vessel sails,x\n")
        with pytest.raises(ScenarioError) as exc:
            skeleton_from_msel(path)
        (problem,) = exc.value.problems
        assert problem.field == "MSEL row 2, column 'time'"
        assert "no UTC offset" in problem.reason
        assert problem.line == 2

    def test_missing_columns_are_named(self, tmp_path: Path) -> None:
        """A sheet without a recipient column says which columns it needs."""
        path = tmp_path / "msel.csv"
        path.write_text("time,message\n2008-11-19T12:00+05:30,a vessel sails\n")
        with pytest.raises(ScenarioError, match=r"missing column.*recipient"):
            skeleton_from_msel(path)

    def test_not_a_workbook(self, tmp_path: Path) -> None:
        """A file named .xlsx that is not a workbook is a clear error."""
        path = tmp_path / "msel.xlsx"
        path.write_text("not a zip")
        with pytest.raises(ScenarioError, match="not an XLSX workbook"):
            skeleton_from_msel(path)


class TestAnyText:
    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        text=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60)
        .map(str.strip)
        .filter(bool),
        suffix=st.sampled_from([".csv", ".xlsx"]),
    )
    def test_messages_survive_the_sheet(
        self, teaching: Scenario, tmp_path: Path, text: str, suffix: str
    ) -> None:
        """Whatever an inject says (commas, quotes, unicode) comes back from CSV and XLSX unchanged."""
        inject = teaching.injects[0].model_copy(update={"what": text})
        s = teaching.model_copy(update={"injects": (inject, *teaching.injects[1:])})
        path = tmp_path / f"msel{suffix}"
        if suffix == ".csv":
            path.write_text(msel_csv(s), encoding="utf-8")
        else:
            write_msel_xlsx(s, path)
        by_id = {i["id"]: i for i in skeleton_from_msel(path)["injects"]}
        assert by_id[inject.id]["what"] == text
