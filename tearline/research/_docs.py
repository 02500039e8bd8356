"""Tables in documentation that a command made: each sits between two marker comments naming the
design that made it, and a rerun of that design rewrites only what is between them::

    <!-- sweep docs/sweeps/mumbai-noise.yaml -->
    (the command, the table and the sensitivity summary)
    <!-- end sweep docs/sweeps/mumbai-noise.yaml -->
"""

from __future__ import annotations

from pathlib import Path

from tearline.model import Problem, ScenarioError


def markers(key: str) -> tuple[str, str]:
    """The opening and closing comments of the block made by ``key`` (a design file's path)."""
    return f"<!-- sweep {key} -->", f"<!-- end sweep {key} -->"


def replace_block(text: str, key: str, body: str, where: str = "(document)") -> str:
    """``text`` with what lies between ``key``'s markers replaced by ``body``. Raises
    ScenarioError naming the document and line when a marker is missing, doubled or out of order."""
    begin, end = markers(key)
    lines = text.split("\n")
    at = {m: [n for n, line in enumerate(lines) if line.strip() == m] for m in (begin, end)}
    problems = [
        Problem(
            "(markers)",
            f"{len(found)} lines read {m!r}; the table needs exactly one",
            found[1] + 1 if found[1:] else None,
        )
        for m, found in at.items()
        if len(found) != 1
    ]
    if not problems and at[begin][0] > at[end][0]:
        problems.append(Problem("(markers)", f"{end!r} comes before {begin!r}", at[end][0] + 1))
    if problems:
        raise ScenarioError(where, problems)
    start, stop = at[begin][0], at[end][0]
    return "\n".join([*lines[: start + 1], *body.rstrip("\n").split("\n"), *lines[stop:]])


def write_block(doc: Path, key: str, body: str) -> bool:
    """Rewrite ``key``'s block in ``doc``; True when the document changed."""
    text = doc.read_text()
    new = replace_block(text, key, body, str(doc))
    if new != text:
        doc.write_text(new)
    return new != text
