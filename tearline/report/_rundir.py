"""A run directory on disk: writing ``record.jsonl`` and ``summary.json``, and reading a record back."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from tearline.model import EVENT, Event, TearlineError

from ._audit import AuditSeal, write_audit
from ._judge import Summary


class RunDirError(TearlineError):
    """A run directory cannot be read; ``hint`` says what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def write_run(out: Path, record: bytes, summary: Summary, audit: AuditSeal | None = None) -> None:
    """Write ``record.jsonl`` (the canonical record), ``summary.json`` and ``audit.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "record.jsonl").write_bytes(record)
    (out / "summary.json").write_text(summary_json(summary))
    if audit is not None:
        write_audit(out, audit)


def summary_json(summary: Summary) -> str:
    """The summary as ``summary.json`` holds it (and ``tearline run --json`` prints it)."""
    return json.dumps(summary.model_dump(mode="json"), indent=2) + "\n"


def read_record(run_dir: Path) -> list[Event]:
    """Every event of a run directory's ``record.jsonl``."""
    path = Path(run_dir) / "record.jsonl"
    if not Path(run_dir).is_dir():
        raise RunDirError(
            f"no such run directory: {run_dir}", "Write one with: tearline run SCENARIO --out DIR"
        )
    if not path.is_file():
        raise RunDirError(f"{run_dir} has no record.jsonl", "Write one with: tearline run SCENARIO --out DIR")
    events: list[Event] = []
    for n, raw in enumerate(path.read_bytes().splitlines(), 1):
        if not raw.strip():
            continue
        try:
            events.append(EVENT.validate_json(raw))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            raise RunDirError(
                f"{path}:{n}: not a Tearline record event ({first['msg']})",
                "Was the record written by this version of tearline?",
            ) from None
    return events
