"""tearline export / import: each format from the command line, and bad input as one clear error with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from tearline.cli import app

from ..conftest import ROOT

runner = CliRunner(env={"COLUMNS": "240"})


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


class TestExportCommands:
    def test_stix_of_a_run_directory_validates(self, tmp_path: Path) -> None:
        """export stix RUN_DIR --validate reads the record, finds the scenario and passes the validator."""
        ok("run", "connect-the-dots", "-p", "fusion-centre", "-q", "--out", str(tmp_path / "ctd"))
        ok("export", "stix", str(tmp_path / "ctd"), "-o", str(tmp_path / "ctd.json"), "--validate")
        bundle = json.loads((tmp_path / "ctd.json").read_text())
        assert any(o["type"] == "sighting" for o in bundle["objects"])

    def test_misp_out_and_back_in(self, tmp_path: Path) -> None:
        """export misp then import misp gives the scenario's injects as YAML."""
        ok("export", "misp", "connect-the-dots", "-o", str(tmp_path / "ctd.misp.json"))
        ok("import", "misp", str(tmp_path / "ctd.misp.json"), "-o", str(tmp_path / "injects.yaml"))
        injects = yaml.safe_load((tmp_path / "injects.yaml").read_text())
        assert [i["id"] for i in injects] == ["who", "what", "when"]

    def test_msel_xlsx_out_and_back_in_validates(self, tmp_path: Path) -> None:
        """export msel to XLSX, import it inside a project, and scenarios validate accepts the skeleton."""
        (tmp_path / "seeds").symlink_to(ROOT / "seeds")
        (tmp_path / "docs").mkdir()
        (tmp_path / "docs" / "schemas").symlink_to(ROOT / "docs" / "schemas")
        ok("export", "msel", "paris-2015", "-o", str(tmp_path / "paris.xlsx"))
        ok(
            "import",
            "msel",
            str(tmp_path / "paris.xlsx"),
            "-o",
            str(tmp_path / "scenarios" / "copy.yaml"),
            "--id",
            "paris-copy",
        )
        text = (tmp_path / "scenarios" / "copy.yaml").read_text()
        assert text.startswith("# yaml-language-server: $schema=../docs/schemas/scenario.schema.json")
        assert "paris-copy: 3 agencies" not in ok(
            "scenarios", "validate", str(tmp_path / "scenarios" / "copy.yaml")
        )

    def test_schema_prints_one_schema(self) -> None:
        """export schema NAME prints that JSON Schema."""
        assert json.loads(ok("export", "schema", "policy"))["title"] == "Tearline policy file"


class TestBadInput:
    def test_unknown_source_exits_2(self) -> None:
        """A source that is neither a run directory nor a scenario is bad input."""
        result = runner.invoke(app, ["export", "stix", "no-such-thing"])
        assert result.exit_code == 2
        assert "no such file or scenario name" in result.output

    def test_run_directory_without_record_exits_2(self, tmp_path: Path) -> None:
        """A directory with no record.jsonl says how to write one."""
        (tmp_path / "summary.json").write_text(json.dumps({"scenario": "connect-the-dots"}))
        result = runner.invoke(app, ["export", "misp", str(tmp_path)])
        assert result.exit_code == 2
        assert "no record.jsonl" in result.output

    def test_wrong_policy_for_misp_exits_2(self) -> None:
        """Only misp-distribution settings can say how MISP distributes."""
        result = runner.invoke(app, ["export", "misp", "connect-the-dots", "-p", "siloed"])
        assert result.exit_code == 2
        assert "not a misp-distribution policy" in result.output

    def test_unmappable_misp_attribute_exits_2_without_traceback(self, tmp_path: Path) -> None:
        """An unmappable attribute is one located error, exit 2, no traceback."""
        path = tmp_path / "event.json"
        path.write_text(json.dumps({"Event": {"info": "x", "Orgc": {"name": "IB"}, "date": "2008-11-19",
                                               "Attribute": [{"type": "md5", "value": "d41d8cd9"}]}}))  # fmt: skip
        result = runner.invoke(app, ["import", "misp", str(path)])
        assert result.exit_code == 2
        assert "event.json:1: Event.Attribute[0].type" in result.output.replace("\n", "")
        assert "Traceback" not in result.output

    def test_msel_of_unknown_format_exits_2(self, tmp_path: Path) -> None:
        """An MSEL can be written as .csv or .xlsx only."""
        result = runner.invoke(app, ["export", "msel", "connect-the-dots", "-o", str(tmp_path / "m.ods")])
        assert result.exit_code == 2
