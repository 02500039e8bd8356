"""Above the broker, code knows only the transport contract: no concrete transport is tested for,
and no attribute only one transport has is read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tearline.broker as broker

ROOT = Path(__file__).resolve().parents[2] / "tearline"
CONCRETE = {name for name in broker.__all__ if name.startswith(("Kafka", "Memory"))}
KAFKA_ONLY = {"bootstrap", "static_members", "published_end", "client_id"}


def _outside_broker() -> list[Path]:
    return [p for p in sorted(ROOT.rglob("*.py")) if "broker" not in p.relative_to(ROOT).parts]


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
            named = (
                {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                if len(node.args) > 1
                else set()
            )
            found += [f"{path.name}:{node.lineno}: isinstance(..., {n})" for n in sorted(named & CONCRETE)]
        if isinstance(node, ast.Attribute) and node.attr in KAFKA_ONLY:
            found.append(f"{path.name}:{node.lineno}: .{node.attr}")
    return found


class TestOnlyTheContract:
    def test_the_scan_sees_the_code_above_the_broker(self) -> None:
        """The clock and the driver are among the modules scanned (the scan is not vacuous)."""
        names = {p.name for p in _outside_broker()}
        assert {"_clock.py", "_driver.py", "_exercise.py"} <= names
        assert {"KafkaTransport", "MemoryTransport"} <= CONCRETE

    @pytest.mark.parametrize("path", _outside_broker(), ids=lambda p: str(p.relative_to(ROOT)))
    def test_no_concrete_transport_is_tested_for(self, path: Path) -> None:
        """No isinstance on a concrete transport and no Kafka-only attribute outside ``broker``."""
        assert _offences(path) == []

    def test_the_scan_catches_an_offence(self, tmp_path: Path) -> None:
        sample = tmp_path / "sample.py"
        sample.write_text("if isinstance(t, KafkaTransport):\n    print(t.bootstrap)\n")
        assert _offences(sample) == [
            "sample.py:1: isinstance(..., KafkaTransport)",
            "sample.py:2: .bootstrap",
        ]
