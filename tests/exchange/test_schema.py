"""JSON Schemas: generated from the models, shipped current, and accepting the files Tearline accepts."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from tearline import RunResult
from tearline.cli import app
from tearline.exchange import SCHEMA_NAMES, json_schema, schema_text, shipped_schema
from tearline.model import read

from ..conftest import ROOT, TEACHING

PACKAGE = ROOT / "tearline" / "exchange" / "schemas"
DOCS = ROOT / "docs" / "schemas"


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


class TestShipped:
    @pytest.mark.parametrize("name", SCHEMA_NAMES)
    def test_regenerating_gives_the_shipped_files(self, name: str) -> None:
        """The package's and the docs' copies are what the models generate now (run: tearline export schema --out ...)."""
        assert (PACKAGE / f"{name}.schema.json").read_text() == schema_text(name)
        assert (DOCS / f"{name}.schema.json").read_text() == schema_text(name)
        assert shipped_schema(name) == json_schema(name)

    def test_the_command_writes_the_same_files(self, tmp_path: Path) -> None:
        """tearline export schema --out DIR writes one file per schema, identical to the shipped ones."""
        result = CliRunner().invoke(app, ["export", "schema", "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        for name in SCHEMA_NAMES:
            assert (tmp_path / f"{name}.schema.json").read_text() == (
                PACKAGE / f"{name}.schema.json"
            ).read_text()


class TestAcceptsWhatTearlineAccepts:
    @pytest.mark.parametrize("path", sorted((ROOT / "scenarios").rglob("*.yaml")), ids=lambda p: p.stem)
    def test_every_bundled_scenario(self, path: Path) -> None:
        """Each bundled scenario file is valid against the scenario schema."""
        data, _ = read(path)
        assert [e.message for e in validator("scenario").iter_errors(json.loads(json.dumps(data)))] == []

    @pytest.mark.parametrize(
        "path", sorted((ROOT / "policies" / "examples").glob("*.yaml")), ids=lambda p: p.stem
    )
    def test_every_example_policy(self, path: Path) -> None:
        """Each example policy file is valid against the policy schema (single values where lists are allowed too)."""
        data, _ = read(path)
        assert [e.message for e in validator("policy").iter_errors(json.loads(json.dumps(data)))] == []

    def test_every_record_line(self, teaching_run: RunResult) -> None:
        """Every line of a run's record.jsonl is valid against the record-event schema."""
        v = validator("record-event")
        for line in teaching_run.record.splitlines():
            assert list(v.iter_errors(json.loads(line))) == []

    def test_it_rejects_what_the_loader_rejects(self) -> None:
        """A time without an offset and an unknown field fail the schema, as they fail the loader."""
        data, _ = read(TEACHING)
        data["start"] = "2030-03-01T00:00"
        data["agencies"][0]["jurisdictoin"] = ["XN"]
        messages = [e.message for e in validator("scenario").iter_errors(json.loads(json.dumps(data)))]
        assert len(messages) == 2


class TestEditorComment:
    def test_validate_accepts_a_file_naming_its_schema(self, tmp_path: Path) -> None:
        """A scenario whose first line names its schema for the YAML language server still validates."""
        (tmp_path / "seeds").symlink_to(ROOT / "seeds")
        path = tmp_path / "named.yaml"
        path.write_text(
            "# yaml-language-server: $schema=../docs/schemas/scenario.schema.json\n" + TEACHING.read_text()
        )
        result = CliRunner().invoke(app, ["scenarios", "validate", str(path)])
        assert result.exit_code == 0, result.output
