"""Every reader of outside input, fuzzed: scenario files, policy files, run records, messages.

Each either accepts its input or refuses it with Tearline's own error (file, line, field, reason) —
never another exception, never a hang. The CI-sized run draws ``TEARLINE_FUZZ_EXAMPLES`` (default 60)
inputs per reader; a longer run is ``TEARLINE_FUZZ_EXAMPLES=3000 pytest tests/fuzz``.
"""

from __future__ import annotations

import os
import string
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tearline.broker import Keystore, Message, Rejected, open_envelope
from tearline.model import ScenarioError, load_scenario
from tearline.policies import lint
from tearline.report import RunDirError, read_record

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("TEARLINE_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=20),  # a hang shows up as a deadline failure, not a stuck CI job
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SCENARIO = (ROOT / "scenarios" / "examples" / "connect-the-dots.yaml").read_bytes()
POLICY = (ROOT / "policies" / "examples" / "liaison-rules.yaml").read_bytes()

# Hostile shapes the generic strategies rarely reach.
BOMB = b"a: &a ['x','x','x','x','x','x','x','x','x']\n" + b"".join(
    f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n".encode() for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)
SPECIALS = [
    b"[" * 5000 + b"]" * 5000,  # deep nesting
    b"a:\n" + b"".join(b"  " * i + b"- \n" for i in range(300)),
    BOMB,
    b"\xff\xfe\x00garbage",
    b"id: x\nid: y\n",  # duplicate key
    b"start: 99999-01-01T00:00Z\n",
    b"start: 10000000000000000000\n",
    b"!!python/object/apply:os.system ['true']\n",
    b"",
    b"---\n...\n---\n",
]


def mutations(seed_text: bytes) -> st.SearchStrategy[bytes]:
    """Real files with lines dropped, swapped for junk, or cut short; junk bytes; hostile specials."""
    lines = seed_text.splitlines(keepends=True)
    junk_line = st.one_of(
        st.binary(max_size=80),
        st.text(string.printable, max_size=80).map(str.encode),
        st.sampled_from(
            [b"  - \n", b": :\n", b"{{\n", b"*nope\n", b"&a x\n", b"\t\n", b"-9999999999999999999\n"]
        ),
    )

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        out = list(lines)
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, max(0, len(out) - 1)))
            action = draw(st.sampled_from(["drop", "junk", "cut", "dup"]))
            if not out:
                break
            if action == "drop":
                del out[i]
            elif action == "junk":
                out[i] = draw(junk_line)
            elif action == "dup":
                out.insert(i, out[i])
            else:
                out = out[:i]
        return b"".join(out)

    return st.one_of(mutate(), st.binary(max_size=400), st.sampled_from(SPECIALS))


class TestScenarioFiles:
    @FUZZ
    @given(data=mutations(SCENARIO))
    def test_load_accepts_or_explains(self, data: bytes) -> None:
        """A scenario file loads, or fails with a ScenarioError naming a problem."""
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzz-scenario-{os.getpid()}.yaml"
        path.write_bytes(data)
        try:
            load_scenario(path)
        except ScenarioError as exc:
            assert exc.problems and str(exc)  # noqa: PT017 - either outcome is fine, only the kind matters


class TestPolicyFiles:
    @FUZZ
    @given(data=mutations(POLICY))
    def test_lint_reports_never_raises(self, data: bytes) -> None:
        """Linting a policy file reports errors; it never raises."""
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzz-policy-{os.getpid()}.yaml"
        path.write_bytes(data)
        report = lint(path)
        assert report.policy is not None or report.errors


RECORD_LINE = (
    b'{"at":"2015-01-01T00:00:00Z","by":"WORLD","seq":1,"type":"inject","lead":"x","observer":"NSS",'
    b'"summary":"s"}\n'
)


class TestRecords:
    @FUZZ
    @given(data=st.one_of(mutations(RECORD_LINE * 3), st.sampled_from([b"[" * 100_000, b'{"at":1e999}'])))
    def test_read_record_accepts_or_explains(self, data: bytes) -> None:
        """A record.jsonl is read, or refused with a RunDirError naming the line."""
        run_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzz-run-{os.getpid()}"
        run_dir.mkdir(exist_ok=True)
        (run_dir / "record.jsonl").write_bytes(data)
        try:
            read_record(run_dir)
        except RunDirError as exc:
            assert str(exc)  # noqa: PT017 - either outcome is fine, only the kind matters


class TestMessages:
    @FUZZ
    @given(
        value=st.one_of(
            st.binary(max_size=2000),
            st.sampled_from([b"[" * 100_000, b'{"kind":"lead","run":"r"}', b"\xff" * 200_000]),
            st.builds(
                lambda s: s.encode(),
                st.text(max_size=300),
            ),
        ),
        headers=st.lists(
            st.tuples(st.sampled_from(["tearline-sig", "x"]), st.binary(max_size=64)), max_size=3
        ),
    )
    def test_open_envelope_rejects_with_a_reason(
        self, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        """Any bytes on a topic are either a valid envelope or Rejected with a reason."""
        message = Message("t", 0, 0, None, value, tuple(headers))
        try:
            open_envelope(message, _KEYS, "r", frozenset({"NSS"}), me="NSS")
        except Rejected as exc:
            assert exc.reason  # noqa: PT017 - either outcome is fine, only the kind matters


_KEYS = Keystore.generate(["NSS"])


class TestCommandLine:
    """The hostile files through the command a user types: exit 2 and a located message, no traceback."""

    def test_validate_refuses_hostile_files(self, tmp_path: Path) -> None:
        from typer.testing import CliRunner

        from tearline.cli import app

        expected = {
            0: "nested deeper than 64 levels",
            2: "alias bomb",
            3: "not UTF-8 text",
            4: "duplicate key",
            5: "not a date-time",
            7: "could not determine a constructor",
        }
        for i, reason in expected.items():
            path = tmp_path / f"hostile-{i}.yaml"
            path.write_bytes(SPECIALS[i])
            result = CliRunner().invoke(app, ["scenarios", "validate", str(path)])
            assert result.exit_code == 2, (i, result.output)
            assert reason in result.output and str(path) in result.output, (i, result.output)
            assert "Traceback" not in result.output
